"""Profile the server side of one workload: `python -m benchmarks.profile_server WORKLOAD`.

Owns a measurement aid, not a benchmark: it runs a pgaurora instance in this process (six
in-process storage nodes, uvloop) with cProfile enabled only while a client subprocess runs
the workload (the same asyncpg code as `python -m benchmarks`), then prints the top functions
and the number of Python calls per operation — the number that the hot-path work drives down.

    python -m benchmarks.profile_server select1_prepared --duration 3 [--warmup] [--sort tottime] [--top 40]
    python -m benchmarks.profile_server point_select_prepared --warmup --cpu   # server CPU us per op
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _client(port: int, workload_name: str, duration: float, setup: bool) -> None:
    from benchmarks.harness import Server
    from benchmarks.workloads import WORKLOADS

    workload = WORKLOADS[workload_name]
    server = Server("pgaurora", port)
    if setup:
        asyncio.run(workload.setup(server))
        print(json.dumps({"setup": True}), flush=True)
        return
    result = asyncio.run(workload.run(server, duration))
    ops = result.ops_per_sec * duration
    print(json.dumps({"ops_per_sec": result.ops_per_sec, "ops": ops}), flush=True)


async def _serve(args: argparse.Namespace) -> None:
    from pgaurora.server.instance import Instance, InstanceOptions

    with tempfile.TemporaryDirectory(prefix="pgaurora-profile-") as tmp:
        instance = Instance(InstanceOptions(data_dir=Path(tmp), port=0, fsync=False))
        port = await instance.start()
        try:
            base = [sys.executable, "-m", "benchmarks.profile_server", "--client", str(port), args.workload,
                    "--duration", str(args.duration)]
            setup = await asyncio.create_subprocess_exec(*base, "--setup")
            await setup.wait()
            if args.warmup:
                warm = await asyncio.create_subprocess_exec(*base, stdout=subprocess.DEVNULL)
                await warm.wait()
            if args.cpu:
                # the instance's own background work (storage nodes, timers) while idle, subtracted
                idle_cpu, idle_wall = time.process_time(), time.monotonic()
                await asyncio.sleep(1.0)
                idle_rate = (time.process_time() - idle_cpu) / (time.monotonic() - idle_wall)
                proc = await asyncio.create_subprocess_exec(*base, stdout=subprocess.PIPE)
                cpu, wall = time.process_time(), time.monotonic()
                usage = resource.getrusage(resource.RUSAGE_SELF)
                out, _ = await proc.communicate()
                cpu = time.process_time() - cpu - idle_rate * (time.monotonic() - wall)
                after = resource.getrusage(resource.RUSAGE_SELF)
                info = json.loads(out.decode().strip().splitlines()[-1])
                ops = max(1.0, info["ops"])
                print(f"{args.workload}: {info['ops_per_sec']:.1f} ops/s; server CPU per op: "
                      f"{cpu / ops * 1e6:.1f} us (user {(after.ru_utime - usage.ru_utime) / ops * 1e6:.1f}, "
                      f"system {(after.ru_stime - usage.ru_stime) / ops * 1e6:.1f}; "
                      f"idle load {idle_rate * 100:.1f}% subtracted)")
                return
            proc = await asyncio.create_subprocess_exec(*base, stdout=subprocess.PIPE)
            profile = cProfile.Profile()
            profile.enable()
            out, _ = await proc.communicate()
            profile.disable()
            info = json.loads(out.decode().strip().splitlines()[-1])
            stream = io.StringIO()
            stats = pstats.Stats(profile, stream=stream)
            stats.sort_stats(args.sort).print_stats(args.top)
            print(stream.getvalue())
            total_calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
            ops = max(1.0, info["ops"])
            print(f"ops/s under the profiler: {info['ops_per_sec']:.1f}; ops: {ops:.0f}; "
                  f"python calls per op: {total_calls / ops:.1f}")
        finally:
            await instance.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile_server", description=__doc__)
    ap.add_argument("workload")
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--sort", default="tottime")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--warmup", action="store_true", help="run the workload once unprofiled first")
    ap.add_argument("--cpu", action="store_true", help="no profiler: report the server's CPU time per op")
    ap.add_argument("--client", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.client:
        _client(args.client, args.workload, args.duration, args.setup)
        return 0
    try:
        import uvloop
        uvloop.run(_serve(args))
    except ImportError:
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
