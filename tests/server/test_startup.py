"""Start-up as PostgreSQL does it: SSL/GSS refusal, ParameterStatus, BackendKeyData,
unknown role/database, max_connections, 1,000 concurrent connections."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterator
from typing import Any

import asyncpg
import psycopg
import pytest

from tests.server.harness import InstanceProcess, start_instance
from tests.server.rawclient import RawClient, error_fields, startup_packet, types


def test_ssl_and_gssenc_requests_are_answered_n(instance: InstanceProcess) -> None:
    c = RawClient(instance.port)
    try:
        c.send(struct.pack("!ii", 8, 80877104))   # GSSENCRequest
        assert c.sock.recv(1) == b"N"
        c.send(struct.pack("!ii", 8, 80877103))   # SSLRequest
        assert c.sock.recv(1) == b"N"
        reply = c.connect(application_name="t1")
        assert types(reply) == "R" + "S" * 13 + "KZ"
        params = dict(tuple(body.rstrip(b"\0").decode().split("\0")) for kind, body in reply if kind == b"S")
        assert params["server_version"].startswith("15.")
        assert params["server_encoding"] == "UTF8" and params["client_encoding"] == "UTF8"
        assert params["DateStyle"] == "ISO, MDY" and params["IntervalStyle"] == "postgres"
        assert params["TimeZone"] == "UTC" and params["integer_datetimes"] == "on"
        assert params["standard_conforming_strings"] == "on" and params["application_name"] == "t1"
        assert params["is_superuser"] == "on" and params["session_authorization"] == "postgres"
        assert params["default_transaction_read_only"] == "off" and params["in_hot_standby"] == "off"
        assert reply[-1] == (b"Z", b"I")
    finally:
        c.close()


def _fatal(port: int, user: str, database: str) -> dict[str, str]:
    c = RawClient(port)
    try:
        c.send(startup_packet(user, database))
        msg = c.recv_message()
        while msg is not None and msg[0] == b"R":   # trust: AuthenticationOk comes first, as in PostgreSQL
            msg = c.recv_message()
        assert msg is not None and msg[0] == b"E"
        assert c.recv_message() is None   # the server closed the connection
        return error_fields(msg[1])
    finally:
        c.close()


def test_unknown_role_and_database(instance: InstanceProcess) -> None:
    err = _fatal(instance.port, "nobody", "postgres")
    assert (err["S"], err["C"], err["M"]) == ("FATAL", "28000", 'role "nobody" does not exist')
    err = _fatal(instance.port, "postgres", "nodb")
    assert (err["S"], err["C"], err["M"]) == ("FATAL", "3D000", 'database "nodb" does not exist')


def test_psycopg_sees_the_same_errors(instance: InstanceProcess) -> None:
    with pytest.raises(psycopg.OperationalError, match='database "nodb" does not exist'):
        psycopg.connect(f"host=127.0.0.1 port={instance.port} user=postgres dbname=nodb")


@pytest.fixture(scope="module")
def small_instance() -> Iterator[InstanceProcess]:
    inst = start_instance("--max-connections", "3")
    try:
        yield inst
    finally:
        inst.stop()


def test_max_connections_53300(small_instance: InstanceProcess) -> None:
    held = [RawClient(small_instance.port) for _ in range(3)]
    try:
        for c in held:
            assert types(c.connect())[-1] == "Z"
        err = _fatal(small_instance.port, "postgres", "postgres")
        assert (err["S"], err["C"], err["M"]) == ("FATAL", "53300", "sorry, too many clients already")
    finally:
        for c in held:
            c.close()
    # A slot frees when a client leaves.
    c = RawClient(small_instance.port)
    try:
        deadline_tries = 50
        while True:
            reply = c.connect()
            if types(reply)[-1] == "Z":
                break
            c.close()
            deadline_tries -= 1
            assert deadline_tries > 0
            c = RawClient(small_instance.port)
    finally:
        c.close()


@pytest.fixture(scope="module")
def big_instance() -> Iterator[InstanceProcess]:
    inst = start_instance("--max-connections", "1100")
    try:
        yield inst
    finally:
        inst.stop()


async def _hold_connections(url: str, count: int) -> None:
    conns: list[asyncpg.Connection] = []

    async def hold() -> None:
        conns.append(await asyncpg.connect(url, timeout=60))

    try:
        await asyncio.wait_for(asyncio.gather(*(hold() for _ in range(count))), 120)
        assert len(conns) == count
        values = await asyncio.wait_for(asyncio.gather(*(c.fetchval("SHOW work_mem") for c in conns)), 60)
        assert set(values) == {"4MB"}
    finally:
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)


async def test_three_hundred_concurrent_connections(big_instance: InstanceProcess) -> None:
    await _hold_connections(big_instance.url, 300)


@pytest.mark.long
async def test_one_thousand_concurrent_connections(big_instance: InstanceProcess) -> None:
    await _hold_connections(big_instance.url, 1000)


def test_startup_options_and_gucs(instance: InstanceProcess) -> None:
    dsn = f"host=127.0.0.1 port={instance.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, options="-c work_mem=1MB -c DateStyle=German") as conn:
        assert conn.execute("SHOW work_mem").fetchone() == ("1MB",)
        assert conn.info.parameter_status("DateStyle") == "German, DMY"
    with pytest.raises(psycopg.OperationalError, match='unrecognized configuration parameter "foo"'):
        psycopg.connect(dsn, options="-c foo=1")
    with pytest.raises(psycopg.OperationalError, match='invalid value for parameter "work_mem": "x"'):
        psycopg.connect(dsn, options="-c work_mem=x")


def _startup_outcome(port: int, user: str, options: str, **params: str) -> tuple[str, ...]:
    """What a connection with these start-up options and parameters gets: the settings it
    shows, or its FATAL's message (psycopg gives no SQLSTATE for a failed connection)."""
    dsn = f"host=127.0.0.1 port={port} user={user} dbname=postgres"
    try:
        with psycopg.connect(dsn, options=options, **params) as conn:
            row = conn.execute("SELECT current_setting('application_name'), current_setting('work_mem'), "
                               "current_setting('search_path')").fetchone()
            assert row is not None
            return tuple(row)
    except psycopg.OperationalError as exc:
        return ("FATAL", str(exc).splitlines()[-1].split("FATAL:  ")[-1])


def test_startup_parameter_contexts_as_postgres(instance: InstanceProcess, pg_oracle: Any) -> None:
    """PostgreSQL 15 applies the options' -c switches first and the packet's parameters after
    (they win), and refuses at start-up what SET would refuse there: parameters fixed at server
    start or by the configuration (55P02), superuser-only ones for other roles (42501)."""
    cases = [
        ("postgres", "-c application_name=from_options -c work_mem=2MB", {"application_name": "from_packet"}),
        ("postgres", "--work-mem=3MB -c search_path=a,b", {}),
        ("postgres", "-c shared_buffers=1MB", {}),
        ("postgres", "-c wal_level=minimal", {}),
        ("postgres", "-c log_connections=on", {}),
        ("postgres", "-c archive_command=x", {}),
        ("postgres", "-c log_min_duration_statement=5", {}),
        ("su_startup_role", "-c log_min_duration_statement=5", {}),
        ("su_startup_role", "-c work_mem=5MB", {}),
        ("postgres", "-c is_superuser=on", {}),
    ]
    outcomes = []
    for port in (pg_oracle.port, instance.port):
        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS su_startup_role")
            conn.execute("CREATE ROLE su_startup_role LOGIN")
        try:
            outcomes.append([_startup_outcome(port, user, options, **params) for user, options, params in cases])
        finally:
            with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as conn:
                conn.execute("DROP ROLE su_startup_role")
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][0] == ("from_packet", "2MB", '"$user", public')
    assert outcomes[0][2] == ("FATAL", 'parameter "shared_buffers" cannot be changed without restarting the server')
