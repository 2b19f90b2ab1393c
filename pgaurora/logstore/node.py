"""A storage node: hosts many segments and answers the storage RPC; gossips, coalesces, collects.

Owns request dispatch to segments, the epoch check (a stale epoch is refused: invariant 4),
gossip with peer segments to fill holes, read-path repair of damaged pages from peers, and
the background coalescing/GC pass. Not the socket (logstore.tcp), not the segment's data
structures (logstore.segment). Storage nodes have no vote: they accept any write of the
current epoch.

    data/<volume>/group-<n>/   one directory per hosted segment (meta.json, log.*, images.*)
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import os
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pgaurora.errors import DataCorrupted, DiskFull, InternalError, PgError
from pgaurora.logstore import messages as m
from pgaurora.logstore.clock import Clock, RealClock, TimerHandle
from pgaurora.logstore.nodelog import NodeLog
from pgaurora.logstore.records import decode_records, frame_of
from pgaurora.logstore.segment import (
    LSN_BITS,
    LSN_MASK,
    GarbagePass,
    ImageCompaction,
    Segment,
    SegmentDamaged,
)
from pgaurora.logstore.transport import Transport

log = logging.getLogger(__name__)

SegmentKey = tuple[str, int]
COALESCE_STEP_PAGES = 4  # page images the background pass writes per loop turn
GC_STEP_PAGES = 16  # pages a garbage collection pass takes per loop turn (most have few records)
COMPACT_STEP_FRAMES = 128  # page images an image-file compaction copies per loop turn (about 1.5 ms)


class StorageNode:
    def __init__(
        self,
        data_dir: Path | str,
        address: str,
        az: str = "a",
        *,
        transport: Transport | None = None,
        clock: Clock | None = None,
        fsync: bool = True,
        gossip_delay: float = 0.05,
        background_interval: float = 1.0,
        rpc_timeout: float = 2.0,
        coalesce_threshold: int = 32,
        retention_lsns: int = 0,
        gc_min_lsns: int = 0,
        gc_max_delay: float = 10.0,
        gc_defer_lsns: int = 0,
        node_log: bool = True,
    ):
        self.data_dir = Path(data_dir)
        self.address = address
        self.az = az
        self.transport = transport
        self.clock: Clock = clock or RealClock()
        self.fsync = fsync
        self.gossip_delay = gossip_delay
        self.background_interval = background_interval
        self.rpc_timeout = rpc_timeout
        self.coalesce_threshold = coalesce_threshold
        self.retention_lsns = retention_lsns
        # A segment's GC runs once its horizon could move gc_min_lsns, or gc_max_delay seconds
        # after its last run: each run rewrites meta.json (two fsyncs) and looks at every page
        # with old records, so running it every background pass cost more than the appends.
        self.gc_min_lsns = gc_min_lsns
        self.gc_max_delay = gc_max_delay
        # A page with a few records, all less than gc_defer_lsns below the horizon, keeps them
        # through a collection instead of getting a new image (segment.GarbagePass).
        self.gc_defer_lsns = gc_defer_lsns
        self._gc_at: dict[SegmentKey, float] = {}
        # One durable log for every segment of the node (logstore.nodelog); False: each segment's
        # hot log syncs itself.
        self.node_log = NodeLog(self.data_dir / "nodelog", fsync=fsync) if node_log else None
        self.segments: dict[SegmentKey, Segment] = {}
        self.min_read_lsn: dict[SegmentKey, int] = {}
        self.running = False
        self._gossip_wanted: set[SegmentKey] = set()
        self._gossip_timer: TimerHandle | None = None
        self._gossiping = False
        self._background_timer: TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        self._peer_failed: dict[str, float] = {}  # peer -> when a call to it last failed

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Opens every segment found under the data directory (restart from disk), then gives them
        what the node log holds beyond their own files."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for meta in sorted(self.data_dir.glob("*/group-*/meta.json")):
            segment = Segment.open(meta.parent, fsync=self.fsync, node_log=self.node_log)
            key = (segment.volume, segment.group)
            self.segments[key] = segment
        if self.node_log is not None:
            self._replay_node_log(self.node_log)
        for key, segment in self.segments.items():
            if segment.damaged or segment.has_hole():
                self._gossip_wanted.add(key)
        self.running = True
        if self._gossip_wanted:
            self._schedule_gossip()
        self._schedule_background(first=True)

    def _replay_node_log(self, node_log: NodeLog) -> None:
        touched: set[SegmentKey] = set()

        def apply(volume: str, group: int, frames: memoryview) -> None:
            segment = self.segments.get((volume, group))
            if segment is None:
                return  # a segment dropped since (its directory is gone)
            try:
                segment.replay_frames(frames)
            except DataCorrupted:
                segment.damaged = True
                return
            touched.add((volume, group))

        node_log.replay(apply)
        for key in touched:
            segment = self.segments[key]
            segment.log.sync()  # durable in the segment's own file before the node log goes
            segment.durable_scl = segment.scl
        node_log.open()
        node_log.drop_files()

    async def stop(self) -> None:
        self.running = False
        for timer in (self._gossip_timer, self._background_timer):
            if timer is not None:
                timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for segment in self.segments.values():
            segment.close()
        self.segments.clear()
        if self.node_log is not None:
            self.node_log.close()

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _segment_dir(self, volume: str, group: int) -> Path:
        return self.data_dir / volume / f"group-{group:06d}"

    # -- dispatch ---------------------------------------------------------------------------------

    async def handle(self, request: m.Request) -> m.Reply:
        try:
            handler = _HANDLERS[type(request)]
            return await handler(self, request)
        except PgError as exc:
            return _refusal(exc)

    def _segment(self, request) -> Segment | m.Refused:
        segment = self.segments.get((request.volume, request.group))
        if segment is None:
            return m.Refused("no_segment", f"node {self.address} has no segment of group {request.group}")
        return segment

    @staticmethod
    def _stale(segment: Segment, epoch: int) -> m.Refused | None:
        if epoch < segment.epoch:
            return m.Refused(
                "stale_epoch",
                f"volume epoch {epoch} is older than the segment's epoch {segment.epoch}",
                segment.epoch,
            )
        return None

    def _append_to(self, request: m.AppendBatch) -> Segment | m.Refused:
        """The segment an AppendBatch goes to, or why it is refused."""
        segment = self.segments.get((request.volume, request.group))
        if segment is None:
            return m.Refused("no_segment", f"node {self.address} has no segment of group {request.group}")
        if request.epoch != segment.epoch:
            if stale := self._stale(segment, request.epoch):
                return stale
            return m.Refused("epoch_behind", f"segment is at epoch {segment.epoch}", segment.epoch)
        if request.min_read_lsn:
            self.min_read_lsn[(request.volume, request.group)] = request.min_read_lsn
        return segment

    def _appended(self, segment: Segment, request: m.AppendBatch) -> None:
        """After a batch is indexed: a segment with a hole or below the group's PGCL gossips."""
        if request.pgcl > segment.target_scl:
            segment.target_scl = request.pgcl
        if segment.next_by_prev or segment.target_scl > segment.scl:
            self.want_gossip((request.volume, request.group))

    async def _append(self, request: m.AppendBatch) -> m.Reply:
        """handle() of an AppendBatch (in-process transports): append_batch with a future."""
        acked: asyncio.Future[m.Reply] = asyncio.get_running_loop().create_future()

        def reply(answer: m.Reply) -> None:
            if not acked.done():
                acked.set_result(answer)

        self.append_batch(request, reply)
        return await acked

    def append_batch(self, request: m.AppendBatch, reply: Callable[[m.Reply], None]) -> None:
        """handle() of an AppendBatch without a coroutine or task (logstore.tcp's hot path): calls
        `reply` with the Ack once the batch is durable, from the sync round that made it so (at
        once when it is refused, nothing in it is new, or fsync is off)."""
        try:
            segment = self._append_to(request)
            if isinstance(segment, m.Refused):
                reply(segment)
                return
            logged = segment.index_batch(decode_records(request.records), request.records, request.vdl)
            self._appended(segment, request)
        except PgError as exc:
            reply(_refusal(exc))
            return
        except Exception as exc:  # a bug: refuse the batch, keep serving
            log.exception("AppendBatch for group %d failed", request.group)
            reply(m.Refused("internal", f"internal error: {exc}"))
            return
        if logged is None:
            reply(m.Ack(segment.durable_scl, segment.epoch))
            return
        scl = segment.scl

        def durable(error: BaseException | None) -> None:
            if error is None:
                reply(m.Ack(segment.made_durable(scl), segment.epoch))
            else:
                reply(_refusal(error if isinstance(error, PgError) else InternalError(str(error))))

        try:
            segment.log_batch(logged, durable)
        except OSError as exc:  # the node log could not even queue it (e.g. its file is gone)
            kind = DiskFull if exc.errno == errno.ENOSPC else InternalError
            reply(_refusal(kind(f"the batch was not logged: {exc}")))

    async def _read_page(self, request: m.ReadPage) -> m.Reply:
        segment = self._segment(request)
        if isinstance(segment, m.Refused):
            return segment
        if request.min_scl > segment.scl:
            return m.Refused("incomplete", f"segment SCL {segment.scl} is below {request.min_scl}")
        if request.read_lsn < segment.gc_horizon:
            return m.Refused(
                "below_horizon", f"read point {request.read_lsn} is below the GC horizon {segment.gc_horizon}"
            )
        try:
            page = segment.materialize(request.page, request.read_lsn)
        except SegmentDamaged:
            image = await self._repair_image(segment, request.page, request.read_lsn)
            if image is None:
                return m.Refused("corrupt", f"page {request.page} is damaged on {self.address}")
            return m.PageImage(image, segment.scl)
        return m.PageImage(None if page is None else page.to_bytes(), segment.scl)

    async def _repair_image(self, segment: Segment, page: int, lsn: int) -> bytes | None:
        for peer in self._peers(segment):
            try:
                reply = await self._call(peer, m.FetchImage(segment.volume, segment.group, page, lsn))
            except (ConnectionError, TimeoutError, OSError):
                continue
            if isinstance(reply, m.PageImage) and reply.image is not None:
                segment.adopt_image(page, lsn, reply.image)
                return reply.image
        return None

    async def _fetch_image(self, request: m.FetchImage) -> m.Reply:
        segment = self._segment(request)
        if isinstance(segment, m.Refused):
            return segment
        if request.lsn > segment.scl or request.lsn < segment.gc_horizon:
            return m.Refused("incomplete", f"cannot rebuild page {request.page} at LSN {request.lsn}")
        try:
            page = segment.materialize(request.page, request.lsn)
        except SegmentDamaged:
            return m.Refused("corrupt", f"page {request.page} is damaged on {self.address}")
        return m.PageImage(None if page is None else page.to_bytes(), segment.scl)

    async def _status(self, request: m.Status) -> m.Reply:
        segment = self.segments.get((request.volume, request.group))
        if segment is None:
            return m.StatusReply(False)
        return m.StatusReply(
            True,
            segment.durable_scl,
            segment.epoch,
            segment.vdl_hint,
            segment.max_lsn,
            segment.members,
            segment.log.fsync_count + (self.node_log.fsync_count if self.node_log is not None else 0),
        )

    async def _recovery_scan(self, request: m.RecoveryScan) -> m.Reply:
        segment = self._segment(request)
        if isinstance(segment, m.Refused):
            return segment
        if stale := self._stale(segment, request.epoch):
            return stale
        lsns, cpls, last = segment.recovery_scan(request.floor)
        return m.RecoveryReply(segment.durable_scl, lsns, cpls, last, segment.max_lsn)

    async def _set_epoch(self, request: m.SetEpoch) -> m.Reply:
        key = (request.volume, request.group)
        segment = self.segments.get(key)
        if segment is None:
            segment = Segment.create(
                self._segment_dir(request.volume, request.group),
                request.volume,
                request.group,
                epoch=request.epoch,
                members=request.members,
                fsync=self.fsync,
                node_log=self.node_log,
            )
            self.segments[key] = segment
        if stale := self._stale(segment, request.epoch):
            return stale
        segment.set_epoch(request.epoch, request.truncate_above, request.members, list(request.truncations))
        if request.required_scl > segment.scl:
            segment.target_scl = max(segment.target_scl, request.required_scl)
            self.want_gossip(key)
        return m.Ack(segment.durable_scl, segment.epoch)

    async def _create(self, request: m.CreateSegment) -> m.Reply:
        key = (request.volume, request.group)
        segment = self.segments.get(key)
        if segment is None:
            segment = Segment.create(
                self._segment_dir(request.volume, request.group),
                request.volume,
                request.group,
                epoch=request.epoch,
                members=request.members,
                truncations=list(request.truncations),
                fsync=self.fsync,
                node_log=self.node_log,
            )
            self.segments[key] = segment
            self.want_gossip(key)
            return m.Ack(segment.durable_scl, segment.epoch)
        if stale := self._stale(segment, request.epoch):
            return stale
        segment.set_epoch(request.epoch, -1, request.members, list(request.truncations))
        return m.Ack(segment.durable_scl, segment.epoch)

    async def _change_membership(self, request: m.ChangeMembership) -> m.Reply:
        segment = self._segment(request)
        if isinstance(segment, m.Refused):
            return segment
        if stale := self._stale(segment, request.epoch):
            return stale
        segment.members = list(request.members)
        segment.save_meta()
        return m.Ack(segment.durable_scl, segment.epoch)

    async def _fetch_chain(self, request: m.FetchChain) -> m.Reply:
        segment = self._segment(request)
        if isinstance(segment, m.Refused):
            return segment
        images: list[tuple[int, int, bytes]] = []
        base_scl = 0
        if request.after_lsn < segment.gc_horizon:
            base_scl = segment._base_scl()
            horizon = segment.gc_horizon
            newest: dict[int, int] = {}
            for key in segment.images.keys():
                if key & LSN_MASK <= horizon:
                    newest[key >> LSN_BITS] = key
            # A page a collection deferred kept its records below the horizon (no image covers
            # them) and the records sent below start above base_scl: it gets an image at its last
            # record below the horizon, made now.
            kept: dict[int, int] = {}
            for page in segment.by_lsn.pages_at_or_below(horizon):
                lsn = segment.by_lsn.page_last_at_or_below(page, horizon)
                if lsn is not None:
                    kept[page] = lsn
            for page, key in newest.items():
                if page in kept:
                    continue
                image = segment._read_image(key)
                if image is not None:
                    images.append((page, key & LSN_MASK, image.to_bytes()))
            for page, lsn in kept.items():
                try:
                    made = segment.materialize(page, lsn)
                except SegmentDamaged:
                    continue  # the peer repairs it from another replica when it reads it
                if made is not None:
                    images.append((page, lsn, made.to_bytes()))
            after = max(request.after_lsn, base_scl)
        else:
            after = request.after_lsn
        records = segment.chain_after(after, request.limit)
        return m.Chain(
            b"".join(frame_of(r) for r in records),
            segment.scl,
            base_scl,
            segment.gc_horizon,
            images,
            segment.epoch,
            list(segment.truncations),
        )

    # -- gossip -----------------------------------------------------------------------------------

    def _peers(self, segment: Segment) -> list[str]:
        """The segment's peers, those that failed us least recently first."""
        peers = [member for member in segment.members if member != self.address]
        failed = self._peer_failed
        return sorted(peers, key=lambda peer: failed.get(peer, float("-inf")))

    async def _call(self, address: str, request: m.Request) -> m.Reply:
        if self.transport is None:
            raise ConnectionError("node has no transport to its peers")
        return await self.clock.wait_for(self.transport.call(address, request), self.rpc_timeout)

    def want_gossip(self, key: SegmentKey) -> None:
        self._gossip_wanted.add(key)
        self._schedule_gossip()

    def _schedule_gossip(self) -> None:
        if self._gossip_timer is None and self.running and not self._gossiping:
            self._gossip_timer = self.clock.call_later(self.gossip_delay, self._start_gossip)

    def _start_gossip(self) -> None:
        self._gossip_timer = None
        if self.running:
            self._gossiping = True
            self._spawn(self._gossip())

    async def _gossip(self) -> None:
        try:
            wanted = sorted(self._gossip_wanted)
            self._gossip_wanted = set()
            segments = [(key, self.segments.get(key)) for key in wanted]
            done = await asyncio.gather(
                *(self.fill_from_peers(segment) for _, segment in segments if segment is not None)
            )
            for (key, _), filled in zip([s for s in segments if s[1] is not None], done, strict=True):
                if not filled:
                    self._gossip_wanted.add(key)
        finally:
            self._gossiping = False
        if self._gossip_wanted and self.running:
            self._gossip_timer = self.clock.call_later(max(self.gossip_delay, 0.2), self._start_gossip)

    async def fill_from_peers(self, segment: Segment, rounds: int = 100) -> bool:
        """Pulls chain records above this segment's SCL from peers; True when no hole remains."""
        for peer in self._peers(segment):
            for _ in range(rounds):
                try:
                    reply = await self._call(peer, m.FetchChain(segment.volume, segment.group, segment.scl))
                except (ConnectionError, TimeoutError, OSError):
                    self._peer_failed[peer] = self.clock.now()
                    break
                if not isinstance(reply, m.Chain) or not self.running:
                    break
                if reply.epoch > segment.epoch:
                    segment.set_epoch(reply.epoch, -1, None, list(reply.truncations))
                if reply.images and reply.base_scl > segment.scl:
                    for page, lsn, image in reply.images:
                        segment.adopt_image(page, lsn, image)
                    segment.gc_horizon = max(segment.gc_horizon, reply.gc_horizon)
                    segment.scl = segment.durable_scl = segment.base_lsn = reply.base_scl
                    segment.next_by_prev = {
                        p: n for p, n in segment.next_by_prev.items() if n > segment.scl
                    }
                    segment.save_meta()
                received = decode_records(reply.records)
                records = [r for r in received if r.epoch <= segment.epoch]
                if not records:
                    break
                before = segment.scl
                frames = reply.records if len(records) == len(received) else b"".join(frame_of(r) for r in records)
                await segment.append(records, frames)
                if segment.scl == before:
                    break
            if not segment.has_hole() and segment.scl >= segment.target_scl:
                return True
        return not segment.has_hole() and segment.scl >= segment.target_scl

    # -- background -------------------------------------------------------------------------------

    def _schedule_background(self, first: bool = False) -> None:
        """The next background pass, `background_interval` after this one ended. The first waits
        a fraction of an interval more, fixed by the node's address: the six replicas of a group
        get the same batches, so passes started together would coalesce, collect garbage and
        checkpoint the node log together too, and a write waits for its fourth ack while three
        nodes are busy (each pass stalls its node's loop 5-30 ms; seen: five nodes 150 ms at once)."""
        if self.running and self.background_interval > 0:
            delay = self.background_interval
            if first:
                delay *= 1 + zlib.crc32(self.address.encode()) % 1000 / 1000
            self._background_timer = self.clock.call_later(delay, self._background)

    def _background(self) -> None:
        """The background pass: coalescing, then GC, of each segment; then a node log checkpoint.
        Coalescing goes COALESCE_STEP_PAGES pages at a time and GC GC_STEP_PAGES, each step its
        own loop turn, so that batches and their Acks are not held up behind a whole pass
        (measured: coalescing up to 20-35 ms, GC 1-1.4 s after an update-heavy load)."""
        self._background_timer = None
        if not self.running:
            return
        work: list[tuple[SegmentKey, Segment, list[int] | GarbagePass | ImageCompaction]] = [
            (key, segment, segment.coalesce_candidates(self.coalesce_threshold)) for key, segment in self.segments.items()]
        # a compaction an earlier pass left unfinished (it failed, or its segment was busy) goes on
        work += [(key, segment, segment.compaction) for key, segment in self.segments.items()
                 if segment.compaction is not None and not segment.compaction.finishing]
        work.reverse()  # taken from the end: segments in their order
        self._background_step(work)

    def _background_step(self, work: list[tuple[SegmentKey, Segment, list[int] | GarbagePass | ImageCompaction]]) -> None:
        self._background_timer = None
        if not self.running:
            return
        budget = COALESCE_STEP_PAGES
        now = self.clock.now()
        while work:
            key, segment, pending = work[-1]
            if self.segments.get(key) is not segment:
                work.pop()  # closed or replaced since the pass began
                continue
            try:
                if isinstance(pending, GarbagePass):
                    # GC_STEP_PAGES images per loop turn, like coalescing (in one call: 1-1.4 s)
                    pending.step(GC_STEP_PAGES)
                    if not pending.done:
                        self._step_later(work)
                        return
                    work.pop()
                    pending.finish()
                    compaction = segment.start_compaction()
                    if compaction is not None:
                        work.append((key, segment, compaction))
                    continue
                if isinstance(pending, ImageCompaction):
                    # COMPACT_STEP_FRAMES frames per loop turn (in one call: 0.44 s for 16,000 pages)
                    pending.step(COMPACT_STEP_FRAMES)
                    if not pending.done:
                        self._step_later(work)
                        return
                    work.pop()
                    self._finish_compaction(segment, pending)
                    continue
                pages = pending
                while pages and budget:
                    segment.coalesce_page(pages.pop())
                    budget -= 1
                if pages or not budget:  # this step's budget is spent: the rest (or GC) in a later loop turn
                    self._step_later(work)
                    return
                work.pop()
                floor = self.min_read_lsn.get(key)
                if floor and (
                    floor - self.retention_lsns - segment.gc_horizon >= self.gc_min_lsns
                    or now - self._gc_at.get(key, 0.0) >= self.gc_max_delay
                ):
                    self._gc_at[key] = now
                    collection = segment.garbage_pass(floor, self.retention_lsns, self.gc_defer_lsns)
                    if collection is not None:
                        work.append((key, segment, collection))
            except Exception:  # keep the background pass alive for the other segments
                log.exception("background pass of segment %s failed", key)
                if work and work[-1][1] is segment:
                    work.pop()
        if self.node_log is not None and self.node_log.checkpoint_due:
            try:
                self.node_log.checkpoint()
            except OSError:  # the old node log files stay; the next checkpoint covers them
                log.exception("node log checkpoint failed")
        self._schedule_background()

    def _finish_compaction(self, segment: Segment, compaction: ImageCompaction) -> None:
        """Deletes a compaction's old image files once the fresh one is durable: its fsync runs in
        a worker thread (it held the loop 270 ms for 16,000 pages), the loop goes on meanwhile."""
        fd = segment._image_fd
        if not segment.fsync or fd < 0:
            compaction.finish()
            return
        compaction.finishing = True
        synced = asyncio.get_running_loop().run_in_executor(None, os.fsync, fd)

        def done(future: asyncio.Future[None]) -> None:
            compaction.finishing = False
            if segment._image_fd != fd or self.segments.get((segment.volume, segment.group)) is not segment:
                return  # closed or replaced meanwhile: its files are another segment's business now
            if future.cancelled() or future.exception() is not None:
                log.warning("image file fsync of segment %s/%d failed: %s", segment.volume, segment.group,
                            "cancelled" if future.cancelled() else future.exception())
                return  # the old files stay; the next background pass tries again
            try:
                compaction.finish(synced=True)
            except OSError:
                log.exception("image compaction of segment %s/%d failed", segment.volume, segment.group)

        synced.add_done_callback(done)

    def _step_later(self, work: list[tuple[SegmentKey, Segment, list[int] | GarbagePass | ImageCompaction]]) -> None:
        """The rest of the background pass in a later loop turn."""
        self._background_timer = self.clock.call_later(0, functools.partial(self._background_step, work))


def _refusal(error: PgError) -> m.Refused:
    """The reply to a request that failed with `error` (the node keeps serving)."""
    if isinstance(error, DataCorrupted):
        return m.Refused("corrupt", error.message)
    if isinstance(error, InternalError):
        return m.Refused("internal", error.message)
    if isinstance(error, DiskFull):
        return m.Refused("disk_full", error.message)
    return m.Refused("error", f"{error.sqlstate}: {error.message}")  # e.g. IoError from the log


_HANDLERS: dict[type, Callable[[StorageNode, Any], Awaitable[m.Reply]]] = {
    m.AppendBatch: StorageNode._append,
    m.ReadPage: StorageNode._read_page,
    m.Status: StorageNode._status,
    m.RecoveryScan: StorageNode._recovery_scan,
    m.SetEpoch: StorageNode._set_epoch,
    m.CreateSegment: StorageNode._create,
    m.ChangeMembership: StorageNode._change_membership,
    m.FetchChain: StorageNode._fetch_chain,
    m.FetchImage: StorageNode._fetch_image,
}
