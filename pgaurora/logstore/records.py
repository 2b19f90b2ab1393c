"""Redo records: the only thing that crosses the network from the writer to storage.

Owns the record tuple and its checksummed binary frame. Not the page changes themselves
(logstore.page), not how segments index or persist them (logstore.segment, logstore.hotlog).

A record is a plain tuple on the hot path (`RedoRecord`, a NamedTuple):

    lsn            allocated by the single writer, strictly increasing, never reused
    page           volume page number the op applies to
    prev_page_lsn  backlink: previous LSN that changed this page (0 = unknown / first)
    prev_lsn       backlink: previous LSN in the same protection group (segment chain; 0 = first)
    xid            transaction that produced it (0 = none)
    op, payload    the redo op (page.RedoOp) and its encoded payload
    flags          FLAG_CPL marks the last record of a mini-transaction (a consistency point)
    epoch          volume epoch of the writer that produced it (recovery truncates by epoch)

Frame (little endian, 56-byte header then the payload):

    crc32 u32 | payload length u32 | epoch u32 | op u8 | flags u8 | 0 u16 |
    lsn u64 | page u64 | prev_page_lsn u64 | prev_lsn u64 | xid u64 | payload
    (crc32 covers everything after itself)
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import NamedTuple

from pgaurora.errors import DataCorrupted

FLAG_CPL = 1

_HEADER = struct.Struct("<IIIBBxxQQQQQ")
HEADER_SIZE = _HEADER.size  # 56
_pack_body_header = struct.Struct("<IIBBxxQQQQQ").pack  # the header after the crc
_pack_crc = struct.Struct("<I").pack
_unpack_header = _HEADER.unpack_from
_crc32 = zlib.crc32


class RedoRecord(NamedTuple):
    lsn: int
    page: int
    prev_page_lsn: int
    prev_lsn: int
    xid: int
    op: int
    flags: int
    epoch: int
    payload: bytes

    @property
    def is_cpl(self) -> bool:
        return bool(self.flags & FLAG_CPL)


def encode_record(
    lsn: int,
    page: int,
    prev_page_lsn: int,
    prev_lsn: int,
    xid: int,
    op: int,
    flags: int,
    epoch: int,
    payload: bytes,
) -> bytes:
    """The checksummed frame of one record."""
    body = _pack_body_header(len(payload), epoch, op, flags, lsn, page, prev_page_lsn, prev_lsn, xid) + payload
    return _pack_crc(_crc32(body)) + body


def frame_of(record: RedoRecord) -> bytes:
    return encode_record(
        record.lsn,
        record.page,
        record.prev_page_lsn,
        record.prev_lsn,
        record.xid,
        record.op,
        record.flags,
        record.epoch,
        record.payload,
    )


def decode_record(buffer: bytes | memoryview, offset: int = 0) -> tuple[RedoRecord, int]:
    """Decodes the frame at `offset`; returns the record and the offset after it.

    A truncated frame or a checksum mismatch raises DataCorrupted (XX001).
    """
    if len(buffer) - offset < HEADER_SIZE:
        raise DataCorrupted("incomplete redo record header")
    crc, length, epoch, op, flags, lsn, page, prev_page_lsn, prev_lsn, xid = _unpack_header(buffer, offset)
    end = offset + HEADER_SIZE + length
    if end > len(buffer):
        raise DataCorrupted(f"incomplete redo record at LSN {lsn}")
    if _crc32(memoryview(buffer)[offset + 4 : end]) != crc:
        raise DataCorrupted(f"incorrect redo record checksum at offset {offset}")
    payload = bytes(buffer[offset + HEADER_SIZE : end])
    return RedoRecord(lsn, page, prev_page_lsn, prev_lsn, xid, op, flags, epoch, payload), end


def decode_records(buffer: bytes | memoryview) -> list[RedoRecord]:
    """All records of a concatenation of frames; any damage raises DataCorrupted.

    The storage node's hot path (every AppendBatch): one loop, no per-record calls but the
    header unpack, the checksum, the payload slice and the tuple. Headers are unpacked and
    payloads sliced from bytes (one copy each); the checksum reads a memoryview (no copy).
    """
    records: list[RedoRecord] = []
    append = records.append
    data = buffer if type(buffer) is bytes else bytes(buffer)
    view = memoryview(data)
    unpack = _unpack_header
    crc32 = _crc32
    make = tuple.__new__
    offset = 0
    end = len(data)
    while offset < end:
        if end - offset < HEADER_SIZE:
            raise DataCorrupted("incomplete redo record header")
        crc, length, epoch, op, flags, lsn, page, prev_page_lsn, prev_lsn, xid = unpack(data, offset)
        start = offset + HEADER_SIZE
        stop = start + length
        if stop > end:
            raise DataCorrupted(f"incomplete redo record at LSN {lsn}")
        if crc32(view[offset + 4 : stop]) != crc:
            raise DataCorrupted(f"incorrect redo record checksum at offset {offset}")
        append(make(RedoRecord, (lsn, page, prev_page_lsn, prev_lsn, xid, op, flags, epoch, data[start:stop])))
        offset = stop
    return records


def scan_records(buffer: bytes | memoryview) -> Iterator[tuple[RedoRecord | None, int, int]]:
    """Yields (record, start, end) for each frame; stops with (None, start, len) at the first bad frame.

    Used when replaying a log file from disk: everything before the damage is good; what follows
    cannot be framed reliably and is refilled from peers. A tail of zeros is the unused part of a
    pre-filled file (logstore.hotlog), not damage: the scan just ends there.
    """
    offset = 0
    size = len(buffer)
    while offset < size:
        try:
            record, end = decode_record(buffer, offset)
        except DataCorrupted:
            rest = bytes(buffer[offset:])
            if rest.count(0) != len(rest):
                yield None, offset, size
            return
        yield record, offset, end
        offset = end
