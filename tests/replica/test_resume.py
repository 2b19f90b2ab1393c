"""Where a new replication stream starts for a reader that already holds records: the writer's
RecentRedo (its MTRs since recovery, bounded) and the reader's applier trimming what it holds
above that start (sans-I/O)."""

from __future__ import annotations

from typing import Any

from pgaurora.pagecache.replica import ReplicaApplier
from pgaurora.server import replication_protocol as rp
from pgaurora.server.replication_source import RecentRedo


def mtr(n: int) -> list[tuple[int, int, bytes]]:
    return [(1, 3, b"x")] * n


def firsts(resumed: tuple[int, list[bytes]] | None) -> tuple[int, list[int]] | None:
    """(start, the first LSN of each replayed Redo frame)."""
    if resumed is None:
        return None
    start, frames = resumed
    return start, [message.first_lsn for frame in frames for message in rp.FrameDecoder().feed(frame)
                   if isinstance(message, rp.Redo)]


def test_a_reader_holding_the_floor_resumes_there_and_gets_every_mtr_above_it() -> None:
    recent = RecentRedo(100)
    recent.add(111, mtr(3))  # recovery left a gap: 101..110 never existed
    recent.add(114, mtr(2))
    assert firsts(recent.resume(90, 100)) == (100, [111, 114])
    assert firsts(recent.resume(90, 120)) == (100, [111, 114])  # what it holds above 100 was truncated
    assert firsts(recent.resume(113, 115)) == (113, [114])  # a reader already past the floor


def test_no_resume_when_records_are_missing_or_the_start_splits_an_mtr() -> None:
    recent = RecentRedo(100)
    recent.add(101, mtr(5))
    assert recent.resume(90, 99) is None  # 100 never reached the reader
    assert recent.resume(0, 0) is None  # a new reader
    assert recent.resume(102, 104) is None  # 102 is inside the MTR 101..105


def test_the_floor_rises_as_old_mtrs_are_dropped() -> None:
    frame = RecentRedo(0).add(1, mtr(4))
    recent = RecentRedo(0, limit=3 * len(frame))
    for first in range(1, 40, 4):
        recent.add(first, mtr(4))
    assert recent.size <= 3 * len(frame) and recent.floor == recent.mtrs[0][0] - 1
    assert recent.resume(0, 8) is None
    start, firsts_replayed = firsts(recent.resume(0, 39)) or (0, [])
    assert start == recent.floor and firsts_replayed == [first for first, _, _ in recent.mtrs]
    assert firsts_replayed[-1] == 37


class _Cache:
    def __init__(self) -> None:
        self._pages: dict[int, Any] = {}
        self.derived: dict[int, Any] = {}
        self._in_flight: dict[int, Any] = {}
        self._pinned: set[int] = set()


def test_the_applier_keeps_what_is_at_or_below_the_new_start() -> None:
    applier = ReplicaApplier(_Cache(), 100)  # type: ignore[arg-type]
    applier.receive(101, mtr(2))
    applier.receive(103, mtr(3))
    applier.receive(106, mtr(1))
    assert applier.trim(105) and [p[0] for p in applier.pending] == [101, 103]
    assert applier.highest_lsn_rcvd == 105
    applier.receive(106, mtr(1))  # the new stream's records above its start
    assert [p[0] for p in applier.pending] == [101, 103, 106]
    assert not applier.trim(104)  # inside 103..105


def test_settle_needs_every_record_up_to_the_recovered_vdl() -> None:
    applier = ReplicaApplier(_Cache(), 100)  # type: ignore[arg-type]
    applier.receive(101, mtr(2))
    assert not applier.settle(110)  # 103..110 never arrived
    applier = ReplicaApplier(_Cache(), 100)  # type: ignore[arg-type]
    applier.receive(101, mtr(2))
    applier.receive(103, mtr(4))
    assert applier.settle(102) and applier.read_lsn == 102 and not applier.pending
