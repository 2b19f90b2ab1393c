"""Vacuum: removing tuple versions no snapshot can see any more, and their index entries.

Owns deciding which versions are dead and reclaiming their space. Not the horizon itself (the
transaction manager's oldest_xmin, which includes replicas' feedback) and not scheduling.

    dead  <=>  inserter aborted, or deleter committed below the horizon
    1. prune every page (access.heapprune): dead heap-only members of HOT chains become
       LP_UNUSED at once (no index entry points at them), chain roots become LP_REDIRECT or,
       when the whole chain is dead, LP_DEAD (b"")
    2. delete the entries of the roots this pass made LP_DEAD from every index given; with
       all_indexes also those of every other LP_DEAD slot (pruned earlier)
    3. with all_indexes: drop the run of empty slots at the end of each page (TRUNCATE) --
       PostgreSQL's PageTruncateLinePointerArray -- and hand the other LP_DEAD slots whose
       entries step 2 removed to the heap as LP_UNUSED (Heap.unused_slots): new tuples SET into
       them instead of growing the page
    4. remember pages with room for later inserts

A page where step 1 left no LP_DEAD slot and nothing that may die later (its prune hint is
NO_HINT: every tuple's inserter committed and none has a deleter that may still commit) is
settled (Heap.settled_pages, PostgreSQL's all-visible bit of the visibility map): the next
passes skip it until a change to the page (insert, update, delete, pruning) unsettles it, so a
pass costs O(pages changed since the last one), not O(table). On a page it visits, step 1
examines only the slots changed since the page's last pruning (access.heapprune's candidates)
unless the page had inserts since (an aborted insert is no candidate) or is unknown here.

Passes over one heap run one at a time. A slot the pass will clean (LP_DEAD, not in
Heap.unused_slots) cannot get a new tuple before step 2 removed the entries that pointed at it:
inserts only take slots listed in Heap.unused_slots, and the pass adds it there at the end.

An emptied slot keeps its number while an index entry may still point at it: an index scan that
read a tid before step 2 then finds nothing there rather than some other row. Step 3 gives slot
numbers back, so it runs only when the caller passes *every* index of the heap (a heap-only
autovacuum pass cannot): after step 2 no entry points at those slots, and a scan holding such a
tid from before would find a tuple inserted after its snapshot, which it cannot see.

Opportunistic pruning (access.heap) does step 1 on full pages between vacuums: with HOT
updates a steady update load reuses the LP_UNUSED slots it makes without any vacuum; LP_DEAD
roots (non-HOT updates, deletes) wait for a pass with every index.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from pgaurora.access.btree import BTree
from pgaurora.access.heap import Heap
from pgaurora.access.heapprune import NO_HINT
from pgaurora.access.heaptuple import HEADER_SIZE, REDIRECT_SIZE
from pgaurora.access.heapversions import FREE_ENOUGH
from pgaurora.logstore.page import RedoOp, encode_truncate

YIELD_EVERY = 32  # heap pages a vacuum pass visits between two turns of the event loop


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
    cache = heap.cache
    pages = list((await heap._ready()).pages)
    made_dead: set[tuple[int, int]] = set()  # roots this pass turned LP_DEAD
    empty: set[tuple[int, int]] = set()  # LP_DEAD slots from earlier prunings (all_indexes)
    removed = kept = 0
    settled = heap.settled_pages
    visited: list[int] = []
    empty_tail: list[int] = []  # visited pages whose last slot was empty (step 3 may truncate them)
    for scanned, page_no in enumerate(pages):
        if scanned % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)  # a pass over a big heap lets the sessions' queries in between
        tuples = settled.get(page_no)
        if tuples is not None:
            kept += tuples  # unchanged since a pass found nothing to do there
            continue
        page = await cache.read_optional(page_no)
        if page is None:
            continue
        # synchronous from here to the end of the page: no insert or prune interleaves
        items = page.items
        plan = heap._prune_plan(page_no, page, horizon, full=True)
        pruned: set[int] = set()  # tuples this pruning removed
        if plan is not None:
            pruned = {slot for slot, _ in plan.changes if len(items[slot]) >= HEADER_SIZE}
            with cache.mtr(deferred=True) as mtr:
                heap._apply_prune(mtr, page_no, plan)
            removed += len(pruned)
            items = (cache.get(page_no) or page).items
        sizes = list(map(len, items))
        tuples = len(sizes) - sizes.count(0) - sizes.count(REDIRECT_SIZE)
        unused = set(heap.unused_slots.get(page_no, ()))
        dead_slots = False  # LP_DEAD: emptied, but index entries may still point here
        slot = -1
        for _ in range(sizes.count(0)):
            slot = sizes.index(0, slot + 1)
            if slot in unused:
                continue
            dead_slots = True
            if slot in pruned:
                made_dead.add((page_no, slot))
            elif all_indexes:
                empty.add((page_no, slot))
        kept += tuples
        visited.append(page_no)
        if sizes and not sizes[-1]:
            empty_tail.append(page_no)
        if not dead_slots and heap._prune_hint.get(page_no) == NO_HINT:
            settled[page_no] = tuples  # nothing here can die before the page changes again
    removed_entries = 0
    doomed = made_dead | empty if all_indexes else made_dead
    if doomed:
        for index in indexes:
            removed_entries += await index.remove_tids(doomed)
    truncated = reusable = 0
    if all_indexes:
        for page_no in empty_tail:
            truncated += await _truncate_empty_tail(heap, page_no, doomed)
        reusable = _hand_back(heap, visited, doomed)
    for page_no in visited:
        page = cache.get(page_no)
        if page is not None and page.free_space() >= FREE_ENOUGH and page_no not in heap.free_pages:
            heap.free_pages.append(page_no)
    heap.tuples_estimate = kept
    return VacuumResult(len(pages), removed, removed_entries, kept, truncated, reusable)


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
        free = [s for s in slots if s < len(items) and not items[s]]
        if free:
            known = unused.get(page_no, [])
            # popped from the end: lowest slot first
            unused[page_no] = sorted({*known, *free}, reverse=True)
            count += len(free)
    return count


async def _truncate_empty_tail(heap: Heap, page_no: int, cleaned: set[tuple[int, int]]) -> int:
    """Drops the empty slots at the end of a page whose index entries this pass removed, or that
    no index entry points at (LP_UNUSED)."""
    page = await heap.cache.read_optional(page_no)
    if page is None:
        return 0
    items = page.items
    keep = len(items)
    unused = heap.unused_slots.get(page_no, [])
    free = set(unused)
    while keep > 0 and not items[keep - 1] and ((page_no, keep - 1) in cleaned or keep - 1 in free):
        keep -= 1
    if keep == len(items):
        return 0
    dropped = len(items) - keep
    with heap.cache.mtr(deferred=True) as mtr:
        mtr.log(page_no, RedoOp.TRUNCATE, encode_truncate(keep))
    if unused:
        remaining = [slot for slot in unused if slot < keep]
        if remaining:
            heap.unused_slots[page_no] = remaining
        else:
            del heap.unused_slots[page_no]
    return dropped
