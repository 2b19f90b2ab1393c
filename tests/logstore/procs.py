"""Real storage-node processes on loopback for end-to-end tests and the benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pgaurora.logstore import NodeSpec, RedoOp, Volume
from pgaurora.logstore import page as p

AZS = ("a", "a", "b", "b", "c", "c")


class NodeProcess:
    def __init__(self, data: Path, az: str, port: int = 0, *, fsync: bool = True):
        self.data = data
        self.az = az
        self.port = port
        self.fsync = fsync
        self.process: subprocess.Popen | None = None
        self.address = ""

    def start(self, timeout: float = 20.0) -> str:
        args = [sys.executable, "-m", "pgaurora.logstore.tcp", "--data", str(self.data),
                "--listen", f"127.0.0.1:{self.port}", "--az", self.az]
        if not self.fsync:
            args.append("--no-fsync")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until READY or exit
        if not line.startswith("READY ") or time.monotonic() > deadline:
            err = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"storage node did not start: {line!r} {err}")
        self.address = line.split()[1]
        self.port = int(self.address.rpartition(":")[2])
        return self.address

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode


def start_nodes(root: Path, count: int = 6, *, fsync: bool = True) -> list[NodeProcess]:
    nodes = [NodeProcess(root / f"node{i}", AZS[i % 6], fsync=fsync) for i in range(count)]
    try:
        for node in nodes:
            node.start()
    except Exception:
        for node in nodes:
            node.stop()
        raise
    return nodes


def specs(nodes: list[NodeProcess]) -> list[NodeSpec]:
    return [NodeSpec(n.address, n.az) for n in nodes]


def write_value(volume: Volume, page: int, data: bytes, n: int) -> int:
    """One step of the kill tests' write load on `page`: the n-th value as a SET, every 50th time
    a TRUNCATE then an APPEND (two MTRs); returns the LSN whose durability acknowledges it."""
    if n % 50:
        return volume.append_mtr([(page, RedoOp.SET, p.encode_set(0, data))])
    volume.append_mtr([(page, RedoOp.TRUNCATE, p.encode_truncate(0))])
    return volume.append_mtr([(page, RedoOp.APPEND, data)])
