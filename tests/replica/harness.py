"""Real processes for replica tests: 6 storage nodes, a writer, readers (all on 127.0.0.1).

Every process is started with its own pid recorded and stopped by that pid; waiting on a
process is a bounded read of its stdout (tests.server.harness.read_ready).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.pgoracle import free_port
from tests.server.harness import REPO, read_ready

START_TIMEOUT = 60.0
AZS = ("a", "a", "b", "b", "c", "c")


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: str
    port: int = 0
    replication_port: int = 0

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _spawn(name: str, args: list[str], data: str) -> tuple[subprocess.Popen[bytes], str]:
    log_path = os.path.join(data, f"{name}.log")
    log_file = open(log_path, "ab")  # noqa: SIM115 - the child writes to it for its whole life
    proc = subprocess.Popen([sys.executable, "-m", "pgaurora", "--log-level", "INFO", *args],
                            stdout=subprocess.PIPE, stderr=log_file, cwd=str(REPO),
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    log_file.close()
    return proc, log_path


def read_lines_until(proc: subprocess.Popen[bytes], prefix: str, timeout: float, log_path: str) -> list[str]:
    """Every stdout line up to and including the first that starts with `prefix` (bounded)."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf = b""
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            lines = buf.decode(errors="replace").splitlines()
            for i, line in enumerate(lines):
                if line.startswith(prefix) and (buf.endswith(b"\n") or i < len(lines) - 1):
                    return lines[: i + 1]
    finally:
        sel.close()
    proc.kill()
    proc.wait(timeout=10)
    raise RuntimeError(f"process did not print {prefix!r}: {buf.decode(errors='replace')}\n"
                       f"{Path(log_path).read_text(errors='replace') if os.path.exists(log_path) else ''}")


def _ports(lines: list[str]) -> tuple[int, int]:
    port = replication = 0
    for line in lines:
        if line.startswith("READY port="):
            port = int(line.split("=", 1)[1])
        elif line.startswith("REPLICATION port="):
            replication = int(line.split("=", 1)[1])
    return port, replication


@dataclass
class ReplicaCluster:
    data: str
    nodes: list[Proc] = field(default_factory=list)
    writer: Proc | None = None
    readers: list[Proc] = field(default_factory=list)
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def node_list(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}@{az}" for n, az in zip(self.nodes, AZS, strict=True))

    def start_nodes(self) -> None:
        for i, az in enumerate(AZS):
            data = os.path.join(self.data, f"node-{i + 1}")
            os.makedirs(data, exist_ok=True)
            proc, log_path = _spawn(f"node-{i + 1}", ["storage-node", "--data", data, "--listen", "127.0.0.1:0",
                                                      "--az", az], self.data)
            node = Proc(f"node-{i + 1}", proc, log_path)
            self.nodes.append(node)
        for node in self.nodes:
            line = read_ready(node.proc, "READY ", START_TIMEOUT, node.log_path)
            node.port = int(line.rsplit(":", 1)[1])

    def spawn_writer(self, name: str = "writer") -> Proc:
        """Starts the writer on a chosen replication port (readers may start at the same time)."""
        replication_port = free_port()
        proc, log_path = _spawn(name, ["instance", "--role", "writer", "--data", os.path.join(self.data, name),
                                       "--port", "0", "--storage-nodes", self.node_list, "--server-id", name,
                                       "--replication-port", str(replication_port)], self.data)
        writer = Proc(name, proc, log_path, replication_port=replication_port)
        self.writer = writer
        return writer

    def restart_writer(self) -> Proc:
        """Starts the writer again (after it died) on the same replication port: its readers,
        which retry that address, find it (volume recovery runs at its start)."""
        old = self.writer
        assert old is not None and old.proc.poll() is not None
        proc, log_path = _spawn(old.name, ["instance", "--role", "writer", "--data",
                                           os.path.join(self.data, old.name), "--port", "0", "--storage-nodes",
                                           self.node_list, "--server-id", old.name, "--replication-port",
                                           str(old.replication_port)], self.data)
        writer = Proc(old.name, proc, log_path, replication_port=old.replication_port)
        self.writer = writer
        self.wait_ready(writer)
        return writer

    def spawn_readers(self, names: list[str]) -> list[Proc]:
        """Starts reader processes; they retry until the writer's replication port answers."""
        assert self.writer is not None
        started = []
        for name in names:
            proc, log_path = _spawn(name, ["instance", "--role", "reader", "--data", os.path.join(self.data, name),
                                           "--port", "0", "--storage-nodes", self.node_list, "--writer",
                                           f"127.0.0.1:{self.writer.replication_port}", "--server-id", name],
                                    self.data)
            reader = Proc(name, proc, log_path)
            self.readers.append(reader)
            started.append(reader)
        return started

    @staticmethod
    def wait_ready(*procs: Proc) -> None:
        for proc in procs:
            proc.port, _ = _ports(read_lines_until(proc.proc, "READY port=", START_TIMEOUT, proc.log_path))

    def read_replication_port(self, proc: Proc) -> int:
        """After pg_promote(): the promoted reader prints its new replication port."""
        _, port = _ports(read_lines_until(proc.proc, "REPLICATION port=", START_TIMEOUT, proc.log_path))
        proc.replication_port = port
        return port

    def stop(self) -> None:
        for proc in [*self.readers, *([self.writer] if self.writer else []), *self.nodes]:
            proc.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


def start_cluster(readers: int = 2) -> ReplicaCluster:
    tmp = tempfile.TemporaryDirectory(prefix="pgaurora-replica-")
    cluster = ReplicaCluster(tmp.name, _tmp=tmp)
    try:
        cluster.start_nodes()
        writer = cluster.spawn_writer()
        started = cluster.spawn_readers([f"reader-{i + 1}" for i in range(readers)])
        cluster.wait_ready(writer, *started)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def connect(dsn: str, autocommit: bool = True) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10)


def wait_for(check: Callable[[], bool], timeout: float) -> float:
    """Polls another process until `check()` (bounded by `timeout`); returns how long it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.005)  # bounded poll of another process
    return time.monotonic() - start
