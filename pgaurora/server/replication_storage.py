"""Heaps and B-trees on a read replica: the writer's access methods minus their opportunistic writes.

Owns the two places where reading a relation may change it on the writer: a B-tree lookup that
meets many versions of one key cleans the dead entries out (kill_prior_tuple), and VACUUM. A
reader never writes, so its B-trees skip the cleanup (the writer's lookups do it, and the
stream brings the result) and VACUUM fails as on a PostgreSQL hot standby.
Also owns keeping the decoded B-tree nodes of a reader's cache current while the redo stream
changes their pages (`patch_derived`, the applier's hook): the writer updates its nodes in place
as it inserts and deletes; the reader does the same from the INSERT / DELETE records.
Not the access methods themselves (access), not who may write (session, txn.replica).
"""

from __future__ import annotations

import struct
from typing import Any

from pgaurora.access.btree import BTree
from pgaurora.access.btreekey import Node, normalize
from pgaurora.access.heap import DecodedPage
from pgaurora.access.rowcodec import decode_row
from pgaurora.access.storage import Storage
from pgaurora.access.vacuum import VacuumResult
from pgaurora.errors import ReadOnlySqlTransaction
from pgaurora.logstore.page import Page, RedoOp, split_multi

_U16 = struct.Struct("<H")
_INSERT = RedoOp.INSERT
_DELETE = RedoOp.DELETE
_MULTI = RedoOp.MULTI


def carry_derived(forms: dict[int, Any]) -> dict[int, Any]:
    """Promotion: the decoded forms a new writer may keep. A B-tree node and a heap page's
    decoded tuples depend on the page alone; the heap's sorting of them into live and pending
    was made with the reader's snapshots, so it is done again (`completions = -1`)."""
    kept: dict[int, Any] = {}
    for page_no, form in forms.items():
        kind = type(form)
        if kind is Node:
            kept[page_no] = form
        elif kind is DecodedPage:
            kept[page_no] = DecodedPage(form.entries)
    return kept


def patch_derived(form: Any, page: Page, op: int, payload: bytes) -> bool:
    """Applies one INSERT or DELETE record (already applied to `page`) to its decoded B-tree node,
    or a MULTI record made only of them, in order.

    Anything else (a split's SPECIAL or IMAGE, a heap page's decoded form) is not patched: the
    form is dropped and decoded again on the next use.
    """
    if type(form) is not Node:
        return False
    if op == _MULTI:
        parts = split_multi(payload)
        if any(part_op != _INSERT and part_op != _DELETE for part_op, _ in parts):
            return False
        return all(patch_derived(form, page, part_op, part) for part_op, part in parts)
    if op != _INSERT and op != _DELETE:
        return False
    (index,) = _U16.unpack_from(payload, 0)
    if op == _INSERT:
        if index > len(form.entries):
            return False
        row = decode_row(payload[2:])
        if form.level == 0:
            form.insert_at(index, normalize(row), row)
        else:
            form.insert_at(index, normalize(row[:-1]), row, row[-1])
        form.used = page.used_space()
        return True
    if index >= len(form.entries):
        return False
    form.delete_at(index)
    form.used = page.used_space()
    return True


class ReplicaBTree(BTree):
    """A B-tree that only reads: dead entries stay until the writer removes them."""

    def _worth_cleaning(self, page_no: int) -> bool:
        return False


class ReplicaStorage(Storage):
    """access.Storage for a reader instance."""

    def btree(self, rel_id: int) -> BTree:
        btree = self._btrees.get(rel_id)
        if btree is None:
            btree = self._btrees[rel_id] = ReplicaBTree(self.cache, self.txns, rel_id)
        return btree

    async def vacuum(
        self, heap_rel: int, index_rels: list[int] | tuple[int, ...] = (), *, all_indexes: bool = False
    ) -> VacuumResult:
        raise ReadOnlySqlTransaction("cannot execute VACUUM during recovery")

    async def autovacuum_once(self, threshold: int = 0, scale_factor: float = 0.0) -> int:
        return 0
