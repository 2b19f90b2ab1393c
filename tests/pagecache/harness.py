"""A real in-process storage volume (six nodes, three AZs) with the compute-side stack on top.

Shared by tests/pagecache, tests/txn and tests/access: `Engine.start(tmp_path)` gives a Volume,
PageCache, TransactionManager and Storage; `crash_writer()` drops the compute side without
waiting for anything, `reopen()` opens the volume again (recovery) with a fresh compute side.
"""

from __future__ import annotations

from pathlib import Path

from pgaurora.access import Storage
from pgaurora.logstore import InProcessTransport, NodeSpec, StorageNode, Volume, VolumeConfig
from pgaurora.pagecache import PageCache
from pgaurora.txn import TransactionManager

AZS = ("a", "a", "b", "b", "c", "c")


class Engine:
    def __init__(self, root: Path, capacity: int = 50_000, pages_per_group: int = 64):
        self.root = root
        self.capacity = capacity
        self.transport = InProcessTransport(codec=False)
        self.specs = [NodeSpec(f"node{i}", AZS[i]) for i in range(6)]
        self.nodes: dict[str, StorageNode] = {}
        self.pages_per_group = pages_per_group
        self.volume: Volume
        self.cache: PageCache
        self.txns: TransactionManager
        self.storage: Storage

    @classmethod
    async def start(cls, root: Path, **options) -> Engine:
        engine = cls(root, **options)
        for spec in engine.specs:
            engine.start_node(spec.address)
        await engine.open()
        return engine

    def start_node(self, address: str) -> None:
        spec = next(s for s in self.specs if s.address == address)
        node = StorageNode(
            self.root / address, address, spec.az, transport=self.transport, fsync=False,
            gossip_delay=0.01, background_interval=0, rpc_timeout=0.5,
        )
        node.start()
        self.transport.register(node)
        self.nodes[address] = node

    async def stop_node(self, address: str) -> None:
        node = self.nodes.pop(address)
        self.transport.unregister(address)
        await node.stop()

    def config(self) -> VolumeConfig:
        return VolumeConfig(
            self.root / "volume.json", self.specs, pages_per_group=self.pages_per_group,
            write_timeout=2.0, rpc_timeout=0.5, read_timeout=0.5, retry_interval=0.02,
        )

    async def open(self) -> None:
        self.volume = await Volume.open(self.config(), self.transport)
        self.cache = PageCache(self.volume, capacity=self.capacity)
        await self.cache.open()
        self.txns = await TransactionManager(self.cache).open()
        self.storage = Storage(self.cache, self.txns)

    async def crash_writer(self) -> None:
        """The writer process dies: its cache and transaction table vanish; undelivered redo is lost."""
        await self.volume.close()

    async def reopen(self) -> None:
        for spec in self.specs:
            if spec.address not in self.nodes:
                self.start_node(spec.address)
        await self.open()

    async def stop(self) -> None:
        await self.volume.close()
        for address in list(self.nodes):
            await self.stop_node(address)
