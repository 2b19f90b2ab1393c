"""Page kinds: the one registry of what each page of the volume holds (Page.kind).

Owns the numbers only. Each kind's layout belongs to its owner: control (pagecache.control),
clog (txn.clog), heap (access.heap), B-tree (access.btree).
"""

from __future__ import annotations

from enum import IntEnum


class PageKind(IntEnum):
    FREE = 0  # never initialized, or a dropped relation's page
    CONTROL = 1  # page 0: allocator limits and root pointers
    CLOG_DIRECTORY = 2  # page 1: page numbers of the clog pages
    CLOG = 3  # 2 bits per xid
    HEAP_META = 10  # a heap relation's metapage (its relation id) and its overflow chain
    HEAP = 11
    HEAP_OVERFLOW = 12  # a chunk of a row too large for a heap page (access.overflow)
    BTREE_META = 20  # a B-tree's metapage (its relation id): root page and level
    BTREE_LEAF = 21
    BTREE_INTERNAL = 22
