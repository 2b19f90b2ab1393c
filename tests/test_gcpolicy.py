"""The cyclic GC schedule of server processes: what it freezes, and that frozen cycles that
became garbage are still reclaimed by the periodic full collection."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from pgaurora.gcpolicy import GcPolicy


@pytest.fixture(autouse=True)
def _unfreeze_after() -> Iterator[None]:
    yield
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _tracked(obj: object) -> bool:
    """Whether a collection of any generation would walk `obj` (frozen objects are not)."""
    return any(o is obj for o in gc.get_objects())


async def test_survivors_are_frozen_out_of_collections() -> None:
    policy = GcPolicy(freeze_seconds=3600, full_seconds=3600)
    before = [b"item"] * 1000  # a cached page's item list, say
    policy.start()
    try:
        assert policy.full_collections == 1 and gc.get_freeze_count() > 0
        assert not _tracked(before)
        after = [b"item"] * 1000
        assert _tracked(after)
        policy.freeze_young()
        assert policy.freezes == 1 and not _tracked(after)
    finally:
        policy.stop()


async def test_a_frozen_cycle_that_becomes_garbage_goes_at_the_full_collection() -> None:
    policy = GcPolicy(freeze_seconds=3600, full_seconds=3600)
    policy.start()
    try:
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        policy.freeze_young()  # alive now: frozen
        del a, b
        gc.collect()
        assert gone() is not None  # frozen: no collection sees the cycle
        policy.full()
        assert gone() is None and policy.full_collections == 2
        assert policy.last_full_ms >= 0.0
    finally:
        policy.stop()


async def test_the_schedule_runs_on_the_loop_until_stopped() -> None:
    # A full collection of a whole test process takes a while: the ticks between two of them
    # freeze, the tick a second after the last one collects everything.
    policy = GcPolicy(freeze_seconds=0.01, full_seconds=1.0)
    policy.start()
    try:
        for _ in range(1000):  # bounded: 10 s at most
            if policy.freezes >= 2 and policy.full_collections >= 2:
                break
            await asyncio.sleep(0.01)
        assert policy.freezes >= 2 and policy.full_collections >= 2
    finally:
        policy.stop()
    freezes = policy.freezes
    await asyncio.sleep(0.05)
    assert policy.freezes == freezes  # stopped
