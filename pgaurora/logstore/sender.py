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
    reply callback: acks at the head ─► tracker.ack ─► VDL ─► pump() (records that waited for room)
    run() task: a failure at the head ─► drop the pipeline, wait retry_interval, resend from the SCL;
                a refusal ─► bring the segment up / fence; a lagging idle segment ─► probe it

While batches are in flight the segment may receive the next ones: it fsyncs whatever arrived
during an fsync as one group (logstore.hotlog), so a deeper pipeline costs messages, not fsyncs.
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

StartCall = Callable[[str, m.Request, float], "asyncio.Future[m.Reply]"]


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
        while len(inflight) < depth:
            frames, last = self.group_log.after(self.sent, config.max_batch_bytes)
            if not frames and not (self.probe_now and not inflight):
                return
            request = m.AppendBatch(
                volume.metadata.volume_id, self.group, volume.epoch, frames, volume.tracker.vdl, self.quorum.pgcl,
                volume.min_read_lsn,
            )
            reply = self.start_call(self.member, request, config.rpc_timeout)
            reply.add_done_callback(self._on_reply)
            inflight.append((reply, len(frames)))
            if last > self.sent:
                self.sent = last
            if not frames:
                return  # a probe goes alone

    def _on_reply(self, _: asyncio.Future[m.Reply]) -> None:
        """Takes the acks at the head of the pipeline (a future callback: no task, no await) and
        sends what waited for room; a failure or refusal at the head wakes run()."""
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
        self.pump()
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
        self.group_log.trim(quorum.pgcl)
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
                        log.warning("segment %s of group %d refused a batch: %s", member, self.group, reply.message)
                        await self._restart(config.retry_interval)
                continue
            trouble = self._trouble = loop.create_future()
            if not inflight and quorum.scl.get(member, 0) < quorum.pgcl:
                # The segment lags behind the group (it missed batches or is new): probe it with an
                # empty batch now and then, so that it is created, learns the PGCL and gossips.
                try:
                    await clock.wait_for(asyncio.shield(trouble), config.retry_interval * 5)
                except TimeoutError:
                    self.probe_now = True
            else:
                await trouble

    async def _restart(self, delay: float) -> None:
        """Drops the batches in flight and, after `delay`, resends from the segment's SCL."""
        self.active = False
        self.inflight.clear()
        try:
            await self.volume.clock.sleep(delay)
        finally:
            self.active = True
            self.sent = self.quorum.scl.get(self.member, 0)
