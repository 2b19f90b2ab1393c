"""SQL engine and transaction workloads through asyncpg: point selects, range scans, joins,
aggregates, single-row writes.

Each workload creates its own tables in setup (same data on both servers) and measures
operations per second with `CONNECTIONS` concurrent asyncpg connections; latencies are sampled.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import asyncpg

from benchmarks.harness import RunResult, Server

ROWS = 100_000


async def _load_accounts(conn: asyncpg.Connection, table: str, rows: int) -> None:
    await conn.execute(f"DROP TABLE IF EXISTS {table}")
    await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, grp int NOT NULL, balance int NOT NULL, "
                       "note text)")
    batch = 5000
    for start in range(1, rows + 1, batch):
        records = [(i, i % 100, i % 1000, f"note {i}") for i in range(start, min(rows, start + batch - 1) + 1)]
        await conn.executemany(f"INSERT INTO {table} VALUES ($1, $2, $3, $4)", records)


class SqlWorkload:
    """A query shape run in a loop by each connection until the deadline."""

    def __init__(self, name: str, description: str, connections: int,
                 make_call: Callable[[asyncpg.Connection, random.Random], Awaitable[Callable[[], Awaitable[object]]]],
                 tables: tuple[str, ...] = ("bench_a",), setup_sql: tuple[str, ...] = (), user: str = "postgres") -> None:
        self.name, self.DESCRIPTION, self.connections = name, description, connections
        self.make_call, self.tables, self.setup_sql = make_call, tables, setup_sql
        self.user = user  # the role the measured connections log in as

    async def setup(self, server: Server) -> None:
        conn = await asyncpg.connect(server.url)
        try:
            for table in self.tables:
                await _load_accounts(conn, table, ROWS)
            for sql in self.setup_sql:  # once, from one connection: concurrent DDL races on both servers
                await conn.execute(sql)
        finally:
            await conn.close()

    async def run(self, server: Server, duration: float) -> RunResult:
        url = server.url.replace("postgres@", f"{self.user}@", 1)
        conns = [await asyncpg.connect(url) for _ in range(self.connections)]
        latencies: list[float] = []
        count = 0
        deadline = time.perf_counter() + duration

        async def worker(i: int, conn: asyncpg.Connection) -> None:
            nonlocal count
            call = await self.make_call(conn, random.Random(i))
            while True:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    return
                await call()
                latencies.append((time.perf_counter() - t0) * 1000)
                count += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(i, c) for i, c in enumerate(conns)))
        elapsed = time.perf_counter() - start
        for c in conns:
            await c.close()
        return RunResult(ops_per_sec=count / elapsed, latencies_ms=latencies)


async def point_select_prepared(conn: asyncpg.Connection, rng: random.Random) -> Callable[[], Awaitable[object]]:
    stmt = await conn.prepare("SELECT balance FROM bench_a WHERE id = $1")
    return lambda: stmt.fetchval(rng.randint(1, ROWS))


async def point_select_simple(conn: asyncpg.Connection, rng: random.Random) -> Callable[[], Awaitable[object]]:
    return lambda: conn.execute(f"SELECT balance FROM bench_a WHERE id = {rng.randint(1, ROWS)}")


async def range_scan(conn: asyncpg.Connection, rng: random.Random) -> Callable[[], Awaitable[object]]:
    stmt = await conn.prepare("SELECT id, balance FROM bench_a WHERE id BETWEEN $1 AND $1 + 99")
    return lambda: stmt.fetch(rng.randint(1, ROWS - 100))


async def join_100k(conn: asyncpg.Connection, rng: random.Random) -> Callable[[], Awaitable[object]]:
    stmt = await conn.prepare("SELECT count(*) FROM bench_a a JOIN bench_b b ON a.id = b.id WHERE a.grp = b.grp")
    return stmt.fetchval


async def aggregate_100k(conn: asyncpg.Connection, rng: random.Random) -> Callable[[], Awaitable[object]]:
    stmt = await conn.prepare("SELECT grp, count(*), sum(balance), avg(balance) FROM bench_a GROUP BY grp")
    return stmt.fetch


async def update_autocommit(conn: asyncpg.Connection, rng: random.Random) -> Callable[[], Awaitable[object]]:
    stmt = await conn.prepare("UPDATE bench_a SET balance = balance + 1 WHERE id = $1")
    return lambda: stmt.fetch(rng.randint(1, ROWS))


INSERT_TABLE = ("DROP TABLE IF EXISTS bench_ins", "CREATE TABLE bench_ins (id bigserial PRIMARY KEY, v int, t text)")


async def insert_autocommit(conn: asyncpg.Connection, rng: random.Random) -> Callable[[], Awaitable[object]]:
    stmt = await conn.prepare("INSERT INTO bench_ins (v, t) VALUES ($1, 'x')")
    return lambda: stmt.fetch(rng.randint(1, 1000))


async def tpcb_like(conn: asyncpg.Connection, rng: random.Random) -> Callable[[], Awaitable[object]]:
    upd = await conn.prepare("UPDATE bench_a SET balance = balance + $2 WHERE id = $1")
    sel = await conn.prepare("SELECT balance FROM bench_a WHERE id = $1")
    upd_b = await conn.prepare("UPDATE bench_b SET balance = balance + $2 WHERE id = $1")

    async def call() -> object:
        aid, bid, delta = rng.randint(1, ROWS), rng.randint(1, 100), rng.randint(-5000, 5000)
        async with conn.transaction():
            await upd.fetch(aid, delta)
            await sel.fetchval(aid)
            await upd_b.fetch(bid, delta)
        return None

    return call


# a login role that is no superuser: every statement checks its privileges (executor.privileges)
APP_ROLE = ("DROP ROLE IF EXISTS bench_app", "CREATE ROLE bench_app LOGIN",
            "GRANT SELECT, UPDATE ON bench_a TO bench_app")

WORKLOADS = {
    "point_select_prepared": SqlWorkload("point_select_prepared", "SELECT by primary key, prepared, 4 conns", 4,
                                         point_select_prepared),
    "point_select_simple": SqlWorkload("point_select_simple", "SELECT by primary key, simple protocol, 4 conns",
                                       4, point_select_simple),
    "range_scan": SqlWorkload("range_scan", "100-row primary-key range scan, prepared, 4 conns", 4, range_scan),
    "join_100k": SqlWorkload("join_100k", "join of two 100k-row tables with count(*), 1 conn", 1, join_100k,
                             ("bench_a", "bench_b")),
    "aggregate_100k": SqlWorkload("aggregate_100k", "GROUP BY over 100k rows, 1 conn", 1, aggregate_100k),
    "update_4": SqlWorkload("update_4", "single-row UPDATE, autocommit, 4 conns", 4, update_autocommit),
    "update_16": SqlWorkload("update_16", "single-row UPDATE, autocommit, 16 conns", 16, update_autocommit),
    "point_select_app_role": SqlWorkload("point_select_app_role", "point_select_prepared as a role with SELECT "
                                         "granted (no superuser)", 4, point_select_prepared, setup_sql=APP_ROLE,
                                         user="bench_app"),
    "update_4_app_role": SqlWorkload("update_4_app_role", "update_4 as a role with SELECT, UPDATE granted "
                                     "(no superuser)", 4, update_autocommit, setup_sql=APP_ROLE, user="bench_app"),
    "insert_4": SqlWorkload("insert_4", "single-row INSERT, autocommit, 4 conns", 4, insert_autocommit,
                            setup_sql=INSERT_TABLE),
    "insert_16": SqlWorkload("insert_16", "single-row INSERT, autocommit, 16 conns", 16, insert_autocommit,
                             setup_sql=INSERT_TABLE),
    "tpcb_4": SqlWorkload("tpcb_4", "TPC-B-like transaction, 4 conns", 4, tpcb_like, ("bench_a", "bench_b")),
    "tpcb_16": SqlWorkload("tpcb_16", "TPC-B-like transaction, 16 conns", 16, tpcb_like, ("bench_a", "bench_b")),
}
