"""pgbench's built-in scripts (select-only, simple-update, tpcb-like) against each server.

`pgbench -i -s SCALE` initializes both servers the same way; each run is one pgbench
invocation with the same -c/-j/-M; TPS comes from pgbench's own report ("tps = ...") and the
latency average from its "latency average" line.
"""

from __future__ import annotations

import asyncio
import re
import shutil

from benchmarks.harness import RunResult, Server

TPS_RE = re.compile(r"tps = ([0-9.]+)")
LAT_RE = re.compile(r"latency average = ([0-9.]+) ms")


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
        text = await self._run("-n", "-b", self.builtin, "-c", str(self.clients), "-j", "2",
                               "-M", self.mode, "-T", str(max(1, round(duration))), *self._conn(server))
        tps = TPS_RE.search(text)
        lat = LAT_RE.search(text)
        return RunResult(ops_per_sec=float(tps.group(1)) if tps else 0.0,
                         extra={"latency_avg_ms": float(lat.group(1)) if lat else None})
