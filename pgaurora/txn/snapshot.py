"""MVCC snapshots and tuple visibility: may this snapshot see this tuple version?

Owns the Snapshot value and PostgreSQL's HeapTupleSatisfiesMVCC rules, including command ids.
Not xid allocation or the active-transaction table (txn.manager), not tuple layout (access.heap).

A snapshot is taken from the in-memory table of running transactions:

    xmin ── every xid below it had finished when the snapshot was taken
    xmax ── the first xid not yet assigned then (every xid >= xmax is invisible)
    xip  ── xids in [xmin, xmax) that were running then (invisible)

    visible  <=>  xmin committed before the snapshot (or is ours, from an earlier command)
             AND  xmax absent, aborted, not yet visible, or ours from a later command

`own` is the live set of the snapshot's own transaction ids (top-level xid and its subxids that
were not rolled back): it is shared with the Transaction, so an xid assigned after the snapshot
was taken still counts as ours. `curcid` is the command id of the statement: its own changes
(cmin >= curcid) are not seen, and rows it deleted (cmax >= curcid) still are (Halloween safety).
"""

from __future__ import annotations

from collections.abc import Callable

from pgaurora.access.txnview import COMMITTED, XidStatus


class Snapshot:
    """(xmin, xmax, xip) plus the owner's live xids and the statement's command id."""

    __slots__ = ("xmin", "xmax", "xip", "own", "curcid", "status")

    def __init__(
        self,
        xmin: int,
        xmax: int,
        xip: frozenset[int],
        own: set[int] | frozenset[int],
        curcid: int,
        status: Callable[[int], XidStatus],
    ) -> None:
        self.xmin = xmin
        self.xmax = xmax
        self.xip = xip
        self.own = own
        self.curcid = curcid
        self.status = status

    def with_command(self, curcid: int) -> Snapshot:
        """The same snapshot for a later command of the same transaction."""
        return Snapshot(self.xmin, self.xmax, self.xip, self.own, curcid, self.status)

    def xid_visible(self, xid: int) -> bool:
        """Did `xid` commit before this snapshot was taken (or is it ours)?"""
        if xid in self.own:
            return True
        if xid >= self.xmax or xid in self.xip:
            return False
        return self.status(xid) == COMMITTED

    def visible(self, xmin: int, cmin: int, xmax: int, cmax: int) -> bool:
        """HeapTupleSatisfiesMVCC for a tuple header (xmax 0 = never deleted)."""
        own = self.own
        if xmin in own:
            if cmin >= self.curcid:
                return False  # inserted by this or a later command
            if xmax == 0:
                return True
            if xmax in own:
                return cmax >= self.curcid  # deleted by a later command: still visible
            return self.status(xmax) != COMMITTED
        if xmin >= self.xmax or xmin in self.xip:
            return False
        status = self.status
        if status(xmin) != COMMITTED:
            return False
        if xmax == 0:
            return True
        if xmax in own:
            return cmax >= self.curcid
        if xmax >= self.xmax or xmax in self.xip:
            return True
        return status(xmax) != COMMITTED

    def __repr__(self) -> str:
        return f"Snapshot(xmin={self.xmin}, xmax={self.xmax}, xip={sorted(self.xip)}, curcid={self.curcid})"


def visible(snapshot: Snapshot, xmin: int, cmin: int, xmax: int, cmax: int) -> bool:
    """Module-level spelling of Snapshot.visible (contracts.md: txn.visibility.visible)."""
    return snapshot.visible(xmin, cmin, xmax, cmax)
