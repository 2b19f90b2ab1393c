"""The log client's pipelined senders (logstore.sender) over TCP: several batches in flight per
segment, sent at the end of the appending loop turn, acks taken in callbacks, a node that goes away and back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pgaurora.logstore import NodeSpec, Page, RedoOp, StorageNode, Volume, VolumeConfig
from pgaurora.logstore import page as p
from pgaurora.logstore.tcp import NodeServer, TcpTransport

AZS = ("a", "a", "b", "b", "c", "c")


class Nodes:
    """Six storage nodes served over TCP inside this process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nodes: list[StorageNode] = []
        self.servers: list[NodeServer] = []
        self.ports: list[int] = []

    async def start(self) -> None:
        for i, az in enumerate(AZS):
            node = StorageNode(self.root / f"node{i}", "pending", az, transport=TcpTransport(), fsync=False,
                               background_interval=0, gossip_delay=0.01, rpc_timeout=0.5)
            server = NodeServer(node)
            host, port = await server.start("127.0.0.1", 0)
            node.address = f"{host}:{port}"
            node.start()
            self.nodes.append(node)
            self.servers.append(server)
            self.ports.append(port)

    def specs(self) -> list[NodeSpec]:
        return [NodeSpec(node.address, az) for node, az in zip(self.nodes, AZS, strict=True)]

    async def stop(self) -> None:
        for server in self.servers:
            await server.stop()
        for node in self.nodes:
            await node.stop()
            assert node.transport is not None
            await node.transport.close()


@pytest.fixture
async def nodes(tmp_path: Path):
    started = Nodes(tmp_path)
    await started.start()
    yield started
    await started.stop()


async def test_pipelined_commits_are_durable_and_survive_a_node_going_away(nodes: Nodes, tmp_path: Path) -> None:
    transport = TcpTransport(connect_timeout=0.5)
    config = VolumeConfig(tmp_path / "volume.json", nodes.specs(), pages_per_group=64, pipeline_depth=3,
                          pipelined_senders=True, write_timeout=3.0, rpc_timeout=0.5, read_timeout=0.5, retry_interval=0.02)
    volume = await Volume.open(config, transport)
    try:
        pages = [1, 2, 3, 4]
        init = [(page, op, payload) for page in pages
                for op, payload in ((RedoOp.INIT, p.encode_init(1)), (RedoOp.APPEND, b"0"))]
        await volume.wait_durable(volume.append_mtr(init))
        pipelines = volume.group_logs[0].pipelines
        assert len(pipelines) == 6  # one sender per segment, all pipelined (TCP on the real clock)
        deepest = 0
        last: dict[int, bytes] = {}
        pump = volume._pump

        def pump_and_measure() -> None:  # one loop turn's appends leave here
            nonlocal deepest
            pump()
            deepest = max(deepest, *(len(pipeline.inflight) for pipeline in pipelines))

        volume._pump = pump_and_measure  # type: ignore[method-assign]

        async def writer(page: int, rounds: int, tag: str) -> None:
            for n in range(rounds):
                value = b"%s%d:%d" % (tag.encode(), page, n)
                lsn = volume.append_mtr([(page, RedoOp.SET, p.encode_set(0, value))])
                await volume.wait_durable(lsn)
                last[page] = value

        await asyncio.gather(*(writer(page, 25, "a") for page in pages))
        # MTRs of successive loop turns: each turn's batch leaves while the earlier ones are in flight
        lsns = []
        for n in range(12):
            lsns.append(volume.append_mtr([(1, RedoOp.SET, p.encode_set(0, b"t%d" % n))]))
            await asyncio.sleep(0)  # yields one loop turn (no waiting on a condition)
        await volume.wait_durable(lsns[-1])
        last[1] = b"t11"
        assert deepest > 1  # they did not wait for the batch ahead of them
        for page in pages:
            assert Page.from_bytes(await volume.read_page(page)).items == [last[page]]

        # A node goes away (its server stops: connections drop, reconnects fail) and comes back.
        down = nodes.servers[2]
        await down.stop()
        await asyncio.gather(*(writer(page, 10, "b") for page in pages))  # 5 of 6 still make quorum
        member = nodes.nodes[2].address
        behind = volume.tracker.groups[0].scl.get(member, 0)
        assert behind < volume.vdl
        revived = NodeServer(nodes.nodes[2])
        await revived.start("127.0.0.1", nodes.ports[2])
        nodes.servers[2] = revived
        for _ in range(200):  # bounded: each round is one durable commit
            await writer(1, 1, "c")
            if volume.tracker.groups[0].scl.get(member, 0) >= volume.vdl:
                break
        assert volume.tracker.groups[0].scl.get(member, 0) >= volume.vdl  # caught up (resend + gossip)
        for page in pages:
            assert Page.from_bytes(await volume.read_page(page)).items == [last[page]]
    finally:
        await volume.close()
        await transport.close()
