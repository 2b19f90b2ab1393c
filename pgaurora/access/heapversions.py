"""Changing existing heap tuple versions: update, delete, row locks, and concurrent writers.

Owns PostgreSQL's heap_update / heap_delete / heap_lock_tuple outcomes for one heap relation
(mixed into access.heap.Heap). Not placing new tuples or scans (access.heap), not waits and
deadlocks (the transaction manager, txn.manager).

    xmax absent or aborted     -> ours to change
    xmax in progress elsewhere -> queue on the row lock, wait for that transaction
                                  (deadlock-checked), then look again
    xmax committed             -> REPEATABLE READ / SERIALIZABLE: 40001
                                  READ COMMITTED: follow ctid to the newest version, let the
                                  caller's `recheck(row)` re-evaluate it (EvalPlanQual), retry
    xmax ours                  -> already changed by this transaction: nothing to do (None)

Following ctid, each step checks that the next version's xmin is the xmax just read
(PostgreSQL's priorXmax check in heap_lock_updated_tuple / EvalPlanQualFetch): pruning may have
emptied that slot and handed it to an unrelated tuple; then the row counts as deleted.

    update   HOT when the caller's `same_keys(old, new)` says no indexed column changes and the
             new version fits on the old one's page (pruned first if full): the new version is
             heap-only (no index entries: the caller asks is_heap_only), the old one
             HEAP_HOT_UPDATED. Otherwise APPEND the new version, or SET it into an LP_UNUSED
             slot (same page if it fits). Then PATCH the old one (xmax, ctid -> new)
    delete   PATCH xmax/cmax/infomask/ctid of the old version
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from pgaurora.access import overflow
from pgaurora.access.heaptuple import (
    HEADER_SIZE,
    HEAP_HOT_UPDATED,
    HEAP_KEYS_UPDATED,
    HEAP_ONLY_TUPLE,
    HEAP_ROW_OVERFLOW,
    HEAP_UPDATED,
    unpack_header,
    with_infomask,
    xmax_patch,
)
from pgaurora.access.rowcodec import decode_row, encode_row

if TYPE_CHECKING:
    from pgaurora.access.heapprune import PrunePlan
from pgaurora.access.txnview import (
    ABORTED,
    IN_PROGRESS,
    ROW_KEY_SHARE,
    ROW_LOCK_MODES,
    ROW_NO_KEY_UPDATE,
    ROW_UPDATE,
    SnapshotLike,
    TransactionLike,
    TransactionManagerLike,
)
from pgaurora.errors import InternalError, LockNotAvailable, SerializationFailure
from pgaurora.logstore.page import PAGE_SIZE, Page, RedoOp, encode_set
from pgaurora.pagecache import MiniTransaction, PageCache

Tid = tuple[int, int]
Row = tuple[Any, ...]
MAX_TUPLE = PAGE_SIZE - 24 - 8 - 16
FREE_ENOUGH = PAGE_SIZE // 5  # a page with this much room after pruning or vacuum takes inserts again
_RETRIES = 100_000
_APPEND = RedoOp.APPEND
_PATCH = RedoOp.PATCH
_SET = RedoOp.SET


class Xmax(Enum):
    FREE = 0  # no live deleter: ours to change
    SELF = 1  # already changed by this transaction
    WAIT = 2  # a running transaction changed it
    CONCURRENT = 3  # a committed transaction changed it


class HeapVersions:
    """Update, delete and lock of one heap's tuple versions (a mixin of access.heap.Heap)."""

    cache: PageCache
    txns: TransactionManagerLike
    rel_id: int
    free_pages: list[int]
    unused_slots: dict[int, list[int]]
    name: str
    changes: int
    tuples_updated: int
    tuples_hot_updated: int
    tuples_deleted: int

    def _no_lock(self) -> LockNotAvailable:
        """FOR UPDATE NOWAIT on a row another transaction changes or locks (55P03)."""
        where = f' in relation "{self.name}"' if self.name else ""
        return LockNotAvailable(f"could not obtain lock on row{where}")

    if TYPE_CHECKING:

        async def _prepare_insert(self) -> None: ...

        def _insert_ready(self) -> bool: ...

        async def _page(self, page_no: int) -> Page | None: ...

        def _place(self, mtr: MiniTransaction, item: bytes) -> Tid: ...

        def _reuse(self, mtr: MiniTransaction, page_no: int, page: Page, item: bytes) -> int: ...

        def _prune(self, page_no: int, page: Page, horizon: int | None = None, *, full: bool = False) -> bool: ...

        def _prune_plan(
            self, page_no: int, page: Page, horizon: int | None = None, *, full: bool = False
        ) -> PrunePlan | None: ...

        def _apply_prune(self, mtr: MiniTransaction, page_no: int, plan: PrunePlan, taken: int = -1) -> None: ...

        def _note_change(self, page_no: int, xid: int, slot: int, other_slot: int = -1) -> None: ...

        def _note_hot(self, page_no: int, old_slot: int, new_slot: int) -> None: ...

        def _tuple(self, mtr: MiniTransaction, xid: int, cid: int, data: bytes) -> bytes: ...

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
        """The tuple header at `tid`; None for an empty slot or an LP_REDIRECT."""
        page = await self._page(tid[0])
        if page is None or tid[1] >= len(page.items) or len(page.items[tid[1]]) < HEADER_SIZE:
            return None
        return unpack_header(page.items[tid[1]], 0)

    async def _newest(self, txn: TransactionLike, tid: Tid, prior_xmax: int) -> tuple[Tid, Row, int] | None:
        """Follows the update chain from `tid` (the ctid of a version whose xmax is `prior_xmax`)
        past committed updates; None if it ends deleted, or if a version on the way was pruned
        and its slot now holds an unrelated tuple (xmin != the previous version's xmax).
        Returns (tid, row, its xmin)."""
        for _ in range(_RETRIES):
            header = await self._header(tid)
            if header is None or header[0] != prior_xmax:
                return None
            _, _, xmax, _, infomask, ctid_page, ctid_slot = header
            if self._xmax_state(txn, xmax) is Xmax.CONCURRENT:
                if not infomask & HEAP_UPDATED:
                    return None
                tid = (ctid_page, ctid_slot)
                prior_xmax = xmax
                continue
            page = await self._page(tid[0])
            assert page is not None
            return tid, await overflow.read_row(self.cache, page.items[tid[1]]), header[0]
        raise InternalError("update chain too long")

    async def _settle(
        self,
        txn: TransactionLike,
        tid: Tid,
        wait: str,
        recheck: Callable[[Row], Any] | None,
        strength: int = ROW_UPDATE,
        queued: list[tuple[int, int, int]] | None = None,
    ) -> tuple[Tid, Any, Page, int, Row | None] | None:
        """Waits and follows updates until the version at the returned tid is ours to change.

        Returns (tid, recheck result or True, page, slot, the newest row recheck was given or
        None); None when there is nothing to change (deleted concurrently in READ COMMITTED,
        rejected by recheck, changed by ourselves, or locked and wait='skip').
        """
        txns = self.txns
        verdict: Any = True
        rechecked: Row | None = None
        expect_xmin = 0  # once the chain was followed: the xmin the version at `tid` must have
        rel_id = self.rel_id
        for _ in range(_RETRIES):
            page_no, slot = tid
            # Queue behind this version's row lockers only while it may still be ours to change:
            # not when this transaction already changed it (PostgreSQL's TM_SelfModified), nor when
            # a committed update replaced it (the chain is followed to the newest version, whose
            # queue counts). Waiting there would wait for a queued waiter that itself waits for
            # us: a deadlock PostgreSQL does not have (it takes the tuple lock only to wait).
            page = self.cache.get(page_no)
            header = None
            state = Xmax.FREE
            if page is not None and slot < len(page.items) and len(page.items[slot]) >= HEADER_SIZE:
                header = unpack_header(page.items[slot], 0)
                state = self._xmax_state(txn, header[2])
                if state is Xmax.SELF:
                    return None
            # What this looked at stays true unless one of the waits below really waits.
            awaited = False
            if state is not Xmax.CONCURRENT:
                key = (rel_id, page_no, slot)
                if not txns.row_unlocked(txn, key, strength):
                    await txns.wait_row_unlocked(txn, key, strength)
                    awaited = True
            if not self._insert_ready():
                await self._prepare_insert()
                awaited = True
            if awaited or header is None:
                page = self.cache.get(page_no)
                if page is None:
                    page = await self._page(page_no)
                    continue  # awaited: look again
                if slot >= len(page.items) or len(page.items[slot]) < HEADER_SIZE:
                    return None
                header = unpack_header(page.items[slot], 0)
                state = self._xmax_state(txn, header[2])
            assert page is not None
            xmin, _, xmax, _, infomask, ctid_page, ctid_slot = header
            if expect_xmin and xmin != expect_xmin:
                return None  # pruned while we waited; the slot holds another row now
            if state is Xmax.FREE:
                return tid, verdict, page, slot, rechecked
            if state is Xmax.SELF:
                return None
            if state is Xmax.WAIT:
                if wait == "skip":
                    return None
                if wait == "nowait":
                    raise self._no_lock()
                # Queue on the row first (PostgreSQL's tuple lock), so that when the other writer
                # ends, this waiter gets the row before any newcomer does.
                key = (rel_id, page_no, slot)
                await txns.lock_row(txn, key, strength, wait)
                if queued is not None:
                    queued.append(key)  # the caller lets go once its xmax is on the row
                await txns.wait_for_xid(txn, xmax)
                continue
            # Committed, or committing (its record not durable yet): this returns at once and
            # makes this transaction depend on that commit (txn.manager, early lock release).
            await txns.wait_for_xid(txn, xmax)
            if txn.isolation != "read committed":
                what = "update" if infomask & HEAP_UPDATED else "delete"
                raise SerializationFailure(f"could not serialize access due to concurrent {what}")
            if not infomask & HEAP_UPDATED:
                return None
            newest = await self._newest(txn, (ctid_page, ctid_slot), xmax)
            if newest is None:
                return None
            tid, _, expect_xmin = newest
            rechecked = newest[1]
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
        same_keys: Callable[[Row, Row], bool] | None = None,
        old_row: Row | None = None,
    ) -> Tid | None:
        """Replaces the version at `tid` by `new_row`; returns the new tid (None: nothing updated).

        In READ COMMITTED a concurrently updated row is followed to its newest version and
        `recheck(newest_row)` decides: the new row to write, or None to skip it.
        `key_changed=False` (no column of a unique index changes) takes the weaker NO KEY UPDATE
        lock strength, so FOR KEY SHARE lockers (foreign key checks) neither block it nor wait.
        `same_keys(old, new)` -> True when no index entry would change: the update may then be
        HOT (is_heap_only(new tid) tells; the caller inserts no index entries for it). `old_row`
        is the row the caller read at `tid` (saves decoding it).
        """
        strength = ROW_UPDATE if key_changed else ROW_NO_KEY_UPDATE
        queued: list[tuple[int, int, int]] = []
        try:
            return await self._update(txn, tid, new_row, recheck, key_changed, strength, queued, same_keys, old_row)
        finally:
            for key in queued:
                self.txns.unlock_row(txn, key, strength)

    async def _update(
        self,
        txn: TransactionLike,
        tid: Tid,
        new_row: Row,
        recheck: Callable[[Row], Row | None] | None,
        key_changed: bool,
        strength: int,
        queued: list[tuple[int, int, int]],
        same_keys: Callable[[Row, Row], bool] | None,
        old_row: Row | None,
    ) -> Tid | None:
        settled = await self._settle(txn, tid, "block", recheck, strength, queued)
        if settled is None:
            return None
        # From here to the PATCH nothing awaits: the version stays ours to change.
        tid, verdict, page, slot, rechecked = settled
        if verdict is not True:
            new_row = verdict
        old_item = page.items[slot]
        hot = False
        if same_keys is not None:
            if rechecked is not None:
                old_row = rechecked
            elif old_row is None and not unpack_header(old_item, 0)[4] & HEAP_ROW_OVERFLOW:
                old_row = decode_row(old_item[HEADER_SIZE:])
            hot = old_row is not None and same_keys(old_row, new_row)
        data = encode_row(new_row)
        xid = txn.assign_xid()
        txn.note_write(self.rel_id)
        self.changes += 1
        cid = txn.command_id
        page_no = tid[0]
        # a full page is pruned first, in the same MTR: a HOT version takes a slot it frees
        prune = self._prune_plan(page_no, page) if page.free_space() < len(data) + HEADER_SIZE else None
        with self.cache.mtr(xid, deferred=True) as mtr:
            item = self._tuple(mtr, xid, cid, data)
            new_tid: Tid | None = None
            if prune is not None:
                taken = min(prune.unused) if hot and prune.unused and len(item) <= MAX_TUPLE else -1
                self._apply_prune(mtr, page_no, prune, taken)
                if taken >= 0:
                    try:
                        mtr.log(page_no, _SET, encode_set(taken, with_infomask(item, HEAP_ONLY_TUPLE)))
                        new_tid = (page_no, taken)
                    except InternalError:  # no room even so: it stays LP_UNUSED
                        mtr.log(page_no, _SET, encode_set(taken, b""))
                        self.unused_slots.setdefault(page_no, []).append(taken)
                        self.unused_slots[page_no].sort(reverse=True)
                if page.free_space() >= FREE_ENOUGH and page_no not in self.free_pages:
                    self.free_pages.append(page_no)
            if new_tid is not None:
                pass
            elif hot and len(item) <= MAX_TUPLE:
                # heap-only: an LP_UNUSED slot of this page, else appended to it
                hot_item = with_infomask(item, HEAP_ONLY_TUPLE)
                reused = self._reuse(mtr, page_no, page, hot_item)
                if reused >= 0:
                    new_tid = (page_no, reused)
                elif page.free_space() >= len(hot_item):
                    mtr.log(page_no, _APPEND, hot_item)
                    new_tid = (page_no, len(page.items) - 1)
                else:
                    hot = False
            else:
                hot = False
            if new_tid is None:
                new_tid = self._place_version(mtr, page_no, page, item)
            infomask = unpack_header(old_item, 0)[4] & ~(HEAP_UPDATED | HEAP_KEYS_UPDATED | HEAP_HOT_UPDATED)
            infomask |= HEAP_UPDATED | (HEAP_KEYS_UPDATED if key_changed else 0) | (HEAP_HOT_UPDATED if hot else 0)
            mtr.log(page_no, _PATCH, xmax_patch(slot, xid, cid, infomask, *new_tid))
        # the new version dies if this transaction aborts
        if new_tid[0] == page_no:
            self._note_change(page_no, xid, slot, new_tid[1])
        else:
            self._note_change(page_no, xid, slot)
            self._note_change(new_tid[0], xid, new_tid[1])
        self.tuples_updated += 1
        if hot:
            self._note_hot(page_no, slot, new_tid[1])
            self.tuples_hot_updated += 1
        return new_tid

    def _place_version(self, mtr: MiniTransaction, page_no: int, page: Page, item: bytes) -> Tid:
        """Where a non-HOT new version goes: the old page's LP_UNUSED slots, another page's, the
        old page's free space, else wherever _place finds room."""
        if len(item) > MAX_TUPLE:
            return self._place(mtr, item)  # raises 54000
        reused = self._reuse(mtr, page_no, page, item)
        if reused >= 0:
            return (page_no, reused)
        if self.unused_slots:
            return self._place(mtr, item)  # no new item pointer
        if page.free_space() >= len(item):
            mtr.log(page_no, _APPEND, item)
            return (page_no, len(page.items) - 1)
        return self._place(mtr, item)

    async def delete(
        self,
        txn: TransactionLike,
        snapshot: SnapshotLike | None,
        tid: Tid,
        recheck: Callable[[Row], Any] | None = None,
    ) -> bool:
        """Deletes the version at `tid`; False when there was nothing to delete (see update)."""
        queued: list[tuple[int, int, int]] = []
        try:
            return await self._delete(txn, tid, recheck, queued)
        finally:
            for key in queued:
                self.txns.unlock_row(txn, key, ROW_UPDATE)

    async def _delete(
        self,
        txn: TransactionLike,
        tid: Tid,
        recheck: Callable[[Row], Any] | None,
        queued: list[tuple[int, int, int]],
    ) -> bool:
        settled = await self._settle(txn, tid, "block", recheck, ROW_UPDATE, queued)
        if settled is None:
            return False
        tid, _, page, slot, _ = settled
        xid = txn.assign_xid()
        txn.note_write(self.rel_id)
        self.changes += 1
        infomask = unpack_header(page.items[slot], 0)[4] & ~(HEAP_UPDATED | HEAP_HOT_UPDATED)
        infomask |= HEAP_KEYS_UPDATED
        with self.cache.mtr(xid, deferred=True) as mtr:
            mtr.log(tid[0], _PATCH, xmax_patch(slot, xid, txn.command_id, infomask, 0, 0))
        self._note_change(tid[0], xid, slot)
        self.tuples_deleted += 1
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
            try:
                got = await self.txns.lock_row(txn, (self.rel_id, tid[0], tid[1]), strength, wait)
            except LockNotAvailable:
                if wait == "nowait":
                    raise self._no_lock() from None
                raise
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
                    raise self._no_lock()
                await self.txns.lock_row(txn, (self.rel_id, tid[0], tid[1]), strength, wait)
                await self.txns.wait_for_xid(txn, xmax)
                continue
            await self.txns.wait_for_xid(txn, xmax)  # at once; notes a dependency (see _settle)
            if txn.isolation != "read committed":
                what = "update" if infomask & HEAP_UPDATED else "delete"
                raise SerializationFailure(f"could not serialize access due to concurrent {what}")
            if not infomask & HEAP_UPDATED:
                return None
            newest = await self._newest(txn, (header[5], header[6]), xmax)
            if newest is None:
                return None
            tid = newest[0]
            if recheck is not None and recheck(newest[1]) is None:
                return None
        raise InternalError("could not settle a concurrently updated tuple")
