"""The log client's pipelined senders (logstore.sender) over TCP: several batches in flight per
segment, sent at the end of the appending loop turn, acks taken in callbacks, a node that goes away and back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pgaurora.logstore import NodeSpec, Page, RedoOp, StorageNode, Volume, VolumeConfig
from pgaurora.logstore import messages as m
from pgaurora.logstore import page as p
from pgaurora.logstore.records import decode_records
from pgaurora.logstore.tcp import NodeServer, ReplyCallback, TcpTransport

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


async def test_a_turns_commits_leave_in_one_batch_encoded_once_for_six_segments(nodes: Nodes, tmp_path: Path) -> None:
    """Commits of one loop turn share a batch (a commit's wait does not send early: that split the
    turn's commits over two round trips, with twice the batches per commit), and the six segments
    are sent the same bytes, encoded once."""
    transport = TcpTransport(connect_timeout=0.5)
    bodies: list[bytes] = []
    real_start_call = transport.start_call

    def start_call(
        address: str, request: m.Request | bytes, timeout: float, on_reply: ReplyCallback | None = None
    ) -> asyncio.Future[m.Reply]:
        if isinstance(request, bytes):
            bodies.append(request)
        return real_start_call(address, request, timeout, on_reply)

    transport.start_call = start_call  # type: ignore[method-assign]
    config = VolumeConfig(tmp_path / "volume.json", nodes.specs(), pages_per_group=64, pipeline_depth=2,
                          pipelined_senders=True, write_timeout=3.0, rpc_timeout=0.5, retry_interval=0.02)
    volume = await Volume.open(config, transport)
    try:
        await volume.wait_durable(volume.append_mtr([(page, RedoOp.INIT, p.encode_init(1)) for page in (1, 2)]))
        bodies.clear()

        async def commit(page: int) -> None:
            await volume.wait_durable(volume.append_mtr([(page, RedoOp.APPEND, b"committed")]))

        await asyncio.gather(commit(1), commit(2))  # both append in the same turn
        assert len(bodies) == 6 and all(body is bodies[0] for body in bodies)
        batch = m.decode_request(bodies[0])
        assert isinstance(batch, m.AppendBatch)
        assert [record.lsn for record in decode_records(batch.records)] == [volume.vdl - 1, volume.vdl]
        for page in (1, 2):
            assert Page.from_bytes(await volume.read_page(page)).items == [b"committed"]
    finally:
        await volume.close()
        await transport.close()


async def test_an_idle_pipelined_segment_behind_the_group_is_probed_until_an_ack_shows_its_scl(
    nodes: Nodes, tmp_path: Path
) -> None:
    """A segment's ack reports an SCL below the batch it got (a hole, which its node then fills by
    gossip) and nothing more is written: probes must go on, or no ack ever reports the SCL it
    reaches (with two nodes killed, such a segment stalled the 4/6 quorum)."""
    transport = TcpTransport(connect_timeout=0.5)
    member = nodes.nodes[2].address
    real_start_call = transport.start_call
    hole: list[int] = []  # armed with the SCL to report once for the next batch to `member`

    def start_call(
        address: str, request: m.Request | bytes, timeout: float, on_reply: ReplyCallback | None = None
    ) -> asyncio.Future[m.Reply]:
        decoded = m.decode_request(request) if isinstance(request, bytes) else request
        if not (hole and address == member and isinstance(decoded, m.AppendBatch) and decoded.records):
            return real_start_call(address, request, timeout, on_reply)
        reported = hole.pop()
        relayed: asyncio.Future[m.Reply] = asyncio.get_running_loop().create_future()

        def relay(done: asyncio.Future[m.Reply]) -> None:
            if done.cancelled() or done.exception() is not None:
                relayed.set_exception(done.exception() or ConnectionError("cancelled"))
            else:
                relayed.set_result(m.Ack(reported, done.result().epoch))  # type: ignore[union-attr]
            if on_reply is not None:
                on_reply(relayed)

        real_start_call(address, request, timeout, relay)
        return relayed

    transport.start_call = start_call  # type: ignore[method-assign]
    config = VolumeConfig(tmp_path / "volume.json", nodes.specs(), pages_per_group=64, pipelined_senders=True,
                          write_timeout=3.0, rpc_timeout=0.5, read_timeout=0.5, retry_interval=0.02)
    volume = await Volume.open(config, transport)
    try:
        await volume.wait_durable(volume.append_mtr([(1, RedoOp.INIT, p.encode_init(1)), (1, RedoOp.APPEND, b"0")]))
        quorum = volume.tracker.groups[0]
        hole.append(quorum.scl[member])
        target = volume.append_mtr([(1, RedoOp.SET, p.encode_set(0, b"last"))])
        await volume.wait_durable(target)  # the other five make the quorum
        caught_up = asyncio.get_running_loop().create_future()
        ack = volume.tracker.ack

        def watch(group: int, segment: str, scl: int) -> bool:
            advanced = ack(group, segment, scl)
            if segment == member and scl >= target and not caught_up.done():
                caught_up.set_result(None)
            return advanced

        volume.tracker.ack = watch  # type: ignore[method-assign]
        if quorum.scl.get(member, 0) < target:
            await asyncio.wait_for(caught_up, 5.0)  # no more writes: only a probe's ack can report it
        assert quorum.scl[member] >= target
    finally:
        await volume.close()
        await transport.close()
