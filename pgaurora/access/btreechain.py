"""Index entries and HOT chains: the heap versions one B-tree entry stands for.

Owns mapping between index entries and the members of heap HOT chains (access.heaptuple): an
entry points at a chain's root, and a lookup must name every member (root first) so that the
caller's fetch with its snapshot finds the version it sees; CREATE INDEX must index a heap-only
version under its root. Not the chains themselves (access.heaptuple) or the tree (access.btree).
"""

from __future__ import annotations

from typing import Any

from pgaurora.access.heaptuple import (
    HEADER_SIZE,
    HEAP_HOT_UPDATED,
    HEAP_ONLY_TUPLE,
    INFOMASK_OFFSET,
    REDIRECT_SIZE,
    hot_chain,
)
from pgaurora.errors import InternalError
from pgaurora.pagecache import PageCache, PageKind

Tid = tuple[int, int]
Key = tuple[Any, ...]


def members_cached(cache: PageCache, tids: list[Tid], absent: set[int] | None = None) -> list[Tid] | None:
    """`tids` with every HOT chain root replaced by its members (root first); None when a
    heap page is not cached (pages in `absent` do not exist: their tids stay as they are)."""
    get = cache.get
    out: list[Tid] = []
    append = out.append
    last_page_no = -1
    heap_items: list[bytes] | None = None  # the last page's items, None when it is no heap page
    for tid in tids:
        page_no, slot = tid
        if page_no != last_page_no:  # a range's entries come a page at a time: one lookup each
            page = get(page_no)
            if page is None:
                if absent is None or page_no not in absent:
                    return None
                heap_items = None
            else:
                heap_items = page.items if page.kind == PageKind.HEAP else None
            last_page_no = page_no
        if heap_items is None:
            append(tid)
            continue
        if slot < len(heap_items):
            item = heap_items[slot]
            if len(item) >= HEADER_SIZE and not item[INFOMASK_OFFSET] & HEAP_HOT_UPDATED:
                append(tid)  # no HOT chain: the usual case
                continue
            if item:
                out.extend((page_no, member) for member in hot_chain(page_no, heap_items, slot))
    return out


async def members(cache: PageCache, tids: list[Tid]) -> list[Tid]:
    """members_cached, reading the heap pages it needs."""
    absent: set[int] = set()
    for _ in range(10_000):
        found = members_cached(cache, tids, absent)
        if found is not None:
            return found
        for tid in tids:
            if tid[0] not in cache and tid[0] not in absent:
                if await cache.read_optional(tid[0]) is None:
                    absent.add(tid[0])
                break
    raise InternalError("could not read the heap pages of index entries")


async def expand(cache: PageCache, batch: list[tuple[Key, Tid]]) -> list[tuple[Key, Tid]]:
    """A range batch with each entry repeated for the members of its HOT chain."""
    tids = [tid for _, tid in batch]
    found = members_cached(cache, tids)
    if found is None:
        found = await members(cache, tids)
    if found == tids:
        return batch
    out: list[tuple[Key, Tid]] = []
    get = cache.get
    for key, tid in batch:
        page = get(tid[0])
        if page is None:
            page = await cache.read_optional(tid[0])
        if page is None or page.kind != PageKind.HEAP:
            out.append((key, tid))
            continue
        out.extend((key, (tid[0], member)) for member in chain_of(tid[0], page.items, tid[1]))
    return out


def chain_of(page_no: int, items: list[bytes], slot: int) -> list[int]:
    """The slots an entry pointing at `slot` stands for: the members of its HOT chain."""
    if slot >= len(items):
        return []
    item = items[slot]
    if len(item) >= HEADER_SIZE and not item[INFOMASK_OFFSET] & HEAP_HOT_UPDATED:
        return [slot]
    return hot_chain(page_no, items, slot)


def hot_roots(page_no: int, items: list[bytes]) -> dict[int, int]:
    """heap-only member slot -> the slot of its HOT chain's root, for one heap page: an index
    entry for a heap-only version must point at its root (CREATE INDEX over a heap with HOT
    chains indexes roots, as PostgreSQL does)."""
    roots: dict[int, int] = {}
    for root, item in enumerate(items):
        if len(item) == REDIRECT_SIZE or (
            len(item) >= HEADER_SIZE
            and item[INFOMASK_OFFSET] & HEAP_HOT_UPDATED
            and not item[INFOMASK_OFFSET] & HEAP_ONLY_TUPLE
        ):
            for member in hot_chain(page_no, items, root):
                roots[member] = root
    return roots
