"""When a long-running server process pays for CPython's full garbage collections.

Owns the schedule of the cyclic GC in writer, reader and storage-node processes. Not memory
limits, not the page cache's size (pagecache.cache).

A full collection visits every reference held by every tracked container: a cached heap page's
item list is one container whose every item gets visited. Measured in a writer with a
100,000-row table cached (about 1,000 pages, 440,000 references): 8 ms of CPU per full
collection, every two seconds under an update load, with every session stalled meanwhile (the
p99.9 of a commit); with pgbench's 1,000,000 accounts cached it would be about ten times that.
Objects frozen with `gc.freeze()` are skipped by collections, so:

    start:            collect everything, freeze it (modules, catalog, what start-up built)
    every 2 s:        collect the young generations, freeze the survivors (pages cached since)
    every 300 s:      unfreeze, collect everything, freeze again

so the automatic collections only walk what survived the last two seconds. Pages and rows
are freed by reference counting when the cache drops them, frozen or not; the price is that a
reference cycle alive at a freeze and garbage later waits for the next five-minute full
collection (one pause of the old size, instead of one every few seconds).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

FREEZE_SECONDS = 2.0
FULL_SECONDS = 300.0


class GcPolicy:
    """The schedule above for one process; `start()` in its event loop, `stop()` at shutdown."""

    def __init__(self, freeze_seconds: float = FREEZE_SECONDS, full_seconds: float = FULL_SECONDS):
        self.freeze_seconds = freeze_seconds
        self.full_seconds = full_seconds
        self.freezes = 0
        self.full_collections = 0
        self.last_full_ms = 0.0  # CPU time of the newest full collection
        self._last_full = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self.full()
        self._timer = asyncio.get_running_loop().call_later(self.freeze_seconds, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def full(self) -> None:
        """Unfreezes, collects everything, freezes what is left."""
        began = time.thread_time()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.last_full_ms = (time.thread_time() - began) * 1000.0
        self._last_full = time.monotonic()
        self.full_collections += 1
        log.debug("full collection: %.1f ms, %d objects frozen", self.last_full_ms, gc.get_freeze_count())

    def freeze_young(self) -> None:
        """Collects the young generations and freezes the survivors (and the old generation)."""
        gc.collect(1)
        gc.freeze()
        self.freezes += 1

    def _tick(self) -> None:
        try:
            if time.monotonic() - self._last_full >= self.full_seconds:
                self.full()
            else:
                self.freeze_young()
        finally:
            self._timer = asyncio.get_running_loop().call_later(self.freeze_seconds, self._tick)
