"""Mini-transactions: a run of redo records that storage applies atomically (the last is a CPL).

Owns logging a change: `log(page, op, payload)` applies the op to the cached page at once (so the
writer reads its own changes) and remembers the record; `commit()` hands all records to the
volume in one `append_mtr` call and stamps the touched pages with the returned LSN. Not what the
changes mean (access, txn) and not durability (a transaction commit waits for VDL, not an MTR).

A B-tree split, a heap insert that needs a new page, a commit's clog bits: each is one MTR, so a
reader at any VDL sees all of it or none of it. If the code building an MTR fails half way, the
MTR is abandoned: its pages are put back as they were before it (each page is copied when the
MTR first touches it; a page it created is dropped), and storage never sees the records.

    with cache.mtr(xid) as mtr:
        mtr.log(page_no, RedoOp.APPEND, encode_append(item))
    # leaving the block commits (or abandons on an exception)
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from pgaurora.errors import InternalError
from pgaurora.logstore.page import Page, RedoOp, apply

if TYPE_CHECKING:
    from pgaurora.pagecache.cache import PageCache

_INIT = RedoOp.INIT
_IMAGE = RedoOp.IMAGE


class MiniTransaction:
    """Redo records being built; applied to cached pages as they are logged."""

    __slots__ = ("cache", "xid", "records", "touched", "before", "lsn", "done")

    def __init__(self, cache: PageCache, xid: int = 0) -> None:
        self.cache = cache
        self.xid = xid
        self.records: list[tuple[int, int, bytes]] = []
        self.touched: dict[int, Page] = {}
        self.before: dict[int, Page | None] = {}
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
            self.before[page_no] = None if page is None else page.copy()
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
            apply(page, op, payload)
        cache.derived.pop(page_no, None)
        self.records.append((page_no, op, payload))
        return page

    def commit(self) -> int:
        """Appends the records to the volume (non-blocking); returns the LSN of the last (the CPL)."""
        if self.done:
            return self.lsn
        self.done = True
        try:
            if self.records:
                lsn = self.cache.volume.append_mtr(self.records, self.xid)
                self.lsn = lsn
                for page in self.touched.values():
                    page.lsn = lsn
        except BaseException:
            self._drop_pages()
            raise
        finally:
            self._release()
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
        self.before.pop(page_no, None)

    def _drop_pages(self) -> None:
        cache = self.cache
        for page_no, page in self.touched.items():
            before = self.before.get(page_no)
            cache.derived.pop(page_no, None)
            if before is None:
                cache._pages.pop(page_no, None)
            else:
                page.kind, page.special, page.items, page.lsn = before.kind, before.special, before.items, before.lsn

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
