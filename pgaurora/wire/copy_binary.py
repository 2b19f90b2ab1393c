"""PostgreSQL's binary COPY format, both directions (sans-I/O).

Owns the file layout and its errors (copyfromparse.c, copyto.c):

    header   "PGCOPY\\n\\377\\r\\n\\0"  int32 flags (bit 16 = OIDs, refused)  int32 n  n bytes ext
    tuple    int16 field count, then per field: int32 length (-1 = NULL) + bytes (typsend)
    trailer  int16 -1

Not the per-type binary codecs (datatypes.binary_encoder / binary_decoder), not the text and
CSV formats (wire.copy, wire.copy_out).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from pgaurora.errors import BadCopyFileFormat, PgError
from pgaurora.wire.copy import line_context

SIGNATURE: Final = b"PGCOPY\n\xff\r\n\x00"
HEADER: Final = SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER: Final = b"\xff\xff"

_INT16: Final = struct.Struct("!h")
_INT32: Final = struct.Struct("!i")
_NULL: Final = b"\xff\xff\xff\xff"


class BinaryCopyInParser:
    """COPY FROM STDIN (FORMAT binary): CopyData chunks in, rows of `bytes | None` out."""

    def __init__(self, column_names: Sequence[str], table: str) -> None:
        self.columns = tuple(column_names)
        self.column_count = len(self.columns)
        self.table = table
        self.line_number = 0
        self.done = False  # the trailer was seen
        self._buf = b""
        self._pos = 0
        self._header_done = False

    def _error(self, message: str, with_line: bool = True, column: int | None = None) -> PgError:
        where = line_context(self.table, self.line_number) if with_line else None
        if where is not None and column is not None:
            where += f", column {self.columns[column]}"
        return BadCopyFileFormat(message, where=where)

    def feed(self, data: bytes) -> list[list[bytes | None]]:
        if self.done:
            if data:
                self.line_number += 1
                raise self._error("received copy data after EOF marker")
            return []
        rest = self._buf[self._pos :]
        self._buf = rest + data if rest else bytes(data)
        self._pos = 0
        return self._parse(final=False)

    def finish(self) -> list[list[bytes | None]]:
        """CopyDone: a file may end after any whole tuple, with or without the trailer."""
        if self.done:
            return []
        rows = self._parse(final=True)
        self.done = True
        return rows

    def _parse(self, final: bool) -> list[list[bytes | None]]:
        rows: list[list[bytes | None]] = []
        if not self._header_done and not self._header(final):
            return rows
        buf = self._buf
        size = len(buf)
        unpack16, unpack32 = _INT16.unpack_from, _INT32.unpack_from
        while not self.done:
            pos = self._pos
            if pos >= size:
                break
            if pos + 2 > size:
                if final:
                    self.line_number += 1
                    raise self._error("unexpected EOF in COPY data")
                break
            count = unpack16(buf, pos)[0]
            if count == -1:
                self.done = True
                self._pos = pos + 2
                if self._pos < size:
                    self.line_number += 1
                    raise self._error("received copy data after EOF marker")
                break
            pos += 2
            fields: list[bytes | None] = []
            complete = True
            for column in range(count if count == self.column_count else 0):
                if pos + 4 > size:
                    complete = False
                    break
                length = unpack32(buf, pos)[0]
                pos += 4
                if length == -1:
                    fields.append(None)
                    continue
                if length < 0:
                    self.line_number += 1
                    raise self._error("invalid field size", column=column)
                if pos + length > size:
                    complete = False
                    break
                fields.append(buf[pos : pos + length])
                pos += length
            if count != self.column_count:
                self.line_number += 1
                raise self._error(f"row field count is {count}, expected {self.column_count}")
            if not complete:
                if final:
                    self.line_number += 1
                    raise self._error("unexpected EOF in COPY data", column=len(fields))
                break
            self.line_number += 1
            self._pos = pos
            rows.append(fields)
        return rows

    def _header(self, final: bool) -> bool:
        """Reads the header when it is all here; False = wait for more data."""
        buf, size = self._buf, len(self._buf)
        need = len(SIGNATURE) + 8
        if size >= len(SIGNATURE) and buf[: len(SIGNATURE)] != SIGNATURE:
            raise self._error("COPY file signature not recognized", with_line=False)
        if size >= need:
            extension = _INT32.unpack_from(buf, len(SIGNATURE) + 4)[0]
            need += max(extension, 0)
        if size < need:
            if not final:
                return False
            if size < len(SIGNATURE):
                raise self._error("COPY file signature not recognized", with_line=False)
            if size < len(SIGNATURE) + 4:
                raise self._error("invalid COPY file header (missing flags)", with_line=False)
            if size < len(SIGNATURE) + 8:
                self._flags(buf)
                raise self._error("invalid COPY file header (missing length)", with_line=False)
        self._flags(buf)
        extension = _INT32.unpack_from(buf, len(SIGNATURE) + 4)[0]
        if extension < 0 or size < need:
            raise self._error("invalid COPY file header (wrong length)", with_line=False)
        self._pos = need
        self._header_done = True
        return True

    def _flags(self, buf: bytes) -> None:
        flags = _INT32.unpack_from(buf, len(SIGNATURE))[0] & 0xFFFFFFFF
        if flags & (1 << 16):
            raise self._error("invalid COPY file header (WITH OIDS)", with_line=False)
        if (flags & ~(1 << 16)) >> 16:
            raise self._error("unrecognized critical flags in COPY file header", with_line=False)


class BinaryCopyOutFormatter:
    """COPY TO STDOUT (FORMAT binary): `header()`, then `row(fields)` per row, then `trailer()`.

    `fields` are the values already in binary form (typsend), None = NULL.
    """

    def __init__(self, column_count: int) -> None:
        self.column_count = column_count
        self._count = _INT16.pack(column_count)

    def header(self) -> bytes:
        return HEADER

    def row(self, fields: Sequence[bytes | None]) -> bytes:
        out = bytearray(self._count)
        pack = _INT32.pack
        for value in fields:
            if value is None:
                out += _NULL
            else:
                out += pack(len(value))
                out += value
        return bytes(out)

    def trailer(self) -> bytes:
        return TRAILER
