"""The cluster supervisor behind `pgaurora serve`: storage nodes, the writer, the endpoints.

Owns starting the processes of the embedded default (DESIGN.md §2), writing where they are
to cluster.json, restarting a storage node (or the writer) that dies, and stopping
everything in order on SIGINT/SIGTERM: the writer first (it finishes commits and closes the
volume), then the storage nodes. Not what the processes do (logstore.node, server.instance).

    pgaurora serve
      ├─ storage-1 (az a)  storage-2 (az b)  storage-3 (az c)  storage-4 (a) ...   processes
      ├─ writer instance ── listens on the writer port, volume on the 6 storage nodes
      └─ reader endpoint ── routes to the writer until read replicas exist
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pgaurora.cluster import metadata as md
from pgaurora.cluster.endpoint import EndpointRouter

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
MAX_RESTART_DELAY = 5.0


@dataclass(slots=True)
class ServeOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5432
    reader_port: int = 5433
    storage_nodes: int = 6
    max_connections: int = 100
    auth: str = "trust"


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


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


class Supervisor:
    """Runs one cluster until `stop()` (or a signal)."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.data_dir = Path(options.data_dir).resolve()
        self.meta = md.load(self.data_dir) or md.new_metadata()
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self._monitors: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self._stopped = asyncio.Event()
        self.reader_router: EndpointRouter | None = None
        self.writer_port = 0

    # -- start ----------------------------------------------------------------------------------

    def _plan_processes(self) -> None:
        """Storage nodes keep their ports across restarts: the volume's placement names them."""
        opts = self.options
        existing = {p.name: p for p in self.meta.processes}
        processes: list[md.ProcessRecord] = []
        for i in range(opts.storage_nodes):
            name = f"storage-{i + 1}"
            rec = existing.get(name) or md.ProcessRecord(
                name=name, role="storage-node", host=opts.host, port=free_port(opts.host),
                az=md.AZS[i % len(md.AZS)], data_dir=str(self.data_dir / "storage" / name))
            rec.restarts = 0
            processes.append(rec)
        writer = existing.get("writer") or md.ProcessRecord(name="writer", role="writer", host=opts.host,
                                                             port=opts.port, az="a")
        writer.host, writer.port = opts.host, opts.port
        processes.append(writer)
        processes.append(md.ProcessRecord(name="reader-endpoint", role="endpoint", host=opts.host,
                                          port=opts.reader_port, az=""))
        self.meta.processes = processes
        self.meta.endpoints = {"writer": f"{opts.host}:{opts.port}", "reader": f"{opts.host}:{opts.reader_port}"}
        self.meta.notes = ["the reader endpoint routes to the writer: there are no read replicas yet"]

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._plan_processes()
        self.meta.state = "starting"
        self.meta.supervisor_pid = os.getpid()
        md.save(self.data_dir, self.meta)
        await asyncio.gather(*(self._spawn(rec) for rec in self.meta.storage_nodes()))
        writer = self.meta.find("writer")
        assert writer is not None
        await self._spawn(writer)
        self.reader_router = EndpointRouter("reader", self.options.host, self.options.reader_port,
                                            (writer.host, writer.port))
        await self.reader_router.start()
        endpoint = self.meta.find("reader-endpoint")
        assert endpoint is not None
        endpoint.pid = os.getpid()
        endpoint.port = self.reader_router.port
        endpoint.started_at = time.time()
        self.meta.state = "running"
        md.save(self.data_dir, self.meta)

    def _command(self, rec: md.ProcessRecord) -> list[str]:
        opts = self.options
        if rec.role == "storage-node":
            Path(rec.data_dir).mkdir(parents=True, exist_ok=True)
            return pgaurora_command("storage-node", "--data", rec.data_dir, "--listen", rec.address,
                                    "--az", rec.az)
        nodes = ",".join(f"{n.address}@{n.az}" for n in self.meta.storage_nodes())
        return pgaurora_command("instance", "--role", "writer", "--data", str(self.data_dir / "instance"),
                                "--host", rec.host, "--port", str(rec.port), "--storage-nodes", nodes,
                                "--max-connections", str(opts.max_connections), "--auth", opts.auth)

    async def _spawn(self, rec: md.ProcessRecord) -> None:
        log_path = self.data_dir / "log" / f"{rec.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log_file:
            proc = await asyncio.create_subprocess_exec(
                *self._command(rec), stdout=log_file, stderr=log_file, stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True)
        self.procs[rec.name] = proc
        rec.pid = proc.pid
        rec.started_at = time.time()
        try:
            await wait_listening(rec.host, rec.port, proc, START_TIMEOUT)
        except RuntimeError:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{rec.name} did not start:\n{tail}") from None
        self._monitors[rec.name] = asyncio.get_running_loop().create_task(self._monitor(rec, proc))

    async def _monitor(self, rec: md.ProcessRecord, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if self._stopping:
            return
        log.warning("%s (pid %d) exited with %s; restarting it", rec.name, proc.pid, code)
        rec.restarts += 1
        delay = min(0.1 * 2 ** min(rec.restarts, 6), MAX_RESTART_DELAY)
        await asyncio.sleep(delay)  # restart back-off, not a wait for a condition
        if self._stopping:
            return
        try:
            await self._spawn(rec)
        except RuntimeError as exc:
            log.error("restart of %s failed: %s", rec.name, exc)
            self._monitors.pop(rec.name, None)
            if not self._stopping:
                self._monitors[rec.name] = asyncio.get_running_loop().create_task(self._monitor(rec, proc))
            return
        md.save(self.data_dir, self.meta)

    # -- stop -----------------------------------------------------------------------------------

    async def stop(self) -> None:
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        self.meta.state = "stopping"
        md.save(self.data_dir, self.meta)
        if self.reader_router is not None:
            await self.reader_router.stop()
        await self._terminate(["writer"])
        await self._terminate([r.name for r in self.meta.storage_nodes()])
        for task in self._monitors.values():
            task.cancel()
        await asyncio.gather(*self._monitors.values(), return_exceptions=True)
        for rec in self.meta.processes:
            rec.pid = 0
        self.meta.state = "stopped"
        self.meta.supervisor_pid = 0
        md.save(self.data_dir, self.meta)
        self._stopped.set()

    async def _terminate(self, names: list[str]) -> None:
        procs = [self.procs[n] for n in names if n in self.procs and self.procs[n].returncode is None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()

    async def run_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self.stop()


async def serve(options: ServeOptions) -> int:
    supervisor = Supervisor(options)
    try:
        await supervisor.start()
    except BaseException:
        await supervisor.stop()
        raise
    o = options
    print(f"pgaurora is running: {o.storage_nodes} storage nodes in AZs a/b/c, 1 writer (data: {supervisor.data_dir})")
    print(f"  writer endpoint: {o.host}:{o.port}    connect with: psql -h {o.host} -p {o.port} -U postgres")
    print(f"  reader endpoint: {o.host}:{o.reader_port} (routes to the writer: no read replicas yet)")
    print("  stop with Ctrl-C", flush=True)
    await supervisor.run_until_signal()
    print("pgaurora stopped cleanly", flush=True)
    return 0
