"""The hot log with real fsyncs: zero-filled files, sync rounds across segments, restart at a zero tail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pgaurora.logstore import page as p
from pgaurora.logstore.hotlog import ZERO_FILL_MIN, HotLog
from pgaurora.logstore.page import RedoOp
from pgaurora.logstore.records import FLAG_CPL, decode_records, encode_record, frame_of, scan_records
from pgaurora.logstore.segment import Segment


def frames(first: int, count: int, page: int = 1) -> bytes:
    out = b""
    for lsn in range(first, first + count):
        op, payload = (RedoOp.INIT, p.encode_init(1)) if lsn == 1 else (RedoOp.APPEND, b"r%d" % lsn)
        out += encode_record(lsn, page, 0, lsn - 1, 0, op, FLAG_CPL, 1, payload)
    return out


async def test_fsynced_log_is_zero_filled_ahead_and_replays_to_its_end(tmp_path: Path):
    segment = Segment.create(tmp_path / "seg", "v", 0, epoch=1, members=["a"], fsync=True)
    for first in range(1, 13, 3):
        data = frames(first, 3)
        await segment.append(decode_records(data), data)
    assert segment.scl == 12
    log_file = segment.log.current_file
    raw = log_file.read_bytes()
    assert len(raw) >= ZERO_FILL_MIN and raw.endswith(bytes(1024))  # pre-filled, not grown per append
    segment.close()
    again = Segment.open(tmp_path / "seg", fsync=True)
    assert again.scl == 12 and not again.damaged  # the zero tail is the end, not damage
    assert again.materialize(1, 12).items[-1] == b"r12"  # type: ignore[union-attr]
    again.close()


async def test_damage_before_the_zero_tail_is_still_damage(tmp_path: Path):
    segment = Segment.create(tmp_path / "seg", "v", 0, epoch=1, members=["a"], fsync=True)
    data = frames(1, 6)
    await segment.append(decode_records(data), data)
    log_file = segment.log.current_file
    segment.close()
    raw = bytearray(log_file.read_bytes())
    raw[len(data) - 3] ^= 0x40  # inside the last record
    log_file.write_bytes(bytes(raw))
    damaged = Segment.open(tmp_path / "seg", fsync=True)
    assert damaged.damaged and damaged.scl == 5
    damaged.close()


def test_scan_stops_at_zeros_and_reports_garbage():
    data = frames(1, 3)
    assert [r.lsn for r, _, _ in scan_records(data + bytes(4096))] == [1, 2, 3]  # type: ignore[union-attr]
    scanned = list(scan_records(data + bytes(100) + b"\x01" + bytes(100)))
    assert [r.lsn if r else None for r, _, _ in scanned] == [1, 2, 3, None]


async def test_a_sync_round_covers_every_hot_log_that_got_data_in_one_loop_turn(tmp_path: Path):
    logs = []
    for name in ("g0", "g1", "g2"):
        (tmp_path / name).mkdir()
        hot_log = HotLog(tmp_path / name, fsync=True)
        hot_log.open()
        logs.append(hot_log)
    record = frame_of(decode_records(frames(1, 1))[0])
    # the same turn: one round, synced in parallel; each log fsynced once for its two appends
    await asyncio.gather(*(hot_log.append(record) for hot_log in logs for _ in range(2)))
    assert [hot_log.fsync_count for hot_log in logs] == [1, 1, 1]
    # alone in its round: synced inline; data arriving meanwhile goes in the next round
    await logs[0].append(record)
    assert logs[0].fsync_count == 2
    for hot_log in logs:
        hot_log.close()
        assert [r.lsn for r, _, _ in scan_records(hot_log.current_file.read_bytes())] == [1] * (  # type: ignore[union-attr]
            3 if hot_log is logs[0] else 2
        )
