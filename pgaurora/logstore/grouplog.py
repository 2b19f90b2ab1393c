"""One protection group's records on their way to a write quorum (the log client's boxcar).

Owns, for one group, the encoded frames a write quorum does not hold yet, in LSN order, the
batch `after(lsn)` a segment is sent next, trimming (`trim_for`: at the PGCL, but not past what a
pipelined segment has yet to be sent), and waking the group's idle senders when a record
arrives. Not LSN allocation or the senders themselves (logstore.volume, logstore.sender), not the
quorum arithmetic (logstore.quorum).

    lsns   100 101 102 103 104          frames: one encoded record each
    ends    60 150 210 290 350          running byte count at each frame's end
                ^ start (PGCL = 100)    after(101, max_bytes=200) -> frames 102..104, 104
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pgaurora.logstore.sender import SegmentPipeline

# Records a write quorum holds stay for a slower segment not yet sent them, up to this many LSNs
# below the PGCL; a segment further behind (its node down or far behind) fills the hole by gossip.
KEEP_BELOW_PGCL = 20_000


class GroupLog:
    """Records of one protection group that a write quorum does not hold yet.

    Frames are kept in LSN order with the running byte count at each frame's end, so the batch
    `after(lsn)` is two bisects and one join however many records it holds.
    """

    __slots__ = ("group", "lsns", "frames", "ends", "base", "start", "last_lsn", "waiters", "first_lsn",
                 "pipelines", "encoded")

    def __init__(self, group: int, last_lsn: int, first_lsn: int = 0):
        self.group = group
        self.first_lsn = first_lsn  # no record of this group is older (groups added while open)
        self.lsns: list[int] = []
        self.frames: list[bytes] = []
        self.ends: list[int] = []  # bytes appended since open, up to the end of frames[i]
        self.base = 0  # bytes appended since open, up to the start of frames[0]
        self.start = 0  # frames before it are on a write quorum (dropped in steps)
        self.last_lsn = last_lsn  # the segment backlink of the next record
        self.waiters: list[asyncio.Future[None]] = []  # idle senders, woken by the next record
        self.pipelines: list[SegmentPipeline] = []  # its segments' senders when pipelined (logstore.sender)
        # The last AppendBatch a pipelined sender encoded, keyed by what decides its bytes
        # (sent, last LSN, VDL, PGCL, min read LSN, epoch): its sibling segments reuse it.
        self.encoded: tuple[tuple[int, int, int, int, int, int], bytes] | None = None

    def append(self, lsn: int, frame: bytes) -> None:
        self.lsns.append(lsn)
        self.frames.append(frame)
        ends = self.ends
        ends.append((ends[-1] if ends else self.base) + len(frame))

    def after(self, lsn: int, max_bytes: int) -> tuple[bytes, int]:
        """Frames with LSN > lsn (at most about max_bytes, at least one); returns them and the
        last LSN included."""
        lsns = self.lsns
        index = bisect_right(lsns, lsn, self.start)
        count = len(lsns)
        if index == count:
            return b"", lsn
        ends = self.ends
        begin = ends[index - 1] if index else self.base
        stop = min(bisect_left(ends, begin + max_bytes, index) + 1, count)
        frames = self.frames
        return (frames[index] if stop == index + 1 else b"".join(frames[index:stop])), lsns[stop - 1]

    def trim_for(self, pgcl: int) -> None:
        """Trims at the PGCL, but keeps what a pipelined segment of the group has yet to be sent
        (bounded by KEEP_BELOW_PGCL): trimmed at the PGCL alone, the two slowest segments got
        holes their nodes filled by gossip with peers (about a quarter of a node's CPU)."""
        floor = pgcl
        for pipeline in self.pipelines:
            if pipeline.sent < floor:
                floor = pipeline.sent
        self.trim(max(floor, pgcl - KEEP_BELOW_PGCL))

    def trim(self, pgcl: int) -> None:
        lsns = self.lsns
        start = self.start
        if start == len(lsns) or lsns[start] > pgcl:
            return
        self.start = start = bisect_right(lsns, pgcl, start)
        if start > 1024 and start * 2 > len(lsns):
            self.base = self.ends[start - 1]
            del lsns[:start]
            del self.frames[:start]
            del self.ends[:start]
            self.start = 0

    def wait(self) -> asyncio.Future[None]:
        """A future resolved by the next appended record: one per idle sender, so that cancelling
        a sender cancels only its own."""
        waiters = self.waiters
        if len(waiters) > 64:
            waiters[:] = [future for future in waiters if not future.done()]
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters.append(future)
        return future

    def wake(self) -> None:
        waiters = self.waiters
        if waiters:
            self.waiters = []
            for future in waiters:
                if not future.done():
                    future.set_result(None)
