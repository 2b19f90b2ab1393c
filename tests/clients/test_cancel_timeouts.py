"""Cancel (CancelRequest with the backend key), statement_timeout,
idle_in_transaction_session_timeout and idle_session_timeout, and failed transaction blocks,
through real clients."""

from __future__ import annotations

import asyncio
import struct
import threading
import time

import asyncpg
import psycopg
import pytest

from tests.server.harness import InstanceProcess
from tests.server.rawclient import RawClient, error_fields, query


@pytest.fixture(scope="module")
def locked_table(instance: InstanceProcess) -> str:
    with psycopg.connect(instance.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE lockme (id int PRIMARY KEY, v int)")
        conn.execute("INSERT INTO lockme VALUES (1, 0)")
    return "lockme"


def test_psycopg_cancel_ends_a_waiting_statement_with_57014(instance: InstanceProcess, locked_table: str) -> None:
    with psycopg.connect(instance.dsn) as holder, psycopg.connect(instance.dsn, autocommit=True) as waiter:
        holder.execute(f"UPDATE {locked_table} SET v = v + 1 WHERE id = 1")   # holds the row lock
        started, finished = threading.Event(), threading.Event()

        def cancel_until_done() -> None:
            # A cancel that arrives before the UPDATE is waiting is ignored (as in PostgreSQL),
            # so it is repeated until the statement ends; bounded by a deadline.
            started.wait(10)
            deadline = time.monotonic() + 20
            while not finished.is_set() and time.monotonic() < deadline:
                waiter.cancel()
                finished.wait(0.2)

        t = threading.Thread(target=cancel_until_done)
        t.start()
        try:
            with pytest.raises(psycopg.errors.QueryCanceled, match="canceling statement due to user request"):
                started.set()
                waiter.execute(f"UPDATE {locked_table} SET v = v + 10 WHERE id = 1")
        finally:
            finished.set()
            t.join(10)
        holder.rollback()
        assert waiter.execute("SELECT 42").fetchone() == (42,)


def test_cancel_with_a_wrong_key_is_ignored(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn, autocommit=True) as conn:
        c = RawClient(instance.port)
        try:
            c.send(struct.pack("!iiii", 16, 80877102, conn.info.backend_pid, 12345))
            assert c.recv_message() is None   # closed without a reply
        finally:
            c.close()
        assert conn.execute("SELECT 1").fetchone() == (1,)


async def test_asyncpg_statement_timeout(instance: InstanceProcess, locked_table: str) -> None:
    holder = await asyncpg.connect(instance.url)
    conn = await asyncpg.connect(instance.url)
    try:
        tr = holder.transaction()
        await tr.start()
        await holder.execute(f"UPDATE {locked_table} SET v = v + 1 WHERE id = 1")
        await conn.execute("SET statement_timeout = '200ms'")
        with pytest.raises(asyncpg.QueryCanceledError, match="canceling statement due to statement timeout"):
            await asyncio.wait_for(conn.execute(f"UPDATE {locked_table} SET v = 5 WHERE id = 1"), 20)
        # a CPU-bound statement is stopped too
        with pytest.raises(asyncpg.QueryCanceledError, match="canceling statement due to statement timeout"):
            await asyncio.wait_for(conn.fetchval("SELECT count(*) FROM generate_series(1, 100000000)"), 30)
        await tr.rollback()
        await conn.execute("SET statement_timeout = 0")
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await holder.close()
        await conn.close()


def test_idle_in_transaction_timeout_closes_the_connection(instance: InstanceProcess) -> None:
    c = RawClient(instance.port, timeout=15)
    try:
        c.connect()
        c.send(query("SET idle_in_transaction_session_timeout = '200ms'; BEGIN"))
        assert c.recv_until(b"Z")[-1] == (b"Z", b"T")
        msg = c.recv_message()   # blocks until the server acts
        assert msg is not None and msg[0] == b"E"
        err = error_fields(msg[1])
        assert (err["S"], err["C"], err["M"]) == (
            "FATAL", "25P03", "terminating connection due to idle-in-transaction timeout")
        assert c.recv_message() is None
    finally:
        c.close()


@pytest.mark.parametrize("server", ["instance", "pg_oracle"])
def test_idle_session_timeout_closes_an_idle_connection_only(server: str, request: pytest.FixtureRequest) -> None:
    """idle_session_timeout ends a session idle outside a transaction (FATAL 57P05), not one idle
    in a transaction (that is idle_in_transaction_session_timeout's), nor a busy one."""
    c = RawClient(request.getfixturevalue(server).port, timeout=15)
    try:
        c.connect()
        c.send(query("SET idle_session_timeout = '300ms'; BEGIN"))
        assert c.recv_until(b"Z")[-1] == (b"Z", b"T")
        time.sleep(0.6)  # idle in a transaction: not this timeout's business
        c.send(query("SELECT pg_sleep(0.5)"))  # busy longer than the timeout
        assert c.recv_until(b"Z")[-1] == (b"Z", b"T")
        c.send(query("COMMIT"))
        assert c.recv_until(b"Z")[-1] == (b"Z", b"I")
        started = time.monotonic()
        msg = c.recv_message()  # blocks until the server acts
        assert msg is not None and msg[0] == b"E"
        err = error_fields(msg[1])
        assert (err["S"], err["C"], err["M"]) == ("FATAL", "57P05", "terminating connection due to idle-session timeout")
        assert 0.2 < time.monotonic() - started < 10
        assert c.recv_message() is None
    finally:
        c.close()


def test_failed_transaction_block_through_psycopg(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1/0")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction,
                           match="current transaction is aborted, commands ignored until end of transaction block"):
            conn.execute("SELECT 1")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        conn.rollback()
        assert conn.execute("SELECT 2").fetchone() == (2,)


async def test_asyncpg_pool_reset_query(instance: InstanceProcess) -> None:
    pool = await asyncpg.create_pool(instance.url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET work_mem = '1MB'")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW work_mem") == "4MB"
    finally:
        await pool.close()


def test_disconnect_in_an_open_transaction_aborts_it(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE gone (id int PRIMARY KEY)")
    c = RawClient(instance.port)
    try:
        c.connect()
        c.send(query("BEGIN; INSERT INTO gone SELECT generate_series(1, 100)"))
        assert c.recv_until(b"Z")[-1] == (b"Z", b"T")
    finally:
        c.close()   # no COMMIT
    with psycopg.connect(instance.dsn, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '20s'")
        assert conn.execute("SELECT count(*) FROM gone").fetchone() == (0,)
        conn.execute("INSERT INTO gone SELECT generate_series(1, 100)")   # the keys are free again
        assert conn.execute("SELECT count(*) FROM gone").fetchone() == (100,)
