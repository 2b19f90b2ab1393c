"""Vacuum: dead versions and their index entries go; versions an open snapshot needs stay."""

from __future__ import annotations


async def visible_rows(heap, txn):
    out = []
    async for batch in heap.scan(txn, txn.snapshot()):
        out.extend(r for _, r in batch)
    return sorted(out)


async def _indexed_rows(engine, count=400):
    """A heap of `count` committed rows (i, 'x' * 50) with a B-tree on i: (heap, index, tids)."""
    storage = engine.storage
    heap = storage.heap(await storage.create_heap())
    index = storage.btree(await storage.create_btree(1))
    t = engine.txns.begin()
    tids = await heap.insert_many(t, [(i, "x" * 50) for i in range(count)])
    for i, tid in enumerate(tids):
        await index.insert((i,), tid)
    await t.commit()
    return heap, index, tids


async def test_vacuum_removes_dead_versions_and_index_entries(engine):
    storage, txns = engine.storage, engine.txns
    heap, index, tids = await _indexed_rows(engine)
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
    # the decoded leaves kept through dead-entry removal and splits match their pages
    from pgaurora.access.btreekey import Node

    kept = [(p, n) for p, n in storage.cache.derived.items() if type(n) is Node]
    assert kept
    for page_no, node in kept:
        fresh = Node(storage.cache.get(page_no))
        assert (node.raw, node.entries, node.children, node.used, node.right) == \
            (fresh.raw, fresh.entries, fresh.children, fresh.used, fresh.right)


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


async def test_autovacuum_threshold_grows_with_the_live_tuples(engine):
    """As PostgreSQL's autovacuum_vacuum_scale_factor: a heap whose last pass kept N tuples is due
    after 1000 + 0.2 N writes, not after a flat 1000 (a big table's every pass walks its indexes)."""
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    t = txns.begin()
    tids = await heap.insert_many(t, [(i,) for i in range(6000)])
    await t.commit()
    result = await storage.vacuum(heap.rel_id)
    assert result.kept_tuples == 6000 and heap.tuples_estimate == 6000
    heap.changes = 0  # the load's inserts: counted before the pass
    t = txns.begin()
    snap = t.snapshot()
    for tid in tids[:2100]:  # below 1000 + 0.2 * 6000 = 2200
        await heap.delete(t, snap, tid)
    await t.commit()
    assert await storage.autovacuum_once() == 0
    t = txns.begin()
    snap = t.snapshot()
    for tid in tids[2100:2200]:
        await heap.delete(t, snap, tid)
    await t.commit()
    assert await storage.autovacuum_once() == 1
    assert heap.tuples_estimate == 6000 - 2200 and heap.changes == 0


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


async def test_vacuum_skips_settled_pages_until_they_change(engine):
    """A pass that finds nothing to do on a page settles it; the next pass skips it (PostgreSQL's
    all-visible pages), until an update, delete or insert there unsettles it."""
    storage, txns = engine.storage, engine.txns
    heap, index, tids = await _indexed_rows(engine)
    first = await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    assert first.kept_tuples == 400 and first.removed_tuples == 0
    pages = set((await heap._ready()).pages)
    assert set(heap.settled_pages) == pages
    assert sum(heap.settled_pages.values()) == 400
    # an uncommitted delete unsettles its page; the pass keeps it unsettled (the deleter may commit)
    t = txns.begin()
    assert await heap.delete(t, t.snapshot(), tids[0])
    assert tids[0][0] not in heap.settled_pages
    second = await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    assert second.kept_tuples == 400 and second.removed_tuples == 0
    assert tids[0][0] not in heap.settled_pages
    await t.commit()
    third = await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    assert third.removed_tuples == 1 and third.removed_index_entries == 1 and third.kept_tuples == 399
    # the emptied slot was handed back in that pass: the next one settles the page again
    fourth = await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    assert fourth.kept_tuples == 399 and set(heap.settled_pages) == pages
    # an aborted insert into a settled page is found and removed
    t = txns.begin()
    tid = await heap.insert(t, (1000, "aborted"))
    assert tid[0] not in heap.settled_pages
    await t.abort()
    fifth = await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    assert fifth.removed_tuples == 1 and fifth.kept_tuples == 399
    reader = txns.begin()
    assert len(await visible_rows(heap, reader)) == 399


async def test_vacuum_prunes_changed_pages_by_their_changed_slots(engine, monkeypatch):
    """After a pass, the next one visits only the pages changed since and examines only their
    changed slots (the pruning candidates); a page with inserts since is examined whole."""
    from pgaurora.access import heapprune

    storage, txns = engine.storage, engine.txns
    heap, index, tids = await _indexed_rows(engine)
    await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    calls = []
    plan = heapprune.plan_prune
    monkeypatch.setattr(heapprune, "plan_prune", lambda page_no, items, *a: calls.append((page_no, a[2:])) or
                        plan(page_no, items, *a))
    t = txns.begin()
    new = await heap.update(t, t.snapshot(), tids[5], (5, "y" * 50))
    await index.insert((5,), new)
    await t.commit()
    result = await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    assert result.removed_tuples == 1 and result.kept_tuples == 400
    changed = {tids[5][0], new[0]}
    assert {page_no for page_no, _ in calls} == changed
    # an update's versions are candidates of their pages: no slot-by-slot look at either page
    assert all(candidates and candidates[0] is not None for _, candidates in calls)
    # an insert makes its page's next pass look at every slot (an aborted insert is no candidate)
    calls.clear()
    t = txns.begin()
    tid = await heap.insert(t, (1000, "z"))
    await t.commit()
    await storage.vacuum(heap.rel_id, [index.rel_id], all_indexes=True)
    assert calls == [(tid[0], ())]
    reader = txns.begin()
    assert sorted(r for r in await visible_rows(heap, reader) if r[0] == 5) == [(5, "y" * 50)]
