"""Vacuum: dead versions and their index entries go; versions an open snapshot needs stay."""

from __future__ import annotations


async def visible_rows(heap, txn):
    out = []
    async for batch in heap.scan(txn, txn.snapshot()):
        out.extend(r for _, r in batch)
    return sorted(out)


async def test_vacuum_removes_dead_versions_and_index_entries(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    index = storage.btree(await storage.create_btree(1))
    t = txns.begin()
    tids = await heap.insert_many(t, [(i, "x" * 50) for i in range(400)])
    for i, tid in enumerate(tids):
        await index.insert((i,), tid)
    await t.commit()
    old_reader = txns.begin("repeatable read")
    old_reader.snapshot()
    t = txns.begin()
    snap = t.snapshot()
    for i, tid in enumerate(tids):
        new = await heap.update(t, snap, tid, (i, "y" * 50))
        await index.insert((i,), new)
    await t.commit()
    # the open REPEATABLE READ snapshot still needs the old versions
    result = await storage.vacuum(heap.rel_id, [index.rel_id])
    assert result.removed_tuples == 0
    assert len(await visible_rows(heap, old_reader)) == 400
    await old_reader.commit()
    pages_before = await heap.count_pages()
    result = await storage.vacuum(heap.rel_id, [index.rel_id])
    assert result.removed_tuples == 400 and result.removed_index_entries == 400
    assert len(await index.entries()) == 400
    reader = txns.begin()
    assert [r[1][0] for r in await visible_rows(heap, reader)] == ["y"] * 400
    # freed space is reused by later inserts
    t = txns.begin()
    await heap.insert_many(t, [(i, "z" * 50) for i in range(300)])
    await t.commit()
    assert await heap.count_pages() <= pages_before + 1


async def test_vacuum_removes_aborted_inserts(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    t = txns.begin()
    await heap.insert_many(t, [(i,) for i in range(50)])
    await t.abort()
    result = await storage.vacuum(heap.rel_id)
    assert result.removed_tuples == 50 and result.kept_tuples == 0


async def test_hot_row_updates_stay_bounded_without_vacuum(engine):
    """pgbench's branches table: one row updated over and over, each time with a new index entry."""
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    index = storage.btree(await storage.create_btree(1))
    t = txns.begin()
    (tid,) = await heap.insert_many(t, [(1, 0)])
    await index.insert((1,), tid)
    await t.commit()
    for i in range(1, 1001):
        t = txns.begin()
        snap = t.snapshot()
        (tid,) = [x for x in await index.lookup((1,)) if await heap.fetch(t, snap, x) is not None]
        tid = await heap.update(t, snap, tid, (1, i))
        await index.insert((1,), tid)
        await t.commit()
    assert await heap.count_pages() <= 3
    assert len(await index.lookup((1,))) < 100
    r = txns.begin()
    assert [row for _, row in await visible_rows_pairs(heap, r)] == [(1, 1000)]


async def visible_rows_pairs(heap, txn):
    out = []
    async for batch in heap.scan(txn, txn.snapshot()):
        out.extend(batch)
    return out


async def test_autovacuum_pass_frees_space_for_inserts(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    t = txns.begin()
    tids = await heap.insert_many(t, [(i, "x" * 100) for i in range(2000)])
    await t.commit()
    t = txns.begin()
    snap = t.snapshot()
    for tid in tids[:1500]:
        await heap.delete(t, snap, tid)
    await t.commit()
    pages = await heap.count_pages()
    assert await storage.autovacuum_once(threshold=1000) == 1
    assert await storage.autovacuum_once(threshold=1000) == 0  # nothing new since
    t = txns.begin()
    await heap.insert_many(t, [(i, "y" * 100) for i in range(1000)])
    await t.commit()
    assert await heap.count_pages() == pages
    task = storage.start_autovacuum(interval=3600)
    await storage.stop_autovacuum()
    assert task.done()


async def test_vacuum_with_every_index_hands_emptied_slots_to_new_tuples(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    index = storage.btree(await storage.create_btree(1))
    t = txns.begin()
    tids = await heap.insert_many(t, [(i, "x" * 20) for i in range(50)])
    for i, tid in enumerate(tids):
        await index.insert((i,), tid)
    await t.commit()
    assert {page for page, _ in tids} == {tids[0][0]}
    t = txns.begin()
    snap = t.snapshot()
    for tid in tids[10:20]:
        await heap.delete(t, snap, tid)
    await t.commit()
    # heap-only: the emptied slots may still be pointed at, so nothing is handed out
    await storage.vacuum(heap.rel_id)
    assert heap.unused_slots == {}
    result = await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    assert result.removed_index_entries == 10 and result.unused_slots == 10 and result.truncated_slots == 0
    assert len(await index.entries()) == 40
    t = txns.begin()
    new = [await heap.insert(t, (100 + i, "new")) for i in range(4)]
    more = await heap.insert_many(t, [(200 + i, "bulk") for i in range(12)])
    await t.commit()
    assert sorted(new) == [(tids[0][0], slot) for slot in range(10, 14)]
    r = txns.begin()
    snap = r.snapshot()
    for i, tid in enumerate(new):
        assert await heap.fetch(r, snap, tid) == (100 + i, "new")
    for i, tid in enumerate(more):  # a bulk insert's tids are right when its first row reuses a slot
        assert await heap.fetch(r, snap, tid) == (200 + i, "bulk")
    assert len(set(new + more + tids[:10] + tids[20:])) == 56
    assert len(await visible_rows(heap, r)) == 56


async def test_update_reuses_a_slot_of_its_own_page(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    t = txns.begin()
    tids = await heap.insert_many(t, [(i, 0) for i in range(20)])
    await t.commit()
    t = txns.begin()
    for tid in tids[:5]:
        await heap.delete(t, t.snapshot(), tid)
    await t.commit()
    await storage.vacuum(heap.rel_id, [], all_indexes=True)  # a heap without indexes
    page_no = tids[0][0]
    before = len((await heap.cache.read(page_no)).items)
    t = txns.begin()
    new_tid = await heap.update(t, t.snapshot(), tids[10], (10, 1))
    await t.commit()
    assert new_tid == (page_no, 0) and len((await heap.cache.read(page_no)).items) == before
    r = txns.begin()
    assert await heap.fetch(r, r.snapshot(), new_tid) == (10, 1)
    assert await heap.fetch(r, r.snapshot(), tids[10]) is None
