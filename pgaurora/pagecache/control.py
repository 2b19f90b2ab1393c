"""The control page (page 0): the volume-wide allocator of pages, xids and oids, and root pointers.

Owns handing out page numbers, transaction ids and object ids so that none is ever handed out
twice, not even across a crash, and a few named root slots (e.g. where the catalog starts). Not
what the pages hold (access, txn) and not clog (txn.clog).

Numbers are reserved in chunks. Reserving writes the new limit to page 0 as its own MTR before
any number of the chunk is used; LSN order then guarantees that whenever a record using a
number is durable, so is its reservation. A restarted writer continues from the persisted
limits, skipping whatever the crashed writer reserved but did not use:

    page 0 item 0:  magic u32 | version u16 | 0 u16 | page limit u64 | xid limit u64 | oid limit u64
    page 0 item 1:  root slots, ROOT_SLOTS x u64 (0 = unset)

    in memory:  next_xid ──────────► xid limit (persisted)   ... likewise pages, oids
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from pgaurora.errors import DataCorrupted, InternalError
from pgaurora.logstore.page import RedoOp, encode_append, encode_init, encode_set
from pgaurora.pagecache.kinds import PageKind

if TYPE_CHECKING:
    from pgaurora.pagecache.cache import PageCache

CONTROL_PAGE = 0
CLOG_DIRECTORY_PAGE = 1
FIRST_FREE_PAGE = 2
FIRST_NORMAL_XID = 3  # PostgreSQL: 1 bootstrap, 2 frozen, 3 first normal
FROZEN_XID = 2
FIRST_NORMAL_OID = 16384
ROOT_SLOTS = 16

MAGIC = 0x50474155  # "PGAU"
VERSION = 1
_LIMITS = struct.Struct("<IHHQQQ")
_ROOTS = struct.Struct(f"<{ROOT_SLOTS}Q")

PAGE_CHUNK = 64
XID_CHUNK = 1024
OID_CHUNK = 256


class ControlFile:
    """The allocator state of page 0; every persisted change goes through redo."""

    def __init__(self, cache: PageCache, page_limit: int, xid_limit: int, oid_limit: int, roots: list[int]):
        self.cache = cache
        self.next_page = self.page_limit = page_limit
        self.next_xid = self.xid_limit = xid_limit
        self.next_oid = self.oid_limit = oid_limit
        self.roots = roots
        self.created = False

    @classmethod
    async def load(cls, cache: PageCache) -> ControlFile:
        page = await cache.read_optional(CONTROL_PAGE)
        if page is None:
            control = cls(cache, FIRST_FREE_PAGE, FIRST_NORMAL_XID, FIRST_NORMAL_OID, [0] * ROOT_SLOTS)
            with cache.mtr() as mtr:
                mtr.log(CONTROL_PAGE, RedoOp.INIT, encode_init(PageKind.CONTROL))
                mtr.log(CONTROL_PAGE, RedoOp.APPEND, encode_append(control._limits_item()))
                mtr.log(CONTROL_PAGE, RedoOp.APPEND, encode_append(_ROOTS.pack(*control.roots)))
            await cache.wait_durable(mtr.lsn)
            control.created = True
        else:
            if page.kind != PageKind.CONTROL or len(page.items) < 2:
                raise DataCorrupted("invalid control page")
            magic, version, _, page_limit, xid_limit, oid_limit = _LIMITS.unpack(page.items[0])
            if magic != MAGIC or version != VERSION:
                raise DataCorrupted(f"invalid control page: magic {magic:#x} version {version}")
            control = cls(cache, page_limit, xid_limit, oid_limit, list(_ROOTS.unpack(page.items[1])))
        cache.pin(CONTROL_PAGE)
        return control

    def _limits_item(self) -> bytes:
        return _LIMITS.pack(MAGIC, VERSION, 0, self.page_limit, self.xid_limit, self.oid_limit)

    def _persist_limits(self) -> None:
        with self.cache.mtr() as mtr:
            mtr.log(CONTROL_PAGE, RedoOp.SET, encode_set(0, self._limits_item()))

    # -- allocation (synchronous: page 0 is pinned) ---------------------------------------------------

    def allocate_page(self) -> int:
        """A page number never handed out before."""
        page_no = self.next_page
        if page_no >= self.page_limit:
            self.page_limit = page_no + PAGE_CHUNK
            self._persist_limits()
        self.next_page = page_no + 1
        return page_no

    def allocate_xid(self) -> int:
        xid = self.next_xid
        if xid >= self.xid_limit:
            self.xid_limit = xid + XID_CHUNK
            self._persist_limits()
        self.next_xid = xid + 1
        return xid

    def allocate_oid(self) -> int:
        oid = self.next_oid
        if oid >= self.oid_limit:
            self.oid_limit = oid + OID_CHUNK
            self._persist_limits()
        self.next_oid = oid + 1
        return oid

    # -- root slots ------------------------------------------------------------------------------------

    def root(self, slot: int) -> int:
        """The value stored in a root slot (0 when unset)."""
        return self.roots[slot]

    def set_root(self, slot: int, value: int) -> int:
        """Stores a root pointer (e.g. the catalog's first relation id); returns the MTR's LSN."""
        if not 0 <= slot < ROOT_SLOTS:
            raise InternalError(f"root slot {slot} out of range")
        self.roots[slot] = value
        with self.cache.mtr() as mtr:
            mtr.log(CONTROL_PAGE, RedoOp.SET, encode_set(1, _ROOTS.pack(*self.roots)))
        return mtr.lsn
