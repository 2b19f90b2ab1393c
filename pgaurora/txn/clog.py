"""The commit log (clog): 2 bits per transaction id, in pages of the volume.

Owns the clog pages and their directory (page 1). A transaction commits when the redo record
that sets its clog bits is durable (VDL >= its LSN); after a crash, an xid whose bits are not
COMMITTED is aborted by definition. Not the in-memory transaction table (txn.manager).

    page 1 (CLOG_DIRECTORY): item k = u32 page number of clog page k; special = next directory
                             page (u32, 0 = last), each directory lists up to 1000 clog pages
    clog page k (CLOG): one item of CLOG_BYTES bytes; xid x lives in page x // XIDS_PER_PAGE,
                        byte (x % XIDS_PER_PAGE) // 4, bits 2 * (x % 4) .. +1

Setting bits is a PATCH of the one byte, computed from the cached page (the writer is the only
one changing clog, so its cache always holds the newest byte). Every clog page is pinned in the
cache so that status lookups never wait (256 KiB of cache per million xids).
"""

from __future__ import annotations

import struct

from pgaurora.access.txnview import XidStatus
from pgaurora.errors import DataCorrupted
from pgaurora.logstore.page import RedoOp, encode_append, encode_init, encode_patch, encode_special
from pgaurora.pagecache import CLOG_DIRECTORY_PAGE, MiniTransaction, PageCache, PageKind

CLOG_BYTES = 8000
XIDS_PER_PAGE = CLOG_BYTES * 4
_U32 = struct.Struct("<I")
_NEXT = struct.Struct("<I")
DIRECTORY_CAPACITY = 1000  # clog pages listed per directory page; more chain on


class Clog:
    """The clog pages, all pinned in the page cache."""

    def __init__(self, cache: PageCache) -> None:
        self.cache = cache
        self.pages: list[int] = []  # clog page number by index
        self.directories: list[int] = [CLOG_DIRECTORY_PAGE]
        self.tail_count = 0  # entries on the last directory page

    async def open(self) -> None:
        cache = self.cache
        directory = await cache.read_optional(CLOG_DIRECTORY_PAGE)
        if directory is None:
            with cache.mtr() as mtr:
                mtr.log(CLOG_DIRECTORY_PAGE, RedoOp.INIT, encode_init(PageKind.CLOG_DIRECTORY, _NEXT.pack(0)))
            await cache.wait_durable(mtr.lsn)
        else:
            page_no = CLOG_DIRECTORY_PAGE
            self.directories = []
            for _ in range(1_000_000):
                if directory is None or directory.kind != PageKind.CLOG_DIRECTORY:
                    raise DataCorrupted(f"invalid clog directory page {page_no}")
                self.directories.append(page_no)
                self.pages.extend(_U32.unpack(item)[0] for item in directory.items)
                self.tail_count = len(directory.items)
                page_no = _NEXT.unpack(directory.special)[0] if directory.special else 0
                if not page_no:
                    break
                directory = await cache.read_optional(page_no)
        for page_no in self.directories:
            cache.pin(page_no)
        for page_no in self.pages:
            await cache.read(page_no)
            cache.pin(page_no)

    def ensure(self, xid: int) -> None:
        """Creates the clog pages up to the one holding `xid` (as their own MTR)."""
        index = xid // XIDS_PER_PAGE
        if index < len(self.pages):
            return
        cache = self.cache
        with cache.mtr() as mtr:
            while len(self.pages) <= index:
                tail = self.directories[-1]
                if self.tail_count >= DIRECTORY_CAPACITY:
                    new_tail = cache.control.allocate_page()
                    mtr.log(new_tail, RedoOp.INIT, encode_init(PageKind.CLOG_DIRECTORY, _NEXT.pack(0)))
                    mtr.log(tail, RedoOp.SPECIAL, encode_special(_NEXT.pack(new_tail)))
                    cache.pin(new_tail)
                    self.directories.append(new_tail)
                    self.tail_count = 0
                    tail = new_tail
                page_no = cache.control.allocate_page()
                mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.CLOG))
                mtr.log(page_no, RedoOp.APPEND, encode_append(bytes(CLOG_BYTES)))
                mtr.log(tail, RedoOp.APPEND, encode_append(_U32.pack(page_no)))
                cache.pin(page_no)
                self.pages.append(page_no)
                self.tail_count += 1

    def get(self, xid: int) -> XidStatus:
        """The persisted-or-pending bits of `xid` (IN_PROGRESS for a page not yet created)."""
        index, rest = divmod(xid, XIDS_PER_PAGE)
        if index >= len(self.pages):
            return XidStatus.IN_PROGRESS
        page = self.cache.get(self.pages[index])
        if page is None:
            raise DataCorrupted(f"clog page {self.pages[index]} is not cached")
        byte = page.items[0][rest >> 2]
        return XidStatus((byte >> ((rest & 3) << 1)) & 3)

    def log_status(self, mtr: MiniTransaction, xids: list[int], status: XidStatus) -> None:
        """Logs the bits of `xids` set to `status` into `mtr` (one PATCH per byte touched)."""
        for xid in sorted(xids):
            self.ensure(xid)
            index, rest = divmod(xid, XIDS_PER_PAGE)
            page_no = self.pages[index]
            page = mtr.page(page_no)
            offset = rest >> 2
            shift = (rest & 3) << 1
            old = page.items[0][offset]
            new = (old & ~(3 << shift)) | (int(status) << shift)
            if new != old:
                mtr.log(page_no, RedoOp.PATCH, encode_patch(0, offset, bytes((new,))))
