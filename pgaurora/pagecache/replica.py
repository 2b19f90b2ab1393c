"""A read replica's page cache and the applier that keeps it current from the writer's redo stream.

Owns the reader side of "the log is the database" for cached pages: records arrive from the
writer before they are durable, wait here until the writer says VDL covers their whole
mini-transaction, and are then applied, MTR by MTR and with no await in between, to the pages
this reader has cached. A record for a page not cached is dropped (storage rebuilds the page at
the next read point) -- except INIT and IMAGE, which define the whole page and so may create it.
Not the stream's transport (server.replication_follower), not snapshots (txn.replica).

    Redo(first_lsn, records) ──► pending MTRs ──Advance(vdl)──► apply every MTR with last <= vdl
                                                                 read point := vdl

Every cached page is at the read point. A page being read from storage while records for it
are applied would come back older than its neighbours, so such records are kept aside and
applied to the image when the read returns (the image is at the read point it was asked at).
Metapages (heap page lists, B-tree roots), clog and control pages are pinned: upper layers keep
decoded forms of them in memory and must hear of every change (`on_meta_change`). A decoded form
in `derived` is dropped when its page changes, unless `patch_derived(form, page, op, payload)`
(set by the layer that owns the form) brings it up to date in place: a B-tree leaf taking one
insert per commit is then not decoded again for every lookup.

Cost: a record for a page not cached is two dict lookups; the MTRs of one Advance are applied in
one synchronous loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from pgaurora.errors import InternalError, ReadOnlySqlTransaction
from pgaurora.logstore.page import Page, RedoOp, apply
from pgaurora.pagecache.cache import DEFAULT_CAPACITY, PageCache
from pgaurora.pagecache.kinds import PageKind
from pgaurora.pagecache.mtr import MiniTransaction

log = logging.getLogger(__name__)

PINNED_KINDS = frozenset((PageKind.CONTROL, PageKind.CLOG_DIRECTORY, PageKind.CLOG,
                          PageKind.HEAP_META, PageKind.BTREE_META))
META_KINDS = frozenset((PageKind.HEAP_META, PageKind.BTREE_META, PageKind.CLOG_DIRECTORY))
_INIT = RedoOp.INIT
_IMAGE = RedoOp.IMAGE

# (decoded form, page after the record, op, payload) -> True when the form was updated in place
DerivedPatch = Callable[[Any, Page, int, bytes], bool]


class ReplicaPageCache(PageCache):
    """Pages as of the reader's read point; changed only by the applier, never by an MTR."""

    def __init__(self, volume: Any, capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__(volume, capacity)
        self._in_flight: dict[int, list[tuple[int, int, bytes]]] = {}  # page -> records (lsn, op, payload)
        self.generation = 0  # bumped by resync(): reads started before it are read again

    def mtr(self, xid: int = 0, deferred: bool = False) -> MiniTransaction:
        raise ReadOnlySqlTransaction("cannot execute a write during recovery")

    def flush(self) -> int:
        return 0

    async def _read_from_volume(self, page_no: int) -> Page | None:
        for _ in range(100):
            generation = self.generation
            read_lsn = self.volume.vdl
            self._in_flight[page_no] = []
            try:
                image = await self.volume.read_page(page_no, read_lsn)
            finally:
                missed = self._in_flight.pop(page_no, [])
            if generation != self.generation:
                continue
            page = None if image is None else Page.from_bytes(image)
            for lsn, op, payload in missed:
                if page is None:
                    if op == _INIT or op == _IMAGE:
                        page = apply(None, op, payload, lsn)
                elif lsn > page.lsn:
                    apply(page, op, payload, lsn)
            return page
        raise InternalError(f"could not read page {page_no}: the replica kept resynchronizing")

    def _install(self, page_no: int, page: Page) -> None:
        if page.kind in PINNED_KINDS:
            self._pinned.add(page_no)
        super()._install(page_no, page)

    async def resync(self, read_lsn: int) -> None:
        """After the stream restarted at a new read point: every cached page moves there.

        Pinned pages are read at `read_lsn` first and swapped in at once (the caller moves the
        volume's read point right after); the others are dropped.
        """
        pinned = sorted(self._pinned)
        read = self.volume.read_page
        images = dict(zip(pinned, await asyncio.gather(*(read(page_no, read_lsn) for page_no in pinned)), strict=True))
        self.generation += 1
        self._pages.clear()
        self.derived.clear()
        self._pending_lsn.clear()
        self._pinned.clear()
        for page_no, image in images.items():
            if image is not None:
                self._install(page_no, Page.from_bytes(image))

    def hand_over(self, vdl: int) -> tuple[list[tuple[int, Page]], dict[int, Any]]:
        """Promotion: the cached pages (least recently used first) and their decoded forms for
        the new writer's cache, which then owns them; only pages at or below `vdl` (the
        recovered VDL) go."""
        pages = [(page_no, page) for page_no, page in self._pages.items() if page.lsn <= vdl]
        derived = self.derived
        forms = {page_no: derived[page_no] for page_no, _ in pages if page_no in derived}
        self.generation += 1
        self._pages.clear()
        self.derived = {}
        self._pinned.clear()
        return pages, forms


def adopt_pages(cache: PageCache, pages: list[tuple[int, Page]], forms: dict[int, Any] | None = None) -> int:
    """A promoted reader's pages, all at the recovered VDL, become the writer's cache (warm start).

    `forms` are decoded forms the upper layers said are valid for the writer too (decodes of
    the page alone, nothing from the reader's snapshots). Returns how many pages the cache kept
    (its capacity bounds them).
    """
    derived = cache.derived
    for page_no, page in pages:
        cache._install(page_no, page)
    for page_no, form in (forms or {}).items():
        if page_no in cache:
            derived[page_no] = form
    return len(cache)


class ReplicaApplier:
    """The sans-I/O apply state machine: feed it Redo and Advance, it changes the cache."""

    def __init__(self, cache: ReplicaPageCache, read_lsn: int,
                 on_meta_change: Callable[[int, int], None] | None = None) -> None:
        self.cache = cache
        self.read_lsn = read_lsn
        self.highest_lsn_rcvd = read_lsn
        self.pending: deque[tuple[int, int, list[tuple[int, int, bytes]]]] = deque()
        self.on_meta_change = on_meta_change
        self.patch_derived: DerivedPatch | None = None
        self.records_applied = 0
        self.records_dropped = 0
        self.records_created = 0

    def reset(self, read_lsn: int) -> None:
        """A new stream starting after `read_lsn`: forget what the old one left pending."""
        self.pending.clear()
        self.read_lsn = read_lsn
        self.highest_lsn_rcvd = read_lsn

    def trim(self, lsn: int) -> bool:
        """A new stream starts at `lsn`: pending MTRs above it are dropped (the new stream sends
        what is really there: above a recovered VDL the old writer's records were truncated).
        False when an MTR spans `lsn` (then the pages cannot be brought exactly to it)."""
        pending = self.pending
        while pending and pending[-1][0] > lsn:
            pending.pop()
        if pending and pending[-1][1] > lsn:
            return False
        self.highest_lsn_rcvd = lsn
        return True

    def settle(self, vdl: int) -> bool:
        """Brings every cached page to `vdl` with the pending records (promotion: `vdl` is the
        recovered VDL); False when some record at or below it never arrived."""
        if self.read_lsn > vdl or self.highest_lsn_rcvd < vdl or not self.trim(vdl):
            return False
        self.advance(vdl)
        return True

    def receive(self, first_lsn: int, records: list[tuple[int, int, bytes]]) -> None:
        """One MTR from the writer (not yet known to be durable)."""
        last = first_lsn + len(records) - 1
        if last <= self.highest_lsn_rcvd or not records:
            return  # already had it
        self.pending.append((first_lsn, last, records))
        self.highest_lsn_rcvd = last

    def advance(self, vdl: int) -> set[int]:
        """Applies every pending MTR that ends at or below `vdl`; returns the pages they touched.

        Synchronous: a session never sees part of an MTR, nor pages at two read points.
        """
        pending = self.pending
        touched: set[int] = set()
        if vdl <= self.read_lsn:
            return touched
        cache = self.cache
        pages = cache._pages
        derived = cache.derived
        in_flight = cache._in_flight
        on_meta = self.on_meta_change
        patch = self.patch_derived
        applied = dropped = created = 0
        while pending and pending[0][1] <= vdl:
            first, _, records = pending.popleft()
            lsn = first
            for page_no, op, payload in records:
                touched.add(page_no)
                page = pages.get(page_no)
                if page is not None:
                    if lsn > page.lsn:
                        try:
                            apply(page, op, payload, lsn)
                        except InternalError:
                            log.warning("page %d: record %d does not apply; dropping the page", page_no, lsn)
                            cache._pinned.discard(page_no)
                            pages.pop(page_no, None)
                            page = None
                        form = derived.pop(page_no, None)
                        if form is not None and page is not None and patch is not None and patch(form, page, op,
                                                                                                  payload):
                            derived[page_no] = form
                        applied += 1
                        if page is not None and on_meta is not None and page.kind in META_KINDS:
                            on_meta(page_no, page.kind)
                elif op == _INIT or op == _IMAGE:
                    page = apply(None, op, payload, lsn)
                    cache._install(page_no, page)
                    derived.pop(page_no, None)
                    created += 1
                    if on_meta is not None and page.kind in META_KINDS:
                        on_meta(page_no, page.kind)
                else:
                    waiting = in_flight.get(page_no)
                    if waiting is not None:
                        waiting.append((lsn, op, payload))
                    dropped += 1
                lsn += 1
        self.records_applied += applied
        self.records_dropped += dropped
        self.records_created += created
        self.read_lsn = vdl
        return touched
