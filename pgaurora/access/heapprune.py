"""Page pruning: which item pointers of one heap page change when dead versions go away.

Owns PostgreSQL's heap_page_prune / heap_prune_chain decision for one page, as a pure function
of the page's items, the transaction statuses and the vacuum horizon. Not logging the changes
or handing slots out (access.heap), not index cleanup (access.vacuum).

HeapPruning (a mixin of access.heap.Heap) logs a plan as one MTR of SETs and keeps what the
next pruning needs in memory: the page's prune hint, the slots changed since (candidates: a
targeted pruning looks at those and their chains only) and each heap-only member's root.

For every HOT chain (a root tuple or LP_REDIRECT, then heap-only members linked by ctid with
xmin = previous xmax, access.heaptuple.hot_chain), the leading members dead to everyone go:

    whole chain dead              root -> LP_DEAD (b""): index entries still point at it, so
                                  only vacuum with index cleanup may reuse the slot;
                                  heap-only members -> LP_UNUSED (b"", reusable at once)
    first k members dead          root -> LP_REDIRECT to member k; dead heap-only members ->
                                  LP_UNUSED
    heap-only tuples on no chain  (an aborted HOT update, a chain cut short) -> LP_UNUSED once
                                  dead to everyone

A plain tuple that is not HOT-updated is a chain of one. The result also carries the page's
prune hint: the lowest xid whose end may let a later pruning free something (PostgreSQL's
pd_prune_xid), so a page is not pruned again before the horizon passes it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pgaurora.access.heaptuple import (
    HEADER_SIZE,
    HEAP_HOT_UPDATED,
    HEAP_ONLY_TUPLE,
    INFOMASK_OFFSET,
    REDIRECT_SIZE,
    XMAX_OFFSET,
    hot_chain,
    redirect_item,
    redirect_target,
    unpack_header,
)
from pgaurora.access.txnview import ABORTED, COMMITTED, TransactionManagerLike
from pgaurora.logstore.page import Page, RedoOp, encode_set
from pgaurora.pagecache import MiniTransaction, PageCache

Tid = tuple[int, int]
NO_HINT = 1 << 63  # nothing on the page can die later without a new change noting it
_XMAX_END = XMAX_OFFSET + 8
_NO_XMAX = bytes(8)
_XMIN = struct.Struct("<Q").unpack_from
_ABORTED = int(ABORTED)
_COMMITTED = int(COMMITTED)


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """What pruning one page does: SET these slots to these items; `unused` lists the slots
    (among those set to b"") that no index entry points at; `hint` as in the module docstring.
    `keep`: the examined tuples that may still die (the candidates of the next targeted
    pruning); `members`: heap-only member -> root for the chains walked, after the changes."""

    changes: tuple[tuple[int, bytes], ...]
    unused: tuple[int, ...]
    dead_roots: int  # roots that became LP_DEAD (their index entries await vacuum)
    hint: int
    keep: tuple[int, ...] = ()
    members: dict[int, int] = field(default_factory=dict)


def plan_prune(
    page_no: int,
    items: list[bytes],
    status: Callable[[int], int],
    horizon: int,
    candidates: Iterable[int] | None = None,
    roots_of: dict[int, int] | None = None,
) -> PrunePlan | None:
    """The changes that prune the page holding `items` below `horizon` (see the module docstring).

    With `candidates` (the slots changed since the page's last pruning: every tuple that may have
    died since is among them) and `roots_of` (heap-only member -> its chain's root, complete for
    the page), only their chains are examined: O(changes), not O(page). Returns None when a
    heap-only candidate has no known root (then prune the whole page)."""
    count = len(items)
    states: dict[int, int] = {}  # xid -> status, once per xid (a page's tuples share few)
    info: dict[int, tuple[bool, bool, int]] = {}  # slot -> (dead, inserter aborted, xid to wait for)

    def examine(slot: int) -> tuple[bool, bool, int]:
        known = info.get(slot)
        if known is not None:
            return known
        xmin, _, xmax, _, _, _, _ = unpack_header(items[slot], 0)
        state = states.get(xmin)
        if state is None:
            state = states[xmin] = status(xmin)
        if state == _ABORTED:
            result = (True, True, 0)
        elif state != _COMMITTED:
            result = (False, False, xmin)  # may yet abort
        elif not xmax:
            result = (False, False, 0)
        else:
            xmax_state = states.get(xmax)
            if xmax_state is None:
                xmax_state = states[xmax] = status(xmax)
            if xmax_state == _COMMITTED and xmax < horizon:
                result = (True, False, 0)
            elif xmax_state == _ABORTED:
                result = (False, False, 0)
            else:
                result = (False, False, xmax)  # dies once the horizon passes it (if it commits)
        info[slot] = result
        return result

    roots: list[int] = []
    loose: list[int] = []  # heap-only tuples that no walked chain may reach: freed once dead
    if candidates is None:
        for slot, item in enumerate(items):
            size = len(item)
            if size == REDIRECT_SIZE:
                roots.append(slot)
            elif size >= HEADER_SIZE:
                if item[XMAX_OFFSET:_XMAX_END] == _NO_XMAX and not item[INFOMASK_OFFSET] & HEAP_ONLY_TUPLE:
                    # A plain tuple nobody deleted (most of a page): nothing to prune, nothing to
                    # wait for once its inserter committed; no examine() call for it then.
                    xmin = _XMIN(item)[0]
                    state = states.get(xmin)
                    if state is None:
                        state = states[xmin] = status(xmin)
                    if state == _COMMITTED:
                        continue
                examine(slot)
                (loose if item[INFOMASK_OFFSET] & HEAP_ONLY_TUPLE else roots).append(slot)
    else:
        seen: set[int] = set()
        for slot in candidates:
            if slot >= count or slot in seen or len(items[slot]) < HEADER_SIZE:
                continue
            seen.add(slot)
            examine(slot)
            if items[slot][INFOMASK_OFFSET] & HEAP_ONLY_TUPLE:
                root = roots_of.get(slot) if roots_of is not None else None
                if root is None:
                    return None
                loose.append(slot)
                if root not in seen:
                    seen.add(root)
                    roots.append(root)
            else:
                roots.append(slot)
    for result in info.values():
        if result[0]:
            break
    else:  # nothing died
        keep, hint = _kept(info, ())
        walked = {} if candidates is not None else _members(page_no, items, roots)
        return PrunePlan((), (), 0, hint, keep, walked)
    changes: list[tuple[int, bytes]] = []
    unused: list[int] = []
    on_chain: set[int] = set()
    members: dict[int, int] = {}
    freed_all: set[int] = set()
    dead_roots = 0
    for slot in roots:
        item = items[slot]
        is_redirect = len(item) == REDIRECT_SIZE
        if not is_redirect and not item[INFOMASK_OFFSET] & HEAP_HOT_UPDATED:
            if examine(slot)[0]:  # a plain dead tuple: LP_DEAD (index entries point at it)
                changes.append((slot, b""))
                freed_all.add(slot)
                dead_roots += 1
            continue
        chain = hot_chain(page_no, items, slot)
        for j in range(1, len(chain)):
            if examine(chain[j])[1]:
                chain = chain[:j]  # an aborted update's versions: freed below as off-chain
                break
        on_chain.update(chain)
        chain_members = chain if is_redirect else chain[1:]
        k = 0
        while k < len(chain) and examine(chain[k])[0]:
            k += 1
        freed: list[int] = []
        if k == 0:
            if is_redirect and not chain:
                changes.append((slot, b""))  # its target is gone: LP_DEAD
                dead_roots += 1
        elif k == len(chain):
            changes.append((slot, b""))
            dead_roots += 1
            freed = chain_members
            freed_all.add(slot)
        else:
            freed = chain_members[: k if is_redirect else k - 1]
            if not is_redirect or redirect_target(item) != chain[k]:
                changes.append((slot, redirect_item(chain[k])))
        for member in freed:
            changes.append((member, b""))
            unused.append(member)
            freed_all.add(member)
        for member in chain_members:
            if member not in freed_all:
                members[member] = slot
    for slot in loose:
        if slot not in on_chain and examine(slot)[0]:
            changes.append((slot, b""))
            unused.append(slot)
            freed_all.add(slot)
    keep, hint = _kept(info, freed_all)
    return PrunePlan(tuple(changes), tuple(unused), dead_roots, hint, keep, members)


def _kept(info: dict[int, tuple[bool, bool, int]], freed: set[int] | tuple[()]) -> tuple[tuple[int, ...], int]:
    """The examined slots that may still die (not freed now) and the lowest xid they wait for."""
    keep: list[int] = []
    hint = NO_HINT
    for slot, result in info.items():
        xid = result[2]
        if xid and slot not in freed:
            keep.append(slot)
            if xid < hint:
                hint = xid
    return tuple(keep), hint


def _members(page_no: int, items: list[bytes], roots: list[int]) -> dict[int, int]:
    """heap-only member -> root for the chains of `roots`."""
    members: dict[int, int] = {}
    for root in roots:
        item = items[root]
        if len(item) == REDIRECT_SIZE or item[INFOMASK_OFFSET] & HEAP_HOT_UPDATED:
            for member in hot_chain(page_no, items, root):
                if member != root:
                    members[member] = root
    return members


class HeapPruning:
    """Pruning one heap's pages (a mixin of access.heap.Heap)."""

    cache: PageCache
    txns: TransactionManagerLike
    unused_slots: dict[int, list[int]]
    _pruned_at: dict[int, int]
    _prune_hint: dict[int, int]
    _prune_candidates: dict[int, list[int]]
    _hot_roots: dict[int, dict[int, int]]
    settled_pages: dict[int, int]
    _inserted_pages: set[int]

    def _prune(self, page_no: int, page: Page, horizon: int | None = None, *, full: bool = False) -> bool:
        """Opportunistic pruning (PostgreSQL's heap_page_prune) as its own MTR: dead HOT chain
        members become LP_UNUSED and go to `unused_slots` at once; roots become LP_REDIRECT or
        LP_DEAD (b"": their index entries lead nowhere until vacuum removes them). True if
        anything changed. See _prune_plan for when it is skipped and what it looks at."""
        plan = self._prune_plan(page_no, page, horizon, full=full)
        if plan is None:
            return False
        with self.cache.mtr(deferred=True) as mtr:
            self._apply_prune(mtr, page_no, plan)
        return True

    def _prune_plan(
        self, page_no: int, page: Page, horizon: int | None = None, *, full: bool = False
    ) -> PrunePlan | None:
        """The pruning of one page to log now (None: nothing to change), with the in-memory
        bookkeeping done (hint, candidates, chain roots); _apply_prune logs it, in the same
        loop turn. Skipped while the page's prune hint is not below the horizon. Only the slots
        changed since the page's last pruning are examined, unless the page is unknown here or
        `full` (vacuum: also aborted inserts, which are never candidates) and the page had inserts
        since its last pruning of every slot. `horizon` (vacuum,
        tests) overrides the transaction manager's oldest_xmin and the hint."""
        forced = horizon is not None
        if horizon is None:
            hint = self._prune_hint.get(page_no)
            if hint == NO_HINT:
                return None  # nothing there may die before a change notes it (no horizon needed)
            horizon = self.txns.oldest_xmin()
            if hint is not None and hint >= horizon:
                return None  # nothing on it can have died since its last pruning
            if self._pruned_at.get(page_no) == horizon:
                return None
        pruned_at = self._pruned_at
        candidates = self._prune_candidates
        roots_of = self._hot_roots
        if len(pruned_at) > 10_000:
            pruned_at.clear()
            self._prune_hint.clear()
            candidates.clear()
            roots_of.clear()
            self._inserted_pages.clear()  # every page is unknown now: pruned whole next time
        if not forced:
            pruned_at[page_no] = horizon
        status = self.txns.status
        plan = None
        known = candidates.get(page_no)
        page_roots = roots_of.get(page_no)
        if known is not None and page_roots is not None and not (full and page_no in self._inserted_pages):
            plan = plan_prune(page_no, page.items, status, horizon, known, page_roots)
        if plan is None:
            plan = plan_prune(page_no, page.items, status, horizon)
            assert plan is not None
            page_roots = roots_of[page_no] = {}
            self._inserted_pages.discard(page_no)
        assert page_roots is not None
        self._prune_hint[page_no] = plan.hint
        candidates[page_no] = list(plan.keep)
        for slot, item in plan.changes:
            if not item:
                page_roots.pop(slot, None)
        page_roots.update(plan.members)
        return plan if plan.changes else None

    def _apply_prune(self, mtr: MiniTransaction, page_no: int, plan: PrunePlan, taken: int = -1) -> None:
        """Logs `plan` in `mtr` and hands its LP_UNUSED slots out; `taken` is one of them that
        the caller fills right away in the same MTR (its SET to b"" would be overwritten: not
        logged)."""
        log = mtr.log
        self.settled_pages.pop(page_no, None)
        for slot, item in plan.changes:
            if slot != taken:
                log(page_no, RedoOp.SET, encode_set(slot, item))
        if plan.unused:
            slots = self.unused_slots.setdefault(page_no, [])
            known_free = set(slots)
            known_free.add(taken)
            # popped from the end: lowest slot first
            slots.extend(slot for slot in plan.unused if slot not in known_free)
            slots.sort(reverse=True)
            if not slots:
                del self.unused_slots[page_no]

    def _note_change(self, page_no: int, xid: int, slot: int, other_slot: int = -1) -> None:
        """`xid` stamped an xmax on the tuple in `slot` (or put a new version there; `other_slot`:
        and in that one of the same page): once it ends, pruning may find something to free."""
        self.settled_pages.pop(page_no, None)
        hints = self._prune_hint
        hint = hints.get(page_no)
        if hint is not None and xid < hint:
            hints[page_no] = xid
        slots = self._prune_candidates.get(page_no)
        if slots is not None:
            slots.append(slot)
            if other_slot >= 0:
                slots.append(other_slot)

    def _note_hot(self, page_no: int, old_slot: int, new_slot: int) -> None:
        """A HOT update put the version after `old_slot` in `new_slot`: same chain, same root."""
        roots = self._hot_roots.get(page_no)
        if roots is not None:
            roots[new_slot] = roots.get(old_slot, old_slot)

    def is_heap_only(self, tid: Tid) -> bool:
        """Is the version at `tid` a heap-only tuple (a HOT update's: it needs no index entries)?
        The page must be cached (it is right after update())."""
        page = self.cache.get(tid[0])
        if page is None or tid[1] >= len(page.items):
            return False
        item = page.items[tid[1]]
        return len(item) >= HEADER_SIZE and bool(item[INFOMASK_OFFSET] & HEAP_ONLY_TUPLE)
