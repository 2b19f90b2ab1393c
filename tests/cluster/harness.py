"""A cluster for tests, created and deleted with the rds verbs (`pgaurora rds create-db-cluster`).

Every process is stopped by pid at the end: delete-db-cluster stops the supervisor, which stops
its children; a supervisor that does not exit in time is killed by pid, and so are children
still alive. Waits on processes are bounded polls with a deadline (they are external).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from tests.pgoracle import free_port
from tests.server.harness import REPO

DEADLINE = 60.0


def pgaurora(*args: str, timeout: float = 180.0, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "pgaurora", *args], capture_output=True, text=True,
                         cwd=str(REPO), timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(f"pgaurora {' '.join(args)} failed ({out.returncode}): "
                             f"{(out.stderr + out.stdout)[-3000:]}")
    return out


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


@dataclass
class RdsCluster:
    data: str
    port: int
    reader_port: int
    supervisor_pid: int = 0
    created: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, data: str, replicas: int, *extra: str) -> RdsCluster:
        port, reader_port = free_port(), free_port()
        out = pgaurora("rds", "create-db-cluster", "--data", data, "--port", str(port), "--reader-port",
                       str(reader_port), "--replicas", str(replicas), "--health-check-failures", "4", *extra)
        created = json.loads(out.stdout)["DBCluster"]
        return cls(data, port, reader_port, created["SupervisorPid"], created)

    def rds(self, verb: str, *args: str) -> Any:
        return json.loads(pgaurora("rds", verb, "--data", self.data, *args).stdout)

    def status(self) -> dict[str, Any]:
        return json.loads(pgaurora("status", "--data", self.data, "--json", check=False).stdout)

    def instances(self) -> list[dict[str, Any]]:
        return list(self.rds("describe-db-instances")["DBInstances"])

    def writer(self) -> dict[str, Any]:
        return next(i for i in self.instances() if i["IsClusterWriter"])

    def dsn(self, port: int | str | None = None, **extra: str) -> str:
        tail = " ".join(f"{k}={v}" for k, v in extra.items())
        return f"host=127.0.0.1 port={port or self.port} user=postgres dbname=postgres connect_timeout=5 {tail}"

    def wait_for(self, what: str, predicate: Any, timeout: float = DEADLINE) -> Any:
        """Polls `predicate()` (a bounded poll of external processes) until it returns a truthy value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.2)

    def delete(self) -> None:
        pids = [p["pid"] for p in (self.status().get("processes") or []) if p.get("pid")]
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired, ValueError):
            pgaurora("rds", "delete-db-cluster", "--data", self.data, timeout=30)
        deadline = time.monotonic() + DEADLINE
        while pid_alive(self.supervisor_pid) and time.monotonic() < deadline:
            time.sleep(0.1)  # bounded poll: the supervisor stops its children first
        for pid in [self.supervisor_pid, *pids]:
            if pid and pid != os.getpid() and pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
