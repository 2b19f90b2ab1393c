"""Launching the processes of a cluster: their command lines and waiting for them to listen.

Owns how the supervisor starts a storage node or an instance (the `pgaurora storage-node` /
`pgaurora instance` command lines, with `--port 0` for instances: the port comes back on the
instance's stdout as `READY port=N`), the bounded wait for a storage node's port, the options of
`pgaurora serve`, a standby process kept ready for the next instance start, and reading a
volume's epoch from its metadata file. Not supervising them
(cluster.supervisor), not what they run (logstore.node, server.instance).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pgaurora.cluster import metadata as md
from pgaurora.cluster.failover import FAILURES_BEFORE_DOWN

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ServeOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5432
    reader_port: int = 5433
    storage_nodes: int = 6
    replicas: int = 0
    max_connections: int = 100
    auth: str = "trust"
    kill_fenced_after: float = 0.0   # seconds before an unresponsive old writer is killed (the epoch fences it)
    standby: bool = True             # keep one instance process imported and waiting (faster restarts)
    failures_before_down: int = FAILURES_BEFORE_DOWN
    protection_group_mib: int | None = None  # a new volume's group size (None: the instance's default)
    ssl: bool = False                # TLS for clients: every instance gets the same certificate
    ssl_cert_file: str = ""          # empty with ssl: the cluster directory's server.crt / server.key
    ssl_key_file: str = ""
    force_ssl: bool = False


async def wait_listening(host: str, port: int, proc: asyncio.subprocess.Process, timeout: float) -> None:
    """Polls until host:port accepts a connection (bounded; the process is external)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.returncode is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode} before listening on {port}")
        try:
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {host}:{port} after {timeout}s") from None
        await asyncio.sleep(0.05)  # bounded poll on an external process


def pgaurora_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pgaurora", *args]


def replicas_supported() -> bool:
    """Whether this build's instances have a replication listener (readers need one)."""
    from pgaurora.server.instance import InstanceOptions
    return "replication_port" in getattr(InstanceOptions, "__dataclass_fields__", {})


def volume_epoch(volume_dir: str) -> int:
    try:
        return int(json.loads((Path(volume_dir) / "volume.json").read_bytes()).get("epoch", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def storage_command(rec: md.ProcessRecord) -> list[str]:
    return pgaurora_command("storage-node", "--data", rec.data_dir, "--listen", rec.address, "--az", rec.az)


def instance_command(rec: md.ProcessRecord, options: ServeOptions, meta: md.ClusterMetadata) -> list[str]:
    """`pgaurora instance` for `rec` as a writer (with a replication listener) or a reader of the writer."""
    common = ["--data", rec.data_dir, "--host", rec.host, "--port", "0", "--storage-nodes", storage_list(meta),
              "--max-connections", str(options.max_connections), "--auth", options.auth]
    if options.protection_group_mib is not None:
        common += ["--protection-group-mib", str(options.protection_group_mib)]
    if options.ssl:
        cert, key = options.ssl_cert_file, options.ssl_key_file
        if not cert:
            cert, key = str(options.data_dir / "server.crt"), str(options.data_dir / "server.key")
        common += ["--ssl-cert-file", str(Path(cert).resolve()), "--ssl-key-file", str(Path(key or cert).resolve())]
        if options.force_ssl:
            common.append("--force-ssl")
    if rec.role == "writer":
        extra = ["--replication-port", "0", "--server-id", rec.name] if replicas_supported() else []
        return pgaurora_command("instance", "--role", "writer", *common, *extra)
    writer = meta.writer()
    if writer is None or not writer.replication_port:
        raise RuntimeError("a reader needs a writer with a replication listener")
    return pgaurora_command("instance", "--role", "reader", *common, "--server-id", rec.name,
                            "--writer", f"{writer.host}:{writer.replication_port}")


def storage_list(meta: md.ClusterMetadata) -> str:
    return ",".join(f"{n.address}@{n.az}" for n in meta.storage_nodes())


def reap_orphans(meta: md.ClusterMetadata, data_dir: Path, keep: frozenset[int] = frozenset()) -> None:
    """Kills processes a previous supervisor of `data_dir` left running (it crashed or was killed),
    except the adopted ones (`keep`, cluster.adopt)."""
    for rec in meta.processes:
        if rec.pid <= 0 or rec.pid == os.getpid() or rec.pid in keep:
            continue
        try:
            cmdline = Path(f"/proc/{rec.pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pgaurora" in cmdline and str(data_dir).encode() in cmdline:
            log.warning("killing %s (pid %d) left running by a previous supervisor", rec.name, rec.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(rec.pid, signal.SIGKILL)


class Standby:
    """One `pgaurora standby` process kept imported and waiting, handed the next instance's argv.

    Starting Python and importing the instance stack takes seconds on a loaded host: a fresh
    writer (failover without readers) or a restarted reader started from a standby skips it.
    """

    def __init__(self, data_dir: Path, timeout: float) -> None:
        self.data_dir = data_dir
        self.timeout = timeout
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path: Path | None = None
        self.started = 0
        self._stopped = False
        self._filling: asyncio.Event | None = None   # set when the standby being started is ready (or failed)

    async def fill(self) -> None:
        """Starts a standby unless one is waiting; keeps it once it says STANDBY (imports done)."""
        if self._stopped or self.proc is not None or self._filling is not None:
            return
        filling = self._filling = asyncio.Event()
        try:
            await self._start_one()
        finally:
            self._filling = None
            filling.set()

    async def _start_one(self) -> None:
        self.started += 1
        log_path = self.data_dir / "log" / f"standby-{self.started}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log_file:
            proc = await asyncio.create_subprocess_exec(
                *pgaurora_command("standby", "--data", str(self.data_dir)), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=log_file, start_new_session=True)
        assert proc.stdout is not None
        line = b""
        try:
            async with asyncio.timeout(self.timeout):
                line = await proc.stdout.readline()
        except TimeoutError:
            pass
        finally:
            if line.strip() != b"STANDBY" or self._stopped or self.proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        if line.strip() == b"STANDBY" and not self._stopped and self.proc is None:
            self.proc, self.log_path = proc, log_path
        else:
            await proc.wait()

    async def take(self, command: list[str], note: Path) -> asyncio.subprocess.Process | None:
        """Hands `command` (a pgaurora_command) to the waiting standby and returns it, or None."""
        if self.proc is None and self._filling is not None:
            # one is importing right now: that is still sooner than a cold start
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._filling.wait(), self.timeout)
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None or proc.stdin is None:
            return None
        argv = command[command.index("pgaurora") + 1:]
        try:
            proc.stdin.write(json.dumps(argv).encode() + b"\n")
            await proc.stdin.drain()
        except (ConnectionError, OSError):
            return None
        with open(note, "ab") as log_file:
            log_file.write(f"started from standby pid {proc.pid}; its stderr is in {self.log_path}\n".encode())
        return proc

    async def stop(self) -> None:
        self._stopped = True
        proc, self.proc = self.proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
