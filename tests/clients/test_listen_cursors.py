"""LISTEN/NOTIFY delivered at commit to idle listeners, and psycopg's named (server-side)
cursors, which are DECLARE'd through the extended protocol and read with FETCH."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg

from tests.server.harness import InstanceProcess


async def test_notify_reaches_listeners_after_commit(instance: InstanceProcess) -> None:
    listener = await asyncpg.connect(instance.url)
    sender = await asyncpg.connect(instance.url)
    got: asyncio.Queue[tuple[int, str, str]] = asyncio.Queue()
    try:
        await listener.add_listener("jobs", lambda _c, pid, channel, payload: got.put_nowait((pid, channel, payload)))
        async with sender.transaction():
            await sender.execute("NOTIFY jobs, 'first'")
            assert got.empty()
        pid, channel, payload = await asyncio.wait_for(got.get(), 10)
        assert (pid, channel, payload) == (sender.get_server_pid(), "jobs", "first")
        await sender.execute("BEGIN; NOTIFY jobs, 'never'; ROLLBACK")
        await sender.execute("NOTIFY jobs, 'second'")
        assert (await asyncio.wait_for(got.get(), 10))[2] == "second"
    finally:
        await listener.close()
        await sender.close()


def test_psycopg_named_cursor(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn) as conn:
        with conn.cursor(name="big") as cur:
            cur.itersize = 7
            cur.execute("SELECT g, g * 2 FROM generate_series(1, 25) AS g WHERE g > %s", (0,))
            assert cur.fetchone() == (1, 2)
            assert cur.fetchmany(3) == [(2, 4), (3, 6), (4, 8)]
            rest = cur.fetchall()
            assert len(rest) == 21 and rest[-1] == (25, 50)
        conn.commit()
        with conn.cursor(name="held", withhold=True) as cur:
            cur.execute("SELECT 'x' AS v")
            conn.commit()
            assert cur.fetchall() == [("x",)]
