"""The writer's replication listener: streams its redo, VDL and running transactions to readers.

Owns the writer's end of the replica stream: the listening socket readers subscribe on, one
link per reader, fan-out of every appended mini-transaction (`Volume.on_append`) and of every
VDL advance (`Volume.on_vdl_advanced`, coalesced to one Advance per event-loop turn, plus a
heartbeat), and what readers send back: their oldest snapshot xmin becomes the writer's vacuum
horizon floor, their read point the storage GC floor (`Volume.set_min_read_lsn`).
Not the messages (server.replication_protocol), not the reader (server.replication_follower).

    Subscribe ──► link registered (records from next_lsn on are queued to it)
              ──► Hello(start_lsn = next_lsn - 1) ──► wait until VDL >= start_lsn
              ──► Advance(state now) ... then every MTR and every VDL advance, in LSN order

A reader whose socket falls more than MAX_BUFFERED bytes behind is disconnected: it reconnects
and starts again from a fresh read point instead of holding the writer's memory.

A reader that comes back (a restarted writer, a failover, a dropped link) says up to which LSN
it holds every record (`Subscribe.have_lsn`). The writer keeps its own recent MTRs since volume
recovery (`RecentRedo`, bounded): when they reach down to that LSN the stream starts there and
replays them, and the reader keeps its cached pages instead of reading them all again. Records
the reader holds above a new writer's recovered VDL were truncated by recovery: the stream's
start (at most that VDL) tells the reader to drop them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgspec

from pgaurora.errors import PgError, StorageUnavailable
from pgaurora.server import replication_protocol as rp

log = logging.getLogger(__name__)

RECENT_BYTES = 32 << 20  # redo frames kept for readers that reconnect
HEARTBEAT_INTERVAL = 0.1  # seconds between Advances when VDL does not move
MAX_BUFFERED = 256 << 20  # bytes queued on one reader's socket before it is dropped
_NEVER = 1 << 62


class RecentRedo:
    """The writer's own MTRs since `floor` (its recovered VDL) as Redo frames, the oldest
    dropped past RECENT_BYTES.

    `floor` is the LSN below which this writer has nothing: every record above it (that exists;
    recovery leaves a gap) is here. Set as the volume's first `on_append` hook right after
    recovery, before the engine's first MTR. Each MTR is encoded once, here (msgpack costs about
    what counting its payload bytes in Python would): the frame kept is the frame every
    subscribed reader is sent.
    """

    __slots__ = ("floor", "mtrs", "size", "limit")

    def __init__(self, floor: int, limit: int = RECENT_BYTES) -> None:
        self.floor = floor
        self.mtrs: deque[tuple[int, int, bytes]] = deque()  # (first lsn, last lsn, Redo frame)
        self.size = 0
        self.limit = limit

    def add(self, first_lsn: int, records: list[tuple[int, int, bytes]]) -> bytes:
        """Keeps one appended MTR; returns its Redo frame."""
        frame = rp.encode(rp.Redo(first_lsn, records))
        mtrs = self.mtrs
        mtrs.append((first_lsn, first_lsn + len(records) - 1, frame))
        self.size += len(frame)
        while self.size > self.limit and len(mtrs) > 1:
            _, last, old = mtrs.popleft()
            self.size -= len(old)
            self.floor = last
        return frame

    def resume(self, read_lsn: int, have_lsn: int) -> tuple[int, list[bytes]] | None:
        """(start LSN, the Redo frames of the MTRs above it) for a reader holding every record up
        to `have_lsn`, or None when records between what it holds and what is kept are missing."""
        if not have_lsn or have_lsn < self.floor or read_lsn > have_lsn:
            return None
        start = max(self.floor, read_lsn)
        replay = []
        for first, last, frame in self.mtrs:
            if first > start:
                replay.append(frame)
            elif last > start:
                return None  # the start falls inside an MTR: not a point a reader can stop at
        return start, replay


@dataclass(slots=True)
class ReaderLink:
    """One subscribed reader."""

    server_id: str
    address: str
    writer: asyncio.StreamWriter
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ready: bool = False
    start_lsn: int = 0
    floor_xmin: int = 0  # until its first Feedback: the writer's horizon when it subscribed
    feedback: rp.Feedback | None = None
    last_update: float = 0.0
    connected_at: float = field(default_factory=time.time)
    outbox: list[bytes] = field(default_factory=list)  # frames of this loop turn, written together

    def send(self, frame: bytes) -> bool:
        """Writes a frame now (after what the outbox holds); False when the reader is gone or too
        far behind."""
        self.outbox.append(frame)
        return self.flush()

    def flush(self) -> bool:
        writer = self.writer
        outbox = self.outbox
        if writer.is_closing():
            outbox.clear()
            return False
        if outbox:
            writer.write(outbox[0] if len(outbox) == 1 else b"".join(outbox))
            outbox.clear()
        return writer.transport.get_write_buffer_size() <= MAX_BUFFERED


class ReplicationSource:
    """Readers of one writer instance."""

    def __init__(self, volume: Any, txn_manager: Any, *, server_id: str, host: str = "127.0.0.1",
                 port: int = 0, recent: RecentRedo | None = None) -> None:
        self.volume = volume
        self.recent = recent  # None: nothing kept for readers that come back
        self.txns = txn_manager
        self.server_id = server_id
        self.host = host
        self.port = port
        self.links: list[ReaderLink] = []
        self.vdl_reached_at = time.time()
        self._advance_scheduled = False
        self._flush_scheduled = False
        self._server: asyncio.AbstractServer | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._last_metadata = b""
        self._metadata_key: tuple[int, int, int] = (-1, 0, 0)
        self._metadata_checks = 0
        self.advances_sent = 0

    # -- start / stop ----------------------------------------------------------------------------

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._serve, self.host, self.port, reuse_address=True)
        sockets = self._server.sockets or ()
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.port
        self.volume.on_append = self._on_append
        self.volume.on_vdl_advanced = self._on_vdl_advanced
        self._heartbeat = loop.create_task(self._heartbeat_loop())
        return self.port

    async def stop(self) -> None:
        if self.volume.on_append == self._on_append:
            self.volume.on_append = None
            self.volume.on_vdl_advanced = None
        if self._server is not None:
            self._server.close()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        for link in list(self.links):
            link.writer.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, *([self._heartbeat] if self._heartbeat else []),
                             return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        self.links.clear()
        self._update_floors()

    # -- hooks from the volume (synchronous, on the writer's hot path) ------------------------------

    def _on_append(self, first_lsn: int, records: list[tuple[int, int, bytes]]) -> None:
        links = self.links
        if self.recent is not None:
            frame = self.recent.add(first_lsn, records)
        elif links:
            frame = rp.encode(rp.Redo(first_lsn, records))
        if not links:
            return
        for link in links:
            link.outbox.append(frame)
        if not self._flush_scheduled:
            self._flush_scheduled = True  # one write per reader per loop turn, not one per MTR
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        for link in list(self.links):
            if not link.flush():
                self._drop(link, "its socket fell too far behind")

    def _on_vdl_advanced(self, vdl: int) -> None:
        self.vdl_reached_at = time.time()
        if self.links and not self._advance_scheduled:
            self._advance_scheduled = True
            asyncio.get_running_loop().call_soon(self._send_advance)

    # -- advances -------------------------------------------------------------------------------

    def _metadata(self) -> bytes:
        return msgspec.json.encode(self.volume.metadata)

    def _groups(self) -> list[list[str]]:
        groups = []
        for placement in self.volume.metadata.groups:
            members = list(placement.members)
            for extra in placement.new_members or ():
                if extra not in members:
                    members.append(extra)
            groups.append(members)
        return groups

    def _advance(self, with_geometry: bool = False) -> rp.Advance:
        """The writer's state now: VDL, and the transactions not visible at it."""
        volume = self.volume
        vdl = volume.vdl
        txns = self.txns
        committing = txns.committing
        xip = [xid for xid in txns.active if committing.get(xid, _NEVER) > vdl]
        xmax = txns.cache.control.next_xid
        xmin = min(xip) if xip else xmax
        tracker_groups = volume.tracker.groups
        pgcls = [tracker_groups[g].pgcl if g in tracker_groups else 0 for g in range(len(volume.metadata.groups))]
        groups = None
        meta = volume.metadata
        key = (meta.epoch, len(meta.groups), len(meta.truncations))
        self._metadata_checks += 1
        # Encoding the metadata on every advance would cost more than the advance itself: it is
        # compared when its shape changes, and every 64th advance (a segment replaced in place).
        if with_geometry:
            groups = self._groups()  # a new reader's first advance (its Hello had the metadata)
        elif key != self._metadata_key or self._metadata_checks % 64 == 0:
            self._metadata_key = key
            metadata = self._metadata()
            if metadata != self._last_metadata:
                self._last_metadata = metadata
                groups = self._groups()
        return rp.Advance(vdl, xmin, xmax, xip, pgcls, self.vdl_reached_at, groups)

    def _send_advance(self) -> None:
        self._advance_scheduled = False
        ready = [link for link in self.links if link.ready]
        if not ready:
            return
        advance = self._advance()
        frame = rp.encode(advance)
        if advance.groups is not None:
            # geometry changed: readers also get the metadata for a later promotion
            frame += rp.encode(rp.Geometry(self._last_metadata))
        self.advances_sent += 1
        for link in ready:
            if not link.send(frame):
                self._drop(link, "its socket fell too far behind")

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL)  # a periodic beat, not a wait for a condition
            if self.links:
                self._send_advance()

    # -- one reader -----------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        link: ReaderLink | None = None
        decoder = rp.FrameDecoder()
        try:
            subscribe = None
            while subscribe is None:
                data = await reader.read(65536)
                if not data:
                    return
                for message in decoder.feed(data):
                    if isinstance(message, rp.Subscribe):
                        subscribe = message
                        break
            link = await self._subscribe(subscribe, writer)
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                for message in decoder.feed(data):
                    if isinstance(message, rp.Feedback):
                        link.feedback = message
                        link.last_update = time.time()
                        self._update_floors()
        except (ConnectionError, OSError, PgError, asyncio.IncompleteReadError) as exc:
            log.info("replication link to %s ended: %s", link.server_id if link else "a reader", exc)
        finally:
            if link is not None:
                self._drop(link, "it disconnected")
            writer.close()
            self._handlers.discard(task)

    async def _subscribe(self, subscribe: rp.Subscribe, writer: asyncio.StreamWriter) -> ReaderLink:
        volume = self.volume
        link = ReaderLink(subscribe.server_id, subscribe.address, writer)
        start = volume.appended_lsn  # not next_lsn - 1: after recovery that waits for a write
        replay: list[bytes] = []
        resumed = self.recent.resume(subscribe.read_lsn, subscribe.have_lsn) if self.recent is not None else None
        if resumed is not None:
            start, replay = resumed
        link.start_lsn = start
        link.floor_xmin = self.txns.oldest_xmin()
        self.links.append(link)  # every record from here on is queued to it, after the Hello
        self._update_floors()
        metadata = self._metadata()
        link.send(rp.encode(rp.Hello(self.server_id, volume.metadata.volume_id, volume.epoch,
                                     volume.metadata.pages_per_group, self._groups(), start,
                                     link.session_id, metadata)))
        link.outbox.extend(replay)  # in this same turn: before any record appended from now on
        if replay:
            link.flush()
        for _ in range(1000):
            try:
                await volume.wait_durable(start)
                break
            except StorageUnavailable:
                continue  # storage is slow or down: the reader waits with us
        link.ready = True
        frame = rp.encode(self._advance(with_geometry=True))
        link.send(frame)
        log.info("reader %s subscribed at LSN %d (%d MTRs replayed)", link.server_id, start, len(replay))
        return link

    def _drop(self, link: ReaderLink, why: str) -> None:
        if link in self.links:
            self.links.remove(link)
            log.info("reader %s dropped: %s", link.server_id, why)
            link.writer.close()
            self._update_floors()

    def _update_floors(self) -> None:
        """Readers' oldest xmin holds vacuum back; their read points hold storage GC back."""
        xmins = []
        read_lsns = []
        for link in self.links:
            feedback = link.feedback
            if feedback is None:
                xmins.append(link.floor_xmin)
                read_lsns.append(link.start_lsn)
            else:
                xmins.append(feedback.xmin)
                read_lsns.append(feedback.read_lsn)
        self.txns.horizon_floor = min(xmins) if xmins else None
        self.volume.set_min_read_lsn(min(read_lsns) if read_lsns else None)

    # -- status ---------------------------------------------------------------------------------

    def status_rows(self) -> list[dict[str, Any]]:
        """aurora_replica_status() rows on the writer: itself, then each subscribed reader."""
        volume = self.volume
        now = time.time()
        rows = [dict(server_id=self.server_id, session_id="MASTER_SESSION_ID", durable_lsn=volume.vdl,
                     highest_lsn_rcvd=None, current_read_lsn=volume.vdl, cur_replay_latency_in_usec=None,
                     active_txns=len(self.txns.live), is_current=True, last_update_timestamp=now,
                     feedback_xmin=None, replica_lag_in_msec=None)]
        for link in self.links:
            fb = link.feedback
            rows.append(dict(
                server_id=link.server_id, session_id=link.session_id, durable_lsn=volume.vdl,
                highest_lsn_rcvd=fb.highest_lsn_rcvd if fb else None,
                current_read_lsn=fb.read_lsn if fb else link.start_lsn,
                cur_replay_latency_in_usec=fb.replay_latency_us if fb else None,
                active_txns=fb.active_txns if fb else 0, is_current=link.ready,
                last_update_timestamp=link.last_update or link.connected_at,
                feedback_xmin=fb.xmin if fb else None, replica_lag_in_msec=fb.lag_ms if fb else None))
        return rows
