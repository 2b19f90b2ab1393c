"""Transactions over the real in-process volume: xids, snapshots, savepoints, locks, deadlocks."""

from __future__ import annotations

import asyncio

import pytest

from pgaurora.errors import (
    DeadlockDetected,
    InvalidSavepointSpecification,
    LockNotAvailable,
    ReadOnlySqlTransaction,
    SerializationFailure,
)
from pgaurora.txn import TransactionState, XidStatus


async def rows(heap, txn):
    out = []
    async for batch in heap.scan(txn, txn.snapshot()):
        out.extend(r for _, r in batch)
    return sorted(out)


async def until_waiting(txns, owner, task):
    """Lets the event loop run until `owner` waits in the wait-for graph (bounded)."""
    for _ in range(1000):
        if owner in txns.graph.edges or task.done():
            return
        await asyncio.sleep(0)
    raise AssertionError("never started waiting")


async def test_xid_assigned_on_first_write_and_commit_is_durable(engine):
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    t.snapshot()
    assert t.xid is None
    await t.commit()  # read-only: no record
    t = txns.begin()
    await heap.insert(t, (1,))
    assert t.xid is not None and txns.status(t.xid) is XidStatus.IN_PROGRESS
    await t.commit()
    assert engine.volume.vdl >= t.commit_lsn > 0
    assert txns.status(t.xid) is XidStatus.COMMITTED
    assert t.state is TransactionState.COMMITTED


async def test_read_only_transaction_cannot_write(engine):
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = engine.txns.begin(read_only=True)
    with pytest.raises(ReadOnlySqlTransaction):
        await heap.insert(t, (1,))


async def test_repeatable_read_keeps_its_snapshot(engine):
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    rr = txns.begin("repeatable read")
    rc = txns.begin("read committed")
    assert await rows(heap, rr) == [] and await rows(heap, rc) == []
    w = txns.begin()
    await heap.insert(w, (1,))
    await w.commit()
    assert await rows(heap, rr) == []
    assert await rows(heap, rc) == [(1,)]
    assert txns.oldest_xmin() <= rr.snapshot_xmin


async def test_savepoints_rollback_to_and_release(engine):
    txns = engine.txns
    rel = await engine.storage.create_heap()
    heap = engine.storage.heap(rel)
    t = txns.begin()
    await heap.insert(t, ("top",))
    t.savepoint("a")
    await heap.insert(t, ("in a",))
    t.savepoint("b")
    await heap.insert(t, ("in b",))
    t.next_command()
    assert await rows(heap, t) == [("in a",), ("in b",), ("top",)]
    t.rollback_to("b")
    t.next_command()
    assert await rows(heap, t) == [("in a",), ("top",)]
    await heap.insert(t, ("in b again",))
    t.release("a")
    with pytest.raises(InvalidSavepointSpecification, match='savepoint "b" does not exist'):
        t.rollback_to("b")
    await t.commit()
    await engine.crash_writer()
    await engine.reopen()
    heap = engine.storage.heap(rel)
    t = engine.txns.begin()
    assert await rows(heap, t) == [("in a",), ("in b again",), ("top",)]


async def test_rollback_to_savepoint_then_abort(engine):
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    t.savepoint("s")
    await heap.insert(t, (1,))
    t.rollback_to("s")
    await heap.insert(t, (2,))
    await t.abort()
    t = txns.begin()
    assert await rows(heap, t) == []


async def test_deadlock_detected(engine):
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    x, y = await heap.insert_many(t, [("x",), ("y",)])
    await t.commit()
    a, b = txns.begin(), txns.begin()
    a.pid, b.pid = 101, 202
    await heap.update(a, a.snapshot(), x, ("x by a",))
    await heap.update(b, b.snapshot(), y, ("y by b",))
    first = asyncio.ensure_future(heap.update(a, a.snapshot(), y, ("y by a",)))
    await until_waiting(txns, a.owner, first)
    with pytest.raises(DeadlockDetected, match="deadlock detected") as info:
        await heap.update(b, b.snapshot(), x, ("x by b",))
    assert "Process 202 waits for ShareLock on transaction" in info.value.detail
    await b.abort()
    assert await first is not None
    await a.commit()
    t = txns.begin()
    assert await rows(heap, t) == [("x by a",), ("y by a",)]


async def test_lock_timeout(engine):
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    (tid,) = await heap.insert_many(t, [(1,)])
    await t.commit()
    a, b = txns.begin(), txns.begin()
    await heap.delete(a, a.snapshot(), tid)
    b.lock_timeout = 20
    with pytest.raises(LockNotAvailable, match="canceling statement due to lock timeout"):
        await heap.update(b, b.snapshot(), tid, (2,))
    assert b.owner not in txns.graph.edges
    await a.commit()
    await b.abort()


async def test_row_locks_for_update_and_share(engine):
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    (tid,) = await heap.insert_many(t, [(1,)])
    await t.commit()
    a, b, c = txns.begin(), txns.begin(), txns.begin()
    assert await heap.lock(a, a.snapshot(), tid, "share") == tid
    assert await heap.lock(b, b.snapshot(), tid, "share") == tid  # shared locks coexist
    assert await heap.lock(c, c.snapshot(), tid, "update", wait="skip") is None
    heap.name = "t"
    with pytest.raises(LockNotAvailable, match='could not obtain lock on row in relation "t"'):
        await heap.lock(c, c.snapshot(), tid, "update", wait="nowait")
    updating = asyncio.ensure_future(heap.update(c, c.snapshot(), tid, (2,)))
    await until_waiting(txns, c.owner, updating)
    await a.commit()
    assert not updating.done()
    await b.commit()
    assert await updating is not None
    await c.commit()


async def test_for_update_then_concurrent_update_repeatable_read(engine):
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    (tid,) = await heap.insert_many(t, [(1,)])
    await t.commit()
    a = txns.begin("repeatable read")
    b = txns.begin("repeatable read")
    a.snapshot(), b.snapshot()
    await heap.update(a, a.snapshot(), tid, (2,))
    locking = asyncio.ensure_future(heap.lock(b, b.snapshot(), tid, "update"))
    await until_waiting(txns, b.owner, locking)
    await a.commit()
    with pytest.raises(SerializationFailure):
        await locking


async def test_advisory_locks(engine):
    txns = engine.txns
    s1, s2 = object(), object()
    assert await txns.advisory_lock(s1, 42)
    assert await txns.advisory_lock(s1, 42)  # re-entrant
    assert not await txns.advisory_lock(s2, 42, wait="skip")
    assert await txns.advisory_lock(s2, 7, shared=True)
    assert await txns.advisory_lock(s1, 7, shared=True, wait="skip")
    waiter = asyncio.ensure_future(txns.advisory_lock(s2, 42))
    await until_waiting(txns, s2, waiter)
    assert txns.advisory_unlock(s1, 42)
    assert not waiter.done()
    assert txns.advisory_unlock(s1, 42)
    assert await waiter
    assert not txns.advisory_unlock(s1, 42)  # not held any more
    # transaction-level: released at the end of the transaction
    t = txns.begin(owner=s1)
    assert await txns.advisory_lock(s1, 99, txn=t)
    assert not await txns.advisory_lock(s2, 99, wait="skip")
    await t.commit()
    assert await txns.advisory_lock(s2, 99, wait="skip")
    txns.advisory_unlock_all(s2)
    assert await txns.advisory_lock(s1, 42, wait="skip")


async def test_advisory_deadlock(engine):
    txns = engine.txns
    s1, s2 = object(), object()
    await txns.advisory_lock(s1, 1)
    await txns.advisory_lock(s2, 2)
    blocked = asyncio.ensure_future(txns.advisory_lock(s1, 2))
    await until_waiting(txns, s1, blocked)
    with pytest.raises(DeadlockDetected):
        await txns.advisory_lock(s2, 1)
    txns.advisory_unlock_all(s2)
    assert await blocked


async def test_serializable_prevents_write_skew(engine):
    """Two doctors on call: each checks that the other is on call, then goes off call."""
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    alice, bob = await heap.insert_many(t, [("alice", True), ("bob", True)])
    await t.commit()
    a, b = txns.begin("serializable"), txns.begin("serializable")
    assert sum(r[1] for r in await rows(heap, a)) == 2
    assert sum(r[1] for r in await rows(heap, b)) == 2
    await heap.update(a, a.snapshot(), alice, ("alice", False))
    await heap.update(b, b.snapshot(), bob, ("bob", False))
    await a.commit()
    with pytest.raises(SerializationFailure, match="read/write dependencies among transactions"):
        await b.commit()
    assert b.state is TransactionState.ABORTED
    t = txns.begin()
    assert sum(r[1] for r in await rows(heap, t)) == 1


async def test_serializable_without_conflict_commits(engine):
    txns = engine.txns
    h1 = engine.storage.heap(await engine.storage.create_heap())
    h2 = engine.storage.heap(await engine.storage.create_heap())
    a, b = txns.begin("serializable"), txns.begin("serializable")
    await rows(h1, a)
    await rows(h2, b)
    await h1.insert(a, (1,))
    await h2.insert(b, (2,))
    await a.commit()
    await b.commit()
    # a read-only serializable transaction never fails
    r = txns.begin("serializable")
    await rows(h1, r)
    w = txns.begin("serializable")
    await rows(h1, w)
    await h1.insert(w, (3,))
    await w.commit()
    await r.commit()


async def test_key_share_and_no_key_update_do_not_block_each_other(engine):
    """A foreign-key check (FOR KEY SHARE) and an UPDATE of non-key columns run side by side."""
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    (tid,) = await heap.insert_many(t, [(1, "parent")])
    await t.commit()
    fk, upd = txns.begin(), txns.begin()
    assert await heap.lock(fk, fk.snapshot(), tid, "key share") == tid
    new = await heap.update(upd, upd.snapshot(), tid, (1, "renamed"), key_changed=False)
    assert new is not None
    other = txns.begin()
    assert await heap.lock(other, other.snapshot(), tid, "key share", wait="nowait") == tid
    for x in (fk, upd, other):
        await x.abort()
    # a key-changing update or a delete must wait for the key share lockers
    t = txns.begin()
    (tid2,) = await heap.insert_many(t, [(2, "parent")])
    await t.commit()
    fk = txns.begin()
    assert await heap.lock(fk, fk.snapshot(), tid2, "key share") == tid2
    deleter = txns.begin()
    deleter.lock_timeout = 10
    with pytest.raises(LockNotAvailable):
        await heap.delete(deleter, deleter.snapshot(), tid2)
    with pytest.raises(LockNotAvailable):
        await heap.update(deleter, deleter.snapshot(), tid2, (3, "parent"))
    assert await heap.update(deleter, deleter.snapshot(), tid2, (2, "x"), key_changed=False) is not None
    await fk.abort()
    await deleter.abort()


async def test_clog_directory_chains_and_survives_restart(engine, monkeypatch):
    from pgaurora.txn import clog

    monkeypatch.setattr(clog, "DIRECTORY_CAPACITY", 1)
    control = engine.cache.control
    control.next_xid = control.xid_limit = 3 * clog.XIDS_PER_PAGE + 5  # jump ahead: 4 clog pages
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = engine.txns.begin()
    await heap.insert(t, ("late xid",))
    await t.commit()
    assert t.xid >= 3 * clog.XIDS_PER_PAGE
    assert len(engine.txns.clog.directories) >= 4
    rel = heap.rel_id
    await engine.crash_writer()
    await engine.reopen()
    assert engine.txns.status(t.xid) is XidStatus.COMMITTED
    r = engine.txns.begin()
    assert await rows(engine.storage.heap(rel), r) == [("late xid",)]
