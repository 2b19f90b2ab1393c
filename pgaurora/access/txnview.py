"""What the access methods need from the transaction layer, which sits above them.

Owns the XidStatus values (also the clog's 2-bit codes) and the Protocols that txn's classes
implement: access may not import txn (imports flow downward), so heap and B-tree code call
these methods on whatever objects the caller hands them. Not the MVCC rules themselves
(txn.visibility) and not the lock manager (txn.locks).
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import IntEnum
from typing import Protocol


class XidStatus(IntEnum):
    """A transaction id's fate; the numbers are its 2-bit code in clog."""

    IN_PROGRESS = 0
    COMMITTED = 1
    ABORTED = 2
    SUB_COMMITTED = 3  # reserved: a commit's MTR sets all subxids at once, so never written


# Row lock strengths (PostgreSQL's FOR KEY SHARE / FOR SHARE / FOR NO KEY UPDATE / FOR UPDATE);
# an UPDATE that changes no key column locks NO_KEY_UPDATE, other UPDATEs and DELETE lock UPDATE.
ROW_KEY_SHARE, ROW_SHARE, ROW_NO_KEY_UPDATE, ROW_UPDATE = 0, 1, 2, 3
ROW_LOCK_MODES = {"key share": 0, "share": 1, "no key update": 2, "update": 3}

IN_PROGRESS = XidStatus.IN_PROGRESS
COMMITTED = XidStatus.COMMITTED
ABORTED = XidStatus.ABORTED


class SnapshotLike(Protocol):
    """An MVCC snapshot (txn.snapshot.Snapshot)."""

    xmin: int
    xmax: int
    curcid: int

    def visible(self, xmin: int, cmin: int, xmax: int, cmax: int) -> bool: ...


class TransactionLike(Protocol):
    """A transaction as access sees it (txn.transaction.Transaction)."""

    command_id: int
    owner: Hashable

    @property
    def isolation(self) -> str: ...

    def assign_xid(self) -> int: ...

    def is_own(self, xid: int) -> bool: ...

    def note_read(self, rel_id: int) -> None: ...

    def note_write(self, rel_id: int) -> None: ...


class TransactionManagerLike(Protocol):
    """The writer's transaction table (txn.manager.TransactionManager)."""

    completions: int  # bumped whenever an xid leaves the in-progress state

    def status(self, xid: int) -> XidStatus: ...

    def oldest_xmin(self) -> int: ...

    async def wait_for_xid(self, txn: TransactionLike, xid: int) -> None: ...

    async def lock_row(
        self, txn: TransactionLike, key: tuple[int, int, int], mode: int = 3, wait: str = "block"
    ) -> bool: ...

    def row_unlocked(self, txn: TransactionLike, key: tuple[int, int, int], mode: int = 3) -> bool: ...

    async def wait_row_unlocked(self, txn: TransactionLike, key: tuple[int, int, int], mode: int = 3) -> None: ...

    def unlock_row(self, txn: TransactionLike, key: tuple[int, int, int], mode: int = 3) -> None: ...
