"""Host-based authentication rules: pg_hba.conf lines, and which rule a connection meets.

Owns parsing pg_hba.conf-style text and PostgreSQL's matching (hba.c check_hba): the first
line whose connection type, database, user and client address all match decides the
method; no match is FATAL 28000 "no pg_hba.conf entry for host ...".
Not the authentication exchange itself (security.authenticator).

    # TYPE     DATABASE          USER        ADDRESS             METHOD
    local      all               all                             trust
    host       sales,"Mixed"     +managers   10.0.0.0/8          scram-sha-256
    hostssl    sameuser          all         192.168.1.0 255.255.255.0   md5
    hostnossl  all               all         samenet             password
    host       all               all         all                 reject

Keywords: databases `all`, `sameuser`, `samerole` (= `samegroup`), `replication` (only
replication connections, which pgaurora does not serve); users `all` and `+role` (members
of role); addresses `all`, `samehost`, `samenet`, CIDR, or address + netmask. A quoted word
is a name, never a keyword. Host names are refused (they need DNS lookups).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from pgaurora.errors import ConfigFileError, InvalidAuthorizationSpecification

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


class ConnectionType(enum.Enum):
    LOCAL = "local"
    HOST = "host"
    HOSTSSL = "hostssl"
    HOSTNOSSL = "hostnossl"


class AuthMethod(enum.Enum):
    TRUST = "trust"
    REJECT = "reject"
    PASSWORD = "password"
    MD5 = "md5"
    SCRAM_SHA_256 = "scram-sha-256"


# Methods PostgreSQL knows that pgaurora does not implement.
_UNSUPPORTED_METHODS: Final = frozenset(("gss", "sspi", "ident", "peer", "pam", "ldap", "radius", "cert", "bsd"))

DEFAULT_HBA: Final = """\
# pgaurora's embedded default: trust on loopback, nothing else.
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
host    all   all   ::1/128        trust
"""


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    quoted: bool = False

    def is_keyword(self, word: str) -> bool:
        return not self.quoted and self.text == word


@dataclass(frozen=True, slots=True)
class HbaRule:
    line_number: int
    connection_type: ConnectionType
    databases: tuple[Token, ...]
    users: tuple[Token, ...]
    address: IPNetwork | str | None  # a network, "all", "samehost", "samenet"; None for local
    method: AuthMethod
    options: tuple[tuple[str, str], ...] = ()
    line: str = ""


@dataclass(frozen=True, slots=True)
class ClientConnection:
    """What matching needs to know about one connection."""

    database: str
    user: str
    address: str | None  # None for a Unix-domain socket
    ssl: bool = False
    # the server's interface addresses with their netmasks, for samehost / samenet
    server_interfaces: tuple[IPInterface, ...] = (
        ipaddress.ip_interface("127.0.0.1/8"),
        ipaddress.ip_interface("::1/128"),
    )

    def describe(self) -> str:
        host = "[local]" if self.address is None else self.address
        encryption = "SSL encryption" if self.ssl else "no encryption"
        return f'host "{host}", user "{self.user}", database "{self.database}", {encryption}'


# --- parsing ---------------------------------------------------------------------------------


def _split_words(line: str) -> list[tuple[str, bool, bool]]:
    """(text, quoted, ends_with_comma) per whitespace-separated word; '#' starts a comment."""
    words: list[tuple[str, bool, bool]] = []
    i, size = 0, len(line)
    while i < size:
        c = line[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            break
        text: list[str] = []
        quoted = in_quote = False
        comma = False
        while i < size:
            c = line[i]
            if c == '"':
                in_quote = not in_quote
                quoted = True
                i += 1
                continue
            if not in_quote and (c.isspace() or c == "#"):
                break
            if not in_quote and c == ",":
                comma = True
                i += 1
                break
            text.append(c)
            i += 1
        words.append(("".join(text), quoted, comma))
    return words


def _fields(line: str) -> list[list[Token]]:
    """Fields of a line; a word ending with a comma continues its field ("a, b" is one list)."""
    fields: list[list[Token]] = []
    continuing = False
    for text, quoted, comma in _split_words(line):
        token = Token(text, quoted)
        if continuing:
            fields[-1].append(token)
        else:
            fields.append([token])
        continuing = comma
    return fields


def _config_error(message: str, number: int) -> ConfigFileError:
    return ConfigFileError(message, where=f'line {number} of configuration file "pg_hba.conf"')


def _parse_address(fields: list[list[Token]], number: int) -> tuple[IPNetwork | str, int]:
    """The address field (and a netmask field after it); returns it and the fields used."""
    token = fields[0][0]
    if len(fields[0]) > 1:
        raise _config_error("multiple values specified for host address", number)
    if token.text in ("all", "samehost", "samenet") and not token.quoted:
        return token.text, 1
    text = token.text
    try:
        if "/" in text:
            try:
                return ipaddress.ip_network(text, strict=False), 1
            except ValueError:
                ipaddress.ip_address(text.split("/", 1)[0])
                raise _config_error(f'invalid CIDR mask in address "{text}"', number) from None
        address = ipaddress.ip_address(text)
    except ValueError:
        raise _config_error(f'invalid IP address "{text}": host names are not supported', number) from None
    if len(fields) > 2:  # address + netmask
        mask_text = fields[1][0].text
        try:
            mask = ipaddress.ip_address(mask_text)
            network = ipaddress.ip_network(f"{address}/{mask}", strict=False)
        except ValueError:
            raise _config_error(f'invalid IP mask "{mask_text}"', number) from None
        return network, 2
    raise _config_error("end-of-line before authentication method", number)


def parse_line(line: str, number: int) -> HbaRule | None:
    """One pg_hba.conf line -> a rule (None for blank and comment lines)."""
    fields = _fields(line)
    if not fields:
        return None
    type_text = fields[0][0].text
    try:
        connection_type = ConnectionType(type_text)
    except ValueError:
        raise _config_error(f'invalid connection type "{type_text}"', number) from None
    rest = fields[1:]
    if not rest:
        raise _config_error("end-of-line before database specification", number)
    databases = tuple(rest[0])
    rest = rest[1:]
    if not rest:
        raise _config_error("end-of-line before role specification", number)
    users = tuple(rest[0])
    rest = rest[1:]
    address: IPNetwork | str | None = None
    if connection_type is not ConnectionType.LOCAL:
        if not rest:
            raise _config_error("end-of-line before IP address specification", number)
        address, used = _parse_address(rest, number)
        rest = rest[used:]
    if not rest:
        raise _config_error("end-of-line before authentication method", number)
    method_text = rest[0][0].text
    if method_text in _UNSUPPORTED_METHODS:
        raise _config_error(f'invalid authentication method "{method_text}": not supported by this build', number)
    try:
        method = AuthMethod(method_text)
    except ValueError:
        raise _config_error(f'invalid authentication method "{method_text}"', number) from None
    options = []
    for option in rest[1:]:
        name, sep, value = option[0].text.partition("=")
        if not sep:
            raise _config_error(f'authentication option not in name=value format: {option[0].text}', number)
        options.append((name, value))
    return HbaRule(number, connection_type, databases, users, address, method, tuple(options), line.strip())


# --- matching --------------------------------------------------------------------------------


def _address_matches(rule: HbaRule, client: IPAddress, conn: ClientConnection) -> bool:
    address = rule.address
    if address == "all":
        return True
    if address == "samehost":
        return any(client == interface.ip for interface in conn.server_interfaces)
    if address == "samenet":
        return any(client in interface.network for interface in conn.server_interfaces
                   if interface.version == client.version)
    assert isinstance(address, ipaddress.IPv4Network | ipaddress.IPv6Network)
    if address.version != client.version:
        mapped = getattr(client, "ipv4_mapped", None)  # ::ffff:a.b.c.d meets an IPv4 rule
        return mapped is not None and mapped in address
    return client in address


def _database_matches(tokens: Sequence[Token], conn: ClientConnection,
                      is_member: Callable[[str, str], bool]) -> bool:
    for token in tokens:
        if token.is_keyword("all"):
            return True
        if token.is_keyword("sameuser"):
            if conn.database == conn.user:
                return True
        elif token.is_keyword("samerole") or token.is_keyword("samegroup"):
            if is_member(conn.user, conn.database):
                return True
        elif token.is_keyword("replication"):
            continue  # only replication connections, which pgaurora does not serve
        elif token.text == conn.database:
            return True
    return False


def _user_matches(tokens: Sequence[Token], conn: ClientConnection, is_member: Callable[[str, str], bool]) -> bool:
    for token in tokens:
        if not token.quoted and token.text.startswith("+"):
            if is_member(conn.user, token.text[1:]):
                return True
        elif token.is_keyword("all") or token.text == conn.user:
            return True
    return False


def _same_role(user: str, role: str) -> bool:
    return user == role


class HbaRules:
    """An ordered list of rules; `method_for` gives a connection's method or raises 28000."""

    def __init__(self, rules: Sequence[HbaRule]) -> None:
        self.rules = tuple(rules)

    @classmethod
    def parse(cls, text: str) -> HbaRules:
        rules = []
        for number, line in enumerate(text.splitlines(), start=1):
            rule = parse_line(line, number)
            if rule is not None:
                rules.append(rule)
        return cls(rules)

    @classmethod
    def default(cls) -> HbaRules:
        return cls.parse(DEFAULT_HBA)

    def match(self, conn: ClientConnection, is_member: Callable[[str, str], bool] | None = None) -> HbaRule:
        """The first rule that matches; no match raises PostgreSQL's FATAL 28000.

        `is_member(user, role)` answers +role and samerole (default: only the role itself)."""
        member = is_member or _same_role
        client = ipaddress.ip_address(conn.address.split("%", 1)[0]) if conn.address is not None else None
        for rule in self.rules:
            if rule.connection_type is ConnectionType.LOCAL:
                if client is not None:
                    continue
            else:
                if client is None:
                    continue
                if rule.connection_type is ConnectionType.HOSTSSL and not conn.ssl:
                    continue
                if rule.connection_type is ConnectionType.HOSTNOSSL and conn.ssl:
                    continue
                if not _address_matches(rule, client, conn):
                    continue
            if _database_matches(rule.databases, conn, member) and _user_matches(rule.users, conn, member):
                return rule
        raise InvalidAuthorizationSpecification(f"no pg_hba.conf entry for {conn.describe()}")

    def method_for(self, conn: ClientConnection, is_member: Callable[[str, str], bool] | None = None) -> AuthMethod:
        """The method to authenticate `conn` with; a `reject` rule raises FATAL 28000."""
        rule = self.match(conn, is_member)
        if rule.method is AuthMethod.REJECT:
            raise InvalidAuthorizationSpecification(f"pg_hba.conf rejects connection for {conn.describe()}")
        return rule.method
