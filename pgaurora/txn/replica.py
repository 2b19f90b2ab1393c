"""A read replica's transactions: snapshots from the writer's streamed state, no xids, no writes.

Owns what MVCC means on a reader instance. The writer sends, with each VDL it announces, the
transactions running at that point (xmin, xmax, xip); the reader adopts that state only after
applying every record up to that VDL, so its snapshots and its pages agree:

    Advance(vdl, xmin, xmax, xip) ──► pages applied up to vdl ──► adopt(xmin, xmax, xip)
    snapshot = (xmin, xmax, xip) as adopted; status(xid) = the clog as the reader has it

An xid below xmax and not in xip had finished by that VDL: its commit record, if any, is at or
below it and so in the reader's clog pages; no clog outcome means it aborted. The adopted state
only moves forward, so a session never sees time go backwards. The oldest xmin any reader
snapshot still uses goes back to the writer (Feedback) and holds its vacuum horizon there.
Not the stream (server.replication_follower), not the pages (pagecache.replica).
"""

from __future__ import annotations

from collections.abc import Hashable

from pgaurora.access.txnview import XidStatus
from pgaurora.errors import DataCorrupted, FeatureNotSupported, ReadOnlySqlTransaction
from pgaurora.pagecache import CLOG_DIRECTORY_PAGE, FIRST_NORMAL_XID, PageCache
from pgaurora.txn.clog import _NEXT, _U32, XIDS_PER_PAGE, Clog
from pgaurora.txn.manager import TransactionManager
from pgaurora.txn.transaction import Transaction, isolation_level


class ReplicaClog(Clog):
    """The clog as of the read point: its directory is re-read when the writer grows it."""

    def get(self, xid: int) -> XidStatus:
        if xid // XIDS_PER_PAGE >= len(self.pages):
            self.refresh()
        return super().get(xid)

    def refresh(self) -> None:
        """Re-reads the directory chain from the (pinned, stream-maintained) cached pages."""
        cache = self.cache
        pages: list[int] = []
        directories: list[int] = []
        page_no = CLOG_DIRECTORY_PAGE
        tail_count = 0
        for _ in range(1_000_000):
            directory = cache.get(page_no)
            if directory is None:
                raise DataCorrupted(f"clog directory page {page_no} is not cached")
            directories.append(page_no)
            pages.extend(_U32.unpack(item)[0] for item in directory.items)
            tail_count = len(directory.items)
            page_no = _NEXT.unpack(directory.special)[0] if directory.special else 0
            if not page_no:
                break
        for page_no in directories + pages:
            cache.pin(page_no)
        self.pages, self.directories, self.tail_count = pages, directories, tail_count


class ReplicaTransactionManager(TransactionManager):
    """Read-only transactions whose snapshots come from the writer's stream."""

    read_only = True

    def __init__(self, pagecache: PageCache) -> None:
        super().__init__(pagecache)
        self.clog: ReplicaClog = ReplicaClog(pagecache)
        self._state: tuple[int, int, frozenset[int]] = (FIRST_NORMAL_XID, FIRST_NORMAL_XID, frozenset())
        self.adopted_lsn = 0

    def adopt(self, xmin: int, xmax: int, xip: frozenset[int] | list[int], lsn: int = 0) -> None:
        """The writer's running transactions at the reader's new read point."""
        self._state = (xmin, xmax, frozenset(xip))
        self.adopted_lsn = lsn
        self.completions += 1
        if len(self._status_cache) > 1 << 20:
            self._status_cache.clear()

    def snapshot_data(self) -> tuple[int, int, frozenset[int]]:
        return self._state

    def status(self, xid: int) -> XidStatus:
        """The clog's outcome; with none, running if the writer said so at the read point, else
        aborted (it ended without a commit record). Never ABORTED for a running xid: access
        keeps a tuple it once judged dead or alive decided for good."""
        status = self._status_cache.get(xid)
        if status is not None:
            return status
        if xid < FIRST_NORMAL_XID:
            return XidStatus.COMMITTED
        bits = self.clog.get(xid)
        if bits == XidStatus.COMMITTED or bits == XidStatus.ABORTED:
            self._status_cache[xid] = bits
            return bits
        _, xmax, xip = self._state
        if xid >= xmax or xid in xip:
            return XidStatus.IN_PROGRESS
        return XidStatus.ABORTED

    def begin(
        self,
        isolation: str = "read committed",
        read_only: bool = True,
        *,
        owner: Hashable | None = None,
        pid: int = 0,
        deferrable: bool = False,
    ) -> Transaction:
        level = isolation_level(isolation)
        if level == "serializable":
            # An explicit BEGIN ISOLATION LEVEL SERIALIZABLE fails in the session already; this
            # is a serializable default (PostgreSQL's GetSerializableTransactionSnapshot).
            raise FeatureNotSupported(
                "cannot use serializable mode in a hot standby",
                detail='"default_transaction_isolation" is set to "serializable".',
                hint="You can use \"SET default_transaction_isolation = 'repeatable read'\" to change the default.")
        txn = Transaction(self, level, True, owner, pid)
        self.live.add(txn)
        return txn

    def _new_xid(self, txn: Transaction) -> int:
        raise ReadOnlySqlTransaction("cannot assign TransactionIds during recovery")

    def oldest_xmin(self) -> int:
        """The oldest xmin a snapshot of this reader uses (or may take next): its Feedback."""
        horizon = self._state[0]
        for txn in self.live:
            snapshot_xmin = txn.snapshot_xmin
            if snapshot_xmin is not None and snapshot_xmin < horizon:
                horizon = snapshot_xmin
        return horizon

    def active_transactions(self) -> int:
        return len(self.live)
