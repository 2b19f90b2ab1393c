"""The server's CPU per statement, without sockets or other processes: what the code costs.

An in-process instance (its six storage nodes in the same process, fsync off) and one asyncpg
connection create a table and two SQL-prepared statements; then the benchmark feeds that
connection's ClientConnection whole round trips (Bind, Execute, Sync, as pgbench -M prepared
sends them) straight into `data_received`, the replies going to a sink instead of a socket, and
reports the process's CPU time per round trip: the minimum over several repetitions, which a
noisy host disturbs less than throughput through sockets does (still by 10-20% run to run).
Set beside the writer's CPU per query under pgbench (/proc accounting), it splits a query's
cost between pgaurora's own code and the event loop, transport and kernel around it.

    point_select   SELECT by primary key: the fused reply (server.fused), no transaction
    update         UPDATE by primary key in autocommit: bind, execute, commit, the VDL wait
                   (the CPU includes the in-process storage nodes' share of the commit)
    tpcb           pgbench's TPC-B-like transaction as pgbench -M prepared sends it: seven
                   round trips (BEGIN, three UPDATEs, a SELECT, an INSERT, END), each Bind,
                   Describe, Execute, Sync, over pgbench-shaped tables (per transaction)

    .venv/bin/python -m benchmarks.server_cpu [--count N] [--repeat K] [--rows R]

--rows sets the table's size (10,000 by default): with a million rows (pgbench's scale 10) the
CPU's caches no longer hold the B-tree and heap pages a lookup touches, and a point SELECT
costs more (session 14: 21 us against 15, with the nodes' integer key arrays).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from pgaurora.server.instance import Instance, InstanceOptions
from pgaurora.wire import frontend
from pgaurora.wire import messages as m

ROWS = 10_000  # the default of --rows
READY = b"Z\x00\x00\x00\x05"


class Sink:
    """Stands in for the connection's transport: counts replies, wakes the waiter at ReadyForQuery."""

    def __init__(self) -> None:
        self.ready = 0
        self.waiter: asyncio.Future[None] | None = None

    def write(self, data: bytes) -> None:
        if READY in data[-6:]:
            self.ready += 1
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(None)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


# pgbench's TPC-B-like script (pgbench -b tpcb-like), prepared as P_0..P_6 like pgbench -M prepared
TPCB = ("BEGIN;",
        "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
        "SELECT abalance FROM pgbench_accounts WHERE aid = $1;",
        "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;",
        "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;",
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);",
        "END;")


def round_trip(statement: str, *values: int, describe: bool = False) -> bytes:
    """Bind (text parameters), [Describe portal,] Execute, Sync: one statement's round trip."""
    messages: list[m.FrontendMessage] = [
        m.Bind("", statement, (0,) if values else (), tuple(str(v).encode() for v in values), (0,))]
    if describe:
        messages.append(m.Describe("P", ""))
    messages += [m.Execute("", 0), m.SYNC]
    return b"".join(frontend.encode(msg) for msg in messages)


def tpcb_trips(rng: random.Random, rows: int) -> list[bytes]:
    """One TPC-B-like transaction's seven round trips (pgbench's random choices, scaled to `rows`)."""
    aid, tid, bid = rng.randint(1, rows), rng.randint(1, tellers(rows)), rng.randint(1, branches(rows))
    delta = rng.randint(-5000, 5000)
    params: tuple[tuple[int, ...], ...] = ((), (delta, aid), (aid,), (delta, tid), (delta, bid), (tid, bid, aid, delta), ())
    return [round_trip(f"P_{i}", *values, describe=True) for i, values in enumerate(params)]


def tellers(rows: int) -> int:
    return max(10, rows // 10_000)  # pgbench: 10 tellers and 100,000 accounts per branch


def branches(rows: int) -> int:
    return max(1, rows // 100_000)


async def feed(conn: Any, sink: Sink, trips: list[bytes]) -> None:
    """Feeds each round trip and waits for its ReadyForQuery before the next (as a client does)."""
    loop = asyncio.get_running_loop()
    for data in trips:
        before = sink.ready
        conn.data_received(data)
        if sink.ready == before:  # not answered in data_received: a task will (a commit's wait)
            sink.waiter = loop.create_future()
            await sink.waiter


async def measure(conn: Any, sink: Sink, units: list[list[bytes]]) -> float:
    """CPU seconds per unit (a round trip, or a transaction's round trips) over `units`."""
    start = time.process_time()
    for trips in units:
        await feed(conn, sink, trips)
    return (time.process_time() - start) / len(units)


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="pgaurora-cpu-") as tmp:
        instance = Instance(InstanceOptions(data_dir=Path(tmp), port=0, fsync=False))
        port = await instance.start()
        try:
            client = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
            await client.execute("CREATE TABLE acct (aid int PRIMARY KEY, bid int, abalance int, filler char(84))")
            await client.execute(f"INSERT INTO acct SELECT g, 1, 0, '' FROM generate_series(1, {args.rows}) g")
            await client.execute("VACUUM acct")
            await client.execute("PREPARE sel(int) AS SELECT abalance FROM acct WHERE aid = $1")
            await client.execute("PREPARE upd(int) AS UPDATE acct SET abalance = abalance + 1 WHERE aid = $1")
            await create_pgbench_tables(client, args.rows)
            assert instance.server is not None and len(instance.server.connections) == 1
            conn = next(iter(instance.server.connections))
            transport, sink = conn.transport, Sink()
            conn.transport = sink  # type: ignore[assignment]
            try:
                for i, sql in enumerate(TPCB):  # pgbench -M prepared: Parse + Sync, untyped parameters
                    await feed(conn, sink, [frontend.encode(m.Parse(f"P_{i}", sql)) + frontend.encode(m.SYNC)])

                def units(name: str, count: int) -> list[list[bytes]]:
                    if name == "tpcb":
                        return [tpcb_trips(rng, args.rows) for _ in range(count)]
                    statement = "sel" if name == "point_select" else "upd"
                    return [[round_trip(statement, rng.randint(1, args.rows))] for _ in range(count)]

                results = {}
                for name, count in (("point_select", args.count), ("update", args.count // 10),
                                    ("tpcb", args.count // 40)):
                    await measure(conn, sink, units(name, count // 5))  # warm
                    results[name] = min([await measure(conn, sink, units(name, count)) for _ in range(args.repeat)])
            finally:
                conn.transport = transport
            # every TPC-B-like transaction ran (none answered with an error): pgbench's invariant
            history, deltas, balances = await client.fetchrow(
                "SELECT count(*), sum(delta), (SELECT sum(abalance) FROM pgbench_accounts) FROM pgbench_history")
            tpcb = args.count // 40
            assert history == tpcb // 5 + tpcb * args.repeat and deltas == balances, (history, deltas, balances)
            await client.close()
        finally:
            await instance.stop()
    print(f"server CPU per round trip ({args.rows:,} rows, min of {args.repeat}): "
          + ", ".join(f"{name} {sec * 1e6:.1f} us" for name, sec in results.items() if name != "tpcb")
          + f"; per TPC-B-like transaction: {results['tpcb'] * 1e6:.1f} us")


async def create_pgbench_tables(client: Any, rows: int) -> None:
    """pgbench -i's tables (its column types and fill), `rows` accounts, tellers and branches to scale."""
    await client.execute(
        "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));"
        "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84));"
        "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));"
        "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))")
    await client.execute(f"INSERT INTO pgbench_branches SELECT g, 0, '' FROM generate_series(1, {branches(rows)}) g")
    await client.execute(f"INSERT INTO pgbench_tellers SELECT g, 1, 0, '' FROM generate_series(1, {tellers(rows)}) g")
    await client.execute(f"INSERT INTO pgbench_accounts SELECT g, 1, 0, '' FROM generate_series(1, {rows}) g")
    for table in ("pgbench_branches", "pgbench_tellers", "pgbench_accounts"):
        await client.execute(f"VACUUM {table}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20000, help="point selects per repetition (UPDATEs: a tenth)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=ROWS, help="rows in the table")
    asyncio.run(main(parser.parse_args()))
