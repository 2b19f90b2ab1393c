"""Building a B-tree bottom-up (CREATE INDEX on existing rows).

Owns bulk loading an empty index: sort the entries, pack leaves to a fill factor, then each
level above from the first entries of the level below, one IMAGE record per page (instead of a
record per entry), and finally point the metapage at the new root in one MTR, so a crash half
way leaves the old empty index. Not incremental inserts or splits (access.btree).
"""

from __future__ import annotations

import asyncio
import heapq
from typing import TYPE_CHECKING, Any

from pgaurora.access.btree import _META, MAX_ENTRY, Key, Tid, UniqueCheck
from pgaurora.access.btreechain import chain_of, hot_roots
from pgaurora.access.btreekey import NULL_KEY, internal_item, leaf_item, node_special, normalize
from pgaurora.access.heaptuple import HEADER_SIZE, HEAP_ONLY_TUPLE, INFOMASK_OFFSET
from pgaurora.access.rowcodec import decode_row
from pgaurora.errors import ProgramLimitExceeded
from pgaurora.logstore.page import PAGE_SIZE, Page, RedoOp, encode_image
from pgaurora.pagecache import PageKind

if TYPE_CHECKING:
    from pgaurora.access.btree import BTree


YIELD_EVERY = 4096  # entries handled between two turns of the event loop
SORT_RUN = 16384  # entries encoded and sorted at once (tens of milliseconds), then the loop turns
YIELD_PAGES = 32  # pages imaged between two turns of the event loop


async def bulk_load(
    tree: BTree, entries: list[tuple[Key, Tid]], unique: UniqueCheck | None = None, fill: float = 0.9
) -> None:
    """CREATE INDEX: builds an empty index from `entries` bottom-up (sorted, leaves packed to
    `fill`, one IMAGE record per page) instead of one insert per entry. With `unique`, equal
    keys of two live tuples raise 23505 (running inserters are waited for).

    A million-entry build takes seconds, so it hands the event loop back every few thousand
    entries (and sorts in runs that it merges) to let the other sessions' queries in."""
    entries = await _to_roots(tree, entries)
    await tree._sync(tree._load_meta)
    root_node = await tree._sync(lambda: tree._node(tree.root))
    if tree.level != 0 or root_node.entries:
        for key, tid in entries:
            await tree.insert(key, tid, unique)
        return
    rows = await _sorted_entries(tree, entries)
    del entries
    if unique is not None:
        await _check_bulk_unique(tree, rows, unique)
    if not rows:
        return
    budget = int((PAGE_SIZE - 64) * fill)
    control = tree.cache.control
    # level 0: (first entry, items) per leaf
    level_pages: list[tuple[tuple[Any, ...], list[bytes]]] = []
    current: list[bytes] = []
    used = 0
    for n, (_, item) in enumerate(rows):
        if current and used + len(item) + 4 > budget:
            level_pages.append((decode_row(current[0]), current))
            current, used = [], 0
        current.append(item)
        used += len(item) + 4
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
    level_pages.append((decode_row(current[0]), current))
    del rows
    level = 0
    numbers = await _write_level(tree, level_pages, level, control)
    while len(numbers) > 1:
        level += 1
        uppers: list[tuple[tuple[Any, ...], list[bytes]]] = []
        current, used = [], 0
        first: tuple[Any, ...] = ()
        for (low, _), child in zip(level_pages, numbers, strict=True):
            # `low` = (key..., page, slot) of the child's first leaf entry: its separator
            item = internal_item(low[:-2], (low[-2], low[-1]), child)
            if current and used + len(item) + 4 > budget:
                uppers.append((first, current))
                current, used = [], 0
            if not current:
                first = low
                item = internal_item(None, None, child)  # -infinity within its node
            current.append(item)
            used += len(item) + 4
        uppers.append((first, current))
        level_pages = uppers
        numbers = await _write_level(tree, level_pages, level, control)
    await tree.cache.read(tree.rel_id)
    with tree.cache.mtr() as mtr:
        mtr.log(tree.rel_id, RedoOp.SPECIAL, _META.pack(numbers[0], level, tree.key_count))
    tree.root, tree.level = numbers[0], level


async def _sorted_entries(tree: BTree, entries: list[tuple[Key, Tid]]) -> list[tuple[tuple[Any, ...], bytes]]:
    """(search form of key + tid, leaf item) per entry, in index order; 54000 for an entry too
    big for a page.

    Sorted in runs of SORT_RUN with a turn of the event loop after each; runs that already
    follow each other (a heap filled in key order, as COPY of pgbench's accounts) are joined,
    others are merged."""
    runs: list[list[tuple[tuple[Any, ...], bytes]]] = []
    for start in range(0, len(entries), SORT_RUN):
        run = [(normalize(tuple(key)) + (tid[0], tid[1]), leaf_item(tuple(key), (tid[0], tid[1])))
               for key, tid in entries[start:start + SORT_RUN]]
        for _, item in run:
            if len(item) > MAX_ENTRY:
                suffix = f' for index "{tree.name}"' if tree.name else ""
                raise ProgramLimitExceeded(
                    f"index row size {len(item)} exceeds btree version 4 maximum {MAX_ENTRY}{suffix}"
                )
        run.sort(key=_first)
        runs.append(run)
        await asyncio.sleep(0)
    if len(runs) <= 1:
        return runs[0] if runs else []
    if all(a[-1][0] < b[0][0] for a, b in zip(runs, runs[1:], strict=False)):
        return [entry for run in runs for entry in run]
    merged: list[tuple[tuple[Any, ...], bytes]] = []
    for n, entry in enumerate(heapq.merge(*runs, key=_first)):
        merged.append(entry)
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
    return merged


def _first(entry: tuple[tuple[Any, ...], bytes]) -> tuple[Any, ...]:
    return entry[0]


async def _write_level(
    tree: BTree, pages: list[tuple[tuple[Any, ...], list[bytes]]], level: int, control: Any
) -> list[int]:
    numbers = [control.allocate_page() for _ in pages]
    kind = PageKind.BTREE_LEAF if level == 0 else PageKind.BTREE_INTERNAL
    for i, (_, items) in enumerate(pages):
        await tree.cache.room()
        if i % YIELD_PAGES == YIELD_PAGES - 1:
            await asyncio.sleep(0)
        right = numbers[i + 1] if i + 1 < len(numbers) else 0
        with tree.cache.mtr(deferred=True) as mtr:
            mtr.log(numbers[i], RedoOp.IMAGE, encode_image(Page(kind, node_special(right, level), items)))
    return numbers

async def _to_roots(tree: BTree, entries: list[tuple[Key, Tid]]) -> list[tuple[Key, Tid]]:
    """`entries` with each heap-only version's tid replaced by its HOT chain's root."""
    cache = tree.cache
    roots_by_page: dict[int, dict[int, int]] = {}
    out: list[tuple[Key, Tid]] = []
    for n, (key, tid) in enumerate(entries):
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        page_no = tid[0]
        page = cache.get(page_no)
        if page is None:
            page = await cache.read_optional(page_no)
        if page is None or tid[1] >= len(page.items):
            out.append((key, tid))
            continue
        item = page.items[tid[1]]
        if len(item) < HEADER_SIZE or not item[INFOMASK_OFFSET] & HEAP_ONLY_TUPLE:
            out.append((key, tid))
            continue
        roots = roots_by_page.get(page_no)
        if roots is None:
            roots = roots_by_page[page_no] = hot_roots(page_no, page.items)
        out.append((key, (page_no, roots.get(tid[1], tid[1]))))
    return out


async def _check_bulk_unique(tree: BTree, rows: list[tuple[tuple[Any, ...], bytes]], unique: UniqueCheck) -> None:
    i = 0
    next_turn = YIELD_EVERY
    while i < len(rows):
        if i >= next_turn:
            next_turn = i + YIELD_EVERY
            await asyncio.sleep(0)
        j = i + 1
        key = rows[i][0][:-2]
        while j < len(rows) and rows[j][0][:-2] == key:
            j += 1
        if j - i > 1 and NULL_KEY not in key:
            tids = [(entry[-2], entry[-1]) for entry, _ in rows[i:j]]

            def live_count(tids: list[Tid] = tids) -> int:
                # an entry counts if any version of its HOT chain is live
                count = 0
                for page_no, slot in tids:
                    page = tree._page(page_no)
                    chain = chain_of(page_no, page.items, slot) if page.kind == PageKind.HEAP else [slot]
                    count += any(tree._live_for_unique(unique.txn, (page_no, member)) for member in chain)
                return count

            if await tree._sync(live_count, unique.txn) > 1:
                raw = decode_row(rows[i][1])
                raise unique.error(raw[:-2])
        i = j
