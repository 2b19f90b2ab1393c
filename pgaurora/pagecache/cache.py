"""The instance's page cache: pages as of this instance's read point, kept current by its own redo.

Owns the cached `Page` objects, their LRU bound, reading a missing page from the volume and the
per-page "derived" slot where upper layers keep a decoded form of a page (dropped whenever the
page changes or is evicted). Not the page format (logstore.page), not who may change a page
(access, txn) and not the redo transport (logstore.Volume).

Pages are never written to storage. Changing a page means logging redo through a
MiniTransaction (pagecache.mtr), which applies the op to the cached page and appends the
records to the volume. Evicting a page just drops it: storage rebuilds it from the log.

    read(p) ─ hit ──────────────────────────────► Page
       └──── miss: wait until VDL covers p's last appended LSN (it may have been evicted
             before its redo was durable), then volume.read_page(p, VDL) ─► parse ─► cache
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol

from pgaurora.errors import InternalError
from pgaurora.logstore.page import MULTI_MAX_PART, MULTI_OPS, Page, RedoOp, encode_multi
from pgaurora.pagecache.mtr import MiniTransaction

if TYPE_CHECKING:
    from pgaurora.pagecache.control import ControlFile


class VolumeLike(Protocol):
    """The part of logstore.Volume the page cache uses (contracts.md, logstore)."""

    @property
    def vdl(self) -> int: ...

    def append_mtr(self, records: list[tuple[int, int, bytes]], xid: int = 0) -> int: ...

    async def wait_durable(self, lsn: int) -> None: ...

    async def read_page(self, page: int, read_lsn: int) -> bytes | None: ...


DEFAULT_CAPACITY = 50_000  # pages; about 400 MiB of logical pages
FLUSH_RECORDS = 4096  # a write-combining queue this long is flushed at once
# A queue nobody flushes (no commit follows, e.g. a vacuum pass or a long transaction) goes to
# the volume after this long. Not the next loop turn: a transaction's statements would each
# become a batch (and an fsync) at every segment, where one batch at its commit suffices.
FLUSH_DELAY = 0.05  # seconds
COMBINE_RECORDS = 32  # a page with this many queued records is sent as one IMAGE instead
RECORD_OVERHEAD = 56  # bytes of a redo record's frame header
PAGE_BYTES = 8192
log = logging.getLogger(__name__)


class PageCache:
    """Pages of one volume as of this instance's read point (its VDL), plus its own newer redo."""

    def __init__(self, volume: VolumeLike, capacity: int = DEFAULT_CAPACITY) -> None:
        self.volume = volume
        self.capacity = max(capacity, 16)
        self._pages: OrderedDict[int, Page] = OrderedDict()
        # Marks a cached page recently used (KeyError when it is not cached): the page lookups of
        # a read that already holds the page's derived form (a decoded B-tree node) need no get().
        self.touch = self._pages.move_to_end
        self.derived: dict[int, Any] = {}
        self._pinned: set[int] = set()
        self._busy: dict[int, int] = {}  # pages touched by an open MTR: never evicted mid-MTR
        self._pending_lsn: dict[int, int] = {}  # evicted pages whose last redo was not yet durable
        self._reads: dict[int, asyncio.Future[Page | None]] = {}
        self._control: ControlFile | None = None
        # write combining: committed deferred MTRs not yet handed to the volume
        self._queued: list[tuple[int, int, bytes]] = []
        self._queued_pages: dict[int, Page] = {}
        self._queued_xids: set[int] = set()
        self._flush_handle: asyncio.TimerHandle | None = None  # armed while records may be queued
        self._queued_at = 0.0  # loop time the oldest queued record was queued
        self.last_lsn = 0
        self.records_combined = 0
        self.records_merged = 0  # records that went to the volume inside a MULTI with others
        self.hits = 0
        self.misses = 0

    # -- start-up ----------------------------------------------------------------------------------

    async def open(self) -> ControlFile:
        """Reads (or on a new volume, creates) the control page; idempotent."""
        if self._control is None:
            from pgaurora.pagecache.control import ControlFile

            self._control = await ControlFile.load(self)
        return self._control

    @property
    def control(self) -> ControlFile:
        """The volume's allocator (page 0); `open()` must have run."""
        if self._control is None:
            raise InternalError("page cache used before open()")
        return self._control

    # -- lookup ------------------------------------------------------------------------------------

    def get(self, page_no: int) -> Page | None:
        """The cached page or None; never does I/O."""
        page = self._pages.get(page_no)
        if page is not None:
            self._pages.move_to_end(page_no)
        return page

    async def read(self, page_no: int) -> Page:
        """The page, reading it from the volume on a miss; a page never written raises InternalError."""
        page = await self.read_optional(page_no)
        if page is None:
            raise InternalError(f"could not read page {page_no}: it was never initialized")
        return page

    async def read_optional(self, page_no: int) -> Page | None:
        """Like read(), but a page that storage never saw is None."""
        page = self._pages.get(page_no)
        if page is not None:
            self._pages.move_to_end(page_no)
            self.hits += 1
            return page
        for _ in range(1000):
            pending = self._reads.get(page_no)
            if pending is not None:
                try:
                    return await asyncio.shield(pending)
                except asyncio.CancelledError:
                    if pending.cancelled():
                        continue  # the reader we joined was cancelled, not us: read again
                    raise
            page = self._pages.get(page_no)
            if page is not None:
                return page
            pending = asyncio.get_running_loop().create_future()
            self._reads[page_no] = pending
            try:
                self.misses += 1
                page = await self._read_from_volume(page_no)
                # A concurrent MTR may have created the page (INIT) while we were reading.
                cached = self._pages.get(page_no)
                if cached is not None:
                    page = cached
                elif page is not None:
                    self._install(page_no, page)
                pending.set_result(page)
            except asyncio.CancelledError:
                pending.cancel()
                raise
            except BaseException as exc:
                pending.set_exception(exc)
                pending.exception()  # marks it retrieved: joined readers get it too
                raise
            finally:
                del self._reads[page_no]
            return page
        raise InternalError(f"could not read page {page_no}: every read was cancelled")

    async def _read_from_volume(self, page_no: int) -> Page | None:
        volume = self.volume
        need = self._pending_lsn.pop(page_no, 0)
        if need > volume.vdl:
            await volume.wait_durable(need)
        image = await volume.read_page(page_no, volume.vdl)
        if image is None:
            return None
        return Page.from_bytes(image)

    @property
    def must_wait_for_room(self) -> bool:
        """Whether room() would wait now (the volume allows no new LSNs)."""
        return bool(getattr(self.volume, "over_lal", False))

    async def room(self) -> None:
        """Back-pressure: waits while the volume allows no new LSNs (VDL + LAL)."""
        if self.must_wait_for_room:
            await self.volume.wait_for_room()  # type: ignore[attr-defined]

    async def wait_durable(self, lsn: int) -> None:
        """Returns once VDL >= lsn."""
        if lsn > self.last_lsn:
            self.last_lsn = lsn
        if lsn > self.volume.vdl:
            await self.volume.wait_durable(lsn)

    # -- membership --------------------------------------------------------------------------------

    def _install(self, page_no: int, page: Page) -> None:
        pages = self._pages
        pages[page_no] = page
        if len(pages) > self.capacity:
            self._evict_some()

    def _evict_some(self) -> None:
        pages = self._pages
        budget = len(pages) - self.capacity
        vdl = self.volume.vdl
        look = budget + len(self._pinned) + len(self._busy) + len(self._queued_pages) + 8
        for page_no in list(islice(pages, look)):  # the least recently used first
            if budget <= 0:
                break
            if page_no in self._pinned or page_no in self._busy or page_no in self._queued_pages:
                continue
            page = pages.pop(page_no)
            self.derived.pop(page_no, None)
            if page.lsn > vdl:
                self._pending_lsn[page_no] = page.lsn
            budget -= 1
        if len(self._pending_lsn) > 10_000:
            self._pending_lsn = {p: lsn for p, lsn in self._pending_lsn.items() if lsn > vdl}

    def evict(self, page_no: int) -> None:
        """Drops a page (the next read rebuilds it from storage)."""
        if page_no in self._queued_pages:
            self.flush()
        page = self._pages.pop(page_no, None)
        self.derived.pop(page_no, None)
        if page is not None:
            self._pending_lsn[page_no] = max(page.lsn, self._pending_lsn.get(page_no, 0))

    def evict_all(self) -> None:
        """Drops every unpinned page (tests and memory pressure)."""
        for page_no in [p for p in self._pages if p not in self._pinned]:
            self.evict(page_no)

    def pin(self, page_no: int) -> None:
        """Keeps a page cached for good (control and clog pages, read synchronously)."""
        self._pinned.add(page_no)

    def unpin(self, page_no: int) -> None:
        self._pinned.discard(page_no)

    def __len__(self) -> int:
        return len(self._pages)

    def __contains__(self, page_no: int) -> bool:
        return page_no in self._pages

    # -- changes -----------------------------------------------------------------------------------

    def mtr(self, xid: int = 0, deferred: bool = False) -> MiniTransaction:
        """A new mini-transaction: changes logged through it are applied here and appended as one unit.

        `deferred=True` lets its records wait in the write-combining queue (its commit() returns 0);
        use it where nobody waits for that LSN (row changes: the transaction commit flushes them).
        """
        return MiniTransaction(self, xid, deferred)

    # -- write combining ---------------------------------------------------------------------------

    def _queue(self, records: list[tuple[int, int, bytes]], xid: int, touched: dict[int, Page]) -> None:
        queued = self._queued
        flush_now = False
        if not queued:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                flush_now = True  # no loop to flush it later
            else:
                self._queued_at = loop.time()
                if self._flush_handle is None:
                    # One timer outlives many flushes (most queues are flushed by their
                    # transaction's commit long before it fires): none armed and cancelled per
                    # transaction.
                    self._flush_handle = loop.call_later(FLUSH_DELAY, self._flush_soon)
        queued.extend(records)
        self._queued_pages.update(touched)
        self._queued_xids.add(xid)
        if flush_now or len(queued) >= FLUSH_RECORDS:
            self.flush()

    def _flush_soon(self) -> None:
        """The timer: flushes a queue FLUSH_DELAY old; re-arms for a younger one, stops when empty."""
        self._flush_handle = None
        if not self._queued:
            return
        loop = asyncio.get_running_loop()
        wait = self._queued_at + FLUSH_DELAY - loop.time()
        if wait > 0.001:
            self._flush_handle = loop.call_later(wait, self._flush_soon)
            return
        try:
            self.flush()
        except Exception as exc:  # the volume is closed or fenced: the next immediate MTR raises it
            log.warning("could not hand queued redo to the volume: %s", exc)

    def flush(self) -> int:
        """Hands every queued record to the volume as one MTR; returns its LSN (0 if none)."""
        records = self._queued
        if not records:
            return 0
        pages, xids = self._queued_pages, self._queued_xids
        self._queued, self._queued_pages, self._queued_xids = [], {}, set()
        records = self._combine(records)
        if len(records) > 1:
            records = self._merge_runs(records)
        lsn = self.volume.append_mtr(records, next(iter(xids)) if len(xids) == 1 else 0)
        for page in pages.values():
            page.lsn = lsn
        self.last_lsn = lsn
        return lsn

    def _combine(self, records: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes]]:
        """Replaces a page's long run of records by one IMAGE of the page as it is now.

        The queued records are appended as one MTR (atomic), so intermediate page states never
        need to exist in storage. Pages an open MTR is changing keep their records.
        """
        if len(records) < COMBINE_RECORDS:
            return records
        stats: dict[int, list[int]] = {}
        for i, (page_no, _, payload) in enumerate(records):
            entry = stats.get(page_no)
            if entry is None:
                stats[page_no] = [1, len(payload) + RECORD_OVERHEAD, i]
            else:
                entry[0] += 1
                entry[1] += len(payload) + RECORD_OVERHEAD
                entry[2] = i
        busy = self._busy
        pages = self._pages
        last = {
            page_no: entry[2]
            for page_no, entry in stats.items()
            if (entry[0] >= COMBINE_RECORDS or entry[1] > PAGE_BYTES + RECORD_OVERHEAD)
            and page_no not in busy
            and page_no in pages
        }
        if not last:
            return records
        combined: list[tuple[int, int, bytes]] = []
        for i, record in enumerate(records):
            page_no = record[0]
            at = last.get(page_no)
            if at is None:
                combined.append(record)
            elif at == i:
                combined.append((page_no, RedoOp.IMAGE, pages[page_no].to_bytes()))
        self.records_combined += len(records) - len(combined)
        return combined

    def _merge_runs(self, records: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes]]:
        """Each run of consecutive records on one page as one MULTI record.

        A HOT update logs its new version and the old one's xmax on one page (with the slots a
        pruning freed before them): one record instead of two to four, so each of six segments
        decodes, indexes, applies and collects fewer records, and the page's redo chain is
        shorter. The queue is one MTR, so a run may span the MTRs queued in it. INIT and IMAGE
        stay records of their own (a page's chain starts at one; storage looks for them).
        """
        previous = -1
        for page_no, _, _ in records:
            if page_no == previous:
                break
            previous = page_no
        else:
            return records  # no two in a row on one page: nothing to merge
        merged: list[tuple[int, int, bytes]] = []
        run: list[tuple[int, bytes]] = []
        run_page = -1
        for record in records:
            page_no, op, payload = record
            if op in MULTI_OPS and len(payload) <= MULTI_MAX_PART:
                if page_no == run_page:
                    run.append((op, payload))
                    continue
                self._end_run(merged, run_page, run)
                run = [(op, payload)]
                run_page = page_no
                continue
            self._end_run(merged, run_page, run)
            run = []
            run_page = -1
            merged.append(record)
        self._end_run(merged, run_page, run)
        self.records_merged += len(records) - len(merged)
        return merged

    @staticmethod
    def _end_run(merged: list[tuple[int, int, bytes]], page_no: int, run: list[tuple[int, bytes]]) -> None:
        if len(run) > 1:
            merged.append((page_no, RedoOp.MULTI, encode_multi(run)))
        elif run:
            merged.append((page_no, run[0][0], run[0][1]))

    async def sync(self) -> int:
        """Flushes the queue and waits until everything handed to the volume so far is durable."""
        lsn = self.flush() or self.last_lsn
        await self.wait_durable(lsn)
        return lsn

    def _page_for_update(self, page_no: int) -> Page | None:
        return self._pages.get(page_no)

    def _put_new(self, page_no: int, page: Page) -> None:
        self._install(page_no, page)
