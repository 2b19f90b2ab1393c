"""Cluster benchmark: failover time, replica lag, read scaling over readers, recovery vs log size.

Runs real `pgaurora serve` clusters on loopback (six storage-node processes, a writer, readers)
and measures, each in its own cluster:

  failover      kill -9 of the writer -> the first successful INSERT through the writer endpoint
                (a client keeps writing and reconnecting), with 1 reader (promotion) and with
                none (a fresh writer on the volume); median of --failovers runs each; then the
                first and second run of a whole-table query (20k rows, read on the reader before
                the kill) on the new writer: a promoted reader's warm page cache shows here
  lag           --writers connections paced by one shared schedule to --rate single-row INSERT
                commits per second on the writer (the achieved rate is reported, and whether it
                reached the target); the time from each sampled commit's acknowledgement until
                the reader answers a primary-key SELECT with the row (p50/p99), the reader's
                replica_lag_in_msec (aurora_replica_status) and the writer's and reader's CPU
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
import io
import json
import os
import pstats
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgaurora.cluster.control import ControlError, call  # noqa: E402

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results" / "cluster.json"
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(coro: Coroutine[Any, Any, T]) -> T:
    """The client's event loop: uvloop when installed (the clients cost less CPU on a shared host)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)] if ordered else float("nan")


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within a minute."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
        _terminate(self.proc)
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


WARM_ROWS = 20000
WARM_QUERY = "SELECT count(*), sum(length(v)) FROM bench_warm"


async def timed_query(url: str, sql: str) -> float:
    """Milliseconds of one query on a new connection (the connection itself not counted)."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        started = time.perf_counter()
        await conn.fetch(sql)
        return (time.perf_counter() - started) * 1000.0
    finally:
        await conn.close()


async def failover_runs(c: Cluster, runs: int) -> list[dict[str, float]]:
    """kill -9 of the writer; time to the first committed INSERT, then the first and the second
    run of a whole-table query on the new writer (the reader it was read on before the kill)."""
    conn = await asyncpg.connect(c.url())
    await conn.execute("CREATE TABLE IF NOT EXISTS bench_failover (id int PRIMARY KEY)")
    await conn.execute("CREATE TABLE IF NOT EXISTS bench_warm (id int PRIMARY KEY, v text)")
    await conn.execute(f"INSERT INTO bench_warm SELECT g, repeat('x', 100) FROM generate_series(1, {WARM_ROWS}) g "
                       "ON CONFLICT DO NOTHING")
    expected = await conn.fetch(WARM_QUERY)
    await conn.close()
    out = []
    for i in range(runs):
        for rec in c.verb("describe-db-instances")["DBInstances"]:
            if rec["Role"] == "reader":  # the reader's cache holds the table (its read point has it)
                url = c.url(rec["Endpoint"]["Port"])
                for _ in range(200):
                    reader = await asyncpg.connect(url)
                    try:
                        if await reader.fetch(WARM_QUERY) == expected:
                            break
                    finally:
                        await reader.close()
                    await asyncio.sleep(0.05)  # bounded poll of the reader process
        pid = c.writer()["Pid"]
        conn = await asyncpg.connect(c.url())
        await conn.execute("INSERT INTO bench_failover VALUES ($1)", 1_000_000 + i)   # warm and acknowledged
        os.kill(pid, signal.SIGKILL)
        started = time.perf_counter()
        with contextlib.suppress(Exception):
            await conn.close(timeout=1)
        seconds = await first_write_after(c, started, i)
        first_ms = await timed_query(c.url(), WARM_QUERY)
        second_ms = await timed_query(c.url(), WARM_QUERY)
        out.append({"failover_s": seconds, "first_query_ms": first_ms, "second_query_ms": second_ms})
        for _ in range(100):   # wait until the old writer's instance is back (as a reader) before the next run
            if all(x["DBInstanceStatus"] == "available" for x in c.verb("describe-db-instances")["DBInstances"]):
                break
            await asyncio.sleep(0.1)
    return out


def bench_failover(runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for replicas, label in ((1, "promote_reader"), (0, "fresh_writer")):
        with cluster(replicas) as c:
            points = run(failover_runs(c, runs))
        times = [p["failover_s"] for p in points]
        first = [p["first_query_ms"] for p in points]
        second = [p["second_query_ms"] for p in points]
        out[label] = {"runs_s": [round(t, 3) for t in times], "median_s": round(statistics.median(times), 3),
                      "first_query_ms": [round(t, 1) for t in first],
                      "first_query_ms_median": round(statistics.median(first), 1),
                      "second_query_ms_median": round(statistics.median(second), 1)}
        print(f"failover ({label}): median {statistics.median(times):.3f} s over {runs} runs {out[label]['runs_s']}; "
              f"then {WARM_QUERY!r} over {WARM_ROWS} rows on the new writer: first {statistics.median(first):.1f} ms, "
              f"second {statistics.median(second):.1f} ms (medians)")
    return out


class RateLimiter:
    """One schedule shared by every writer: a slot every 1/rate s; a late writer fires at once."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = time.perf_counter()
        self.late = 0  # slots handed out after their time had passed (the server could not keep up)

    async def slot(self) -> None:
        now = time.perf_counter()
        at = self.next_at
        self.next_at = max(at, now - 0.05) + self.interval  # at most 50 ms of catching up in a burst
        if at > now:
            await asyncio.sleep(at - now)  # pacing to the target rate
        elif now - at > self.interval:
            self.late += 1


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProfiledReader:
    """One more reader of the cluster's writer, outside the supervisor, running under cProfile."""

    def __init__(self, c: Cluster, tmp: str) -> None:
        meta = json.loads(Path(c.data, "cluster.json").read_text())
        nodes = ",".join(f"{p['host']}:{p['port']}@{p['az']}" for p in meta["processes"] if p["role"] == "storage-node")
        writer = c.writer()
        self.stats = os.path.join(tmp, "reader.prof")
        self.log = open(os.path.join(tmp, "profiled-reader.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cProfile", "-o", self.stats, "-m", "pgaurora", "instance", "--role", "reader",
             "--data", os.path.join(tmp, "profiled-reader"), "--port", "0", "--storage-nodes", nodes,
             "--server-id", "profiled-reader", "--writer", f"127.0.0.1:{writer['ReplicationPort']}"],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        self.port = 0
        while time.monotonic() < deadline and not self.port:
            line = self.proc.stdout.readline().decode()
            if not line:
                raise RuntimeError("the profiled reader exited before READY")
            if line.startswith("READY port="):
                self.port = int(line.split("=", 1)[1])

    def stop(self, top: int = 25) -> str:
        _terminate(self.proc)
        self.log.close()
        if not os.path.exists(self.stats):
            return "(no profile written)"
        out = io.StringIO()
        pstats.Stats(self.stats, stream=out).sort_stats("tottime").print_stats(top)
        return out.getvalue()


async def lag_run(c: Cluster, rate: int, seconds: float, clients: int, probes: int = 2,
                  profiled: ProfiledReader | None = None) -> dict[str, Any]:
    """Paced single-row INSERT commits on the writer; how long until a reader sees each one.

    Visibility lag: a probe connection to the reader takes the newest acknowledged key and asks
    for it by primary key until it is there (time from the writer's commit acknowledgement to
    the answer that has the row; resolution = one probe round trip). Also sampled: the reader's
    own replica_lag_in_msec (aurora_replica_status: writer's VDL reached -> reader applied), and
    the writer's and the reader's CPU use under the load.
    """
    setup = await asyncpg.connect(c.url())
    await setup.execute("CREATE TABLE bench_lag (id bigint PRIMARY KEY, v text)")
    await setup.execute("INSERT INTO bench_lag VALUES (0, 'x')")
    await setup.close()
    instances = c.verb("describe-db-instances")["DBInstances"]
    reader = next(i for i in instances if i["Role"] == "reader")
    if profiled is not None:
        reader = {"DBInstanceIdentifier": "profiled-reader", "Pid": profiled.proc.pid,
                  "Endpoint": {"Port": profiled.port}}
    writer_pid = next(i for i in instances if i["IsClusterWriter"])["Pid"]
    reader_url = c.url(reader["Endpoint"]["Port"])
    probe_conns = [await asyncpg.connect(reader_url) for _ in range(probes)]
    for _ in range(500):  # the reader has the table (its catalog follows the stream)
        with contextlib.suppress(asyncpg.UndefinedTableError):
            if await probe_conns[0].fetchval("SELECT count(*) FROM bench_lag") == 1:
                break
        await asyncio.sleep(0.02)  # bounded poll of the reader process
    status_conn = await asyncpg.connect(reader_url)
    writer_conns = [await asyncpg.connect(c.url()) for _ in range(clients)]
    limiter = RateLimiter(rate)
    acked: list[tuple[int, float]] = []  # (key, acknowledged at), in acknowledgement order
    commit_ms: list[float] = []
    visible_ms: list[float] = []
    poll_ms: list[float] = []
    status_lag: list[float] = []
    done = asyncio.Event()
    next_key = 1

    async def write(conn: asyncpg.Connection) -> None:
        nonlocal next_key
        stmt = await conn.prepare("INSERT INTO bench_lag VALUES ($1, 'x')")
        while not done.is_set():
            await limiter.slot()
            key, next_key = next_key, next_key + 1
            sent = time.perf_counter()
            await stmt.fetch(key)
            now = time.perf_counter()
            acked.append((key, now))
            commit_ms.append((now - sent) * 1000.0)

    async def probe(conn: asyncpg.Connection, offset: int) -> None:
        stmt = await conn.prepare("SELECT 1 FROM bench_lag WHERE id = $1")
        seen = 0
        while not done.is_set():
            if len(acked) <= seen + offset:
                await asyncio.sleep(0.001)  # nothing new acknowledged yet
                continue
            key, at = acked[-1 - offset]
            seen = len(acked)
            deadline = at + 10.0
            while True:
                sent = time.perf_counter()
                found = await stmt.fetchval(key)
                now = time.perf_counter()
                poll_ms.append((now - sent) * 1000.0)
                if found is not None:
                    visible_ms.append((now - at) * 1000.0)
                    break
                if now > deadline:
                    raise RuntimeError(f"key {key} not visible on the reader 10 s after its commit")

    async def sample_status() -> None:
        stmt = await status_conn.prepare("SELECT replica_lag_in_msec FROM aurora_replica_status() "
                                         "WHERE server_id = $1")
        while not done.is_set():
            value = await stmt.fetchval(reader["DBInstanceIdentifier"])
            if value is not None:
                status_lag.append(float(value))
            await asyncio.sleep(0.05)  # sampling period

    meta = json.loads(Path(c.data, "cluster.json").read_text())
    storage_pids = [p["pid"] for p in meta["processes"] if p["role"] == "storage-node" and p["pid"]]
    cpu_before = {pid: cpu_seconds(pid) for pid in (writer_pid, reader["Pid"], *storage_pids)}
    started = time.perf_counter()
    tasks = ([asyncio.create_task(write(conn)) for conn in writer_conns]
             + [asyncio.create_task(probe(conn, i)) for i, conn in enumerate(probe_conns)]
             + [asyncio.create_task(sample_status())])
    await asyncio.sleep(seconds)  # the measurement window
    done.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    cpu = {pid: (cpu_seconds(pid) - before) / elapsed for pid, before in cpu_before.items()}
    summary = await status_conn.fetchrow("SELECT samples, p50_ms, p99_ms, max_ms FROM pgaurora_replica_lag()")
    for conn in [*writer_conns, *probe_conns, status_conn]:
        await conn.close()
    achieved = len(acked) / elapsed

    def ms(value: float | None) -> float | None:
        return None if value is None or value != value else round(value, 2)

    return {"target_writes_per_s": rate, "writers": clients, "achieved_writes_per_s": round(achieved, 1),
            "reached_target": achieved >= 0.95 * rate, "late_slots": limiter.late,
            "commit_ms_p50": ms(percentile(commit_ms, 0.5)), "commit_ms_p99": ms(percentile(commit_ms, 0.99)),
            "visible_samples": len(visible_ms), "visible_ms_p50": ms(percentile(visible_ms, 0.5)),
            "visible_ms_p99": ms(percentile(visible_ms, 0.99)), "visible_ms_max": ms(max(visible_ms, default=None)),
            "probe_round_trip_ms_p50": ms(percentile(poll_ms, 0.5)),
            "status_samples": len(status_lag), "status_lag_ms_p50": ms(percentile(status_lag, 0.5)),
            "status_lag_ms_p99": ms(percentile(status_lag, 0.99)),
            "reader_lag_ms_p50": ms(summary["p50_ms"]), "reader_lag_ms_p99": ms(summary["p99_ms"]),
            "reader_lag_samples": summary["samples"],
            "writer_cpu": round(cpu[writer_pid], 2), "reader_cpu": round(cpu[reader["Pid"]], 2),
            "storage_nodes_cpu": round(sum(cpu[pid] for pid in storage_pids), 2),
            "load_average": round(os.getloadavg()[0], 1)}


def bench_lag(rate: int, seconds: float, clients: int, profile_reader: bool = False) -> dict[str, Any]:
    with cluster(1) as c:
        if not profile_reader:
            result = run(lag_run(c, rate, seconds, clients))
        else:  # the probes read from a reader running under cProfile; its top functions are printed
            with tempfile.TemporaryDirectory(prefix="pgaurora-reader-profile-") as tmp:
                profiled = ProfiledReader(c, tmp)
                try:
                    result = run(lag_run(c, rate, seconds, clients, profiled=profiled))
                finally:
                    print(profiled.stop())
    r = result
    print(f"replica lag, {r['writers']} writers paced to {r['target_writes_per_s']} commits/s: achieved "
          f"{r['achieved_writes_per_s']} commits/s{'' if r['reached_target'] else ' (BELOW TARGET)'}, commit "
          f"p50 {r['commit_ms_p50']} ms p99 {r['commit_ms_p99']} ms")
    print(f"  commit ack -> row visible on the reader: p50 {r['visible_ms_p50']} ms, p99 {r['visible_ms_p99']} ms "
          f"({r['visible_samples']} samples, probe round trip {r['probe_round_trip_ms_p50']} ms)")
    print(f"  aurora_replica_status lag: p50 {r['status_lag_ms_p50']} ms, p99 {r['status_lag_ms_p99']} ms; "
          f"reader's own (VDL -> applied) p50 {r['reader_lag_ms_p50']} ms p99 {r['reader_lag_ms_p99']} ms; "
          f"CPU: writer {r['writer_cpu']:.0%}, reader {r['reader_cpu']:.0%}, 6 storage nodes "
          f"{r['storage_nodes_cpu']:.0%} (load average {r['load_average']})")
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
        run(setup())
        readers = [i["DBInstanceIdentifier"] for i in c.verb("describe-db-instances")["DBInstances"]
                   if i["Role"] == "reader"]
        for n in (1, 2, 3):
            endpoint = c.verb("create-db-cluster-endpoint", name=f"readers{n}", type="READER", members=readers[:n])
            rate = run(reads_run(c, endpoint["Port"], seconds, clients))
            out[f"readers_{n}_selects_per_s"] = round(rate, 1)
            print(f"reads through an endpoint over {n} reader(s): {rate:.0f} point SELECTs/s ({clients} clients)")
        rate = run(reads_run(c, c.writer()["Endpoint"]["Port"], seconds, clients))
        out["writer_direct_selects_per_s"] = round(rate, 1)
        rate = run(reads_run(c, c.port, seconds, clients))
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
        run(setup())
        written = 0
        for factor in (1, 10, 100):
            run(grow_log(c, base_rows * factor - written))
            written = base_rows * factor
            lsn_before = c.writer()["ReadLsn"]
            started = time.perf_counter()
            event = c.verb("failover-db-cluster")["Failover"]
            seconds = run(first_write_after(c, started, factor, 60))
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
    ap.add_argument("--profile-reader", action="store_true",
                    help="lag: probe a reader run under cProfile and print where its time goes")
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
        results["replica_lag"] = bench_lag(args.rate, args.seconds, args.writers, args.profile_reader)
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
