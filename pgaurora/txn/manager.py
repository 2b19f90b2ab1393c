"""The writer's transaction table: xid assignment, status, snapshots, waits and lock tables.

Owns the in-memory set of running transactions (top-level xids and their subxids), xid status
(running here, else the clog bits: COMMITTED, or aborted — an xid below the persisted limit that
never committed is aborted by definition after a crash), taking snapshots, the vacuum horizon,
and the wait-for graph shared by row locks, xid waits and advisory locks.
Not the per-transaction state machine (txn.transaction) or the clog layout (txn.clog).

    begin() ─► Transaction ── first write: assign_xid() ─► active[xid] = txn
                    │
          commit(): clog bits COMMITTED (one MTR) ─► wait VDL >= lsn ─► leave active, wake waiters
          abort():  clog bits ABORTED (one MTR, no wait)           ─► leave active, wake waiters

A committing transaction stays in the active table until its commit record is durable, so no
snapshot sees its changes before the client could have been told COMMIT. Its row locks, though,
go as soon as the commit record is appended (early lock release, as InnoDB does): `status()`
says COMMITTED for it, so a waiting writer follows its update chain at once instead of waiting
a quorum round trip; the waiter's own commit record comes later in the log, so it is never
durable before the one it built on (a read-only waiter waits for that LSN at its end).

    commit record appended ─► committing[xid] = lsn: row locks released, xid waiters woken
    VDL >= lsn              ─► leaves active: new snapshots see it
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable

from pgaurora.access.txnview import XidStatus
from pgaurora.pagecache import FIRST_NORMAL_XID, PageCache
from pgaurora.txn.clog import Clog
from pgaurora.txn.locks import EXCLUSIVE, KEY_SHARE, SHARE, UPDATE, LockTable, WaitGraph
from pgaurora.txn.rellocks import RelationLocks
from pgaurora.txn.snapshot import Snapshot
from pgaurora.txn.ssi import SerializableTracker
from pgaurora.txn.transaction import Transaction, isolation_level

_IN_PROGRESS = XidStatus.IN_PROGRESS
_COMMITTED = XidStatus.COMMITTED
_ABORTED = XidStatus.ABORTED
_STATUS_CACHE_LIMIT = 1 << 20


class TransactionManager:
    """Transactions of the writer instance."""

    def __init__(self, pagecache: PageCache) -> None:
        self.cache = pagecache
        self.clog = Clog(pagecache)
        self.active: dict[int, Transaction] = {}  # xid (top-level or subxid) -> its transaction
        self.committing: dict[int, int] = {}  # active xids whose commit record is appended -> its lsn
        self.live: set[Transaction] = set()  # every transaction not yet ended
        self.completions = 0  # bumped whenever an xid leaves the in-progress state
        self.graph = WaitGraph()
        self.row_locks = LockTable(self.graph)
        self.advisory = LockTable(self.graph)
        self.relation_locks = RelationLocks(self.graph)  # txn.rellocks: table locks, held to the end
        self._session_advisory: dict[Hashable, list[tuple[Hashable, bool]]] = {}
        # pg_locks: the advisory lock each owner is asking for, with when it began (epoch seconds)
        self.advisory_requests: dict[Hashable, tuple[Hashable, bool, float]] = {}
        self._xid_done: dict[int, asyncio.Future[object]] = {}  # resolved when the xid ends
        self._xid_decided: dict[int, asyncio.Future[object]] = {}  # ... or its commit record is appended
        self._status_cache: dict[int, XidStatus] = {}
        self._snapshot_data: tuple[int, int, frozenset[int]] | None = None
        self.ssi = SerializableTracker()
        self.horizon_floor: int | None = None  # replicas' oldest xmin, fed back for vacuum
        self._opened = False

    async def open(self) -> TransactionManager:
        """Reads the control page and the clog (creating them on a new volume); idempotent."""
        if not self._opened:
            await self.cache.open()
            await self.clog.open()
            self._opened = True
        return self

    # -- transactions ------------------------------------------------------------------------------

    def begin(
        self,
        isolation: str = "read committed",
        read_only: bool = False,
        *,
        owner: Hashable | None = None,
        pid: int = 0,
        deferrable: bool = False,
    ) -> Transaction:
        level = isolation_level(isolation)
        txn = Transaction(self, level, read_only, owner, pid)
        self.live.add(txn)
        return txn

    def _new_xid(self, txn: Transaction) -> int:
        xid = self.cache.control.allocate_xid()
        self.clog.ensure(xid)
        self.active[xid] = txn
        self._snapshot_data = None
        return xid

    def _complete(self, xids: list[int], status: XidStatus) -> None:
        """Moves `xids` out of the in-progress state and wakes whoever waits for them."""
        active = self.active
        cache = self._status_cache
        if len(cache) > _STATUS_CACHE_LIMIT:
            cache.clear()
        committing = self.committing
        decided = self._xid_decided
        for xid in xids:
            active.pop(xid, None)
            committing.pop(xid, None)
            cache[xid] = status
            fut = self._xid_done.pop(xid, None)
            if fut is not None and not fut.done():
                fut.set_result(status)
            fut = decided.pop(xid, None)
            if fut is not None and not fut.done():
                fut.set_result(status)
        self.completions += 1
        self._snapshot_data = None

    def _committing(self, txn: Transaction, xids: list[int], lsn: int) -> None:
        """The commit record of `xids` is appended: release row locks and wake xid waiters now."""
        committing = self.committing
        decided = self._xid_decided
        for xid in xids:
            committing[xid] = lsn
            fut = decided.pop(xid, None)
            if fut is not None and not fut.done():
                fut.set_result(_COMMITTED)
        self.completions += 1
        if txn._row_locks:
            self.row_locks.release_all(txn.owner, txn._row_locks)
            txn._row_locks = []

    def _end(self, txn: Transaction) -> None:
        self.live.discard(txn)
        if txn.ssi_commit_seq is None and txn.ssi_snapshot_seq:
            self.ssi.leave(txn)  # aborted: its reads and writes no longer matter
        if txn._row_locks:
            self.row_locks.release_all(txn.owner, txn._row_locks)
        for key, shared in txn._advisory:
            self.advisory.release(key, txn.owner, SHARE if shared else EXCLUSIVE)
        if txn in self.relation_locks.held:
            self.relation_locks.release_all(txn)

    # -- status and snapshots ----------------------------------------------------------------------

    def status(self, xid: int) -> XidStatus:
        if xid in self.active:
            return _COMMITTED if xid in self.committing else _IN_PROGRESS
        status = self._status_cache.get(xid)
        if status is not None:
            return status
        if xid < FIRST_NORMAL_XID:
            return _COMMITTED  # bootstrap and frozen xids
        bits = self.clog.get(xid)
        if bits == _COMMITTED or bits == _ABORTED:
            self._status_cache[xid] = bits
            return bits
        # Not running here and no outcome in clog: lost in a crash, so aborted by definition. (Not
        # cached: a reader instance following the log may still see its commit arrive.)
        return _ABORTED

    def snapshot_data(self) -> tuple[int, int, frozenset[int]]:
        """(xmin, xmax, xip) of the running transactions now."""
        data = self._snapshot_data
        if data is None:
            xmax = self.cache.control.next_xid
            xip = frozenset(self.active)
            xmin = min(xip) if xip else xmax
            data = self._snapshot_data = (xmin, xmax, xip)
        return data

    def take_snapshot(self, txn: Transaction) -> Snapshot:
        xmin, xmax, xip = self.snapshot_data()
        depends_on = txn.depends_on
        if depends_on:
            # What it built on counts as committed for it (xmin may stay lower: conservative).
            xip = xip.difference([xid for xid in depends_on if xid in self.committing])
        return Snapshot(xmin, xmax, xip, txn.own, txn.command_id, self.status)

    def oldest_xmin(self) -> int:
        """No snapshot of any running transaction (or replica) can see a tuple deleted below this."""
        horizon = self.cache.control.next_xid
        if self.active:
            horizon = min(horizon, min(self.active))
        for txn in self.live:
            if txn.snapshot_xmin is not None and txn.snapshot_xmin < horizon:
                horizon = txn.snapshot_xmin
        if self.horizon_floor is not None:
            horizon = min(horizon, self.horizon_floor)
        return horizon

    # -- waits -------------------------------------------------------------------------------------

    async def wait_for_xid(self, txn: Transaction, xid: int) -> None:
        """Waits until `xid` commits or aborts (40P01 on a deadlock, 55P03 after lock_timeout).

        READ COMMITTED returns once the commit record is appended (early lock release) and notes
        the dependency; the other levels wait until the commit is visible, since they will fail
        with 40001 and their retry's snapshot must see it.
        """
        holder = self.active.get(xid)
        if holder is None or holder is txn:
            return
        read_committed = txn.isolation == "read committed"
        if xid not in self.committing:
            futures = self._xid_decided if read_committed else self._xid_done
            fut = futures.get(xid)
            if fut is None:
                fut = futures[xid] = asyncio.get_running_loop().create_future()
            await self.graph.wait(txn.owner, [holder.owner], fut, txn.lock_timeout, f"ShareLock on transaction {xid}")
        lsn = self.committing.get(xid)
        if lsn is None:
            return
        if read_committed:
            txn.depends_on[xid] = lsn
            return
        # Committing: it waits for nothing, so this wait closes no cycle.
        await self.wait_completed(xid)

    async def wait_completed(self, xid: int) -> None:
        """Waits until `xid` is no longer in progress for new snapshots (its commit durable, or
        its abort); no deadlock check: the caller holds nothing the transaction could wait for."""
        if xid not in self.active:
            return
        fut = self._xid_done.get(xid)
        if fut is None:
            fut = self._xid_done[xid] = asyncio.get_running_loop().create_future()
        await asyncio.shield(fut)

    async def lock_row(
        self, txn: Transaction, key: tuple[int, int, int], mode: int = UPDATE, wait: str = "block"
    ) -> bool:
        """Takes a row lock on (relation, page, slot) until the end of `txn`.

        `mode` is txn.locks.KEY_SHARE, SHARE, NO_KEY_UPDATE or UPDATE (PostgreSQL's conflict table).
        """
        already = self.row_locks.holds(key, txn.owner)
        got = await self.row_locks.acquire(
            key, txn.owner, txn.owner, mode, wait=wait, timeout_ms=txn.lock_timeout, what="lock on row"
        )
        if got and not already:
            txn._row_locks.append(key)
        self._note_committing(txn)
        return got

    def unlock_row(self, txn: Transaction, key: tuple[int, int, int], mode: int = UPDATE) -> None:
        """Releases one hold of a row lock taken with lock_row (a writer's place in the queue)."""
        if self.row_locks.release(key, txn.owner, mode) and not self.row_locks.holds(key, txn.owner):
            try:
                txn._row_locks.remove(key)
            except ValueError:
                pass

    def row_unlocked(self, txn: Transaction, key: tuple[int, int, int], mode: int = UPDATE) -> bool:
        """wait_row_unlocked's first look, without waiting: True when no other transaction holds a
        conflicting row lock on `key` now (then wait_row_unlocked would return at once)."""
        txn.last_row_key = key
        lock = self.row_locks.locks.get(key)
        return lock is None or not lock.conflicts(txn.owner, mode)

    async def wait_row_unlocked(self, txn: Transaction, key: tuple[int, int, int], mode: int = UPDATE) -> None:
        """Waits until no other transaction holds a row lock on `key` that conflicts with `mode`
        (the strength of the UPDATE or DELETE about to change the row)."""
        txn.last_row_key = key
        table = self.row_locks
        for _ in range(1_000_000):
            lock = table.locks.get(key)
            if lock is None:
                return
            blockers = lock.conflicts(txn.owner, mode)
            if not blockers:
                return
            await self.graph.wait(txn.owner, blockers, lock.waiter_future(), txn.lock_timeout, "lock on row")
            self._note_committing(txn)

    def carry_row_locks(self, txn: Transaction, new_key: tuple[int, int, int]) -> None:
        """`txn` just wrote the version `new_key` of the row it last waited on (an UPDATE that
        leaves the key alone): the FOR KEY SHARE locks on the old version hold the new one too, as
        PostgreSQL keeps them in the new version's MultiXact xmax, so a later key change or delete
        of the row still waits for those lockers (foreign key checks)."""
        old_key = txn.last_row_key
        lock = self.row_locks.locks.get(old_key) if old_key is not None else None
        if lock is None:
            return
        holders = [holder for holder, counts in lock.holds.items() if counts[KEY_SHARE]]
        if not holders:
            return
        by_owner = {t.owner: t for t in self.live}
        for holder in holders:
            holding = by_owner.get(holder)
            if holding is not None and not self.row_locks.try_acquire(new_key, holder, KEY_SHARE) \
                    and new_key not in holding._row_locks:
                holding._row_locks.append(new_key)

    def _note_committing(self, txn: Transaction) -> None:
        """After a row-lock wait, READ COMMITTED must see what the lock holders committed (their
        locks go at the commit record, before VDL covers it): depend on every committing xid."""
        if self.committing and txn.isolation == "read committed":
            txn.depends_on.update(self.committing)

    # -- advisory locks ----------------------------------------------------------------------------

    async def advisory_lock(
        self,
        owner: Hashable,
        key: Hashable,
        *,
        shared: bool = False,
        txn: Transaction | None = None,
        wait: str = "block",
        timeout_ms: int = 0,
    ) -> bool:
        """pg_advisory_lock & co: session-level when `txn` is None, else until `txn` ends.

        wait='block' waits (deadlock-checked), 'skip' returns False when taken (pg_try_*).
        """
        if txn is not None:
            timeout_ms = timeout_ms or txn.lock_timeout
        mode = SHARE if shared else EXCLUSIVE
        self.advisory_requests[owner] = (key, shared, time.time())
        try:
            got = await self.advisory.acquire(
                ("advisory", key), owner, owner, mode, wait=wait, timeout_ms=timeout_ms, what="advisory lock"
            )
        finally:
            del self.advisory_requests[owner]
        if got:
            if txn is not None:
                txn._advisory.append((("advisory", key), shared))
            else:
                self._session_advisory.setdefault(owner, []).append((key, shared))
        return got

    def try_advisory_lock(
        self, owner: Hashable, key: Hashable, *, shared: bool = False, txn: Transaction | None = None
    ) -> bool:
        """advisory_lock(wait='skip') for callers that cannot await (SQL functions): True if taken."""
        table = self.advisory
        lock_key = ("advisory", key)
        mode = SHARE if shared else EXCLUSIVE
        if table.try_acquire(lock_key, owner, mode):
            lock = table.locks.get(lock_key)
            if lock is not None and not lock.holds:
                del table.locks[lock_key]
            return False
        if txn is not None:
            txn._advisory.append((lock_key, shared))
        else:
            self._session_advisory.setdefault(owner, []).append((key, shared))
        return True

    def advisory_unlock(self, owner: Hashable, key: Hashable, *, shared: bool = False) -> bool:
        """pg_advisory_unlock: releases one session-level hold; False if none was held."""
        holds = self._session_advisory.get(owner, [])
        try:
            holds.remove((key, shared))
        except ValueError:
            return False
        return self.advisory.release(("advisory", key), owner, SHARE if shared else EXCLUSIVE)

    def advisory_unlock_all(self, owner: Hashable) -> None:
        """pg_advisory_unlock_all (and session end)."""
        for key, shared in self._session_advisory.pop(owner, []):
            self.advisory.release(("advisory", key), owner, SHARE if shared else EXCLUSIVE)

    def advisory_held(self, owner: Hashable) -> list[tuple[Hashable, bool]]:
        return list(self._session_advisory.get(owner, []))
