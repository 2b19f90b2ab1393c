"""A segment's hot log: append-only files, acknowledged only after fsync, group commit.

Storage nodes make their segments' appends durable through the node log (logstore.nodelog, itself
a HotLog); a segment's own file is then `lazy`: its appends are buffered in memory (`buffer`) and
written in one pwrite per LAZY_WRITE_BYTES, at the node log's checkpoints and on rotation or
close, so that a batch costs one write (the node log's) before its fdatasync. The sync-round
paragraphs below apply to the node log.

Owns the files `log.NNNNNNNN` of one segment directory and the group-commit discipline: many
concurrent `append` calls share one write + fsync, and so do the hot logs of all the segments of
a node that got data in the same loop turn (a SyncRound). Not what the bytes mean
(logstore.records) nor which records are kept (logstore.segment).

    append(a) ─┐                   one loop turn's appends, every segment of the node
    append(b) ─┼─► pending ──► SyncRound: write(a+b+c) ─► fdatasync ─► tell a, b, c ─► deferred
    append(c) ─┘

A waiter is a plain callback (`write_then`; `write`/`append` wrap a future around one): the round
calls it right where the fdatasync returns, so a storage node queues its Ack there, and the
callbacks it deferred with `after_sync_round` (one write per connection) run when all were told.
The Ack leaves in the loop turn of the fdatasync; with futures and a reply queued by call_soon it
left two turns later, after whatever batches arrived meanwhile had been decoded and indexed.

A round with one hot log (the usual case: a commit touches one protection group) syncs it inline
on the event loop: handing the fdatasync to a worker thread costs 200-300 us of CPU per call in
thread wake-ups and GIL hand-offs (measured: 170 us inline vs 350-470 us through the executor),
and with one batch in flight per segment nothing waits behind it. A round with several hot logs
(a commit that touched several protection groups) syncs the others in worker threads while it
syncs the first inline, so one fsync's latency covers them all. Whatever arrives while a round
runs forms the next round.

With `fsync=True` a log file that is not lazy is filled with zeros ahead of its end (64 KiB,
doubling to 1 MiB at a time), as PostgreSQL pre-fills WAL segments: an fdatasync after writing
into blocks that already exist flushes just the data, while one after growing the file also
commits the file system's journal (the size changed), which every process on the file system
queues behind. A lazy file is synced only at checkpoints, in a worker thread: zeros there would
only double what it writes.
A reader stops at the zero tail (records.scan_records). With `direct=True` (the node log) the
files are written O_DIRECT | O_DSYNC where the file system allows it (logstore.directfile): each
write is durable when it returns and no fdatasync follows.

With `fsync=False` (simulations, unit tests) appends are written synchronously and return at
once; the files are still real so that restarts and bit flips are real.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path

from pgaurora.errors import DiskFull, IoError, PgError
from pgaurora.logstore.directfile import DirectFile

log = logging.getLogger(__name__)

LOG_PREFIX = "log."
# fdatasync, as PostgreSQL's wal_sync_method defaults to on Linux: the data and the file size,
# without the timestamps.
_datasync = getattr(os, "fdatasync", os.fsync)
ZERO_FILL_MIN = 64 << 10  # the first zero fill of a new file; each next one doubles...
ZERO_FILL_MAX = 1 << 20  # ...up to this
LAZY_WRITE_BYTES = 256 << 10  # a lazy log writes its buffered appends once they reach this size
# A write's waiter: called with None once the data is durable, or with the IoError (DiskFull when full) that stopped it.
Durable = Callable[[BaseException | None], None]


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class HotLog:
    """Append-only log files in `directory`, rotated at `rotate_bytes`."""

    def __init__(self, directory: Path, *, fsync: bool = True, rotate_bytes: int = 16 << 20, direct: bool = False):
        self.directory = directory
        self.fsync = fsync
        # Direct: with fsync, files are written O_DIRECT | O_DSYNC (logstore.directfile) where the
        # file system allows it: a write is durable when it returns, no fdatasync follows.
        self.direct = direct
        self._direct: DirectFile | None = None
        self.rotate_bytes = rotate_bytes
        self._pending: list[bytes] = []
        self._waiters: list[Durable] = []
        self._flushing = False
        self._fd = -1
        self._file_number = 0
        self._file_size = 0
        self._zeroed = 0  # the current file holds zeros (or data) up to here
        self._buffered: list[bytes] = []  # lazy appends not written yet (they precede any other write)
        self._buffered_bytes = 0
        self.fsync_count = 0
        self.bytes_written = 0
        # Lazy: another log (logstore.nodelog) makes the appends durable; this file is synced at
        # the node log's checkpoints and, so that none is lost, whenever it is rotated or closed.
        self.lazy = False
        # Called with a file's path as it is rotated out (nothing more is written to it).
        self.on_rotate: Callable[[Path], None] | None = None

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
            if self.lazy:
                self._sync_file()
            self._close_file()
            if self.on_rotate is not None:
                self.on_rotate(self.current_file)
        self._file_number += 1
        path = self.directory / f"{LOG_PREFIX}{self._file_number:08d}"
        self._direct = DirectFile.open(path) if self.direct and self.fsync else None
        self._fd = self._direct.fd if self._direct is not None else os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        self._file_size = 0
        self._zeroed = 0
        if self.fsync:
            fsync_directory(self.directory)

    @property
    def current_file(self) -> Path:
        return self.directory / f"{LOG_PREFIX}{self._file_number:08d}"

    def close(self) -> None:
        if self._fd >= 0:
            if self.lazy:
                self.sync()  # writes the buffered appends first
            self._close_file()

    def _close_file(self) -> None:
        if self._direct is not None:
            self._direct.close()
            self._direct = None
        else:
            os.close(self._fd)
        self._fd = -1

    def buffer(self, data: bytes) -> None:
        """A lazy append: kept in memory and written with the next write, sync, rotation or close
        (another log holds it durably meanwhile)."""
        self._buffered.append(data)
        self._buffered_bytes += len(data)
        if self._buffered_bytes >= LAZY_WRITE_BYTES:
            self.write_buffered()

    def write_buffered(self) -> None:
        """Writes the buffered appends to the file now (without a sync)."""
        if self._buffered:
            self._write(b"")

    def _write(self, data: bytes) -> None:
        buffered = self._buffered
        if buffered:  # earlier lazy appends go first, in the same pwrite
            buffered.append(data)
            data = b"".join(buffered)
        try:
            if self._file_size >= self.rotate_bytes:
                self._rotate()
            offset = self._file_size
            end = offset + len(data)
            if self.fsync and not self.lazy and end > self._zeroed:
                self._zero_fill(end)  # (a lazy file is synced only at checkpoints, off the hot path)
            if self._direct is not None:
                self._direct.append(data, offset)  # durable on return
            else:
                view = memoryview(data)
                while view:
                    written = os.pwrite(self._fd, view, offset)
                    view = view[written:]
                    offset += written
        except OSError:
            if buffered:
                buffered.pop()  # the buffered appends stay for the next write
            raise
        if buffered:
            self._buffered = []
            self._buffered_bytes = 0
        self._file_size = end
        self.bytes_written += len(data)

    def _zero_fill(self, end: int) -> None:
        """Writes zeros from the filled end to past `end`; the next fdatasync makes them durable."""
        start = self._zeroed
        target = max(end, start + min(max(start, ZERO_FILL_MIN), ZERO_FILL_MAX))
        if self._direct is not None:
            self._zeroed = self._direct.zero_fill(start, target)  # block aligned: covers a padded last block
            return
        zeros = memoryview(bytes(target - start))
        offset = start
        while zeros:
            written = os.pwrite(self._fd, zeros, offset)
            zeros = zeros[written:]
            offset += written
        self._zeroed = target

    def _fill_ahead(self) -> None:
        """Zero-fills the next piece (and makes it durable) when less than ZERO_FILL_MIN is left
        ahead of the write position, so that a round's write + sync does not carry it."""
        if not self.fsync or self.lazy or self._fd < 0 or self._zeroed - self._file_size >= ZERO_FILL_MIN:
            return
        try:
            self._zero_fill(self._file_size + ZERO_FILL_MIN)
            if self._direct is None:  # a direct file's zeros are durable already
                _datasync(self._fd)
        except OSError:
            log.exception("zero fill ahead of %s failed", self.current_file)  # the next write retries

    def _write_and_sync(self, data: bytes) -> None:
        self._write(data)
        if self._direct is None:  # a direct write is durable already
            _datasync(self._fd)
        self.fsync_count += 1

    def append_nowait(self, data: bytes) -> None:
        """Writes without waiting for durability (used while rewriting a repaired log)."""
        self._write(data)

    def sync(self) -> None:
        self.write_buffered()
        self._sync_file()

    def _sync_file(self) -> None:
        if self._fd >= 0 and self.fsync and self._direct is None:
            _datasync(self._fd)
            self.fsync_count += 1

    async def append(self, data: bytes) -> None:
        """Returns once `data` is durable (written and fsynced, possibly with others' data)."""
        durable = self.write(data)
        if durable is not None:
            await durable

    def write(self, data: bytes) -> asyncio.Future[None] | None:
        """append() without a coroutine: a future done once `data` is durable, or None when it is
        written already (fsync off)."""
        if not self.fsync:
            self._write_now(data)
            return None
        future = asyncio.get_running_loop().create_future()
        self.write_then(data, functools.partial(_resolve, future))
        return future

    def write_then(self, data: bytes, done: Durable) -> None:
        """write() with a callback instead of a future (a storage node's hot path): `done(None)`
        once `data` is durable, `done(IoError or DiskFull)` if it could not be written. The round that makes it
        durable calls `done` directly (no future, no extra loop turn); with fsync off, at once."""
        if not self.fsync:
            try:
                self._write_now(data)
            except PgError as exc:  # IoError, or DiskFull
                done(exc)
                return
            done(None)
            return
        self._pending.append(data)
        self._waiters.append(done)
        if not self._flushing:
            self._flushing = True
            _sync_round(asyncio.get_running_loop()).add(self)

    def _write_now(self, data: bytes) -> None:
        try:
            self._write(data)
        except OSError as exc:
            raise self._io_error("write to", exc) from exc

    def _io_error(self, what: str, error: OSError) -> PgError:
        """58030, or 53100 when the file system is full (as PostgreSQL reports ENOSPC)."""
        kind = DiskFull if error.errno == errno.ENOSPC else IoError
        return kind(f"could not {what} file \"{self.current_file}\": {error.strerror}")

    def _take(self) -> tuple[bytes, list[Durable]]:
        """The pending bytes and their waiters, handed to a round."""
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        waiters = self._waiters
        self._pending = []
        self._waiters = []
        return data, waiters

    def _finish(self, waiters: list[Durable], error: OSError | None, what: str) -> None:
        """Tells one round's waiters; data that arrived meanwhile joins the next round. Callbacks
        that the waiters deferred with `after_sync_round` (a connection's replies) run last."""
        failure = None if error is None else self._io_error(what, error)
        sync_round = _sync_round(asyncio.get_running_loop())
        sync_round.resolving = True
        try:
            for waiter in waiters:
                try:
                    waiter(failure)
                except Exception:  # one waiter's bug must not leave the others unanswered
                    log.exception("a hot log waiter failed")
        finally:
            sync_round.resolving = False
        if self._pending:
            sync_round.add(self)
        else:
            self._flushing = False
        sync_round.run_deferred()


class SyncRound:
    """The hot logs of one event loop (one storage node) with data waiting for a write + fsync."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.logs: list[HotLog] = []
        self.resolving = False  # a log's waiters are being told now
        self.deferred: list[Callable[[], None]] = []  # after_sync_round callbacks of this resolution

    def add(self, hot_log: HotLog) -> None:
        if not self.logs:
            self.loop.call_soon(self.run)
        self.logs.append(hot_log)

    def run(self) -> None:
        logs = self.logs
        self.logs = []
        # Every log but the first in worker threads (submitted now, so they overlap), the first
        # one here meanwhile: the usual single-log round costs no thread hand-off at all.
        for hot_log in logs[1:]:
            data, waiters = hot_log._take()
            synced = self.loop.run_in_executor(None, hot_log._write_and_sync, data)
            synced.add_done_callback(functools.partial(_synced, hot_log, waiters))
        first = logs[0]
        data, waiters = first._take()
        try:
            first._write_and_sync(data)
        except OSError as exc:
            first._finish(waiters, exc, "fsync")
            return
        first._finish(waiters, None, "fsync")
        first._fill_ahead()  # after the replies left: the next round's write finds zeros ready

    def run_deferred(self) -> None:
        deferred = self.deferred
        if deferred:
            self.deferred = []
            for callback in deferred:
                try:
                    callback()
                except Exception:  # one connection's failure must not keep the others' replies back
                    log.exception("a callback after a sync round failed")


def after_sync_round(callback: Callable[[], None]) -> None:
    """Runs `callback` once the sync round now telling its waiters has told them all, or in the
    next loop turn when none is: a storage node connection queues each Ack as its batch's waiter
    is told and writes them all in one send at the end (not one loop turn later)."""
    loop = asyncio.get_running_loop()
    sync_round = _rounds.get(loop)
    if sync_round is not None and sync_round.resolving:
        sync_round.deferred.append(callback)
    else:
        loop.call_soon(callback)


def _resolve(future: asyncio.Future[None], error: BaseException | None) -> None:
    if not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _synced(hot_log: HotLog, waiters: list[Durable], synced: asyncio.Future[None]) -> None:
    error: BaseException | None = OSError("cancelled") if synced.cancelled() else synced.exception()
    if error is not None and not isinstance(error, OSError):
        error = OSError(str(error))
    hot_log._finish(waiters, error, "fsync")


_rounds: dict[asyncio.AbstractEventLoop, SyncRound] = {}


def _sync_round(loop: asyncio.AbstractEventLoop) -> SyncRound:
    found = _rounds.get(loop)
    if found is None:
        for old in [other for other in _rounds if other.is_closed()]:
            del _rounds[old]  # loops of finished tests: keep the map small
        found = _rounds[loop] = SyncRound(loop)
    return found
