"""Mini-transactions: a run of redo records that storage applies atomically (the last is a CPL).

Owns logging a change: `log(page, op, payload)` applies the op to the cached page at once (so the
writer reads its own changes) and remembers the record; `commit()` hands all records to the
volume in one `append_mtr` call and stamps the touched pages with the returned LSN. Not what the
changes mean (access, txn) and not durability (a transaction commit waits for VDL, not an MTR).

A B-tree split, a heap insert that needs a new page, a commit's clog bits: each is one MTR, so a
reader at any VDL sees all of it or none of it. If the code building an MTR fails half way, the
MTR is abandoned: its pages are put back as they were before it (each applied op keeps an O(1)
undo entry -- the item it replaced, the index it inserted at; a page it created is dropped), and
storage never sees the records.

    with cache.mtr(xid) as mtr:
        mtr.log(page_no, RedoOp.APPEND, encode_append(item))
    # leaving the block commits (or abandons on an exception)
"""

from __future__ import annotations

import struct
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pgaurora.errors import InternalError
from pgaurora.logstore.page import Page, RedoOp, apply

if TYPE_CHECKING:
    from pgaurora.pagecache.cache import PageCache

_INIT = RedoOp.INIT
_IMAGE = RedoOp.IMAGE
_APPEND = RedoOp.APPEND
_INSERT = RedoOp.INSERT
_SET = RedoOp.SET
_PATCH = RedoOp.PATCH
_DELETE = RedoOp.DELETE
_SPECIAL = RedoOp.SPECIAL
_u16 = struct.Struct("<H").unpack_from


def _undo_entry(page: Page, op: int, payload: bytes) -> tuple[Any, ...]:
    """What reverts `op` on `page` (taken before applying it)."""
    if op == _APPEND:
        return (0,)
    if op == _INSERT:
        return (1, _u16(payload, 0)[0])
    if op == _SET or op == _PATCH:
        index = _u16(payload, 0)[0]
        return (2, index, page.items[index] if index < len(page.items) else b"")
    if op == _DELETE:
        index = _u16(payload, 0)[0]
        return (3, index, page.items[index] if index < len(page.items) else b"")
    if op == _SPECIAL:
        return (4, page.special)
    return (5, page.kind, page.special, page.items.copy(), page.lsn, page.data_bytes)  # INIT, IMAGE, TRUNCATE


def _revert(page: Page, entry: tuple[Any, ...]) -> None:
    # Keeps page.data_bytes (the running size behind free_space) in step with the items.
    kind = entry[0]
    items = page.items
    if kind == 0:
        page.data_bytes -= len(items.pop())
    elif kind == 1:
        page.data_bytes -= len(items[entry[1]])
        del items[entry[1]]
    elif kind == 2:
        page.data_bytes += len(entry[2]) - len(items[entry[1]])
        items[entry[1]] = entry[2]
    elif kind == 3:
        items.insert(entry[1], entry[2])
        page.data_bytes += len(entry[2])
    elif kind == 4:
        page.special = entry[1]
    else:
        page.kind, page.special, page.items, page.lsn, page.data_bytes = entry[1:6]


class MiniTransaction:
    """Redo records being built; applied to cached pages as they are logged."""

    __slots__ = ("cache", "xid", "records", "touched", "created", "undo", "lsn", "done", "deferred")

    def __init__(self, cache: PageCache, xid: int = 0, deferred: bool = False) -> None:
        self.cache = cache
        self.xid = xid
        self.deferred = deferred
        self.records: list[tuple[int, int, bytes]] = []
        self.touched: dict[int, Page] = {}
        self.created: set[int] = set()  # pages this MTR brought into being (INIT/IMAGE of nothing)
        self.undo: list[tuple[Page, tuple[Any, ...]]] = []  # how to revert each applied op
        self.lsn = 0
        self.done = False

    def page(self, page_no: int) -> Page:
        """The cached page to change; it must have been read into the cache first."""
        page = self.touched.get(page_no)
        if page is None:
            page = self.cache._page_for_update(page_no)
            if page is None:
                raise InternalError(f"page {page_no} changed by a mini-transaction is not in the page cache")
        return page

    def log(self, page_no: int, op: int, payload: bytes) -> Page:
        """Applies one redo op to the cached page and records it; returns the page."""
        if self.done:
            raise InternalError("mini-transaction used after commit")
        cache = self.cache
        page = self.touched.get(page_no)
        if page is None:
            page = cache._page_for_update(page_no)
            if page is None and op != _INIT and op != _IMAGE:
                raise InternalError(f"page {page_no} changed by a mini-transaction is not in the page cache")
            busy = cache._busy
            busy[page_no] = busy.get(page_no, 0) + 1
            if page is None:
                self.created.add(page_no)
        if page is None:
            try:
                page = apply(None, op, payload)
            except BaseException:
                self.touched[page_no] = Page()  # released below; nothing to put back
                self._forget_new(page_no)
                raise
            self.touched[page_no] = page
            cache._put_new(page_no, page)
        else:
            self.touched[page_no] = page
            undo = _undo_entry(page, op, payload)
            apply(page, op, payload)
            self.undo.append((page, undo))
        cache.derived.pop(page_no, None)
        self.records.append((page_no, op, payload))
        return page

    def commit(self) -> int:
        """Appends the records to the volume (non-blocking); returns the LSN of the last (the CPL).

        A deferred MTR joins the cache's write-combining queue instead and returns 0: its records
        reach the volume (merged with others, a busy page's run of records as one IMAGE) at the
        next flush: the next immediate MTR (a commit), a full queue, or 50 ms later.
        """
        if self.done:
            return self.lsn
        self.done = True
        self._release()
        if not self.records:
            return 0
        cache = self.cache
        cache._queue(self.records, self.xid, self.touched)
        if not self.deferred:
            try:
                self.lsn = cache.flush()
            except BaseException:
                self._drop_pages()
                raise
        self.undo.clear()
        return self.lsn

    def abandon(self) -> None:
        """Forgets the records and puts every page they touched back as it was."""
        if self.done:
            return
        self.done = True
        self._drop_pages()
        self._release()

    def _forget_new(self, page_no: int) -> None:
        busy = self.cache._busy
        left = busy.get(page_no, 0) - 1
        if left > 0:
            busy[page_no] = left
        else:
            busy.pop(page_no, None)
        del self.touched[page_no]
        self.created.discard(page_no)

    def _drop_pages(self) -> None:
        cache = self.cache
        for page, entry in reversed(self.undo):
            _revert(page, entry)
        self.undo.clear()
        for page_no in self.touched:
            cache.derived.pop(page_no, None)
            if page_no in self.created:
                cache._pages.pop(page_no, None)

    def _release(self) -> None:
        busy = self.cache._busy
        for page_no in self.touched:
            left = busy.get(page_no, 0) - 1
            if left > 0:
                busy[page_no] = left
            else:
                busy.pop(page_no, None)

    def __enter__(self) -> MiniTransaction:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abandon()
