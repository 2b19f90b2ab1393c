"""TLS for clients (`--ssl`, `--force-ssl`): SSLRequest answered 'S' and a real handshake with
psql, psycopg and asyncpg (certificate verified by name), pg_stat_ssl, SCRAM-SHA-256-PLUS
channel binding, `--force-ssl` refusing clear-text clients like Aurora's rds.force_ssl, a server
without a certificate refusing, and bad input: bytes sent before the 'S' (08P01), a client that
then speaks no TLS (closed; other sessions unaffected)."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import struct
import subprocess
import tempfile
from collections.abc import Iterator

import asyncpg
import psycopg
import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess, start_instance

SSL_REQUEST = struct.pack("!ii", 8, 80877103)


@pytest.fixture(scope="module")
def data_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="pgaurora-tls-") as tmp:
        yield tmp


@pytest.fixture(scope="module")
def tls(data_dir: str) -> Iterator[InstanceProcess]:
    inst = start_instance("--ssl", data_dir=data_dir)
    try:
        yield inst
    finally:
        inst.stop()


def _dsn(inst: InstanceProcess, sslmode: str, host: str = "127.0.0.1", **extra: str) -> str:
    more = " ".join(f"{k}={v}" for k, v in extra.items())
    return f"host={host} port={inst.port} user=postgres dbname=postgres sslmode={sslmode} {more}"


def _psql(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", dsn, "-X", *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PGCONNECT_TIMEOUT="20"))


def test_a_self_signed_certificate_is_written_once(tls: InstanceProcess, data_dir: str) -> None:
    key = os.path.join(data_dir, "instance", "server.key")
    assert os.path.exists(os.path.join(data_dir, "instance", "server.crt"))
    assert os.stat(key).st_mode & 0o077 == 0  # the private key is the owner's alone


def test_psql_connects_over_tls_and_verifies_the_name(tls: InstanceProcess, data_dir: str) -> None:
    out = _psql(_dsn(tls, "require"), "-c", r"\conninfo", "-Atc", "SHOW ssl")
    assert out.returncode == 0, out.stderr
    assert "SSL connection (protocol: TLSv1.3" in out.stdout and out.stdout.rstrip().endswith("on")
    root = os.path.join(data_dir, "instance", "server.crt")
    for host in ("localhost", "127.0.0.1"):  # the certificate names both
        out = _psql(_dsn(tls, "verify-full", host, sslrootcert=root), "-Atc", "SELECT 1")
        assert out.returncode == 0 and out.stdout.strip() == "1", out.stderr
    out = _psql(_dsn(tls, "disable"), "-Atc", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    assert out.returncode == 0 and out.stdout.strip() == "f", out.stderr  # clear text is still allowed


def test_pg_stat_ssl(tls: InstanceProcess, pg_oracle: PgOracle) -> None:
    query = ("SELECT ssl, version, cipher IS NOT NULL, bits > 0, client_dn, client_serial, issuer_dn "
             "FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    with psycopg.connect(_dsn(tls, "require")) as conn:
        assert conn.execute(query).fetchone() == (True, "TLSv1.3", True, True, None, None, None)
        assert conn.pgconn.ssl_in_use
    # without TLS the row is PostgreSQL's (whose test server has ssl off)
    shape = "SELECT ssl, version, cipher, bits, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    with psycopg.connect(_dsn(tls, "disable")) as ours, psycopg.connect(pg_oracle.dsn) as theirs:
        assert ours.execute(shape).fetchall() == theirs.execute(shape).fetchall() == [(False, None, None, None, None)]


async def test_asyncpg_over_tls(tls: InstanceProcess, data_dir: str) -> None:
    context = ssl.create_default_context(cafile=os.path.join(data_dir, "instance", "server.crt"))
    conn = await asyncpg.connect(host="localhost", port=tls.port, user="postgres", database="postgres", ssl=context)
    try:
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is True
        assert await conn.fetchval("SELECT count(*) FROM generate_series(1, 100000)") == 100000  # a long reply
    finally:
        await conn.close()


def test_scram_binds_to_the_tls_channel(data_dir: str, tls: InstanceProcess) -> None:
    with psycopg.connect(_dsn(tls, "require"), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS tls_alice")
        conn.execute("CREATE ROLE tls_alice LOGIN PASSWORD 'wonderland'")
    tls.stop()
    secured = start_instance("--ssl", "--auth", "scram-sha-256", data_dir=data_dir)
    try:
        base = f"host=127.0.0.1 port={secured.port} user=tls_alice password=wonderland dbname=postgres"
        # channel_binding=require: libpq accepts only SCRAM-SHA-256-PLUS, bound to this certificate
        with psycopg.connect(base + " sslmode=require channel_binding=require") as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("tls_alice",)
        with pytest.raises(psycopg.OperationalError, match="channel binding"):
            psycopg.connect(base + " sslmode=disable channel_binding=require")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(base.replace("wonderland", "rabbit") + " sslmode=require channel_binding=require")
    finally:
        secured.stop()
        restarted = start_instance("--ssl", data_dir=data_dir)  # the module's instance again, for what follows
        tls.proc, tls.port = restarted.proc, restarted.port


def test_force_ssl_refuses_clear_text(data_dir: str) -> None:
    with tempfile.TemporaryDirectory(prefix="pgaurora-forcessl-") as tmp:
        inst = start_instance("--force-ssl", data_dir=tmp)
        try:
            with pytest.raises(psycopg.OperationalError) as info:
                psycopg.connect(_dsn(inst, "disable"))
            assert ('pg_hba.conf rejects connection for host "127.0.0.1", user "postgres", database "postgres", '
                    'no encryption') in str(info.value)
            with psycopg.connect(_dsn(inst, "prefer")) as conn:  # libpq's default asks for TLS first
                assert conn.execute("SHOW ssl").fetchone() == ("on",)
        finally:
            inst.stop()


def test_a_server_without_a_certificate_says_no(instance: InstanceProcess) -> None:
    with pytest.raises(psycopg.OperationalError, match="server does not support SSL, but SSL was required"):
        psycopg.connect(_dsn(instance, "require"))
    with psycopg.connect(_dsn(instance, "prefer")) as conn:  # prefer falls back to clear text
        assert conn.execute("SHOW ssl").fetchone() == ("off",)


def _raw(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(data)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_bytes_before_the_handshake_are_a_protocol_violation(tls: InstanceProcess) -> None:
    sock = _raw(tls.port, SSL_REQUEST + b"\x00\x00\x00\x08\x04\xd2\x16\x2f")  # a second packet, in clear
    with sock:
        reply = _read_all(sock)
    assert reply.startswith(b"E") and b"08P01" in reply and b"received unencrypted data after SSL request" in reply
    with psycopg.connect(_dsn(tls, "require")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_client_that_speaks_no_tls_is_closed_and_others_go_on(tls: InstanceProcess) -> None:
    with psycopg.connect(_dsn(tls, "require"), autocommit=True) as other:
        sock = _raw(tls.port, SSL_REQUEST)
        with sock:
            assert sock.recv(1) == b"S"
            sock.sendall(b"\x00\x00\x00\x28" + b"GET / HTTP/1.1\r\n" * 4)  # no ClientHello
            assert b"\x00\x00\x00\x28" not in _read_all(sock)  # closed (a TLS alert at most)
        assert other.execute("SELECT 42").fetchone() == (42,)
        sock = _raw(tls.port, SSL_REQUEST)  # and one that hangs up after 'S'
        with sock:
            assert sock.recv(1) == b"S"
        assert other.execute("SELECT 43").fetchone() == (43,)


async def test_many_tls_sessions_at_once(tls: InstanceProcess) -> None:
    async def one(i: int) -> int:
        conn = await asyncpg.connect(host="127.0.0.1", port=tls.port, user="postgres", database="postgres",
                                     ssl="require")
        try:
            return int(await conn.fetchval("SELECT $1::int * 2", i))
        finally:
            await conn.close()

    assert await asyncio.gather(*(one(i) for i in range(20))) == [i * 2 for i in range(20)]
