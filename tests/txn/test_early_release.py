"""Early lock release at commit, and advisory locks taken without waiting (SQL functions)."""

from __future__ import annotations

import asyncio

from pgaurora.logstore.page import (
    Page,
    RedoOp,
    apply,
    encode_append,
    encode_delete,
    encode_set,
    encode_truncate,
)
from pgaurora.txn import XidStatus


async def _one_row(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    t = txns.begin()
    tid = await heap.insert(t, (1, 100))
    await t.commit()
    return heap, tid


async def _committing(txns, txn, task):
    """Lets the loop run until `txn`'s commit record is appended (bounded)."""
    for _ in range(1000):
        if txn.xid in txns.committing or task.done():
            return
        await asyncio.sleep(0)
    raise AssertionError("commit never started")


async def test_waiter_goes_on_at_commit_record_and_depends_on_it(engine):
    txns = engine.txns
    heap, tid = await _one_row(engine)
    t1 = txns.begin()
    new_tid = await heap.update(t1, t1.snapshot(), tid, (1, 101), key_changed=False)
    t2 = txns.begin()
    waiter = asyncio.ensure_future(
        heap.update(t2, t2.snapshot(), tid, (1, 0), recheck=lambda newest: (1, newest[1] + 1), key_changed=False)
    )
    for _ in range(1000):
        if t2.owner in txns.graph.edges:
            break
        await asyncio.sleep(0)
    commit = asyncio.ensure_future(t1.commit())
    await _committing(txns, t1, commit)
    # Committing: decided for writers, not yet visible to new snapshots.
    assert txns.status(t1.xid) is XidStatus.COMMITTED
    reader = txns.begin()
    assert t1.xid in reader.snapshot().xip
    third = await waiter
    assert third is not None and third != new_tid
    assert t2.depends_on == {t1.xid: t1.commit_lsn}
    # The waiter's own snapshots count what it built on as committed.
    assert t1.xid not in t2.snapshot().xip or t1.xid not in txns.committing
    await commit
    await t2.commit()
    assert t2.commit_lsn > t1.commit_lsn
    r = txns.begin()
    assert await heap.fetch(r, r.snapshot(), third) == (1, 102)


async def test_repeatable_read_waiter_fails_once_and_retry_sees_the_commit(engine):
    from pgaurora.errors import SerializationFailure

    txns = engine.txns
    heap, tid = await _one_row(engine)
    t1 = txns.begin()
    new_tid = await heap.update(t1, t1.snapshot(), tid, (1, 101), key_changed=False)
    t2 = txns.begin("repeatable read")
    snap = t2.snapshot()
    commit = asyncio.ensure_future(t1.commit())
    await _committing(txns, t1, commit)
    try:
        await heap.update(t2, snap, tid, (1, 0), key_changed=False)
    except SerializationFailure:
        pass
    else:
        raise AssertionError("expected 40001")
    await t2.abort()
    assert t1.xid not in txns.active  # it waited until the commit was visible
    await commit
    t3 = txns.begin("repeatable read")
    assert await heap.fetch(t3, t3.snapshot(), new_tid) == (1, 101)


async def test_try_advisory_lock_session_and_transaction_level(engine):
    txns = engine.txns
    a, b = object(), object()
    assert txns.try_advisory_lock(a, (1, 7))
    assert not txns.try_advisory_lock(b, (1, 7))
    assert txns.try_advisory_lock(b, (1, 7), shared=False) is False
    assert not txns.advisory.locks[("advisory", (1, 7))].conflicts(a, 3)
    assert txns.advisory_unlock(a, (1, 7))
    t = txns.begin(owner=b)
    assert txns.try_advisory_lock(b, (1, 7), txn=t)
    assert not txns.try_advisory_lock(a, (1, 7))
    await t.commit()
    assert txns.try_advisory_lock(a, (1, 7), shared=True)
    assert txns.try_advisory_lock(b, (1, 7), shared=True)
    txns.advisory_unlock_all(a)
    txns.advisory_unlock_all(b)
    assert not txns.advisory.locks


def test_page_running_size_follows_every_op():
    page = apply(None, RedoOp.INIT, bytes((1,)) + b"sp")
    for op, payload in (
        (RedoOp.APPEND, encode_append(b"abc")),
        (RedoOp.APPEND, encode_append(b"defgh")),
        (RedoOp.SET, encode_set(0, b"longer item")),
        (RedoOp.DELETE, encode_delete(1)),
        (RedoOp.APPEND, encode_append(b"x" * 100)),
        (RedoOp.TRUNCATE, encode_truncate(1)),
    ):
        apply(page, op, payload)
        assert page.free_space() == Page(page.kind, page.special, list(page.items)).free_space()
        assert page.data_bytes == sum(map(len, page.items))


async def test_serializable_snapshot_taken_while_a_commit_is_not_durable_runs_concurrently_with_it(engine):
    """Write skew across the early-release window: T2's snapshot is taken after T1's commit record
    is appended but before it is durable, so T2 does not see T1; SSI must treat them as concurrent
    (a history found by make test-long: T1 reads key 0 and appends to key 1, T2 the other way round)."""
    from pgaurora.errors import SerializationFailure

    txns = engine.txns
    storage = engine.storage
    heap = storage.heap(await storage.create_heap())

    async def keys(txn):
        found = []
        async for batch in heap.scan(txn, txn.snapshot()):
            found.extend(row[0] for _, row in batch)
        return found

    t1 = txns.begin("serializable")
    assert await keys(t1) == []
    await heap.insert(t1, (1, "t1"))
    commit = asyncio.ensure_future(t1.commit())
    for _ in range(1000):  # until its commit record is appended (SERIALIZABLE keeps its locks)
        if t1.ssi_commit_seq is not None or commit.done():
            break
        await asyncio.sleep(0)
    assert t1.ssi_commit_seq is not None and not commit.done()  # appended, not yet durable
    t2 = txns.begin("serializable")
    assert await keys(t2) == []
    try:  # 40001 at the write (t2 is a pivot between t1 and itself) or at the commit
        await heap.insert(t2, (0, "t2"))
        await commit
        await t2.commit()
    except SerializationFailure as exc:
        assert exc.sqlstate == "40001"
    else:
        raise AssertionError("write skew across the commit's durability window was let through")
    await commit
    # A session's SERIALIZABLE transaction waits for such commits before its first snapshot
    # (ssi.settle), so it sees them and runs after them instead of failing on every retry.
    t3 = txns.begin("serializable")
    t3.note_read(heap.rel_id)
    assert await keys(t3) == [1]
