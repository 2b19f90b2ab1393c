"""A commit that storage does not acknowledge in time (58000) still releases its locks."""

from __future__ import annotations

import asyncio

import pytest

from pgaurora.errors import StorageUnavailable
from pgaurora.txn.rellocks import MODE_NAMES

ACCESS_EXCLUSIVE = MODE_NAMES.index("AccessExclusiveLock")


async def test_a_commit_without_write_quorum_fails_and_releases_its_relation_locks(engine) -> None:
    heap = engine.storage.heap(await engine.storage.create_heap())
    locks = engine.txns.relation_locks
    t = engine.txns.begin()
    await locks.lock(t, heap.rel_id, ACCESS_EXCLUSIVE)
    await heap.insert(t, ("row",))
    stopped = list(engine.nodes)[:3]
    for address in stopped:  # three of six: no write quorum
        await engine.stop_node(address)
    with pytest.raises(StorageUnavailable):
        await t.commit()
    other = engine.txns.begin()
    assert not locks.would_wait(other, heap.rel_id, ACCESS_EXCLUSIVE)  # not held by the failed commit
    await asyncio.wait_for(locks.lock(other, heap.rel_id, ACCESS_EXCLUSIVE, nowait=True), 1.0)
    await other.abort()
    for address in stopped:
        engine.start_node(address)
    await engine.cache.sync()  # the commit record becomes durable once the quorum is back


async def test_a_commit_cancelled_while_it_waits_for_vdl_still_completes(engine) -> None:
    """The commit record is appended before the wait: cancelling the waiting client changes no
    outcome. The transaction stays running for snapshots until its record is durable, then commits."""
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = engine.txns.begin()
    await heap.insert(t, ("row",))
    xid = t.xid
    stopped = list(engine.nodes)[:3]
    for address in stopped:  # no write quorum: the commit waits
        await engine.stop_node(address)
    committing = asyncio.ensure_future(t.commit())
    for _ in range(100):  # bounded: until the record is appended and the wait begins
        if t.commit_lsn:
            break
        await asyncio.sleep(0)
    assert t.commit_lsn and not committing.done()
    committing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await committing
    assert xid in engine.txns.active  # not durable: snapshots still see it running
    for address in stopped:
        engine.start_node(address)
    await engine.cache.sync()
    # the commit's own task sees VDL pass its record: a REPEATABLE READ waiter wakes when it does
    waiter = engine.txns.begin("repeatable read")
    await asyncio.wait_for(engine.txns.wait_for_xid(waiter, xid), 10)
    await waiter.commit()
    assert xid not in engine.txns.active and t not in engine.txns.live
    reader = engine.txns.begin()
    assert [row async for batch in heap.scan(reader, reader.snapshot()) for _, row in batch] == [("row",)]
    await reader.commit()
