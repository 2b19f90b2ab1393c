"""Adopting a cluster's running processes when `pgaurora serve` starts after its supervisor died.

Owns deciding which processes recorded in cluster.json are still the cluster's own and alive
(the pid's command line is a pgaurora process of this data directory, and it answers as what
cluster.json says it is: a storage node accepts connections on its port; an instance answers
SQL on its port with its server_id, in recovery exactly when it is a reader), and a handle on
such a process that is not our child (`AdoptedProcess`: its exit is seen through a pidfd, no
polling). The supervisor keeps what this returns instead of starting duplicates, and kills the
rest as a crashed predecessor's orphans. Not running or restarting them (cluster.supervisor).

    cluster.json (supervisor_pid dead) ─► for each storage node / writer / reader:
        /proc/PID/cmdline has "pgaurora" and the data dir?  port answers as that role and name?
            yes ─► AdoptedProcess(pid)        no ─► killed (reap) and started again
    the writer gone but a reader adopted ─► failover (promotion) as the supervisor starts
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path
from typing import Protocol

from pgaurora.cluster import metadata as md
from pgaurora.cluster.probe import QueryFailed, simple_query

log = logging.getLogger(__name__)

VERIFY_TIMEOUT = 5.0


class ProcessLike(Protocol):
    """What the supervisor does with a process, a child of its own or an adopted one."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


class AdoptedProcess:
    """A running process another supervisor started: signals by pid, its exit through a pidfd.

    Its exit status cannot be read (it is not our child): `returncode` is -1 once it exited.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._fd = os.pidfd_open(pid)  # ProcessLookupError when it is gone already
        self._loop.add_reader(self._fd, self._on_exit)

    def _on_exit(self) -> None:
        if self.returncode is None:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self.returncode = -1
            self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        return -1

    def send_signal(self, sig: int) -> None:
        if self.returncode is not None:
            raise ProcessLookupError(self.pid)
        signal.pidfd_send_signal(self._fd, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def is_cluster_process(pid: int, data_dir: Path) -> bool:
    """A live pgaurora process started for `data_dir` (an instance from a standby names the
    cluster's directory; a storage node or an instance its own directory below it)."""
    if pid <= 0 or pid == os.getpid():
        return False
    cmdline = command_line(pid)
    return b"pgaurora" in cmdline and str(data_dir).encode() in cmdline


def supervisor_alive(meta: md.ClusterMetadata, data_dir: Path) -> bool:
    """Whether the supervisor cluster.json names still runs (then nobody else may supervise):
    a live `pgaurora serve` whose --data (relative to its working directory) is `data_dir`."""
    pid = meta.supervisor_pid
    if pid <= 0 or pid == os.getpid():
        return False
    args = [a.decode(errors="replace") for a in command_line(pid).split(b"\0")]
    if "pgaurora" not in " ".join(args) or "serve" not in args:
        return False
    data = "./pgaurora-data"
    for i, arg in enumerate(args[:-1]):
        if arg == "--data":
            data = args[i + 1]
        elif arg.startswith("--data="):
            data = arg.split("=", 1)[1]
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return True  # cannot tell: assume it is the one
    return (cwd / data).resolve() == Path(data_dir).resolve()


async def _listens(host: str, port: int) -> bool:
    try:
        async with asyncio.timeout(VERIFY_TIMEOUT):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return True


async def _answers_as(rec: md.ProcessRecord) -> bool:
    """The instance on rec's port is rec: same server_id, in recovery exactly when a reader."""
    try:
        rows = await simple_query(rec.host, rec.port, "SELECT pg_is_in_recovery(), server_id FROM aurora_replica_status()",
                                  timeout=VERIFY_TIMEOUT)
    except (OSError, TimeoutError, QueryFailed, asyncio.IncompleteReadError):
        return False
    expected_recovery = "t" if rec.role == "reader" else "f"
    return bool(rows) and rows[0][0] == expected_recovery and any(row[1] == rec.name for row in rows)


async def _verify(rec: md.ProcessRecord, data_dir: Path) -> bool:
    if rec.pid <= 0 or rec.port <= 0 or not is_cluster_process(rec.pid, data_dir):
        return False
    if rec.role == "storage-node":
        return await _listens(rec.host, rec.port)
    if rec.role == "writer" and (not rec.replication_port or not await _listens(rec.host, rec.replication_port)):
        return False
    return await _answers_as(rec)


async def adoptable(meta: md.ClusterMetadata, data_dir: Path) -> dict[str, AdoptedProcess]:
    """The storage nodes and instances of cluster.json that still run and are what it says.

    Readers are adopted without a live writer too: the supervisor then fails over to one of
    them at once (as it would have, had it been running when the writer died).
    """
    records = [r for r in meta.processes if r.role in ("storage-node", "writer", "reader")]
    verdicts = await asyncio.gather(*(_verify(r, data_dir) for r in records))
    alive = {r.name for r, ok in zip(records, verdicts, strict=True) if ok}
    adopted: dict[str, AdoptedProcess] = {}
    for rec in records:
        if rec.name in alive:
            try:
                adopted[rec.name] = AdoptedProcess(rec.pid)
            except ProcessLookupError:
                continue
            log.warning("adopting %s %s (pid %d, port %d) left running by a previous supervisor",
                        rec.role, rec.name, rec.pid, rec.port)
    return adopted
