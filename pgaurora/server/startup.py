"""Connection start-up: SSL/GSS refusal, CancelRequest, StartupMessage, authentication.

Owns the start-up phase as PostgreSQL's postmaster and InitPostgres run it:
    SSLRequest                  -> 'S' and a TLS handshake (start_tls) when the server has a
                                   certificate (ServerTls), else 'N': the client goes on in clear
    GSSENCRequest               -> 'N'
    CancelRequest(pid, key)     -> cancel that backend's statement; close without reply
    StartupMessage              -> max_connections (53300), authentication by the hba rule
                                   (trust, password, md5, scram-sha-256 via pgaurora.security),
                                   role (28000) and database (3D000) checks, then
                                   ParameterStatus ×N, BackendKeyData, ReadyForQuery
Not the exchanges' cryptography (security), not the message loop after start-up
(server.connection).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import TYPE_CHECKING, Any

from pgaurora.errors import (
    FatalError,
    InvalidAuthorizationSpecification,
    InvalidCatalogName,
    PgError,
    ProtocolViolation,
    TooManyConnections,
    UndefinedSettingFatal,
)
from pgaurora.security import Authenticator
from pgaurora.security import ClientConnection as HbaClient
from pgaurora.server.auth import encode_requests
from pgaurora.session.guc_table import BY_NAME
from pgaurora.session.session import Session
from pgaurora.session.settings import Settings, check_context
from pgaurora.wire import encoder as enc
from pgaurora.wire import messages as m

if TYPE_CHECKING:
    from pgaurora.server.connection import ClientConnection

log = logging.getLogger(__name__)

# Start-up parameters that are not GUCs.
_NOT_GUCS = frozenset({"user", "database", "options", "replication"})


def startup_options(options: str) -> dict[str, str]:
    """The `options` start-up parameter (PGOPTIONS): `-c name=value` and `--name=value`."""
    out: dict[str, str] = {}
    words = options.replace("\\ ", "\0").split()
    i = 0
    while i < len(words):
        word = words[i].replace("\0", " ")
        if word == "-c" and i + 1 < len(words):
            i += 1
            word = "--" + words[i].replace("\0", " ")
        elif word.startswith("-c"):
            word = "--" + word[2:]
        if word.startswith("--") and "=" in word:
            name, _, value = word[2:].partition("=")
            out[name.replace("-", "_")] = value
        elif word:
            raise InvalidAuthorizationSpecification(f'invalid command-line argument for server process: {word}',
                                                    hint='Try "postgres --help" for more information.')
        i += 1
    return out


class Startup:
    """The start-up phase of one connection."""

    __slots__ = ("conn", "params", "exchange", "role")

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.params: dict[str, str] = {}
        self.exchange: Any = None          # security authenticator in progress
        self.role: Any = None

    async def handle(self, msg: Any) -> None:
        conn = self.conn
        if msg is m.SSL_REQUEST or isinstance(msg, m.SSLRequest):
            try:
                await self._ssl_request()
            except PgError as err:
                self._fail(err)
            return
        if msg is m.GSSENC_REQUEST or isinstance(msg, m.GSSENCRequest):
            conn.write(b"N")
            conn.flush()
            return
        if isinstance(msg, m.CancelRequest):
            conn.server.cancel(msg.pid, msg.secret)
            conn.close()
            return
        try:
            if isinstance(msg, m.StartupMessage):
                await self._startup(msg)
            elif isinstance(msg, m.PasswordMessage):
                await self._password(msg.data)
            else:
                raise ProtocolViolation(f"unexpected message {type(msg).__name__} during start-up")
        except PgError as err:
            self._fail(err)

    async def _ssl_request(self) -> None:
        """'S' and the server side of a TLS handshake over this connection, whose later bytes the
        TLS transport decrypts; 'N' without a certificate or on a connection already encrypted."""
        conn = self.conn
        tls = conn.server.tls
        if tls is None or conn.tls is not None or conn.transport is None:
            conn.write(enc.SSL_REFUSED)
            conn.flush()
            return
        if conn.decoder.buffered:
            # PostgreSQL 15: bytes the client sent before reading 'S' would bypass encryption
            raise ProtocolViolation("received unencrypted data after SSL request",
                                    hint="This could be either a client-software bug or evidence of "
                                         "an attempted man-in-the-middle attack.")
        conn.write(enc.SSL_ACCEPTED)
        conn.flush()
        loop = asyncio.get_running_loop()
        try:
            transport = await loop.start_tls(conn.transport, conn, tls.context, server_side=True)
        except (OSError, ssl.SSLError, ConnectionError) as exc:  # the client gave up or spoke no TLS
            log.debug("connection %d: TLS handshake failed: %s", conn.pid, exc)  # the health probe does this
            conn.close()
            return
        if transport is None:
            conn.close()
            return
        conn.transport = transport  # type: ignore[assignment]
        conn.tls = transport.get_extra_info("ssl_object")

    def _fail(self, err: PgError) -> None:
        conn = self.conn
        conn.write(enc.error_response(err, "FATAL"))
        conn.close()

    async def _startup(self, msg: m.StartupMessage) -> None:
        conn = self.conn
        server = conn.server
        if msg.protocol_options or msg.minor_version > 0:
            conn.write(enc.negotiate_protocol_version(0, msg.protocol_options))
        self.params = dict(msg.params)
        if not server.admit(conn):
            raise TooManyConnections("sorry, too many clients already")
        user = msg.user
        client = HbaClient(database=msg.database, user=user, address=conn.peer_host() or None, ssl=conn.tls is not None)
        method = server.hba.method_for(client)
        role = self.role = server.engine.role(user)
        secret = getattr(role, "password", None) if role is not None else None
        tls = server.tls if conn.tls is not None else None
        auth = self.exchange = Authenticator(method, user, secret, role_exists=role is not None, connection=client,
                                             channel_binding=tls.channel_binding if tls is not None else None)
        conn.write(encode_requests(auth.start()))
        if auth.done:
            await self._authenticated()
            return
        conn.decoder.auth_response = auth.expected_response
        conn.flush()

    async def _password(self, data: bytes) -> None:
        auth = self.exchange
        if auth is None:
            raise ProtocolViolation("unexpected password message")
        self.conn.write(encode_requests(auth.receive(data)))
        if not auth.done:
            self.conn.decoder.auth_response = auth.expected_response
            self.conn.flush()
            return
        await self._authenticated()

    async def _authenticated(self) -> None:
        conn = self.conn
        server = conn.server
        params = self.params
        user = params["user"]
        database = params.get("database") or user
        self.exchange.authorize()
        if not getattr(self.role, "login", True):
            raise InvalidAuthorizationSpecification(f'role "{user}" is not permitted to log in')
        if not server.engine.database_exists(database):
            raise InvalidCatalogName(f'database "{database}" does not exist')
        if not server.engine.may_connect(self.role, database):
            raise FatalError(f'permission denied for database "{database}"', sqlstate="42501",
                             detail="User does not have CONNECT privilege.")
        superuser = bool(getattr(self.role, "superuser", False))
        # the options' -c switches first, then the packet's own parameters (PostgreSQL's
        # process_startup_options: a later setting of the same parameter wins)
        overrides = startup_options(params.get("options", ""))
        overrides.update({k: v for k, v in params.items() if k not in _NOT_GUCS and not k.startswith("_pq_.")})
        for name in overrides:
            definition = BY_NAME.get(name.lower())
            if definition is None:
                if "." not in name:
                    raise UndefinedSettingFatal(f'unrecognized configuration parameter "{name}"')
                continue
            try:
                check_context(definition, superuser, at_startup=True)
            except PgError as err:
                raise FatalError(err.message, sqlstate=err.sqlstate) from None
        overrides.setdefault("application_name", "")
        overrides["session_authorization"] = user
        overrides["is_superuser"] = "on" if superuser else "off"
        overrides.update(server.fixed_settings)
        try:
            settings = Settings(overrides, superuser=superuser)
        except PgError as err:
            # A bad start-up value is FATAL in PostgreSQL (the session never starts).
            raise FatalError(err.message, sqlstate=err.sqlstate, hint=err.hint) from None
        conn.pid, conn.secret = server.register_backend(conn)
        session = Session(server.engine, user=user, database=database, settings=settings,
                          pid=conn.pid, secret=conn.secret, superuser=superuser)
        session.notify_hook = server.notify
        session.terminate_hook = conn.terminate
        session.tls = conn.tls  # pg_stat_ssl
        peer = conn.transport.get_extra_info("peername") if conn.transport is not None else None
        if isinstance(peer, tuple) and len(peer) >= 2:  # pg_stat_activity (a unix socket: NULL, -1)
            session.client_addr, session.client_port = str(peer[0]), int(peer[1])
        else:
            session.client_port = -1
        conn.decoder.authenticated()
        for name, value in settings.reported():
            conn.write(enc.parameter_status(name, value))
        conn.write(enc.backend_key_data(conn.pid, conn.secret))
        conn.session = session
        conn.ready_for_query()
