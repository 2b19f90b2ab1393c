"""A segment on its own: SCL from backlinks, materialization at any LSN, restart, coalescing, GC."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pgaurora.errors import DataCorrupted
from pgaurora.logstore import page as p
from pgaurora.logstore.page import Page, RedoOp
from pgaurora.logstore.records import (
    FLAG_CPL,
    RedoRecord,
    decode_records,
    encode_record,
    frame_of,
    scan_records,
)
from pgaurora.logstore.segment import DEFER_RECORDS, Segment


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
    assert seg.dirty == {1: 4, 2: 2}
    seg.set_epoch(2, 4)
    assert seg.scl == 4 and 5 not in seg.by_lsn
    assert seg.dirty == {1: 3, 2: 1}  # page 1 lost LSN 6, page 2 LSN 5
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


async def logged(seg: Segment, records: list[RedoRecord], vdl: int) -> None:
    """Appends records with their frames, as a storage node does (a restart replays them)."""
    await seg.append(records, b"".join(map(frame_of, records)), vdl_hint=vdl)


async def test_collection_defers_pages_with_few_recent_records(tmp_path: Path) -> None:
    """With defer_lsns, a collection images only the pages with many records or an old one; the
    others keep their records (no new image), read the same at and above the horizon, keep
    their log files, and are still there after a restart."""
    seg = make(tmp_path)
    seg.log.rotate_bytes = 512  # many small log files: which may go is visible
    specs = [(1, 4, RedoOp.INIT, p.encode_init(1)), (2, 1, RedoOp.INIT, p.encode_init(1))]
    lsn = 2
    for _ in range(DEFER_RECORDS):  # page 1: many records
        lsn += 1
        specs.append((lsn, 1, RedoOp.APPEND, b"many%d" % lsn))
    for page in (2, 3):  # pages 2 and 3: two records each, recent
        specs.append((lsn + 1, page, RedoOp.INIT, p.encode_init(1)))
        specs.append((lsn + 2, page, RedoOp.APPEND, b"few%d" % lsn))
        lsn += 2
    await logged(seg, chain(specs), lsn)
    horizon = lsn
    expected = {page: items(seg, page, horizon) for page in range(1, 5)}
    # page 4's only record (its INIT, LSN 1) is not above defer_above = horizon - defer_lsns = 1
    collection = seg.garbage_pass(min_read_lsn=horizon, defer_lsns=horizon - 1)
    assert collection is not None
    collection.step(100)
    assert collection.deferred == 2 and collection.finish() == 1 + 1 + DEFER_RECORDS
    assert {key >> 40 for key in seg.images} == {1, 4}
    assert seg.by_lsn.by_page.keys() == {2, 3} and len(seg.by_lsn) == 4
    assert seg.dirty == {2: 2, 3: 2}  # the imaged pages' counts go; the deferred ones' stay
    assert all(items(seg, page, horizon) == expected[page] for page in range(1, 5))
    # the log files holding the kept records (LSN 2 onwards) stay; a restart keeps those records
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert again.by_lsn.by_page.keys() == {2, 3}
    assert all(items(again, page, horizon) == expected[page] for page in range(1, 5))
    # a later collection with no deferral images them, and their files go
    lsn += 1
    await logged(again, [RedoRecord(lsn, 1, 0, horizon, 0, RedoOp.APPEND, 1, 1, b"later")], lsn)
    assert again.collect_garbage(min_read_lsn=lsn) == 5  # pages 2 and 3's four, and "later"
    assert not again.by_lsn.by_page and {key >> 40 for key in again.images} == {1, 2, 3, 4}
    assert items(again, 2, lsn) == expected[2] and items(again, 1, lsn) == [*expected[1], b"later"]
    again.close()


async def test_collection_drops_log_files_only_below_kept_records(tmp_path: Path) -> None:
    """A log file goes once every record in it is collected: the files before page 2's kept
    record go, the one holding it and those after stay (a restart reads them back)."""
    seg = make(tmp_path)
    seg.log.rotate_bytes = 200  # about two records a file
    specs = [(1, 1, RedoOp.INIT, p.encode_init(1)), (2, 1, RedoOp.APPEND, b"0")]
    specs += [(lsn, 1, RedoOp.SET, p.encode_set(0, b"%d" % lsn)) for lsn in range(3, 20)]
    specs += [(20, 2, RedoOp.INIT, p.encode_init(1))]  # page 2: one recent record, kept
    specs += [(lsn, 1, RedoOp.SET, p.encode_set(0, b"%d" % lsn)) for lsn in range(21, 40)]
    for record in chain(specs):
        await logged(seg, [record], record.lsn)

    def lsns_by_file() -> list[list[int]]:
        return [[r.lsn for r, _s, _e in scan_records(f.read_bytes()) if r and r.lsn] for f in seg.log.files()]

    before = lsns_by_file()
    assert len(before) > 6
    # off the event loop, a collection scans rotated files itself (drops them in the same call)
    await asyncio.to_thread(seg.collect_garbage, 39, 0, 30)  # defer_above = 9
    assert seg.by_lsn.by_page.keys() == {2}
    assert lsns_by_file() == [lsns for lsns in before if max(lsns, default=99) >= 20]
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert again.by_lsn.by_page.keys() == {2}
    assert items(again, 2, 39) == [] and items(again, 1, 39) == [b"39"]
    again.close()


async def deferred_page_2(tmp_path: Path) -> tuple[Segment, list[RedoRecord]]:
    """A segment collected up to its last record: page 1 (many records) imaged, page 2 (its INIT
    alone) deferred."""
    seg = make(tmp_path)
    specs = [(1, 1, RedoOp.INIT, p.encode_init(1)), (2, 2, RedoOp.INIT, p.encode_init(1))]
    specs += [(lsn, 1, RedoOp.APPEND, b"%d" % lsn) for lsn in range(3, 3 + DEFER_RECORDS)]
    records = chain(specs)
    await logged(seg, records, records[-1].lsn)
    seg.collect_garbage(min_read_lsn=records[-1].lsn, defer_lsns=1000)
    return seg, records


async def test_replayed_node_log_frames_keep_deferred_records(tmp_path: Path) -> None:
    """A record at or below the GC horizon that no image covers (its page was deferred) is taken
    from the node log at a restart; one an image covers is not."""
    seg, records = await deferred_page_2(tmp_path)
    horizon = records[-1].lsn
    assert seg.by_lsn.by_page.keys() == {2}
    del seg.by_lsn.records[2]  # as if its own file had lost LSN 2 (the node log still has it)
    seg.by_lsn.lsns.remove(2)
    del seg.by_lsn.by_page[2]
    frames = b"".join(frame_of(r) for r in records)
    assert seg.replay_frames(frames)
    assert seg.by_lsn.by_page.keys() == {2} and items(seg, 2, horizon) == []
    assert not seg.replay_frames(frames)  # nothing new the second time
    seg.close()


async def test_collection_stores_a_whole_image_record_as_materialized(tmp_path: Path) -> None:
    """A page whose newest record is a whole image (IMAGE) gets that image relabeled with the
    record's LSN: byte for byte what materializing and encoding the page gives."""
    seg = make(tmp_path)
    page = Page(1, b"special", [b"a" * 100, b"b" * 50], 7)
    specs = [(1, 1, RedoOp.INIT, p.encode_init(1)), (2, 1, RedoOp.APPEND, b"x"), (3, 1, RedoOp.IMAGE, p.encode_image(page))]
    await logged(seg, chain(specs), 3)
    expected = seg.materialize(1, 3)
    assert expected is not None and expected.lsn == 3
    assert p.relabeled_image(page.to_bytes(), 3) == expected.to_bytes()
    seg.collect_garbage(min_read_lsn=3)
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert again.materialize(1, 3) == expected and not again.by_lsn.by_page
    again.close()
    with pytest.raises(DataCorrupted):
        p.relabeled_image(page.to_bytes()[:-1] + b"!", 3)


async def test_rotated_files_go_without_a_scan(tmp_path: Path) -> None:
    """A file rotated out while the segment is open has its highest LSN noted then: a collection
    in the event loop drops it at once, with no worker thread reading it; a file from before a
    restart is scanned once, in a worker thread, and goes at a later collection."""
    seg = make(tmp_path)
    seg.log.rotate_bytes = 200
    specs = [(1, 1, RedoOp.INIT, p.encode_init(1))] + [(lsn, 1, RedoOp.APPEND, b"%d" % lsn) for lsn in range(2, 30)]
    for record in chain(specs):
        await logged(seg, [record], record.lsn)
    assert len(seg.log.files()) > 5
    seg.collect_garbage(min_read_lsn=29)
    assert not seg._scanning and seg.log.files() == [seg.log.current_file]
    assert items(seg, 1, 29) == [b"%d" % lsn for lsn in range(2, 30)]
    more = [RedoRecord(lsn, 1, 0, lsn - 1, 0, RedoOp.APPEND, 1, 1, b"%d" % lsn) for lsn in range(30, 34)]
    for record in more:
        await logged(seg, [record], record.lsn)
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    old = [path for path in again.log.files() if path != again.log.current_file]
    assert old
    again.collect_garbage(min_read_lsn=33)
    assert set(again._scanning) == set(old)  # files from before the restart: scanned first
    for _ in range(200):
        if not again._scanning:
            break
        await asyncio.sleep(0.01)
    await logged(again, [RedoRecord(34, 1, 0, 33, 0, RedoOp.APPEND, 1, 1, b"34")], 34)
    again.collect_garbage(min_read_lsn=34)
    assert again.log.files() == [again.log.current_file]
    assert items(again, 1, 34) == [b"%d" % lsn for lsn in range(2, 35)]
    again.close()


async def test_image_compaction_in_steps(tmp_path: Path) -> None:
    """A compaction copies the live images a few at a time: images written and collected
    meanwhile are kept and dropped as they should be, every page reads the same at each step,
    the old files go only at the end, and a restart in the middle or after finds every image."""
    seg = make(tmp_path)
    pages = {page: Page(1, b"", [b"%d-%d" % (page, i) for i in range(page % 7 + 1)], 1) for page in range(1, 41)}
    for page, content in pages.items():
        for lsn in (1, 2, 3, 4, 5):  # five images each, only the newest live
            seg._store_image(page, lsn, content)
        for lsn in (1, 2, 3, 4):
            del seg.images[(page << 40) | lsn]
    assert seg.compaction_due()
    old = sorted((tmp_path / "seg").glob("images.*"))
    compaction = seg.start_compaction()
    assert compaction is not None and seg.start_compaction() is None and len(compaction.keys) == 40

    def check() -> None:
        for page, content in pages.items():
            got = seg.materialize(page, 100)
            assert got is not None and got.items == content.items

    assert compaction.step(10) == 10
    check()
    newer = Page(1, b"", [b"newer"], 6)
    seg._store_image(7, 6, newer)  # a coalesce meanwhile: straight into the fresh file
    del seg.images[(7 << 40) | 5]
    pages[7] = newer
    del seg.images[(8 << 40) | 5]  # as if collected: skipped, not copied
    del pages[8]
    # a restart now: both the old and the fresh file are there, and the later copy wins
    mid = Segment.open(tmp_path / "seg", fsync=False)
    for page, content in pages.items():
        got = mid.materialize(page, 100)
        assert got is not None and got.items == content.items
    mid.close()
    while not compaction.done:
        compaction.step(7)
        check()
    assert all(path.exists() for path in old)
    compaction.finish()
    assert seg.compaction is None and not any(path.exists() for path in old)
    check()
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert len(again.images) == 39
    for page, content in pages.items():
        got = again.materialize(page, 100)
        assert got is not None and got.items == content.items
    again.close()


async def test_recovery_scan_is_not_misled_by_deferred_records(tmp_path: Path) -> None:
    """The last chain LSN at a recovery floor is where the chain stands at the GC horizon, not the
    newest record a collection kept for a deferred page (the new writer links its first record
    there: a lower one would leave a hole that never fills)."""
    seg, records = await deferred_page_2(tmp_path)
    horizon = records[-1].lsn
    assert seg.by_lsn.by_page.keys() == {2} and seg.gc_horizon == horizon
    lsns, cpls, last = seg.recovery_scan(horizon + 5)
    assert lsns == [] and cpls == [] and last == horizon
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)
    assert again.recovery_scan(horizon + 5)[2] == horizon and again.scl == horizon
    again.close()
