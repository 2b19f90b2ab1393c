"""Authenticator: one connection's authentication exchange, sans-I/O (PostgreSQL's auth.c).

Owns the sequence of authentication requests and client answers for the methods trust,
password (cleartext), md5 and scram-sha-256, given the role's stored secret; and the rule
that an unknown role (or one without a usable secret) still goes through the whole exchange
and fails only at the end with 28P01, so a client cannot probe which roles exist.
Not choosing the method (security.hba), not bytes on the wire (wire.encoder turns the
request events below into AuthenticationXxx messages; the server feeds back the payloads of
the client's PasswordMessages).

    auth = Authenticator(method, user, secret, role_exists=...)
    send(auth.start())                     # list of request events
    while not auth.done:
        send(auth.receive(password_message.data))   # raises InvalidPassword (28P01, FATAL)
    auth.authorize()                       # trust + unknown role: 28000 'role "x" does not exist'

    method          server                                   client
    trust           AuthenticationOk
    password        AuthenticationCleartextPassword          password\\0
    md5             AuthenticationMD5Password(salt)          "md5" + md5(md5(pw + user) + salt)\\0
    scram-sha-256   AuthenticationSASL([SCRAM-SHA-256])      SASLInitialResponse(client-first)
                    AuthenticationSASLContinue(server-first) SASLResponse(client-final)
                    AuthenticationSASLFinal(server-final), AuthenticationOk

md5 with a SCRAM secret (or an unknown role) runs SCRAM instead, as PostgreSQL 15 does.
"""

from __future__ import annotations

import datetime
import enum
import os
import struct
from dataclasses import dataclass
from typing import Final

from pgaurora.errors import (
    InvalidAuthorizationSpecification,
    InvalidPassword,
    ProtocolViolation,
    TooManyConnections,
)
from pgaurora.security import password as passwords
from pgaurora.security import scram
from pgaurora.security.hba import AuthMethod, ClientConnection


@dataclass(frozen=True, slots=True)
class AuthenticationOk:
    pass


@dataclass(frozen=True, slots=True)
class AuthenticationCleartextPassword:
    pass


@dataclass(frozen=True, slots=True)
class AuthenticationMD5Password:
    salt: bytes


@dataclass(frozen=True, slots=True)
class AuthenticationSASL:
    mechanisms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthenticationSASLContinue:
    data: bytes


@dataclass(frozen=True, slots=True)
class AuthenticationSASLFinal:
    data: bytes


AuthRequest = (
    AuthenticationOk
    | AuthenticationCleartextPassword
    | AuthenticationMD5Password
    | AuthenticationSASL
    | AuthenticationSASLContinue
    | AuthenticationSASLFinal
)


class AuthState(enum.Enum):
    START = "start"
    AWAIT_PASSWORD = "await_password"  # cleartext
    AWAIT_MD5 = "await_md5"
    AWAIT_SASL_INITIAL = "await_sasl_initial"
    AWAIT_SASL_RESPONSE = "await_sasl_response"
    DONE = "done"
    FAILED = "failed"


_INT32: Final = struct.Struct("!i")


def _password_packet(payload: bytes) -> str:
    """recv_password_packet: one NUL-terminated string filling the message."""
    nul = payload.find(b"\0")
    if nul != len(payload) - 1:
        raise ProtocolViolation("invalid password packet size")
    if nul == 0:
        raise InvalidPassword("empty password returned by client")
    try:
        return payload[:nul].decode()
    except UnicodeDecodeError:
        return payload[:nul].decode("latin-1")


def _sasl_initial(payload: bytes) -> tuple[str, bytes | None]:
    """SASLInitialResponse: mechanism\\0, int32 length (-1 = none), data."""
    nul = payload.find(b"\0")
    if nul < 0:
        raise ProtocolViolation("invalid string in message")
    mechanism = payload[:nul].decode(errors="replace")
    pos = nul + 1
    if pos + 4 > len(payload):
        raise ProtocolViolation("insufficient data left in message")
    length = _INT32.unpack_from(payload, pos)[0]
    pos += 4
    data: bytes | None = None
    if length != -1:
        if length < 0 or pos + length > len(payload):
            raise ProtocolViolation("insufficient data left in message")
        data = payload[pos : pos + length]
        pos += length
    if pos != len(payload):
        raise ProtocolViolation("invalid message format")
    return mechanism, data


class Authenticator:
    """See the module docstring. `secret` is pg_authid.rolpassword (None: no password)."""

    def __init__(
        self,
        method: AuthMethod,
        user: str,
        secret: str | None,
        *,
        role_exists: bool = True,
        connection: ClientConnection | None = None,
        password_encryption: str = "scram-sha-256",
        salt: bytes | None = None,
        server_nonce: str | None = None,
        channel_binding: bytes | None = None,
        valid_until: datetime.datetime | None = None,
        now: datetime.datetime | None = None,
    ) -> None:
        """`channel_binding`: tls-server-end-point data (security.tls) when the client is on
        TLS; SCRAM-SHA-256-PLUS is then offered first, as PostgreSQL does. `valid_until`:
        pg_authid.rolvaliduntil; a password past it counts as no password (get_role_password)."""
        self.method = method
        self.user = user
        self.role_exists = role_exists
        if valid_until is not None and valid_until < (now or datetime.datetime.now(datetime.UTC)):
            secret = None  # "User ... has an expired password.": the exchange still runs, and fails
        self.secret = secret if role_exists else None
        self.connection = connection
        self.state = AuthState.START
        self._salt = salt if salt is not None else os.urandom(4)
        self._server_nonce = server_nonce
        self._scram: scram.ScramExchange | None = None
        self._channel_binding = channel_binding
        self._verifier: scram.ScramVerifier | None = None
        secret_type = passwords.password_type(self.secret) if self.secret is not None else None
        if method is AuthMethod.MD5:
            # CheckPWChallengeAuth: md5 only for an md5 secret; a role that is unknown or has no
            # password is treated as having a secret of the password_encryption type
            if secret_type is None:
                self._use_md5 = password_encryption == "md5"
            else:
                self._use_md5 = secret_type is passwords.PasswordType.MD5
        else:
            self._use_md5 = False

    @property
    def done(self) -> bool:
        return self.state is AuthState.DONE

    @property
    def expected_response(self) -> str:
        """How PostgreSQL names the awaited answer in 'expected %s response' errors."""
        return "SASL" if self.state in (AuthState.AWAIT_SASL_INITIAL, AuthState.AWAIT_SASL_RESPONSE) else "password"

    def _failed(self) -> InvalidPassword:
        self.state = AuthState.FAILED
        return InvalidPassword(f'password authentication failed for user "{self.user}"')

    def start(self) -> list[AuthRequest]:
        """The first requests to send."""
        if self.state is not AuthState.START:
            raise ProtocolViolation("authentication already started")
        method = self.method
        if method is AuthMethod.TRUST:
            self.state = AuthState.DONE
            return [AuthenticationOk()]
        if method is AuthMethod.REJECT:
            self.state = AuthState.FAILED
            where = self.connection.describe() if self.connection else f'user "{self.user}"'
            raise InvalidAuthorizationSpecification(f"pg_hba.conf rejects connection for {where}")
        if method is AuthMethod.PASSWORD:
            self.state = AuthState.AWAIT_PASSWORD
            return [AuthenticationCleartextPassword()]
        if self._use_md5:
            self.state = AuthState.AWAIT_MD5
            return [AuthenticationMD5Password(self._salt)]
        self.state = AuthState.AWAIT_SASL_INITIAL
        self._verifier = scram.parse_verifier(self.secret) if self.secret is not None else None
        if self._channel_binding is not None:
            return [AuthenticationSASL((scram.MECHANISM_PLUS, scram.MECHANISM))]
        return [AuthenticationSASL((scram.MECHANISM,))]

    def receive(self, payload: bytes) -> list[AuthRequest]:
        """The payload of the client's PasswordMessage -> the requests to send next."""
        state = self.state
        try:
            if state is AuthState.AWAIT_PASSWORD:
                supplied = _password_packet(payload)
                if not passwords.verify_cleartext(self.secret, self.user, supplied):
                    raise self._failed()
                self.state = AuthState.DONE
                return [AuthenticationOk()]
            if state is AuthState.AWAIT_MD5:
                response = _password_packet(payload)
                if not passwords.verify_md5_response(self.secret, self._salt, response):
                    raise self._failed()
                self.state = AuthState.DONE
                return [AuthenticationOk()]
            if state is AuthState.AWAIT_SASL_INITIAL:
                mechanism, data = _sasl_initial(payload)
                plus = mechanism == scram.MECHANISM_PLUS and self._channel_binding is not None
                if mechanism != scram.MECHANISM and not plus:
                    raise ProtocolViolation("client selected an invalid SASL authentication mechanism")
                self._scram = scram.ScramExchange(self.user, self._verifier, self._server_nonce, mechanism,
                                                  self._channel_binding)
                if data is None:
                    raise ProtocolViolation("malformed SCRAM message", detail="The message is empty.")
                server_first = self._scram.start(data)
                self.state = AuthState.AWAIT_SASL_RESPONSE
                return [AuthenticationSASLContinue(server_first)]
            if state is AuthState.AWAIT_SASL_RESPONSE:
                assert self._scram is not None
                server_final = self._scram.finish(payload)
                self.state = AuthState.DONE
                return [AuthenticationSASLFinal(server_final), AuthenticationOk()]
        except (InvalidPassword, ProtocolViolation):
            self.state = AuthState.FAILED
            raise
        raise ProtocolViolation(f"unexpected authentication message in state {state.value}")

    def authorize(self, can_login: bool = True, connection_limit: int = -1, connections: int = 0) -> None:
        """After a successful exchange, InitializeSessionUserId's checks: the role exists
        (reached only with trust; the password methods already failed with 28P01), may log
        in (rolcanlogin), and is under its connection limit (rolconnlimit; `connections` is
        how many sessions the role has besides this one)."""
        if not self.done:
            raise self._failed()
        if not self.role_exists:
            raise InvalidAuthorizationSpecification(f'role "{self.user}" does not exist')
        if not can_login:
            raise InvalidAuthorizationSpecification(f'role "{self.user}" is not permitted to log in')
        if connection_limit >= 0 and connections >= connection_limit:
            raise TooManyConnections(f'too many connections for role "{self.user}"')
