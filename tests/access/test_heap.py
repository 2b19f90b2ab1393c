"""Heap relations over the real in-process volume: insert, scan, fetch, update, delete, restart."""

from __future__ import annotations

import asyncio

import pytest

from pgaurora.errors import SerializationFailure, StorageUnavailable


async def rows_of(heap, txn, snapshot=None):
    snapshot = snapshot or txn.snapshot()
    out = []
    async for batch in heap.scan(txn, snapshot):
        out.extend(batch)
    return out


async def test_insert_scan_commit_visibility(engine):
    rel = await engine.storage.create_heap()
    heap = engine.storage.heap(rel)
    t1 = engine.txns.begin()
    for i in range(500):
        await heap.insert(t1, (i, f"row {i}", None))
    t1.next_command()
    assert len(await rows_of(heap, t1)) == 500
    t2 = engine.txns.begin()
    assert await rows_of(heap, t2) == []
    await t1.commit()
    assert len(await rows_of(heap, t2)) == 500  # READ COMMITTED: new snapshot per statement
    assert await heap.count_pages() > 1
    await t2.commit()


async def test_statement_does_not_see_its_own_inserts(engine):
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = engine.txns.begin()
    snap = t.snapshot()
    await heap.insert(t, (1,))
    assert await rows_of(heap, t, snap) == []
    t.next_command()
    assert [r for _, r in await rows_of(heap, t)] == [(1,)]


async def test_update_delete_and_restart(engine):
    storage = engine.storage
    rel = await storage.create_heap()
    heap = storage.heap(rel)
    t = engine.txns.begin()
    tids = await heap.insert_many(t, [(i, i * 10) for i in range(1000)])
    await t.commit()
    t = engine.txns.begin()
    snap = t.snapshot()
    new = await heap.update(t, snap, tids[5], (5, -1))
    assert new is not None and new != tids[5]
    assert await heap.delete(t, snap, tids[6])
    t.next_command()
    snap = t.snapshot()
    assert await heap.fetch(t, snap, tids[5]) is None
    assert await heap.fetch(t, snap, new) == (5, -1)
    await t.commit()
    await engine.crash_writer()
    await engine.reopen()
    heap = engine.storage.heap(rel)
    t = engine.txns.begin()
    rows = sorted(r for _, r in await rows_of(heap, t))
    assert len(rows) == 999
    assert (5, -1) in rows and (6, 60) not in rows and (7, 70) in rows


async def test_uncommitted_is_aborted_after_crash(engine):
    heap = engine.storage.heap(await engine.storage.create_heap())
    rel = heap.rel_id
    t = engine.txns.begin()
    await heap.insert(t, ("committed",))
    await t.commit()
    t2 = engine.txns.begin()
    await heap.insert(t2, ("lost",))
    await engine.cache.sync()  # the row itself is durable
    for address in list(engine.nodes):
        await engine.stop_node(address)
    commit = asyncio.ensure_future(t2.commit())  # its commit record never reaches storage
    await asyncio.sleep(0)
    await engine.crash_writer()
    with pytest.raises(StorageUnavailable):
        await commit
    await engine.reopen()
    heap = engine.storage.heap(rel)
    t = engine.txns.begin()
    assert [r for _, r in await rows_of(heap, t)] == [("committed",)]


async def test_repeatable_read_write_conflict(engine):
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = engine.txns.begin()
    (tid,) = await heap.insert_many(t, [(1, 10)])
    await t.commit()
    a = engine.txns.begin("repeatable read")
    b = engine.txns.begin("repeatable read")
    sa, sb = a.snapshot(), b.snapshot()
    await heap.update(a, sa, tid, (1, 11))
    waiting = asyncio.ensure_future(heap.update(b, sb, tid, (1, 12)))
    await asyncio.sleep(0)
    assert not waiting.done()
    await a.commit()
    with pytest.raises(SerializationFailure, match="could not serialize access due to concurrent update"):
        await waiting
    await b.abort()


async def test_read_committed_follows_update_chain(engine):
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = engine.txns.begin()
    (tid,) = await heap.insert_many(t, [(1, 10)])
    await t.commit()
    a = engine.txns.begin()
    b = engine.txns.begin()
    await heap.update(a, a.snapshot(), tid, (1, 11))
    waiting = asyncio.ensure_future(
        heap.update(b, b.snapshot(), tid, (1, 10 + 1), recheck=lambda row: (row[0], row[1] + 1))
    )
    await asyncio.sleep(0)
    await a.commit()
    new_tid = await waiting
    assert b._row_locks == []  # its place in the row's queue is given up once its xmax is set
    await b.commit()
    t = engine.txns.begin()
    assert [r for _, r in await rows_of(heap, t)] == [(1, 12)]
    assert await heap.fetch(t, t.snapshot(), new_tid) == (1, 12)


async def test_large_rows_use_overflow_pages(engine):
    rel = await engine.storage.create_heap()
    heap = engine.storage.heap(rel)
    t = engine.txns.begin()
    big = "x" * 50_000
    tid = await heap.insert(t, (1, big))
    tids = await heap.insert_many(t, [(2, "small"), (3, "y" * 9000)])
    new = await heap.update(t, t.snapshot(), tids[0], (2, "z" * 20_000))
    await t.commit()
    await engine.crash_writer()
    await engine.reopen()
    heap = engine.storage.heap(rel)
    r = engine.txns.begin()
    snap = r.snapshot()
    assert await heap.fetch(r, snap, tid) == (1, big)
    assert await heap.fetch(r, snap, new) == (2, "z" * 20_000)
    assert sorted(row for _, row in await rows_of(heap, r)) == [(1, big), (2, "z" * 20_000), (3, "y" * 9000)]


async def test_truncate_and_drop(engine):
    from pgaurora.errors import UndefinedTable

    storage = engine.storage
    heap = storage.heap(await storage.create_heap())
    tree = storage.btree(await storage.create_btree(1))
    t = engine.txns.begin()
    tids = await heap.insert_many(t, [(i,) for i in range(300)])
    for i, tid in enumerate(tids):
        await tree.insert((i,), tid)
    await t.commit()
    await storage.truncate(heap.rel_id)
    await storage.truncate(tree.rel_id)
    t = engine.txns.begin()
    assert await rows_of(heap, t) == []
    assert await tree.entries() == []
    tid = await heap.insert(t, (1,))
    await tree.insert((1,), tid)
    await t.commit()
    await engine.cache.sync()
    await engine.crash_writer()
    await engine.reopen()
    storage = engine.storage
    t = engine.txns.begin()
    assert [r for _, r in await rows_of(storage.heap(heap.rel_id), t)] == [(1,)]
    assert await storage.btree(tree.rel_id).lookup((1,)) == [tid]
    await storage.drop(heap.rel_id)
    with pytest.raises(UndefinedTable):
        await rows_of(storage.heap(heap.rel_id), t)
