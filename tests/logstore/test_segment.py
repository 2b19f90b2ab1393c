"""A segment on its own: SCL from backlinks, materialization at any LSN, restart, coalescing, GC."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgaurora.logstore import page as p
from pgaurora.logstore.page import Page, RedoOp
from pgaurora.logstore.records import FLAG_CPL, RedoRecord, decode_records, encode_record
from pgaurora.logstore.segment import Segment


def chain(specs: list[tuple[int, int, int, bytes]], epoch: int = 1) -> list[RedoRecord]:
    """Records for (lsn, page, op, payload), linked in LSN order."""
    frames = b""
    prev = 0
    for lsn, page, op, payload in specs:
        frames += encode_record(lsn, page, 0, prev, 0, op, FLAG_CPL, epoch, payload)
        prev = lsn
    return decode_records(frames)


def make(tmp_path: Path) -> Segment:
    return Segment.create(tmp_path / "seg", "v", 0, epoch=1, members=["a"], fsync=False)


SPECS = [
    (1, 1, RedoOp.INIT, p.encode_init(1)),
    (2, 2, RedoOp.INIT, p.encode_init(2)),
    (3, 1, RedoOp.APPEND, b"x"),
    (4, 1, RedoOp.APPEND, b"y"),
    (5, 2, RedoOp.APPEND, b"z"),
    (6, 1, RedoOp.SET, p.encode_set(0, b"X")),
]


def items(segment: Segment, page: int, lsn: int) -> list[bytes] | None:
    result = segment.materialize(page, lsn)
    return None if result is None else result.items


async def test_scl_follows_backlinks_and_holes(tmp_path: Path) -> None:
    seg = make(tmp_path)
    records = chain(SPECS)
    await seg.append([records[0], records[2], records[3]], b"")
    assert seg.scl == 1 and seg.has_hole()
    await seg.append([records[1]], b"")
    assert seg.scl == 4 and not seg.has_hole()
    await seg.append(records[4:], b"")
    assert seg.scl == 6
    seg.close()


async def test_materialize_at_any_lsn(tmp_path: Path) -> None:
    seg = make(tmp_path)
    await seg.append(chain(SPECS), b"")
    assert items(seg, 1, 0) is None
    assert items(seg, 1, 2) == []
    assert items(seg, 1, 3) == [b"x"]
    assert items(seg, 1, 5) == [b"x", b"y"]
    assert items(seg, 1, 6) == [b"X", b"y"]
    assert items(seg, 2, 6) == [b"z"]
    assert seg.materialize(1, 6).lsn == 6
    seg.close()


async def test_restart_from_disk_and_bit_flip(tmp_path: Path) -> None:
    seg = make(tmp_path)
    records = chain(SPECS)
    from pgaurora.logstore.records import frame_of

    await seg.append(records, b"".join(frame_of(r) for r in records), vdl_hint=6)
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert again.scl == 6 and again.vdl_hint == 6 and items(again, 1, 6) == [b"X", b"y"]
    again.close()
    log = sorted((tmp_path / "seg").glob("log.*"))[0]
    data = bytearray(log.read_bytes())
    data[len(data) - 3] ^= 0x40  # inside the last record
    log.write_bytes(bytes(data))
    damaged = Segment.open(tmp_path / "seg", fsync=False)
    assert damaged.damaged and damaged.scl == 5
    damaged.close()
    rewritten = Segment.open(tmp_path / "seg", fsync=False)  # the damaged file was rewritten clean
    assert not rewritten.damaged and rewritten.scl == 5
    rewritten.close()


async def test_truncation_by_epoch(tmp_path: Path) -> None:
    seg = make(tmp_path)
    await seg.append(chain(SPECS), b"")
    seg.set_epoch(2, 4)
    assert seg.scl == 4 and 5 not in seg.by_lsn
    late = RedoRecord(6, 1, 0, 5, 0, RedoOp.APPEND, 0, 1, b"old writer")
    assert not seg.insert(late)
    fresh = RedoRecord(100, 1, 0, 4, 0, RedoOp.APPEND, 1, 2, b"new")
    assert seg.insert(fresh) and seg.scl == 100
    assert items(seg, 1, 100) == [b"x", b"y", b"new"]
    seg.close()


async def test_coalesce_and_gc(tmp_path: Path) -> None:
    seg = make(tmp_path)
    specs = [(1, 1, RedoOp.INIT, p.encode_init(1))] + [
        (lsn, 1, RedoOp.APPEND, b"%d" % lsn) for lsn in range(2, 60)
    ]
    await seg.append(chain(specs), b"", vdl_hint=59)
    assert seg.coalesce(threshold=32) == 1
    assert len(seg.images) == 1
    expected = {lsn: items(seg, 1, lsn) for lsn in (40, 59)}
    dropped = seg.collect_garbage(min_read_lsn=40)
    assert dropped == 40 and seg.gc_horizon == 40
    assert items(seg, 1, 40) == expected[40] and items(seg, 1, 59) == expected[59]
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert items(again, 1, 59) == expected[59]
    again.close()


def test_page_equality() -> None:
    assert Page(1, b"", [b"a"], 3) == Page(1, b"", [b"a"], 3)
    with pytest.raises(TypeError):
        hash(Page())


async def test_image_files_are_compacted(tmp_path: Path) -> None:
    seg = make(tmp_path)
    specs = [(1, 1, RedoOp.INIT, p.encode_init(1))]
    lsn = 1
    expected = None
    for round_ in range(12):
        for _ in range(40):
            lsn += 1
            specs.append((lsn, 1, RedoOp.SET if lsn > 2 else RedoOp.APPEND, p.encode_set(0, b"%d" % lsn) if lsn > 2 else b"0"))
        await seg.append(chain(specs)[-40 - (round_ == 0) :], b"", vdl_hint=lsn)
        for _ in range(10):  # several coalesced images per round, then GC keeps only the newest
            seg.dirty[1] = 99
            seg.coalesce(threshold=1)
        seg.collect_garbage(min_read_lsn=lsn)
        expected = items(seg, 1, lsn)
    files = list((tmp_path / "seg").glob("images.*"))
    assert sum(f.stat().st_size for f in files) <= 64 * 8212
    assert expected == [b"%d" % lsn] and items(seg, 1, lsn) == expected
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert items(again, 1, lsn) == expected
    again.close()


async def test_garbage_collected_in_steps_while_batches_arrive(tmp_path: Path) -> None:
    """A storage node collects a segment's garbage a few pages per loop turn (GarbagePass):
    batches that arrive between the steps are kept, every page reads as before at and above the
    horizon, and the result is what one collect_garbage call leaves."""
    seg = make(tmp_path)
    specs = [(page, page, RedoOp.INIT, p.encode_init(1)) for page in range(1, 21)]
    lsn = 20
    for _ in range(5):
        for page in range(1, 21):
            lsn += 1
            specs.append((lsn, page, RedoOp.APPEND, b"%d" % lsn))
    await seg.append(chain(specs), b"", vdl_hint=lsn)
    horizon = lsn
    expected = {page: items(seg, page, horizon) for page in range(1, 21)}
    collection = seg.garbage_pass(min_read_lsn=horizon)
    assert collection is not None and len(collection.pages) == 20
    more = []
    while not collection.done:
        assert collection.step(3) <= 3
        lsn += 1  # a batch between two steps: above the horizon, kept
        more.append((lsn, 1 + lsn % 20, RedoOp.APPEND, b"late%d" % lsn))
        await seg.append(chain(specs + more)[-1:], b"", vdl_hint=lsn)
        assert all(items(seg, page, horizon) == expected[page] for page in range(1, 21))
    assert collection.finish() == 120
    assert seg.gc_horizon == horizon and seg.garbage_pass(min_read_lsn=horizon) is None
    assert all(items(seg, page, horizon) == expected[page] for page in range(1, 21))
    for _, page, _, payload in more:
        assert payload in (items(seg, page, lsn) or [])
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert all(items(again, page, horizon) == expected[page] for page in range(1, 21))
    again.close()
