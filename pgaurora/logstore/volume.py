"""The log client: the writer's side of the storage volume (logstore.Volume, contracts.md).

Owns LSN allocation, boxcarring records per protection group, one sender per segment, the
commit futures resolved by VDL, back-pressure (LAL), page reads from a single segment, write
timeouts and membership changes. The durability arithmetic is logstore.quorum's (sans I/O);
recovery on open is logstore.recovery's.

    append_mtr ──► encode frames ──► group log (lsns, frames) ──► wake the group's 6 senders
       (no await; the senders run on the next loop tick, so one tick's records form one batch)
    sender(group, segment): AppendBatch(frames > sent) ──► Ack(SCL) ──► tracker.ack ──► VDL
       over TCP: logstore.sender's pipelines, which take the Ack where its bytes are parsed;
       else _send_loop, a task per segment (simulated networks, in-process nodes)
    wait_durable(lsn) ──► future in a heap, resolved when VDL >= lsn, else StorageUnavailable

While one batch is in flight to a segment, new records pile up and go in the next one: this is
the boxcar, and with the segment's group commit, many commits share one fsync.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pgaurora.errors import StorageFull, StorageUnavailable
from pgaurora.logstore import messages as m
from pgaurora.logstore.clock import Clock, RealClock, TimerHandle
from pgaurora.logstore.grouplog import GroupLog
from pgaurora.logstore.metadata import GroupPlacement, VolumeConfig, VolumeMetadata, place_group
from pgaurora.logstore.quorum import QuorumTracker
from pgaurora.logstore.records import FLAG_CPL, encode_record
from pgaurora.logstore.recovery import recover
from pgaurora.logstore.sender import SegmentPipeline
from pgaurora.logstore.transport import Transport

log = logging.getLogger(__name__)

PAGE_BACKLINK_LIMIT = 1 << 20  # pages whose last LSN the writer remembers for prev_page_lsn


class Volume:
    """The writer's handle on its storage volume. Open with `await Volume.open(config, transport)`."""

    def __init__(self, config: VolumeConfig, transport: Transport, metadata: VolumeMetadata):
        self.config = config
        self.transport = transport
        self.clock: Clock = config.clock or RealClock()
        self.metadata = metadata
        self.epoch = metadata.epoch
        self.tracker = QuorumTracker()
        self.group_logs: dict[int, GroupLog] = {}
        self.page_lsn: dict[int, int] = {}
        self.next_lsn = 1
        self._explicit_min_read_lsn: int | None = None
        self.bytes_sent = 0
        self.records_appended = 0
        # wait_durable's futures: (lsn, sequence, future, since when it waits), a heap by LSN
        self._waiters: list[tuple[int, int, asyncio.Future[None], float]] = []
        self._waiter_sequence = 0
        self._watchdog: TimerHandle | None = None  # the write timeout of every waiter: one timer
        self._vdl_moved_at = 0.0  # clock time of the last VDL advance
        self._room: asyncio.Future[None] | None = None
        self._senders: dict[tuple[int, str], asyncio.Task] = {}
        self._fenced: StorageUnavailable | None = None
        self._closed = False
        self._read_order: dict[int, list[str]] = {}
        self.last_read_segment: str | None = None  # diagnostics: who served the last read_page
        self.unreachable_since: dict[str, float] = {}  # node -> when its segments stopped answering
        # (group, segment) -> the last batch it refused, and its SCL then (stale once that moves)
        self.refusals: dict[tuple[int, str], tuple[m.Refused, int]] = {}
        self._repair_task: asyncio.Task | None = None
        self._lal_base = 0  # LSNs start past the truncation gap: LAL counts from there too
        self._flush_transport: Callable[[], None] | None = getattr(transport, "flush", None)
        self._to_pump: list[GroupLog] = []  # groups with new records and pipelined senders
        self._pump_scheduled = False
        # Replication hooks (server.replication_source): each appended MTR, each VDL advance.
        self.on_append: Callable[[int, list[tuple[int, int, bytes]]], None] | None = None
        self.on_vdl_advanced: Callable[[int], None] | None = None

    # -- open / close -----------------------------------------------------------------------------

    @classmethod
    async def open(cls, config: VolumeConfig, transport: Transport) -> Volume:
        """Opens (creating if new) the volume and runs recovery; returns once open for traffic."""
        metadata = VolumeMetadata.load_or_create(config)
        volume = cls(config, transport, metadata)
        recovered = await recover(
            metadata,
            transport,
            volume.clock,
            lal=config.lal,
            rpc_timeout=config.rpc_timeout,
            deadline=config.recovery_timeout,
        )
        metadata.save(config.metadata_path)
        volume.epoch = recovered.epoch
        volume.next_lsn = recovered.next_lsn
        volume._lal_base = recovered.next_lsn - 1
        volume.tracker = QuorumTracker(start_lsn=recovered.next_lsn - 1, vdl=recovered.vdl)
        volume.tracker.vcl = recovered.vdl
        for group, placement in enumerate(metadata.groups):
            volume._start_group(group, placement, recovered.last_lsn_by_group.get(group, 0))
            quorum = volume.tracker.groups[group]
            for member, scl in recovered.scl_by_group.get(group, {}).items():
                quorum.scl[member] = scl
            quorum.recompute()
        if config.repair_after is not None:
            volume._repair_task = asyncio.get_running_loop().create_task(volume._repair_loop())
        return volume

    def _start_group(self, group: int, placement: GroupPlacement, last_lsn: int, first_lsn: int = 0) -> None:
        self.tracker.add_group(group, placement.members, placement.new_members)
        self.group_logs[group] = GroupLog(group, last_lsn, first_lsn)
        for member in self.tracker.groups[group].all_members():
            self._start_sender(group, member)

    def _start_sender(self, group: int, member: str) -> None:
        if (group, member) not in self._senders:
            task = asyncio.get_running_loop().create_task(self._send_loop(group, member))
            self._senders[(group, member)] = task

    async def close(self) -> None:
        """Waits (up to the write timeout) for records still in flight, then stops the senders."""
        last = self.next_lsn - 1
        if not self._closed and self._fenced is None and last > self.tracker.vdl and self.tracker.cpls:
            try:
                await self.wait_durable(self.tracker.cpls[-1])
            except StorageUnavailable:
                pass  # what is not durable now is decided by the next writer's recovery
        self._closed = True
        if self._repair_task is not None:
            self._repair_task.cancel()
            await asyncio.gather(self._repair_task, return_exceptions=True)
        for task in self._senders.values():
            task.cancel()
        await asyncio.gather(*self._senders.values(), return_exceptions=True)
        self._senders.clear()
        error = StorageUnavailable("the storage volume was closed")
        for _, _, future, _ in self._waiters:
            if not future.done():
                future.set_exception(error)
        self._waiters.clear()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    # -- write path -------------------------------------------------------------------------------

    @property
    def vdl(self) -> int:
        return self.tracker.vdl

    @property
    def vcl(self) -> int:
        return self.tracker.vcl

    @property
    def over_lal(self) -> bool:
        """True when new LSNs would pass VDL + LAL: callers await wait_for_room() first."""
        return self.next_lsn > max(self.tracker.vdl, self._lal_base) + self.config.lal

    async def wait_for_room(self) -> None:
        """Back-pressure: returns once LSN allocation is within VDL + LAL (or fails like a commit)."""
        while self.over_lal:
            if self._fenced:
                raise self._fenced
            if self._room is None or self._room.done():
                self._room = asyncio.get_running_loop().create_future()
            seen_vdl = self.tracker.vdl
            try:
                await self.clock.wait_for(asyncio.shield(self._room), self.config.write_timeout)
            except TimeoutError:
                if self.tracker.vdl == seen_vdl:
                    raise self._unavailable() from None  # no progress at all: no write quorum

    def append_mtr(self, records: list[tuple[int, int, bytes]], xid: int = 0) -> int:
        """Assigns LSNs to a mini-transaction's records (page, op, payload); the last is the CPL.

        No await: the records are buffered per protection group and sent on the next loop tick.
        Returns the CPL's LSN; `await wait_durable(lsn)` for its durability.
        """
        if self._fenced is not None:
            raise self._fenced
        if self._closed:
            raise StorageUnavailable("the storage volume was closed")
        if not records:
            raise ValueError("a mini-transaction needs at least one record")
        lsn = self.next_lsn
        last = len(records) - 1
        pages_per_group = self.metadata.pages_per_group
        group_logs = self.group_logs
        page_lsn = self.page_lsn
        epoch = self.epoch
        allocate = self.tracker.allocate
        touched = self._to_pump
        woke = False
        for i, (page, op, payload) in enumerate(records):
            group = page // pages_per_group
            group_log = group_logs.get(group)
            if group_log is None:
                group_log = self._add_groups(group)
            if group_log.pipelines and group_log not in touched:
                touched.append(group_log)
            cpl = i == last
            frame = encode_record(
                lsn, page, page_lsn.get(page, 0), group_log.last_lsn, xid, op, FLAG_CPL if cpl else 0, epoch, payload
            )
            page_lsn[page] = lsn
            group_log.last_lsn = lsn
            group_log.append(lsn, frame)
            allocate(group, lsn, cpl)
            if group_log.waiters:
                group_log.wake()
                woke = True
            lsn += 1
        self.next_lsn = lsn
        self.records_appended += len(records)
        if self.on_append is not None:
            self.on_append(lsn - len(records), records)
        if len(page_lsn) > PAGE_BACKLINK_LIMIT:
            page_lsn.clear()  # page backlinks are advisory (0 = unknown); keep the map bounded
        if (touched or woke) and not self._pump_scheduled:
            # Pipelined senders: one turn's MTRs leave together at the end of the turn (a batch
            # per segment, like the senders' wake-up did), with no task switch per segment.
            # Send loops: the senders woken above run first, and what they queue is written
            # right after them in the same turn (one write per node), not a turn later.
            self._pump_scheduled = True
            asyncio.get_running_loop().call_soon(self._pump)
        return lsn - 1

    def _pump_soon(self, group_log: GroupLog) -> None:
        """Pipelined senders: `group_log`'s records not yet sent leave at the end of this turn."""
        if group_log not in self._to_pump:
            self._to_pump.append(group_log)
        if not self._pump_scheduled:
            self._pump_scheduled = True
            asyncio.get_running_loop().call_soon(self._pump)

    def _pump(self) -> None:
        """Hands this turn's new records to the pipelined senders, then writes them out."""
        self._pump_scheduled = False
        groups = self._to_pump
        self._to_pump = []
        for group_log in groups:
            for pipeline in group_log.pipelines:
                pipeline.pump()
        if self._flush_transport is not None:
            self._flush_transport()

    def _add_groups(self, group: int) -> GroupLog:
        """Grows the volume up to `group` (placement persisted before any record is sent)."""
        first = len(self.metadata.groups)
        nodes = self.config.nodes
        for new in range(first, group + 1):
            self.metadata.groups.append(GroupPlacement(place_group(nodes, new)))
        self.metadata.save(self.config.metadata_path)
        for new in range(first, group + 1):
            self._start_group(new, self.metadata.groups[new], 0, self.next_lsn)
        return self.group_logs[group]

    @property
    def appended_lsn(self) -> int:
        """The newest LSN appended since open; VDL when nothing has been (recovery starts new
        LSNs past a truncation gap, which only the first new durable record closes)."""
        last = self.next_lsn - 1
        return last if last > self._lal_base else self.tracker.vdl

    async def wait_durable(self, lsn: int) -> None:
        """Returns once VDL >= lsn; raises StorageUnavailable once VDL has not moved for the write
        timeout (a big transaction's redo may take longer than that to ship, while VDL advances)."""
        if lsn <= self.tracker.vdl:
            return
        if self._fenced is not None:
            raise self._fenced
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiter_sequence += 1
        clock = self.clock
        heapq.heappush(self._waiters, (lsn, self._waiter_sequence, future, clock.now()))
        if self._watchdog is None:
            self._watchdog = clock.call_later(self.config.write_timeout, self._expire_waiters)
        await future

    def _expire_waiters(self) -> None:
        """The write timeout: fails each waiter that has seen VDL stand still for write_timeout
        (its record stays queued and may still become durable); re-arms for the next one."""
        self._watchdog = None
        now = self.clock.now()
        timeout = self.config.write_timeout
        moved = self._vdl_moved_at
        waiting: list[tuple[int, int, asyncio.Future[None], float]] = []
        next_deadline = None
        for entry in self._waiters:
            future = entry[2]
            if future.done():
                continue  # cancelled by its caller
            deadline = max(entry[3], moved) + timeout
            if deadline <= now:
                future.set_exception(self._unavailable())
                continue
            waiting.append(entry)
            if next_deadline is None or deadline < next_deadline:
                next_deadline = deadline
        heapq.heapify(waiting)
        self._waiters = waiting
        if next_deadline is not None:
            self._watchdog = self.clock.call_later(next_deadline - now, self._expire_waiters)

    def note_refusal(self, group: int, member: str, refusal: m.Refused) -> None:
        """A segment refused a batch (e.g. its node could not write its log)."""
        log.warning("segment %s of group %d refused a batch: %s", member, group, refusal.message)
        self.refusals[(group, member)] = (refusal, self.tracker.groups[group].scl.get(member, 0))

    def _unavailable(self) -> StorageUnavailable:
        groups = self.tracker.waiting_groups()
        # the refusals of segments of waiting groups that have logged nothing since
        current = [(group, member, refusal) for (group, member), (refusal, scl) in sorted(self.refusals.items())
                   if group in groups and self.tracker.groups[group].scl.get(member, 0) <= scl]
        detail = f"protection groups waiting for a write quorum: {', '.join(map(str, groups)) or 'none'}"
        if current:
            detail += "; refusals: " + "; ".join(
                f"segment {member} of group {group}: {refusal.message}" for group, member, refusal in current[:6])
        full = Counter(group for group, _, refusal in current if refusal.code == "disk_full")
        if any(count >= 3 for count in full.values()):
            # three segments of a group cannot write: no write quorum until their disks have room
            return StorageFull("could not write to the storage volume: No space left on device",
                               detail=detail, hint="Check free disk space on the storage nodes.")
        return StorageUnavailable(
            "could not write to the storage volume: fewer than 4 of 6 segments acknowledged "
            f"within {self.config.write_timeout:g} s",
            detail=detail,
            hint="Check that the storage nodes are running and reachable.",
        )

    def _on_vdl_advanced(self) -> None:
        vdl = self.tracker.vdl
        self._vdl_moved_at = self.clock.now()
        if self.on_vdl_advanced is not None:
            self.on_vdl_advanced(vdl)
        waiters = self._waiters
        while waiters and waiters[0][0] <= vdl:
            future = heapq.heappop(waiters)[2]
            if not future.done():
                future.set_result(None)
        if self._room is not None and not self._room.done() and not self.over_lal:
            self._room.set_result(None)

    def _fence(self, refusal: m.Refused) -> None:
        self._fenced = StorageUnavailable(
            "the storage volume was opened by a newer writer",
            detail=refusal.message,
        )
        for _, _, future, _ in self._waiters:
            if not future.done():
                future.set_exception(self._fenced)
        self._waiters.clear()

    def set_min_read_lsn(self, lsn: int | None) -> None:
        """The lowest read point any instance still uses (PGMRPL); None: only the retention window.

        Segments may garbage-collect page versions below min(this, VDL - retention_lsns).
        """
        self._explicit_min_read_lsn = lsn

    @property
    def min_read_lsn(self) -> int:
        window = max(self.tracker.vdl - self.config.retention_lsns, 0)
        explicit = self._explicit_min_read_lsn
        return window if explicit is None else min(explicit, window)

    async def _send_loop(self, group: int, member: str) -> None:
        group_log = self.group_logs[group]
        quorum = self.tracker.groups[group]
        sent = quorum.scl.get(member, 0)
        volume = self.metadata.volume_id
        clock = self.clock
        config = self.config
        # A segment that did not take part in recovery may not know this epoch yet: tell it first.
        probe_now = member not in quorum.scl
        # A transport with a task-free call (TCP) on the real clock: batches leave from one callback
        # and acks are taken in reply callbacks (logstore.sender); below is the one-batch-at-a-time
        # loop for simulated networks and in-process nodes.
        start_call = (getattr(self.transport, "start_call", None)
                      if config.pipelined_senders and isinstance(clock, RealClock) else None)
        if start_call is not None:
            pipeline = SegmentPipeline(self, group, member, start_call, probe_now)
            group_log.pipelines.append(pipeline)
            try:
                await pipeline.run()
            finally:
                group_log.pipelines.remove(pipeline)
            return
        fast_call = getattr(self.transport, "start_call", None) if isinstance(clock, RealClock) else None
        while not self._closed and self._fenced is None:
            frames, last = group_log.after(sent, config.max_batch_bytes)
            if not frames and not probe_now:
                wakeup = group_log.wait()
                if quorum.scl.get(member, 0) >= quorum.pgcl:
                    await wakeup
                    continue
                # The segment lags behind the group (it missed batches or is new): probe it with an
                # empty batch now and then, so that it is created, learns the PGCL and gossips.
                try:
                    await clock.wait_for(wakeup, config.retry_interval * 5)
                    continue
                except TimeoutError:
                    pass
            request = m.AppendBatch(
                volume, group, self.epoch, frames, self.tracker.vdl, quorum.pgcl, self.min_read_lsn
            )
            try:
                if fast_call is not None:  # no coroutine or task per batch (TcpTransport.start_call)
                    reply = await fast_call(member, request, config.rpc_timeout)
                else:
                    reply = await clock.wait_for(self.transport.call(member, request), config.rpc_timeout)
            except (ConnectionError, TimeoutError, OSError):
                sent = quorum.scl.get(member, 0)
                self.unreachable_since.setdefault(member, clock.now())
                await clock.sleep(config.retry_interval)
                continue
            self.unreachable_since.pop(member, None)
            self.bytes_sent += len(frames)
            if isinstance(reply, m.Ack):
                probe_now = False
                sent = max(sent, last)
                if self.tracker.ack(group, member, reply.scl):
                    self._on_vdl_advanced()
                group_log.trim(quorum.pgcl)
                if member not in quorum.members and quorum.new_members is None:
                    return  # replaced by a membership change
            elif isinstance(reply, m.Refused):
                if reply.code == "stale_epoch":
                    self._fence(reply)
                    return
                if reply.code in ("epoch_behind", "no_segment"):
                    await self._bring_up(group, member)
                    probe_now = True
                else:
                    self.note_refusal(group, member, reply)
                    await clock.sleep(config.retry_interval)
                sent = quorum.scl.get(member, 0)

    async def _bring_up(self, group: int, member: str) -> None:
        """Creates or re-fences a segment that is missing or behind the epoch (it then gossips)."""
        placement = self.metadata.groups[group]
        members = placement.new_members or placement.members
        request = m.CreateSegment(
            self.metadata.volume_id, group, self.epoch, list(members), list(self.metadata.truncations)
        )
        try:
            reply = await self.clock.wait_for(self.transport.call(member, request), self.config.rpc_timeout)
        except (ConnectionError, TimeoutError, OSError):
            await self.clock.sleep(self.config.retry_interval)
            return
        if isinstance(reply, m.Refused) and reply.code == "stale_epoch":
            self._fence(reply)

    # -- read path --------------------------------------------------------------------------------

    async def read_page(self, page: int, read_lsn: int | None = None) -> bytes | None:
        """The page image as of `read_lsn` (default: VDL) from one segment complete enough for it."""
        if read_lsn is None:
            read_lsn = self.tracker.vdl
        group = page // self.metadata.pages_per_group
        quorum = self.tracker.groups.get(group)
        if quorum is None or read_lsn < self.group_logs[group].first_lsn:
            return None  # the group did not exist at the read point
        need = min(read_lsn, quorum.pgcl)
        request = m.ReadPage(self.metadata.volume_id, group, page, read_lsn, need)
        refusals: list[str] = []
        deadline = self.clock.now() + self.config.write_timeout
        # First one segment at a time, the best first; if none answered, then all of them at once
        # each round (a hedged read) until one answers or time is up.
        for round_ in range(1000):
            order = sorted(
                self._read_order.setdefault(group, quorum.all_members()),
                key=lambda member: quorum.scl.get(member, 0) < need,
            )
            if round_ == 0:
                for member in order:
                    found, image = self._read_outcome(request, member, await self._read_from(member, request), refusals)
                    if found:
                        return image
            else:
                tasks = [asyncio.ensure_future(self._read_from(member, request)) for member in order]
                try:
                    for member, task in zip(order, tasks, strict=True):
                        found, image = self._read_outcome(request, member, await task, refusals)
                        if found:
                            return image
                finally:
                    for task in tasks:
                        task.cancel()
            if self.clock.now() >= deadline:
                break
            await self.clock.sleep(self.config.retry_interval)
        raise StorageUnavailable(
            f"could not read page {page} at LSN {read_lsn} from any segment of protection group {group}",
            detail="; ".join(refusals[-6:]),
        )

    async def _read_from(self, member: str, request: m.ReadPage) -> m.Reply | BaseException:
        try:
            return await self.clock.wait_for(self.transport.call(member, request), self.config.read_timeout)
        except (ConnectionError, TimeoutError, OSError) as exc:
            return exc

    def _read_outcome(
        self, request: m.ReadPage, member: str, reply: m.Reply | BaseException, refusals: list[str]
    ) -> tuple[bool, bytes | None]:
        """(True, image) for an answer; otherwise notes why and demotes the segment."""
        if isinstance(reply, m.PageImage):
            self.last_read_segment = member
            return True, reply.image
        if isinstance(reply, m.Refused):
            refusals.append(f"{member}: {reply.message}")
            self._demote(request.group, member)
            if reply.code == "below_horizon":
                raise StorageUnavailable(
                    f"could not read page {request.page} at LSN {request.read_lsn}: "
                    "it is below the storage GC horizon",
                    detail=reply.message,
                )
            return False, None
        refusals.append(f"{member}: {type(reply).__name__} {reply}".rstrip())
        self._demote(request.group, member)
        return False, None

    def _demote(self, group: int, member: str) -> None:
        order = self._read_order[group]
        if member in order:
            order.remove(member)
            order.append(member)

    # -- membership -------------------------------------------------------------------------------

    async def _repair_loop(self) -> None:
        """Replaces a node unreachable for `repair_after` seconds by a spare (same AZ first)."""
        from pgaurora.logstore.membership import pick_spare

        repair_after = self.config.repair_after
        assert repair_after is not None
        while not self._closed and self._fenced is None:
            await self.clock.sleep(max(repair_after / 4, self.config.retry_interval))
            now = self.clock.now()
            for node, since in sorted(self.unreachable_since.items()):
                if now - since < repair_after:
                    continue
                spare = pick_spare(self.config, node)
                if spare is None:
                    break
                log.warning("storage node %s unreachable for %.1f s: replacing it by %s", node, now - since, spare)
                try:
                    await self.replace_node(node, spare)
                except StorageUnavailable:
                    log.exception("replacing storage node %s failed", node)
                    continue
                self.unreachable_since.pop(node, None)

    async def replace_node(self, old: str, new: str, *, catch_up_timeout: float = 30.0) -> list[int]:
        """Moves every segment on `old` to `new` (ABCDEF -> ABCDEG) without stalling writes."""
        from pgaurora.logstore.membership import replace_node

        return await replace_node(self, old, new, catch_up_timeout=catch_up_timeout)

    @property
    def metadata_path(self) -> Path:
        return Path(self.config.metadata_path)
