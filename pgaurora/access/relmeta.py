"""A relation's metapage and the list of its data pages.

Owns the metapage chain of a heap: the metapage (whose page number is the relation id) lists
the relation's data pages, one u32 item each; when it is full, an overflow metapage is chained
from its special area. Not what the data pages hold (access.heap).

    rel_id (HEAP_META) ──next──► overflow (HEAP_META) ──next──► ...
      items: data page numbers, in order of creation
      special: next u32 | flags u32

The writer keeps the list in memory (PageList) once loaded; every change goes through redo in the
caller's MTR, so a new data page and its listing are atomic.
"""

from __future__ import annotations

import struct

from pgaurora.errors import DataCorrupted, UndefinedTable
from pgaurora.logstore.page import PAGE_SIZE, RedoOp, encode_append, encode_init, encode_special
from pgaurora.pagecache import MiniTransaction, PageCache, PageKind

_U32 = struct.Struct("<I")
_SPECIAL = struct.Struct("<II")
META_CAPACITY = (PAGE_SIZE - 24 - _SPECIAL.size) // 8 - 8  # u32 + 4-byte pointer per entry, some slack


def meta_special(next_page: int = 0, flags: int = 0) -> bytes:
    return _SPECIAL.pack(next_page, flags)


class PageList:
    """The data pages of one relation, in creation order, backed by its metapage chain."""

    def __init__(self, cache: PageCache, rel_id: int) -> None:
        self.cache = cache
        self.rel_id = rel_id
        self.pages: list[int] = []
        self.meta_pages: list[int] = [rel_id]
        self.tail_count = 0  # entries on the last metapage
        self.loaded = False

    async def load(self, kind: int = PageKind.HEAP_META) -> None:
        if self.loaded:
            return
        pages: list[int] = []
        metas: list[int] = []
        page_no = self.rel_id
        count = 0
        for _ in range(1_000_000):
            page = await self.cache.read_optional(page_no)
            if page is None or page.kind != kind:
                raise UndefinedTable(f"relation {self.rel_id} does not exist")
            metas.append(page_no)
            pages.extend(_U32.unpack(item)[0] for item in page.items)
            count = len(page.items)
            next_page, _ = _SPECIAL.unpack(page.special)
            if not next_page:
                break
            page_no = next_page
        else:
            raise DataCorrupted(f"metapage chain of relation {self.rel_id} does not end")
        if not self.loaded:
            self.pages, self.meta_pages, self.tail_count, self.loaded = pages, metas, count, True

    async def ensure_tail_cached(self) -> None:
        await self.cache.read(self.meta_pages[-1])

    def add(self, mtr: MiniTransaction, page_no: int, kind: int = PageKind.HEAP_META) -> None:
        """Lists a new data page (the tail metapage must be cached; chains a new one when full)."""
        tail = self.meta_pages[-1]
        if self.tail_count >= META_CAPACITY:
            new_meta = self.cache.control.allocate_page()
            mtr.log(new_meta, RedoOp.INIT, encode_init(kind, meta_special()))
            mtr.log(tail, RedoOp.SPECIAL, encode_special(meta_special(new_meta)))
            self.meta_pages.append(new_meta)
            self.tail_count = 0
            tail = new_meta
        mtr.log(tail, RedoOp.APPEND, encode_append(_U32.pack(page_no)))
        self.tail_count += 1
        self.pages.append(page_no)

    def reset(self) -> None:
        """Forget everything (after TRUNCATE re-initialized the metapage)."""
        self.pages = []
        self.meta_pages = [self.rel_id]
        self.tail_count = 0
        self.loaded = True
