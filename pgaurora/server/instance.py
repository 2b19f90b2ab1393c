"""A compute instance (writer or reader): volume, page cache, transactions, catalog, listener.

Owns bringing an instance up in PostgreSQL's order — open the volume (which runs volume
recovery: epoch bump, read quorums, VCL/VDL; no redo replay), then the page cache, the
transaction manager, access storage and the catalog, then listen — and taking it down in
reverse on SIGTERM/SIGINT. `pgaurora instance --port 0` prints `READY port=N` once it accepts
connections. Without `--storage-nodes` the six storage nodes run in this process over the
in-process transport (fast tests); with them, over TCP to storage-node processes.

A writer also listens for read replicas (server.replication_source; `REPLICATION port=P` is
printed before READY). A reader (`--role reader --writer HOST:REPLPORT`) follows that stream
(server.replication_follower) and reads the same storage nodes at its own read point; its
sessions are hot-standby sessions. `promote()` turns a reader into the writer in-process:
stop following, open the volume as writer (recovery bumps the epoch, fencing the old writer;
no redo replay), rebuild the engine, serve read-write on the same port.
Not the supervisor (cluster), not one connection (server.connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import msgspec

from pgaurora.access.storage import Storage
from pgaurora.catalog.catalog import Catalog
from pgaurora.gcpolicy import GcPolicy
from pgaurora.logstore import InProcessTransport, NodeSpec, StorageNode, Volume, VolumeConfig
from pgaurora.logstore.metadata import VolumeMetadata
from pgaurora.logstore.page import PAGE_SIZE
from pgaurora.pagecache.cache import PageCache
from pgaurora.security import HbaRules
from pgaurora.security.tls import ServerTls, ensure_certificate, load_server_tls
from pgaurora.server.auth import hba_for
from pgaurora.server.listener import PgServer
from pgaurora.session.engine import Engine
from pgaurora.txn.manager import TransactionManager

log = logging.getLogger(__name__)

IN_PROCESS_AZS = ("a", "b", "c", "a", "b", "c")
PROTECTION_GROUP_PAGES = (10 << 30) // PAGE_SIZE  # a new volume's protection groups: 10 GiB, as Aurora's
# What a reader's sessions report, as a PostgreSQL hot standby's do (libpq target_session_attrs).
HOT_STANDBY_SETTINGS = {"in_hot_standby": "on", "transaction_read_only": "on"}


@dataclass(slots=True)
class InstanceOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5432
    storage_nodes: str = ""        # "host:port@az,..." ; empty = six in-process storage nodes
    max_connections: int = 100
    auth: str = "trust"
    role: str = "writer"
    fsync: bool = True
    writer: str = ""              # reader: the writer's replication address host:port
    replication_port: int = 0     # writer: where readers subscribe (0 = a free port)
    server_id: str = ""           # the name in aurora_replica_status()
    # Pages per protection group of a volume this writer creates (an existing volume keeps its
    # own, from volume.json). Aurora's groups are 10 GB: a transaction's records then land in one
    # group, so a commit waits for one group's quorum and each node gets one batch per round trip.
    protection_group_pages: int = PROTECTION_GROUP_PAGES
    # TLS: answer SSLRequest with this certificate and key (PEM; both empty with `ssl`: the data
    # directory's server.crt / server.key, a self-signed pair written at the first start), and
    # with `force_ssl` (Aurora's rds.force_ssl) refuse TCP clients that did not ask for it
    ssl: bool = False
    ssl_cert_file: str = ""
    ssl_key_file: str = ""
    force_ssl: bool = False


def group_pages(mib: int) -> int:
    """Pages per protection group for a size of `mib` MiB (at least 1)."""
    return (mib << 20) // PAGE_SIZE


def parse_node_list(text: str) -> list[NodeSpec]:
    specs = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        address, _, az = item.partition("@")
        specs.append(NodeSpec(address=address, az=az or "a"))
    return specs


class Instance:
    """Everything one running writer instance owns."""

    def __init__(self, options: InstanceOptions) -> None:
        self.options = options
        self.data_dir = Path(options.data_dir)
        self.transport: Any = None
        self.nodes: list[StorageNode] = []
        self.volume: Any = None
        self.engine: Engine | None = None
        self.server: PgServer | None = None
        self.role = options.role
        self.server_id = options.server_id or f"instance-{os.getpid()}"
        self.source: Any = None      # server.replication_source.ReplicationSource (writer)
        self.follower: Any = None    # server.replication_follower.ReplicaFollower (reader)
        self.replication_port = 0
        self.port = 0
        self.recent: Any = None      # server.replication_source.RecentRedo: MTRs since recovery
        self.promotion: dict[str, Any] = {}  # the last promotion: timings, pages kept
        self.promoting: Any = None   # the promotion task pg_promote() started

    async def _open_volume(self) -> None:
        opts = self.options
        self.data_dir.mkdir(parents=True, exist_ok=True)
        specs = parse_node_list(opts.storage_nodes)
        if specs:
            from pgaurora.logstore.tcp import TcpTransport
            self.transport = TcpTransport()
        else:
            transport = InProcessTransport()
            self.transport = transport
            for i, az in enumerate(IN_PROCESS_AZS):
                address = f"node-{i + 1}"
                node = StorageNode(self.data_dir / "storage" / address, address, az, transport=transport,
                                   fsync=opts.fsync)
                node.start()
                transport.register(node)
                self.nodes.append(node)
                specs.append(NodeSpec(address=address, az=az))
        config = VolumeConfig(metadata_path=self.data_dir / "volume.json", nodes=specs,
                              pages_per_group=opts.protection_group_pages)
        self.volume = await Volume.open(config, self.transport)

    def _keep_recent_redo(self) -> None:
        """From recovery on, the writer keeps its recent MTRs for readers that reconnect (a writer
        on in-process storage nodes never has readers: it keeps none)."""
        from pgaurora.server.replication_source import RecentRedo

        if not parse_node_list(self.options.storage_nodes):
            return
        self.recent = RecentRedo(self.volume.appended_lsn)
        self.volume.on_append = self.recent.add

    async def _open_engine(self, warm: tuple[list[tuple[int, Any]], dict[int, Any]] | None = None) -> Engine:
        pagecache = PageCache(self.volume)
        if warm:
            from pgaurora.pagecache.replica import adopt_pages

            adopt_pages(pagecache, *warm)
        txn_manager = await TransactionManager(pagecache).open()
        storage = Storage(pagecache, cast(Any, txn_manager))
        catalog = await Catalog.open(storage, txn_manager)
        return Engine(catalog, txn_manager, storage, self.volume)

    async def start(self) -> int:
        from pgaurora.server import replication_functions

        replication_functions.attach(self)
        opts = self.options
        if opts.role == "reader":
            return await self._start_reader()
        await self._open_volume()
        self._keep_recent_redo()
        self.engine = await self._open_engine()
        self.engine.storage.start_autovacuum()  # heap-only passes over heaps with many writes
        await self._start_source()
        self.server = PgServer(self.engine, host=opts.host, port=opts.port, max_connections=opts.max_connections,
                               auth=opts.auth, hba=self._hba(), tls=self._tls())
        self.port = await self.server.start()
        return self.port

    async def _start_source(self) -> None:
        from pgaurora.server.replication_source import ReplicationSource

        assert self.engine is not None
        self.source = ReplicationSource(self.volume, self.engine.txn_manager, server_id=self.server_id,
                                        host=self.options.host, port=self.options.replication_port,
                                        recent=self.recent)
        self.replication_port = await self.source.start()

    async def _start_reader(self) -> int:
        """Follows the writer's stream, opens the engine on the replica cache, serves reads."""
        from pgaurora.logstore.tcp import TcpTransport
        from pgaurora.server.replication_follower import ReplicaFollower
        from pgaurora.server.replication_storage import ReplicaStorage

        opts = self.options
        if not parse_node_list(opts.storage_nodes):
            raise ValueError("a reader instance needs --storage-nodes (the writer's storage nodes, over TCP)")
        if not opts.writer:
            raise ValueError("a reader instance needs --writer HOST:PORT (the writer's replication port)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.transport = TcpTransport()
        follower = self.follower = ReplicaFollower(opts.writer, server_id=self.server_id, transport=self.transport,
                                                   address=f"{opts.host}:{opts.port}")
        await follower.start()
        cache, txn_manager = follower.cache, follower.txns
        assert cache is not None and txn_manager is not None
        await cache.open()
        await txn_manager.open()
        storage = ReplicaStorage(cache, cast(Any, txn_manager))
        follower.storage = storage
        catalog = await Catalog.open(storage, txn_manager)
        follower.catalog = catalog
        self.volume = follower.volume
        self.engine = Engine(catalog, txn_manager, storage, follower.volume, read_only=True)
        self.server = PgServer(self.engine, host=opts.host, port=opts.port, max_connections=opts.max_connections,
                               auth=opts.auth, hba=self._hba(), tls=self._tls(),
                               fixed_settings=dict(HOT_STANDBY_SETTINGS))
        self.port = await self.server.start()
        return self.port

    def _tls(self) -> ServerTls | None:
        """The server's certificate (see InstanceOptions.ssl); None without TLS."""
        opts = self.options
        if not (opts.ssl or opts.ssl_cert_file):
            return None
        cert, key = opts.ssl_cert_file, opts.ssl_key_file
        if not cert:
            cert, key = str(self.data_dir / "server.crt"), str(self.data_dir / "server.key")
            ensure_certificate(Path(cert), Path(key))
        return load_server_tls(cert, key or cert)

    def _hba(self) -> HbaRules:
        """`--auth`'s rules, after `hostnossl all all all reject` with force_ssl."""
        rules = hba_for(self.options.auth)
        if self.options.force_ssl:
            rules = HbaRules(HbaRules.parse("hostnossl all all all reject\n").rules + rules.rules)
        return rules

    # -- replica control ------------------------------------------------------------------------

    def follow(self, address: str) -> None:
        """A reader follows another writer's replication port (after a failover)."""
        if self.follower is None:
            raise ValueError("only a reader instance follows a writer")
        self.follower.follow(address)

    async def promote(self) -> int:
        """Reader -> writer in this process; returns the new replication port.

        Stops following, writes the volume metadata the stream carried, opens the volume as its
        writer (volume recovery: epoch bump on a write quorum of every group fences the old
        writer, VCL/VDL recomputed, no redo replay), rebuilds the engine on the reader's cached
        pages (brought to the recovered VDL with the records the stream already delivered; a cold
        cache only when some of them never arrived) and serves read-write clients on the same
        port. Client sessions of the reader end (57P01).
        """
        if self.role != "reader" or self.follower is None:
            raise ValueError("only a reader instance can be promoted")
        opts = self.options
        follower = self.follower
        await follower.stop()
        metadata = msgspec.json.decode(follower.metadata, type=VolumeMetadata)
        metadata.save(self.data_dir / "volume.json")
        if self.server is not None:
            await self.server.stop()
        if follower.volume is not None:
            await follower.volume.close()
        config = VolumeConfig(metadata_path=self.data_dir / "volume.json", nodes=parse_node_list(opts.storage_nodes),
                              volume_id=metadata.volume_id, pages_per_group=metadata.pages_per_group)
        started = time.monotonic()
        self.volume = await Volume.open(config, self.transport)
        recovered = time.monotonic()
        warm = follower.hand_over(self.volume.vdl)
        self._keep_recent_redo()
        self.engine = await self._open_engine(warm)
        self.engine.storage.start_autovacuum()
        self.promotion = {"recovery_s": round(recovered - started, 3),
                          "engine_s": round(time.monotonic() - recovered, 3),
                          "pages_kept": len(warm[0]) if warm else 0, "vdl": self.volume.vdl}
        self.role = "writer"
        self.follower = None
        await self._start_source()
        self.server = PgServer(self.engine, host=opts.host, port=self.port, max_connections=opts.max_connections,
                               auth=opts.auth)
        await self.server.start()
        log.warning("promoted to writer at epoch %d (VDL %d); replication port %d; %s",
                    self.volume.epoch, self.volume.vdl, self.replication_port, self.promotion)
        with contextlib.suppress(OSError):  # an adopted instance's stdout may have no reader left
            print(f"REPLICATION port={self.replication_port}", flush=True)
        return self.replication_port

    def replica_lag_rows(self) -> list[tuple[Any, ...]]:
        """pgaurora_replica_lag(): lag samples (ms) of this reader, or each reader's last report."""
        from pgaurora.server.replication_functions import lag_summary

        if self.follower is not None:
            return [lag_summary(self.server_id, list(self.follower.lag_samples))]
        if self.source is not None:
            return [lag_summary(link.server_id, [link.feedback.lag_ms] if link.feedback else [])
                    for link in self.source.links]
        return []

    def replica_status_rows(self) -> list[dict[str, Any]]:
        """aurora_replica_status(): the writer's view of its readers, or a reader's own."""
        if self.source is not None:
            return list(self.source.status_rows())
        if self.follower is not None:
            return list(self.follower.status_rows())
        return []

    async def stop(self) -> None:
        from pgaurora.server import replication_functions

        replication_functions.detach(self)
        if self.follower is not None:
            with contextlib.suppress(Exception):
                await self.follower.stop()
        if self.server is not None:
            await self.server.stop()
        if self.source is not None:
            with contextlib.suppress(Exception):
                await self.source.stop()
        if self.engine is not None:
            with contextlib.suppress(Exception):
                await self.engine.storage.stop_autovacuum()
        if self.volume is not None:
            with contextlib.suppress(Exception):
                await self.volume.close()
        for node in self.nodes:
            with contextlib.suppress(Exception):
                await node.stop()
        if self.transport is not None:
            with contextlib.suppress(Exception):
                await self.transport.close()


async def run_instance(options: InstanceOptions) -> int:
    instance = Instance(options)
    try:
        port = await instance.start()
    except BaseException:
        await instance.stop()
        raise
    # What start-up built (modules, catalog, pglast) lives as long as the process, and so do
    # cached pages: keep them out of the cyclic GC's frequent full collections (pgaurora.gcpolicy).
    gc_policy = GcPolicy()
    gc_policy.start()
    if instance.replication_port:
        print(f"REPLICATION port={instance.replication_port}", flush=True)
    print(f"READY port={port}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        gc_policy.stop()
        await instance.stop()
    return 0
