"""The node log: one fsync for the batches of every segment, replay at restart, checkpoints."""

from __future__ import annotations

import os
from pathlib import Path

from pgaurora.logstore import StorageNode, nodelog
from pgaurora.logstore import messages as m
from pgaurora.logstore.page import RedoOp
from pgaurora.logstore.records import FLAG_CPL, encode_record


def _batch(group: int, first_lsn: int, count: int, prev_lsn: int) -> tuple[bytes, int]:
    frames = []
    for lsn in range(first_lsn, first_lsn + count):
        page = group * 1000 + 1
        op = RedoOp.INIT if lsn == first_lsn and prev_lsn == 0 else RedoOp.APPEND
        payload = b"\x01\x00" if op == RedoOp.INIT else b"row-%d" % lsn
        frames.append(encode_record(lsn, page, 0, prev_lsn, 7, op, FLAG_CPL, 1, payload))
        prev_lsn = lsn
    return b"".join(frames), prev_lsn


async def _node(path: Path) -> StorageNode:
    node = StorageNode(path, "node0", "a", fsync=True, background_interval=0)
    node.start()
    for group in (0, 1, 2):
        reply = await node.handle(m.CreateSegment("v", group, 1, ["node0"]))
        assert isinstance(reply, m.Ack)
    return node


def _crash(node: StorageNode) -> None:
    """A kill -9: descriptors closed with nothing more written or synced."""
    assert node.node_log is not None
    node.node_log.log.close()
    for segment in node.segments.values():
        os.close(segment.log._fd)
        segment.log._fd = -1
        os.close(segment._image_fd)
        segment._image_fd = -1


def _truncate_segment_files(path: Path) -> None:
    """What a crash does to data written but never synced: it is gone from the segment files."""
    for log in path.glob("v/group-*/log.*"):
        os.truncate(log, 0)


async def test_one_fsync_covers_a_turns_batches_of_every_segment(tmp_path: Path) -> None:
    import asyncio

    node = await _node(tmp_path)
    assert node.node_log is not None
    before = node.node_log.fsync_count
    requests = []
    for group in (0, 1, 2):
        frames, _ = _batch(group, 1 + group * 10, 3, 0)
        requests.append(node.handle(m.AppendBatch("v", group, 1, frames)))
    replies = await asyncio.gather(*requests)
    assert [r.scl for r in replies] == [3, 13, 23]  # type: ignore[union-attr]
    assert node.node_log.fsync_count - before == 1
    assert all(s.log.fsync_count == 0 for s in node.segments.values())
    await node.stop()


async def test_acknowledged_batches_survive_losing_the_unsynced_segment_files(tmp_path: Path) -> None:
    node = await _node(tmp_path)
    last = {}
    for group in (0, 1, 2):
        frames, last[group] = _batch(group, 1 + group * 10, 4, 0)
        reply = await node.handle(m.AppendBatch("v", group, 1, frames))
        assert isinstance(reply, m.Ack) and reply.scl == last[group]
    expected = {g: node.segments[("v", g)].materialize(g * 1000 + 1, last[g]).to_bytes() for g in last}  # type: ignore[union-attr]
    _crash(node)
    _truncate_segment_files(tmp_path)

    restarted = StorageNode(tmp_path, "node0", "a", fsync=True, background_interval=0)
    restarted.start()
    try:
        for group, lsn in last.items():
            segment = restarted.segments[("v", group)]
            assert segment.scl == segment.durable_scl == lsn
            assert segment.materialize(group * 1000 + 1, lsn).to_bytes() == expected[group]  # type: ignore[union-attr]
        # The replayed records are in the segments' own files now: the old node log files are gone.
        assert len(restarted.node_log.files()) == 1  # type: ignore[union-attr]
    finally:
        await restarted.stop()

    again = StorageNode(tmp_path, "node0", "a", fsync=True, background_interval=0)
    again.start()
    try:
        assert {g: again.segments[("v", g)].scl for g in last} == last
    finally:
        await again.stop()


async def test_a_checkpoint_syncs_the_segment_files_then_drops_old_node_log_files(tmp_path: Path) -> None:
    node = await _node(tmp_path)
    assert node.node_log is not None
    frames, last = _batch(0, 1, 5, 0)
    await node.handle(m.AppendBatch("v", 0, 1, frames))
    old_files = node.node_log.files()
    done = node.node_log.checkpoint()
    assert done is not None
    await done
    assert not any(path.exists() for path in old_files)
    assert node.node_log.checkpoint() is None  # nothing written since
    more, last = _batch(0, 6, 2, last)
    await node.handle(m.AppendBatch("v", 0, 1, more))
    _crash(node)

    restarted = StorageNode(tmp_path, "node0", "a", fsync=True, background_interval=0)
    restarted.start()
    try:
        assert restarted.segments[("v", 0)].scl == last == 7
    finally:
        await restarted.stop()


def test_a_torn_entry_ends_the_scan(tmp_path: Path) -> None:
    entries = [nodelog.encode_entry("v", g, b"x" * (10 + g)) for g in range(3)]
    data = b"".join(entries)
    torn = data[: len(data) - 3]
    assert [(v, g, bytes(f)) for v, g, f in nodelog.scan_entries(data)] == [
        ("v", 0, b"x" * 10), ("v", 1, b"x" * 11), ("v", 2, b"x" * 12)
    ]
    assert [g for _, g, _ in nodelog.scan_entries(torn)] == [0, 1]
    assert [g for _, g, _ in nodelog.scan_entries(data + bytes(64))] == [0, 1, 2]
