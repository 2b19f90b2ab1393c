"""Vacuum: removing tuple versions no snapshot can see any more, and their index entries.

Owns deciding which versions are dead and reclaiming their space. Not the horizon itself (the
transaction manager's oldest_xmin, which includes replicas' feedback) and not scheduling.

    dead  <=>  inserter aborted, or deleter committed below the horizon
    1. collect dead tids of the heap       2. delete their entries from every index
    3. empty their slots (SET to b"")      4. remember pages with room for later inserts

Slots are emptied, never renumbered or reused, so an index scan that read a tid before step 2
finds nothing there rather than some other row.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgaurora.access.btree import BTree
from pgaurora.access.heap import Heap
from pgaurora.access.heaptuple import dead_to_all
from pgaurora.access.heapversions import FREE_ENOUGH
from pgaurora.logstore.page import RedoOp, encode_set


@dataclass(frozen=True, slots=True)
class VacuumResult:
    pages: int
    removed_tuples: int
    removed_index_entries: int
    kept_tuples: int


async def vacuum(heap: Heap, indexes: list[BTree], horizon: int) -> VacuumResult:
    """Removes versions dead to every snapshot at or above `horizon`."""
    status = heap.txns.status
    cache = heap.cache
    pages = list((await heap._ready()).pages)
    dead_by_page: dict[int, list[int]] = {}
    dead: set[tuple[int, int]] = set()
    kept = 0
    for page_no in pages:
        page = await cache.read_optional(page_no)
        if page is None:
            continue
        for slot, item in enumerate(page.items):
            if not item:
                continue
            if dead_to_all(item, status, horizon):
                dead_by_page.setdefault(page_no, []).append(slot)
                dead.add((page_no, slot))
            else:
                kept += 1
    removed_entries = 0
    if dead:
        for index in indexes:
            removed_entries += await index.remove_tids(dead)
    for page_no, slots in dead_by_page.items():
        page = await cache.read(page_no)
        with cache.mtr(deferred=True) as mtr:
            for slot in slots:
                if slot < len(page.items) and page.items[slot]:
                    mtr.log(page_no, RedoOp.SET, encode_set(slot, b""))
        if page.free_space() >= FREE_ENOUGH and page_no not in heap.free_pages:
            heap.free_pages.append(page_no)
    return VacuumResult(len(pages), len(dead), removed_entries, kept)
