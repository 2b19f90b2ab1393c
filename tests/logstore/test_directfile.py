"""The node log's direct writes (O_DIRECT | O_DSYNC) and the Ack path straight from a sync round."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from pgaurora.logstore import StorageNode, hotlog
from pgaurora.logstore import messages as m
from pgaurora.logstore.directfile import BLOCK, DirectFile
from pgaurora.logstore.nodelog import encode_entry, scan_entries
from pgaurora.logstore.page import RedoOp
from pgaurora.logstore.records import FLAG_CPL, encode_record


def _direct(path: Path) -> DirectFile:
    opened = DirectFile.open(path)
    if opened is None:
        pytest.skip("this file system refuses O_DIRECT")
    return opened


def test_appends_of_any_size_read_back_in_order_with_zeros_after(tmp_path: Path) -> None:
    path = tmp_path / "log"
    direct = _direct(path)
    randomness = random.Random(5)
    expected = bytearray()
    zeroed = direct.zero_fill(0, 3 * BLOCK)
    try:
        for index in range(80):
            size = randomness.choice((1, 100, 640, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7))
            data = bytes([index % 251 + 1]) * size
            end = len(expected) + size
            if end + BLOCK > zeroed:
                zeroed = direct.zero_fill(zeroed, end + 4 * BLOCK)
            direct.append(data, len(expected))
            expected += data
    finally:
        direct.close()
    raw = path.read_bytes()
    assert raw[: len(expected)] == expected
    assert raw[len(expected) :] == bytes(len(raw) - len(expected))  # padding and zero fill only
    assert zeroed % BLOCK == 0 and len(raw) == zeroed


def test_an_append_must_follow_the_tail(tmp_path: Path) -> None:
    direct = _direct(tmp_path / "log")
    try:
        direct.append(b"abc", 0)
        with pytest.raises(OSError):
            direct.append(b"def", 10)
    finally:
        direct.close()


def test_a_direct_hot_log_needs_no_fdatasync_and_replays(tmp_path: Path) -> None:
    log = hotlog.HotLog(tmp_path, fsync=True, direct=True)
    log.open()
    if log._direct is None:
        log.close()
        pytest.skip("this file system refuses O_DIRECT")
    entries = [encode_entry("v", group, b"frames-%d" % group * 50) for group in range(40)]
    for entry in entries:
        log._write_and_sync(entry)
    assert log.fsync_count == len(entries) and log.bytes_written == sum(map(len, entries))
    log.close()
    scanned = list(scan_entries(log.current_file.read_bytes()))
    assert [(volume, group, bytes(frames)) for volume, group, frames in scanned] == [
        ("v", group, b"frames-%d" % group * 50) for group in range(40)
    ]


def _frames(first: int, count: int, prev: int) -> bytes:
    out = []
    for lsn in range(first, first + count):
        op = RedoOp.INIT if prev == 0 else RedoOp.APPEND
        out.append(encode_record(lsn, 1, 0, prev, 7, op, FLAG_CPL, 1, b"\x01\x00" if prev == 0 else b"r%d" % lsn))
        prev = lsn
    return b"".join(out)


async def test_acks_are_answered_by_the_sync_round_itself_and_flushed_once(tmp_path: Path) -> None:
    """The round's waiters reply where the fdatasync returns: the replies of one round are
    deferred to its end (one send per connection), and nothing waits for another loop turn."""
    node = StorageNode(tmp_path, "node0", "a", fsync=True, background_interval=0)
    node.start()
    try:
        for group in (0, 1):
            assert isinstance(await node.handle(m.CreateSegment("v", group, 1, ["node0"])), m.Ack)
        replies: list[tuple[int, m.Reply]] = []
        flushed: list[list[int]] = []
        round_done = asyncio.get_running_loop().create_future()

        def flush() -> None:
            flushed.append([group for group, _ in replies])
            round_done.set_result(None)

        def reply_for(group: int):
            def reply(answer: m.Reply) -> None:
                if not replies:
                    hotlog.after_sync_round(flush)
                replies.append((group, answer))

            return reply

        for group in (0, 1):
            node.append_batch(m.AppendBatch("v", group, 1, _frames(1, 3, 0)), reply_for(group))
        assert replies == []  # not durable yet
        await asyncio.wait_for(round_done, 5)
        assert flushed == [[0, 1]]  # both acks were queued before the one flush ran
        assert [(group, answer) for group, answer in replies] == [(0, m.Ack(3, 1)), (1, m.Ack(3, 1))]
    finally:
        await node.stop()


def test_a_lazy_log_is_not_zero_filled(tmp_path: Path) -> None:
    """A segment's lazy file is synced only at checkpoints: zeros ahead would double its writes."""
    log = hotlog.HotLog(tmp_path, fsync=True)
    log.lazy = True
    log.open()
    log.buffer(b"x" * 1000)
    log.write_buffered()
    assert log.current_file.stat().st_size == 1000
    log.close()


@pytest.mark.parametrize("direct", [True, False])
async def test_zeros_are_filled_ahead_after_a_round_not_in_it(tmp_path: Path, direct: bool) -> None:
    log = hotlog.HotLog(tmp_path, fsync=True, direct=direct)
    log.open()
    try:
        for _ in range(12):
            await log.append(b"e" * 9000)
            assert log._zeroed - log._file_size >= hotlog.ZERO_FILL_MIN  # room for the next round
        assert log.fsync_count == 12  # the fills' own syncs are not the rounds' syncs
    finally:
        log.close()
    assert log.current_file.read_bytes()[: 12 * 9000] == b"e" * 9000 * 12


async def test_the_background_pass_coalesces_a_few_pages_per_loop_turn(tmp_path: Path) -> None:
    from pgaurora.logstore import node as nodemod

    node = StorageNode(tmp_path, "node0", "a", fsync=False, background_interval=0, coalesce_threshold=4)
    node.start()
    try:
        assert isinstance(await node.handle(m.CreateSegment("v", 0, 1, ["node0"])), m.Ack)
        frames, prev, lsn = [], 0, 0
        pages = 3 * nodemod.COALESCE_STEP_PAGES + 1
        for page in range(1, pages + 1):
            for index in range(5):
                lsn += 1
                op, payload = (RedoOp.INIT, b"\x01\x00") if index == 0 else (RedoOp.APPEND, b"r%d" % lsn)
                frames.append(encode_record(lsn, page, 0, prev, 7, op, FLAG_CPL, 1, payload))
                prev = lsn
        reply = await node.handle(m.AppendBatch("v", 0, 1, b"".join(frames), vdl=lsn))
        assert isinstance(reply, m.Ack) and reply.scl == lsn
        segment = node.segments[("v", 0)]
        node._background()
        assert len(segment.images) == nodemod.COALESCE_STEP_PAGES  # the rest waits for later turns
        for _ in range(50):  # bounded: a step per loop turn
            if node._background_timer is None:
                break
            await asyncio.sleep(0)
        assert node._background_timer is None and len(segment.images) == pages and not segment.dirty
        assert segment.materialize(pages, lsn).items[-1] == b"r%d" % lsn  # type: ignore[union-attr]
    finally:
        await node.stop()
