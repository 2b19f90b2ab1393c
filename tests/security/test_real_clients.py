"""Real clients (libpq through psycopg, and asyncpg) authenticate against a minimal asyncio
server built only from pgaurora.wire and pgaurora.security: every method, right and wrong
passwords, unknown roles."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable

import asyncpg
import psycopg
import pytest

from pgaurora.errors import FatalError, PgError
from pgaurora.security import Authenticator, AuthMethod, tls
from pgaurora.security.password import encrypt_password
from pgaurora.wire import NEED_DATA, FrontendDecoder, encoder
from pgaurora.wire import messages as m

ROLES = {
    "alice": encrypt_password("wonderland", "alice", "scram-sha-256"),
    "bob": encrypt_password("builder", "bob", "md5"),
    "carol": None,  # exists, no password
}


def _ready(writer: asyncio.StreamWriter) -> None:
    for name, value in (("server_version", "15.0"), ("server_encoding", "UTF8"), ("client_encoding", "UTF8"),
                        ("DateStyle", "ISO, MDY"), ("integer_datetimes", "on"),
                        ("standard_conforming_strings", "on"), ("TimeZone", "UTC")):
        writer.write(encoder.parameter_status(name, value))
    writer.write(encoder.backend_key_data(1, 2))
    writer.write(encoder.ready_for_query("I"))


async def _serve(method: AuthMethod, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 tls: tuple[ssl.SSLContext, bytes] | None = None) -> None:
    decoder = FrontendDecoder()
    auth: Authenticator | None = None
    binding: bytes | None = None
    try:
        while data := await reader.read(65536):
            decoder.receive_data(data)
            while (message := decoder.next_event()) is not NEED_DATA:
                try:
                    if isinstance(message, m.SSLRequest) and tls is not None:
                        assert decoder.buffered == 0  # nothing may come unencrypted after it
                        writer.write(encoder.SSL_ACCEPTED)
                        await writer.drain()
                        await writer.start_tls(tls[0])
                        binding = tls[1]
                        break
                    if isinstance(message, m.SSLRequest | m.GSSENCRequest):
                        writer.write(encoder.SSL_REFUSED)
                        continue
                    if isinstance(message, m.StartupMessage):
                        user = message.user
                        auth = Authenticator(method, user, ROLES.get(user), role_exists=user in ROLES,
                                             channel_binding=binding)
                        requests = auth.start()
                    elif isinstance(message, m.PasswordMessage):
                        assert auth is not None
                        requests = auth.receive(message.data)
                    elif isinstance(message, m.Query):
                        writer.write(encoder.row_description([("ok", 0, 0, 25, -1, -1, 0)]))
                        writer.write(encoder.data_row([message.sql.encode()]))
                        writer.write(encoder.command_complete("SELECT 1") + encoder.ready_for_query("I"))
                        continue
                    else:
                        return  # Terminate, or anything this test server does not do
                    for request in requests:
                        writer.write(encoder.authentication_request(request))
                    decoder.auth_response = auth.expected_response
                    if auth.done:
                        auth.authorize()
                        decoder.authenticated()
                        _ready(writer)
                except PgError as err:
                    writer.write(encoder.error_response(err))
                    if isinstance(err, FatalError):
                        return
                    decoder.error_occurred()
            await writer.drain()
    except PgError as err:
        writer.write(encoder.error_response(err))
    finally:
        await writer.drain()
        writer.close()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, bytes]:
    cert_pem, key_pem = tls.self_signed_certificate()
    directory = tmp_path_factory.mktemp("tls")
    (directory / "server.crt").write_bytes(cert_pem)
    (directory / "server.key").write_bytes(key_pem)
    return str(directory / "server.crt"), str(directory / "server.key"), cert_pem


@pytest.fixture
async def server() -> AsyncIterator[Callable[..., asyncio.Future[int]]]:
    servers: list[asyncio.Server] = []

    async def start(method: AuthMethod, tls_setup: tuple[ssl.SSLContext, bytes] | None = None) -> int:
        srv = await asyncio.start_server(lambda r, w: _serve(method, r, w, tls_setup), "127.0.0.1", 0)
        servers.append(srv)
        return int(srv.sockets[0].getsockname()[1])

    yield start  # type: ignore[misc]
    for srv in servers:
        srv.close()
        await srv.wait_closed()


CASES = [
    (AuthMethod.SCRAM_SHA_256, "alice", "wonderland", None),
    (AuthMethod.SCRAM_SHA_256, "alice", "wrong", "28P01"),
    (AuthMethod.SCRAM_SHA_256, "bob", "builder", "28P01"),  # md5 secret cannot do SCRAM
    (AuthMethod.SCRAM_SHA_256, "nobody", "x", "28P01"),
    (AuthMethod.SCRAM_SHA_256, "carol", "x", "28P01"),
    (AuthMethod.MD5, "bob", "builder", None),
    (AuthMethod.MD5, "bob", "wrong", "28P01"),
    (AuthMethod.MD5, "alice", "wonderland", None),  # SCRAM secret: md5 falls back to SCRAM
    (AuthMethod.MD5, "nobody", "x", "28P01"),
    (AuthMethod.PASSWORD, "alice", "wonderland", None),
    (AuthMethod.PASSWORD, "bob", "builder", None),
    (AuthMethod.PASSWORD, "bob", "wrong", "28P01"),
    (AuthMethod.TRUST, "carol", "", None),
    (AuthMethod.TRUST, "nobody", "", "28000"),
]


@pytest.mark.parametrize(("method", "user", "password", "sqlstate"), CASES)
async def test_libpq(server, method: AuthMethod, user: str, password: str, sqlstate: str | None) -> None:
    port = await server(method)
    connect = psycopg.AsyncConnection.connect(host="127.0.0.1", port=port, user=user, password=password,
                                              dbname="postgres", sslmode="disable", connect_timeout=10)
    if sqlstate is None:
        async with await connect as conn:
            cur = await conn.execute("select 1")
            assert await cur.fetchone() == ("select 1",)
        return
    with pytest.raises(psycopg.OperationalError) as info:
        await connect
    expected = {"28P01": f'password authentication failed for user "{user}"',
                "28000": f'role "{user}" does not exist'}[sqlstate]
    assert expected in str(info.value)


@pytest.mark.parametrize(("method", "user", "password", "sqlstate"), CASES)
async def test_asyncpg(server, method: AuthMethod, user: str, password: str, sqlstate: str | None) -> None:
    port = await server(method)
    coro = asyncpg.connect(host="127.0.0.1", port=port, user=user, password=password or None,
                           database="postgres", ssl=False, timeout=10)
    if sqlstate is None:
        conn = await coro
        await conn.close()
        return
    with pytest.raises(asyncpg.PostgresError) as info:
        await coro
    assert info.value.sqlstate == sqlstate


@pytest.mark.parametrize("channel_binding", ["require", "disable"])
async def test_libpq_over_tls_with_channel_binding(server, tls_files, channel_binding: str) -> None:
    certfile, keyfile, cert_pem = tls_files
    setup = (tls.server_context(certfile, keyfile), tls.tls_server_end_point(tls.certificate_der(cert_pem)))
    port = await server(AuthMethod.SCRAM_SHA_256, setup)
    async with await psycopg.AsyncConnection.connect(
        host="127.0.0.1", port=port, user="alice", password="wonderland", dbname="postgres",
        sslmode="verify-ca", sslrootcert=certfile, channel_binding=channel_binding, connect_timeout=10,
    ) as conn:
        assert conn.info.pgconn.ssl_in_use
        cur = await conn.execute("select 1")
        assert await cur.fetchone() == ("select 1",)
    with pytest.raises(psycopg.OperationalError, match='password authentication failed for user "alice"'):
        await psycopg.AsyncConnection.connect(
            host="127.0.0.1", port=port, user="alice", password="nope", dbname="postgres",
            sslmode="require", channel_binding=channel_binding, connect_timeout=10,
        )


async def test_asyncpg_over_tls(server, tls_files) -> None:
    certfile, keyfile, cert_pem = tls_files
    setup = (tls.server_context(certfile, keyfile), tls.tls_server_end_point(tls.certificate_der(cert_pem)))
    port = await server(AuthMethod.SCRAM_SHA_256, setup)
    client_context = ssl.create_default_context(cafile=certfile)
    conn = await asyncpg.connect(host="127.0.0.1", port=port, user="alice", password="wonderland",
                                 database="postgres", ssl=client_context, timeout=10)
    await conn.close()
