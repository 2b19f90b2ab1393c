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


def _shared_holders(locks: RelationLocks, oid: int) -> dict[Any, int]:
    lock = locks.locks.get(oid)
    return dict(lock.holders) if lock is not None else {}


def test_weak_locks_without_a_strong_locker_stay_on_the_fast_path() -> None:
    locks = RelationLocks(WaitGraph())
    a, b = txns(1, 2)
    for mode in (ACCESS_SHARE, ROW_SHARE, ROW_EXCLUSIVE):
        assert locks.try_lock(a, 100, mode) is None
    assert locks.try_lock(b, 100, ROW_EXCLUSIVE) is None
    assert _shared_holders(locks, 100) == {}  # nothing in the shared table
    assert locks.holds(a, 100, ROW_SHARE) and locks.holds(b, 100, ROW_EXCLUSIVE)
    assert sorted((t.pid, MODE_NAMES[mode], granted, fast) for _, t, mode, granted, _, fast in locks.relation_rows()) \
        == [(1, "AccessShareLock", True, True), (1, "RowExclusiveLock", True, True), (1, "RowShareLock", True, True),
            (2, "RowExclusiveLock", True, True)]
    locks.release_all(a)
    locks.release_all(b)
    assert list(locks.relation_rows()) == [] and locks.held == {}


async def test_a_strong_locker_moves_fast_path_holds_to_the_shared_table() -> None:
    locks = RelationLocks(WaitGraph())
    a, b, c = txns(1, 2, 3)
    assert locks.try_lock(a, 100, ROW_EXCLUSIVE) is None  # fast path
    assert locks.would_wait(b, 100, SHARE) and not locks.would_wait(b, 100, ROW_EXCLUSIVE)
    waiting_b = asyncio.ensure_future(locks.lock(b, 100, SHARE))
    await asyncio.sleep(0)  # b queues behind a's RowExclusiveLock, which is now a shared-table hold
    assert not waiting_b.done()
    assert _shared_holders(locks, 100) == {a: 1 << ROW_EXCLUSIVE}
    rows = sorted((t.pid, MODE_NAMES[mode], granted, fast) for _, t, mode, granted, _, fast in locks.relation_rows())
    assert rows == [(1, "RowExclusiveLock", True, False), (2, "ShareLock", False, False)]
    assert locks.try_lock(c, 100, ACCESS_SHARE) is None  # no conflict with ShareLock, but not fast now
    assert _shared_holders(locks, 100) == {a: 1 << ROW_EXCLUSIVE, c: 1 << ACCESS_SHARE}
    assert locks.try_lock(c, 100, ROW_EXCLUSIVE) is None  # a holder jumps the queue (b's ShareLock only waits)
    locks.release_all(a)
    locks.release_all(c)
    await asyncio.wait_for(waiting_b, 1)
    assert locks.try_lock(a, 100, ROW_EXCLUSIVE) == [b]  # b holds ShareLock: the weak lock conflicts
    locks.release_all(b)
    assert locks.try_lock(a, 100, ROW_EXCLUSIVE) is None and _shared_holders(locks, 100) == {}  # fast again


async def test_a_queued_non_strong_lock_does_not_hide_fast_path_holders() -> None:
    locks = RelationLocks(WaitGraph())
    a, b, c, d = txns(1, 2, 3, 4)
    assert locks.try_lock(a, 100, ROW_EXCLUSIVE) is None  # fast path
    assert locks.try_lock(b, 100, SHARE_UPDATE_EXCLUSIVE) is None  # VACUUM: no conflict with weak modes
    waiting_c = asyncio.ensure_future(locks.lock(c, 100, SHARE_UPDATE_EXCLUSIVE))  # a second VACUUM waits
    await asyncio.sleep(0)
    assert locks.try_lock(d, 100, SHARE) is not None  # blocked by a (fast path) as well as b and c
    assert a in _shared_holders(locks, 100)
    locks.release_all(b)
    await asyncio.wait_for(waiting_c, 1)
    for t in (a, c, d):
        locks.release_all(t)


def test_rollback_to_savepoint_drops_fast_path_holds_taken_after_it() -> None:
    locks = RelationLocks(WaitGraph())
    a, b = txns(1, 2)
    assert locks.try_lock(a, 100, ACCESS_SHARE) is None
    kept = dict(locks.held[a])  # SAVEPOINT
    assert locks.try_lock(a, 100, ROW_EXCLUSIVE) is None
    assert locks.try_lock(a, 200, ROW_EXCLUSIVE) is None
    locks.rollback_to(a, kept)
    assert locks.holds(a, 100, ACCESS_SHARE) and not locks.holds(a, 100, ROW_EXCLUSIVE)
    assert not locks.holds(a, 200, ROW_EXCLUSIVE)
    assert locks.try_lock(b, 200, ACCESS_EXCLUSIVE) is None
    assert locks.try_lock(b, 100, EXCLUSIVE) is None  # the RowExclusiveLock is gone ...
    assert locks.try_lock(b, 100, ACCESS_EXCLUSIVE) == [a]  # ... the AccessShareLock kept


async def test_each_waiter_has_its_own_future_woken_in_one_loop_turn() -> None:
    from pgaurora.txn.locks import EXCLUSIVE, LockTable

    table = LockTable(WaitGraph())
    a, b, c = txns(1, 2, 3)
    assert not table.try_acquire("row", a, EXCLUSIVE)
    waiting_b = asyncio.ensure_future(table.acquire("row", b, b, EXCLUSIVE))
    waiting_c = asyncio.ensure_future(table.acquire("row", c, c, EXCLUSIVE, timeout_ms=60_000))
    await asyncio.sleep(0)
    waiting_b.cancel()  # canceling one waiter leaves the other one waiting
    with pytest.raises(asyncio.CancelledError):
        await waiting_b
    assert not waiting_c.done()
    table.release("row", a, EXCLUSIVE)
    await asyncio.sleep(0)  # one turn: the release resolved c's own future, c runs now
    assert waiting_c.done() and waiting_c.result() is True
    waiting_d = asyncio.ensure_future(table.acquire("row", b, b, EXCLUSIVE, timeout_ms=20))
    with pytest.raises(LockNotAvailable, match="canceling statement due to lock timeout"):
        await asyncio.wait_for(waiting_d, 1)
