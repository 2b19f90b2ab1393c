"""Relation locks: PostgreSQL's eight table lock modes, held by a transaction until it ends.

Owns the heavyweight lock on a relation (lock.c / lockdefs.h for locktype 'relation'): the
conflict table, the wait queue (a request that conflicts with a queued waiter waits behind it, so
an ACCESS EXCLUSIVE waiter is not starved by a stream of readers), NOWAIT, lock_timeout and the
deadlock check (through the same wait-for graph as row, transaction and advisory locks), and
the status rows pg_locks shows (`lock_status`). Not which statement takes which mode (that is
derived from the plan: session.locking) and not row locks (txn.locks).

    mode (weakest first)        conflicts with
    AccessShareLock             AccessExclusive
    RowShareLock                Exclusive, AccessExclusive
    RowExclusiveLock            Share, ShareRowExclusive, Exclusive, AccessExclusive
    ShareUpdateExclusiveLock    ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive
    ShareLock                   RowExclusive, ShareUpdateExclusive, ShareRowExclusive, Exclusive, AccessExclusive
    ShareRowExclusiveLock       RowExclusive ... AccessExclusive
    ExclusiveLock               RowShare ... AccessExclusive
    AccessExclusiveLock         everything

Hot path (PostgreSQL's local lock table and fast-path locks, lock.c): each transaction keeps
the modes it holds per relation (`held`), so the 2nd..nth statement on a relation costs one
dict lookup. A weak mode (AccessShare, RowShare, RowExclusive: they conflict only with strong
modes) on a relation where no strong mode (Share and stronger) is held or awaited is recorded
in that local table alone, marked fast path: no shared lock object, no holder entry, nothing
to undo in the shared table at release. A strong request first moves every fast-path hold on
its relation into the shared table (FastPathTransferRelationLocks), so conflicts, the queue,
deadlock detection and pg_locks see them as before (pg_locks shows `fastpath` as PostgreSQL
does: true for a lock still held on the fast path).

    held[txn][oid] = modes | fast_modes << FAST      (fast_modes: a subset of modes)

    weak request, no strong held/queued on oid  ─► held only (fast path)
    strong request                              ─► transfer fast holds on oid to the shared
                                                   lock, then the ordinary conflict check

Locks live in memory only: after a writer crash every transaction that held one is aborted anyway.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

from pgaurora.errors import LockNotAvailable
from pgaurora.txn.locks import ReleaseSignal, WaiterFuture, WaitGraph

if TYPE_CHECKING:
    from pgaurora.txn.transaction import Transaction

(ACCESS_SHARE, ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE,
 ACCESS_EXCLUSIVE) = range(8)
MODE_NAMES = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
              "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
# CONFLICTS[mode]: bit i set = conflicts with mode i (lock.c's LockConflicts, shifted to 0-based)
CONFLICTS = (0x80, 0xC0, 0xF0, 0xF8, 0xEC, 0xFC, 0xFE, 0xFF)
STRONG_MODES = 0xF0  # Share and stronger: conflict with RowExclusive (what fastpath cannot hold)
WEAK_MODES = 0x07  # AccessShare, RowShare, RowExclusive: conflict with strong modes only (fast-path eligible)
FAST = 8  # held[txn][oid] >> FAST: the modes held on the fast path (not in the shared table)
DATABASE_OID = 5  # the single database, postgres
_KEEP_LOCKS = 10_000  # unheld lock objects kept for reuse, at most


class RelationLock(ReleaseSignal):
    """One relation's holders (transaction -> bit set of modes) and its queue of waiters."""

    __slots__ = ("holders", "granted", "queue", "waiters")

    def __init__(self) -> None:
        self.holders: dict[Transaction, int] = {}
        self.granted = 0  # OR of every holder's modes
        self.queue: list[tuple[Transaction, int, float]] = []  # (waiter, mode, wait start) in arrival order
        self.waiters: list[WaiterFuture] | None = None

    def strong_waiting(self) -> bool:
        """A strong mode (Share or stronger) is queued: no new fast-path holds on the relation."""
        return any((1 << mode) & STRONG_MODES for _, mode, _ in self.queue)

    def blockers(self, txn: Transaction, mode: int, held: int) -> list[Hashable]:
        """Owners that keep `txn` from taking `mode`: conflicting holders, and queued waiters
        ahead of it with a conflicting mode (unless it already holds a lock here, PostgreSQL's
        rule that lets a holder jump the queue instead of deadlocking with it)."""
        conflict = CONFLICTS[mode]
        found: list[Hashable] = []
        if self.granted & conflict:
            for other, modes in self.holders.items():
                if other is not txn and modes & conflict:
                    found.append(other.owner)
        if self.queue and not held:
            for other, other_mode, _ in self.queue:
                if other is txn:
                    break
                if (1 << other_mode) & conflict:
                    found.append(other.owner)
        return found


class RelationLocks:
    """Every relation lock of the instance; one per TransactionManager."""

    def __init__(self, graph: WaitGraph) -> None:
        self.graph = graph
        self.locks: dict[int, RelationLock] = {}  # relation oid -> lock (only while held or awaited)
        self.held: dict[Transaction, dict[int, int]] = {}  # the local lock table: txn -> oid -> modes
        self._backend_ids: dict[Hashable, int] = {}
        self._local_ids: dict[Transaction, int] = {}
        self._next_local = 1

    # -- taking ------------------------------------------------------------------------------------

    def try_lock(self, txn: Transaction, oid: int, mode: int) -> list[Hashable] | None:
        """Takes `mode` on `oid` unless someone blocks it: None when held now, else the blockers."""
        mine = self.held.get(txn)
        if mine is None:
            mine = self.held[txn] = {}
            held = 0
        else:
            held = mine.get(oid, 0)
            if held >> mode & 1:
                return None
        bit = 1 << mode
        lock = self.locks.get(oid)
        if lock is None or not (lock.granted & STRONG_MODES or lock.queue and lock.strong_waiting()):
            if bit & WEAK_MODES:
                mine[oid] = held | bit | bit << FAST  # fast path: no strong lock to conflict with
                return None
            if lock is None:
                lock = self.locks[oid] = RelationLock()
            if bit & STRONG_MODES:
                self._transfer(oid, lock)  # the fast-path holders must now be seen as holders
                held = mine.get(oid, 0)
        if lock.granted & CONFLICTS[mode] or lock.queue:
            blockers = lock.blockers(txn, mode, held & 0xFF)
            if blockers:
                return blockers
        lock.holders[txn] = (held & ~(held >> FAST) & 0xFF) | bit  # its modes in the shared table
        lock.granted |= bit
        mine[oid] = held | bit
        return None

    def _transfer(self, oid: int, lock: RelationLock) -> None:
        """A strong mode is asked for on `oid`: every fast-path hold on it moves into `lock`
        (and stays there until its transaction ends), as PostgreSQL's strong lockers do."""
        for other, theirs in self.held.items():
            value = theirs.get(oid, 0)
            fast = value >> FAST
            if fast:
                theirs[oid] = value & 0xFF
                lock.holders[other] = lock.holders.get(other, 0) | fast
                lock.granted |= fast

    async def lock(self, txn: Transaction, oid: int, mode: int, *, nowait: bool = False, name: str = "") -> None:
        """Takes `mode` on relation `oid` until `txn` ends, waiting as long as it must (55P03 after
        lock_timeout or at once with NOWAIT, 40P01 when the wait would close a cycle)."""
        blockers = self.try_lock(txn, oid, mode)
        if blockers is None:
            return
        if nowait:
            self._forget_empty(oid)
            raise LockNotAvailable(f'could not obtain lock on relation "{name or oid}"')
        lock = self.locks[oid]
        entry = (txn, mode, time.time())
        lock.queue.append(entry)
        what = f"{MODE_NAMES[mode]} on relation {oid} of database {DATABASE_OID}"
        try:
            for _ in range(1_000_000):
                await self.graph.wait(txn.owner, blockers, lock.waiter_future(), txn.lock_timeout, what)
                blockers = self.try_lock(txn, oid, mode)
                if blockers is None:
                    return
            raise LockNotAvailable(f'could not obtain lock on relation "{name or oid}"')
        finally:
            try:
                lock.queue.remove(entry)
            except ValueError:
                pass
            lock.wake()  # a waiter behind this one may go now
            self._forget_empty(oid)

    def _forget_empty(self, oid: int) -> None:
        lock = self.locks.get(oid)
        if lock is not None and not lock.holders and not lock.queue and len(self.locks) > _KEEP_LOCKS:
            del self.locks[oid]

    def would_wait(self, txn: Transaction | None, oid: int, mode: int) -> bool:
        """`txn` (None: a transaction not begun yet) could not take `mode` on `oid` now."""
        conflict = CONFLICTS[mode]
        if conflict & WEAK_MODES:  # a strong mode: fast-path holders of weak modes count too
            for other, theirs in self.held.items():
                if other is not txn and theirs.get(oid, 0) >> FAST & conflict:
                    return True
        lock = self.locks.get(oid)
        if lock is None:
            return False
        if lock.granted & conflict:
            for other, modes in lock.holders.items():
                if other is not txn and modes & conflict:
                    return True
        return any((1 << other_mode) & conflict for other, other_mode, _ in lock.queue if other is not txn)

    def blocks_reads(self, oid: int) -> bool:
        """An AccessShareLock on `oid` would wait now (held or awaited ACCESS EXCLUSIVE): what a
        read outside any transaction asks before it runs without taking locks."""
        lock = self.locks.get(oid)
        if lock is None:
            return False
        if lock.granted >> ACCESS_EXCLUSIVE & 1:
            return True
        return bool(lock.queue) and any(mode == ACCESS_EXCLUSIVE for _, mode, _ in lock.queue)

    # -- releasing ---------------------------------------------------------------------------------

    def release_all(self, txn: Transaction) -> None:
        """Transaction end: drop every relation lock of `txn` and wake the waiters."""
        mine = self.held.pop(txn, None)
        self._local_ids.pop(txn, None)
        if not mine:
            return
        locks = self.locks
        for oid, held in mine.items():
            if held >> FAST == held & 0xFF:
                continue  # held on the fast path only: nothing in the shared table, nobody waits for it
            lock = locks.get(oid)
            if lock is None or lock.holders.pop(txn, None) is None:
                continue
            holders = lock.holders
            if holders:
                granted = 0
                for modes in holders.values():
                    granted |= modes
                lock.granted = granted
            else:
                lock.granted = 0
            # An unheld lock object stays (one per relation in use): the next statement on the
            # relation reuses it instead of allocating one.
            if lock.waiters is not None:
                lock.wake()
        if len(locks) > _KEEP_LOCKS:
            for oid in [oid for oid, lock in locks.items() if not lock.holders and not lock.queue]:
                del locks[oid]

    def rollback_to(self, txn: Transaction, kept: dict[int, int]) -> None:
        """ROLLBACK TO SAVEPOINT: drop the modes `txn` took after the savepoint, whose holds
        then were `kept` (a copy of `held[txn]` taken at the savepoint), as PostgreSQL does."""
        mine = self.held.get(txn)
        if not mine:
            return
        for oid, held in list(mine.items()):
            modes = held & 0xFF
            keep = kept.get(oid, 0) & modes
            if keep == modes:
                continue
            fast = held >> FAST
            if keep:
                mine[oid] = keep | (fast & keep) << FAST
            else:
                del mine[oid]
            lock = self.locks.get(oid)
            if lock is None or not modes & ~fast:
                continue  # nothing of it in the shared table
            shared = keep & ~fast
            if shared:
                lock.holders[txn] = shared
            else:
                lock.holders.pop(txn, None)
            granted = 0
            for other_modes in lock.holders.values():
                granted |= other_modes
            lock.granted = granted
            lock.wake()

    def holds(self, txn: Transaction, oid: int, mode: int) -> bool:
        return bool(self.held.get(txn, {}).get(oid, 0) >> mode & 1)

    # -- pg_locks ----------------------------------------------------------------------------------

    def virtual_transaction(self, txn: Transaction) -> str:
        """PostgreSQL's 'backend id/local xid' for `txn` (stable while it runs)."""
        backend = self.backend_id(txn.owner)
        local = self._local_ids.get(txn)
        if local is None:
            local = self._local_ids[txn] = self._next_local
            self._next_local += 1
        return f"{backend}/{local}"

    def backend_id(self, owner: Hashable) -> int:
        """A small number per session, as PostgreSQL's backend ids are (not reused while it lives)."""
        backend = self._backend_ids.get(owner)
        if backend is None:
            if len(self._backend_ids) > 10_000:
                self._backend_ids.clear()
            backend = self._backend_ids[owner] = len(self._backend_ids) + 3
        return backend

    def relation_rows(self) -> Iterator[tuple[int, Transaction, int, bool, float | None, bool]]:
        """(oid, txn, mode, granted, wait start, fastpath) of every relation lock and waiter:
        the fast-path holds first, then the shared table, as PostgreSQL's pg_lock_status."""
        for txn, mine in self.held.items():
            for oid, held in mine.items():
                fast = held >> FAST
                for mode in range(3):
                    if fast >> mode & 1:
                        yield oid, txn, mode, True, None, True
        for oid, lock in self.locks.items():
            for txn, modes in lock.holders.items():
                for mode in range(8):
                    if modes >> mode & 1:
                        yield oid, txn, mode, True, None, False
            for txn, mode, start in lock.queue:
                yield oid, txn, mode, False, start, False


def lock_status(manager: Any) -> Iterator[tuple[Any, ...]]:
    """pg_locks rows (PostgreSQL 15's columns, waitstart as epoch seconds or None) from the
    manager's lock tables: relation locks, each live transaction's virtualxid and transactionid,
    transaction waits, tuple waits and advisory locks."""
    relation_locks: RelationLocks = manager.relation_locks
    vxid = relation_locks.virtual_transaction
    db = DATABASE_OID
    live = [txn for txn in manager.live if txn.state.value == "active"]
    by_owner = {txn.owner: txn for txn in live}
    for oid, txn, mode, granted, start, fast in relation_locks.relation_rows():
        yield ("relation", db, oid, None, None, None, None, None, None, None, vxid(txn), txn.pid,
               MODE_NAMES[mode], granted, fast, start)
    graph = manager.graph
    for txn in live:
        v = vxid(txn)
        yield ("virtualxid", None, None, None, None, v, None, None, None, None, v, txn.pid, "ExclusiveLock",
               True, True, None)
        if txn.xid is not None:
            yield ("transactionid", None, None, None, None, None, txn.xid, None, None, None, v, txn.pid,
                   "ExclusiveLock", True, False, None)
        what = graph.waiting_for.get(txn.owner)
        if what is None:
            continue
        if what.startswith("ShareLock on transaction "):
            xid = int(what.rsplit(" ", 1)[1])
            yield ("transactionid", None, None, None, None, None, xid, None, None, None, v, txn.pid,
                   "ShareLock", False, False, None)
        elif what == "lock on row" and txn.last_row_key is not None:
            rel, page, slot = txn.last_row_key
            yield ("tuple", db, rel, page, slot, None, None, None, None, None, v, txn.pid,
                   "ExclusiveLock", False, False, None)
    for key, lock in manager.advisory.locks.items():
        if not (isinstance(key, tuple) and key and key[0] == "advisory"):
            continue
        classid, objid, objsubid = _advisory_ids(key[1])
        for owner, counts in lock.holds.items():
            holder = by_owner.get(owner)
            v = vxid(holder) if holder is not None else f"{relation_locks.backend_id(owner)}/0"
            pid = getattr(owner, "pid", 0)
            if counts[3]:
                yield ("advisory", db, None, None, None, None, None, classid, objid, objsubid, v, pid,
                       "ExclusiveLock", True, False, None)
            if counts[1]:
                yield ("advisory", db, None, None, None, None, None, classid, objid, objsubid, v, pid,
                       "ShareLock", True, False, None)
    for owner, (key, shared, since) in getattr(manager, "advisory_requests", {}).items():
        if graph.waiting_for.get(owner) != "advisory lock":
            continue  # asked for and not (or no longer) waiting
        classid, objid, objsubid = _advisory_ids(key)
        waiter = by_owner.get(owner)
        v = vxid(waiter) if waiter is not None else f"{relation_locks.backend_id(owner)}/0"
        yield ("advisory", db, None, None, None, None, None, classid, objid, objsubid, v, getattr(owner, "pid", 0),
               "ShareLock" if shared else "ExclusiveLock", False, False, since)


def _advisory_ids(key: Any) -> tuple[int, int, int]:
    """(classid, objid, objsubid) as PostgreSQL shows an advisory key: one bigint is split into
    its high and low 32 bits (objsubid 1), two int4 keys are shown as they are (objsubid 2)."""
    if isinstance(key, tuple) and len(key) == 2 and key[0] == 1:
        value = int(key[1]) & 0xFFFFFFFFFFFFFFFF
        return value >> 32, value & 0xFFFFFFFF, 1
    if isinstance(key, tuple) and len(key) == 3 and key[0] == 2:
        return int(key[1]) & 0xFFFFFFFF, int(key[2]) & 0xFFFFFFFF, 2
    return 0, hash(key) & 0xFFFFFFFF, 1
