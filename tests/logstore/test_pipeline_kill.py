"""Pipelined senders (logstore.sender) against six real storage-node processes: kill -9 of two
nodes under a write load. A segment left idle behind the PGCL (a hole its node fills by gossip)
must be probed, or no ack reports the SCL it reaches and the 4/6 quorum stalls (before that fix
4 of 6 such runs stalled on a loaded host; test_pipeline.py checks the probe deterministically)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pgaurora.logstore import RedoOp, Volume, VolumeConfig
from pgaurora.logstore import page as p
from pgaurora.logstore.tcp import TcpTransport
from tests.logstore.procs import NodeProcess, specs, write_value

pytestmark = pytest.mark.long


@pytest.fixture
def nodes(node_processes: list[NodeProcess]) -> list[NodeProcess]:
    return node_processes


@pytest.mark.parametrize("run", range(3))
async def test_pipelined_writes_go_on_after_two_nodes_are_killed(
    nodes: list[NodeProcess], tmp_path: Path, run: int
) -> None:
    transport = TcpTransport(connect_timeout=0.5)
    config = VolumeConfig(tmp_path / "volume.json", specs(nodes), pages_per_group=64, write_timeout=1.5,
                          rpc_timeout=0.5, read_timeout=0.5, retry_interval=0.05, pipelined_senders=True)
    volume = await Volume.open(config, transport)
    try:
        for page in (1, 2, 3):
            await volume.wait_durable(volume.append_mtr([(page, RedoOp.INIT, p.encode_init(1))]))
        acknowledged = 0
        stop = asyncio.Event()

        async def writer(page: int) -> None:
            nonlocal acknowledged
            for n in range(100_000):
                if stop.is_set():
                    return
                data = b"%d:%d" % (page, n)
                lsn = write_value(volume, page, data, n)
                await volume.wait_durable(lsn)
                acknowledged += 1

        load = [asyncio.ensure_future(writer(page)) for page in (1, 2, 3)]
        await asyncio.sleep(0.3)  # a load running before the kill (not a wait on a condition)
        nodes[run % 3].kill()
        nodes[3 + run % 3].kill()
        count = acknowledged
        deadline = asyncio.get_running_loop().time() + 3.0  # bounded: writes go on with 4 of 6 up
        while acknowledged <= count + 10 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*load)  # a writer that saw StorageUnavailable fails the test here
        assert acknowledged > count + 10, "writes stopped with two of six nodes down"
    finally:
        await volume.close()
        await transport.close()
