"""A storage node's AppendBatch hot path: no task per batch, one write per batch before the
fdatasync (segment files are written lazily), batch indexing, and the parsed-image cache."""

from __future__ import annotations

import asyncio
import os
import random
import struct
from pathlib import Path

import pytest

from pgaurora.logstore import StorageNode, hotlog
from pgaurora.logstore import messages as m
from pgaurora.logstore import page as p
from pgaurora.logstore.page import RedoOp
from pgaurora.logstore.records import FLAG_CPL, RedoRecord, decode_records, encode_record
from pgaurora.logstore.segment import Segment
from pgaurora.logstore.tcp import NodeServer


def _batch(group: int, first_lsn: int, count: int, prev_lsn: int, epoch: int = 1) -> tuple[bytes, int]:
    frames = []
    page = group * 1000 + 1
    for lsn in range(first_lsn, first_lsn + count):
        op = RedoOp.INIT if prev_lsn == 0 else RedoOp.APPEND
        payload = p.encode_init(1) if op == RedoOp.INIT else b"row-%d" % lsn
        frames.append(encode_record(lsn, page, 0, prev_lsn, 7, op, FLAG_CPL, epoch, payload))
        prev_lsn = lsn
    return b"".join(frames), prev_lsn


async def _node(path: Path, *, fsync: bool = True) -> StorageNode:
    node = StorageNode(path, "node0", "a", fsync=fsync, background_interval=0)
    node.start()
    for group in (0, 1, 2):
        reply = await node.handle(m.CreateSegment("v", group, 1, ["node0"]))
        assert isinstance(reply, m.Ack)
    return node


def _segment_file_bytes(path: Path, group: int) -> int:
    return sum(f.stat().st_size - f.read_bytes().count(0) for f in path.glob(f"v/group-{group:06d}/log.*"))


async def test_one_write_per_batch_segment_files_lazily(tmp_path: Path) -> None:
    node = await _node(tmp_path)
    assert node.node_log is not None
    frames, last = _batch(0, 1, 5, 0)
    writes = node.node_log.log.bytes_written
    reply = await node.handle(m.AppendBatch("v", 0, 1, frames))
    assert isinstance(reply, m.Ack) and reply.scl == last
    # Durable in the node log; the segment's own file has not been written yet.
    assert node.node_log.log.bytes_written > writes
    segment = node.segments[("v", 0)]
    assert segment.log.bytes_written == 0 and _segment_file_bytes(tmp_path, 0) == 0
    # A checkpoint writes and syncs it before the old node log files go.
    done = node.node_log.checkpoint()
    assert done is not None
    await done
    assert segment.log.bytes_written == len(frames) and _segment_file_bytes(tmp_path, 0) > 0
    await node.stop()
    again = StorageNode(tmp_path, "node0", "a", fsync=True, background_interval=0)
    again.start()
    try:
        assert again.segments[("v", 0)].scl == last
    finally:
        await again.stop()


async def test_a_lazy_log_writes_its_buffer_in_large_pieces(tmp_path: Path) -> None:
    log = hotlog.HotLog(tmp_path, fsync=False)
    log.lazy = True
    log.open()
    piece = b"x" * 1000
    count = hotlog.LAZY_WRITE_BYTES // len(piece) + 1
    for _ in range(count - 1):
        log.buffer(piece)
    assert log.bytes_written == 0
    log.buffer(piece)
    assert log.bytes_written == count * len(piece)
    log.buffer(b"tail")
    fd = log._fd
    log._fd = os.open(log.current_file, os.O_RDONLY)  # a failing write keeps the buffered appends
    with pytest.raises(OSError):
        log.append_nowait(b"lost")
    os.close(log._fd)
    log._fd = fd
    log.append_nowait(b"after")  # buffered appends go first
    log.close()
    assert log.current_file.read_bytes() == piece * count + b"tailafter"


async def test_batches_of_one_read_share_one_fsync_and_get_their_acks(tmp_path: Path) -> None:
    node = await _node(tmp_path)
    assert node.node_log is not None
    server = NodeServer(node)
    host, port = await server.start("127.0.0.1", 0)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        before = node.node_log.fsync_count
        data = b""
        expected = {}
        for request_id, group in enumerate((0, 1, 2), start=1):
            frames, expected[request_id] = _batch(group, 1 + group * 10, 3, 0)
            body = m.encode(m.AppendBatch("v", group, 1, frames))
            data += struct.pack("<II", len(body), request_id) + body
        # A frame split across reads and a malformed one: each gets its reply, in one stream.
        writer.write(data[:5])
        await writer.drain()
        writer.write(data[5:] + struct.pack("<II", 2, 9) + b"\xc1\xc1")
        replies = {}
        for _ in range(4):
            length, request_id = struct.unpack("<II", await asyncio.wait_for(reader.readexactly(8), 10))
            replies[request_id] = m.decode_reply(await reader.readexactly(length))
        assert {i: r.scl for i, r in replies.items() if isinstance(r, m.Ack)} == expected
        assert isinstance(replies[9], m.Refused) and replies[9].code == "malformed"
        assert node.node_log.fsync_count - before == 1
    finally:
        writer.close()
        await server.stop()
        await node.stop()


async def test_append_batch_refusals_reply_at_once(tmp_path: Path) -> None:
    node = await _node(tmp_path, fsync=False)
    replies: list[m.Reply] = []
    frames, _ = _batch(0, 1, 2, 0)
    node.append_batch(m.AppendBatch("v", 0, 0, frames), replies.append)
    node.append_batch(m.AppendBatch("v", 0, 2, frames), replies.append)
    node.append_batch(m.AppendBatch("v", 9, 1, frames), replies.append)
    damaged = bytearray(frames)
    damaged[-1] ^= 1
    node.append_batch(m.AppendBatch("v", 0, 1, bytes(damaged)), replies.append)
    node.append_batch(m.AppendBatch("v", 0, 1, frames), replies.append)  # fsync off: acked at once
    node.append_batch(m.AppendBatch("v", 0, 1, frames), replies.append)  # nothing new
    codes = [r.code if isinstance(r, m.Refused) else r.scl for r in replies]
    assert codes == ["stale_epoch", "epoch_behind", "no_segment", "corrupt", 2, 2]
    assert "incorrect redo record checksum" in replies[3].message  # type: ignore[union-attr]
    await node.stop()


def _records(rng: random.Random, count: int) -> list[RedoRecord]:
    frames = b""
    prev = 0
    for lsn in range(1, count + 1):
        page = rng.randrange(1, 6)
        frames += encode_record(lsn, page, 0, prev, 0, RedoOp.APPEND, FLAG_CPL, rng.choice((1, 2)), b"r%d" % lsn)
        prev = lsn
    return decode_records(frames)


def _state(segment: Segment) -> tuple:
    index = segment.by_lsn
    return (segment.scl, segment.max_lsn, dict(segment.next_by_prev), dict(segment.dirty), dict(index.records),
            list(index.lsns), {k: list(v) for k, v in index.by_page.items()})


async def test_insert_batch_is_insert_of_each_record(tmp_path: Path) -> None:
    rng = random.Random(5)
    for case in range(30):
        records = _records(rng, 40)
        batches = []
        pool = records[:]
        rng.shuffle(pool)  # out of order, with holes filled later and duplicates
        pool += rng.sample(records, 10)
        while pool:
            size = rng.randrange(0, 8)
            batches.append(pool[:size])
            pool = pool[size:]
        one = Segment.create(tmp_path / f"one{case}", "v", 0, epoch=2, members=["a"], fsync=False)
        each = Segment.create(tmp_path / f"each{case}", "v", 0, epoch=2, members=["a"], fsync=False)
        if case % 2:  # a recovery truncated epoch-1 records above LSN 20
            for segment in (one, each):
                segment.set_epoch(2, 20)
        for batch in batches:
            inserted = [each.insert(record) for record in batch]
            assert one.insert_batch(batch) == any(inserted)
            assert _state(one) == _state(each)
        one.close()
        each.close()


async def test_cached_images_are_copies(tmp_path: Path) -> None:
    seg = Segment.create(tmp_path / "seg", "v", 0, epoch=1, members=["a"], fsync=False)
    frames, last = _batch(0, 1, 40, 0)
    await seg.append(decode_records(frames), frames, vdl_hint=last)
    assert seg.coalesce(threshold=32) == 1
    expected = seg.materialize(1, last)
    assert expected is not None
    first = seg.materialize(1, last)
    assert first is not None and first == expected
    first.items.clear()  # a caller changing its page does not change the segment's
    assert seg.materialize(1, last) == expected
    seg.close()
    again = Segment.open(tmp_path / "seg", fsync=False)  # the image on disk is the same page
    assert again.materialize(1, last) == expected
    again.close()


@pytest.mark.parametrize("fsync", [False, True])
async def test_the_background_pass_compacts_image_files_a_few_frames_per_loop_turn(tmp_path: Path, fsync: bool) -> None:
    """After a collection, a node rewrites its segment's live images COMPACT_STEP_FRAMES per loop
    turn (in one call it held the node 0.44 s for 16,000 pages), answering batches in between;
    with fsync, the fresh file's fsync runs in a worker thread and the old files go after it."""
    from pgaurora.logstore import node as nodemod

    node = StorageNode(tmp_path, "node0", "a", fsync=fsync, background_interval=0)
    node.start()
    try:
        assert isinstance(await node.handle(m.CreateSegment("v", 0, 1, ["node0"])), m.Ack)
        pages = 2 * nodemod.COMPACT_STEP_FRAMES + 10
        frames = [encode_record(page, page, 0, page - 1, 7, RedoOp.INIT, FLAG_CPL, 1, p.encode_init(1))
                  for page in range(1, pages + 1)]
        assert isinstance(await node.handle(m.AppendBatch("v", 0, 1, b"".join(frames), vdl=pages)), m.Ack)
        segment = node.segments[("v", 0)]
        content = p.Page(1, b"", [b"x" * 100], 0)
        for page in range(1, pages + 1):  # ten old images a page, nine of them dead already
            for lsn in range(1, 11):
                segment._store_image(page + 10_000, lsn, content)
            for lsn in range(1, 10):
                del segment.images[((page + 10_000) << 40) | lsn]
        old_files = sorted(segment.directory.glob("images.*"))
        node.min_read_lsn[("v", 0)] = pages  # the writer's read point: a collection is due
        node._background()
        turns = 0
        remaining: list[int] = []  # keys left to copy, seen between loop turns
        for _ in range(200):  # bounded: a step per loop turn
            if node._background_timer is None:
                break
            if segment.compaction is not None:
                remaining.append(len(segment.compaction.keys))
            await asyncio.sleep(0)
            turns += 1
            if turns == 3:  # a batch between the steps is taken and acked
                extra = encode_record(pages + 1, 1, 0, pages, 7, RedoOp.APPEND, FLAG_CPL, 1, b"late")
                assert isinstance(await node.handle(m.AppendBatch("v", 0, 1, extra, vdl=pages + 1)), m.Ack)
        for _ in range(500):  # bounded: the fsync in a worker thread
            if segment.compaction is None:
                break
            await asyncio.sleep(0.01)
        assert len(remaining) >= 2 and remaining[-1] <= nodemod.COMPACT_STEP_FRAMES
        assert all(0 < a - b <= nodemod.COMPACT_STEP_FRAMES for a, b in zip(remaining, remaining[1:], strict=False))
        assert node._background_timer is None and segment.compaction is None and turns >= 3
        assert not any(path.exists() for path in old_files)
        assert len(segment.images) == 2 * pages  # each page's image at the horizon, and the old live one
        assert segment.materialize(1, pages + 1).items == [b"late"]  # type: ignore[union-attr]
        assert segment._read_image(((5 + 10_000) << 40) | 10) == content
    finally:
        await node.stop()
