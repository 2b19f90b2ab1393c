"""Heap relations: placing new tuple versions on pages, MVCC scans and fetches, page pruning.

Owns inserting and reading the tuple versions of one heap relation, its free-space choices, and
the decoded-page cache that makes scans cheap. Not updates, deletes and row locks (their
concurrent-writer rules are access.heapversions, which Heap inherits), not visibility rules (the
snapshot object the caller passes, txn.snapshot), not page lists (access.relmeta) or tuple
layout (access.heaptuple).

Every change is redo through one MiniTransaction (deferred: the write-combining queue of the
page cache carries it to the volume ahead of the transaction's commit record):

    insert       SET the tuple into an LP_UNUSED slot (one vacuum emptied and removed every index
                 entry of: Heap.unused_slots), else APPEND it (plus INIT of a new page and its
                 listing when the last is full)
    insert_many  one IMAGE per page filled
    prune        SET dead HOT chain members to b"" (LP_UNUSED: reusable at once, no index entry
                 points at them) and a chain's root to an LP_REDIRECT or b"" (LP_DEAD: its index
                 entries wait for vacuum) -- access.heapprune; on a full page, before UPDATE

Scans decode a page once and keep the result in the page cache's derived slot (dropped when the
page changes). A page whose tuples all had their fate decided before the snapshot's xmin is
returned as the precomputed list of live rows without a per-tuple visibility test:

    live     inserter committed, no deleter: visible to every snapshot with xmin > horizon
    pending  inserter or deleter still running: tested per snapshot
    dead     inserter aborted, or deleter committed (horizon covers it)

It also keeps what pg_stat_user_tables shows of the relation (TableActivity): tuple counters,
vacuum and analyze counts and times, PostgreSQL's estimates of live and dead tuples.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import time
from collections.abc import AsyncIterator
from typing import Any

from pgaurora.access import overflow
from pgaurora.access.heapprune import NO_HINT, HeapPruning
from pgaurora.access.heaptuple import (
    HEADER_SIZE,
    HEAP_ROW_OVERFLOW,
    new_tuple,
    unpack_header,
)
from pgaurora.access.heapversions import MAX_TUPLE, HeapVersions
from pgaurora.access.relmeta import PageList
from pgaurora.access.rowcodec import decode_row, encode_row
from pgaurora.access.txnview import (
    ABORTED,
    COMMITTED,
    IN_PROGRESS,
    SnapshotLike,
    TransactionLike,
    TransactionManagerLike,
)
from pgaurora.errors import InternalError, ProgramLimitExceeded
from pgaurora.logstore.page import ITEM_POINTER_SIZE, Page, RedoOp, encode_image, encode_init, encode_set
from pgaurora.pagecache import MiniTransaction, PageCache, PageKind

Tid = tuple[int, int]
Row = tuple[Any, ...]
READ_AHEAD = 16
PRUNE_FOR_REUSE = 1024  # a page with LP_UNUSED slots and less room than this is pruned first
_APPEND = RedoOp.APPEND
_SET = RedoOp.SET
_HEAP = PageKind.HEAP
_ABORTED_STATUS = ABORTED


class DecodedPage:
    """A heap page decoded once: entries, the rows live for every snapshot with xmin > horizon."""

    __slots__ = ("entries", "live", "pending", "horizon", "completions")

    def __init__(self, entries: list[tuple[Tid, Row, int, int, int, int]]) -> None:
        self.entries = entries
        self.live: list[tuple[Tid, Row]] = []
        self.pending: list[tuple[Tid, Row, int, int, int, int]] = []
        self.horizon = 0
        self.completions = -1


def _decode_page(cache: PageCache, page_no: int, items: list[bytes]) -> DecodedPage:
    """Decodes every tuple of a page; raises overflow.NeedPage if an overflow chunk is not cached."""
    entries: list[tuple[Tid, Row, int, int, int, int]] = []
    append = entries.append
    for slot, item in enumerate(items):
        if len(item) >= HEADER_SIZE:  # not empty, not an LP_REDIRECT
            xmin, cmin, xmax, cmax, infomask, _, _ = unpack_header(item, 0)
            if infomask & HEAP_ROW_OVERFLOW:
                row = decode_row(overflow.load(cache, item[HEADER_SIZE:]))
            else:
                row = decode_row(item[HEADER_SIZE:])
            append(((page_no, slot), row, xmin, cmin, xmax, cmax))
    return DecodedPage(entries)




class TableActivity:
    """A heap's vacuum and analyze history and the bases of PostgreSQL's live/dead estimates.

    As in PostgreSQL, a vacuum pass sets the estimates to what it kept (live) and 0 (dead), an
    ANALYZE the live one to the rows it counted; every insert, update and delete since moves them
    (a new row version is live, the one it replaced dead). The counters start at zero when this
    instance opens the heap (PostgreSQL keeps them across a clean restart, not across a crash).

    Also the sequential scans of the heap (the executor's seq scans, COPY TO, an index build's
    or a constraint check's pass over the table, as PostgreSQL's heap scans count) and the
    live rows they read (before any filter)."""

    __slots__ = ("vacuums", "autovacuums", "last_vacuum", "last_autovacuum", "analyzes", "last_analyze",
                 "live", "dead", "base", "inserted_at_vacuum", "modified_at_analyze", "seq_scans", "seq_tuples_read")

    def __init__(self) -> None:
        self.vacuums = self.autovacuums = self.analyzes = 0
        self.seq_scans = self.seq_tuples_read = 0
        self.last_vacuum: float | None = None
        self.last_autovacuum: float | None = None
        self.last_analyze: float | None = None
        self.live = self.dead = 0  # the estimates at `base`: (inserted, updated, deleted) then
        self.base = (0, 0, 0)
        self.inserted_at_vacuum = 0
        self.modified_at_analyze = 0

    def vacuumed(self, heap: Heap, kept: int, auto: bool) -> None:
        now = time.time()
        if auto:
            self.autovacuums += 1
            self.last_autovacuum = now
        else:
            self.vacuums += 1
            self.last_vacuum = now
        self.live, self.dead = kept, 0
        self.base = (heap.tuples_inserted, heap.tuples_updated, heap.tuples_deleted)
        self.inserted_at_vacuum = heap.tuples_inserted

    def carried_over(self, old: Heap, new: Heap) -> None:
        """TRUNCATE gave the table the empty heap `new`: its counts go on from `old`'s (PostgreSQL
        keeps them by table, not by file), with no live or dead tuples and no inserts since vacuum."""
        new.tuples_inserted, new.tuples_updated = old.tuples_inserted, old.tuples_updated
        new.tuples_hot_updated, new.tuples_deleted = old.tuples_hot_updated, old.tuples_deleted
        # a copy: if the TRUNCATE rolls back, the old heap goes on with its own
        activity = new.activity = copy.copy(self)
        activity.live = activity.dead = 0
        activity.base = (new.tuples_inserted, new.tuples_updated, new.tuples_deleted)
        activity.inserted_at_vacuum = new.tuples_inserted

    def analyzed(self, heap: Heap, live: int) -> None:
        self.analyzes += 1
        self.last_analyze = time.time()
        inserted, updated, deleted = heap.tuples_inserted, heap.tuples_updated, heap.tuples_deleted
        self.dead = self._dead(inserted, updated, deleted)
        self.live = live
        self.base = (inserted, updated, deleted)
        self.modified_at_analyze = inserted + updated + deleted

    def _dead(self, inserted: int, updated: int, deleted: int) -> int:
        return self.dead + (updated - self.base[1]) + (deleted - self.base[2])

    def row(self, inserted: int, updated: int, hot_updated: int, deleted: int) -> dict[str, Any]:
        def stamp(seconds: float | None) -> datetime.datetime | None:
            return None if seconds is None else datetime.datetime.fromtimestamp(seconds, datetime.UTC)

        return {
            "seq_scan": self.seq_scans, "seq_tup_read": self.seq_tuples_read,
            "n_tup_ins": inserted, "n_tup_upd": updated, "n_tup_del": deleted, "n_tup_hot_upd": hot_updated,
            "n_live_tup": max(self.live + (inserted - self.base[0]) - (deleted - self.base[2]), 0),
            "n_dead_tup": max(self._dead(inserted, updated, deleted), 0),
            "n_mod_since_analyze": inserted + updated + deleted - self.modified_at_analyze,
            "n_ins_since_vacuum": inserted - self.inserted_at_vacuum,
            "last_vacuum": stamp(self.last_vacuum), "last_autovacuum": stamp(self.last_autovacuum),
            "last_analyze": stamp(self.last_analyze), "last_autoanalyze": None,
            "vacuum_count": self.vacuums, "autovacuum_count": self.autovacuums,
            "analyze_count": self.analyzes, "autoanalyze_count": 0,
        }


class Heap(HeapVersions, HeapPruning):
    """One heap relation (its id is its metapage's page number)."""

    def __init__(self, cache: PageCache, txns: TransactionManagerLike, rel_id: int) -> None:
        self.cache = cache
        self.txns = txns
        self.rel_id = rel_id
        self.pagelist = PageList(cache, rel_id)
        self.free_pages: list[int] = []  # pages that vacuum left with room
        # page -> its LP_UNUSED slots: empty, and vacuum removed every index entry pointing at
        # them, so a new tuple may take one (an emptied slot an index may still point at never is)
        self.unused_slots: dict[int, list[int]] = {}
        self.name = ""  # for messages; the catalog may set it
        self.changes = 0  # writes since the last autovacuum pass
        self.tuples_estimate = 0  # live tuples the last vacuum pass kept (autovacuum scales with it)
        self._pruned_at: dict[int, int] = {}  # page -> horizon of its last pruning attempt
        # page -> the lowest xid whose end may let pruning free something there (pd_prune_xid):
        # pruning waits until the horizon passes it. A page not listed is unknown (never pruned
        # here, or forgotten): it is pruned when full, once per horizon.
        self._prune_hint: dict[int, int] = {}
        # page -> slots changed since its last pruning (xmax stamped, new versions): a targeted
        # pruning examines these (and their chains) only; page -> heap-only member -> its root.
        # A page missing from either is unknown here: its next pruning looks at every slot.
        self._prune_candidates: dict[int, list[int]] = {}
        self._hot_roots: dict[int, dict[int, int]] = {}
        # page -> its tuple count, for pages where vacuum found nothing left to do (access.vacuum);
        # every change to a page takes it out
        self.settled_pages: dict[int, int] = {}
        # pages with tuples inserted since their last pruning of every slot: an aborted insert is
        # no pruning candidate, so vacuum examines every slot of these (and of unknown pages) only
        self._inserted_pages: set[int] = set()
        # what pg_stat_user_tables counts (since this instance opened the heap)
        self.tuples_inserted = 0
        self.tuples_updated = 0
        self.tuples_hot_updated = 0
        self.tuples_deleted = 0
        self.activity = TableActivity()

    def __repr__(self) -> str:
        return f"Heap({self.rel_id}, {len(self.pagelist.pages)} pages)"

    def stat_row(self) -> dict[str, Any]:
        """pg_stat_user_tables' counters of this heap: its tuple counters and the estimates of
        live and dead tuples, vacuum and analyze counts and times (TableActivity)."""
        return self.activity.row(self.tuples_inserted, self.tuples_updated, self.tuples_hot_updated,
                                 self.tuples_deleted)

    async def _ready(self) -> PageList:
        pagelist = self.pagelist
        if not pagelist.loaded:
            await pagelist.load(PageKind.HEAP_META)
        return pagelist

    # -- placing new tuples --------------------------------------------------------------------------

    async def _prepare_insert(self) -> None:
        """Caches the pages a following synchronous _place may touch."""
        pagelist = self.pagelist
        if not pagelist.loaded:
            await pagelist.load(PageKind.HEAP_META)
        cache = self.cache
        await cache.room()
        for page_no in self._insert_pages():
            if page_no not in cache:
                await cache.read(page_no)
        if self.unused_slots:
            page_no = next(reversed(self.unused_slots))
            page = cache.get(page_no) or await cache.read(page_no)
            if page.free_space() < PRUNE_FOR_REUSE:
                self._prune(page_no, page)  # the slots need room for their tuples too

    def _insert_pages(self) -> list[int]:
        """The pages a following _place may read besides a reused slot's: the last meta page, the
        last heap page and the last page with free space."""
        pagelist = self.pagelist
        pages = [pagelist.meta_pages[-1]]
        if pagelist.pages:
            pages.append(pagelist.pages[-1])
        if self.free_pages:
            pages.append(self.free_pages[-1])
        return pages

    def _insert_ready(self) -> bool:
        """Would _prepare_insert find nothing to do (no back-pressure, every page it reads cached,
        no pruning)? Then the caller skips it: most inserts and updates."""
        cache = self.cache
        if not self.pagelist.loaded or cache.must_wait_for_room:
            return False
        get = cache.get
        for page_no in self._insert_pages():
            if get(page_no) is None:
                return False
        if self.unused_slots:
            page = get(next(reversed(self.unused_slots)))
            if page is None or page.free_space() < PRUNE_FOR_REUSE:
                return False
        return True

    def _reuse(self, mtr: MiniTransaction, page_no: int, page: Page, item: bytes) -> int:
        """SETs `item` into an LP_UNUSED slot of the page and returns the slot; -1 when it has none
        or too little room (the item needs no new item pointer)."""
        unused = self.unused_slots
        slots = unused.get(page_no)
        if not slots or page.free_space() + ITEM_POINTER_SIZE < len(item):
            return -1
        items = page.items
        while slots:
            slot = slots.pop()
            if slot < len(items) and not items[slot]:
                if not slots:
                    del unused[page_no]
                mtr.log(page_no, _SET, encode_set(slot, item))
                return slot
        del unused[page_no]
        return -1

    def _place(self, mtr: MiniTransaction, item: bytes) -> Tid:
        """Puts `item` in an LP_UNUSED slot or appends it to a page with room, creating a page if
        none has; synchronous."""
        need = len(item)
        if need > MAX_TUPLE:
            raise ProgramLimitExceeded(f"row is too big: size {need}, maximum size {MAX_TUPLE}")
        cache = self.cache
        pagelist = self.pagelist
        unused = self.unused_slots
        if unused:
            # one page per call: the one _prepare_insert cached and pruned
            page_no = next(reversed(unused))
            page = mtr.touched.get(page_no) or cache.get(page_no)
            if page is not None:
                slot = self._reuse(mtr, page_no, page, item)
                if slot >= 0:
                    return (page_no, slot)
                # no room even pruned: try the other pages first, this one again later
                later = unused.pop(page_no, None)
                if later:
                    self.unused_slots = {page_no: later, **unused}
        if pagelist.pages:
            page_no = pagelist.pages[-1]
            page = mtr.touched.get(page_no) or cache.get(page_no)
            if page is not None:
                # apply() checks the room itself (Page.free_space sums the items: check once)
                try:
                    mtr.log(page_no, _APPEND, item)
                    return (page_no, len(page.items) - 1)
                except InternalError:
                    if page.free_space() >= need:
                        raise
        free_pages = self.free_pages
        while free_pages:
            page_no = free_pages[-1]
            page = mtr.touched.get(page_no) or cache.get(page_no)
            if page is None:
                break
            if page.free_space() >= need:
                mtr.log(page_no, _APPEND, item)
                return (page_no, len(page.items) - 1)
            free_pages.pop()
        page_no = cache.control.allocate_page()
        page = mtr.log(page_no, RedoOp.INIT, encode_init(_HEAP))
        pagelist.add(mtr, page_no, PageKind.HEAP_META)
        mtr.log(page_no, _APPEND, item)
        # nothing to prune until an xmax is stamped here (inserts do not count, as in PostgreSQL:
        # an aborted insert's tuple waits for vacuum or the page's next pruning)
        self._prune_hint[page_no] = NO_HINT
        self._prune_candidates[page_no] = []
        self._hot_roots[page_no] = {}
        return (page_no, 0)

    # -- insert --------------------------------------------------------------------------------------

    async def insert(self, txn: TransactionLike, row: Row) -> Tid:
        """Stores a new tuple version written by `txn`'s current command."""
        data = encode_row(row)
        if not self._insert_ready():
            await self._prepare_insert()
        xid = txn.assign_xid()
        txn.note_write(self.rel_id)
        self.changes += 1
        with self.cache.mtr(xid, deferred=True) as mtr:
            tid = self._place(mtr, self._tuple(mtr, xid, txn.command_id, data))
        self.settled_pages.pop(tid[0], None)
        self._inserted_pages.add(tid[0])
        self.tuples_inserted += 1
        return tid

    def _tuple(self, mtr: MiniTransaction, xid: int, cid: int, data: bytes) -> bytes:
        """A new tuple item; a large row goes to overflow pages logged in the same MTR."""
        if len(data) > overflow.OVERFLOW_THRESHOLD:
            return new_tuple(xid, cid, overflow.store(mtr, self.cache, data), HEAP_ROW_OVERFLOW)
        return new_tuple(xid, cid, data)

    async def insert_many(self, txn: TransactionLike, rows: list[Row]) -> list[Tid]:
        """Inserts rows in bulk (COPY, INSERT ... SELECT): one MTR per page, the filled page as one IMAGE."""
        encoded = [encode_row(row) for row in rows]
        if any(len(data) > overflow.OVERFLOW_THRESHOLD for data in encoded):
            return [await self.insert(txn, row) for row in rows]
        xid = txn.assign_xid()
        txn.note_write(self.rel_id)
        self.changes += 1
        self.tuples_inserted += len(rows)
        cid = txn.command_id
        items = [new_tuple(xid, cid, data) for data in encoded]
        tids: list[Tid] = []
        i = 0
        cache = self.cache
        while i < len(items):
            await self._prepare_insert()
            with cache.mtr(xid, deferred=True) as mtr:
                page_no, slot = self._place(mtr, items[i])
                self.settled_pages.pop(page_no, None)
                self._inserted_pages.add(page_no)
                tids.append((page_no, slot))
                i += 1
                page = mtr.touched[page_no]
                room = page.free_space()
                end = len(page.items) - 1  # the batch goes after it (`slot` may be a reused one)
                batch: list[bytes] = []
                while i < len(items) and room >= len(items[i]) + 4:
                    item = items[i]
                    room -= len(item) + 4
                    batch.append(item)
                    tids.append((page_no, end + len(batch)))
                    i += 1
                if len(batch) > 8:
                    image = Page(page.kind, page.special, [*page.items, *batch], page.lsn)
                    mtr.log(page_no, RedoOp.IMAGE, encode_image(image))
                else:
                    for item in batch:
                        mtr.log(page_no, _APPEND, item)
        return tids

    # -- reads ---------------------------------------------------------------------------------------

    async def _page(self, page_no: int) -> Page | None:
        page = self.cache.get(page_no)
        if page is None:
            page = await self.cache.read_optional(page_no)
        return page

    async def fetch(self, txn: TransactionLike | None, snapshot: SnapshotLike, tid: Tid) -> Row | None:
        """The row at `tid` if `snapshot` sees that version, else None."""
        if txn is not None:
            txn.note_read(self.rel_id)
        page_no, slot = tid
        page = self.cache.get(page_no)
        if page is None:
            page = await self.cache.read_optional(page_no)
            if page is None:
                return None
        items = page.items
        if slot >= len(items) or page.kind != _HEAP:
            return None
        item = items[slot]
        if len(item) < HEADER_SIZE:
            return None  # empty, or an LP_REDIRECT (B-tree lookups name the chain's members)
        xmin, cmin, xmax, cmax, infomask, _, _ = unpack_header(item, 0)
        if not snapshot.visible(xmin, cmin, xmax, cmax):
            return None
        if infomask & HEAP_ROW_OVERFLOW:
            return await overflow.read_row(self.cache, item)
        return decode_row(item[HEADER_SIZE:])

    def fetch_cached(self, snapshot: SnapshotLike, tid: Tid) -> Row | None | bool:
        """fetch() for a caller that must not wait (the point-read fast path, no transaction):
        the row, None when `snapshot` does not see it, or False when its page is not cached or
        the row lives in overflow pages (then call fetch)."""
        page = self.cache.get(tid[0])
        if page is None:
            return False
        items = page.items
        slot = tid[1]
        if slot >= len(items) or page.kind != _HEAP:
            return None
        item = items[slot]
        if len(item) < HEADER_SIZE:
            return None  # empty, or an LP_REDIRECT (B-tree lookups name the chain's members)
        xmin, cmin, xmax, cmax, infomask, _, _ = unpack_header(item, 0)
        if not snapshot.visible(xmin, cmin, xmax, cmax):
            return None
        if infomask & HEAP_ROW_OVERFLOW:
            return False
        return decode_row(item[HEADER_SIZE:])

    def _decoded(self, page_no: int, page: Page) -> DecodedPage:
        derived = self.cache.derived
        decoded = derived.get(page_no)
        if decoded is None or type(decoded) is not DecodedPage:
            decoded = _decode_page(self.cache, page_no, page.items)
            derived[page_no] = decoded
        if decoded.completions != self.txns.completions:
            if decoded.completions < 0:
                self._classify(decoded, decoded.entries)
            elif decoded.pending:
                # Decided tuples stay decided: only the ones whose xids were running need a look.
                self._classify(decoded, decoded.pending)
            decoded.completions = self.txns.completions
        return decoded

    def _classify(self, decoded: DecodedPage, entries: list[tuple[Tid, Row, int, int, int, int]]) -> None:
        """Sorts `entries` into live (for everyone past the horizon), pending and dead."""
        status = self.txns.status
        fresh = entries is decoded.entries
        live: list[tuple[Tid, Row]] = [] if fresh else decoded.live
        pending: list[tuple[Tid, Row, int, int, int, int]] = []
        horizon = 0 if fresh else decoded.horizon
        last_xmin = -1
        last_state = IN_PROGRESS
        for entry in entries:
            xmin = entry[2]
            if xmin == last_xmin:
                state = last_state  # tuples of one page mostly share their inserter
            else:
                state = last_state = status(xmin)
                last_xmin = xmin
            if state == IN_PROGRESS:
                pending.append(entry)
                continue
            if state != COMMITTED:
                continue  # inserted by an aborted transaction: invisible to everyone
            xmax = entry[4]
            if xmax:
                state = status(xmax)
                if state == IN_PROGRESS:
                    pending.append(entry)
                    continue
                if state == COMMITTED:
                    if xmax > horizon:
                        horizon = xmax  # snapshots older than xmax still see it: they take the slow path
                    continue
            if xmin > horizon:
                horizon = xmin
            live.append((entry[0], entry[1]))
        decoded.live = live
        decoded.pending = pending
        decoded.horizon = horizon

    def visible_rows(self, page_no: int, page: Page, snapshot: SnapshotLike) -> list[tuple[Tid, Row]]:
        """The (tid, row) pairs of one cached page that `snapshot` sees."""
        decoded = self._decoded(page_no, page)
        if decoded.horizon < snapshot.xmin:
            # Every decided tuple was decided before any transaction the snapshot could miss.
            if not decoded.pending:
                return decoded.live.copy()
            batch = decoded.live.copy()
            candidates = decoded.pending
        else:
            batch = []
            candidates = decoded.entries
        visible = snapshot.visible
        for tid, row, xmin, cmin, xmax, cmax in candidates:
            if visible(xmin, cmin, xmax, cmax):
                batch.append((tid, row))
        return batch

    async def scan(self, txn: TransactionLike | None, snapshot: SnapshotLike, *,
                   counted: bool = True) -> AsyncIterator[list[tuple[Tid, Row]]]:
        """Batches (one per page) of (tid, row) visible to `snapshot`. A scan is `counted` in
        pg_stat_user_tables (seq_scan, and its rows in seq_tup_read, as PostgreSQL's heap scans:
        the executor's, COPY TO's, an index build's, a constraint check's); ANALYZE's is not."""
        if txn is not None:
            txn.note_read(self.rel_id)
        activity = self.activity
        if counted:
            activity.seq_scans += 1
        pagelist = await self._ready()
        pages = list(pagelist.pages)
        cache = self.cache
        get = cache.get
        for i, page_no in enumerate(pages):
            page = get(page_no)
            if page is None:
                ahead = [p for p in pages[i + 1 : i + READ_AHEAD] if p not in cache]
                if ahead:
                    reads = [asyncio.ensure_future(cache.read_optional(p)) for p in ahead]
                    try:
                        page = await cache.read_optional(page_no)
                    finally:
                        # read-ahead failures surface when the scan reaches those pages
                        await asyncio.gather(*reads, return_exceptions=True)
                else:
                    page = await cache.read_optional(page_no)
                if page is None:
                    continue
            try:
                batch = self.visible_rows(page_no, page, snapshot)
            except overflow.NeedPage:
                batch = await self._visible_rows_reading(page_no, snapshot)
            if batch:
                if counted:
                    activity.seq_tuples_read += len(batch)
                yield batch

    async def _visible_rows_reading(self, page_no: int, snapshot: SnapshotLike) -> list[tuple[Tid, Row]]:
        """visible_rows() for a page with overflow rows: reads their chunks into the cache first."""
        cache = self.cache
        for _ in range(1000):
            page = await cache.read(page_no)
            for item in page.items:
                if len(item) >= HEADER_SIZE and unpack_header(item, 0)[4] & HEAP_ROW_OVERFLOW:
                    for chunk_page in overflow.pages_of(item[HEADER_SIZE:]):
                        if chunk_page not in cache:
                            await cache.read(chunk_page)
            page = await cache.read(page_no)
            try:
                return self.visible_rows(page_no, page, snapshot)
            except overflow.NeedPage:
                continue
        raise InternalError(f"could not read the overflow rows of page {page_no}")

    async def count_pages(self) -> int:
        return len((await self._ready()).pages)
