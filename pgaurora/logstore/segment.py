"""A segment: one replica of one protection group — durable redo, an index, pages on demand.

Owns a segment's records, its SCL, page materialization, coalescing, garbage collection,
truncation by epoch and its restart from disk. Not the RPC (logstore.node), not gossip
scheduling (the node decides when to ask peers), not quorum decisions (logstore.quorum).

    AppendBatch ──► decode + CRC ──► index ──► hot log (fsync, group commit) ──► ack(SCL)
                                      │
         by_lsn: RecordIndex (by LSN, by page)    next_by_prev: hole tracking
         images: SortedDict (page<<40 | lsn) -> (file, offset)
                                      │
    ReadPage(page, R) ──► newest image <= R ──► apply that page's records in (image, R] ──► bytes

SCL (segment complete LSN) follows the segment backlinks: a record whose prev_lsn is the current
SCL extends the chain; one that arrives early waits in next_by_prev until the hole is filled
(by the writer's retransmission or by gossip with peers). An ack reports the SCL that is
durable, never one that still waits for its fsync.

Recovery truncation: `truncations` is a list of (epoch, above): a record written under an
epoch older than `epoch` with an LSN above `above` never happened (the new writer's VDL was
`above`); such records are dropped now and ignored if they arrive later.

Garbage collection below a horizon (GarbagePass) writes each page's image at the horizon and
forgets the records it covers; with `defer_lsns`, pages with few recent records keep them
instead (their images would cost more than the records), and log files go only once no record
still kept is in them. Reads below the horizon are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import operator
import os
import struct
import zlib
from bisect import bisect_right
from pathlib import Path

from sortedcontainers import SortedDict

from pgaurora.errors import DataCorrupted, InternalError
from pgaurora.logstore import page as pagemod
from pgaurora.logstore.durablefile import replace_file
from pgaurora.logstore.hotlog import Durable, HotLog, fsync_directory
from pgaurora.logstore.nodelog import NodeLog
from pgaurora.logstore.recordindex import RecordIndex
from pgaurora.logstore.records import RedoRecord, decode_records, encode_record, frame_of, scan_records

LSN_BITS = 40
LSN_MASK = (1 << LSN_BITS) - 1
IMAGE_PREFIX = "images."
_IMAGE_HEADER = struct.Struct("<IQQ")
IMAGE_FRAME_SIZE = _IMAGE_HEADER.size + pagemod.PAGE_SIZE
DEFER_RECORDS = 8  # a GarbagePass with defer_lsns images a page with this many records in any case
IMAGE_CACHE_PAGES = 128  # parsed images a segment keeps in memory (about 1 MiB)
HINT_OP = 0  # a frame with lsn 0 and op 0 carries the writer's VDL (a durable hint) as its xid


class SegmentDamaged(Exception):
    """Raised by materialize when a page's base image is missing or corrupt (repair from a peer)."""

    def __init__(self, page: int, lsn: int):
        super().__init__(f"page {page} cannot be rebuilt at LSN {lsn} from this segment")
        self.page = page
        self.lsn = lsn


_epoch_of = operator.itemgetter(7)  # RedoRecord.epoch, in C over a batch
_epoch_of_truncation = operator.itemgetter(0)


def page_key(page: int, lsn: int) -> int:
    return (page << LSN_BITS) | lsn


class Segment:
    def __init__(self, directory: Path, volume: str, group: int, *, fsync: bool = True,
                 node_log: NodeLog | None = None):
        self.directory = directory
        self.volume = volume
        self.group = group
        self.fsync = fsync
        self.epoch = 0
        self.members: list[str] = []
        self.truncations: list[tuple[int, int]] = []
        self.gc_horizon = 0
        self.scl = 0
        self.durable_scl = 0
        self.vdl_hint = 0
        self.max_lsn = 0
        self.base_lsn = 0  # last chain LSN at or below the GC horizon (its record may be collected)
        self.target_scl = 0  # the group's PGCL as last heard from the writer: below it, gossip
        self.damaged = False  # a log file or image failed its checksum at restart
        self.by_lsn = RecordIndex()
        self.next_by_prev: dict[int, int] = {}
        self.images: SortedDict = SortedDict()  # page_key -> (file number, offset)
        self.dirty: dict[int, int] = {}  # page -> records since its newest image
        self._file_max_lsn: dict[Path, int] = {}  # rotated log file -> highest LSN in it
        self._scanning: set[Path] = set()  # rotated log files a worker thread is scanning for it
        self.log = HotLog(directory, fsync=fsync)
        self.log.on_rotate = self._rotated
        # A storage node's log makes the appends durable; this segment's own file is then lazy.
        self.node_log = node_log
        self.log.lazy = node_log is not None
        self._image_fd = -1
        self._image_number = 0
        self._image_size = 0
        self._image_readers: dict[int, int] = {}  # image file number -> a descriptor open for pread
        self.compaction: ImageCompaction | None = None  # one under way (the node steps it)
        # The newest images parsed, by page_key: a coalesce or read starts from a copy of one
        # instead of reading and parsing its 8 KiB again (images never change once written).
        self._image_cache: dict[int, pagemod.Page] = {}

    # -- lifecycle --------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: Path,
        volume: str,
        group: int,
        *,
        epoch: int,
        members: list[str],
        truncations: list[tuple[int, int]] | None = None,
        fsync: bool = True,
        node_log: NodeLog | None = None,
    ) -> Segment:
        directory.mkdir(parents=True, exist_ok=True)
        segment = cls(directory, volume, group, fsync=fsync, node_log=node_log)
        segment.epoch = epoch
        segment.members = list(members)
        segment.truncations = [tuple(t) for t in truncations or []]  # type: ignore[misc]
        segment.save_meta()
        segment.log.open()
        segment._open_images()
        return segment

    @classmethod
    def open(cls, directory: Path, *, fsync: bool = True, node_log: NodeLog | None = None) -> Segment:
        """Restarts a segment from its directory: meta, images, then the hot log."""
        meta = json.loads((directory / "meta.json").read_text())
        segment = cls(directory, meta["volume"], meta["group"], fsync=fsync, node_log=node_log)
        segment.epoch = meta["epoch"]
        segment.members = meta["members"]
        segment.truncations = [tuple(t) for t in meta["truncations"]]  # type: ignore[misc]
        segment.gc_horizon = meta["gc_horizon"]
        segment.scl = segment.durable_scl = segment.base_lsn = meta.get("base_scl", 0)
        segment._load_images()
        segment._replay_log()
        segment.log.open()
        if segment.damaged:
            segment._rewrite_log()
        segment._open_images()
        return segment

    def close(self) -> None:
        self.log.close()
        if self._image_fd >= 0:
            os.close(self._image_fd)
            self._image_fd = -1
        self._close_image_readers()

    def _close_image_readers(self) -> None:
        readers = self._image_readers
        self._image_readers = {}
        for fd in readers.values():
            os.close(fd)

    def save_meta(self) -> None:
        meta = {
            "volume": self.volume,
            "group": self.group,
            "epoch": self.epoch,
            "members": self.members,
            "truncations": self.truncations,
            "gc_horizon": self.gc_horizon,
            "base_scl": self._base_scl(),
        }
        replace_file(self.directory / "meta.json", json.dumps(meta).encode(), fsync=self.fsync)

    def _base_scl(self) -> int:
        """The chain LSN at the GC horizon: where a restart's SCL starts when older records are gone."""
        if not self.gc_horizon:
            return 0
        last = self.by_lsn.last_at_or_below(self.gc_horizon)
        return max(last or 0, self.base_lsn)

    def _replay_log(self) -> None:
        for path in self.log.files():
            data = path.read_bytes()
            for record, _start, _end in scan_records(data):
                if record is None:
                    self.damaged = True
                    break
                if record.lsn == 0 and record.op == HINT_OP:
                    self.vdl_hint = max(self.vdl_hint, record.xid)
                    continue
                if record.lsn <= self.gc_horizon:
                    self._keep_collected(record)
                    continue
                self.insert(record)
        self.durable_scl = self.scl

    def _keep_collected(self, record: RedoRecord) -> bool:
        """Restart: a record at or below the GC horizon stays indexed unless an image covers it (a
        collection that deferred its page kept it). It is below the SCL: no chain bookkeeping."""
        if record.lsn in self.by_lsn or self._covered_by_image(record) or not self.valid(record):
            return False
        self.by_lsn.add(record)
        self.dirty[record.page] = self.dirty.get(record.page, 0) + 1
        return True

    def _covered_by_image(self, record: RedoRecord) -> bool:
        key = self._newest_image(record.page, LSN_MASK)
        return key is not None and key & LSN_MASK >= record.lsn

    def _newest_image(self, page: int, lsn: int) -> int | None:
        """The key of `page`'s newest image at or below `lsn` (None: it has none)."""
        images = self.images
        index = images.bisect_right(page_key(page, lsn))
        if not index:
            return None
        key: int = images.keys()[index - 1]
        return key if key >> LSN_BITS == page else None

    def _rewrite_log(self) -> None:
        """After damage, writes every good record into a fresh file and drops the old files."""
        old = [p for p in self.log.files() if p != self.log.current_file]
        self.log.append_nowait(encode_record(0, 0, 0, 0, self.vdl_hint, HINT_OP, 0, self.epoch, b""))
        for record in self.by_lsn.values():
            self.log.append_nowait(frame_of(record))
        self.log.sync()
        for path in old:
            path.unlink()
        if self.fsync:
            fsync_directory(self.directory)

    # -- records ----------------------------------------------------------------------------------

    def valid(self, record: RedoRecord) -> bool:
        """False for a record that a recovery truncated (older epoch, LSN above that recovery's VDL)."""
        for epoch, above in self.truncations:
            if record.epoch < epoch and record.lsn > above:
                return False
        return True

    def insert(self, record: RedoRecord) -> bool:
        """Indexes one record (not yet durable); returns False for a duplicate or truncated one."""
        lsn = record.lsn
        if lsn in self.by_lsn or (lsn <= self.scl and lsn <= self.gc_horizon) or not self.valid(record):
            return False
        self.by_lsn.add(record)
        self.dirty[record.page] = self.dirty.get(record.page, 0) + 1
        if lsn > self.max_lsn:
            self.max_lsn = lsn
        if record.prev_lsn == self.scl:
            self.scl = lsn
            next_by_prev = self.next_by_prev
            while self.scl in next_by_prev:
                self.scl = next_by_prev.pop(self.scl)
        elif lsn > self.scl:
            self.next_by_prev[record.prev_lsn] = lsn
        return True

    def replay_frames(self, frames: bytes | memoryview) -> bool:
        """Restart: takes the records of a node log entry this segment's own file lacks (written
        there too, not yet synced); True if any was new."""
        added = False
        for record in decode_records(frames):
            if record.lsn == 0 and record.op == HINT_OP:
                if record.xid > self.vdl_hint:
                    self.vdl_hint = record.xid
                    self.log.append_nowait(frame_of(record))
                continue
            kept = self._keep_collected(record) if record.lsn <= self.gc_horizon else self.insert(record)
            if kept:
                self.log.append_nowait(frame_of(record))
                added = True
        return added

    def has_hole(self) -> bool:
        return bool(self.next_by_prev)

    def insert_batch(self, records: list[RedoRecord]) -> bool:
        """insert() for each record of a batch, in one pass over the index and one over the chain
        (the AppendBatch hot path); True if any record was new."""
        if not records:
            return False
        truncations = self.truncations
        if (truncations and min(map(_epoch_of, records)) < max(map(_epoch_of_truncation, truncations))) or (
            self.gc_horizon > self.scl
        ):
            # a record an earlier recovery may have truncated, or a segment catching up below its GC horizon
            inserted = False
            for record in records:
                inserted = self.insert(record) or inserted
            return inserted
        fresh = self.by_lsn.add_batch(records, self.gc_horizon)
        if not fresh:
            return False
        dirty = self.dirty
        next_by_prev = self.next_by_prev
        scl = self.scl
        last = self.max_lsn
        for record in fresh:
            page = record[1]
            dirty[page] = dirty.get(page, 0) + 1
            lsn = record[0]
            if lsn > last:
                last = lsn
            if record[3] == scl:
                scl = lsn
                while scl in next_by_prev:
                    scl = next_by_prev.pop(scl)
            elif lsn > scl:
                next_by_prev[record[3]] = lsn
        self.scl = scl
        self.max_lsn = last
        return True

    def begin_append(self, records: list[RedoRecord], frames: bytes, vdl_hint: int = 0) -> tuple[int, asyncio.Future[None] | None] | None:
        """Indexes a batch and starts logging it durably, without a coroutine: None when nothing is
        new; else (the SCL the batch makes durable, a future done once it is durable or None if it
        is already). Then call `made_durable(scl)`."""
        logged = self.index_batch(records, frames, vdl_hint)
        if logged is None:
            return None
        if self.node_log is not None:
            return self.scl, self.node_log.write(self.volume, self.group, logged, self.log)
        return self.scl, self.log.write(logged)

    def index_batch(self, records: list[RedoRecord], frames: bytes, vdl_hint: int = 0) -> bytes | None:
        """Indexes a batch (not durable yet); returns the frames to log (with a VDL hint ahead of
        them when it moved), or None when nothing is new. `log_batch` then makes them durable."""
        inserted = self.insert_batch(records)
        if vdl_hint > self.vdl_hint:
            self.vdl_hint = vdl_hint
            return encode_record(0, 0, 0, 0, vdl_hint, HINT_OP, 0, self.epoch, b"") + frames
        return frames if inserted else None

    def log_batch(self, frames: bytes, done: Durable) -> None:
        """Logs what `index_batch` returned: `done(None)` once it is durable (from the sync round
        itself: a storage node's hot path), `done(IoError)` if it could not be."""
        if self.node_log is not None:
            self.node_log.write_then(self.volume, self.group, frames, self.log, done)
        else:
            self.log.write_then(frames, done)

    def made_durable(self, scl: int) -> int:
        """Records that a batch begun at `scl` is durable; returns the durable SCL."""
        if scl > self.durable_scl:
            self.durable_scl = scl
        return self.durable_scl

    async def append(self, records: list[RedoRecord], frames: bytes, vdl_hint: int = 0) -> int:
        """Indexes and durably logs a batch; returns the SCL that is durable once it returns."""
        started = self.begin_append(records, frames, vdl_hint)
        if started is None:
            return self.durable_scl
        scl, durable = started
        if durable is not None:
            await durable
        return self.made_durable(scl)

    def chain_after(self, after_lsn: int, limit: int) -> list[RedoRecord]:
        """Records of the complete chain with LSN in (after_lsn, SCL], oldest first."""
        records = []
        by_lsn = self.by_lsn
        for lsn in by_lsn.between(after_lsn, self.scl)[:limit]:
            records.append(by_lsn[lsn])
        return records

    def recovery_scan(self, floor: int) -> tuple[list[int], list[int], int]:
        """(chain LSNs in (floor, SCL], the CPLs among them, last chain LSN <= floor)."""
        lsns = self.by_lsn.between(floor, self.durable_scl)
        cpls = [lsn for lsn in lsns if self.by_lsn[lsn].flags & 1]
        last = self.by_lsn.last_at_or_below(floor)
        # The chain at the GC horizon is at least there: records a collection kept for a
        # deferred page are older, and the newest of them is not where the chain stands.
        base = min(self._base_scl(), floor)
        if last is None or last < base:
            last = base
        return lsns, cpls, last

    def set_epoch(
        self,
        epoch: int,
        truncate_above: int = -1,
        members: list[str] | None = None,
        truncations: list[tuple[int, int]] | None = None,
    ) -> None:
        """Adopts a newer epoch, earlier truncations it missed and, if >= 0, truncation above `truncate_above`."""
        if epoch < self.epoch:
            raise InternalError(f"epoch {epoch} is older than the segment's epoch {self.epoch}")
        wanted = [tuple(t) for t in truncations or []]
        if truncate_above >= 0:
            wanted.append((epoch, truncate_above))
        added = []
        for truncation in wanted:
            if truncation not in self.truncations and truncation not in added:
                added.append(truncation)
        self.truncations.extend(added)  # type: ignore[arg-type]
        self.epoch = epoch
        if added:
            self._drop_truncated()
        if members:
            self.members = list(members)
        self.save_meta()

    def _drop_truncated(self) -> None:
        doomed = [record.lsn for record in self.by_lsn.values() if not self.valid(record)]
        self._recount_dirty(self.by_lsn.remove(doomed))
        if not doomed:
            return
        # Rebuild SCL and hole tracking from the surviving records above the GC horizon.
        self.scl = self._base_scl() if self.gc_horizon else 0
        self.next_by_prev = {}
        pending = [r for r in self.by_lsn.values() if r.lsn > self.scl]
        for record in pending:
            if record.prev_lsn == self.scl:
                self.scl = record.lsn
                while self.scl in self.next_by_prev:
                    self.scl = self.next_by_prev.pop(self.scl)
            else:
                self.next_by_prev[record.prev_lsn] = record.lsn
        self.durable_scl = min(self.durable_scl, self.scl)
        last = self.by_lsn.last()
        self.max_lsn = last if last is not None else self.gc_horizon

    # -- pages ------------------------------------------------------------------------------------

    def materialize(self, page: int, read_lsn: int) -> pagemod.Page | None:
        """The page as of `read_lsn`: its newest image at or below, plus its records up to read_lsn."""
        base: pagemod.Page | None = None
        low = 0
        key = self._newest_image(page, read_lsn)
        if key is not None:
            base = self._read_image(key)
            if base is None:
                raise SegmentDamaged(page, read_lsn)
            low = key & LSN_MASK
        apply = pagemod.apply
        records = self.by_lsn.records
        for lsn in self.by_lsn.page_between(page, low, read_lsn):
            record = records[lsn]
            if base is None and record.op != pagemod.RedoOp.INIT and record.op != pagemod.RedoOp.IMAGE:
                raise SegmentDamaged(page, read_lsn)
            base = apply(base, record.op, record.payload, lsn)
        return base

    def adopt_image(self, page: int, lsn: int, image: bytes) -> None:
        """Stores a page image from a peer's repair (verified first)."""
        self._store_image(page, lsn, pagemod.Page.from_bytes(image), image)

    def _store_image(self, page: int, lsn: int, parsed: pagemod.Page | None, image: bytes | None = None) -> None:
        """Writes the image of `parsed` (the page at `lsn`, not changed afterwards) and keeps it;
        with `parsed` None, `image` as it is (not cached then)."""
        if image is None:
            assert parsed is not None
            image = parsed.to_bytes()
        header = _IMAGE_HEADER.pack(0, page, lsn)[4:]
        crc = zlib.crc32(image, zlib.crc32(header))
        offset = self._write_image_frame((crc.to_bytes(4, "little"), header, image))
        key = page_key(page, lsn)
        self.images[key] = (self._image_number, offset)
        if parsed is not None:
            self._cache_image(key, parsed)

    def _write_image_frame(self, parts: tuple[bytes, ...]) -> int:
        """Appends one image frame (its parts in one writev, no copy of the 8 KiB); returns where."""
        if self._image_fd < 0:
            self._open_images()
        offset = self._image_size
        size = sum(map(len, parts))
        try:
            written = os.writev(self._image_fd, parts)
            if written != size:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self._image_path(self._image_number)))
        except OSError:
            # frames sit at multiples of IMAGE_FRAME_SIZE: no torn frame may stay at the end
            with contextlib.suppress(OSError):
                os.ftruncate(self._image_fd, offset)
            raise
        self._image_size += size
        return offset

    def _cache_image(self, key: int, parsed: pagemod.Page) -> None:
        cache = self._image_cache
        if len(cache) >= IMAGE_CACHE_PAGES and key not in cache:
            del cache[next(iter(cache))]  # the oldest one cached
        cache[key] = parsed

    def _image_path(self, number: int) -> Path:
        return self.directory / f"{IMAGE_PREFIX}{number:08d}"

    def _open_images(self) -> None:
        numbers = [int(p.name[len(IMAGE_PREFIX) :]) for p in self.directory.glob(IMAGE_PREFIX + "*")]
        self._image_number = max(numbers, default=0) + 1
        self._image_fd = os.open(self._image_path(self._image_number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._image_size = 0

    def _load_images(self) -> None:
        for path in sorted(self.directory.glob(IMAGE_PREFIX + "*")):
            number = int(path.name[len(IMAGE_PREFIX) :])
            data = path.read_bytes()
            for offset in range(0, len(data) - IMAGE_FRAME_SIZE + 1, IMAGE_FRAME_SIZE):
                crc, page, lsn = _IMAGE_HEADER.unpack_from(data, offset)
                if zlib.crc32(memoryview(data)[offset + 4 : offset + IMAGE_FRAME_SIZE]) != crc:
                    self.damaged = True
                    continue
                self.images[page_key(page, lsn)] = (number, offset)

    def _read_image(self, key: int) -> pagemod.Page | None:
        """The image at `key` (a copy the caller may change); None if it is missing or damaged."""
        cached = self._image_cache.get(key)
        if cached is not None:
            return cached.copy()
        number, offset = self.images[key]
        frame = self._read_frame(number, offset)
        if frame is None:
            return None
        if not _frame_intact(frame):
            del self.images[key]
            return None
        try:  # the frame's checksum covers the page image: not checked twice
            parsed = pagemod.Page.from_bytes(memoryview(frame)[_IMAGE_HEADER.size :], verified=True)
        except DataCorrupted:
            del self.images[key]
            return None
        self._cache_image(key, parsed)
        return parsed.copy()

    def _read_frame(self, number: int, offset: int) -> bytes | None:
        """The image frame at `offset` of image file `number` (None: the file is gone)."""
        fd = self._image_readers.get(number)
        if fd is None:
            try:
                fd = os.open(self._image_path(number), os.O_RDONLY)
            except FileNotFoundError:
                return None
            self._image_readers[number] = fd
        return os.pread(fd, IMAGE_FRAME_SIZE, offset)

    def coalesce(self, threshold: int = 32, limit: int = 64) -> int:
        """Materializes pages with many records since their last image into new images."""
        return sum(self.coalesce_page(page) for page in self.coalesce_candidates(threshold, limit))

    def _recount_dirty(self, pages: set[int]) -> None:
        """`dirty` after records of `pages` were forgotten (by GC or a truncation): a page keeps
        at most as many records since its newest image as it has left (the other pages' counts
        did not change: not walked, the dict holds every page changed since its last image)."""
        dirty = self.dirty
        by_page = self.by_lsn.by_page
        for page in pages:
            count = dirty.get(page)
            if count is None:
                continue
            remaining = len(by_page.get(page, ()))
            if remaining:
                dirty[page] = min(count, remaining)
            else:
                del dirty[page]

    def coalesce_candidates(self, threshold: int = 32, limit: int = 64) -> list[int]:
        """Up to `limit` pages with at least `threshold` records since their last image."""
        pages = [page for page, count in self.dirty.items() if count >= threshold]
        return pages[:limit]

    def coalesce_page(self, page: int) -> bool:
        """Writes an image of `page` as of its last record the writer knows durable; True if it did."""
        if page not in self.dirty:
            return False
        last = self.by_lsn.page_last_at_or_below(page, min(self.scl, self.vdl_hint))
        if last is None:
            return False
        try:
            image = self.materialize(page, last)
        except (SegmentDamaged, InternalError):
            return False
        if image is None:
            return False
        self._store_image(page, last, image)
        del self.dirty[page]
        return True

    def collect_garbage(self, min_read_lsn: int, retention_lsns: int = 0, defer_lsns: int = 0) -> int:
        """Drops records and images no read point can need: below min(PGMRPL, VDL) - retention.
        All at once; a storage node goes through `garbage_pass` a few pages per loop turn."""
        gc = self.garbage_pass(min_read_lsn, retention_lsns, defer_lsns)
        if gc is None:
            return 0
        gc.step(len(gc.pages))
        collected = gc.finish()
        self._compact_images()
        return collected

    def garbage_pass(self, min_read_lsn: int, retention_lsns: int = 0, defer_lsns: int = 0) -> GarbagePass | None:
        """collect_garbage in steps (None: nothing to collect): `step(n)` writes the images of n
        more pages, `finish()` then makes them durable and forgets what they cover. With
        `defer_lsns`, a page with few records, none more than `defer_lsns` below the horizon, keeps
        them instead (see GarbagePass)."""
        horizon = min(min_read_lsn, self.vdl_hint, self.scl) - retention_lsns
        if horizon <= self.gc_horizon:
            return None
        pages = sorted(self.by_lsn.pages_at_or_below(horizon), reverse=True)
        return GarbagePass(self, horizon, pages, horizon - defer_lsns if defer_lsns else 0)

    def compaction_due(self, slack: int = 4) -> bool:
        """True once dead image frames take `slack` times the live ones' space (and none runs)."""
        if self.compaction is not None:
            return False
        on_disk = sum(path.stat().st_size for path in self.directory.glob(IMAGE_PREFIX + "*"))
        return on_disk > max(len(self.images) * IMAGE_FRAME_SIZE * slack, 64 * IMAGE_FRAME_SIZE)

    def start_compaction(self, slack: int = 4) -> ImageCompaction | None:
        """Begins rewriting the live images into a fresh file when `compaction_due`: from now on
        new images go there too; `step(n)` copies n more, and once all are copied the old files
        go (None: not due)."""
        if not self.compaction_due(slack):
            return None
        old = sorted(self.directory.glob(IMAGE_PREFIX + "*"))
        if self._image_fd >= 0:
            os.close(self._image_fd)
            self._image_fd = -1
        self._open_images()
        current = self._image_number
        keys = [key for key, (number, _offset) in self.images.items() if number != current]
        self.compaction = ImageCompaction(self, keys, old)
        return self.compaction

    def _compact_images(self, slack: int = 4) -> None:
        """The whole compaction in one call (collect_garbage; a storage node steps it instead)."""
        compaction = self.start_compaction(slack)
        if compaction is not None:
            compaction.step(len(compaction.keys))
            compaction.finish()

    def _drop_old_log_files(self, horizon: int) -> None:
        """Deletes log files whose records are all at or below the horizon (now covered by images).
        A file rotated out since the segment opened has its highest LSN noted then (`_rotated`);
        one from before is scanned once: in a worker thread when an event loop runs (in the loop,
        a 16 MiB file took 150-600 ms, on every node at once), and the file goes at a later
        collection then. (A worker thread scanning in Python holds the GIL for 150-200 ms, and the
        loop thread then waits up to the 5 ms switch interval for it after each log write.)"""
        for path in self.log.files():
            if path == self.log.current_file:
                continue
            highest = self._file_max_lsn.get(path)
            if highest is None:
                if self._scan_in_background(path):
                    continue
                highest = self._file_max_lsn[path] = _highest_lsn(path)
            if highest <= horizon:
                path.unlink()
                del self._file_max_lsn[path]

    def _rotated(self, path: Path) -> None:
        """A log file is rotated out: every record in it was indexed before it was written, so
        none is above the segment's highest LSN now (a bound: the file stays at most that long).
        Only files from before a restart are scanned for it."""
        self._file_max_lsn[path] = self.max_lsn

    def _scan_in_background(self, path: Path) -> bool:
        """Starts finding `path`'s highest LSN in a worker thread; False without an event loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if path not in self._scanning:
            self._scanning.add(path)
            scanned = loop.run_in_executor(None, _highest_lsn, path)

            def found(future: asyncio.Future[int]) -> None:
                self._scanning.discard(path)
                if not future.cancelled() and future.exception() is None:
                    self._file_max_lsn[path] = future.result()

            scanned.add_done_callback(found)
        return True


def _frame_intact(frame: bytes) -> bool:
    """An image frame read back whole, its checksum right."""
    return len(frame) == IMAGE_FRAME_SIZE and zlib.crc32(memoryview(frame)[4:]) == _IMAGE_HEADER.unpack_from(frame)[0]


def _highest_lsn(path: Path) -> int:
    """The highest LSN in a rotated log file (rotated files never change); a damaged one counts
    as holding everything, so that it stays until a rewrite replaces it."""
    highest = 0
    for record, _s, _e in scan_records(path.read_bytes()):
        if record is None:
            return 1 << 62
        highest = max(highest, record.lsn)
    return highest


class GarbagePass:
    """One garbage collection of a segment below `horizon`, a few pages at a time.

    Between steps the segment goes on taking batches and answering reads: an image written early
    changes no page it serves (the records above it stay), new records are above the horizon,
    and nothing is forgotten before `finish()`. A storage node collected a segment in one call:
    after an update-heavy load, 1-1.4 s during which the node neither acked nor read, four of
    six nodes at once (no write quorum meanwhile)."""

    __slots__ = ("segment", "horizon", "pages", "doomed", "gc_horizon", "defer_above", "deferred")

    def __init__(self, segment: Segment, horizon: int, pages: list[int], defer_above: int = 0) -> None:
        self.segment = segment
        self.horizon = horizon
        self.pages = pages  # still to do, the last first
        self.doomed: list[int] = []
        self.gc_horizon = segment.gc_horizon  # where the segment's collection stood at the start
        # A page whose records below the horizon are fewer than DEFER_RECORDS, all above
        # `defer_above` (0: none), keeps them: a page changed now and then got a new 8 KiB image
        # at every collection for one or two records (measured with pgbench's tpcb-like: two to
        # three images per transaction on each node, two thirds of a storage node's CPU). Its
        # records are collected with a later collection's, once one of them falls below that one's
        # `defer_above` or they are many.
        self.defer_above = defer_above
        self.deferred = 0

    @property
    def done(self) -> bool:
        return not self.pages

    def step(self, budget: int) -> int:
        """Writes the images of up to `budget` more pages; returns how many pages it took."""
        segment = self.segment
        by_lsn = segment.by_lsn
        images = segment.images
        horizon = self.horizon
        taken = 0
        while self.pages and taken < budget:
            page = self.pages.pop()
            taken += 1
            lsn = by_lsn.page_last_at_or_below(page, horizon)
            if lsn is None:
                continue  # truncated since the pass began
            if self.defer_above and page_key(page, lsn) not in images:
                page_lsns = by_lsn.by_page[page]
                if page_lsns[0] > self.defer_above and bisect_right(page_lsns, horizon) < DEFER_RECORDS:
                    # kept; only what an image covers already (a coalesced one) goes, below
                    self.deferred += 1
                    covering = segment._newest_image(page, lsn)
                    if covering is None:
                        continue
                    lsn = covering & LSN_MASK
            if page_key(page, lsn) not in images:
                record = by_lsn.records[lsn]
                if record.op == pagemod.RedoOp.IMAGE:
                    # the newest record is a whole image (a page the writer sent whole, as a
                    # COPY's are): stored as it came, relabeled with its LSN, not parsed and rebuilt
                    try:
                        segment._store_image(page, lsn, None, pagemod.relabeled_image(record.payload, lsn))
                    except DataCorrupted:
                        continue
                else:
                    try:
                        image = segment.materialize(page, lsn)
                    except SegmentDamaged:
                        continue  # keep its records; a read repairs the page from a peer
                    if image is None:
                        continue
                    segment._store_image(page, lsn, image)
            self.doomed += by_lsn.page_between(page, -1, lsn)
            for old in list(images.irange(page_key(page, 0), page_key(page, lsn), inclusive=(True, False))):
                del images[old]
                segment._image_cache.pop(old, None)
        return taken

    def finish(self) -> int:
        """The images made durable, then the records they cover forgotten; returns how many."""
        segment = self.segment
        if segment.gc_horizon != self.gc_horizon or self.horizon <= segment.gc_horizon:
            return 0  # another collection finished meanwhile
        horizon = self.horizon
        # Images first, durably; then forget the records they cover. (Under pgbench most passes
        # defer every page and forget nothing: no fsync then.)
        if self.doomed and segment._image_fd >= 0 and segment.fsync:
            os.fsync(segment._image_fd)
        segment.base_lsn = max(segment.base_lsn, segment.by_lsn.last_at_or_below(horizon) or 0)
        segment._recount_dirty(segment.by_lsn.remove(self.doomed))
        segment.gc_horizon = horizon
        segment.save_meta()
        # a log file goes once its records are all collected: none may hold a record still kept
        oldest_kept = segment.by_lsn.first()
        segment._drop_old_log_files(horizon if oldest_kept is None else min(horizon, oldest_kept - 1))
        return len(self.doomed)


class ImageCompaction:
    """Rewriting a segment's live page images into a fresh file, a few frames at a time.

    Frames are copied as they are (each checked first: no parse, no re-encode); images written
    meanwhile go to the fresh file directly, ones collected meanwhile are skipped. The old files
    go once nothing points into them and the fresh file is durable. A restart in between finds
    both: the later file's copy of an image wins. A storage node did this in one call, after a
    collection: 0.44 s for 16,000 pages (and as much memory as the live images), every node at
    about the same time."""

    __slots__ = ("segment", "keys", "old_files", "number", "finishing")

    def __init__(self, segment: Segment, keys: list[int], old_files: list[Path]) -> None:
        self.segment = segment
        self.keys = keys  # still to copy (taken from the end)
        self.old_files = old_files
        self.number = segment._image_number  # the fresh file
        self.finishing = False  # its fsync runs in a worker thread (a storage node)

    @property
    def done(self) -> bool:
        return not self.keys

    def step(self, budget: int) -> int:
        """Copies up to `budget` more live frames; returns how many keys it took."""
        segment = self.segment
        images = segment.images
        keys = self.keys
        taken = 0
        while keys and taken < budget:
            key = keys.pop()
            taken += 1
            where = images.get(key)
            if where is None or where[0] == self.number:
                continue  # collected, or written again, since the compaction began
            frame = segment._read_frame(*where)
            if frame is None or not _frame_intact(frame):
                del images[key]  # damaged: as a read finds it (the page is repaired from a peer)
                continue
            images[key] = (self.number, segment._write_image_frame((frame,)))
        return taken

    def finish(self, synced: bool = False) -> None:
        """The fresh file made durable (unless `synced`: done already), then the old files deleted."""
        segment = self.segment
        if segment.compaction is not self:
            return
        if not synced and segment._image_fd >= 0 and segment.fsync:
            os.fsync(segment._image_fd)
        segment._close_image_readers()
        current = segment._image_path(self.number)
        for path in self.old_files:
            if path != current:
                path.unlink(missing_ok=True)
        if segment.fsync:
            fsync_directory(segment.directory)
        segment.compaction = None
