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

from typing import TYPE_CHECKING

from pgaurora.errors import SerializationFailure

if TYPE_CHECKING:
    from pgaurora.txn.transaction import Transaction


class SerializableTracker:
    """Read and write sets of SERIALIZABLE transactions that may still conflict."""

    def __init__(self) -> None:
        self.clock = 0  # bumped at every serializable snapshot and commit
        self.members: set[Transaction] = set()

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def join(self, txn: Transaction) -> None:
        txn.ssi_snapshot_seq = self.tick()
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
        active = [x.ssi_snapshot_seq for x in self.members if x.ssi_commit_seq is None]
        if not active:
            self.members.clear()
            return
        oldest = min(active)
        self.members = {x for x in self.members if x.ssi_commit_seq is None or x.ssi_commit_seq > oldest}


def _failure() -> SerializationFailure:
    return SerializationFailure(
        "could not serialize access due to read/write dependencies among transactions",
        detail="Reason code: Canceled on identification as a pivot, during commit attempt.",
        hint="The transaction might succeed if retried.",
    )
