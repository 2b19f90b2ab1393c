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
