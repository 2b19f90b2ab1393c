"""The reader's apply side without sockets: a real writer volume on in-process storage nodes,
its MTRs and VDL advances fed straight into a ReplicaApplier, ReplicaPageCache reading the same
segments at the reader's read point, and snapshots adopted from the writer's state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from pgaurora.access.btreekey import Node
from pgaurora.access.storage import Storage
from pgaurora.errors import ReadOnlySqlTransaction
from pgaurora.logstore import InProcessTransport, NodeSpec, StorageNode, Volume, VolumeConfig
from pgaurora.logstore.page import RedoOp, encode_append, encode_init
from pgaurora.pagecache import PageCache, PageKind
from pgaurora.pagecache.replica import ReplicaApplier, ReplicaPageCache
from pgaurora.pagecache.replica_volume import ReplicaVolume
from pgaurora.server.replication_storage import ReplicaStorage, patch_derived
from pgaurora.txn.manager import TransactionManager
from pgaurora.txn.replica import ReplicaTransactionManager

AZS = ("a", "b", "c", "a", "b", "c")


@dataclass
class Pair:
    """A writer (volume, cache, txns, storage) and a reader fed by its hooks, by hand."""

    volume: Any
    cache: PageCache
    txns: TransactionManager
    storage: Storage
    replica_volume: ReplicaVolume
    replica_cache: ReplicaPageCache
    applier: ReplicaApplier
    replica_txns: ReplicaTransactionManager
    replica_storage: ReplicaStorage
    auto: bool = True  # apply each VDL advance as it happens
    mtrs: list[tuple[int, list[tuple[int, int, bytes]]]] = field(default_factory=list)

    def state(self) -> tuple[int, int, list[int]]:
        vdl = self.volume.vdl
        committing = self.txns.committing
        xip = [x for x in self.txns.active if committing.get(x, 1 << 62) > vdl]
        xmax = self.cache.control.next_xid
        return (min(xip) if xip else xmax), xmax, xip

    def advance(self) -> None:
        vdl = self.volume.vdl
        self.applier.advance(vdl)
        tracker = self.volume.tracker
        self.replica_volume.advance(vdl, [tracker.groups[g].pgcl for g in sorted(tracker.groups)])
        self.replica_txns.adopt(*self.state(), lsn=vdl)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    transport = InProcessTransport()
    nodes = []
    specs = []
    for i, az in enumerate(AZS):
        node = StorageNode(tmp_path / f"node-{i}", f"node-{i}", az, transport=transport, fsync=False)
        node.start()
        transport.register(node)
        nodes.append(node)
        specs.append(NodeSpec(f"node-{i}", az))
    volume = await Volume.open(VolumeConfig(metadata_path=tmp_path / "volume.json", nodes=specs), transport)
    cache = PageCache(volume)
    txns = await TransactionManager(cache).open()
    storage = Storage(cache, cast(Any, txns))
    await cache.sync()
    start = volume.vdl
    groups = [list(p.members) for p in volume.metadata.groups]
    replica_volume = ReplicaVolume(transport, volume.metadata.volume_id, volume.metadata.pages_per_group, groups,
                                   start, volume.epoch)
    replica_cache = ReplicaPageCache(replica_volume)
    applier = ReplicaApplier(replica_cache, start)
    applier.patch_derived = patch_derived
    replica_txns = ReplicaTransactionManager(replica_cache)
    pair = Pair(volume, cache, txns, storage, replica_volume, replica_cache, applier, replica_txns,
                ReplicaStorage(replica_cache, cast(Any, replica_txns)))

    def on_append(first: int, records: list[tuple[int, int, bytes]]) -> None:
        pair.mtrs.append((first, records))
        applier.receive(first, records)

    def on_vdl(vdl: int) -> None:
        if pair.auto:
            asyncio.get_running_loop().call_soon(pair.advance)

    volume.on_append = on_append
    volume.on_vdl_advanced = on_vdl
    pair.advance()
    await replica_cache.open()
    await replica_txns.open()
    try:
        yield pair
    finally:
        await volume.close()
        for node in nodes:
            await node.stop()
        await transport.close()


async def _settle(pair: Pair) -> None:
    """Everything the writer appended is durable, and the reader has applied it."""
    lsn = await pair.cache.sync()
    for _ in range(100):
        if pair.applier.read_lsn >= lsn:
            return
        await asyncio.sleep(0)
    pair.advance()


async def _rows(storage: Storage, txns: Any, rel: int) -> list[tuple[Any, ...]]:
    txn = txns.begin(read_only=True)
    rows: list[tuple[Any, ...]] = []
    async for batch in storage.heap(rel).scan(txn, txn.snapshot()):
        rows.extend(row for _, row in batch)
    await txn.abort()
    return sorted(rows)


async def test_committed_rows_reach_the_reader_through_cached_pages_and_storage(pair: Pair) -> None:
    rel = await pair.storage.create_heap()
    txn = pair.txns.begin()
    await pair.storage.heap(rel).insert_many(txn, [(i, f"v{i}") for i in range(200)])
    await txn.commit()
    await _settle(pair)
    # first read: from storage at the read point
    assert await _rows(pair.replica_storage, pair.replica_txns, rel) == [(i, f"v{i}") for i in range(200)]
    # later changes: applied to the pages the reader now caches
    before = pair.applier.records_applied
    txn = pair.txns.begin()
    await pair.storage.heap(rel).insert(txn, (1000, "late"))
    await txn.commit()
    await _settle(pair)
    assert pair.applier.records_applied > before
    assert (1000, "late") in await _rows(pair.replica_storage, pair.replica_txns, rel)


async def test_uncommitted_rows_are_invisible_until_the_commit_is_durable(pair: Pair) -> None:
    rel = await pair.storage.create_heap()
    await _settle(pair)
    txn = pair.txns.begin()
    await pair.storage.heap(rel).insert(txn, (1, "pending"))
    await pair.cache.sync()  # the row's redo is durable and applied, its commit is not written
    await _settle(pair)
    assert txn.xid in pair.replica_txns.snapshot_data()[2]
    assert await _rows(pair.replica_storage, pair.replica_txns, rel) == []
    await txn.commit()
    await _settle(pair)
    assert await _rows(pair.replica_storage, pair.replica_txns, rel) == [(1, "pending")]


async def test_an_mtr_is_applied_only_once_vdl_covers_all_of_it(pair: Pair) -> None:
    pair.auto = False
    page = pair.cache.control.allocate_page()
    with pair.cache.mtr() as mtr:
        mtr.log(page, RedoOp.INIT, encode_init(PageKind.HEAP))
        mtr.log(page, RedoOp.APPEND, encode_append(b"one"))
    await pair.cache.sync()
    first, records = pair.mtrs[-1]
    assert pair.applier.pending and page not in pair.replica_cache
    pair.applier.advance(first)  # inside the MTR: nothing applied
    assert page not in pair.replica_cache
    pair.advance()
    assert pair.replica_cache.get(page) is not None
    assert pair.replica_cache.get(page).items == [b"one"]  # type: ignore[union-attr]


async def test_records_for_pages_not_cached_are_dropped_and_read_later_at_the_read_point(pair: Pair) -> None:
    page = pair.cache.control.allocate_page()
    with pair.cache.mtr() as mtr:
        mtr.log(page, RedoOp.INIT, encode_init(PageKind.HEAP))
    await _settle(pair)
    pair.replica_cache.evict(page)
    dropped = pair.applier.records_dropped
    with pair.cache.mtr() as mtr:
        mtr.log(page, RedoOp.APPEND, encode_append(b"two"))
    await _settle(pair)
    assert pair.applier.records_dropped == dropped + 1 and page not in pair.replica_cache
    assert (await pair.replica_cache.read(page)).items == [b"two"]


async def test_records_applied_during_a_read_are_replayed_on_the_image_it_returns(pair: Pair) -> None:
    page = pair.cache.control.allocate_page()
    with pair.cache.mtr() as mtr:
        mtr.log(page, RedoOp.INIT, encode_init(PageKind.HEAP))
        mtr.log(page, RedoOp.APPEND, encode_append(b"a"))
    await _settle(pair)
    pair.replica_cache.evict(page)
    pair.auto = False
    read = asyncio.ensure_future(pair.replica_cache.read(page))
    await asyncio.sleep(0)  # the read is in flight at the old read point
    assert page in pair.replica_cache._in_flight
    with pair.cache.mtr() as mtr:
        mtr.log(page, RedoOp.APPEND, encode_append(b"b"))
    await pair.cache.sync()
    pair.advance()
    assert (await read).items == [b"a", b"b"]


async def test_a_reader_refuses_to_write(pair: Pair) -> None:
    with pytest.raises(ReadOnlySqlTransaction):
        pair.replica_cache.mtr()
    txn = pair.replica_txns.begin(read_only=False)
    assert txn.read_only
    with pytest.raises(ReadOnlySqlTransaction, match="cannot assign TransactionIds during recovery"):
        pair.replica_txns._new_xid(txn)
    with pytest.raises(ReadOnlySqlTransaction):
        pair.replica_volume.append_mtr([(1, 1, b"")])


async def test_feedback_xmin_covers_the_oldest_live_snapshot(pair: Pair) -> None:
    old = pair.replica_txns.begin("repeatable read")
    snapshot = old.snapshot()
    txn = pair.txns.begin()
    txn.assign_xid()
    await txn.commit()
    await _settle(pair)
    assert pair.replica_txns.snapshot_data()[0] > snapshot.xmin
    assert pair.replica_txns.oldest_xmin() == snapshot.xmin
    await old.abort()
    assert pair.replica_txns.oldest_xmin() == pair.replica_txns.snapshot_data()[0]


async def test_decoded_btree_nodes_follow_inserts_and_deletes_without_decoding_again(pair: Pair) -> None:
    rel = await pair.storage.create_btree(1)
    heap_page = 1 << 20
    for i in range(0, 200, 2):
        await pair.storage.btree(rel).insert((i,), (heap_page, i))
    await _settle(pair)
    reader = pair.replica_storage.btree(rel)
    assert await reader.lookup((10,)) == [(heap_page, 10)]
    leaves = {p: form for p, form in pair.replica_cache.derived.items() if type(form) is Node and form.level == 0}
    assert leaves
    assert all(form.int_keys() for form in leaves.values())  # built now: the patches keep them current
    for i in range(1, 200, 2):  # a few per flush, as commits send them (a long run becomes an IMAGE)
        await pair.storage.btree(rel).insert((i,), (heap_page, i))
        if i % 8 == 7:
            await pair.cache.sync()
    assert await pair.storage.btree(rel).delete((10,), (heap_page, 10))
    await _settle(pair)
    assert pair.cache.records_merged > 0  # a flush's INSERTs on one leaf reach the reader as one MULTI
    assert any(pair.replica_cache.derived.get(p) is form for p, form in leaves.items())
    for page_no, form in leaves.items():
        if page_no in pair.replica_cache.derived:
            assert pair.replica_cache.derived[page_no] is form  # kept, patched in place
            fresh = Node(pair.replica_cache.get(page_no))  # type: ignore[arg-type]
            assert (form.entries, form.raw, form.children, form.used) == (
                fresh.entries, fresh.raw, fresh.children, fresh.used)
            assert form.keys == fresh.int_keys()
    assert await reader.lookup((11,)) == [(heap_page, 11)]
    assert await reader.lookup((10,)) == []
    assert [k for batch in [b async for b in reader.range(None, None, True, True)] for k, _ in batch] == [
        (i,) for i in range(200) if i != 10]


async def test_promotion_hands_the_pages_and_their_decodes_to_a_writer_cache(pair: Pair) -> None:
    from pgaurora.access.heap import DecodedPage
    from pgaurora.pagecache.replica import adopt_pages
    from pgaurora.server.replication_storage import carry_derived

    rel = await pair.storage.create_heap()
    txn = pair.txns.begin()
    await pair.storage.heap(rel).insert_many(txn, [(i, f"v{i}") for i in range(300)])
    await txn.commit()
    await _settle(pair)
    assert len(await _rows(pair.replica_storage, pair.replica_txns, rel)) == 300
    vdl = pair.volume.vdl
    assert pair.applier.settle(vdl)
    pages, forms = pair.replica_cache.hand_over(vdl)
    assert pages and not len(pair.replica_cache)
    kept = carry_derived(forms)
    assert any(type(f) is DecodedPage and f.completions == -1 for f in kept.values())
    warm = PageCache(pair.volume)
    assert adopt_pages(warm, pages, kept) == len(pages)
    misses = warm.misses
    txns = await TransactionManager(warm).open()
    storage = Storage(warm, cast(Any, txns))
    assert await _rows(storage, txns, rel) == [(i, f"v{i}") for i in range(300)]
    assert warm.misses == misses  # every page it needed was handed over
