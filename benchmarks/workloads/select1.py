"""SELECT 1 round trips through asyncpg with 4 connections: the protocol path alone.

With the simple protocol asyncpg's `execute()` sends one Query; prepared, it sends
Bind/Execute/Sync for a statement parsed once. The client is the bottleneck on 2 cores, so the
ratio shows how much of the client's budget the server's protocol path takes.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from benchmarks.harness import RunResult, Server

CONNECTIONS = 4


class Select1:
    def __init__(self, prepared: bool) -> None:
        self.prepared = prepared
        self.DESCRIPTION = f"SELECT 1, asyncpg, {CONNECTIONS} connections, " + (
            "prepared statement" if prepared else "simple protocol")

    async def setup(self, server: Server) -> None:
        conn = await asyncpg.connect(server.url)
        await conn.close()

    async def run(self, server: Server, duration: float) -> RunResult:
        conns = [await asyncpg.connect(server.url) for _ in range(CONNECTIONS)]
        latencies: list[float] = []
        count = 0
        deadline = time.perf_counter() + duration

        async def worker(conn: asyncpg.Connection) -> None:
            nonlocal count
            if self.prepared:
                stmt = await conn.prepare("SELECT 1")
                call = stmt.fetchval
            else:
                async def call() -> object:
                    return await conn.execute("SELECT 1")
            while True:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    return
                await call()
                latencies.append((time.perf_counter() - t0) * 1000)
                count += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        elapsed = time.perf_counter() - start
        for c in conns:
            await c.close()
        return RunResult(ops_per_sec=count / elapsed, latencies_ms=latencies[::10])
