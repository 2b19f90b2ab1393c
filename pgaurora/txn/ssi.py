"""SERIALIZABLE on top of snapshot isolation: rw-antidependency tracking (SSI, coarse-grained).

Owns detecting, at commit, the "dangerous structure" of Serializable Snapshot Isolation (Cahill;
PostgreSQL's predicate.c): Tin -rw-> Tpivot -rw-> Tout among concurrent SERIALIZABLE
transactions. Every cycle of a non-serializable SI history contains one, and all of its edges
are known when its last member commits, so checking at each commit is enough:

    T commits ──► T is the pivot: Tin -rw-> T -rw-> Tout, Tout committed, Tin not before it -> 40001
             └──► T is Tin:      T -rw-> P -rw-> Tout, P and Tout committed, Tout first   -> 40001

As in PostgreSQL, only structures whose Tout commits first can close a cycle (Ports & Grittner),
so the first of two write-skewed transactions commits and the second fails.

    R -rw-> W  <=>  R read a relation that W wrote, and their lifetimes overlap
                    (so W's write is invisible to R's snapshot)

Reads and writes are tracked per relation (a scan or a fetch reads the whole relation as far as
this module knows), which is safe against phantoms and write skew but aborts more often than
PostgreSQL's tuple- and page-level predicate locks. Only SERIALIZABLE transactions take part.
Not snapshots or visibility (txn.snapshot).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pgaurora.errors import SerializationFailure

if TYPE_CHECKING:
    from pgaurora.txn.snapshot import Snapshot
    from pgaurora.txn.transaction import Transaction


class SerializableTracker:
    """Read and write sets of SERIALIZABLE transactions that may still conflict."""

    def __init__(self) -> None:
        self.clock = 0  # bumped at every serializable snapshot and commit
        self.members: set[Transaction] = set()

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def join(self, txn: Transaction, snapshot: Snapshot) -> None:
        """`txn` took its snapshot. Its lifetime starts before the commit of every member that
        the snapshot does not see: a commit counts here once its record is appended, but its
        rows become visible only once the record is durable (early lock release), and a
        snapshot taken in between runs concurrently with it (missed, that window let write skew
        through: found by make test-long's SERIALIZABLE histories)."""
        seq = self.tick()
        for member in self.members:
            end = member.ssi_commit_seq
            if end is not None and member.xid is not None and not snapshot.xid_visible(member.xid):
                seq = min(seq, end - 1)
        txn.ssi_snapshot_seq = seq
        self.members.add(txn)

    def leave(self, txn: Transaction) -> None:
        self.members.discard(txn)
        self._prune()

    @staticmethod
    def _overlap(a: Transaction, b: Transaction) -> bool:
        a_end, b_end = a.ssi_commit_seq, b.ssi_commit_seq
        return (a_end is None or a_end > b.ssi_snapshot_seq) and (b_end is None or b_end > a.ssi_snapshot_seq)

    def _edge(self, reader: Transaction, writer: Transaction) -> bool:
        return (
            reader is not writer
            and bool(reader.reads)
            and not reader.reads.isdisjoint(writer.writes)
            and self._overlap(reader, writer)
        )

    async def settle(self, timeout: float = 1.0) -> None:
        """Waits (at most `timeout`) until every commit already decided here is visible: a
        SERIALIZABLE transaction calls it before its first snapshot, which then sees them rather
        than running concurrently with them (join would count it so, and under this module's
        relation-wide reads and writes it would fail with 40001, again and again on retry)."""
        pending = [x for x in self.members if x.ssi_commit_seq is not None and _not_visible_yet(x)]
        if pending:
            waits = [asyncio.ensure_future(x.manager.wait_completed(x.xid)) for x in pending if x.xid is not None]
            _, late = await asyncio.wait(waits, timeout=timeout)
            for wait in late:
                wait.cancel()

    def check_commit(self, txn: Transaction) -> None:
        """Raises 40001 if committing `txn` completes a dangerous structure whose Tout committed first."""
        if txn not in self.members:
            return
        members = self.members
        committed = [x for x in members if x is not txn and x.ssi_commit_seq is not None]
        # txn as the pivot: Tin -rw-> txn -rw-> Tout, Tout committed before Tin did (or Tin runs)
        outs = [y for y in committed if self._edge(txn, y)]
        if outs:
            first_out = min(y.ssi_commit_seq or 0 for y in outs)
            for x in members:
                if x is not txn and self._edge(x, txn):
                    if x.ssi_commit_seq is None or x.ssi_commit_seq >= first_out:
                        raise _failure()
        # txn as Tin: txn -rw-> pivot -rw-> Tout, both committed, Tout first
        for pivot in outs:
            pivot_seq = pivot.ssi_commit_seq or 0
            for y in committed:
                if y is not pivot and (y.ssi_commit_seq or 0) < pivot_seq and self._edge(pivot, y):
                    raise _failure()

    def check_write(self, txn: Transaction) -> None:
        """A new write of `txn` made it a pivot between two committed transactions, Tout first:
        its commit would fail anyway, so fail now (PostgreSQL fails the writer at the write)."""
        if txn not in self.members:
            return
        members = self.members
        outs = [y for y in members if y is not txn and y.ssi_commit_seq is not None and self._edge(txn, y)]
        if not outs:
            return
        first_out = min(y.ssi_commit_seq or 0 for y in outs)
        for x in members:
            if x is not txn and x.ssi_commit_seq is not None and x.ssi_commit_seq >= first_out and self._edge(x, txn):
                raise SerializationFailure(
                    "could not serialize access due to read/write dependencies among transactions",
                    detail="Reason code: Canceled on identification as a pivot, during write.",
                    hint="The transaction might succeed if retried.",
                )

    def committed(self, txn: Transaction) -> None:
        txn.ssi_commit_seq = self.tick()
        self._prune()

    def _prune(self) -> None:
        """Forgets committed members no running member overlaps, unless their commit is not yet
        durable: a snapshot taken before then does not see it, so a member that joins later may
        still run concurrently with it (see join)."""
        active = [x.ssi_snapshot_seq for x in self.members if x.ssi_commit_seq is None]
        oldest = min(active) if active else None
        self.members = {
            x for x in self.members
            if x.ssi_commit_seq is None or (oldest is not None and x.ssi_commit_seq > oldest) or _not_visible_yet(x)
        }


def _not_visible_yet(txn: Transaction) -> bool:
    """Is `txn`'s commit record appended but not yet durable (new snapshots see it running)?"""
    return txn.xid is not None and txn.xid in txn.manager.active


def _failure() -> SerializationFailure:
    return SerializationFailure(
        "could not serialize access due to read/write dependencies among transactions",
        detail="Reason code: Canceled on identification as a pivot, during commit attempt.",
        hint="The transaction might succeed if retried.",
    )
