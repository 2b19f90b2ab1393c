"""Storage volume benchmark: six storage-node processes on loopback, the log client in this one.

Measures, in the same run: the disk's own fsync latency (the floor under any durable commit),
commit latency p50/p99 through the log client (one round trip to six nodes + one fsync per
batch per segment), commit and record throughput under concurrency (group commit), and bytes
sent over the network per committed transaction. Prints a summary and writes
benchmarks/results/logstore.json.

    .venv/bin/python -m benchmarks.logstore_bench [--seconds 3] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgaurora.logstore import RedoOp, Volume, VolumeConfig, messages  # noqa: E402
from pgaurora.logstore import page as pagemod  # noqa: E402
from pgaurora.logstore.tcp import TcpTransport  # noqa: E402
from tests.logstore.procs import specs, start_nodes  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "logstore.json"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def fsync_latency(directory: Path, count: int = 200) -> dict[str, float]:
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    samples = []
    try:
        for _ in range(count):
            os.write(fd, b"x" * 512)
            start = time.perf_counter()
            os.fsync(fd)
            samples.append((time.perf_counter() - start) * 1e6)
    finally:
        os.close(fd)
        path.unlink()
    return {"p50_us": percentile(samples, 0.5), "p99_us": percentile(samples, 0.99), "samples": count}


async def commit_loop(volume: Volume, page: int, records_per_commit: int, deadline: float, latencies: list[float]) -> int:
    payload = b"x" * 100
    commits = 0
    while time.perf_counter() < deadline:
        records = [(page, RedoOp.SET, pagemod.encode_set(0, payload))] * records_per_commit
        start = time.perf_counter()
        lsn = volume.append_mtr(records)
        await volume.wait_durable(lsn)
        latencies.append((time.perf_counter() - start) * 1e6)
        commits += 1
    return commits


async def segment_fsyncs(volume: Volume, transport: TcpTransport) -> int:
    """Hot-log fsyncs of every segment of the volume so far (from the nodes' Status replies)."""
    total = 0
    for group, placement in enumerate(volume.metadata.groups):
        for member in placement.members:
            reply = await transport.call(member, messages.Status(volume.metadata.volume_id, group))
            if isinstance(reply, messages.StatusReply):
                total += reply.fsyncs
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    volume: Volume, transport: TcpTransport, concurrency: int, seconds: float, records: int, node_pids: list[int]
) -> dict:
    pages = [10 + i for i in range(concurrency)]
    for page in pages:
        lsn = volume.append_mtr([(page, RedoOp.INIT, pagemod.encode_init(1)), (page, RedoOp.APPEND, b"x" * 100)])
    await volume.wait_durable(lsn)
    latencies: list[float] = []
    fsyncs_before = await segment_fsyncs(volume, transport)
    bytes_before = transport.bytes_sent
    nodes_cpu = sum(cpu_seconds(pid) for pid in node_pids)
    writer_cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    counts = await asyncio.gather(*(commit_loop(volume, p, records, deadline, latencies) for p in pages))
    elapsed = time.perf_counter() - start
    writer_cpu = time.process_time() - writer_cpu
    nodes_cpu = sum(cpu_seconds(pid) for pid in node_pids) - nodes_cpu
    commits = sum(counts)
    fsyncs = await segment_fsyncs(volume, transport) - fsyncs_before
    return {
        "concurrency": concurrency,
        "records_per_commit": records,
        "commits": commits,
        "commits_per_s": commits / elapsed,
        "records_per_s": commits * records / elapsed,
        "commit_p50_us": percentile(latencies, 0.5),
        "commit_p99_us": percentile(latencies, 0.99),
        "commit_mean_us": statistics.fmean(latencies),
        "network_bytes_per_commit": (transport.bytes_sent - bytes_before) / max(commits, 1),
        "fsyncs_per_commit_per_segment": fsyncs / 6 / max(commits, 1),
        # CPU (user + system) per commit: the log client's process and all six storage nodes
        "writer_cpu_us_per_commit": writer_cpu * 1e6 / max(commits, 1),
        "nodes_cpu_us_per_commit": nodes_cpu * 1e6 / max(commits, 1),
    }


async def run(seconds: float, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="logstore-bench-") as tmp:
        root = Path(tmp)
        disk = fsync_latency(root)
        nodes = start_nodes(root)
        transport = TcpTransport()
        try:
            config = VolumeConfig(root / "volume.json", specs(nodes), pages_per_group=1280)
            volume = await Volume.open(config, transport)
            pids = [node.process.pid for node in nodes if node.process is not None]
            results = {
                "disk_fsync": disk,
                "single_client": await measure(volume, transport, 1, seconds, 1, pids),
                "concurrent": await measure(volume, transport, concurrency, seconds, 1, pids),
                "concurrent_4_records": await measure(volume, transport, concurrency, seconds, 4, pids),
            }
            await volume.close()
        finally:
            await transport.close()
            for node in nodes:
                node.stop()
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    results = asyncio.run(run(args.seconds, args.concurrency))
    disk = results["disk_fsync"]
    print(f"disk fsync                 p50 {disk['p50_us']:8.0f} us   p99 {disk['p99_us']:8.0f} us")
    for name in ("single_client", "concurrent", "concurrent_4_records"):
        r = results[name]
        print(
            f"{name:26} p50 {r['commit_p50_us']:8.0f} us   p99 {r['commit_p99_us']:8.0f} us   "
            f"{r['commits_per_s']:8.0f} commits/s {r['records_per_s']:8.0f} records/s   "
            f"{r['network_bytes_per_commit']:6.0f} B/commit  "
            f"{r['fsyncs_per_commit_per_segment']:5.2f} fsyncs/commit/segment  (x{r['concurrency']})  "
            f"cpu/commit: writer {r['writer_cpu_us_per_commit']:5.0f} us, nodes {r['nodes_cpu_us_per_commit']:5.0f} us"
        )
    single = results["single_client"]["commit_p50_us"]
    print(f"commit p50 / fsync p50 = {single / disk['p50_us']:.1f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
