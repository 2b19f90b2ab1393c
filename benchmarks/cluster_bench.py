"""Cluster benchmark: failover time, replica lag, read scaling over readers, recovery vs log size.

Runs real `pgaurora serve` clusters on loopback (six storage-node processes, a writer, readers)
and measures, each in its own cluster:

  failover      kill -9 of the writer -> the first successful INSERT through the writer endpoint
                (a client keeps writing and reconnecting), with 1 reader (promotion) and with
                none (a fresh writer on the volume); median of --failovers runs each
  lag           replica_lag_in_msec on the reader (aurora_replica_status, sampled every 20 ms)
                while clients commit about --rate single-row INSERTs per second on the writer
  reads         point SELECTs per second through a custom endpoint over 1, 2 and 3 readers
  recovery      a fresh writer's start (volume recovery, no redo replay) after 1x, 10x, 100x log:
                time from `pgaurora failover` to the first successful write, and its READY time

Prints a summary and writes benchmarks/results/cluster.json.

    .venv/bin/python -m benchmarks.cluster_bench [--only failover,lag,reads,recovery] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgaurora.cluster.control import ControlError, call  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "cluster.json"
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)] if ordered else float("nan")


class Cluster:
    """A `pgaurora serve` in a temporary directory, stopped by pid."""

    def __init__(self, tmp: str, replicas: int) -> None:
        self.data = os.path.join(tmp, "data")
        self.port, self.reader_port = free_port(), free_port()
        self.log = open(os.path.join(tmp, "serve.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pgaurora", "serve", "--data", self.data, "--port", str(self.port),
             "--reader-port", str(self.reader_port), "--replicas", str(replicas)],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgaurora serve exited: {Path(tmp, 'serve.log').read_text()[-2000:]}")
            with contextlib.suppress(ControlError):
                if call(self.data, "describe-db-clusters", timeout=5)["DBClusters"][0]["Status"] == "available":
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not start")
            time.sleep(0.2)  # bounded poll of an external process

    def url(self, port: int | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/postgres"

    def verb(self, verb: str, **args: Any) -> Any:
        return call(self.data, verb, args)

    def writer(self) -> dict[str, Any]:
        return next(i for i in self.verb("describe-db-instances")["DBInstances"] if i["IsClusterWriter"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@contextlib.contextmanager
def cluster(replicas: int) -> Iterator[Cluster]:
    with tempfile.TemporaryDirectory(prefix="pgaurora-cluster-bench-") as tmp:
        c = Cluster(tmp, replicas)
        try:
            yield c
        finally:
            c.stop()


async def first_write_after(c: Cluster, started: float, key: int, deadline: float = 60.0) -> float:
    """Seconds from `started` to the first INSERT through the writer endpoint that commits."""
    while time.perf_counter() - started < deadline:
        try:
            conn = await asyncpg.connect(c.url(), timeout=2)
            try:
                await conn.execute("INSERT INTO bench_failover VALUES ($1) ON CONFLICT DO NOTHING", key)
                return time.perf_counter() - started
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            await asyncio.sleep(0.01)  # client reconnect back-off
    raise RuntimeError("no successful write after the failover")


async def failover_runs(c: Cluster, runs: int) -> list[float]:
    conn = await asyncpg.connect(c.url())
    await conn.execute("CREATE TABLE IF NOT EXISTS bench_failover (id int PRIMARY KEY)")
    await conn.close()
    times = []
    for i in range(runs):
        pid = c.writer()["Pid"]
        conn = await asyncpg.connect(c.url())
        await conn.execute("INSERT INTO bench_failover VALUES ($1)", 1_000_000 + i)   # warm and acknowledged
        os.kill(pid, signal.SIGKILL)
        started = time.perf_counter()
        with contextlib.suppress(Exception):
            await conn.close(timeout=1)
        times.append(await first_write_after(c, started, i))
        for _ in range(100):   # wait until the old writer's instance is back (as a reader) before the next run
            if all(x["DBInstanceStatus"] == "available" for x in c.verb("describe-db-instances")["DBInstances"]):
                break
            await asyncio.sleep(0.1)
    return times


def bench_failover(runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for replicas, label in ((1, "promote_reader"), (0, "fresh_writer")):
        with cluster(replicas) as c:
            times = asyncio.run(failover_runs(c, runs))
        out[label] = {"runs_s": [round(t, 3) for t in times], "median_s": round(statistics.median(times), 3)}
        print(f"failover ({label}): median {statistics.median(times):.3f} s over {runs} runs {out[label]['runs_s']}")
    return out


async def lag_run(c: Cluster, rate: int, seconds: float, clients: int) -> dict[str, Any]:
    setup = await asyncpg.connect(c.url())
    await setup.execute("CREATE TABLE bench_lag (id bigint PRIMARY KEY, v text)")
    await setup.close()
    reader = next(i for i in c.verb("describe-db-instances")["DBInstances"] if i["Role"] == "reader")
    probe = await asyncpg.connect(c.url(reader["Endpoint"]["Port"]))
    samples: list[float] = []
    done = asyncio.Event()
    committed = 0

    async def writer(n: int) -> None:
        nonlocal committed
        conn = await asyncpg.connect(c.url())
        interval = clients / rate
        next_at = time.perf_counter()
        key = n
        while not done.is_set():
            await conn.execute("INSERT INTO bench_lag VALUES ($1, 'x')", key)
            committed += 1
            key += clients
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing to the target rate
        await conn.close()

    async def sampler() -> None:
        while not done.is_set():
            rows = await probe.fetch("SELECT server_id, replica_lag_in_msec FROM aurora_replica_status()")
            for row in rows:
                if row["server_id"] == reader["DBInstanceIdentifier"] and row["replica_lag_in_msec"] is not None:
                    samples.append(float(row["replica_lag_in_msec"]))
            await asyncio.sleep(0.02)  # sampling period

    tasks = [asyncio.create_task(writer(n)) for n in range(clients)] + [asyncio.create_task(sampler())]
    started = time.perf_counter()
    await asyncio.sleep(seconds)  # the measurement window
    done.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    await probe.close()
    return {"target_writes_per_s": rate, "writers": clients, "achieved_writes_per_s": round(committed / elapsed, 1),
            "samples": len(samples), "lag_ms_p50": percentile(samples, 0.5), "lag_ms_p99": percentile(samples, 0.99),
            "lag_ms_max": max(samples) if samples else None}


def bench_lag(rate: int, seconds: float, clients: int) -> dict[str, Any]:
    with cluster(1) as c:
        result = asyncio.run(lag_run(c, rate, seconds, clients))
    print(f"replica lag at {result['achieved_writes_per_s']} writes/s: p50 {result['lag_ms_p50']} ms, "
          f"p99 {result['lag_ms_p99']} ms ({result['samples']} samples)")
    return result


async def reads_run(c: Cluster, port: int, seconds: float, clients: int) -> float:
    pool = [await asyncpg.connect(c.url(port)) for _ in range(clients)]
    done = asyncio.Event()
    count = 0

    async def loop(conn: asyncpg.Connection) -> None:
        nonlocal count
        stmt = await conn.prepare("SELECT v FROM bench_reads WHERE id = $1")
        i = 0
        while not done.is_set():
            await stmt.fetchval(i % 1000)
            count += 1
            i += 7

    tasks = [asyncio.create_task(loop(conn)) for conn in pool]
    await asyncio.sleep(seconds)  # the measurement window
    done.set()
    await asyncio.gather(*tasks)
    for conn in pool:
        await conn.close()
    return count / seconds


def bench_reads(seconds: float, clients: int) -> dict[str, Any]:
    out: dict[str, Any] = {"clients": clients}
    with cluster(3) as c:
        async def setup() -> None:
            conn = await asyncpg.connect(c.url())
            await conn.execute("CREATE TABLE bench_reads (id int PRIMARY KEY, v text)")
            await conn.execute("INSERT INTO bench_reads SELECT g, 'v' || g FROM generate_series(0, 999) g")
            await conn.close()
        asyncio.run(setup())
        readers = [i["DBInstanceIdentifier"] for i in c.verb("describe-db-instances")["DBInstances"]
                   if i["Role"] == "reader"]
        for n in (1, 2, 3):
            endpoint = c.verb("create-db-cluster-endpoint", name=f"readers{n}", type="READER", members=readers[:n])
            rate = asyncio.run(reads_run(c, endpoint["Port"], seconds, clients))
            out[f"readers_{n}_selects_per_s"] = round(rate, 1)
            print(f"reads through an endpoint over {n} reader(s): {rate:.0f} point SELECTs/s ({clients} clients)")
        rate = asyncio.run(reads_run(c, c.writer()["Endpoint"]["Port"], seconds, clients))
        out["writer_direct_selects_per_s"] = round(rate, 1)
        rate = asyncio.run(reads_run(c, c.port, seconds, clients))
        out["writer_endpoint_selects_per_s"] = round(rate, 1)
        print(f"the writer directly: {out['writer_direct_selects_per_s']:.0f}/s, through the writer endpoint "
              f"(proxy): {out['writer_endpoint_selects_per_s']:.0f}/s")
    return out


async def grow_log(c: Cluster, rows: int) -> None:
    conn = await asyncpg.connect(c.url())
    await conn.execute("CREATE TABLE IF NOT EXISTS bench_log (id int PRIMARY KEY, v text)")
    start = await conn.fetchval("SELECT coalesce(max(id), 0) FROM bench_log")
    chunk = 5000
    for lo in range(start + 1, start + rows + 1, chunk):
        hi = min(lo + chunk - 1, start + rows)
        await conn.execute(f"INSERT INTO bench_log SELECT g, repeat('x', 100) FROM generate_series({lo}, {hi}) g")
    await conn.close()


def bench_recovery(base_rows: int) -> dict[str, Any]:
    points = []
    with cluster(0) as c:
        async def setup() -> None:
            conn = await asyncpg.connect(c.url())
            await conn.execute("CREATE TABLE bench_failover (id int PRIMARY KEY)")
            await conn.close()
        asyncio.run(setup())
        written = 0
        for factor in (1, 10, 100):
            asyncio.run(grow_log(c, base_rows * factor - written))
            written = base_rows * factor
            lsn_before = c.writer()["ReadLsn"]
            started = time.perf_counter()
            event = c.verb("failover-db-cluster")["Failover"]
            seconds = asyncio.run(first_write_after(c, started, factor, 60))
            du = sum(f.stat().st_size for f in Path(c.data, "storage").rglob("*") if f.is_file())
            points.append({"log_factor": factor, "rows": written, "vdl_before": lsn_before,
                           "storage_bytes": du, "failover_s": event.get("seconds"),
                           "old_writer_stop_s": event.get("retire_old_s"),
                           "new_writer_start_s": event.get("new_writer_s"),
                           "first_write_s": round(seconds, 3)})
            print(f"recovery after {factor}x log ({written} rows, {du / 1e6:.1f} MB on storage): "
                  f"old writer stopped in {event.get('retire_old_s')} s, fresh writer (recovery) up in "
                  f"{event.get('new_writer_s')} s, first write after {seconds:.3f} s")
    return {"points": points}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cluster_bench", description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="failover,lag,reads,recovery")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--failovers", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=12, help="reading clients (reads)")
    ap.add_argument("--writers", type=int, default=32, help="writing clients, paced to --rate in total (lag)")
    ap.add_argument("--base-rows", type=int, default=2000, help="rows written for the 1x log")
    args = ap.parse_args(argv)
    chosen = set(args.only.split(","))
    results: dict[str, Any] = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "cpus": os.cpu_count()}
    if RESULTS.exists():
        with contextlib.suppress(ValueError):
            results = json.loads(RESULTS.read_text()) | results
    if "failover" in chosen:
        results["failover"] = bench_failover(args.failovers)
    if "lag" in chosen:
        results["replica_lag"] = bench_lag(args.rate, args.seconds, args.writers)
    if "reads" in chosen:
        results["read_scaling"] = bench_reads(args.seconds, args.clients)
    if "recovery" in chosen:
        results["recovery_vs_log"] = bench_recovery(args.base_rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
