"""Waiting: the wait-for graph (deadlock detection, lock_timeout), row locks and advisory locks.

Owns every wait of one transaction on another: on a transaction id (a row it updates is being
changed by another), on a row lock (SELECT ... FOR UPDATE/SHARE) and on an advisory lock.
Not the tuple headers (access.heap) and not transaction state (txn.manager).

Waits never block the event loop: a waiter awaits the future of what it waits for. Before
waiting it adds edges owner -> holders to the wait-for graph; if that closes a cycle the waiter
gets 40P01 at once (PostgreSQL runs the same check after deadlock_timeout). `lock_timeout`
(milliseconds, 0 = none) bounds each wait with 55P03.

    owner A ──waits for──► owner B ──waits for──► owner A      => DeadlockDetected in A

Owners are whatever the session passes (its backend); a transaction without one is its own.
Row locks and advisory locks are kept in memory only: after a writer crash every transaction
that held them is aborted anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from pgaurora.errors import DeadlockDetected, LockNotAvailable


class WaitGraph:
    """Edges waiter -> holders (and what it waits for), kept only while the waiter waits."""

    def __init__(self) -> None:
        self.edges: dict[Hashable, frozenset[Hashable]] = {}
        self.waiting_for: dict[Hashable, str] = {}
        # what each waiter awaits: once it is done the waiter no longer waits, even before its
        # task runs again and removes its edges (a stale edge would report a false deadlock)
        self.futures: dict[Hashable, asyncio.Future[object]] = {}
        self.describe: Callable[[Hashable], str] = lambda owner: str(getattr(owner, "pid", id(owner)))
        self.deadlocks = 0  # detected since the instance started (pg_stat_database.deadlocks)

    def _cycle(self, start: Hashable, holders: Iterable[Hashable]) -> list[Hashable] | None:
        # DFS from the holders; a path back to `start` is a deadlock.
        stack = [(h, [start, h]) for h in holders]
        seen: set[Hashable] = set()
        edges = self.edges
        while stack:
            node, path = stack.pop()
            if node == start:
                return path
            if node in seen:
                continue
            seen.add(node)
            fut = self.futures.get(node)
            if fut is not None and fut.done():
                continue
            for nxt in edges.get(node, ()):
                stack.append((nxt, [*path, nxt]))
        return None

    async def wait(
        self,
        waiter: Hashable,
        holders: Iterable[Hashable],
        future: asyncio.Future[object],
        timeout_ms: int,
        what: str,
    ) -> None:
        """Awaits `future` while recording waiter -> holders; raises 40P01 or 55P03."""
        holders = frozenset(h for h in holders if h != waiter)
        if not holders or future.done():
            return
        cycle = self._cycle(waiter, holders)
        if cycle is not None:
            self.deadlocks += 1
            lines = []
            for a, b in zip(cycle, cycle[1:], strict=False):
                waits = what if a == waiter else self.waiting_for.get(a, "lock")
                lines.append(f"Process {self.describe(a)} waits for {waits}; blocked by process {self.describe(b)}.")
            raise DeadlockDetected(
                "deadlock detected", detail="\n".join(lines), hint="See server log for query details."
            )
        self.edges[waiter] = holders
        self.waiting_for[waiter] = what
        self.futures[waiter] = future
        try:
            if type(future) is WaiterFuture:
                # This waiter's own future: awaited directly, so a release wakes it in the next
                # loop turn (a shield would take one more), and canceling it touches no one else.
                if timeout_ms and timeout_ms > 0:
                    expiry = asyncio.get_running_loop().call_later(timeout_ms / 1000, _expire, future)
                    try:
                        await future
                    finally:
                        expiry.cancel()
                else:
                    await future
            elif timeout_ms and timeout_ms > 0:
                try:
                    await asyncio.wait_for(asyncio.shield(future), timeout_ms / 1000)
                except TimeoutError:
                    raise LockNotAvailable("canceling statement due to lock timeout") from None
            else:
                await asyncio.shield(future)  # shared with other waiters: not canceled with this one
        finally:
            if self.edges.get(waiter) is holders:
                del self.edges[waiter]
                self.waiting_for.pop(waiter, None)
                self.futures.pop(waiter, None)


# Lock modes, weakest first (PostgreSQL's row-level lock modes; advisory locks use SHARE and
# EXCLUSIVE). CONFLICTS[mode] is the bit set of modes that `mode` conflicts with.
KEY_SHARE, SHARE, NO_KEY_UPDATE, EXCLUSIVE = 0, 1, 2, 3
UPDATE = EXCLUSIVE
CONFLICTS = (1 << EXCLUSIVE, (1 << NO_KEY_UPDATE) | (1 << EXCLUSIVE), 0b1110, 0b1111)
ROW_LOCK_MODES = {"key share": KEY_SHARE, "share": SHARE, "no key update": NO_KEY_UPDATE, "update": UPDATE}


class WaiterFuture(asyncio.Future[object]):
    """The future one waiter alone awaits (ReleaseSignal.waiter_future): WaitGraph.wait awaits
    it without a shield."""


def _expire(future: asyncio.Future[object]) -> None:
    if not future.done():
        future.set_exception(LockNotAvailable("canceling statement due to lock timeout"))


class ReleaseSignal:
    """What a lock's waiters await: each waiter its own future, all resolved at each release
    (every waiter then tries again; the ones still blocked wait anew)."""

    waiters: list[WaiterFuture] | None

    def wake(self) -> None:
        waiters = self.waiters
        if waiters is not None:
            self.waiters = None
            for future in waiters:
                if not future.done():
                    future.set_result(None)

    def waiter_future(self) -> asyncio.Future[object]:
        future = WaiterFuture(loop=asyncio.get_running_loop())
        if self.waiters is None:
            self.waiters = [future]
        else:
            self.waiters.append(future)
        return future


@dataclass(slots=True)
class HeldLock(ReleaseSignal):
    """One lockable thing: each holder's counts per mode, and the futures of its waiters."""

    holds: dict[Hashable, list[int]] = field(default_factory=dict)  # holder -> count per mode
    waiters: list[WaiterFuture] | None = None

    def conflicts(self, holder: Hashable, mode: int) -> list[Hashable]:
        """Holders that keep `holder` from taking the lock in `mode`."""
        mask = CONFLICTS[mode]
        blockers = []
        for other, counts in self.holds.items():
            if other == holder:
                continue
            for held, count in enumerate(counts):
                if count and mask & (1 << held):
                    blockers.append(other)
                    break
        return blockers


class LockTable:
    """Locks in four modes on hashable keys, counted per holder (re-entrant, like PostgreSQL)."""

    def __init__(self, graph: WaitGraph) -> None:
        self.graph = graph
        self.locks: dict[Hashable, HeldLock] = {}

    def try_acquire(self, key: Hashable, holder: Hashable, mode: int) -> list[Hashable]:
        """Takes the lock if no other holder conflicts; otherwise returns those holders (nothing taken)."""
        lock = self.locks.get(key)
        if lock is None:
            lock = self.locks[key] = HeldLock()
        blockers = lock.conflicts(holder, mode)
        if blockers:
            return blockers
        counts = lock.holds.get(holder)
        if counts is None:
            counts = lock.holds[holder] = [0, 0, 0, 0]
        counts[mode] += 1
        return []

    async def acquire(
        self,
        key: Hashable,
        holder: Hashable,
        waiter: Hashable,
        mode: int,
        *,
        wait: str = "block",
        timeout_ms: int = 0,
        what: str = "lock",
    ) -> bool:
        """Takes the lock, waiting as needed; wait='nowait' raises 55P03 and 'skip' returns False."""
        for _ in range(1_000_000):
            blockers = self.try_acquire(key, holder, mode)
            if not blockers:
                return True
            lock = self.locks[key]
            if not lock.holds:
                del self.locks[key]
            if wait == "skip":
                return False
            if wait == "nowait":
                raise LockNotAvailable(f"could not obtain {what}")
            await self.graph.wait(waiter, blockers, lock.waiter_future(), timeout_ms, what)
        raise LockNotAvailable(f"could not obtain {what}")

    def release(self, key: Hashable, holder: Hashable, mode: int) -> bool:
        """Releases one hold; False when `holder` did not hold it in that mode."""
        lock = self.locks.get(key)
        counts = lock.holds.get(holder) if lock is not None else None
        if lock is None or counts is None or not counts[mode]:
            return False
        counts[mode] -= 1
        if not any(counts):
            del lock.holds[holder]
            if not lock.holds:
                del self.locks[key]
        lock.wake()
        return True

    def release_all(self, holder: Hashable, keys: Iterable[Hashable]) -> None:
        """Drops every hold of `holder` on `keys` (transaction end)."""
        for key in keys:
            lock = self.locks.get(key)
            if lock is None or lock.holds.pop(holder, None) is None:
                continue
            if not lock.holds:
                del self.locks[key]
            lock.wake()

    def holds(self, key: Hashable, holder: Hashable) -> bool:
        lock = self.locks.get(key)
        return lock is not None and holder in lock.holds
