"""Time for the storage layer: the event loop's clock in production, a simulated one in tests.

Owns every timer the log client and the storage nodes use (RPC timeouts, retries, gossip,
write timeouts), so that golden scripts can drive time explicitly (STYLE.md §7). Not the
network (logstore.transport, logstore.simnet).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], Any]) -> TimerHandle: ...

    async def sleep(self, delay: float) -> None: ...

    async def wait_for(self, awaitable: Awaitable[T], timeout: float) -> T: ...


class RealClock:
    """The running event loop's monotonic clock."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def call_later(self, delay: float, callback: Callable[[], Any]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(delay, callback)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)

    async def wait_for(self, awaitable: Awaitable[T], timeout: float) -> T:
        return await asyncio.wait_for(awaitable, timeout)


class _SimTimer:
    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when: float, callback: Callable[[], Any]):
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class SimClock:
    """A clock that moves only when the test says so: `await clock.advance(seconds)`.

    Timers fire in time order; between firings the event loop runs until it is idle, so that
    everything a timer sets in motion (simulated deliveries, replies, acks) settles first.
    """

    def __init__(self) -> None:
        self._now = 0.0
        self._timers: list[tuple[float, int, _SimTimer]] = []
        self._sequence = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], Any]) -> TimerHandle:
        timer = _SimTimer(self._now + max(delay, 0.0), callback)
        heapq.heappush(self._timers, (timer.when, next(self._sequence), timer))
        return timer

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_later(delay, wake)
        try:
            await future
        finally:
            timer.cancel()

    async def wait_for(self, awaitable: Awaitable[T], timeout: float) -> T:
        task = asyncio.ensure_future(awaitable)
        timed_out = False

        def expire() -> None:
            nonlocal timed_out
            if not task.done():
                timed_out = True
                task.cancel()

        timer = self.call_later(timeout, expire)
        try:
            return await task
        except asyncio.CancelledError:
            if timed_out:
                raise TimeoutError from None
            raise
        finally:
            timer.cancel()

    def next_timer(self) -> float | None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    async def advance(self, seconds: float) -> None:
        """Moves time forward by `seconds`, firing due timers in order and settling after each."""
        deadline = self._now + seconds
        await settle()
        for _ in range(1_000_000):
            when = self.next_timer()
            if when is None or when > deadline:
                break
            _, _, timer = heapq.heappop(self._timers)
            self._now = max(self._now, timer.when)
            timer.callback()
            await settle()
        self._now = deadline
        await settle()


async def settle(max_rounds: int = 10_000) -> None:
    """Runs the event loop until nothing is ready to run (bounded)."""
    loop = asyncio.get_running_loop()
    for _ in range(max_rounds):
        await asyncio.sleep(0)
        if not loop._ready:  # type: ignore[attr-defined]
            # One more round: a callback may have just scheduled another.
            await asyncio.sleep(0)
            if not loop._ready:  # type: ignore[attr-defined]
                return
