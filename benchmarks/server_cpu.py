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


def round_trip(statement: str, value: int) -> bytes:
    return b"".join(frontend.encode(msg) for msg in (
        m.Bind("", statement, (0,), (str(value).encode(),), (0,)), m.Execute("", 0), m.SYNC))


async def measure(conn: Any, sink: Sink, statement: str, count: int, rng: random.Random, rows: int) -> float:
    """CPU seconds per round trip over `count` round trips of `statement`."""
    loop = asyncio.get_running_loop()
    trips = [round_trip(statement, rng.randint(1, rows)) for _ in range(count)]
    start = time.process_time()
    for data in trips:
        before = sink.ready
        conn.data_received(data)
        if sink.ready == before:  # not answered in data_received: a task will (a commit's wait)
            sink.waiter = loop.create_future()
            await sink.waiter
    return (time.process_time() - start) / count


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
            assert instance.server is not None and len(instance.server.connections) == 1
            conn = next(iter(instance.server.connections))
            transport, sink = conn.transport, Sink()
            conn.transport = sink  # type: ignore[assignment]
            try:
                results = {}
                for name, statement in (("point_select", "sel"), ("update", "upd")):
                    count = args.count if name == "point_select" else args.count // 10
                    await measure(conn, sink, statement, count // 5, rng, args.rows)  # warm
                    best = min([await measure(conn, sink, statement, count, rng, args.rows)
                                for _ in range(args.repeat)])
                    results[name] = best
            finally:
                conn.transport = transport
            await client.close()
        finally:
            await instance.stop()
    print(f"server CPU per round trip ({args.rows:,} rows, min of {args.repeat}): "
          + ", ".join(f"{name} {sec * 1e6:.1f} us" for name, sec in results.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20000, help="point selects per repetition (UPDATEs: a tenth)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=ROWS, help="rows in the table")
    asyncio.run(main(parser.parse_args()))
