"""The read hot path stays hot: SELECT 1 and primary-key SELECTs take the fused one-pass reply,
and a round trip costs a bounded number of Python calls in the server.

The instance runs in this process (six in-process storage nodes); the asyncpg client runs in
its own thread with its own event loop, so cProfile, enabled on the server's thread only,
counts the server's calls per query. The bounds are generous (about twice today's counts):
they catch a statement falling off the fast path, not small changes.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pgaurora.server import fused
from pgaurora.server.instance import Instance, InstanceOptions
from pgaurora.session import fastpath as session_fastpath

ROUNDS = 300


def _client(port: int, body: Callable[[asyncpg.Connection], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        try:
            await body(conn)
        finally:
            await conn.close()

    asyncio.run(main())


async def _calls_per_round(port: int, setup: Callable[[asyncpg.Connection], Coroutine[Any, Any, Any]],
                           step: Callable[[Any], Coroutine[Any, Any, Any]]) -> tuple[float, int]:
    """(server calls per round trip, fused replies) over ROUNDS runs of `step`."""
    state: dict[str, Any] = {}
    ready = asyncio.Event()
    go = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def body(conn: asyncpg.Connection) -> None:
        prepared = await setup(conn)
        for _ in range(5):
            await step(prepared)  # warm caches (param decoders, plan cache, B-tree nodes)
        loop.call_soon_threadsafe(ready.set)
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(go.wait(), loop))
        for _ in range(ROUNDS):
            await step(prepared)

    counted = {"fused": 0}
    real_fast_rows = fused.fast_rows

    def counting(*args: Any) -> Any:
        rows = real_fast_rows(*args)
        if rows is not None:
            counted["fused"] += 1
        return rows

    fused.fast_rows = session_fastpath.fast_rows = counting  # type: ignore[assignment]
    try:
        thread = asyncio.ensure_future(asyncio.to_thread(_client, port, body))
        await asyncio.wait_for(ready.wait(), 60)
        counted["fused"] = 0
        profile = cProfile.Profile()
        profile.enable()
        go.set()
        await asyncio.wait_for(thread, 60)
        profile.disable()
    finally:
        fused.fast_rows = session_fastpath.fast_rows = real_fast_rows  # type: ignore[assignment]
    stats = pstats.Stats(profile)
    total = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
    del state
    return total / ROUNDS, counted["fused"]


@pytest.fixture
async def port() -> Any:
    with tempfile.TemporaryDirectory(prefix="pgaurora-hot-") as tmp:
        instance = Instance(InstanceOptions(data_dir=Path(tmp), port=0, fsync=False))
        try:
            yield await instance.start()
        finally:
            await instance.stop()


async def test_select1_prepared(port: int) -> None:
    async def setup(conn: asyncpg.Connection) -> Any:
        return await conn.prepare("SELECT 1")

    async def step(stmt: Any) -> None:
        assert await stmt.fetchval() == 1

    calls, fused_replies = await _calls_per_round(port, setup, step)
    assert fused_replies == ROUNDS
    assert calls < 150, calls


async def test_select1_simple(port: int) -> None:
    async def setup(conn: asyncpg.Connection) -> Any:
        return conn

    async def step(conn: Any) -> None:
        assert await conn.execute("SELECT 1") == "SELECT 1"

    calls, fused_replies = await _calls_per_round(port, setup, step)
    assert fused_replies == ROUNDS
    assert calls < 150, calls


async def test_point_select(port: int) -> None:
    async def setup(conn: asyncpg.Connection) -> Any:
        await conn.execute("CREATE TABLE hot (id int PRIMARY KEY, balance int, note text)")
        await conn.executemany("INSERT INTO hot VALUES ($1, $2, $3)", [(i, i * 10, f"n{i}") for i in range(1, 2001)])
        return conn, await conn.prepare("SELECT balance FROM hot WHERE id = $1")

    async def step(prepared: Any) -> None:
        conn, stmt = prepared
        assert await stmt.fetchval(77) == 770
        assert await conn.execute("SELECT balance FROM hot WHERE id = 1234") == "SELECT 1"

    calls, fused_replies = await _calls_per_round(port, setup, step)
    assert fused_replies == 2 * ROUNDS
    assert calls < 2 * 250, calls


async def test_point_select_of_a_row_with_a_long_hot_chain(port: int) -> None:
    """A row updated 150 times while an older snapshot keeps its versions from being pruned:
    the fused read still follows the HOT chain's links to its end (they point forward only), but
    checks visibility newest first and stops at the version it sees: about 750 calls per read,
    where checking them oldest first took about 2550."""
    steps = {"left": 5 + ROUNDS}  # _calls_per_round: 5 warm-up steps, then ROUNDS

    async def setup(conn: asyncpg.Connection) -> Any:
        await conn.execute("CREATE TABLE hot (id int PRIMARY KEY, balance int, note text)")
        await conn.executemany("INSERT INTO hot VALUES ($1, $2, $3)", [(i, i * 10, f"n{i}") for i in range(1, 11)])
        old = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        await old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert await old.fetchval("SELECT balance FROM hot WHERE id = 7") == 70  # its snapshot: the horizon
        update = await conn.prepare("UPDATE hot SET balance = balance + 1 WHERE id = 7")
        for _ in range(150):
            await update.fetch()
        return old, await conn.prepare("SELECT balance FROM hot WHERE id = $1")

    async def step(prepared: Any) -> None:
        old, stmt = prepared
        assert await stmt.fetchval(7) == 220
        steps["left"] -= 1
        if not steps["left"]:  # the last one: the old snapshot still sees its version
            assert await old.fetchval("SELECT balance FROM hot WHERE id = 7") == 70
            await old.close()

    calls, fused_replies = await _calls_per_round(port, setup, step)
    assert fused_replies == ROUNDS
    assert calls < 1500, calls
