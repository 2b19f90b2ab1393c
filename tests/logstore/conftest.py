"""Fixtures for logstore tests: six in-process storage nodes (two per AZ) and a volume config."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgaurora.logstore import InProcessTransport, NodeSpec, StorageNode, VolumeConfig
from tests.logstore.procs import start_nodes

AZS = ("a", "a", "b", "b", "c", "c")


class Cluster:
    """Six in-process storage nodes on one transport; nodes can be crashed and restarted."""

    def __init__(self, root: Path, *, fsync: bool = False, count: int = 6):
        self.root = root
        self.fsync = fsync
        self.transport = InProcessTransport(codec=True)
        self.specs = [NodeSpec(f"node{i}", AZS[i % 6]) for i in range(count)]
        self.nodes: dict[str, StorageNode] = {}

    def start_node(self, address: str) -> StorageNode:
        spec = next(s for s in self.specs if s.address == address)
        node = StorageNode(
            self.root / address, address, spec.az, transport=self.transport, fsync=self.fsync,
            gossip_delay=0.01, background_interval=0, rpc_timeout=0.5,
        )
        node.start()
        self.transport.register(node)
        self.nodes[address] = node
        return node

    async def stop_node(self, address: str) -> None:
        node = self.nodes.pop(address)
        self.transport.unregister(address)
        await node.stop()

    def start(self) -> None:
        for spec in self.specs:
            self.start_node(spec.address)

    async def stop(self) -> None:
        for address in list(self.nodes):
            await self.stop_node(address)

    def config(self, **overrides) -> VolumeConfig:
        options = dict(pages_per_group=16, write_timeout=2.0, rpc_timeout=0.5, read_timeout=0.5, retry_interval=0.02)
        options.update(overrides)
        return VolumeConfig(self.root / "volume.json", self.specs[:6], **options)


@pytest.fixture
async def cluster(tmp_path):
    c = Cluster(tmp_path)
    c.start()
    yield c
    await c.stop()


@pytest.fixture
def node_processes(tmp_path: Path):
    """Six real storage-node processes (tests.logstore.procs), stopped by pid afterwards."""
    processes = start_nodes(tmp_path)
    yield processes
    for process in processes:
        process.stop()
