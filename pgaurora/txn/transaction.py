"""One transaction: its xids, command ids, snapshots, savepoints, commit and abort.

Owns the transaction state machine and the savepoint stack. Not the table of all transactions or
the waits (txn.manager) and not visibility (txn.snapshot).

    ACTIVE ── commit() ──► COMMITTED        (clog COMMITTED for the xid and live subxids,
       │                                     durable before commit() returns)
       └───── abort() ───► ABORTED          (clog ABORTED, not waited for)

An xid is assigned on the first write (`assign_xid`). Inside a savepoint, writes get a subxid of
their own, so ROLLBACK TO marks just those xids aborted: their tuples vanish by the ordinary
visibility rules. RELEASE keeps the subxids; they commit together with the top-level xid, in the
same MTR, so no reader sees half a commit.

READ COMMITTED takes a new snapshot for each statement; REPEATABLE READ and SERIALIZABLE take
one at the first statement; SERIALIZABLE adds rw-conflict tracking at relation granularity
(txn.ssi) and may fail at commit with 40001.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from pgaurora.access.txnview import XidStatus
from pgaurora.errors import (
    CommitOutcomeUnknown,
    FeatureNotSupported,
    InvalidSavepointSpecification,
    InvalidTransactionState,
    ReadOnlySqlTransaction,
    StorageUnavailable,
)
from pgaurora.txn.snapshot import Snapshot

if TYPE_CHECKING:
    from pgaurora.txn.manager import TransactionManager

COMMIT_RETRIES = 360  # tries to see an unacknowledged commit record become durable before giving up
ISOLATION_LEVELS = ("read committed", "repeatable read", "serializable")


def isolation_level(isolation: str) -> str:
    """The level a BEGIN names, as run: read uncommitted is read committed, as in PostgreSQL."""
    level = isolation.lower()
    if level == "read uncommitted":
        level = "read committed"
    if level not in ISOLATION_LEVELS:
        raise FeatureNotSupported(f'unrecognized isolation level "{isolation}"')
    return level


class TransactionState(Enum):
    ACTIVE = "active"
    COMMITTED = "committed"
    ABORTED = "aborted"


@dataclass(slots=True)
class Savepoint:
    name: str
    xid: int | None = None  # subxid, assigned on the first write inside the savepoint
    xids: list[int] | None = None  # subxids of savepoints released into this one


class Transaction:
    """A transaction of the writer; created by TransactionManager.begin()."""

    def __init__(
        self,
        manager: TransactionManager,
        isolation: str,
        read_only: bool,
        owner: Hashable | None,
        pid: int,
    ) -> None:
        self.manager = manager
        self.isolation = isolation
        self.read_only = read_only
        self.owner: Hashable = self if owner is None else owner
        self.pid = pid
        self.lock_timeout = 0  # milliseconds; the session sets it from lock_timeout
        self.xid: int | None = None
        self.command_id = 0
        self.own: set[int] = set()  # live xids: top-level and not rolled-back subxids
        self.state = TransactionState.ACTIVE
        self.savepoints: list[Savepoint] = []
        self.snapshot_xmin: int | None = None
        self.commit_lsn = 0
        self._snapshot: Snapshot | None = None
        self.reads: set[int] = set()  # relations read / written (tracked when SERIALIZABLE)
        self.writes: set[int] = set()
        self.ssi_snapshot_seq = 0
        self.ssi_commit_seq: int | None = None
        self._serializable = isolation == "serializable"
        self._row_locks: list[tuple[int, int, int]] = []
        self.last_row_key: tuple[int, int, int] | None = None  # the row version it last waited on to change
        self._advisory: list[tuple[Hashable, bool]] = []
        # Committing (not yet durable) transactions this one waited for and built on: its own
        # snapshots count them as committed, and it does not finish before they are durable.
        self.depends_on: dict[int, int] = {}  # xid -> commit lsn
        # executor.deferred.DeferredChecks: deferrable foreign keys' modes and put-off checks
        self.deferred: Any = None

    def __repr__(self) -> str:
        return f"Transaction(xid={self.xid}, {self.isolation}, {self.state.value})"

    # -- ids ---------------------------------------------------------------------------------------

    @property
    def current_xid(self) -> int | None:
        """The xid stamped on rows written now (a subxid inside a savepoint), if assigned."""
        if self.savepoints:
            return self.savepoints[-1].xid
        return self.xid

    def assign_xid(self) -> int:
        """The xid for a write now, assigning the top-level xid and the savepoint's subxid if needed."""
        sp = self.savepoints[-1] if self.savepoints else None
        if sp is not None and sp.xid is not None:
            return sp.xid
        if sp is None and self.xid is not None:
            return self.xid
        self._check_active()
        if self.read_only:
            raise ReadOnlySqlTransaction("cannot execute a write in a read-only transaction")
        manager = self.manager
        if self.xid is None:
            self.xid = manager._new_xid(self)
            self.own.add(self.xid)
        if sp is None:
            return self.xid
        sp.xid = manager._new_xid(self)
        self.own.add(sp.xid)
        return sp.xid

    def is_own(self, xid: int) -> bool:
        return xid in self.own

    def note_read(self, rel_id: int) -> None:
        """A scan or fetch of a relation (predicate read for SERIALIZABLE)."""
        if self._serializable:
            self.reads.add(rel_id)

    def note_write(self, rel_id: int) -> None:
        if self._serializable and rel_id not in self.writes:
            self.writes.add(rel_id)
            self.manager.ssi.check_write(self)

    def next_command(self) -> int:
        """Starts the next command: later snapshots see what earlier commands wrote."""
        self.command_id += 1
        return self.command_id

    # -- snapshots ---------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The statement's snapshot: new in READ COMMITTED, the first one again otherwise."""
        self._check_active()
        if self.isolation == "read committed":
            snap = self.manager.take_snapshot(self)
            # Never moves forward within the transaction: an open cursor may still use an older
            # snapshot, and the vacuum horizon must keep what it sees.
            if self.snapshot_xmin is None:
                self.snapshot_xmin = snap.xmin
            return snap
        kept = self._snapshot
        if kept is None:
            kept = self.manager.take_snapshot(self)
            self.snapshot_xmin = kept.xmin
            if self._serializable:
                self.manager.ssi.join(self, kept)
        elif kept.curcid != self.command_id:
            kept = kept.with_command(self.command_id)
        self._snapshot = kept
        return kept

    @property
    def has_snapshot(self) -> bool:
        return self._snapshot is not None

    # -- savepoints --------------------------------------------------------------------------------

    def savepoint(self, name: str) -> None:
        self._check_active()
        self.savepoints.append(Savepoint(name))

    def _find(self, name: str) -> int:
        for i in range(len(self.savepoints) - 1, -1, -1):
            if self.savepoints[i].name == name:
                return i
        raise InvalidSavepointSpecification(f'savepoint "{name}" does not exist')

    def release(self, name: str) -> None:
        """RELEASE SAVEPOINT: the savepoint and those after it go; their writes stay."""
        i = self._find(name)
        kept: list[int] = []
        for sp in self.savepoints[i:]:
            kept.extend(_xids_of(sp))
        del self.savepoints[i:]
        if kept and self.savepoints:
            parent = self.savepoints[-1]
            parent.xids = (parent.xids or []) + kept

    def rollback_to(self, name: str) -> None:
        """ROLLBACK TO SAVEPOINT: undoes the writes since; the savepoint itself stays."""
        i = self._find(name)
        aborted: list[int] = []
        for sp in self.savepoints[i:]:
            aborted.extend(_xids_of(sp))
        del self.savepoints[i + 1 :]
        self.savepoints[i] = Savepoint(name)
        if aborted:
            self._log_status(aborted, XidStatus.ABORTED)
            self.own.difference_update(aborted)
            self.manager._complete(aborted, XidStatus.ABORTED)

    # -- end ---------------------------------------------------------------------------------------

    async def commit(self) -> None:
        """Commits: the clog record is durable (VDL >= its LSN) before this returns."""
        self._check_active()
        manager = self.manager
        if self._serializable:
            try:
                manager.ssi.check_commit(self)
            except BaseException:
                self.abort_now()
                raise
            manager.ssi.committed(self)
        if self.xid is None:
            self.state = TransactionState.COMMITTED
            manager._end(self)
            if self.depends_on:  # it saw a commit the client must not see before it is durable
                await manager.cache.wait_durable(max(self.depends_on.values()))
            return
        own = self.own
        xids = [self.xid] if len(own) == 1 else sorted(own)
        lsn = self._log_status(xids, XidStatus.COMMITTED)
        self.commit_lsn = lsn
        self.state = TransactionState.COMMITTED
        # Early lock release: the outcome is fixed once the record is appended (a crash before it
        # is durable loses it, and every later commit record with it), so row-lock waiters go on
        # now; snapshots still see this transaction as running until its record is durable.
        if not self._serializable:
            manager._committing(self, xids, lsn)
        # Awaited here, not in a task of its own (a task and a shield per commit cost three more
        # loop turns between VDL and the client): once the record is appended the outcome no
        # longer depends on this coroutine, so a cancelled wait hands the rest to a task then.
        try:
            await manager.cache.wait_durable(lsn)
        except asyncio.CancelledError:
            asyncio.ensure_future(self._finish_commit(lsn, xids)).add_done_callback(_retrieved)
            raise
        except StorageUnavailable as exc:
            self._durability_unknown(lsn, xids)
            raise CommitOutcomeUnknown.after(exc) from exc
        except BaseException:
            self._durability_unknown(lsn, xids)
            raise
        manager._complete(xids, XidStatus.COMMITTED)
        manager._end(self)

    async def _finish_commit(self, lsn: int, xids: list[int]) -> None:
        """The rest of a commit whose caller was cancelled while it waited for VDL."""
        try:
            await self.manager.cache.wait_durable(lsn)
        except BaseException:
            self._durability_unknown(lsn, xids)
            raise
        self.manager._complete(xids, XidStatus.COMMITTED)
        self.manager._end(self)

    def _durability_unknown(self, lsn: int, xids: list[int]) -> None:
        # No write quorum (58000): the record is appended, so it becomes durable when storage
        # answers again, or the next recovery decides. Its locks go now (early release, as for
        # row locks: every later commit record follows this one in the log); snapshots keep
        # seeing the transaction as running until it is durable.
        self.manager._end(self)
        asyncio.ensure_future(self._complete_when_durable(lsn, xids))

    async def _complete_when_durable(self, lsn: int, xids: list[int]) -> None:
        for _ in range(COMMIT_RETRIES):
            try:
                await self.manager.cache.wait_durable(lsn)
            except StorageUnavailable:
                await asyncio.sleep(1.0)  # a try waits out a write timeout, or fails at once when fenced
                continue
            except BaseException:
                return
            self.manager._complete(xids, XidStatus.COMMITTED)
            return

    async def abort(self) -> None:
        """Rolls back (a no-op once ended); the abort record is not waited for."""
        self.abort_now()

    def abort_now(self) -> None:
        """abort() for callers that cannot await (session teardown)."""
        if self.state is not TransactionState.ACTIVE:
            return
        self.state = TransactionState.ABORTED
        manager = self.manager
        xids = sorted(self.own)
        if xids:
            self._log_status(xids, XidStatus.ABORTED)
            manager._complete(xids, XidStatus.ABORTED)
        self.own.clear()
        manager._end(self)

    def _log_status(self, xids: list[int], status: XidStatus) -> int:
        manager = self.manager
        with manager.cache.mtr(self.xid or 0) as mtr:
            manager.clog.log_status(mtr, xids, status)
        return mtr.lsn

    def _check_active(self) -> None:
        if self.state is not TransactionState.ACTIVE:
            raise InvalidTransactionState(f"transaction is already {self.state.value}")




def _retrieved(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()  # raised to nobody: the cancelled commit's client is gone


def _xids_of(sp: Savepoint) -> list[int]:
    result = list(sp.xids or ())
    if sp.xid is not None:
        result.append(sp.xid)
    return result
