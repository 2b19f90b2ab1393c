"""Vacuum: removing tuple versions no snapshot can see any more, and their index entries.

Owns deciding which versions are dead and reclaiming their space. Not the horizon itself (the
transaction manager's oldest_xmin, which includes replicas' feedback) and not scheduling.

    dead  <=>  inserter aborted, or deleter committed below the horizon
    1. collect dead tids of the heap, and the slots pruning already emptied
    2. delete their entries from every index given
    3. empty the dead slots (SET to b"")
    4. with all_indexes: drop the run of empty slots at the end of each page (TRUNCATE) --
       PostgreSQL's PageTruncateLinePointerArray -- and hand the other emptied slots to the heap
       as LP_UNUSED (Heap.unused_slots): new tuples SET into them instead of growing the page
    5. remember pages with room for later inserts

Passes over one heap run one at a time, and while a pass with all_indexes runs the heap reuses no
slot: a slot the pass saw empty cannot get a new tuple (and index entries) before step 2 removes
the entries that pointed at it.

An emptied slot keeps its number while an index entry may still point at it: an index scan that
read a tid before step 2 then finds nothing there rather than some other row. Step 4 gives slot
numbers back, so it runs only when the caller passes *every* index of the heap (a heap-only
autovacuum pass cannot): after step 2 no entry points at those slots, and a scan holding such a
tid from before would find a tuple inserted after its snapshot, which it cannot see.

Opportunistic pruning (access.heap) empties dead slots on full pages between vacuums but never
touches indexes, so without this pass a page slowly fills with empty item pointers (4 bytes each).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from pgaurora.access.btree import BTree
from pgaurora.access.heap import Heap
from pgaurora.access.heaptuple import dead_to_all
from pgaurora.access.heapversions import FREE_ENOUGH
from pgaurora.logstore.page import RedoOp, encode_set, encode_truncate


@dataclass(frozen=True, slots=True)
class VacuumResult:
    pages: int
    removed_tuples: int
    removed_index_entries: int
    kept_tuples: int
    truncated_slots: int = 0  # item pointers given back (all_indexes only)
    unused_slots: int = 0  # emptied slots new tuples may take (all_indexes only)


_passes: weakref.WeakKeyDictionary[Heap, asyncio.Lock] = weakref.WeakKeyDictionary()


async def vacuum(heap: Heap, indexes: list[BTree], horizon: int, *, all_indexes: bool = False) -> VacuumResult:
    """Removes versions dead to every snapshot at or above `horizon`.

    `all_indexes=True` promises that `indexes` are all of the heap's indexes: then index entries
    of slots that pruning emptied earlier are removed too, empty slots at the end of each page
    are truncated away and the others become reusable.
    """
    lock = _passes.get(heap)
    if lock is None:
        lock = _passes[heap] = asyncio.Lock()
    async with lock:
        return await _vacuum(heap, indexes, horizon, all_indexes)


async def _vacuum(heap: Heap, indexes: list[BTree], horizon: int, all_indexes: bool) -> VacuumResult:
    if all_indexes:
        heap.unused_slots.clear()  # no reuse until this pass has removed the entries again
    status = heap.txns.status
    cache = heap.cache
    pages = list((await heap._ready()).pages)
    dead_by_page: dict[int, list[int]] = {}
    dead: set[tuple[int, int]] = set()
    empty: set[tuple[int, int]] = set()
    kept = 0
    for page_no in pages:
        page = await cache.read_optional(page_no)
        if page is None:
            continue
        for slot, item in enumerate(page.items):
            if not item:
                if all_indexes:
                    empty.add((page_no, slot))
                continue
            if dead_to_all(item, status, horizon):
                dead_by_page.setdefault(page_no, []).append(slot)
                dead.add((page_no, slot))
            else:
                kept += 1
    removed_entries = 0
    doomed = dead | empty
    if doomed:
        for index in indexes:
            removed_entries += await index.remove_tids(doomed)
    for page_no, slots in dead_by_page.items():
        page = await cache.read(page_no)
        with cache.mtr(deferred=True) as mtr:
            for slot in slots:
                if slot < len(page.items) and page.items[slot]:
                    mtr.log(page_no, RedoOp.SET, encode_set(slot, b""))
    truncated = reusable = 0
    if all_indexes:
        for page_no in pages:
            truncated += await _truncate_empty_tail(heap, page_no, doomed)
        reusable = _hand_back(heap, pages, doomed)
    for page_no in pages:
        page = cache.get(page_no)
        if page is not None and page.free_space() >= FREE_ENOUGH and page_no not in heap.free_pages:
            heap.free_pages.append(page_no)
    return VacuumResult(len(pages), len(dead), removed_entries, kept, truncated, reusable)


def _hand_back(heap: Heap, pages: list[int], cleaned: set[tuple[int, int]]) -> int:
    """Gives the heap the slots of `cleaned` that are still empty as LP_UNUSED; synchronous, so
    no insert sees part of it. Returns how many."""
    by_page: dict[int, list[int]] = {}
    for page_no, slot in cleaned:
        by_page.setdefault(page_no, []).append(slot)
    unused = heap.unused_slots
    count = 0
    cache = heap.cache
    for page_no in pages:
        slots = by_page.get(page_no)
        page = cache.get(page_no)
        if not slots or page is None:
            continue
        items = page.items
        free = sorted((s for s in slots if s < len(items) and not items[s]), reverse=True)
        if free:
            unused[page_no] = free  # popped from the end: lowest slot first
            count += len(free)
    return count


async def _truncate_empty_tail(heap: Heap, page_no: int, cleaned: set[tuple[int, int]]) -> int:
    """Drops the empty slots at the end of a page whose index entries this pass removed."""
    page = await heap.cache.read_optional(page_no)
    if page is None:
        return 0
    items = page.items
    keep = len(items)
    while keep > 0 and not items[keep - 1] and (page_no, keep - 1) in cleaned:
        keep -= 1
    if keep == len(items):
        return 0
    dropped = len(items) - keep
    with heap.cache.mtr(deferred=True) as mtr:
        mtr.log(page_no, RedoOp.TRUNCATE, encode_truncate(keep))
    return dropped
