"""Heaps and B-trees on a read replica: the writer's access methods minus their opportunistic writes.

Owns the two places where reading a relation may change it on the writer: a B-tree lookup that
meets many versions of one key cleans the dead entries out (kill_prior_tuple), and VACUUM. A
reader never writes, so its B-trees skip the cleanup (the writer's lookups do it, and the
stream brings the result) and VACUUM fails as on a PostgreSQL hot standby.
Not the access methods themselves (access), not who may write (session, txn.replica).
"""

from __future__ import annotations

from pgaurora.access.btree import BTree
from pgaurora.access.storage import Storage
from pgaurora.access.vacuum import VacuumResult
from pgaurora.errors import ReadOnlySqlTransaction


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

    async def autovacuum_once(self, threshold: int = 0) -> int:
        return 0
