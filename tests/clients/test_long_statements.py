"""A long statement does not stall the other sessions: while one session COPYs a few hundred
thousand rows into a table, adds its primary key and vacuums it, another session's `SELECT 1`
keeps being answered (the COPY, index build and ANALYZE hand the event loop back every few
thousand rows), and the COPY's result is right."""

from __future__ import annotations

import asyncio
import io
import time

import asyncpg
import pytest

from tests.server.harness import InstanceProcess

ROWS = 200_000
PROBE_BOUND = 1.0  # seconds; generous on a shared machine (PostgreSQL answers in well under 10 ms)
DEADLINE = 300.0


def _copy_data(rows: int) -> bytes:
    # pgbench_accounts' shape, in reverse key order so that the index build has runs to merge
    return "".join(f"{rows - i}\t{(rows - i) // 100_000 + 1}\t0\t\n" for i in range(rows)).encode()


async def _probe(url: str, done: asyncio.Event, latencies: list[float]) -> None:
    """SELECT 1 back to back until the long statements are done (bounded in count and time)."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + DEADLINE
        for _ in range(1_000_000):
            if done.is_set() or time.monotonic() > deadline:
                break
            start = time.monotonic()
            assert await conn.fetchval("SELECT 1") == 1
            latencies.append(time.monotonic() - start)
    finally:
        await conn.close(timeout=10)


async def _long_statements(url: str, rows: int) -> tuple[list[float], dict[str, object]]:
    conn = await asyncpg.connect(url)
    done = asyncio.Event()
    latencies: list[float] = []
    try:
        await conn.execute("DROP TABLE IF EXISTS long_accounts")
        await conn.execute("CREATE TABLE long_accounts (aid int NOT NULL, bid int, abalance int, filler char(84))")
        probe = asyncio.create_task(_probe(url, done, latencies))
        try:
            tag = await conn.copy_to_table("long_accounts", source=io.BytesIO(_copy_data(rows)), format="text")
            await conn.execute("ALTER TABLE long_accounts ADD PRIMARY KEY (aid)")
            await conn.execute("VACUUM ANALYZE long_accounts")
        finally:
            done.set()
            await asyncio.wait_for(probe, DEADLINE)
        result = {
            "tag": tag,
            "count": await conn.fetchval("SELECT count(*) FROM long_accounts"),
            "sum": await conn.fetchval("SELECT sum(aid::bigint) FROM long_accounts"),
            "by_key": await conn.fetchval("SELECT bid FROM long_accounts WHERE aid = $1", rows // 2 + 1),
            "indexes": await conn.fetchval(
                "SELECT count(*) FROM pg_index WHERE indrelid = 'long_accounts'::regclass AND indisprimary"),
        }
        await conn.execute("DROP TABLE long_accounts")
        return latencies, result
    finally:
        await conn.close(timeout=10)


def _expected(rows: int) -> dict[str, object]:
    return {"tag": f"COPY {rows}", "count": rows, "sum": rows * (rows + 1) // 2,
            "by_key": (rows // 2 + 1) // 100_000 + 1, "indexes": 1}


async def test_select_answered_during_copy_and_primary_key_build(instance: InstanceProcess) -> None:
    rows = 50_000
    latencies, result = await _long_statements(instance.url, rows)
    assert result == _expected(rows)
    assert latencies, "the probe never ran"
    assert max(latencies) < PROBE_BOUND, sorted(latencies)[-5:]


@pytest.mark.long
async def test_select_answered_during_large_copy(instance: InstanceProcess) -> None:
    latencies, result = await _long_statements(instance.url, ROWS)
    assert result == _expected(ROWS)
    assert max(latencies) < PROBE_BOUND, sorted(latencies)[-5:]
