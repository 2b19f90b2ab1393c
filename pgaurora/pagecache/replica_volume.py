"""A read replica's handle on the shared storage volume: page reads at its read point, no writes.

Owns what a reader instance does with the volume: read a page as of its read point (the newest
VDL it has received from the writer and applied) from one segment that is complete enough for
it, and let waiters wait for the read point to pass an LSN. Not the writer's log client
(logstore.Volume: it runs recovery and bumps the epoch, which would fence the writer), not
applying the redo stream (pagecache.replica).

A reader never sends a state-changing request to storage: ReadPage carries no epoch, so it
works under whatever writer currently holds the volume. Which segments may serve a read comes
from the writer's stream: the group's members, and the group's PGCL when the read point was
announced (a segment whose SCL is below min(read point, PGCL) may lack records and is skipped).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from typing import Any

from pgaurora.errors import ReadOnlySqlTransaction, StorageUnavailable
from pgaurora.logstore import messages as m

log = logging.getLogger(__name__)

READ_TIMEOUT = 1.0  # per segment
READ_DEADLINE = 10.0  # all segments, several rounds
RETRY_INTERVAL = 0.05


class ReplicaVolume:
    """Reads the volume at this reader's read point; `advance()` moves the read point."""

    def __init__(self, transport: Any, volume_id: str, pages_per_group: int, groups: list[list[str]],
                 read_lsn: int, epoch: int = 0) -> None:
        self.transport = transport
        self.volume_id = volume_id
        self.pages_per_group = pages_per_group
        self.groups = [list(g) for g in groups]
        self.read_lsn = read_lsn
        self.epoch = epoch
        self.pgcls: list[int] = []
        self.read_ios = 0
        self.last_read_segment: str | None = None
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._sequence = 0
        self._closed = False

    # -- what the page cache uses (pagecache.cache.VolumeLike) ----------------------------------

    @property
    def vdl(self) -> int:
        """The read point: the page cache reads at it and waits for it."""
        return self.read_lsn

    @property
    def vcl(self) -> int:
        return self.read_lsn

    @property
    def next_lsn(self) -> int:
        return self.read_lsn + 1

    over_lal = False

    def append_mtr(self, records: list[tuple[int, int, bytes]], xid: int = 0) -> int:
        raise ReadOnlySqlTransaction("cannot execute a write during recovery")

    def set_min_read_lsn(self, lsn: int | None) -> None:
        """Storage GC floors are the writer's business (readers report theirs in Feedback)."""

    async def wait_durable(self, lsn: int) -> None:
        """Returns once the read point is at least `lsn` (the writer's stream moves it)."""
        if lsn <= self.read_lsn:
            return
        if self._closed:
            raise StorageUnavailable("the replica stopped following the writer")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sequence += 1
        heapq.heappush(self._waiters, (lsn, self._sequence, future))
        await future

    def advance(self, read_lsn: int, pgcls: list[int] | None = None,
                groups: list[list[str]] | None = None) -> None:
        """The stream applied everything up to `read_lsn`: reads now happen there."""
        if groups is not None:
            self.groups = [list(g) for g in groups]
        if pgcls is not None:
            self.pgcls = pgcls
        if read_lsn > self.read_lsn:
            self.read_lsn = read_lsn
        waiters = self._waiters
        while waiters and waiters[0][0] <= self.read_lsn:
            future = heapq.heappop(waiters)[2]
            if not future.done():
                future.set_result(None)

    def reset(self, read_lsn: int, groups: list[list[str]], epoch: int) -> None:
        """A new stream (writer restarted or changed): the read point may move either way."""
        self.read_lsn = read_lsn
        self.groups = [list(g) for g in groups]
        self.epoch = epoch
        self.pgcls = []
        self.advance(read_lsn)

    async def close(self) -> None:
        self._closed = True
        error = StorageUnavailable("the replica stopped following the writer")
        for _, _, future in self._waiters:
            if not future.done():
                future.set_exception(error)
        self._waiters.clear()

    # -- reads ----------------------------------------------------------------------------------

    async def read_page(self, page: int, read_lsn: int | None = None) -> bytes | None:
        """The page image as of `read_lsn` (default: the read point) from one complete segment."""
        if read_lsn is None:
            read_lsn = self.read_lsn
        group = page // self.pages_per_group
        if group >= len(self.groups):
            return None  # the volume had not grown that far at the read point
        need = read_lsn
        if group < len(self.pgcls):
            need = min(read_lsn, self.pgcls[group])
        request = m.ReadPage(self.volume_id, group, page, read_lsn, need)
        clock = asyncio.get_running_loop()
        deadline = clock.time() + READ_DEADLINE
        refusals: list[str] = []
        members = self.groups[group]
        for round_ in range(1000):
            for member in members:
                try:
                    reply = await asyncio.wait_for(self.transport.call(member, request), READ_TIMEOUT)
                except (ConnectionError, TimeoutError, OSError) as exc:
                    refusals.append(f"{member}: {type(exc).__name__}")
                    continue
                if isinstance(reply, m.PageImage):
                    self.read_ios += 1
                    self.last_read_segment = member
                    if round_ or members[0] != member:
                        members.remove(member)
                        members.insert(0, member)  # the one that answered goes first next time
                    return reply.image
                if isinstance(reply, m.Refused):
                    refusals.append(f"{member}: {reply.message}")
                    if reply.code == "below_horizon":
                        raise StorageUnavailable(
                            f"could not read page {page} at LSN {read_lsn}: it is below the storage GC horizon",
                            detail=reply.message)
            if clock.time() >= deadline:
                break
            await asyncio.sleep(RETRY_INTERVAL)  # segments still catching up by gossip
        raise StorageUnavailable(
            f"could not read page {page} at LSN {read_lsn} from any segment of protection group {group}",
            detail="; ".join(refusals[-6:]),
        )
