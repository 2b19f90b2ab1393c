"""A segment's durable hot log: append-only files, acknowledged only after fsync, group commit.

Owns the files `log.NNNNNNNN` of one segment directory and the group-commit discipline: many
concurrent `append` calls share one write + fsync (the fsync runs in a worker thread, and
whatever arrives meanwhile forms the next batch). Not what the bytes mean (logstore.records)
nor which records are kept (logstore.segment).

    append(a) ─┐
    append(b) ─┼─► pending ──► write(a+b+c) ─► fsync ─► resolve a, b, c
    append(c) ─┘                  (worker thread; the loop keeps serving)

With `fsync=False` (simulations, unit tests) appends are written synchronously and return at
once; the files are still real so that restarts and bit flips are real.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pgaurora.errors import IoError

LOG_PREFIX = "log."
# fdatasync, as PostgreSQL's wal_sync_method defaults to on Linux: the data and the file size,
# without the timestamps.
_datasync = getattr(os, "fdatasync", os.fsync)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class HotLog:
    """Append-only log files in `directory`, rotated at `rotate_bytes`."""

    def __init__(self, directory: Path, *, fsync: bool = True, rotate_bytes: int = 16 << 20):
        self.directory = directory
        self.fsync = fsync
        self.rotate_bytes = rotate_bytes
        self._pending: list[bytes] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flushing = False
        self._fd = -1
        self._file_number = 0
        self._file_size = 0
        self.fsync_count = 0
        self.bytes_written = 0

    def files(self) -> list[Path]:
        """Existing log files, oldest first."""
        return sorted(p for p in self.directory.glob(LOG_PREFIX + "*") if p.name[len(LOG_PREFIX) :].isdigit())

    def open(self) -> None:
        """Opens a new file after the existing ones (existing files are only read, never extended)."""
        existing = self.files()
        self._file_number = int(existing[-1].name[len(LOG_PREFIX) :]) if existing else 0
        self._rotate()

    def _rotate(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._file_number += 1
        path = self.directory / f"{LOG_PREFIX}{self._file_number:08d}"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._file_size = 0
        if self.fsync:
            fsync_directory(self.directory)

    @property
    def current_file(self) -> Path:
        return self.directory / f"{LOG_PREFIX}{self._file_number:08d}"

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _write(self, data: bytes) -> None:
        if self._file_size >= self.rotate_bytes:
            self._rotate()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._file_size += len(data)
        self.bytes_written += len(data)

    def _write_and_sync(self, data: bytes) -> None:
        self._write(data)
        _datasync(self._fd)
        self.fsync_count += 1

    def append_nowait(self, data: bytes) -> None:
        """Writes without waiting for durability (used while rewriting a repaired log)."""
        self._write(data)

    def sync(self) -> None:
        if self._fd >= 0 and self.fsync:
            _datasync(self._fd)
            self.fsync_count += 1

    async def append(self, data: bytes) -> None:
        """Returns once `data` is durable (written and fsynced, possibly with others' data)."""
        if not self.fsync:
            try:
                self._write(data)
            except OSError as exc:
                raise IoError(f"could not write to file \"{self.current_file}\": {exc.strerror}") from exc
            return
        future = asyncio.get_running_loop().create_future()
        self._pending.append(data)
        self._waiters.append(future)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
                waiters = self._waiters
                self._pending = []
                self._waiters = []
                try:
                    await loop.run_in_executor(None, self._write_and_sync, data)
                except OSError as exc:
                    error = IoError(f"could not fsync file \"{self.current_file}\": {exc.strerror}")
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(error)
                    continue
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._flushing = False
