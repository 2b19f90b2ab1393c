"""Six real storage-node processes on loopback: kill -9 during a write load, timeouts, repair."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pgaurora.errors import StorageUnavailable
from pgaurora.logstore import NodeSpec, Page, RedoOp, Volume, VolumeConfig
from pgaurora.logstore import page as p
from pgaurora.logstore.tcp import TcpTransport
from tests.logstore.procs import NodeProcess, specs, write_value


@pytest.fixture
def nodes(node_processes: list[NodeProcess]) -> list[NodeProcess]:
    return node_processes


async def test_kill_nodes_during_write_load(nodes: list[NodeProcess], tmp_path: Path) -> None:
    transport = TcpTransport(connect_timeout=0.5)
    config = VolumeConfig(
        tmp_path / "volume.json", specs(nodes), pages_per_group=64, write_timeout=1.5,
        rpc_timeout=0.5, read_timeout=0.5, retry_interval=0.05,
    )
    volume = await Volume.open(config, transport)
    acknowledged: list[tuple[int, bytes, int]] = []  # (page, value, commit LSN)
    page_of = {i: 1 + i % 3 for i in range(3)}
    for page in page_of.values():
        await volume.wait_durable(volume.append_mtr([(page, RedoOp.INIT, p.encode_init(1))]))

    stop = asyncio.Event()

    async def writer(worker: int) -> None:
        page = page_of[worker]
        for n in range(100_000):
            if stop.is_set():
                return
            data = b"%d:%d" % (worker, n)
            lsn = write_value(volume, page, data, n)
            await volume.wait_durable(lsn)
            acknowledged.append((page, data, lsn))

    load = [asyncio.ensure_future(writer(i)) for i in range(3)]
    await asyncio.sleep(0.3)
    nodes[0].kill()
    nodes[3].kill()  # two AZs lose a node each
    count = len(acknowledged)
    deadline = asyncio.get_running_loop().time() + 3.0  # bounded: writes go on with 4 of 6 up
    while len(acknowledged) <= count + 10 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert len(acknowledged) > count + 10, "writes stopped with two of six nodes down"
    stop.set()
    await asyncio.gather(*load)
    # Every acknowledged write is there: read as of its commit LSN, the page holds exactly it,
    # and the last one of each page is its current value.
    for page, data, lsn in acknowledged[:: max(len(acknowledged) // 60, 1)]:
        assert Page.from_bytes(await volume.read_page(page, lsn)).items == [data]
    last = {page: data for page, data, _ in acknowledged}
    for page, data in last.items():
        assert Page.from_bytes(await volume.read_page(page)).items == [data]

    nodes[5].kill()  # a third node: no write quorum
    lsn = volume.append_mtr([(1, RedoOp.SET, p.encode_set(0, b"blocked"))])
    with pytest.raises(StorageUnavailable) as info:
        await volume.wait_durable(lsn)
    assert info.value.sqlstate == "58000"
    assert Page.from_bytes(await volume.read_page(1)).items == [last[1]]  # reads still succeed

    nodes[5].start()  # same port, same data: writes resume
    await volume.wait_durable(lsn)
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.SET, p.encode_set(0, b"resumed"))]))

    # Replace dead node0 by a new, empty node: the group repairs itself from peers.
    spare = NodeProcess(tmp_path / "spare", "a")
    spare.start()
    try:
        config.nodes.append(NodeSpec(spare.address, "a"))
        groups = await asyncio.wait_for(volume.replace_node(nodes[0].address, spare.address), 30)
        assert groups == [0]
        assert volume.metadata.groups[0].members.count(spare.address) == 1
        await volume.wait_durable(volume.append_mtr([(1, RedoOp.SET, p.encode_set(0, b"repaired"))]))
        assert Page.from_bytes(await volume.read_page(1)).items == [b"repaired"]
        await volume.close()
        # A new writer recovers the volume from the surviving nodes (node3 still dead).
        again = await Volume.open(config, transport)
        assert Page.from_bytes(await again.read_page(1)).items == [b"repaired"]
        await again.close()
    finally:
        await transport.close()
        assert spare.stop() == 0
