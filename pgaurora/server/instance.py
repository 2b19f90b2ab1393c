"""A compute instance (the writer): volume, page cache, transactions, catalog, listener.

Owns bringing an instance up in PostgreSQL's order — open the volume (which runs volume
recovery: epoch bump, read quorums, VCL/VDL; no redo replay), then the page cache, the
transaction manager, access storage and the catalog, then listen — and taking it down in
reverse on SIGTERM/SIGINT. `pgaurora instance --port 0` prints `READY port=N` once it accepts
connections. Without `--storage-nodes` the six storage nodes run in this process over the
in-process transport (fast tests); with them, over TCP to storage-node processes.
Not the supervisor (cluster), not one connection (server.connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pgaurora.access.storage import Storage
from pgaurora.catalog.catalog import Catalog
from pgaurora.logstore import InProcessTransport, NodeSpec, StorageNode, Volume, VolumeConfig
from pgaurora.pagecache.cache import PageCache
from pgaurora.server.listener import PgServer
from pgaurora.session.engine import Engine
from pgaurora.txn.manager import TransactionManager

log = logging.getLogger(__name__)

IN_PROCESS_AZS = ("a", "b", "c", "a", "b", "c")


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
        config = VolumeConfig(metadata_path=self.data_dir / "volume.json", nodes=specs)
        self.volume = await Volume.open(config, self.transport)

    async def _open_engine(self) -> Engine:
        pagecache = PageCache(self.volume)
        txn_manager = await TransactionManager(pagecache).open()
        storage = Storage(pagecache, cast(Any, txn_manager))
        catalog = await Catalog.open(storage, txn_manager)
        return Engine(catalog, txn_manager, storage, self.volume)

    async def start(self) -> int:
        await self._open_volume()
        self.engine = await self._open_engine()
        opts = self.options
        if opts.role == "writer":
            self.engine.storage.start_autovacuum()  # heap-only passes over heaps with many writes
        self.server = PgServer(self.engine, host=opts.host, port=opts.port, max_connections=opts.max_connections,
                               auth=opts.auth)
        return await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
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
    print(f"READY port={port}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await instance.stop()
    return 0
