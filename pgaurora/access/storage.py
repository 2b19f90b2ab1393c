"""Storage: creating, opening, truncating and dropping relations (heaps and B-trees).

Owns the map from relation ids (metapage page numbers) to Heap and BTree objects on this
instance. Not what a relation holds (access.heap, access.btree) and not the catalog's names.

Relations are not transactional here: creating one allocates and initializes its metapage at
once, and a rolled-back CREATE TABLE leaves an unreferenced relation behind. A transactional
TRUNCATE is the catalog pointing at a new relation; `truncate()` empties one in place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pgaurora.access.btree import BTree, btree_meta_special
from pgaurora.access.heap import Heap
from pgaurora.access.relmeta import meta_special
from pgaurora.access.txnview import TransactionManagerLike
from pgaurora.access.vacuum import VacuumResult, vacuum
from pgaurora.errors import UndefinedTable
from pgaurora.logstore.page import RedoOp, encode_init
from pgaurora.pagecache import PageCache, PageKind

AUTOVACUUM_THRESHOLD = 1000
# PostgreSQL's autovacuum_vacuum_scale_factor: a heap is due once its writes since the last pass
# reach AUTOVACUUM_THRESHOLD + this fraction of the live tuples that pass kept. A flat threshold
# vacuumed pgbench's 1,000,000 accounts every 10 s, each pass walking every leaf of their primary
# key (about 11% of the writer's profiled time under pgbench tpcb-like; PostgreSQL waits for
# 200,050 writes).
AUTOVACUUM_SCALE_FACTOR = 0.2
log = logging.getLogger(__name__)


class Storage:
    """Heaps and B-trees of one volume."""

    def __init__(self, pagecache: PageCache, txn_manager: TransactionManagerLike) -> None:
        self.cache = pagecache
        self.txns = txn_manager
        self._heaps: dict[int, Heap] = {}
        self._btrees: dict[int, BTree] = {}
        self._autovacuum: asyncio.Task[None] | None = None
        # heap rel -> the rels of *every* index over it (committed or being created), or None
        # when unknown; set by the layer that knows the catalog. Without it autovacuum is heap-only.
        self.index_resolver: Callable[[int], tuple[int, ...] | None] | None = None

    async def create_heap(self) -> int:
        cache = self.cache
        await cache.open()
        rel_id = cache.control.allocate_page()
        with cache.mtr() as mtr:
            mtr.log(rel_id, RedoOp.INIT, encode_init(PageKind.HEAP_META, meta_special()))
        heap = Heap(cache, self.txns, rel_id)
        heap.pagelist.reset()
        self._heaps[rel_id] = heap
        return rel_id

    def carry_activity(self, old_rel: int, new_rel: int) -> None:
        """TRUNCATE: the table's new heap continues its old one's pg_stat_user_tables counts."""
        old = self._heaps.get(old_rel)
        if old is not None:
            old.activity.carried_over(old, self.heap(new_rel))

    def carry_index_activity(self, old_rel: int, new_rel: int) -> None:
        """TRUNCATE: an index's new B-tree continues its old one's pg_stat_user_indexes counts."""
        old = self._btrees.get(old_rel)
        if old is not None:
            new = self.btree(new_rel)
            new.scans, new.tuples_read, new.tuples_fetched = old.scans, old.tuples_read, old.tuples_fetched

    def opened_heap(self, rel_id: int) -> Heap | None:
        """The heap if this instance has opened it (pg_stat_user_tables: no counters otherwise)."""
        return self._heaps.get(rel_id)

    def opened_btree(self, rel_id: int) -> BTree | None:
        """The B-tree if this instance has opened it (pg_stat_user_indexes: zeros otherwise)."""
        return self._btrees.get(rel_id)

    def heap(self, rel_id: int) -> Heap:
        heap = self._heaps.get(rel_id)
        if heap is None:
            heap = self._heaps[rel_id] = Heap(self.cache, self.txns, rel_id)
        return heap

    async def create_btree(self, key_count: int = 1) -> int:
        cache = self.cache
        await cache.open()
        rel_id = cache.control.allocate_page()
        root = cache.control.allocate_page()
        with cache.mtr() as mtr:
            BTree.log_empty(mtr, rel_id, root, key_count)
        return rel_id

    def btree(self, rel_id: int) -> BTree:
        btree = self._btrees.get(rel_id)
        if btree is None:
            btree = self._btrees[rel_id] = BTree(self.cache, self.txns, rel_id)
        return btree

    async def kind(self, rel_id: int) -> PageKind:
        page = await self.cache.read_optional(rel_id)
        if page is None:
            raise UndefinedTable(f"relation {rel_id} does not exist")
        return PageKind(page.kind)

    async def truncate(self, rel_id: int) -> None:
        """Empties a relation in place (not transactional; its old pages are not reused)."""
        kind = await self.kind(rel_id)
        cache = self.cache
        if kind == PageKind.HEAP_META:
            with cache.mtr() as mtr:
                mtr.log(rel_id, RedoOp.INIT, encode_init(PageKind.HEAP_META, meta_special()))
            heap = self.heap(rel_id)
            heap.pagelist.reset()
            heap.free_pages.clear()
            heap.unused_slots.clear()
            heap.settled_pages.clear()
        elif kind == PageKind.BTREE_META:
            btree = self.btree(rel_id)
            meta = await cache.read(rel_id)
            key_count = btree_meta_special(meta.special)[2]
            root = cache.control.allocate_page()
            with cache.mtr() as mtr:
                BTree.log_empty(mtr, rel_id, root, key_count)
            btree.forget()
        else:
            raise UndefinedTable(f"relation {rel_id} does not exist")

    async def vacuum(
        self, heap_rel: int, index_rels: list[int] | tuple[int, ...] = (), *, all_indexes: bool = False
    ) -> VacuumResult:
        """VACUUM of one heap and its indexes, below the manager's oldest_xmin().
        `all_indexes=True` promises `index_rels` are all of its indexes (see access.vacuum)."""
        heap = self.heap(heap_rel)
        indexes = [self.btree(rel) for rel in index_rels]
        result = await vacuum(heap, indexes, self.txns.oldest_xmin(), all_indexes=all_indexes)
        heap.activity.vacuumed(heap, result.kept_tuples, auto=False)
        return result

    async def autovacuum_once(
        self, threshold: int = AUTOVACUUM_THRESHOLD, scale_factor: float = AUTOVACUUM_SCALE_FACTOR
    ) -> int:
        """Vacuums every heap opened here with at least `threshold` + `scale_factor` x its live
        tuples (as its last pass counted them) writes since its last pass; returns how many.
        With an index_resolver the pass cleans the heap's indexes too and its emptied slots
        become reusable; without one it is heap-only (emptied slots are not reused, index
        entries pointing at them lead nowhere)."""
        done = 0
        resolver = self.index_resolver
        for heap in list(self._heaps.values()):
            if heap.changes >= threshold + scale_factor * heap.tuples_estimate:
                heap.changes = 0
                index_rels = resolver(heap.rel_id) if resolver is not None else None
                if index_rels is None:
                    result = await vacuum(heap, [], self.txns.oldest_xmin())
                else:
                    indexes = [self.btree(rel) for rel in index_rels]
                    result = await vacuum(heap, indexes, self.txns.oldest_xmin(), all_indexes=True)
                heap.activity.vacuumed(heap, result.kept_tuples, auto=True)
                done += 1
        return done

    def start_autovacuum(self, interval: float = 10.0, threshold: int = AUTOVACUUM_THRESHOLD) -> asyncio.Task[None]:
        """A background task running autovacuum_once every `interval` seconds until stopped."""
        if self._autovacuum is None or self._autovacuum.done():
            self._autovacuum = asyncio.get_running_loop().create_task(self._autovacuum_loop(interval, threshold))
        return self._autovacuum

    async def stop_autovacuum(self) -> None:
        task, self._autovacuum = self._autovacuum, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _autovacuum_loop(self, interval: float, threshold: int) -> None:
        while True:
            await asyncio.sleep(interval)  # a periodic daemon, not a wait for a condition
            try:
                await self.autovacuum_once(threshold)
            except Exception:
                log.exception("autovacuum pass failed")

    async def drop(self, rel_id: int) -> None:
        """Forgets a relation: its metapage becomes FREE (its pages are not reused yet)."""
        await self.kind(rel_id)
        with self.cache.mtr() as mtr:
            mtr.log(rel_id, RedoOp.INIT, encode_init(PageKind.FREE))
        self._heaps.pop(rel_id, None)
        self._btrees.pop(rel_id, None)
