"""A reader instance's end of the replica stream: follow the writer, apply, adopt, report back.

Owns the connection to the writer's replication port and what each message does on the
reader: Hello (re)starts the stream (after a reconnect or with a new writer: the reader said in
Subscribe up to which LSN it holds every record; when the stream starts within that, pending
records above the start are dropped and the cached pages stay; otherwise every cached page is
read again at the new stream's first VDL), Redo feeds the applier, Advance applies whole MTRs up to
the writer's VDL, moves the read point, adopts the writer's running transactions for new
snapshots and invalidates what upper layers decoded from changed metapages and catalog pages;
Feedback tells the writer the oldest xmin and the read point this reader still uses.
Promotion takes the cache over (`hand_over`): pages brought to the recovered VDL with the
records already received become the new writer's cache.
Not the apply rules (pagecache.replica), not snapshots (txn.replica), not the listener.

When the writer goes away the reader keeps serving at its last read point and reconnects
every RECONNECT_INTERVAL to the address it follows (`follow()` changes it).

    connect ─► Subscribe ─► Hello ─► [Redo | Advance | Geometry]* ─► (EOF: retry)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from pgaurora.errors import PgError
from pgaurora.pagecache import PageKind
from pgaurora.pagecache.replica import ReplicaApplier, ReplicaPageCache
from pgaurora.pagecache.replica_volume import ReplicaVolume
from pgaurora.server import replication_protocol as rp
from pgaurora.server.replication_storage import carry_derived, patch_derived
from pgaurora.txn.replica import ReplicaTransactionManager

log = logging.getLogger(__name__)

RECONNECT_INTERVAL = 0.2
FEEDBACK_INTERVAL = 0.05
LAG_SAMPLES = 4096


class ReplicaFollower:
    """Follows one writer; owns the reader's volume handle, page cache and transaction manager."""

    def __init__(self, writer_address: str, *, server_id: str, transport: Any, address: str = "",
                 capacity: int | None = None) -> None:
        self.writer_address = writer_address
        self.server_id = server_id
        self.address = address
        self.transport = transport
        self.capacity = capacity
        self.volume: ReplicaVolume | None = None
        self.cache: ReplicaPageCache | None = None
        self.applier: ReplicaApplier | None = None
        self.txns: ReplicaTransactionManager | None = None
        self.storage: Any = None  # set by the instance once the engine is open
        self.catalog: Any = None
        self.writer_server_id = ""
        self.session_id = ""
        self.connected = False
        self.last_message_at = 0.0
        self.last_error = ""
        self.last_error_at = 0.0
        self.lag_ms = 0.0
        self.lag_samples: list[float] = []  # ms, writer durable -> applied here (benchmarks)
        self.replay_latency_us = 0
        self.last_replay_at = 0.0  # the writer's time of the last VDL applied here
        self.durable_lsn = 0  # the writer's VDL as last heard
        self.metadata = b""
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reconnect = asyncio.Event()
        self._stopped = False
        self._catalog_watch: set[int] = set()
        self._resync_epoch: int | None = None  # set by a Hello of a new stream, until its first Advance
        self._resync_groups: list[list[str]] = []
        self._dirty = False  # an apply failed half way: the next stream re-reads every page
        self._last_feedback = 0.0
        self.streams_kept = 0  # new streams that kept the cached pages
        self.streams_resynced = 0  # new streams that re-read them

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self, timeout: float = 60.0) -> None:
        """Connects and returns once the first Advance is applied (pages and snapshots agree)."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        ready = asyncio.ensure_future(self._ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if self._task in done:
                self._task.result()
            raise TimeoutError(f"no replication stream from {self.writer_address} within {timeout:g} s: "
                               f"{self.last_error}")

    async def stop(self) -> None:
        self._stopped = True
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.connected = False

    def follow(self, address: str) -> None:
        """Follow another writer (after a failover): reconnects now."""
        self.writer_address = address
        if self._writer is not None:
            self._writer.close()
        self._reconnect.set()

    # -- the stream ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopped:
            try:
                await self._stream()
            except (ConnectionError, OSError, TimeoutError, PgError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.last_error_at = time.time()
            except Exception as exc:  # a bug: log it, and start over with a new stream (resync)
                log.exception("replication stream from %s failed", self.writer_address)
                self._dirty = True  # pages may hold part of an MTR: re-read them all
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.last_error_at = time.time()
            self.connected = False
            self._writer = None
            if self._stopped:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reconnect.wait(), RECONNECT_INTERVAL)  # retry an external process
            self._reconnect.clear()

    async def _stream(self) -> None:
        host, _, port = self.writer_address.rpartition(":")
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5.0)
        self._writer = writer
        try:
            applier = self.applier
            if applier is None or self._dirty or self._resync_epoch is not None:
                writer.write(rp.encode(rp.Subscribe(self.server_id, self.address)))
            else:
                writer.write(rp.encode(rp.Subscribe(self.server_id, self.address, applier.read_lsn,
                                                    applier.highest_lsn_rcvd)))
            decoder = rp.FrameDecoder()
            while True:
                data = await reader.read(1 << 20)
                if not data:
                    raise ConnectionError("the writer closed the replication stream")
                self.last_message_at = time.time()
                for message in decoder.feed(data):
                    if isinstance(message, rp.Redo):
                        assert self.applier is not None
                        self.applier.receive(message.first_lsn, message.records)
                    elif isinstance(message, rp.Advance):
                        if self._resync_epoch is not None:
                            await self._resync(message)
                        self._advance(message)
                    elif isinstance(message, rp.Hello):
                        await self._hello(message)
                        self.connected = True
                    elif isinstance(message, rp.Geometry):
                        self._save_metadata(message.metadata)
        finally:
            writer.close()

    async def _hello(self, hello: rp.Hello) -> None:
        self.writer_server_id = hello.server_id
        self.session_id = hello.session_id
        self._save_metadata(hello.metadata)
        if self.volume is None:
            volume = self.volume = ReplicaVolume(self.transport, hello.volume_id, hello.pages_per_group,
                                                 hello.groups, hello.start_lsn, hello.epoch)
            cache = self.cache = (ReplicaPageCache(volume) if self.capacity is None
                                  else ReplicaPageCache(volume, self.capacity))
            self.applier = ReplicaApplier(cache, hello.start_lsn, self._meta_changed)
            self.applier.patch_derived = patch_derived
            self.txns = ReplicaTransactionManager(cache)
            return
        applier, volume = self.applier, self.volume
        assert applier is not None and self.cache is not None
        start = hello.start_lsn
        if (not self._dirty and self._resync_epoch is None and hello.volume_id == volume.volume_id
                and applier.read_lsn <= start <= applier.highest_lsn_rcvd and applier.trim(start)):
            # Every record up to `start` is here (applied, or pending and applied at the next
            # Advance in the same synchronous step as the rest): the cached pages stay.
            volume.groups = [list(g) for g in hello.groups]
            volume.epoch = hello.epoch
            self.streams_kept += 1
            log.info("new replication stream at LSN %d (read point %d): cached pages kept", start, applier.read_lsn)
            return
        self.streams_resynced += 1
        # Records after start_lsn arrive now; the pages are re-read at the first Advance, when
        # the new stream says which segments are complete for its VDL. Until then sessions go
        # on reading at the old read point.
        log.warning("new replication stream at LSN %d (was at %d, epoch %d -> %d)",
                    hello.start_lsn, applier.read_lsn, volume.epoch, hello.epoch)
        applier.pending.clear()
        applier.highest_lsn_rcvd = hello.start_lsn
        self._resync_epoch = hello.epoch
        self._resync_groups = hello.groups

    async def _resync(self, advance: rp.Advance) -> None:
        """Moves every cached page to the new stream's first VDL (re-read from storage there)."""
        applier, volume, cache = self.applier, self.volume, self.cache
        assert applier is not None and volume is not None and cache is not None and self._resync_epoch is not None
        vdl = advance.vdl
        while applier.pending and applier.pending[0][1] <= vdl:
            applier.pending.popleft()  # in the images read at vdl already
        epoch, self._resync_epoch = self._resync_epoch, None
        self._dirty = True  # until the re-read below completes
        volume.advance(volume.read_lsn, advance.pgcls, advance.groups or self._resync_groups)
        await cache.resync(vdl)  # sessions read at the old read point meanwhile
        volume.reset(vdl, volume.groups, epoch)
        applier.read_lsn = vdl
        self._dirty = False
        self._invalidate_all()
        log.warning("re-read the cached pages at LSN %d", vdl)

    def _advance(self, advance: rp.Advance) -> None:
        applier, volume, txns = self.applier, self.volume, self.txns
        assert applier is not None and volume is not None and txns is not None
        started = time.perf_counter()
        moved = advance.vdl > applier.read_lsn
        touched = applier.advance(advance.vdl)
        volume.advance(advance.vdl, advance.pgcls, advance.groups)
        if advance.vdl >= applier.read_lsn:
            txns.adopt(advance.xmin, advance.xmax, advance.xip, advance.vdl)
        self.durable_lsn = max(self.durable_lsn, advance.vdl)
        self._watch_catalog(touched, advance.xip)
        now = time.time()
        if moved:
            self.last_replay_at = advance.durable_at
            self.replay_latency_us = int((time.perf_counter() - started) * 1e6)
            self.lag_ms = max(0.0, (now - advance.durable_at) * 1000.0)
            samples = self.lag_samples
            samples.append(self.lag_ms)
            if len(samples) > LAG_SAMPLES:
                del samples[: LAG_SAMPLES // 2]
        if not self._ready.is_set():
            self._ready.set()
        if now - self._last_feedback >= FEEDBACK_INTERVAL:
            self.send_feedback(now)

    def hand_over(self, vdl: int) -> tuple[list[tuple[int, Any]], dict[int, Any]] | None:
        """Promotion (the follower is stopped, the volume recovered at `vdl`): the cached pages,
        brought to `vdl` with the records already received, for the new writer's page cache;
        None when some record at or below `vdl` never arrived (the writer starts cold)."""
        applier, cache = self.applier, self.cache
        if applier is None or cache is None or self._dirty or self._resync_epoch is not None:
            return None
        if not applier.settle(vdl):
            log.warning("promotion: records up to VDL %d did not all arrive (have %d): the page cache starts cold",
                        vdl, applier.highest_lsn_rcvd)
            return None
        pages, forms = cache.hand_over(vdl)
        return pages, carry_derived(forms)

    def send_feedback(self, now: float | None = None) -> None:
        writer, applier, txns = self._writer, self.applier, self.txns
        if writer is None or writer.is_closing() or applier is None or txns is None:
            return
        self._last_feedback = now or time.time()
        writer.write(rp.encode(rp.Feedback(applier.read_lsn, txns.oldest_xmin(), applier.highest_lsn_rcvd,
                                           self.lag_ms, self.replay_latency_us, txns.active_transactions())))

    def _save_metadata(self, metadata: bytes) -> None:
        """Kept for promotion: the volume metadata a new writer opens (epoch, groups, truncations)."""
        if metadata:
            self.metadata = metadata

    # -- what upper layers decoded from pages ----------------------------------------------------

    def _meta_changed(self, page_no: int, kind: int) -> None:
        storage = self.storage
        if storage is None:
            return
        if kind == PageKind.HEAP_META:
            for heap in storage._heaps.values():
                pagelist = heap.pagelist
                if page_no in pagelist.meta_pages:
                    pagelist.loaded = False
        elif kind == PageKind.BTREE_META:
            btree = storage._btrees.get(page_no)
            if btree is not None:
                btree.forget()

    def _watch_catalog(self, touched: set[int], xip: list[int]) -> None:
        """Reload the catalog when its pages changed, and again as each writer then running ends."""
        catalog = self.catalog
        if catalog is None:
            return
        watch = self._catalog_watch
        if watch:
            still = watch.intersection(xip)
            if len(still) != len(watch):
                catalog._needs_reload = True
                self._catalog_watch = watch = still
        if not touched:
            return
        heap = self.storage.heap(catalog.rel_id)
        pagelist = heap.pagelist
        if not pagelist.loaded or not touched.isdisjoint(pagelist.pages) or not touched.isdisjoint(pagelist.meta_pages):
            catalog._needs_reload = True
            watch.update(xip)

    def _invalidate_all(self) -> None:
        storage, txns = self.storage, self.txns
        if storage is not None:
            for heap in storage._heaps.values():
                heap.pagelist.loaded = False
            for btree in storage._btrees.values():
                btree.forget()
        if txns is not None:
            txns.clog.refresh()
        if self.catalog is not None:
            self.catalog._needs_reload = True

    # -- status ----------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        applier = self.applier
        return {
            "connected": self.connected,
            "writer": self.writer_address,
            "read_lsn": applier.read_lsn if applier else 0,
            "highest_lsn_rcvd": applier.highest_lsn_rcvd if applier else 0,
            "durable_lsn": self.durable_lsn,
            "lag_ms": self.lag_ms,
            "records_applied": applier.records_applied if applier else 0,
            "records_dropped": applier.records_dropped if applier else 0,
            "streams_kept": self.streams_kept,
            "streams_resynced": self.streams_resynced,
            "last_message_at": self.last_message_at,
            "last_error": self.last_error,
        }

    def status_rows(self) -> list[dict[str, Any]]:
        """aurora_replica_status() rows on a reader: the writer as last heard, then itself."""
        applier, txns = self.applier, self.txns
        read_lsn = applier.read_lsn if applier else 0
        return [
            dict(server_id=self.writer_server_id, session_id="MASTER_SESSION_ID", durable_lsn=self.durable_lsn,
                 highest_lsn_rcvd=None, current_read_lsn=self.durable_lsn, cur_replay_latency_in_usec=None,
                 active_txns=None, is_current=self.connected, last_update_timestamp=self.last_message_at or None,
                 feedback_xmin=None, replica_lag_in_msec=None),
            dict(server_id=self.server_id, session_id=self.session_id, durable_lsn=self.durable_lsn,
                 highest_lsn_rcvd=applier.highest_lsn_rcvd if applier else None, current_read_lsn=read_lsn,
                 cur_replay_latency_in_usec=self.replay_latency_us,
                 active_txns=txns.active_transactions() if txns else 0, is_current=self.connected,
                 last_update_timestamp=self.last_message_at or None,
                 feedback_xmin=txns.oldest_xmin() if txns else None, replica_lag_in_msec=self.lag_ms),
        ]
