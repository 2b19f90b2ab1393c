"""The log client over six in-process storage nodes (real clock, short timeouts)."""

from __future__ import annotations

import asyncio

import pytest

from pgaurora.errors import StorageUnavailable
from pgaurora.logstore import Page, RedoOp, Volume
from pgaurora.logstore import page as p


def items(image: bytes | None) -> list[bytes] | None:
    return None if image is None else Page.from_bytes(image).items


async def test_commit_read_and_reopen(cluster) -> None:
    volume = await Volume.open(cluster.config(), cluster.transport)
    assert volume.epoch == 1 and volume.vdl == 0
    lsn = volume.append_mtr([(1, RedoOp.INIT, p.encode_init(1)), (1, RedoOp.APPEND, b"a"), (40, RedoOp.INIT, p.encode_init(2))], 7)
    await volume.wait_durable(lsn)
    assert volume.vdl == lsn and len(volume.tracker.groups) == 3  # page 40 is in group 2
    assert items(await volume.read_page(1)) == [b"a"]
    assert items(await volume.read_page(40)) == []
    assert await volume.read_page(2) is None
    assert await volume.read_page(1000) is None
    await volume.close()
    again = await Volume.open(cluster.config(), cluster.transport)
    assert again.epoch == 2 and again.vdl == lsn and again.next_lsn > lsn
    assert items(await again.read_page(1)) == [b"a"]
    assert items(await again.read_page(1, lsn - 2)) == []
    await again.close()


async def test_concurrent_commits_share_batches(cluster) -> None:
    volume = await Volume.open(cluster.config(), cluster.transport)
    await volume.wait_durable(volume.append_mtr([(3, RedoOp.INIT, p.encode_init(1))]))
    before = cluster.transport.bytes_sent

    async def commit(i: int) -> int:
        lsn = volume.append_mtr([(3, RedoOp.SET if i else RedoOp.APPEND, p.encode_set(0, b"%d" % i) if i else b"0")])
        await volume.wait_durable(lsn)
        return lsn

    await commit(0)
    lsns = await asyncio.gather(*(commit(i) for i in range(1, 200)))
    assert volume.vdl >= max(lsns)
    # 199 commits in far fewer than 199 x 6 messages: boxcars.
    assert cluster.transport.bytes_sent - before < 199 * 6 * 200
    assert items(await volume.read_page(3)) == [b"%d" % (max(range(1, 200), key=lambda i: lsns[i - 1]))]
    await volume.close()


async def test_two_nodes_down_writes_go_on_three_down_they_fail(cluster) -> None:
    volume = await Volume.open(cluster.config(write_timeout=0.5), cluster.transport)
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.INIT, p.encode_init(1))]))
    await cluster.stop_node("node0")
    await cluster.stop_node("node2")
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.APPEND, b"two down")]))
    await cluster.stop_node("node4")
    lsn = volume.append_mtr([(1, RedoOp.APPEND, b"three down")])
    with pytest.raises(StorageUnavailable) as info:
        await volume.wait_durable(lsn)
    assert info.value.sqlstate == "58000" and "fewer than 4 of 6" in info.value.message
    assert items(await volume.read_page(1)) == [b"two down"]  # reads still work
    cluster.start_node("node4")
    await volume.wait_durable(lsn)  # the record was kept and goes through once a quorum is back
    assert items(await volume.read_page(1)) == [b"two down", b"three down"]
    await volume.close()


async def test_new_writer_fences_old_one(cluster) -> None:
    old = await Volume.open(cluster.config(), cluster.transport)
    await old.wait_durable(old.append_mtr([(1, RedoOp.INIT, p.encode_init(1))]))
    new = await Volume.open(cluster.config(), cluster.transport)
    assert new.epoch == old.epoch + 1
    with pytest.raises(StorageUnavailable) as info:
        await old.wait_durable(old.append_mtr([(1, RedoOp.APPEND, b"stale")]))
    assert "newer writer" in info.value.message
    await new.wait_durable(new.append_mtr([(1, RedoOp.APPEND, b"fresh")]))
    assert items(await new.read_page(1)) == [b"fresh"]
    await old.close()
    await new.close()


async def test_replace_node_repairs_group(cluster) -> None:
    from pgaurora.logstore import NodeSpec

    cluster.specs.append(NodeSpec("node6", "a"))
    cluster.start_node("node6")
    volume = await Volume.open(cluster.config(), cluster.transport)
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.INIT, p.encode_init(1)), (1, RedoOp.APPEND, b"x")]))
    await cluster.stop_node("node1")
    writes = [volume.append_mtr([(1, RedoOp.APPEND, b"w")])]
    changed = await volume.replace_node("node1", "node6")
    writes.append(volume.append_mtr([(1, RedoOp.APPEND, b"v")]))
    await asyncio.gather(*(volume.wait_durable(lsn) for lsn in writes))
    assert changed == [0] and "node6" in volume.metadata.groups[0].members
    segment = cluster.nodes["node6"].segments[("volume", 0)]
    await cluster.nodes["node6"].fill_from_peers(segment)  # the last batch may still be in flight
    assert segment.scl == volume.vdl
    await volume.close()


async def test_back_pressure(cluster) -> None:
    volume = await Volume.open(cluster.config(lal=10), cluster.transport)
    volume.append_mtr([(1, RedoOp.INIT, p.encode_init(1))])
    for _ in range(12):
        volume.append_mtr([(1, RedoOp.APPEND, b"")])
    assert volume.over_lal
    await volume.wait_for_room()
    assert not volume.over_lal
    await volume.close()


async def test_gc_then_refill_new_replica_from_images(cluster) -> None:
    import shutil

    from pgaurora.logstore import messages as m

    volume = await Volume.open(cluster.config(retention_lsns=0), cluster.transport)
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.INIT, p.encode_init(1))]))
    for i in range(60):
        await volume.wait_durable(volume.append_mtr([(1, RedoOp.APPEND, b"%d" % i)]))
    expected = items(await volume.read_page(1))
    volume.set_min_read_lsn(volume.vdl)
    await volume.wait_durable(volume.append_mtr([(2, RedoOp.INIT, p.encode_init(1))]))  # carries it
    for node in cluster.nodes.values():
        node._background()
    segment = cluster.nodes["node0"].segments[("volume", 0)]
    assert segment.gc_horizon > 0 and len(segment.by_lsn) < 10
    assert items(await volume.read_page(1)) == expected
    below = await cluster.nodes["node0"].handle(m.ReadPage("volume", 0, 1, 5))
    assert isinstance(below, m.Refused) and below.code == "below_horizon"

    # node5 comes back empty: it is re-created and refilled from its peers' images and records.
    await cluster.stop_node("node5")
    shutil.rmtree(cluster.root / "node5")
    node5 = cluster.start_node("node5")
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.APPEND, b"after")]))
    refilled = node5.segments.get(("volume", 0))
    if refilled is None:  # the writer's probe has not reached it yet: create it as the writer would
        await node5.handle(m.CreateSegment("volume", 0, volume.epoch, volume.metadata.groups[0].members))
        refilled = node5.segments[("volume", 0)]
    await node5.fill_from_peers(refilled)
    assert refilled.scl >= volume.vdl
    reply = await node5.handle(m.ReadPage("volume", 0, 1, volume.vdl))
    assert isinstance(reply, m.PageImage) and items(reply.image) == [*expected, b"after"]
    await volume.close()


async def test_a_backlog_slower_than_the_write_timeout_still_commits_while_vdl_advances(cluster) -> None:
    """The write timeout detects a lost quorum (VDL stuck), not a big transaction's shipping time."""
    from pgaurora.logstore import messages as m

    call = cluster.transport.call

    async def slow_call(address, request):
        if isinstance(request, m.AppendBatch) and request.records:
            await asyncio.sleep(0.01)  # every batch takes a while: the backlog takes ~0.5 s
        return await call(address, request)

    cluster.transport.call = slow_call
    volume = await Volume.open(cluster.config(write_timeout=0.15, max_batch_bytes=600), cluster.transport)
    lsn = volume.append_mtr([(page, RedoOp.INIT, p.encode_init(1)) for page in range(1, 5)])
    for i in range(40):
        lsn = volume.append_mtr([(1 + i % 4, RedoOp.APPEND, b"%04d" % i + b"x" * 400)])
    started = asyncio.get_running_loop().time()
    await volume.wait_durable(lsn)
    assert asyncio.get_running_loop().time() - started > 0.15
    for page in range(1, 5):
        assert len(items(await volume.read_page(page)) or []) == 10
    await volume.close()


async def test_each_commit_gets_the_write_timeout_from_its_own_start(cluster) -> None:
    """One timer serves every waiter: a commit fails once VDL has not moved for write_timeout
    while it waited, not when an older one does; a cancelled waiter is dropped; records stay queued."""
    volume = await Volume.open(cluster.config(write_timeout=0.4), cluster.transport)
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.INIT, p.encode_init(1))]))
    for node in ("node0", "node2", "node4"):
        await cluster.stop_node(node)
    loop = asyncio.get_running_loop()
    started = loop.time()
    first = asyncio.ensure_future(volume.wait_durable(volume.append_mtr([(1, RedoOp.APPEND, b"a")])))
    await asyncio.sleep(0.3)  # spaces the two commits in time (no condition is waited for)
    second_started = loop.time()
    last = volume.append_mtr([(1, RedoOp.APPEND, b"b")])
    second = asyncio.ensure_future(volume.wait_durable(last))
    cancelled = asyncio.ensure_future(volume.wait_durable(last))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(StorageUnavailable):
        await first
    assert loop.time() - started >= 0.39
    assert not second.done()  # its own write timeout runs from its start
    with pytest.raises(StorageUnavailable):
        await second
    assert loop.time() - second_started >= 0.39
    cluster.start_node("node4")
    await volume.wait_durable(last)  # both records were kept and go through with a quorum back
    assert items(await volume.read_page(1)) == [b"a", b"b"]
    await volume.close()


async def test_refill_from_peers_that_deferred_pages(cluster) -> None:
    """A peer's collection that kept a page's few records (no image: deferred) still refills an
    empty replica completely: the peer sends that page's image at its last record below the
    horizon, made for the occasion."""
    import shutil

    from pgaurora.logstore import messages as m

    volume = await Volume.open(cluster.config(retention_lsns=0), cluster.transport)
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.INIT, p.encode_init(1))]))
    await volume.wait_durable(volume.append_mtr([(3, RedoOp.INIT, p.encode_init(1)), (3, RedoOp.APPEND, b"few")]))
    for i in range(40):
        await volume.wait_durable(volume.append_mtr([(1, RedoOp.APPEND, b"%d" % i)]))
    expected = {page: items(await volume.read_page(page)) for page in (1, 3)}
    volume.set_min_read_lsn(volume.vdl)
    await volume.wait_durable(volume.append_mtr([(2, RedoOp.INIT, p.encode_init(1))]))  # carries it
    for node in cluster.nodes.values():
        node.gc_defer_lsns = 1_000_000
        node._background()
    segment = cluster.nodes["node0"].segments[("volume", 0)]
    assert segment.gc_horizon > 0 and set(segment.by_lsn.by_page) >= {3} and 1 not in segment.by_lsn.by_page
    assert not any(key >> 40 == 3 for key in segment.images)  # page 3 kept its records, no image

    await cluster.stop_node("node5")
    shutil.rmtree(cluster.root / "node5")
    node5 = cluster.start_node("node5")
    await volume.wait_durable(volume.append_mtr([(1, RedoOp.APPEND, b"after")]))
    refilled = node5.segments.get(("volume", 0))
    if refilled is None:
        await node5.handle(m.CreateSegment("volume", 0, volume.epoch, volume.metadata.groups[0].members))
        refilled = node5.segments[("volume", 0)]
    await node5.fill_from_peers(refilled)
    assert refilled.scl >= volume.vdl
    for page, want in ((1, [*expected[1], b"after"]), (3, expected[3])):
        reply = await node5.handle(m.ReadPage("volume", 0, page, volume.vdl))
        assert isinstance(reply, m.PageImage) and items(reply.image) == want
    await volume.close()
