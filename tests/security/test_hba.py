"""pg_hba.conf rules: parsing (with PostgreSQL's error texts) and first-match-wins matching."""

from __future__ import annotations

import pytest

from pgaurora.errors import ConfigFileError, InvalidAuthorizationSpecification
from pgaurora.security.hba import AuthMethod, ClientConnection, ConnectionType, HbaRules, parse_line

RULES = HbaRules.parse("""
# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             postgres                                trust
host    sales,"All"     +managers       10.0.0.0/8              scram-sha-256
host    sameuser        all             192.168.1.0 255.255.255.0   md5
hostssl all             all             172.16.0.0/12           password
hostnossl all           all             172.16.0.0/12           reject
host    all             "all"           ::1/128                 md5
host    all             all             samehost                trust
host    all             guest           samenet                 password
host    replication     all             all                     trust
host    all             all             0.0.0.0/0               scram-sha-256
""")

MANAGERS = {("ann", "managers")}


def member(user: str, role: str) -> bool:
    return user == role or (user, role) in MANAGERS


@pytest.mark.parametrize(
    ("database", "user", "address", "ssl", "method"),
    [
        ("db", "postgres", None, False, AuthMethod.TRUST),
        ("sales", "ann", "10.1.2.3", False, AuthMethod.SCRAM_SHA_256),
        ("All", "ann", "10.1.2.3", False, AuthMethod.SCRAM_SHA_256),  # quoted: a name
        ("sales", "bob", "10.1.2.3", False, AuthMethod.SCRAM_SHA_256),  # falls to 0.0.0.0/0
        ("bob", "bob", "192.168.1.77", False, AuthMethod.MD5),  # sameuser
        ("db", "bob", "192.168.1.77", False, AuthMethod.SCRAM_SHA_256),
        ("db", "eve", "172.16.5.5", True, AuthMethod.PASSWORD),
        ("db", "all", "::1", False, AuthMethod.MD5),  # the user literally named "all"
        ("db", "eve", "127.0.0.1", False, AuthMethod.TRUST),  # samehost
        ("db", "guest", "127.9.9.9", False, AuthMethod.PASSWORD),  # samenet (127.0.0.0/8)
        ("db", "eve", "::ffff:10.0.0.1", False, AuthMethod.SCRAM_SHA_256),  # mapped IPv4
    ],
)
def test_first_match_wins(database: str, user: str, address: str | None, ssl: bool, method: AuthMethod) -> None:
    conn = ClientConnection(database, user, address, ssl)
    assert RULES.method_for(conn, member) is method


def test_reject_and_no_entry_messages() -> None:
    with pytest.raises(InvalidAuthorizationSpecification) as info:
        RULES.method_for(ClientConnection("db", "eve", "172.16.5.5"), member)
    assert info.value.message == ('pg_hba.conf rejects connection for host "172.16.5.5", user "eve", '
                                  'database "db", no encryption')
    with pytest.raises(InvalidAuthorizationSpecification) as info:
        RULES.match(ClientConnection("db", "eve", "::2"))
    assert info.value.message == 'no pg_hba.conf entry for host "::2", user "eve", database "db", no encryption'
    assert info.value.sqlstate == "28000" and info.value.severity == "FATAL"
    with pytest.raises(InvalidAuthorizationSpecification, match=r'host "\[local\]".*SSL encryption'):
        HbaRules.parse("host all all all trust").match(ClientConnection("d", "u", None, ssl=True))


def test_default_rules_trust_loopback_only() -> None:
    rules = HbaRules.default()
    for address in (None, "127.0.0.1", "::1"):
        assert rules.method_for(ClientConnection("postgres", "postgres", address)) is AuthMethod.TRUST
    with pytest.raises(InvalidAuthorizationSpecification):
        rules.method_for(ClientConnection("postgres", "postgres", "10.0.0.1"))


def test_parse_details() -> None:
    rule = parse_line('hostssl  "db one",two  a, b  10.0.0.0/8  md5  clientcert=verify-full  # note', 7)
    assert rule is not None
    assert rule.connection_type is ConnectionType.HOSTSSL and rule.line_number == 7
    assert [t.text for t in rule.databases] == ["db one", "two"]
    assert [t.text for t in rule.users] == ["a", "b"]
    assert rule.options == (("clientcert", "verify-full"),)
    assert parse_line("   # only a comment", 1) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("hots all all all trust", 'invalid connection type "hots"'),
        ("host", "end-of-line before database specification"),
        ("host all", "end-of-line before role specification"),
        ("host all all", "end-of-line before IP address specification"),
        ("host all all 10.0.0.0/8", "end-of-line before authentication method"),
        ("host all all 10.0.0.0/99 trust", 'invalid CIDR mask in address "10.0.0.0/99"'),
        ("host all all 10.0.0.1 255.0.255.0 trust", 'invalid IP mask "255.0.255.0"'),
        ("host all all 10.0.0.0/8 magic", 'invalid authentication method "magic"'),
        ("local all all ident", 'invalid authentication method "ident": not supported by this build'),
    ],
)
def test_parse_errors(line: str, message: str) -> None:
    with pytest.raises(ConfigFileError) as info:
        parse_line(line, 3)
    assert info.value.message == message
    assert info.value.where == 'line 3 of configuration file "pg_hba.conf"'
