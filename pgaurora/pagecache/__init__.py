"""pgaurora.pagecache — pages at this instance's read point; changes only through redo.

    cache.py    PageCache: get (no I/O), read (miss -> volume.read_page at VDL), LRU bound, pins,
                the per-page `derived` slot for decoded forms, the write-combining queue of
                deferred MTRs (flushed as one MTR; a page's long run of records -> one IMAGE)
    mtr.py      MiniTransaction: log(page, op, payload) applies + records; commit() appends (CPL last)
    control.py  page 0: allocator of pages, xids and oids reserved in chunks; root slots
    kinds.py    PageKind: the registry of page kinds
    replica.py  a reader's cache and the applier of the writer's redo stream (whole MTRs <= VDL)
    replica_volume.py  a reader's volume handle: page reads at its read point, no writes

Start-up: `cache = PageCache(volume); await cache.open()` (creates page 0 on a new volume).
"""

from pgaurora.pagecache.cache import PageCache, VolumeLike
from pgaurora.pagecache.control import (
    CLOG_DIRECTORY_PAGE,
    CONTROL_PAGE,
    FIRST_NORMAL_OID,
    FIRST_NORMAL_XID,
    FROZEN_XID,
    ControlFile,
)
from pgaurora.pagecache.kinds import PageKind
from pgaurora.pagecache.mtr import MiniTransaction

__all__ = [
    "CLOG_DIRECTORY_PAGE",
    "CONTROL_PAGE",
    "FIRST_NORMAL_OID",
    "FIRST_NORMAL_XID",
    "FROZEN_XID",
    "ControlFile",
    "MiniTransaction",
    "PageCache",
    "PageKind",
    "VolumeLike",
]
