"""The cluster supervisor behind `pgaurora serve`: processes, health, endpoints, failover.

Owns running the processes of a cluster (DESIGN.md §2) — storage nodes, one writer, N readers —
recording where they are in cluster.json, probing them, restarting what dies (a storage node or
a reader as itself; a dead or unresponsive writer by a failover), the endpoint routers and the
control socket, and stopping everything in order on SIGINT/SIGTERM (endpoints, readers, the
writer — it finishes commits and closes the volume — then the storage nodes). The failover run
itself and the operator verbs live in cluster.topology, the decisions in cluster.failover, the
command lines and the pre-started standby process in cluster.launch, the health loop in
cluster.health.
A supervisor started on a data directory whose previous supervisor died (kill -9) adopts the
storage nodes and instances it left running (cluster.adopt: verified by command line, port and
role) instead of starting duplicates, and goes on probing them and failing over.
Not what the processes do (logstore.node, server.instance).

    pgaurora serve --replicas 2
      ├─ storage-1 (az a)  storage-2 (az b)  storage-3 (az c)  storage-4 (a) ...   processes
      ├─ instance-1 writer ── volume on the 6 storage nodes, replication listener
      ├─ instance-2 reader, instance-3 reader ── follow the writer's redo stream
      ├─ writer endpoint :5432 ─► the writer        reader endpoint :5433 ─► readers round-robin
      └─ control.sock ◄─ pgaurora rds ... / pgaurora failover
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pgaurora.cluster import metadata as md
from pgaurora.cluster.adopt import AdoptedProcess, ProcessLike, adoptable, supervisor_alive
from pgaurora.cluster.control import ControlServer
from pgaurora.cluster.endpoint import EndpointRouter, Target
from pgaurora.cluster.failover import Health, HealthTracker
from pgaurora.cluster.health import health_loop
from pgaurora.cluster.launch import (
    ServeOptions,
    Standby,
    instance_command,
    reap_orphans,
    replicas_supported,
    storage_command,
    volume_epoch,
    wait_listening,
)
from pgaurora.security.tls import ensure_certificate

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
MAX_RESTART_DELAY = 5.0
READERS_START_WAIT = 30.0     # serve waits this long for its readers, then goes on without them


class Supervisor:
    """Runs one cluster until `stop()` (or a signal)."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.data_dir = Path(options.data_dir).resolve()
        self.meta = md.load(self.data_dir) or md.new_metadata()
        self.procs: dict[str, ProcessLike] = {}
        self.health: dict[str, HealthTracker] = {}
        self.routers: dict[str, EndpointRouter] = {}
        self.control = ControlServer(self.data_dir, self._handle_verb)
        self.failover_lock = asyncio.Lock()
        self.fenced: list[ProcessLike] = []   # old writers left to the epoch fence
        self.writer_target: Target | None = None
        self._ready: dict[str, asyncio.Future[int]] = {}
        self._replication: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._stopped = asyncio.Event()
        self.rounds = 0  # health rounds run (cluster.health)
        self.standby = Standby(self.data_dir, START_TIMEOUT)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def spawn_task(self, coro: Coroutine[Any, Any, Any]) -> None:
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- plan and start ---------------------------------------------------------------------------

    def _plan_processes(self, adopted: frozenset[str] = frozenset()) -> None:
        """Storage nodes keep their ports across restarts: the volume's placement names them.
        Adopted instances keep their ports and pids."""
        opts, meta = self.options, self.meta
        existing = {p.name: p for p in meta.processes}
        processes: list[md.ProcessRecord] = []
        for i in range(opts.storage_nodes):
            name = f"storage-{i + 1}"
            rec = existing.get(name) or md.ProcessRecord(
                name=name, role="storage-node", host=opts.host, port=0,
                az=md.AZS[i % len(md.AZS)], data_dir=str(self.data_dir / "storage" / name))
            rec.restarts = 0
            processes.append(rec)
        if not meta.volume_dir:
            meta.volume_dir = str(self.data_dir / "instance")
        instances = [p for p in meta.processes if p.role in ("writer", "reader")]
        if not any(p.role == "writer" for p in instances):
            instances.insert(0, md.ProcessRecord(name=meta.new_instance_name(), role="writer", host=opts.host,
                                                 port=0, az="a", data_dir=meta.volume_dir))
        for rec in instances:
            if rec.name in adopted:
                continue
            rec.host, rec.port, rec.pid, rec.restarts, rec.replication_port = opts.host, 0, 0, 0, 0
            if rec.role == "writer":
                rec.data_dir = meta.volume_dir
            elif not rec.data_dir:
                rec.data_dir = str(self.data_dir / "instances" / rec.name)
        readers = [p for p in instances if p.role == "reader"]
        for _ in range(len(readers), opts.replicas):
            instances.append(self.new_reader_record())
        processes += instances
        processes.append(md.ProcessRecord(name="writer-endpoint", role="endpoint", host=opts.host, port=opts.port))
        processes.append(md.ProcessRecord(name="reader-endpoint", role="endpoint", host=opts.host,
                                          port=opts.reader_port))
        for name, spec in meta.custom_endpoints.items():
            processes.append(md.ProcessRecord(name=f"{name}-endpoint", role="endpoint", host=opts.host,
                                              port=int(spec.get("port", 0))))
        meta.processes = processes
        meta.notes = []

    def new_reader_record(self, promotion_tier: int = 1) -> md.ProcessRecord:
        name = self.meta.new_instance_name()
        return md.ProcessRecord(name=name, role="reader", host=self.options.host, port=0,
                                az=md.AZS[(self.meta.next_instance - 2) % len(md.AZS)],
                                data_dir=str(self.data_dir / "instances" / name), promotion_tier=promotion_tier)

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.options.ssl and not self.options.ssl_cert_file:  # one certificate for every instance
            ensure_certificate(self.data_dir / "server.crt", self.data_dir / "server.key")
        if supervisor_alive(self.meta, self.data_dir):
            raise RuntimeError(f"the cluster in {self.data_dir} is supervised by pid {self.meta.supervisor_pid} already")
        adopted = await adoptable(self.meta, self.data_dir)
        reap_orphans(self.meta, self.data_dir, keep=frozenset(p.pid for p in adopted.values()))
        self._plan_processes(frozenset(adopted))
        self.meta.state = "starting"
        self.meta.supervisor_pid = os.getpid()
        self.save()
        await asyncio.gather(*(self._spawn_storage(rec) for rec in self.meta.storage_nodes() if rec.name not in adopted))
        for name, proc in adopted.items():
            rec = self.meta.find(name)
            assert rec is not None
            self.adopt(rec, proc)
        readers = [r for r in self.meta.readers() if r.name not in adopted]  # (a failover restarts its old writer)
        writer = self.meta.writer()
        assert writer is not None
        if writer.name in adopted:
            self.set_writer(writer)
        elif any(r.name in adopted for r in self.meta.readers()):
            from pgaurora.cluster.topology import failover  # the writer died while nobody supervised
            await failover(self, reason=f"writer {writer.name} was gone when the supervisor started")
        else:
            await self.spawn_instance(writer)
            self.set_writer(writer)
        if readers and not replicas_supported():
            raise RuntimeError("read replicas are not available in this build (no replication listener)")
        if readers:
            # readers that are slow to subscribe finish starting in the background
            starting = [asyncio.get_running_loop().create_task(self.start_reader(r)) for r in readers]
            self._tasks.update(starting)
            await asyncio.wait(starting, timeout=READERS_START_WAIT)
        await self._start_endpoints()
        await self.control.start()
        self.meta.state = "running"
        self.save()
        self.spawn_task(health_loop(self))
        if self.options.standby:
            self.spawn_task(self.standby.fill())

    async def _start_endpoints(self) -> None:
        opts = self.options
        self.routers["writer"] = EndpointRouter("writer", opts.host, opts.port, self.writer_targets)
        self.routers["reader"] = EndpointRouter("reader", opts.host, opts.reader_port, self.reader_targets)
        for name in self.meta.custom_endpoints:
            self.routers[name] = EndpointRouter(name, opts.host, int(self.meta.custom_endpoints[name].get("port", 0)),
                                                self.custom_targets(name))
        for name, router in self.routers.items():
            await self.start_router(name, router)

    async def start_router(self, name: str, router: EndpointRouter) -> None:
        self.routers[name] = router
        port = await router.start()
        rec = self.meta.find(f"{name}-endpoint")
        if rec is None:
            rec = md.ProcessRecord(name=f"{name}-endpoint", role="endpoint", host=router.host, port=port)
            self.meta.processes.append(rec)
        rec.port, rec.pid, rec.started_at = port, os.getpid(), time.time()
        self.meta.endpoints[name] = router.address
        if name in self.meta.custom_endpoints:
            self.meta.custom_endpoints[name]["port"] = port

    # -- endpoint targets -------------------------------------------------------------------------

    def is_healthy(self, rec: md.ProcessRecord) -> bool:
        tracker = self.health.get(rec.name)
        proc = self.procs.get(rec.name)
        return (tracker is not None and tracker.state is Health.HEALTHY and proc is not None
                and proc.returncode is None and rec.port > 0)

    def writer_targets(self) -> list[Target]:
        return [self.writer_target] if self.writer_target is not None else []

    def reader_targets(self) -> list[Target]:
        readers = [(r.host, r.port) for r in self.meta.readers() if self.is_healthy(r)]
        return readers or self.writer_targets()

    def custom_targets(self, name: str) -> Callable[[], list[Target]]:
        def targets() -> list[Target]:
            spec = self.meta.custom_endpoints.get(name, {})
            members = set(spec.get("members", []))
            kinds = ("reader",) if spec.get("type", "ANY") == "READER" else ("reader", "writer")
            return [(r.host, r.port) for r in self.meta.instances()
                    if r.name in members and r.role in kinds and self.is_healthy(r)]
        return targets

    def set_writer(self, rec: md.ProcessRecord) -> None:
        self.writer_target = (rec.host, rec.port)
        self.meta.volume_dir = rec.data_dir or self.meta.volume_dir
        self.meta.epoch = max(self.meta.epoch, volume_epoch(self.meta.volume_dir))

    # -- processes --------------------------------------------------------------------------------

    def adopt(self, rec: md.ProcessRecord, proc: AdoptedProcess) -> None:
        """A process a previous supervisor started (verified by cluster.adopt) is ours now."""
        self.procs[rec.name] = proc
        rec.health = Health.HEALTHY.value
        if rec.role == "storage-node":
            self.spawn_task(self._monitor_storage(rec, proc))
            return
        self.health[rec.name] = HealthTracker(self.options.failures_before_down)
        self.health[rec.name].probed(True)
        self._replication.setdefault(rec.name, asyncio.Event()).set()
        self.spawn_task(self._monitor_instance(rec, proc))

    def log_path(self, rec: md.ProcessRecord) -> Path:
        path = self.data_dir / "log" / f"{rec.name}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    async def _spawn_storage(self, rec: md.ProcessRecord) -> None:
        Path(rec.data_dir).mkdir(parents=True, exist_ok=True)
        log_path = self.log_path(rec)
        first_start = rec.port == 0   # port 0: the node binds a free port and prints READY host:port
        with open(log_path, "ab") as log_file:
            proc = await asyncio.create_subprocess_exec(
                *storage_command(rec), stdout=asyncio.subprocess.PIPE if first_start else log_file,
                stderr=log_file, stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
        self.procs[rec.name] = proc
        rec.pid, rec.started_at = proc.pid, time.time()
        try:
            if first_start:
                ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
                self.spawn_task(self._read_storage_stdout(rec, proc, ready))
                async with asyncio.timeout(START_TIMEOUT):
                    rec.port = await ready
            else:
                await wait_listening(rec.host, rec.port, proc, START_TIMEOUT)
        except (RuntimeError, TimeoutError):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise RuntimeError(f"{rec.name} did not start:\n{log_path.read_text(errors='replace')[-2000:]}") from None
        rec.health = Health.HEALTHY.value
        self.spawn_task(self._monitor_storage(rec, proc))

    async def _read_storage_stdout(self, rec: md.ProcessRecord, proc: asyncio.subprocess.Process,
                                   ready: asyncio.Future[int]) -> None:
        assert proc.stdout is not None
        with open(self.log_path(rec), "ab") as log_file:
            while line := await proc.stdout.readline():
                log_file.write(line)
                log_file.flush()
                text = line.decode(errors="replace").strip()
                if text.startswith("READY ") and not ready.done():
                    ready.set_result(int(text.rsplit(":", 1)[1]))
        if not ready.done():
            ready.set_exception(RuntimeError(f"{rec.name} exited before READY"))

    async def spawn_instance(self, rec: md.ProcessRecord) -> None:
        """Starts the instance process for `rec` and returns once it printed READY port=N."""
        Path(rec.data_dir).mkdir(parents=True, exist_ok=True)
        log_path = self.log_path(rec)
        command = instance_command(rec, self.options, self.meta)
        proc = await self.standby.take(command, log_path)
        if proc is not None:
            self.spawn_task(self.standby.fill())
        else:
            with open(log_path, "ab") as log_file:
                proc = await asyncio.create_subprocess_exec(
                    *command, stdout=asyncio.subprocess.PIPE, stderr=log_file,
                    stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
        self.procs[rec.name] = proc
        self.health[rec.name] = HealthTracker(self.options.failures_before_down)
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._ready[rec.name] = ready
        self._replication.setdefault(rec.name, asyncio.Event()).clear()
        rec.pid, rec.started_at, rec.port, rec.health = proc.pid, time.time(), 0, Health.STARTING.value
        rec.replication_port = 0
        self.spawn_task(self._read_stdout(rec, proc, ready))
        try:
            async with asyncio.timeout(START_TIMEOUT):
                rec.port = await ready
        except (TimeoutError, RuntimeError):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise RuntimeError(f"{rec.name} did not start:\n{log_path.read_text(errors='replace')[-2000:]}") from None
        if rec.role == "writer" and replicas_supported() and not rec.replication_port:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self._replication[rec.name].wait()
        self.health[rec.name].probed(True)
        rec.health = Health.HEALTHY.value
        self.spawn_task(self._monitor_instance(rec, proc))

    async def _read_stdout(self, rec: md.ProcessRecord, proc: asyncio.subprocess.Process,
                           ready: asyncio.Future[int]) -> None:
        """Tees the instance's stdout to its log and picks up READY / REPLICATION lines."""
        assert proc.stdout is not None
        with open(self.log_path(rec), "ab") as log_file:
            while line := await proc.stdout.readline():
                log_file.write(line)
                log_file.flush()
                text = line.decode(errors="replace").strip()
                if text.startswith("REPLICATION port=") and self.procs.get(rec.name) is proc:
                    rec.replication_port = int(text.split("=", 1)[1])
                    self._replication.setdefault(rec.name, asyncio.Event()).set()
                elif text.startswith("READY port=") and not ready.done():
                    ready.set_result(int(text.split("=", 1)[1]))
        if not ready.done():
            ready.set_exception(RuntimeError(f"{rec.name} exited before READY"))

    async def _monitor_storage(self, rec: md.ProcessRecord, proc: ProcessLike) -> None:
        code = await proc.wait()
        if self._stopping or self.procs.get(rec.name) is not proc:
            return
        log.warning("%s (pid %d) exited with %s; restarting it", rec.name, proc.pid, code)
        rec.health = Health.DOWN.value
        while not self._stopping:
            rec.restarts += 1
            await asyncio.sleep(min(0.1 * 2 ** min(rec.restarts, 6), MAX_RESTART_DELAY))  # restart back-off
            if self._stopping:
                return
            try:
                await self._spawn_storage(rec)
            except RuntimeError as exc:
                log.error("restart of %s failed: %s", rec.name, exc)
                continue
            self.save()
            return

    async def _monitor_instance(self, rec: md.ProcessRecord, proc: ProcessLike) -> None:
        code = await proc.wait()
        if self._stopping or self.procs.get(rec.name) is not proc:
            return   # stopped on purpose, or already replaced (failover, delete)
        log.warning("%s %s (pid %d) exited with %s", rec.role, rec.name, proc.pid, code)
        self.health[rec.name].exited()
        rec.health = Health.DOWN.value
        if rec.role == "writer":
            from pgaurora.cluster.topology import failover
            self.spawn_task(failover(self, reason=f"writer {rec.name} exited with {code}", expected_pid=proc.pid))
        else:
            self.spawn_task(self.restart_reader(rec, proc))

    async def start_reader(self, rec: md.ProcessRecord, attempts: int = 5) -> None:
        """Starts a reader, retrying with back-off (bounded), unless it was deleted or promoted meanwhile."""
        for attempt in range(1, attempts + 1):
            if self._stopping or rec.role != "reader" or self.meta.find(rec.name) is not rec:
                return
            proc = self.procs.get(rec.name)
            if proc is not None and proc.returncode is None:
                return
            try:
                await self.spawn_instance(rec)
            except RuntimeError as exc:
                log.error("reader %s did not start (attempt %d): %s", rec.name, attempt, exc)
                rec.restarts += 1
                await asyncio.sleep(min(0.5 * attempt, MAX_RESTART_DELAY))  # retry back-off
                continue
            self.save()
            return

    async def restart_reader(self, rec: md.ProcessRecord, old: ProcessLike) -> None:
        while not self._stopping and self.procs.get(rec.name) is old and rec.role == "reader":
            rec.restarts += 1
            await asyncio.sleep(min(0.1 * 2 ** min(rec.restarts, 6), MAX_RESTART_DELAY))  # restart back-off
            if self._stopping or self.procs.get(rec.name) is not old or rec.role != "reader":
                return
            try:
                async with self.failover_lock:   # never start a reader against a writer being replaced
                    await self.spawn_instance(rec)
            except RuntimeError as exc:
                log.error("restart of reader %s failed: %s", rec.name, exc)
                continue
            self.save()
            return

    async def terminate(self, proc: ProcessLike, timeout: float = STOP_TIMEOUT) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()

    # -- control ----------------------------------------------------------------------------------

    async def _handle_verb(self, verb: str, args: dict[str, object]) -> object:
        from pgaurora.cluster.topology import handle_verb
        return await handle_verb(self, verb, args)

    def save(self) -> None:
        md.save(self.data_dir, self.meta)

    def _save_while_stopping(self) -> None:
        """save(), when the processes must be stopped whether or not it can be (a full disk: the
        cluster.json already there stays whole, and the next start reaps what it names)."""
        try:
            self.save()
        except OSError as exc:
            log.warning("could not save the cluster metadata while stopping: %s", exc)

    # -- stop -------------------------------------------------------------------------------------

    async def stop(self) -> None:
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        if self.meta.supervisor_pid != os.getpid():
            self._stopped.set()  # never took the cluster over (another supervisor runs it): touch nothing
            return
        self.meta.state = "stopping"
        self._save_while_stopping()
        await self.control.stop()
        await asyncio.gather(*(router.stop() for router in self.routers.values()))
        readers = [self.procs[r.name] for r in self.meta.readers() if r.name in self.procs]
        await asyncio.gather(*(self.terminate(p) for p in readers))
        writer = self.meta.writer()
        if writer is not None and writer.name in self.procs:
            await self.terminate(self.procs[writer.name])
        await self.standby.stop()
        for proc in self.fenced:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        await asyncio.gather(*(self.terminate(self.procs[r.name]) for r in self.meta.storage_nodes()
                               if r.name in self.procs))
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        await asyncio.gather(*[t for t in self._tasks if t is not asyncio.current_task()], return_exceptions=True)
        # a process whose start was cancelled above (a reader still subscribing) goes too
        await asyncio.gather(*(self.terminate(p, timeout=10.0) for p in self.procs.values() if p.returncode is None))
        for rec in self.meta.processes:
            rec.pid = 0
            rec.health = ""
        self.meta.state = "stopped"
        self.meta.supervisor_pid = 0
        self._save_while_stopping()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def run_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        stopped = loop.create_task(self._stopped.wait())
        signalled = loop.create_task(stop.wait())
        try:
            await asyncio.wait({stopped, signalled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            signalled.cancel()
            stopped.cancel()
            await self.stop()


async def serve(options: ServeOptions) -> int:
    supervisor = Supervisor(options)
    try:
        await supervisor.start()
    except BaseException:
        await supervisor.stop()
        raise
    o = options
    readers = len(supervisor.meta.readers())
    print(f"pgaurora is running: {o.storage_nodes} storage nodes in AZs a/b/c, 1 writer, {readers} readers "
          f"(data: {supervisor.data_dir})")
    print(f"  writer endpoint: {o.host}:{supervisor.routers['writer'].port}    connect with: "
          f"psql -h {o.host} -p {supervisor.routers['writer'].port} -U postgres")
    target = "round-robin over the readers" if readers else "routes to the writer: no read replicas"
    print(f"  reader endpoint: {o.host}:{supervisor.routers['reader'].port} ({target})")
    if o.ssl:
        cert = o.ssl_cert_file or str(supervisor.data_dir / "server.crt")
        print(f"  TLS: on ({'required' if o.force_ssl else 'optional'}; certificate {cert})")
    print(f"  control socket: {supervisor.control.path}")
    print("  stop with Ctrl-C", flush=True)
    await supervisor.run_until_signal()
    print("pgaurora stopped cleanly", flush=True)
    return 0
