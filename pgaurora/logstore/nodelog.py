"""A storage node's durable log: one fsync makes a loop turn's batches of every segment durable.

Owns the files `nodelog/log.NNNNNNNN` of a storage node, the entry format, their replay into the
segments at restart and the checkpoint that lets old files go. Not the segments' own files
(logstore.segment, logstore.hotlog) nor what the records mean (logstore.records).

A commit usually touches several protection groups (heap, index and clog pages), so a node
receives one batch per group in the same loop turn. With a hot log per segment that was one
fdatasync per segment, all but the first handed to worker threads (200-300 us of CPU each in
thread wake-ups). Here each batch goes to the node log, whose one write and fdatasync per loop
turn acknowledge them all, and lazily to its segment's own file (buffered in memory and written
in large pieces without a sync: logstore.hotlog `buffer`):

    AppendBatch(g1) ─► segment g1 buffer ─┐
    AppendBatch(g2) ─► segment g2 buffer ─┼─► node log entries ─► one write + fdatasync ─► acks
    AppendBatch(g3) ─► segment g3 buffer ─┘

The write is O_DIRECT | O_DSYNC where the file system allows it (logstore.directfile): durable
when it returns, so the fdatasync is part of that one system call.

    entry = crc32 u32 | body length u32 | body: group u32 | volume length u16 | volume | frames

Restart: each segment replays its own file (possibly missing its unsynced tail), then the node
log's entries fill in whatever it lacks (`replay`). Checkpoint (background pass): the node log
moves to a new file, the segment buffers are written, the segment files written since the last
checkpoint are fdatasynced in a worker thread, then the older node log files are deleted.
"""

from __future__ import annotations

import asyncio
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from pgaurora.logstore.hotlog import Durable, HotLog, fsync_directory

_HEADER = struct.Struct("<II")
_BODY = struct.Struct("<IH")
CHECKPOINT_BYTES = 8 << 20  # the node log is checkpointed once this much was written to it


def encode_entry(volume: str, group: int, frames: bytes) -> bytes:
    name = volume.encode()
    body = _BODY.pack(group, len(name)) + name + frames
    return _HEADER.pack(zlib.crc32(body), len(body)) + body


def scan_entries(data: bytes) -> Iterator[tuple[str, int, memoryview]]:
    """(volume, group, frames) of each whole entry; stops at a torn or zero tail."""
    view = memoryview(data)
    offset = 0
    size = len(data)
    while offset + _HEADER.size <= size:
        crc, length = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        end = start + length
        if length < _BODY.size or end > size or zlib.crc32(view[start:end]) != crc:
            return  # the unacknowledged tail of a crash, or the zero-filled end of the file
        group, name_length = _BODY.unpack_from(data, start)
        name_end = start + _BODY.size + name_length
        yield bytes(view[start + _BODY.size : name_end]).decode(), group, view[name_end:end]
        offset = end


class NodeLog:
    """The node-wide durable log in `directory` (created if missing)."""

    def __init__(self, directory: Path, *, fsync: bool = True):
        self.directory = directory
        self.fsync = fsync
        # rotated only by checkpoints; written O_DIRECT | O_DSYNC where possible (logstore.directfile)
        self.log = HotLog(directory, fsync=fsync, rotate_bytes=1 << 40, direct=True)
        self.unsynced: dict[tuple[str, int], HotLog] = {}  # segment files written since the checkpoint
        self._since_checkpoint = 0
        self._checkpointing = False

    @property
    def fsync_count(self) -> int:
        return self.log.fsync_count

    def files(self) -> list[Path]:
        return self.log.files()

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log.open()
        if self.fsync:
            fsync_directory(self.directory.parent)

    def close(self) -> None:
        self.log.close()

    async def append(self, volume: str, group: int, frames: bytes, segment_log: HotLog) -> None:
        """Returns once the node log holds `frames` durably (the segment's file gets them lazily)."""
        durable = self.write(volume, group, frames, segment_log)
        if durable is not None:
            await durable

    def write(self, volume: str, group: int, frames: bytes, segment_log: HotLog) -> asyncio.Future[None] | None:
        """append() without a coroutine: a future done once the node log holds `frames` durably,
        or None when they are written already (fsync off)."""
        return self.log.write(self._entry(volume, group, frames, segment_log))

    def write_then(self, volume: str, group: int, frames: bytes, segment_log: HotLog, done: Durable) -> None:
        """write() with a callback (HotLog.write_then): the AppendBatch hot path."""
        self.log.write_then(self._entry(volume, group, frames, segment_log), done)

    def _entry(self, volume: str, group: int, frames: bytes, segment_log: HotLog) -> bytes:
        segment_log.buffer(frames)
        self.unsynced[(volume, group)] = segment_log
        entry = encode_entry(volume, group, frames)
        self._since_checkpoint += len(entry)
        return entry

    def replay(self, apply: Callable[[str, int, memoryview], None]) -> int:
        """Feeds every entry of the existing files to `apply`; returns how many."""
        count = 0
        for path in self.files():
            for volume, group, frames in scan_entries(path.read_bytes()):
                apply(volume, group, frames)
                count += 1
        return count

    def drop_files(self) -> None:
        """Deletes every file but the current one (their entries are in synced segment files)."""
        current = self.log.current_file
        for path in self.files():
            if path != current:
                path.unlink()
        if self.fsync:
            fsync_directory(self.directory)

    @property
    def checkpoint_due(self) -> bool:
        return not self._checkpointing and self._since_checkpoint >= CHECKPOINT_BYTES

    def checkpoint(self) -> asyncio.Future[None] | None:
        """Starts a checkpoint (None if one runs or nothing is due): new file, segment files synced
        in a worker thread, then the old files deleted. The future says when it is done."""
        if self._checkpointing or not self._since_checkpoint:
            return None
        self.log._rotate()
        for segment_log in self.unsynced.values():
            segment_log.write_buffered()  # what the old node log files hold goes to the segment files
        self._checkpointing = True
        self._since_checkpoint = 0
        # Duplicated descriptors: a segment file rotated or closed meanwhile is still synced.
        fds = [os.dup(log._fd) for log in self.unsynced.values() if log._fd >= 0]
        self.unsynced = {}
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(None, _sync_and_close, fds, self.fsync)

        def finished(future: asyncio.Future[None]) -> None:
            self._checkpointing = False
            if future.cancelled() or future.exception() is not None:
                return  # the old files stay; the next checkpoint covers them
            self.drop_files()

        done.add_done_callback(finished)
        return done


def _sync_and_close(fds: list[int], fsync: bool) -> None:
    try:
        for fd in fds:
            if fsync:
                os.fdatasync(fd)
    finally:
        for fd in fds:
            os.close(fd)
