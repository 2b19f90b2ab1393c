"""Pipelined batches to one segment: the log client's fast path over a transport with start_call.

Owns, for one (protection group, segment), the batches in flight (up to
VolumeConfig.pipeline_depth): sending the records appended in a loop turn at the end of that
turn (`pump`, no await: one callback per turn for every segment instead of a task wake-up per
segment; sending each MTR at once split a turn's commits over two round trips and measured
slower), taking the acks in reply callbacks, and starting over from the segment's SCL after a
failure. Not the quorum arithmetic (logstore.quorum), not the group's record buffer
(volume.GroupLog), and not the path for simulated networks and in-process nodes
(Volume._send_loop, one batch at a time, which golden scripts replay exactly).

    append_mtr ─► (end of turn) pump(): AppendBatch ─► transport.start_call ─► transport.flush(): one write per node
    reply parsed (on_reply, in the transport's data_received): acks at the head ─► tracker.ack ─►
        VDL ─► commit waiters resolved; records that waited for room ─► (end of turn) pump()
    run() task: a failure at the head ─► drop the pipeline, wait retry_interval, resend from the SCL;
                a refusal ─► bring the segment up / fence; a lagging idle segment ─► probe it

While batches are in flight the segment may receive the next ones: it fsyncs whatever arrived
during an fsync as one group (logstore.hotlog), so a deeper pipeline costs messages, not fsyncs.
The six segments of a group are usually sent the same batch (same records, same VDL/PGCL hints,
no field names the segment): it is encoded once and the bytes reused (GroupLog.encoded).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from pgaurora.logstore import messages as m

if TYPE_CHECKING:
    from pgaurora.logstore.volume import Volume

log = logging.getLogger(__name__)

ReplyCallback = Callable[["asyncio.Future[m.Reply]"], None]
StartCall = Callable[[str, bytes, float, ReplyCallback], "asyncio.Future[m.Reply]"]


class SegmentPipeline:
    """Batches of one protection group in flight to one of its segments."""

    __slots__ = ("volume", "group", "member", "group_log", "quorum", "start_call", "sent", "inflight", "active",
                 "probe_now", "retired", "_trouble")

    def __init__(self, volume: Volume, group: int, member: str, start_call: StartCall, probe_now: bool) -> None:
        self.volume = volume
        self.group = group
        self.member = member
        self.group_log = volume.group_logs[group]
        self.quorum = volume.tracker.groups[group]
        self.start_call = start_call
        self.sent = self.quorum.scl.get(member, 0)  # records up to here are in flight or acked
        self.inflight: deque[tuple[asyncio.Future[m.Reply], int]] = deque()  # (reply, bytes of frames)
        self.active = True  # False while run() waits out a failure: pump() leaves the segment alone
        self.probe_now = probe_now  # send an empty batch (the segment must learn the epoch/PGCL)
        self.retired = False  # the segment left the group (membership change)
        self._trouble: asyncio.Future[None] | None = None  # wakes run(): a failed reply, retirement

    def pump(self) -> None:
        """Sends the records not yet sent while the pipeline has room (no await)."""
        volume = self.volume
        if not self.active or volume._closed or volume._fenced is not None:
            return
        inflight = self.inflight
        config = volume.config
        depth = config.pipeline_depth
        group_log = self.group_log
        while len(inflight) < depth:
            sent = self.sent
            frames, last = group_log.after(sent, config.max_batch_bytes)
            if not frames and not (self.probe_now and not inflight):
                return
            vdl = volume.tracker.vdl
            pgcl = self.quorum.pgcl
            min_read_lsn = volume.min_read_lsn
            epoch = volume.epoch
            key = (sent, last, vdl, pgcl, min_read_lsn, epoch)
            encoded = group_log.encoded
            if encoded is not None and encoded[0] == key:
                body = encoded[1]  # a sibling segment got this very batch
            else:
                body = m.encode(
                    m.AppendBatch(volume.metadata.volume_id, self.group, epoch, frames, vdl, pgcl, min_read_lsn)
                )
                group_log.encoded = (key, body)
            reply = self.start_call(self.member, body, config.rpc_timeout, self._on_reply)
            inflight.append((reply, len(frames)))
            if last > sent:
                self.sent = last
            if not frames:
                return  # a probe goes alone

    def _on_reply(self, _: asyncio.Future[m.Reply]) -> None:
        """Takes the acks at the head of the pipeline (called where the reply is parsed: no task,
        no await, no loop turn) and sends what waited for room; a failure or refusal at the head
        wakes run()."""
        inflight = self.inflight
        while inflight:
            reply_future, size = inflight[0]
            if not reply_future.done():
                break
            if reply_future.cancelled() or reply_future.exception() is not None:
                self._wake()
                return
            reply = reply_future.result()
            if not isinstance(reply, m.Ack):
                self._wake()
                return
            inflight.popleft()
            if self._take_ack(reply, size):
                self._wake()
                return
        if self.group_log.last_lsn > self.sent and len(inflight) < self.volume.config.pipeline_depth:
            # Records that waited for room leave at the end of the turn, not now: the statements
            # that run in this turn add theirs to the same batch (sending at once measured more
            # batches per commit, and more CPU on the writer and on six nodes).
            self.volume._pump_soon(self.group_log)
        if not inflight and self.quorum.scl.get(self.member, 0) < self.quorum.pgcl:
            # Idle but behind the group (a hole its node fills by gossip): run() probes it now
            # and then, or no ack would ever report the SCL it reaches.
            self._wake()

    def _take_ack(self, reply: m.Ack, size: int) -> bool:
        """Feeds an ack to the quorum tracker; True when the segment has left the group."""
        volume = self.volume
        volume.unreachable_since.pop(self.member, None)
        volume.bytes_sent += size
        self.probe_now = False
        if volume.tracker.ack(self.group, self.member, reply.scl):
            volume._on_vdl_advanced()
        quorum = self.quorum
        self.group_log.trim_for(quorum.pgcl)
        if self.member not in quorum.members and quorum.new_members is None:
            self.retired = True  # replaced by a membership change
        return self.retired

    def _wake(self) -> None:
        trouble = self._trouble
        if trouble is not None and not trouble.done():
            trouble.set_result(None)

    async def run(self) -> None:
        """Handles what callbacks cannot (failures, refusals, probes of a lagging segment) until
        the volume closes, is fenced, or the segment leaves the group."""
        volume = self.volume
        quorum = self.quorum
        member = self.member
        clock = volume.clock
        config = volume.config
        loop = asyncio.get_running_loop()
        inflight = self.inflight
        while not volume._closed and volume._fenced is None and not self.retired:
            self.pump()
            if inflight and inflight[0][0].done():
                reply_future, size = inflight.popleft()
                error = ConnectionError("cancelled") if reply_future.cancelled() else reply_future.exception()
                if error is not None:
                    if not isinstance(error, (ConnectionError, TimeoutError, OSError)):
                        raise error
                    volume.unreachable_since.setdefault(member, clock.now())
                    await self._restart(config.retry_interval)
                    continue
                reply = reply_future.result()
                if isinstance(reply, m.Ack):
                    self._take_ack(reply, size)
                elif isinstance(reply, m.Refused):
                    volume.unreachable_since.pop(member, None)
                    if reply.code == "stale_epoch":
                        volume._fence(reply)
                        return
                    if reply.code in ("epoch_behind", "no_segment"):
                        self.active = False
                        inflight.clear()
                        try:
                            await volume._bring_up(self.group, member)
                        finally:
                            self.active = True
                        self.probe_now = True
                        self.sent = quorum.scl.get(member, 0)
                    else:
                        volume.note_refusal(self.group, member, reply)
                        await self._restart(config.retry_interval)
                continue
            trouble = self._trouble = loop.create_future()
            # A segment idle behind the group (it missed batches, or is new) gets an empty batch
            # now and then, so that it is created, learns the PGCL, gossips, and its ack reports
            # the SCL gossip reached. Checked on a timer, not only when its own ack comes: the
            # PGCL may pass it later, moved by its siblings' acks (kill -9 of two of six nodes
            # then stalled the quorum when no probe followed).
            try:
                await clock.wait_for(asyncio.shield(trouble), config.retry_interval * 5)
            except TimeoutError:
                if not inflight and quorum.scl.get(member, 0) < quorum.pgcl:
                    self.probe_now = True

    async def _restart(self, delay: float) -> None:
        """Drops the batches in flight and, after `delay`, resends from the segment's SCL."""
        self.active = False
        self.inflight.clear()
        try:
            await self.volume.clock.sleep(delay)
        finally:
            self.active = True
            self.sent = self.quorum.scl.get(self.member, 0)
