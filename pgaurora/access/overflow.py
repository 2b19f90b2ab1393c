"""Rows too large for a heap page: their bytes live in a chain of overflow pages (TOAST, simplified).

Owns storing and loading the bytes of a row whose encoding exceeds OVERFLOW_THRESHOLD. The heap
tuple keeps its header (so visibility needs no extra read) and, instead of the row, a pointer
body; the row bytes are split into page-sized chunks, one overflow page each, written in the
same MTR as the tuple. Not compression, and not per-column storage as PostgreSQL's TOAST does.

    tuple body (HEAP_ROW_OVERFLOW):  total length u32 | page count u32 | page u32 ...
    overflow page (HEAP_OVERFLOW):   one item = the next chunk of the row bytes

Overflow pages belong to no relation page list; vacuum does not reclaim them yet.
"""

from __future__ import annotations

import struct
from typing import Any

from pgaurora.access.heaptuple import HEADER_SIZE, HEAP_ROW_OVERFLOW, unpack_header
from pgaurora.access.rowcodec import decode_row
from pgaurora.errors import DataCorrupted, InternalError, ProgramLimitExceeded
from pgaurora.logstore.page import PAGE_SIZE, RedoOp, encode_append, encode_init
from pgaurora.pagecache import MiniTransaction, PageCache, PageKind

OVERFLOW_THRESHOLD = 2000
CHUNK = PAGE_SIZE - 24 - 4 - 64
MAX_ROW = 256 * 1024 * 1024
_HEAD = struct.Struct("<II")


class NeedPage(Exception):
    """A synchronous read found an overflow page missing from the cache."""

    def __init__(self, page_no: int) -> None:
        self.page_no = page_no


def store(mtr: MiniTransaction, cache: PageCache, data: bytes) -> bytes:
    """Logs `data` into new overflow pages; returns the pointer body for the tuple."""
    if len(data) > MAX_ROW:
        raise ProgramLimitExceeded(f"row is too big: size {len(data)}, maximum size {MAX_ROW}")
    pages = []
    for start in range(0, len(data), CHUNK):
        page_no = cache.control.allocate_page()
        mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.HEAP_OVERFLOW))
        mtr.log(page_no, RedoOp.APPEND, encode_append(data[start : start + CHUNK]))
        pages.append(page_no)
    return _HEAD.pack(len(data), len(pages)) + struct.pack(f"<{len(pages)}I", *pages)


def pages_of(body: bytes | memoryview) -> tuple[int, ...]:
    _, count = _HEAD.unpack_from(body, 0)
    return struct.unpack_from(f"<{count}I", body, _HEAD.size)


def load(cache: PageCache, body: bytes | memoryview) -> bytes:
    """The row bytes; raises NeedPage when a chunk's page is not cached."""
    total, _ = _HEAD.unpack_from(body, 0)
    chunks = []
    for page_no in pages_of(body):
        page = cache.get(page_no)
        if page is None:
            raise NeedPage(page_no)
        if page.kind != PageKind.HEAP_OVERFLOW or not page.items:
            raise DataCorrupted(f"overflow page {page_no} is missing its data")
        chunks.append(page.items[0])
    data = b"".join(chunks)
    if len(data) != total:
        raise DataCorrupted(f"overflow row of {total} bytes has {len(data)}")
    return data


async def read_row(cache: PageCache, item: bytes) -> tuple[Any, ...]:
    """The row of one tuple item, reading its overflow pages if it has any."""
    if not unpack_header(item, 0)[4] & HEAP_ROW_OVERFLOW:
        return decode_row(item[HEADER_SIZE:])
    body = item[HEADER_SIZE:]
    for page_no in pages_of(body):
        await cache.read(page_no)
    for _ in range(1000):
        try:
            return decode_row(load(cache, body))
        except NeedPage as need:
            await cache.read(need.page_no)
    raise InternalError("could not read an overflow row")
