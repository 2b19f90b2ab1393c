"""pgbench's built-in scripts (select-only, simple-update, tpcb-like) against each server.

Like with like: `pgbench -i -s SCALE` initializes both servers the same way (it vacuums and
analyzes the tables it loads), and each run is one pgbench invocation with the same
-c/-j/-M/-T that starts, as pgbench does by default, by vacuuming pgbench_branches and
pgbench_tellers and truncating pgbench_history on that server, so every run of either server
starts from the same state (no history left by the other runs). TPS comes from pgbench's own
report ("tps = ..."), the latency of every transaction from its per-transaction log (`-l`:
p50/p99 in the summary) and each statement's average latency from `-r` (`extra`: BEGIN, END).
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
import tempfile

from benchmarks.harness import RunResult, Server

TPS_RE = re.compile(r"tps = ([0-9.]+)")
LAT_RE = re.compile(r"latency average = ([0-9.]+) ms")
# `-r` lines after "statement latencies in milliseconds": "  0.123  0  UPDATE pgbench_..."
STATEMENT_RE = re.compile(r"^\s+([0-9.]+)\s+(?:[0-9]+\s+)?([A-Za-z].*?);?$", re.MULTILINE)


def _pgbench() -> str:
    exe = shutil.which("pgbench")
    if exe is None:
        raise RuntimeError("pgbench not found: `make bench` installs the postgresql client")
    return exe


class PgBench:
    def __init__(self, builtin: str, clients: int = 8, mode: str = "prepared", scale: int = 1) -> None:
        self.builtin, self.clients, self.mode, self.scale = builtin, clients, mode, scale
        self.DESCRIPTION = f"pgbench -b {builtin} -c {clients} -j 2 -M {mode} (scale {scale})"

    async def _run(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            _pgbench(), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        text = out.decode(errors="replace")
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench {' '.join(args)} failed:\n{text[-2000:]}")
        return text

    def _conn(self, server: Server) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "postgres"]

    async def setup(self, server: Server) -> None:
        await self._run("-i", "-s", str(self.scale), "-q", *self._conn(server))

    async def run(self, server: Server, duration: float) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="pgbench-log-") as logs:
            text = await self._run("-b", self.builtin, "-c", str(self.clients), "-j", "2", "-M", self.mode,
                                   "-T", str(max(1, round(duration))), "-r", "-l",
                                   f"--log-prefix={os.path.join(logs, 'tx')}", *self._conn(server))
            latencies = transaction_latencies_ms(glob.glob(os.path.join(logs, "tx*")))
        tps = TPS_RE.search(text)
        lat = LAT_RE.search(text)
        return RunResult(ops_per_sec=float(tps.group(1)) if tps else 0.0, latencies_ms=latencies,
                         extra={"latency_avg_ms": float(lat.group(1)) if lat else None,
                                "statement_avg_ms": statement_latencies_ms(text)})


def transaction_latencies_ms(paths: list[str]) -> list[float]:
    """Each transaction's latency from pgbench's per-transaction logs (one file per thread):
    `client_id transaction_no time_us script_no time_epoch time_us_part ...`."""
    latencies: list[float] = []
    for path in paths:
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():  # "failed"/"skipped" rows have no time
                    latencies.append(int(fields[2]) / 1000)
    return latencies


def statement_latencies_ms(text: str) -> dict[str, float]:
    """`-r`'s average latency per statement, keyed by the statement's first word (BEGIN, END)
    or its first two for the rest ("UPDATE pgbench_branches")."""
    _, _, table = text.partition("statement latencies in milliseconds")
    found: dict[str, float] = {}
    for ms, statement in STATEMENT_RE.findall(table):
        words = statement.split()
        if not words or words[0].startswith("\\"):
            continue
        key = words[0] if words[0] in ("BEGIN", "END", "COMMIT") or len(words) < 2 else " ".join(words[:2])
        if words[0] == "INSERT" and len(words) > 2:
            key = " ".join(words[:3])
        found[key] = float(ms)
    return found
