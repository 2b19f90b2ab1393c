"""Starts PostgreSQL 15 and pgaurora on loopback and runs workloads against both.

Owns server lifecycles for benchmarks and the run loop (runs alternate between the servers so
that drift on the machine hits both alike). Not the workloads (workloads/), not the report.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pgaurora.cluster import metadata as cluster_metadata
from tests.pgoracle import free_port, start_postgres


@dataclass
class Server:
    name: str  # "postgresql" or "pgaurora"
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"


@dataclass
class RunResult:
    """One run of one workload on one server: operations per second and latencies (ms)."""

    ops_per_sec: float
    latencies_ms: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pgaurora exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # bounded poll on an external process
    raise RuntimeError("pgaurora did not listen in time")


@contextmanager
def postgresql() -> Iterator[Server]:
    oracle = start_postgres()
    try:
        yield Server("postgresql", oracle.port)
    finally:
        oracle.stop()


def _writer_instance_port(data_dir: str, endpoint_port: int) -> int:
    """The writer instance's own port (Aurora's instance endpoint), read from cluster.json.

    The writer endpoint is a TCP proxy that moves on failover; Aurora's cluster endpoint is a
    DNS name with no hop of its own, so the benchmarks measure the instance directly, as a
    client that connects to PostgreSQL does. Falls back to the endpoint if none is recorded within 30 s.
    """
    # The supervisor records the writer's port just after the endpoints start listening: wait for
    # it (bounded), or a loaded machine measures the endpoint proxy instead of the instance.
    deadline = time.monotonic() + 30
    while True:
        meta = cluster_metadata.load(data_dir)
        writer = meta.writer() if meta is not None else None
        if writer is not None and writer.port:
            return writer.port
        if time.monotonic() > deadline:
            return endpoint_port
        time.sleep(0.05)  # bounded poll on an external process's file


@contextmanager
def pgaurora(extra_args: tuple[str, ...] = ()) -> Iterator[Server]:
    """`pgaurora serve` (six storage-node processes + the writer) in a temporary data dir."""
    tmp = tempfile.mkdtemp(prefix="pgaurora-bench-")
    port, reader_port = free_port(), free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "pgaurora")
    log = open(os.path.join(tmp, "serve.log"), "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [exe, "serve", "--data", os.path.join(tmp, "data"), "--port", str(port),
         "--reader-port", str(reader_port), *extra_args],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        _wait_port(port, proc, 120)
        yield Server("pgaurora", _writer_instance_port(os.path.join(tmp, "data"), port))
    except BaseException:
        log.flush()
        with open(os.path.join(tmp, "serve.log"), "rb") as f:  # what the cluster said before it failed
            sys.stderr.write(f.read()[-4000:].decode(errors="replace"))
        raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def bare() -> Iterator[Server]:
    """benchmarks/bare_server.py: the ceiling a Python server can reach with this client."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bare_server", str(port)])
    try:
        _wait_port(port, proc, 30)
        yield Server("bare-asyncio", port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_workload(workload: Any, servers: list[Server], runs: int, duration: float) -> dict[str, list[RunResult]]:
    """Runs `workload` `runs` times on each server, alternating; returns results by server name."""
    results: dict[str, list[RunResult]] = {s.name: [] for s in servers}
    for server in servers:
        asyncio.run(workload.setup(server))
    for i in range(runs):
        order = servers if i % 2 == 0 else list(reversed(servers))
        for server in order:
            result = asyncio.run(workload.run(server, duration))
            results[server.name].append(result)
            print(f"  run {i + 1}/{runs} {server.name:<10} {result.ops_per_sec:12.1f} ops/s", flush=True)
    return results
