"""Starting pgaurora processes for tests: an instance (`pgaurora instance --port 0`) or a cluster.

Every process started here is stopped by pid by the caller's fixture; waits on a process are
bounded polls of its output with a deadline (it is an external process).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


@dataclass
class InstanceProcess:
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: str
    log_path: str
    tmp: tempfile.TemporaryDirectory[str] | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

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
        if self.tmp is not None:
            self.tmp.cleanup()
        return self.proc.returncode


def read_ready(proc: subprocess.Popen[bytes], prefix: str, timeout: float, log_path: str) -> str:
    """Reads the child's stdout until a line starting with `prefix` (bounded by `timeout`)."""
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
            for line in buf.decode(errors="replace").splitlines():
                if line.startswith(prefix):
                    return line
    finally:
        sel.close()
    proc.kill()
    proc.wait(timeout=10)
    raise RuntimeError(f"process did not print {prefix!r}: {buf.decode(errors='replace')}\n"
                       f"{Path(log_path).read_text(errors='replace') if os.path.exists(log_path) else ''}")


def running_instance() -> Iterator[InstanceProcess]:
    """A started instance for a fixture to yield; stopped (by pid) when the fixture ends."""
    inst = start_instance()
    try:
        yield inst
    finally:
        inst.stop()


def start_instance(*extra: str, data_dir: str | None = None) -> InstanceProcess:
    """`python -m pgaurora instance --port 0` with in-process storage nodes, ready for clients."""
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="pgaurora-test-")
        data_dir = tmp.name
    log_path = os.path.join(data_dir, "instance.log")
    os.makedirs(data_dir, exist_ok=True)
    log_file = open(log_path, "ab")  # noqa: SIM115 - the child writes to it for its whole life
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgaurora", "--log-level", "INFO", "instance", "--data",
         os.path.join(data_dir, "instance"), "--port", "0", *extra],
        stdout=subprocess.PIPE, stderr=log_file, cwd=str(REPO), env=dict(os.environ, PYTHONPATH=str(REPO)))
    log_file.close()
    line = read_ready(proc, "READY port=", START_TIMEOUT, log_path)
    port = int(line.split("=", 1)[1])
    return InstanceProcess(proc=proc, port=port, data_dir=data_dir, log_path=log_path, tmp=tmp)
