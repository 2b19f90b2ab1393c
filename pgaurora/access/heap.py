"""Heap relations: tuple versions on pages, MVCC scans, and PostgreSQL's concurrent-update rules.

Owns inserting, reading, updating, deleting and row-locking tuple versions of one heap relation,
and the decoded-page cache that makes scans cheap. Not visibility rules (the snapshot object the
caller passes, txn.snapshot), not waits and deadlocks (the transaction manager, txn.manager),
not page lists (access.relmeta) or tuple layout (access.heaptuple).

Every change is redo through one MiniTransaction:

    insert   APPEND the tuple (plus INIT of a new page and its listing when the last page is full)
    delete   PATCH xmax/cmax/infomask/ctid of the old version
    update   APPEND the new version (same page if it fits) + PATCH the old one (xmax, ctid -> new)

Scans decode a page once and keep the result in the page cache's derived slot (dropped when the
page changes). A page whose tuples all had their fate decided before the snapshot's xmin is
returned as the precomputed list of live rows without a per-tuple visibility test.

Concurrent writers (PostgreSQL's heap_update / heap_lock_tuple outcomes):

    xmax absent or aborted     -> ours to change
    xmax in progress elsewhere -> wait for that transaction (deadlock-checked), then look again
    xmax committed             -> REPEATABLE READ / SERIALIZABLE: 40001
                                  READ COMMITTED: follow ctid to the newest version, let the
                                  caller's `recheck(row)` re-evaluate it (EvalPlanQual), retry
    xmax ours                  -> already changed by this transaction: nothing to do (None)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Any

from pgaurora.access import overflow
from pgaurora.access.heaptuple import (
    HEADER_SIZE,
    HEAP_KEYS_UPDATED,
    HEAP_ROW_OVERFLOW,
    HEAP_UPDATED,
    dead_to_all,
    new_tuple,
    unpack_header,
    xmax_patch,
)
from pgaurora.access.relmeta import PageList
from pgaurora.access.rowcodec import decode_row, encode_row
from pgaurora.access.txnview import (
    ABORTED,
    COMMITTED,
    IN_PROGRESS,
    ROW_KEY_SHARE,
    ROW_LOCK_MODES,
    ROW_NO_KEY_UPDATE,
    ROW_UPDATE,
    SnapshotLike,
    TransactionLike,
    TransactionManagerLike,
)
from pgaurora.errors import InternalError, LockNotAvailable, ProgramLimitExceeded, SerializationFailure
from pgaurora.logstore.page import PAGE_SIZE, Page, RedoOp, encode_image, encode_init, encode_set
from pgaurora.pagecache import MiniTransaction, PageCache, PageKind

Tid = tuple[int, int]
Row = tuple[Any, ...]
MAX_TUPLE = PAGE_SIZE - 24 - 8 - 16
READ_AHEAD = 16
FREE_ENOUGH = PAGE_SIZE // 5  # a page with this much room after pruning or vacuum takes inserts again
_RETRIES = 100_000
_APPEND = RedoOp.APPEND
_PATCH = RedoOp.PATCH
_HEAP = PageKind.HEAP


class Xmax(Enum):
    FREE = 0  # no live deleter: ours to change
    SELF = 1  # already changed by this transaction
    WAIT = 2  # a running transaction changed it
    CONCURRENT = 3  # a committed transaction changed it


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
        if item:
            xmin, cmin, xmax, cmax, infomask, _, _ = unpack_header(item, 0)
            if infomask & HEAP_ROW_OVERFLOW:
                row = decode_row(overflow.load(cache, item[HEADER_SIZE:]))
            else:
                row = decode_row(item[HEADER_SIZE:])
            append(((page_no, slot), row, xmin, cmin, xmax, cmax))
    return DecodedPage(entries)


async def _row_of(cache: PageCache, item: bytes) -> Row:
    """The row of one tuple item, reading its overflow pages if it has any."""
    if not unpack_header(item, 0)[4] & HEAP_ROW_OVERFLOW:
        return decode_row(item[HEADER_SIZE:])
    body = item[HEADER_SIZE:]
    for page_no in overflow.pages_of(body):
        await cache.read(page_no)
    for _ in range(1000):
        try:
            return decode_row(overflow.load(cache, body))
        except overflow.NeedPage as need:
            await cache.read(need.page_no)
    raise InternalError("could not read an overflow row")


class Heap:
    """One heap relation (its id is its metapage's page number)."""

    def __init__(self, cache: PageCache, txns: TransactionManagerLike, rel_id: int) -> None:
        self.cache = cache
        self.txns = txns
        self.rel_id = rel_id
        self.pagelist = PageList(cache, rel_id)
        self.free_pages: list[int] = []  # pages that vacuum left with room
        self._pruned_at: dict[int, int] = {}  # page -> horizon of its last pruning attempt

    def __repr__(self) -> str:
        return f"Heap({self.rel_id}, {len(self.pagelist.pages)} pages)"

    async def _ready(self) -> PageList:
        pagelist = self.pagelist
        if not pagelist.loaded:
            await pagelist.load(PageKind.HEAP_META)
        return pagelist

    # -- placing new tuples --------------------------------------------------------------------------

    async def _prepare_insert(self) -> None:
        """Caches the pages a following synchronous _place may touch."""
        pagelist = await self._ready()
        cache = self.cache
        await cache.room()
        if pagelist.meta_pages[-1] not in cache:
            await cache.read(pagelist.meta_pages[-1])
        if pagelist.pages and pagelist.pages[-1] not in cache:
            await cache.read(pagelist.pages[-1])
        if self.free_pages and self.free_pages[-1] not in cache:
            await cache.read(self.free_pages[-1])

    def _place(self, mtr: MiniTransaction, item: bytes) -> Tid:
        """Appends `item` to a page with room, creating a page if none has; synchronous."""
        need = len(item)
        if need > MAX_TUPLE:
            raise ProgramLimitExceeded(f"row is too big: size {need}, maximum size {MAX_TUPLE}")
        cache = self.cache
        pagelist = self.pagelist
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
        return (page_no, 0)

    def _prune(self, page_no: int, page: Page) -> bool:
        """Opportunistic pruning (PostgreSQL's heap_page_prune): empties the slots of tuples dead
        to everyone on a full page, as its own MTR. Index entries may still point at those slots:
        slots are never reused, so they just lead nowhere until vacuum or a B-tree split drops them.
        """
        horizon = self.txns.oldest_xmin()
        if self._pruned_at.get(page_no) == horizon:
            return False
        self._pruned_at[page_no] = horizon
        if len(self._pruned_at) > 10_000:
            self._pruned_at.clear()
        status = self.txns.status
        dead = [slot for slot, item in enumerate(page.items) if item and dead_to_all(item, status, horizon)]
        if not dead:
            return False
        with self.cache.mtr() as mtr:
            for slot in dead:
                mtr.log(page_no, RedoOp.SET, encode_set(slot, b""))
        return True

    # -- insert --------------------------------------------------------------------------------------

    async def insert(self, txn: TransactionLike, row: Row) -> Tid:
        """Stores a new tuple version written by `txn`'s current command."""
        data = encode_row(row)
        await self._prepare_insert()
        xid = txn.assign_xid()
        txn.note_write(self.rel_id)
        with self.cache.mtr(xid) as mtr:
            return self._place(mtr, self._tuple(mtr, xid, txn.command_id, data))

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
        cid = txn.command_id
        items = [new_tuple(xid, cid, data) for data in encoded]
        tids: list[Tid] = []
        i = 0
        cache = self.cache
        while i < len(items):
            await self._prepare_insert()
            with cache.mtr(xid) as mtr:
                page_no, slot = self._place(mtr, items[i])
                tids.append((page_no, slot))
                i += 1
                page = mtr.touched[page_no]
                room = page.free_space()
                batch: list[bytes] = []
                while i < len(items) and room >= len(items[i]) + 4:
                    item = items[i]
                    room -= len(item) + 4
                    batch.append(item)
                    tids.append((page_no, slot + len(batch)))
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
        if not item:
            return None
        xmin, cmin, xmax, cmax, infomask, _, _ = unpack_header(item, 0)
        if not snapshot.visible(xmin, cmin, xmax, cmax):
            return None
        if infomask & HEAP_ROW_OVERFLOW:
            return await _row_of(self.cache, item)
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

    async def scan(self, txn: TransactionLike | None, snapshot: SnapshotLike) -> AsyncIterator[list[tuple[Tid, Row]]]:
        """Batches (one per page) of (tid, row) visible to `snapshot`."""
        if txn is not None:
            txn.note_read(self.rel_id)
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
                    page = await cache.read_optional(page_no)
                    await asyncio.gather(*reads)
                else:
                    page = await cache.read_optional(page_no)
                if page is None:
                    continue
            try:
                batch = self.visible_rows(page_no, page, snapshot)
            except overflow.NeedPage:
                batch = await self._visible_rows_reading(page_no, snapshot)
            if batch:
                yield batch

    async def _visible_rows_reading(self, page_no: int, snapshot: SnapshotLike) -> list[tuple[Tid, Row]]:
        """visible_rows() for a page with overflow rows: reads their chunks into the cache first."""
        cache = self.cache
        for _ in range(1000):
            page = await cache.read(page_no)
            for item in page.items:
                if item and unpack_header(item, 0)[4] & HEAP_ROW_OVERFLOW:
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

    # -- changes to existing versions ----------------------------------------------------------------

    def _xmax_state(self, txn: TransactionLike, xmax: int) -> Xmax:
        if xmax == 0:
            return Xmax.FREE
        if txn.is_own(xmax):
            return Xmax.SELF
        state = self.txns.status(xmax)
        if state == IN_PROGRESS:
            return Xmax.WAIT
        if state == ABORTED:
            return Xmax.FREE
        return Xmax.CONCURRENT

    async def _header(self, tid: Tid) -> tuple[int, int, int, int, int, int, int] | None:
        page = await self._page(tid[0])
        if page is None or tid[1] >= len(page.items) or not page.items[tid[1]]:
            return None
        return unpack_header(page.items[tid[1]], 0)

    async def _newest(self, txn: TransactionLike, tid: Tid) -> tuple[Tid, Row] | None:
        """Follows the update chain from `tid` past committed updates; None if it ends deleted."""
        for _ in range(_RETRIES):
            header = await self._header(tid)
            if header is None:
                return None
            _, _, xmax, _, infomask, ctid_page, ctid_slot = header
            if self._xmax_state(txn, xmax) is Xmax.CONCURRENT:
                if not infomask & HEAP_UPDATED:
                    return None
                tid = (ctid_page, ctid_slot)
                continue
            page = await self._page(tid[0])
            assert page is not None
            return tid, await _row_of(self.cache, page.items[tid[1]])
        raise InternalError("update chain too long")

    async def _settle(
        self,
        txn: TransactionLike,
        tid: Tid,
        wait: str,
        recheck: Callable[[Row], Any] | None,
        strength: int = ROW_UPDATE,
    ) -> tuple[Tid, Any, Page, int] | None:
        """Waits and follows updates until the version at the returned tid is ours to change.

        Returns (tid, recheck result or True, page, slot); None when there is nothing to change
        (deleted concurrently in READ COMMITTED, rejected by recheck, changed by ourselves, or
        locked and wait='skip').
        """
        txns = self.txns
        verdict: Any = True
        rel_id = self.rel_id
        for _ in range(_RETRIES):
            page_no, slot = tid
            await txns.wait_row_unlocked(txn, (rel_id, page_no, slot), strength)
            await self._prepare_insert()
            page = self.cache.get(page_no)
            if page is None:
                page = await self._page(page_no)
                continue  # awaited: look again
            if slot >= len(page.items) or not page.items[slot]:
                return None
            _, _, xmax, _, infomask, ctid_page, ctid_slot = unpack_header(page.items[slot], 0)
            state = self._xmax_state(txn, xmax)
            if state is Xmax.FREE:
                return tid, verdict, page, slot
            if state is Xmax.SELF:
                return None
            if state is Xmax.WAIT:
                if wait == "skip":
                    return None
                if wait == "nowait":
                    raise LockNotAvailable("could not obtain lock on row")
                # Queue on the row first (PostgreSQL's tuple lock), so that when the other writer
                # ends, this waiter gets the row before any newcomer does.
                await txns.lock_row(txn, (rel_id, page_no, slot), strength, wait)
                await txns.wait_for_xid(txn, xmax)
                continue
            if txn.isolation != "read committed":
                what = "update" if infomask & HEAP_UPDATED else "delete"
                raise SerializationFailure(f"could not serialize access due to concurrent {what}")
            if not infomask & HEAP_UPDATED:
                return None
            newest = await self._newest(txn, (ctid_page, ctid_slot))
            if newest is None:
                return None
            tid = newest[0]
            if recheck is not None:
                verdict = recheck(newest[1])
                if verdict is None:
                    return None
        raise InternalError("could not settle a concurrently updated tuple")

    async def update(
        self,
        txn: TransactionLike,
        snapshot: SnapshotLike | None,
        tid: Tid,
        new_row: Row,
        recheck: Callable[[Row], Row | None] | None = None,
        *,
        key_changed: bool = True,
    ) -> Tid | None:
        """Replaces the version at `tid` by `new_row`; returns the new tid (None: nothing updated).

        In READ COMMITTED a concurrently updated row is followed to its newest version and
        `recheck(newest_row)` decides: the new row to write, or None to skip it.
        `key_changed=False` (no column of a unique index changes) takes the weaker NO KEY UPDATE
        lock strength, so FOR KEY SHARE lockers (foreign key checks) neither block it nor wait.
        """
        strength = ROW_UPDATE if key_changed else ROW_NO_KEY_UPDATE
        settled = await self._settle(txn, tid, "block", recheck, strength)
        if settled is None:
            return None
        tid, verdict, page, slot = settled
        if verdict is not True:
            new_row = verdict
        data = encode_row(new_row)
        xid = txn.assign_xid()
        txn.note_write(self.rel_id)
        cid = txn.command_id
        page_no = tid[0]
        free = page.free_space()
        if free < len(data) + HEADER_SIZE and self._prune(page_no, page):  # make room on this page
            free = page.free_space()
            if free >= FREE_ENOUGH and page_no not in self.free_pages:
                self.free_pages.append(page_no)
        with self.cache.mtr(xid) as mtr:
            item = self._tuple(mtr, xid, cid, data)
            if free >= len(item) and len(item) <= MAX_TUPLE:
                mtr.log(page_no, _APPEND, item)
                new_tid = (page_no, len(page.items) - 1)
            else:
                new_tid = self._place(mtr, item)
            infomask = unpack_header(page.items[slot], 0)[4] & ~(HEAP_UPDATED | HEAP_KEYS_UPDATED)
            infomask |= HEAP_UPDATED | (HEAP_KEYS_UPDATED if key_changed else 0)
            mtr.log(page_no, _PATCH, xmax_patch(slot, xid, cid, infomask, *new_tid))
        return new_tid

    async def delete(
        self,
        txn: TransactionLike,
        snapshot: SnapshotLike | None,
        tid: Tid,
        recheck: Callable[[Row], Any] | None = None,
    ) -> bool:
        """Deletes the version at `tid`; False when there was nothing to delete (see update)."""
        settled = await self._settle(txn, tid, "block", recheck)
        if settled is None:
            return False
        tid, _, page, slot = settled
        xid = txn.assign_xid()
        txn.note_write(self.rel_id)
        infomask = (unpack_header(page.items[slot], 0)[4] & ~HEAP_UPDATED) | HEAP_KEYS_UPDATED
        with self.cache.mtr(xid) as mtr:
            mtr.log(tid[0], _PATCH, xmax_patch(slot, xid, txn.command_id, infomask, 0, 0))
        return True

    async def lock(
        self,
        txn: TransactionLike,
        snapshot: SnapshotLike | None,
        tid: Tid,
        mode: str = "update",
        *,
        wait: str = "block",
        recheck: Callable[[Row], Any] | None = None,
    ) -> Tid | None:
        """SELECT ... FOR UPDATE / NO KEY UPDATE (exclusive) or FOR SHARE / KEY SHARE (shared).

        Returns the tid of the locked version (newer than `tid` after a concurrent update in
        READ COMMITTED), or None (row gone, recheck said no, or wait='skip' and it is locked).
        wait='nowait' raises 55P03.
        """
        strength = ROW_LOCK_MODES.get(mode)
        if strength is None:
            raise InternalError(f"unknown row lock mode {mode!r}")
        txn.note_read(self.rel_id)
        for _ in range(_RETRIES):
            settled = await self._settle_for_lock(txn, tid, wait, recheck, strength)
            if settled is None:
                return None
            tid = settled
            got = await self.txns.lock_row(txn, (self.rel_id, tid[0], tid[1]), strength, wait)
            if not got:
                return None
            header = await self._header(tid)
            if header is None:
                return None
            state = self._xmax_state(txn, header[2])
            if state is Xmax.FREE or state is Xmax.SELF or self._key_share_passes(strength, state, header[4]):
                return tid
        raise InternalError("could not lock a concurrently updated tuple")

    @staticmethod
    def _key_share_passes(strength: int, state: Xmax, infomask: int) -> bool:
        """FOR KEY SHARE does not wait for a running update that leaves the key alone."""
        return strength == ROW_KEY_SHARE and state is Xmax.WAIT and not infomask & HEAP_KEYS_UPDATED

    async def _settle_for_lock(
        self, txn: TransactionLike, tid: Tid, wait: str, recheck: Callable[[Row], Any] | None, strength: int
    ) -> Tid | None:
        for _ in range(_RETRIES):
            header = await self._header(tid)
            if header is None:
                return None
            xmax, infomask = header[2], header[4]
            state = self._xmax_state(txn, xmax)
            if state is Xmax.FREE or state is Xmax.SELF or self._key_share_passes(strength, state, infomask):
                return tid
            if state is Xmax.WAIT:
                if wait == "skip":
                    return None
                if wait == "nowait":
                    raise LockNotAvailable("could not obtain lock on row")
                await self.txns.lock_row(txn, (self.rel_id, tid[0], tid[1]), strength, wait)
                await self.txns.wait_for_xid(txn, xmax)
                continue
            if txn.isolation != "read committed":
                what = "update" if infomask & HEAP_UPDATED else "delete"
                raise SerializationFailure(f"could not serialize access due to concurrent {what}")
            if not infomask & HEAP_UPDATED:
                return None
            newest = await self._newest(txn, (header[5], header[6]))
            if newest is None:
                return None
            tid = newest[0]
            if recheck is not None and recheck(newest[1]) is None:
                return None
        raise InternalError("could not settle a concurrently updated tuple")
