"""The log client's per-group record buffer (logstore.grouplog): batches after an LSN, and
trimming that keeps what a slower pipelined segment has yet to be sent."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from pgaurora.logstore.grouplog import KEEP_BELOW_PGCL, GroupLog


def _log(lsns: range) -> GroupLog:
    group_log = GroupLog(0, 0)
    for lsn in lsns:
        group_log.append(lsn, b"<%d>" % lsn)
    return group_log


def test_after_returns_the_frames_past_an_lsn_up_to_about_max_bytes() -> None:
    group_log = _log(range(1, 11))
    assert group_log.after(7, 1 << 20) == (b"<8><9><10>", 10)
    assert group_log.after(0, 7) == (b"<1><2><3>", 3)  # at least max_bytes, whole frames
    assert group_log.after(10, 1 << 20) == (b"", 10)


def test_trim_for_keeps_what_the_slowest_segment_was_not_sent_yet() -> None:
    group_log = _log(range(1, 11))
    pipelines = [SimpleNamespace(sent=9) for _ in range(5)] + [SimpleNamespace(sent=4)]
    group_log.pipelines = cast(Any, pipelines)
    group_log.trim_for(8)  # four segments hold 1..8; the slowest was sent 1..4 only
    assert group_log.after(4, 1 << 20) == (b"<5><6><7><8><9><10>", 10)  # its next batch: no hole
    assert group_log.after(0, 1 << 20)[0].startswith(b"<5>")  # 1..4 are gone
    pipelines[-1].sent = 10
    group_log.trim_for(8)
    assert group_log.after(0, 1 << 20) == (b"<9><10>", 10)


def test_trim_for_gives_up_on_a_segment_too_far_behind() -> None:
    group_log = _log(range(1, KEEP_BELOW_PGCL + 102))
    group_log.pipelines = cast(Any, [SimpleNamespace(sent=KEEP_BELOW_PGCL + 101)] * 5 + [SimpleNamespace(sent=0)])
    group_log.trim_for(KEEP_BELOW_PGCL + 100)  # the sixth (its node down) fills the gap by gossip
    frames, last = group_log.after(0, 1 << 20)
    assert frames.startswith(b"<101>") and last == KEEP_BELOW_PGCL + 101
