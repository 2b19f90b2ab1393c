"""Functions that wait (pg_sleep and kin; pg_advisory_lock is in tests/isolation/specs/advisory.spec):
the same answers as PostgreSQL 15, other sessions served meanwhile, and cancellation (57014)
by statement_timeout and pg_cancel_backend, through asyncpg against an instance process."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

FORMS = [
    "SELECT pg_sleep(0)",
    "SELECT pg_sleep(-1)",
    "SELECT pg_sleep(NULL)",
    "SELECT pg_sleep(0.01), 1 AS x",
    "SELECT pg_sleep(0.01) IS NULL AS n, pg_sleep(0)::text AS t",
    "SELECT pg_sleep_for('10 milliseconds')",
    "SELECT pg_sleep_for(NULL)",
    "SELECT pg_sleep_until(now() - interval '1 day')",
    "SELECT pg_sleep('x')",
    "SELECT g, pg_sleep(0.001) FROM generate_series(1, 3) g ORDER BY g",
]


async def _answer(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    except asyncpg.PostgresError as exc:
        return (exc.sqlstate, str(exc))
    finally:
        await conn.close()


@pytest.mark.parametrize("sql", FORMS)
async def test_sleep_forms_answer_as_postgres(sql: str, instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert await _answer(instance.url, sql) == await _answer(pg_oracle.url, sql)


async def test_a_sleeping_session_holds_up_no_other(instance: InstanceProcess) -> None:
    sleeper = await asyncpg.connect(instance.url)
    other = await asyncpg.connect(instance.url)
    try:
        started = time.monotonic()
        sleep = asyncio.create_task(sleeper.fetchval("SELECT pg_sleep(0.6)"))
        await asyncio.sleep(0.05)
        answers = [await other.fetchval("SELECT $1::int + 1", i) for i in range(20)]
        served_by = time.monotonic() - started
        assert answers == list(range(1, 21))
        assert not sleep.done() and served_by < 0.6
        await sleep
        assert time.monotonic() - started >= 0.6
    finally:
        await sleeper.close()
        await other.close()


@pytest.mark.parametrize("url_of", ["instance", "pg_oracle"])
async def test_statement_timeout_ends_a_sleep(url_of: str, request: pytest.FixtureRequest) -> None:
    conn = await asyncpg.connect(request.getfixturevalue(url_of).url)
    try:
        await conn.execute("SET statement_timeout = '100ms'")
        started = time.monotonic()
        with pytest.raises(asyncpg.QueryCanceledError, match="canceling statement due to statement timeout"):
            await conn.execute("SELECT pg_sleep(30)")
        assert time.monotonic() - started < 5
        await conn.execute("RESET statement_timeout")
        assert await conn.fetchval("SELECT 2") == 2  # the session goes on
    finally:
        await conn.close()


@pytest.mark.parametrize("url_of", ["instance", "pg_oracle"])
async def test_pg_cancel_backend_ends_a_sleep_and_a_lock_wait(url_of: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(url_of).url
    victim = await asyncpg.connect(url)
    killer = await asyncpg.connect(url)
    try:
        pid = await victim.fetchval("SELECT pg_backend_pid()")
        await killer.execute("SELECT pg_advisory_lock(42)")
        for sql in ("SELECT pg_sleep(30)", "SELECT pg_advisory_lock(42)"):
            started = time.monotonic()
            waiting = asyncio.create_task(victim.execute(sql))
            for _ in range(100):  # bounded: until the victim is seen waiting
                await asyncio.sleep(0.02)
                if await killer.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", pid) == "active":
                    break
            await asyncio.sleep(0.1)
            assert await killer.fetchval("SELECT pg_cancel_backend($1)", pid) is True
            with pytest.raises(asyncpg.QueryCanceledError, match="canceling statement due to user request"):
                await waiting
            assert time.monotonic() - started < 5
        assert await victim.fetchval("SELECT pg_try_advisory_lock(42)") is False  # still the killer's
        await killer.execute("SELECT pg_advisory_unlock(42)")
        assert await victim.fetchval("SELECT pg_try_advisory_lock(42)") is True
    finally:
        await victim.close()
        await killer.close()


async def test_a_sleep_that_cannot_be_awaited_is_refused(instance: InstanceProcess) -> None:
    """Below CASE (PostgreSQL calls it only when the branch is taken) pgaurora cannot await the
    sleep first, and refuses a positive one rather than stopping the whole server for it."""
    conn = await asyncpg.connect(instance.url)
    try:
        with pytest.raises(asyncpg.FeatureNotSupportedError, match="cannot wait inside CASE"):
            await conn.execute("SELECT CASE WHEN true THEN pg_sleep(0.1) END")
        assert await conn.fetchval("SELECT CASE WHEN false THEN pg_sleep(0.1) ELSE pg_sleep(0) END") is None  # void
    finally:
        await conn.close()


async def _advisory_wait_seen(url: str) -> object:
    holder, waiter, observer = [await asyncpg.connect(url) for _ in range(3)]
    try:
        await holder.execute("SELECT pg_advisory_lock(1), pg_advisory_lock_shared(2, 3)")
        holder_pid, waiter_pid = holder.get_server_pid(), waiter.get_server_pid()
        waiting = asyncio.create_task(waiter.execute("SELECT pg_advisory_lock(1)"))
        for _ in range(200):  # bounded: until the waiter is seen waiting
            await asyncio.sleep(0.01)
            if await observer.fetchval("SELECT wait_event FROM pg_stat_activity WHERE pid = $1", waiter_pid):
                break
        locks = [tuple(r) for r in await observer.fetch(
            "SELECT locktype, classid, objid, objsubid, mode, granted, waitstart IS NOT NULL, pid = $1 "
            "FROM pg_locks WHERE locktype = 'advisory' ORDER BY granted DESC, objid", holder_pid)]
        event = tuple(await observer.fetchrow(
            "SELECT wait_event_type, wait_event, pg_blocking_pids(pid) = ARRAY[$1::int] FROM pg_stat_activity "
            "WHERE pid = $2", holder_pid, waiter_pid))
        await holder.execute("SELECT pg_advisory_unlock_all()")
        await waiting
        await waiter.execute("SELECT pg_advisory_unlock_all()")
        return locks, event
    finally:
        for conn in (holder, waiter, observer):
            await conn.close()


async def test_a_waiting_advisory_lock_shows_as_in_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """pg_locks lists the request (granted false, with its waitstart), pg_stat_activity the wait
    (Lock / advisory) and pg_blocking_pids the holder, as PostgreSQL does."""
    assert await _advisory_wait_seen(instance.url) == await _advisory_wait_seen(pg_oracle.url)
