"""B-tree indexes: a B+tree of (key, heap tid) entries with right-linked leaves.

Owns searching, inserting (a page split, access.btreesplit, is part of the insert's MTR),
deleting entries, range scans, and the unique check. Not key order or node layout
(access.btreekey), not heap visibility beyond the unique check (the executor fetches heap rows
with its snapshot).

    metapage (relation id): special = root u32 | level u16 | key_count u16
    root ─► internal nodes ─► leaves ─right─► leaves ─right─► ...

Changes run synchronously once every page they may touch is cached: `_sync` retries a
synchronous attempt after awaiting each missing page, so no other coroutine can change the tree
half way through a descent or a split (the event loop is the latch). Entries only ever move
right (splits), so a range scan that paused between batches resumes from its leaf by key.
Pages are never merged; vacuum removes entries and leaves empty leaves in place.

An entry points at the root of a HOT chain (access.heaptuple): lookups and range scans return
the tid of every member of the chain (root first), so the caller's fetch with its snapshot finds
the one version it sees and knows its real tid; a root without HOT updates is one cheap check.
The unique check and dead-entry cleanup look at whole chains too.

The unique check runs inside the same synchronous attempt as the insert: it looks at the heap
tuples of equal keys; a tuple whose inserter or deleter is still running makes the inserter
wait for that transaction and try again (two sessions inserting the same key: the second waits,
then gets 23505, or succeeds if the first rolled back).
"""

from __future__ import annotations

import asyncio
import struct
from bisect import bisect_left, bisect_right
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pgaurora.access.btreechain import chain_of, expand, members, members_cached
from pgaurora.access.btreekey import (
    MAX_KEY,
    NULL_KEY,
    Node,
    has_null,
    internal_item,
    leaf_item,
    node_special,
    normalize,
)
from pgaurora.access.btreesplit import split
from pgaurora.access.heaptuple import HEADER_SIZE, chain_dead, unpack_header
from pgaurora.access.rowcodec import decode_row
from pgaurora.access.txnview import ABORTED, COMMITTED, IN_PROGRESS, TransactionLike, TransactionManagerLike
from pgaurora.errors import InternalError, ProgramLimitExceeded, UndefinedTable, UniqueViolation
from pgaurora.logstore.page import (
    Page,
    RedoOp,
    encode_delete,
    encode_image,
    encode_init,
    encode_insert,
)
from pgaurora.pagecache import MiniTransaction, PageCache, PageKind

Tid = tuple[int, int]
Key = tuple[Any, ...]
_META = struct.Struct("<IHH")
MAX_ENTRY = 2704
CLEANUP_DUPLICATES = 32  # a lookup finding more entries for one key cleans the dead ones out  # PostgreSQL's btree version 4 maximum index row size
_ATTEMPTS = 10_000
YIELD_EVERY = 16  # leaves a vacuum walk visits between two turns of the event loop
T = TypeVar("T")


def btree_meta_special(special: bytes) -> tuple[int, int, int]:
    """(root, level, key_count) from a B-tree metapage's special area."""
    return _META.unpack(special)


class _NeedPage(Exception):
    def __init__(self, page_no: int) -> None:
        self.page_no = page_no


class _NeedXid(Exception):
    def __init__(self, xid: int) -> None:
        self.xid = xid


@dataclass(frozen=True, slots=True)
class UniqueCheck:
    """Asks insert() to enforce uniqueness against live heap tuples of `heap`."""

    txn: TransactionLike
    heap: Any  # access.heap.Heap
    constraint: str = ""
    columns: tuple[str, ...] = ()
    describe: Callable[[Key], str] | None = None  # the DETAIL text; default "Key (a)=(1) already exists."
    nulls_not_distinct: bool = False  # a key with NULLs conflicts too (UNIQUE NULLS NOT DISTINCT)

    def error(self, key: Key) -> UniqueViolation:
        if self.describe is not None:
            detail = self.describe(key)
        else:
            cols = ", ".join(self.columns)
            vals = ", ".join("null" if v is None else str(v) for v in key)
            detail = f"Key ({cols})=({vals}) already exists."
        return UniqueViolation(
            f'duplicate key value violates unique constraint "{self.constraint}"',
            detail=detail,
            constraint=self.constraint or None,
        )


class BTree:
    """One B-tree index (its id is its metapage's page number)."""

    def __init__(self, cache: PageCache, txns: TransactionManagerLike, rel_id: int) -> None:
        self.cache = cache
        self.txns = txns
        self.rel_id = rel_id
        self.name = ""  # for messages; the catalog may set it
        self.root = 0
        self.level = 0
        self.key_count = 0
        self._cleaned: dict[int, int] = {}  # leaf -> horizon of its last cleanup in lookup()
        # pg_stat_user_indexes, counted by the executor's index scans (not by this class's own
        # lookups: unique checks, vacuum): scans begun (one per key of an IN list, as
        # PostgreSQL 15), index entries they returned, live table rows fetched through them
        self.scans = self.tuples_read = self.tuples_fetched = 0

    def __repr__(self) -> str:
        return f"BTree({self.rel_id}, root={self.root}, level={self.level})"

    @staticmethod
    def log_empty(mtr: MiniTransaction, rel_id: int, root: int, key_count: int) -> None:
        """Logs a metapage pointing at an empty root leaf."""
        mtr.log(rel_id, RedoOp.INIT, encode_init(PageKind.BTREE_META, _META.pack(root, 0, key_count)))
        mtr.log(root, RedoOp.INIT, encode_init(PageKind.BTREE_LEAF, node_special(0, 0)))

    def forget(self) -> None:
        self.root = 0

    # -- synchronous attempts ------------------------------------------------------------------------

    async def _sync(self, attempt: Callable[[], T], txn: TransactionLike | None = None) -> T:
        """Runs `attempt` until it needs no page it lacks and no transaction to finish."""
        for _ in range(_ATTEMPTS):
            try:
                return attempt()
            except _NeedPage as need:
                page = await self.cache.read_optional(need.page_no)
                if page is None:
                    raise UndefinedTable(f"index {self.rel_id} does not exist") from None
            except _NeedXid as need:
                if txn is None:
                    raise InternalError("B-tree wait without a transaction") from None
                await self.txns.wait_for_xid(txn, need.xid)
        raise InternalError(f"B-tree {self.rel_id}: could not complete an operation")

    def _page(self, page_no: int) -> Page:
        page = self.cache.get(page_no)
        if page is None:
            raise _NeedPage(page_no)
        return page

    def _node(self, page_no: int) -> Node:
        node = self.cache.derived.get(page_no)
        if type(node) is not Node:
            page = self._page(page_no)
            if page.kind != PageKind.BTREE_LEAF and page.kind != PageKind.BTREE_INTERNAL:
                raise UndefinedTable(f"index {self.rel_id} does not exist")
            node = Node(page)
            self.cache.derived[page_no] = node
        else:
            self.cache.get(page_no)  # keeps it recently used
        return node

    def _load_meta(self) -> None:
        page = self._page(self.rel_id)
        if page.kind != PageKind.BTREE_META:
            raise UndefinedTable(f"index {self.rel_id} does not exist")
        self.root, self.level, self.key_count = _META.unpack(page.special)

    def _descend(self, search: tuple[Any, ...], path: list[int] | None = None) -> int:
        """The leaf whose range holds `search` (an entry or a key prefix); fills `path` with its ancestors."""
        if not self.root:
            self._load_meta()
        page_no = self.root
        while True:
            node = self._node(page_no)
            if node.level == 0:
                return page_no
            if path is not None:
                path.append(page_no)
            page_no = node.children[bisect_right(node.entries, search) - 1]

    # -- insert --------------------------------------------------------------------------------------

    async def insert(self, key: Key, tid: Tid, unique: UniqueCheck | None = None) -> None:
        """Adds (key, tid); with `unique`, raises 23505 if a live tuple has an equal key."""
        key = tuple(key)
        tid = (tid[0], tid[1])
        item = leaf_item(key, tid)
        if len(item) > MAX_ENTRY:
            suffix = f' for index "{self.name}"' if self.name else ""
            raise ProgramLimitExceeded(
                f"index row size {len(item)} exceeds btree version 4 maximum {MAX_ENTRY}{suffix}"
            )
        entry = normalize(key) + tid
        check = unique if unique is not None and (unique.nulls_not_distinct or not has_null(key)) else None

        def attempt() -> None:
            path: list[int] = []
            leaf = self._descend(entry, path)
            if check is not None:
                conflict = self._find_conflict(check.txn, check.heap, key, tid, leaf)
                if conflict is not None:
                    raise check.error(key)
            # Every page a split may touch must be cached before the first redo is logged.
            for page_no in path:
                self._page(page_no)
            self._page(self.rel_id)
            with self.cache.mtr(deferred=True) as mtr:
                self._insert_into(mtr, leaf, path, entry, item)

        await self.cache.room()
        await self._sync(attempt, check.txn if check is not None else None)

    def _insert_into(
        self, mtr: MiniTransaction, page_no: int, path: list[int], entry: tuple[Any, ...], item: bytes
    ) -> None:
        node = self._node(page_no)
        page = mtr.page(page_no)
        pos = bisect_left(node.entries, entry)
        if pos < len(node.entries) and node.entries[pos] == entry:
            return  # already there (idempotent)
        if node.free_space() < len(item) and node.level == 0 and self._drop_dead(mtr, page_no, node):
            pos = bisect_left(node.entries, entry)
        if node.free_space() >= len(item):
            mtr.log(page_no, RedoOp.INSERT, encode_insert(pos, item))
            # Keep the decoded node current instead of decoding the page again.
            node.insert_at(pos, entry, decode_row(item))
            node.used += len(item) + 4
            self.cache.derived[page_no] = node
            return
        split(self, mtr, page_no, page, node, path, pos, item)

    def _worth_cleaning(self, page_no: int) -> bool:
        """False when this leaf was already cleaned at the current vacuum horizon."""
        horizon = self.txns.oldest_xmin()
        if self._cleaned.get(page_no) == horizon:
            return False
        if len(self._cleaned) > 10_000:
            self._cleaned.clear()
        self._cleaned[page_no] = horizon
        return True

    def _drop_dead(self, mtr: MiniTransaction, page_no: int, node: Node) -> bool:
        """Before splitting a full leaf, deletes its entries whose heap tuples are dead to everyone
        (PostgreSQL's simple deletion): hot keys updated over and over stay one leaf wide.
        Only heap pages already cached are looked at."""
        horizon = self.txns.oldest_xmin()
        status = self.txns.status
        get = self.cache.get
        doomed = []
        for i, raw in enumerate(node.raw):
            heap_page = get(raw[-2])
            if heap_page is None or heap_page.kind != PageKind.HEAP:
                continue
            if chain_dead(raw[-2], heap_page.items, raw[-1], status, horizon):
                doomed.append(i)
        if not doomed:
            return False
        for i in reversed(doomed):
            mtr.log(page_no, RedoOp.DELETE, encode_delete(i))
            node.delete_at(i)
        node.used = mtr.page(page_no).used_space()
        self.cache.derived[page_no] = node
        return True

    def grow_root(self, mtr: MiniTransaction, left_no: int, up_item: bytes, level: int) -> None:
        """The root split: a new root one level up above the old root (`left_no`) and its new
        right sibling (the separator `up_item`)."""
        new_root = self.cache.control.allocate_page()
        root_page = Page(PageKind.BTREE_INTERNAL, node_special(0, level + 1), [internal_item(None, None, left_no), up_item])
        mtr.log(new_root, RedoOp.IMAGE, encode_image(root_page))
        mtr.log(self.rel_id, RedoOp.SPECIAL, _META.pack(new_root, level + 1, self.key_count))
        self.root = new_root
        self.level = level + 1

    # -- bulk build ----------------------------------------------------------------------------------

    async def bulk_load(
        self, entries: list[tuple[Key, Tid]], unique: UniqueCheck | None = None, fill: float = 0.9
    ) -> None:
        """CREATE INDEX: builds this (empty) index bottom-up from `entries` (access.btreebuild)."""
        from pgaurora.access.btreebuild import bulk_load

        await bulk_load(self, entries, unique, fill)

    # -- delete --------------------------------------------------------------------------------------

    async def delete(self, key: Key, tid: Tid) -> bool:
        """Removes (key, tid); False if it was not there."""
        entry = normalize(tuple(key)) + (tid[0], tid[1])

        def attempt() -> bool:
            leaf = self._descend(entry)
            node = self._node(leaf)
            pos = bisect_left(node.entries, entry)
            if pos >= len(node.entries) or node.entries[pos] != entry:
                return False
            with self.cache.mtr(deferred=True) as mtr:
                mtr.log(leaf, RedoOp.DELETE, encode_delete(pos))
            node.delete_at(pos)
            node.used = self.cache.get(leaf).used_space()  # type: ignore[union-attr]
            self.cache.derived[leaf] = node
            return True

        return await self._sync(attempt)

    async def remove_tids(self, dead: set[Tid]) -> int:
        """Vacuum: deletes every entry pointing at a tid in `dead`; returns how many."""
        removed = 0
        page_no = await self._sync(lambda: self._descend(()))
        leaves = 0
        while page_no:
            node = await self._sync(lambda p=page_no: self._node(p))  # type: ignore[misc]
            doomed = [i for i, raw in enumerate(node.raw) if raw[-2:] in dead]  # raw ends with the tid
            if doomed:
                with self.cache.mtr(deferred=True) as mtr:
                    for i in reversed(doomed):
                        mtr.log(page_no, RedoOp.DELETE, encode_delete(i))
                    used = mtr.page(page_no).used_space()
                # Keep the decoded node current: decoding every leaf again after a vacuum pass
                # cost the next lookups more than the pass itself.
                for i in reversed(doomed):
                    node.delete_at(i)
                node.used = used
                self.cache.derived[page_no] = node
                removed += len(doomed)
            page_no = node.right
            leaves += 1
            if leaves % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a long walk lets the sessions' queries in between
        return removed

    # -- search --------------------------------------------------------------------------------------

    def _leaf_walk(
        self, start: tuple[Any, ...], stop: tuple[Any, ...], limit: int
    ) -> tuple[list[tuple[Key, Tid]], tuple[Any, ...] | None]:
        """Entries from `start` (inclusive) up to `stop` (exclusive): (batch, where to resume or None)."""
        leaf = self._descend(start)
        for _ in range(_ATTEMPTS):
            node = self._node(leaf)
            entries = node.entries
            lo = bisect_left(entries, start)
            hi = bisect_left(entries, stop, lo)
            if hi - lo > limit:
                hi = lo + limit
            batch = [(raw[:-2], (raw[-2], raw[-1])) for raw in node.raw[lo:hi]]
            if hi < len(entries):
                if batch and hi - lo == limit:
                    return batch, entries[hi]
                return batch, None  # reached `stop`
            if not node.right:
                return batch, None
            if batch:
                return batch, _successor(batch[-1])
            leaf = node.right
        raise InternalError("B-tree leaf chain does not end")

    def _leaf_walk_back(
        self, start: tuple[Any, ...], stop: tuple[Any, ...], limit: int
    ) -> tuple[list[tuple[Key, Tid]], tuple[Any, ...] | None]:
        """Entries from `stop` (exclusive) down to `start` (inclusive), highest first: (batch,
        the exclusive upper bound to resume from, or None). Leaves link only rightwards, so the
        leaf before is found from the root again, through its lower bound: the separator of the
        deepest internal entry chosen that is not a node's first (its minus infinity)."""
        if not self.root:
            self._load_meta()
        page_no = self.root
        floor: tuple[Any, ...] | None = None  # the leaf's lower bound; None: the leftmost leaf
        for _ in range(_ATTEMPTS):
            node = self._node(page_no)
            if node.level == 0:
                break
            i = max(bisect_left(node.entries, stop) - 1, 0)
            if i > 0:
                floor = node.entries[i]
            page_no = node.children[i]
        else:
            raise InternalError("B-tree descent does not reach a leaf")
        entries = node.entries
        hi = bisect_left(entries, stop)
        lo = bisect_left(entries, start, 0, hi)
        if hi - lo > limit:
            lo = hi - limit
            resume: tuple[Any, ...] | None = entries[lo]
        elif lo > 0 or floor is None or floor <= start:
            resume = None  # `start` lies in this leaf, or nothing is left of it
        else:
            resume = floor
        batch = [(raw[:-2], (raw[-2], raw[-1])) for raw in reversed(node.raw[lo:hi])]
        return batch, resume

    async def range_back(
        self, lo: Key | None = None, hi: Key | None = None, lo_inclusive: bool = True, hi_inclusive: bool = True,
        batch_size: int = 1024,
    ) -> AsyncIterator[list[tuple[Key, Tid]]]:
        """range(..., members=False) in descending key order (NULL keys, the highest, first): a
        backward index scan, for ORDER BY ... DESC."""
        start, stop = _range_bounds(lo, hi, lo_inclusive, hi_inclusive)
        for _ in range(100_000_000):
            batch, resume = await self._sync(lambda s=stop: self._leaf_walk_back(start, s, batch_size))  # type: ignore[misc]
            if batch:
                yield batch
            if resume is None:
                return
            stop = resume

    async def range(
        self,
        lo: Key | None = None,
        hi: Key | None = None,
        lo_inclusive: bool = True,
        hi_inclusive: bool = True,
        batch_size: int = 1024,
        *,
        members: bool = True,
    ) -> AsyncIterator[list[tuple[Key, Tid]]]:
        """Batches of (key, tid) with lo <(=) key <(=) hi in key order; bounds may be key prefixes.

        NULL keys sort last; a range with a lower bound and no upper bound stops at the first
        NULL in the first key column (further columns' NULLs are the caller's to filter).
        Each entry comes once per member of its HOT chain; `members=False` gives the entries
        themselves (one per index tuple).
        """
        start, stop = _range_bounds(lo, hi, lo_inclusive, hi_inclusive)
        for _ in range(100_000_000):
            batch, resume = await self._sync(lambda s=start: self._leaf_walk(s, stop, batch_size))  # type: ignore[misc]
            if batch and members:
                batch = await expand(self.cache, batch)
            if batch:
                yield batch
            if resume is None:
                return
            start = resume

    async def lookup(self, key: Key, *, chains: bool = True) -> list[Tid]:
        """The tids of every entry whose key equals `key` (a full key or a prefix), each followed
        by the members of its HOT chain; `chains=False`: the entries' own tids (the roots)."""
        nk = normalize(tuple(key))
        stop = nk + (MAX_KEY,)

        def attempt() -> list[Tid]:
            result: list[Tid] = []
            leaf = self._descend(nk)
            for _ in range(_ATTEMPTS):
                node = self._node(leaf)
                entries = node.entries
                lo = bisect_left(entries, nk)
                hi = bisect_left(entries, stop, lo)
                if hi - lo > CLEANUP_DUPLICATES and self._worth_cleaning(leaf):
                    # Many versions of one key (an often-updated row): drop the dead ones now
                    # rather than make every lookup fetch them (PostgreSQL's kill_prior_tuple).
                    with self.cache.mtr(deferred=True) as mtr:
                        if self._drop_dead(mtr, leaf, node):
                            lo = bisect_left(entries, nk)
                            hi = bisect_left(entries, stop, lo)
                for raw in node.raw[lo:hi]:
                    result.append((raw[-2], raw[-1]))
                if hi < len(entries) or not node.right:
                    return result
                leaf = node.right
            raise InternalError("B-tree leaf chain does not end")

        roots = await self._sync(attempt)
        return await members(self.cache, roots) if chains else roots

    def lookup_entries_cached(self, key: Key) -> tuple[list[Tid], list[Tid]] | None:
        """(the entries' own tids, every member of their HOT chains) for `key`: lookup() that also
        says which index entries it read (pg_stat_user_indexes counts entries, not versions);
        None when a page is not cached (then `await lookup_entries(key)`). No coroutine."""
        roots = self.lookup_cached(key, chains=False)
        if roots is None:
            return None
        tids = self.members_cached(roots) if roots else roots
        return None if tids is None else (roots, tids)

    async def lookup_entries(self, key: Key) -> tuple[list[Tid], list[Tid]]:
        """lookup_entries_cached() that reads the pages it needs."""
        found = self.lookup_entries_cached(key)
        if found is not None:
            return found
        roots = await self.lookup(key, chains=False)
        return roots, await self.members(roots)

    async def members(self, tids: list[Tid]) -> list[Tid]:
        """members_cached() that reads the heap pages it needs."""
        return await members(self.cache, tids)

    async def expand(self, batch: list[tuple[Key, Tid]]) -> list[tuple[Key, Tid]]:
        """Entries as range(members=False) gives them -> one per member of each HOT chain."""
        return await expand(self.cache, batch)

    def lookup_cached(self, key: Key, *, chains: bool = True) -> list[Tid] | None:
        """lookup() for a caller that must not wait (the point-read fast path): the tids, or
        None when a page on the way is not cached or the key has many versions to clean up.
        `chains=False`: the entries' own tids (each the root of its HOT chain), for a caller
        that fetches a root first and asks `members_cached` only when it does not see it."""
        nk = normalize(key)
        n = len(nk)
        # A one-column integer key searches the nodes' arrays of first values (Node.int_keys);
        # a leaf's entries of that key are then exactly those of that first value.
        k: Any = nk[0] if n == 1 else None
        by_int = type(k) is int
        # One pass from the root to the leaf and along it: a decoded node is taken from the
        # derived slot and its page marked recently used in C (no Page lookup per level).
        derived = self.cache.derived
        touch = self.cache.touch
        try:
            if not self.root:
                self._load_meta()
            page_no = self.root
            result: list[Tid] = []
            for _ in range(_ATTEMPTS):
                node = derived.get(page_no)
                if type(node) is Node:
                    touch(page_no)
                else:
                    node = self._node(page_no)
                keys: Any = node.keys if by_int else False
                if keys is None:
                    keys = node.int_keys()
                if node.level:
                    if keys is False:
                        page_no = node.children[bisect_right(node.entries, nk) - 1]
                    else:  # entry 0 is -infinity: the children left of the first separator
                        page_no = node.children[bisect_left(keys, k, 1) - 1]
                    continue
                if keys is False:
                    entries = node.entries
                    lo = hi = bisect_left(entries, nk)
                    # the entries with this key follow (usually one or two): no bound sentinel needed
                    end = len(entries)
                    while hi < end and entries[hi][:n] == nk:
                        hi += 1
                        if hi - lo > CLEANUP_DUPLICATES:
                            return None
                else:
                    lo = bisect_left(keys, k)
                    hi = bisect_right(keys, k, lo)
                    end = len(keys)
                    if hi - lo > CLEANUP_DUPLICATES:
                        return None
                for raw in node.raw[lo:hi]:
                    result.append((raw[-2], raw[-1]))
                if hi < end or not node.right:
                    return members_cached(self.cache, result) if chains else result
                page_no = node.right
        except (_NeedPage, KeyError):  # KeyError: a derived node whose page is no longer cached
            return None
        return None

    def members_cached(self, tids: list[Tid]) -> list[Tid] | None:
        """The members of the HOT chains whose roots are `tids` (root first), or None when a
        heap page is not cached: see access.btreechain."""
        return members_cached(self.cache, tids)

    async def entries(self) -> list[tuple[Key, Tid]]:
        """Every entry in order (tests, vacuum, amcheck-style verification)."""
        result: list[tuple[Key, Tid]] = []
        async for batch in self.range(members=False):
            result.extend(batch)
        return result

    # -- unique check --------------------------------------------------------------------------------

    async def find_conflict(self, txn: TransactionLike, heap: Any, key: Key, tid: Tid | None = None,
                            nulls_not_distinct: bool = False) -> Tid | None:
        """The tid of a live tuple with an equal key (waiting for running inserters/deleters), or None
        (a key with a NULL never has one, unless NULLs are not distinct)."""
        key = tuple(key)
        if has_null(key) and not nulls_not_distinct:
            return None
        return await self._sync(lambda: self._find_conflict(txn, heap, key, tid), txn)

    async def has_duplicate(self, txn: TransactionLike, heap: Any, key: Key, nulls_not_distinct: bool = False) -> bool:
        """Do two live tuples hold `key` (a DEFERRABLE unique constraint's check, made after the
        entries went in)?"""
        first = await self.find_conflict(txn, heap, key, None, nulls_not_distinct)
        return first is not None and await self.find_conflict(txn, heap, key, first, nulls_not_distinct) is not None

    def _live_for_unique(self, txn: TransactionLike, tid: Tid) -> bool:
        """Does the heap tuple at `tid` count against a new equal key? (SnapshotDirty-like: raises
        _NeedXid for a running inserter or deleter of another transaction, _NeedPage if not cached.)"""
        page = self.cache.get(tid[0])
        if page is None:
            raise _NeedPage(tid[0])
        if tid[1] >= len(page.items) or len(page.items[tid[1]]) < HEADER_SIZE:
            return False
        status = self.txns.status
        is_own = txn.is_own
        xmin, _, xmax, _, _, _, _ = unpack_header(page.items[tid[1]], 0)
        if not is_own(xmin):
            state = status(xmin)
            if state == IN_PROGRESS:
                raise _NeedXid(xmin)
            if state != COMMITTED:
                return False  # inserter aborted
        if xmax == 0:
            return True
        if is_own(xmax):
            return False  # we deleted it
        state = status(xmax)
        if state == IN_PROGRESS:
            raise _NeedXid(xmax)
        return state == ABORTED

    def _find_conflict(
        self, txn: TransactionLike, heap: Any, key: Key, own_tid: Tid | None, near: int = 0
    ) -> Tid | None:
        """The tid of a live tuple with key `key` other than `own_tid`, or None. `near`: the leaf
        an insert of the key goes to; when it holds a smaller key, no leaf before it holds this
        one, and the search starts there instead of descending again."""
        nk = normalize(key)
        stop = nk + (MAX_KEY,)
        if near and bisect_left(self._node(near).entries, nk) > 0:
            leaf = near
        else:
            leaf = self._descend(nk)
        for _ in range(_ATTEMPTS):
            node = self._node(leaf)
            entries = node.entries
            lo = bisect_left(entries, nk)
            hi = bisect_left(entries, stop, lo)
            for raw in node.raw[lo:hi]:
                page_no = raw[-2]
                page = self.cache.get(page_no)
                if page is None:
                    raise _NeedPage(page_no)
                for member in chain_of(page_no, page.items, raw[-1]) if page.kind == PageKind.HEAP else ():
                    tid = (page_no, member)
                    if tid != own_tid and self._live_for_unique(txn, tid):
                        return tid
            if hi < len(entries) or not node.right:
                return None
            leaf = node.right
        raise InternalError("B-tree leaf chain does not end")


def _range_bounds(lo: Key | None, hi: Key | None, lo_inclusive: bool,
                  hi_inclusive: bool) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """A range's (start, stop) over normalized entries: start inclusive, stop exclusive. With a
    lower bound and no upper one the range stops below the NULL keys of the first column."""
    if lo is None:
        start: tuple[Any, ...] = ()
    else:
        nlo = normalize(tuple(lo))
        start = nlo if lo_inclusive else nlo + (MAX_KEY,)
    if hi is None:
        stop: tuple[Any, ...] = (MAX_KEY,) if lo is None else (NULL_KEY,)
    else:
        nhi = normalize(tuple(hi))
        stop = nhi + (MAX_KEY,) if hi_inclusive else nhi
    return start, stop


def _successor(last: tuple[Key, Tid]) -> tuple[Any, ...]:
    key, tid = last
    return normalize(key) + (tid[0], tid[1], MAX_KEY)

