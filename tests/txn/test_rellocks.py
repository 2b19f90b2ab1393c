"""txn.rellocks without a server: the conflict table, re-entrant holds, the wait queue, NOWAIT,
lock_timeout, deadlocks through the shared wait-for graph, release at transaction end, and the
plan -> modes mapping of session.locking."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pgaurora.errors import DeadlockDetected, LockNotAvailable
from pgaurora.executor.plannodes import IndexKind, IndexScan, LockRows, Plan, SeqScan
from pgaurora.session.locking import plan_locks
from pgaurora.txn.locks import WaitGraph
from pgaurora.txn.rellocks import (
    ACCESS_EXCLUSIVE,
    ACCESS_SHARE,
    CONFLICTS,
    EXCLUSIVE,
    MODE_NAMES,
    ROW_EXCLUSIVE,
    ROW_SHARE,
    SHARE,
    SHARE_UPDATE_EXCLUSIVE,
    RelationLocks,
)

pytestmark = pytest.mark.timeout(10)

# PostgreSQL's documented table (explicit-locking.html, Table 13.2): mode -> modes it conflicts with
DOCUMENTED = {
    "AccessShareLock": {"AccessExclusiveLock"},
    "RowShareLock": {"ExclusiveLock", "AccessExclusiveLock"},
    "RowExclusiveLock": {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
    "ShareUpdateExclusiveLock": {"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
                                 "AccessExclusiveLock"},
    "ShareLock": {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock", "ExclusiveLock",
                  "AccessExclusiveLock"},
    "ShareRowExclusiveLock": {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
                              "ExclusiveLock", "AccessExclusiveLock"},
    "ExclusiveLock": set(MODE_NAMES[1:]),
    "AccessExclusiveLock": set(MODE_NAMES),
}


class Txn:
    """What RelationLocks reads of a transaction."""

    def __init__(self, pid: int, lock_timeout: int = 0) -> None:
        self.owner: Any = self
        self.pid = pid
        self.lock_timeout = lock_timeout


def txns(*pids: int, lock_timeout: int = 0) -> Any:
    """Stand-ins for txn.transaction.Transaction (typed Any: only these attributes are read)."""
    return [Txn(pid, lock_timeout) for pid in pids]


def test_conflict_table_is_postgresqls() -> None:
    for mode, name in enumerate(MODE_NAMES):
        assert {MODE_NAMES[i] for i in range(8) if CONFLICTS[mode] >> i & 1} == DOCUMENTED[name]
        for other in range(8):
            assert bool(CONFLICTS[mode] >> other & 1) == bool(CONFLICTS[other] >> mode & 1)  # symmetric


def test_holds_are_reentrant_and_own_locks_never_conflict() -> None:
    locks = RelationLocks(WaitGraph())
    a, b = txns(1, 2)
    assert locks.try_lock(a, 100, ACCESS_EXCLUSIVE) is None
    assert locks.try_lock(a, 100, ACCESS_SHARE) is None
    assert locks.try_lock(a, 100, ACCESS_EXCLUSIVE) is None
    assert locks.try_lock(b, 100, ACCESS_SHARE) == [a]
    assert locks.try_lock(b, 200, EXCLUSIVE) is None  # another relation
    locks.release_all(a)
    assert locks.try_lock(b, 100, ROW_EXCLUSIVE) is None
    assert not locks.holds(a, 100, ACCESS_EXCLUSIVE) and locks.holds(b, 100, ROW_EXCLUSIVE)


async def test_waiter_is_granted_at_release_and_queue_holds_back_newcomers() -> None:
    locks = RelationLocks(WaitGraph())
    a, b, c = txns(1, 2, 3)
    assert locks.try_lock(a, 100, ACCESS_SHARE) is None
    waiting_b = asyncio.ensure_future(locks.lock(b, 100, ACCESS_EXCLUSIVE))
    await asyncio.sleep(0)  # let it queue (the event loop runs it up to its wait)
    assert not waiting_b.done()
    assert locks.try_lock(c, 100, ACCESS_SHARE) == [b]  # behind the queued ACCESS EXCLUSIVE
    assert locks.try_lock(a, 100, ROW_SHARE) is None    # a holder may jump the queue
    assert locks.blocks_reads(100)
    locks.release_all(a)
    await asyncio.wait_for(waiting_b, 1)
    assert locks.holds(b, 100, ACCESS_EXCLUSIVE)
    rows = list(locks.relation_rows())
    assert [(oid, MODE_NAMES[mode], granted) for oid, _, mode, granted, _, _ in rows] == \
        [(100, "AccessExclusiveLock", True)]


async def test_nowait_and_lock_timeout() -> None:
    locks = RelationLocks(WaitGraph())
    a, = txns(1)
    b, = txns(2, lock_timeout=20)
    assert locks.try_lock(a, 100, SHARE) is None
    with pytest.raises(LockNotAvailable, match='could not obtain lock on relation "t"'):
        await locks.lock(b, 100, ROW_EXCLUSIVE, nowait=True, name="t")
    with pytest.raises(LockNotAvailable, match="canceling statement due to lock timeout"):
        await locks.lock(b, 100, ROW_EXCLUSIVE)
    assert list(locks.relation_rows()) == [(100, a, SHARE, True, None, False)]  # the waiter left the queue


async def test_deadlock_between_two_relations() -> None:
    graph = WaitGraph()
    locks = RelationLocks(graph)
    a, b = txns(1, 2)
    assert locks.try_lock(a, 100, EXCLUSIVE) is None
    assert locks.try_lock(b, 200, EXCLUSIVE) is None
    waiting_b = asyncio.ensure_future(locks.lock(b, 100, SHARE_UPDATE_EXCLUSIVE))
    await asyncio.sleep(0)
    with pytest.raises(DeadlockDetected) as err:
        await locks.lock(a, 200, SHARE)
    assert "waits for ShareLock on relation 200 of database 5" in (err.value.detail or "")
    locks.release_all(a)
    await asyncio.wait_for(waiting_b, 1)


def test_plan_modes() -> None:
    scan = SeqScan(500, "t", 2, with_tid=True)
    select = Plan("SELECT", scan, None, ())
    assert plan_locks(select) == (((500, ACCESS_SHARE),), ())
    for_update = Plan("SELECT", LockRows(scan, 500, 2, "update", "block", 2), None, ())
    assert plan_locks(for_update) == (((500, ROW_SHARE),), ())  # its own scan takes no AccessShareLock
    lookup = Plan("SELECT", IndexScan(600, "u", 601, "u_pkey", 1, IndexKind.EQ), None, ())
    assert plan_locks(lookup) is plan_locks(lookup)  # computed once per plan
