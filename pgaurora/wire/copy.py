"""COPY FROM STDIN in text and CSV format: rows in from CopyData chunks.

Owns PostgreSQL's COPY text and CSV input formats (copyfromparse.c), sans-I/O:
splitting a stream of chunks into lines (a line may span chunks,
a chunk may hold many lines, a CSV quoted field may hold newlines), the end-of-copy marker
`\\.`, line-ending consistency, fields and escapes, NULL markers, HEADER (and MATCH).
Not the binary format (wire.copy_binary), not typing the fields (the caller applies the
column types' input functions), not the options (wire.copy_options, re-exported here), not
writing COPY TO data (wire.copy_out).

    parser = CopyInParser(CopyOptions(), ("a", "b"), "t")
    for chunk in copy_data_chunks: rows += parser.feed(chunk)     # list of [str | None]
    rows += parser.finish()                                        # at CopyDone

Errors are 22P04 bad_copy_file_format with PostgreSQL's texts and context
('COPY t, line 2: "2"'); `line_context` builds the one for a field a type rejected.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import Final, cast

from pgaurora.errors import BadCopyFileFormat, PgError
from pgaurora.wire.bodies import decode_text, invalid_utf8
from pgaurora.wire.copy_options import CopyFormat, CopyOptions, line_context

__all__ = ["CopyFormat", "CopyInParser", "CopyOptions", "line_context"]


class Eol(enum.Enum):
    UNKNOWN = 0
    NL = 1
    CR = 2
    CRNL = 3


_TEXT_ESCAPES: Final = {ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("v"): 11}
_OCTAL: Final = frozenset(b"01234567")
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")


class CopyInParser:
    """COPY FROM STDIN in text or CSV format; see the module docstring."""

    def __init__(self, options: CopyOptions, column_names: Sequence[str], table: str) -> None:
        if options.format is CopyFormat.BINARY:
            raise ValueError("binary COPY is read by wire.copy_binary.BinaryCopyInParser")
        self.options = options
        self.columns = tuple(column_names)
        self.table = table
        self.line_number = 0
        self.done = False  # the end-of-copy marker was seen: the rest is ignored
        self._buf = b""
        self._eol = Eol.UNKNOWN
        self._header_pending = bool(options.header)
        self._csv = options.csv  # read for every line (the property compares the format each time)
        self._delimiter = options.delimiter_char.encode()
        self._delimiter_text = options.delimiter_char
        self._null = options.null_string.encode()
        self._null_text = options.null_string
        self._quote = options.quote_char.encode()
        self._escape = options.escape_char.encode()
        if options.csv:
            specials = {b"\r", b"\n", b"\\", self._quote, self._escape}
            self._special = re.compile(b"[" + b"".join(re.escape(s) for s in specials) + b"]")
        else:
            self._special = re.compile(rb"[\\\r\n]")

    # --- lines ----------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[list[str | None]]:
        """The rows completed by this CopyData chunk."""
        if self.done:
            return []
        self._buf = self._buf + data if self._buf else bytes(data)
        return self._lines(final=False)

    def finish(self) -> list[list[str | None]]:
        """CopyDone: the rows left (a last line needs no line ending)."""
        if self.done:
            return []
        rows = self._lines(final=True)
        if self._buf and not self.done:
            self.line_number += 1
            line, self._buf = self._buf, b""
            if self._header_pending:
                self._header_pending = False
                self._check_header(line)
            else:
                rows.append(self._row(line))
        self.done = True
        return rows

    def _error(self, message: str, hint: str | None = None, line: bytes | None = None) -> PgError:
        shown = line.decode(errors="replace") if line is not None else None
        return BadCopyFileFormat(message, hint=hint, where=line_context(self.table, self.line_number, shown))

    def _lines(self, final: bool) -> list[list[str | None]]:
        """Splits the buffer into lines as CopyReadLineText does; keeps the unfinished rest.

        Only the special bytes are visited (a regex finds them); an unfinished line is
        scanned again from its start when more data comes, so quote state needs no carrying.
        """
        rows: list[list[str | None]] = []
        buf = self._buf
        size = len(buf)
        start = scan = 0
        csv = self._csv
        in_quote = last_was_escape = False
        previous = -1  # position of the last special byte seen (ordinary bytes reset escapes)
        embedded = 0  # newlines inside quotes: PostgreSQL counts them as lines
        quote, escape = self._quote[0], self._escape[0]
        if escape == quote:
            escape = -1  # copyfromparse.c: an escape equal to the quote is just the quote toggle
        embedded_newline = 0x0A
        search = self._special.search
        while True:
            match = search(buf, scan)
            if match is None:
                break
            at = match.start()
            c = buf[at]
            scan = at + 1
            if csv:
                if at != previous + 1:
                    last_was_escape = False
                previous = at
                if in_quote and c == escape:
                    last_was_escape = not last_was_escape
                if c == quote and not last_was_escape:
                    in_quote = not in_quote
                if c != escape:
                    last_was_escape = False
                if in_quote:
                    embedded += c == embedded_newline
                    continue
            if c == 0x5C:  # backslash
                if csv and at != start:
                    continue
                if at + 1 >= size:
                    if final:
                        continue
                    break
                if buf[at + 1] != 0x2E:  # not "\."
                    if not csv:
                        scan = at + 2  # in text format anything after a backslash is data
                    continue
                marker = self._end_marker(buf, at, final)
                if marker is None:
                    break
                if marker:
                    if at > start:
                        self.line_number += 1
                        rows.append(self._row(buf[start:at]))
                    self.done = True
                    self._buf = b""
                    return rows
                continue
            if c != 0x0D and c != 0x0A:
                continue
            if c == 0x0D and at + 1 >= size and not final and self._eol in (Eol.UNKNOWN, Eol.CRNL):
                break  # \r or \r\n? wait for the next byte
            self.line_number += embedded + 1
            embedded = 0
            end = self._line_end(buf, at, c)
            embedded_newline = 0x0A if self._eol is Eol.NL else 0x0D
            line = buf[start:at]
            start = scan = end
            previous = -1
            if self._header_pending:
                self._header_pending = False
                self._check_header(line)
                continue
            rows.append(self._row(line))
        self._buf = buf[start:]
        return rows

    def _line_end(self, buf: bytes, at: int, c: int) -> int:
        """Checks the line ending at buf[at] against the first one; returns the next line's start."""
        csv = self._csv
        eol = self._eol
        if c == 0x0D:
            if eol is Eol.UNKNOWN or eol is Eol.CRNL:
                if at + 1 < len(buf) and buf[at + 1] == 0x0A:
                    self._eol = Eol.CRNL
                    return at + 2
                if eol is Eol.UNKNOWN:
                    self._eol = Eol.CR
                    return at + 1
            elif eol is Eol.CR:
                return at + 1
            raise self._error(
                "unquoted carriage return found in data" if csv else "literal carriage return found in data",
                "Use quoted CSV field to represent carriage return." if csv
                else 'Use "\\r" to represent carriage return.',
            )
        if eol is Eol.CR or eol is Eol.CRNL:
            raise self._error(
                "unquoted newline found in data" if csv else "literal newline found in data",
                "Use quoted CSV field to represent newline." if csv else 'Use "\\n" to represent newline.',
            )
        self._eol = Eol.NL
        return at + 1

    def _end_marker(self, buf: bytes, at: int, final: bool) -> bool | None:
        """At "\\." : True = end of data, False = just data (CSV), None = need more bytes."""
        self.line_number += 1  # an error here is about the line being read
        try:
            return self._end_marker_checked(buf, at, final)
        finally:
            self.line_number -= 1

    def _end_marker_checked(self, buf: bytes, at: int, final: bool) -> bool | None:
        csv = self._csv
        pos = at + 2
        if self._eol is Eol.CRNL:
            if pos >= len(buf) and not final:
                return None
            c2 = buf[pos] if pos < len(buf) else 0
            pos += 1
            if c2 == 0x0A:
                if csv:
                    return False
                raise self._error("end-of-copy marker does not match previous newline style")
            if c2 != 0x0D:
                if csv:
                    return False
                raise self._error("end-of-copy marker corrupt")
        if pos >= len(buf) and not final:
            return None
        c2 = buf[pos] if pos < len(buf) else 0
        if c2 != 0x0D and c2 != 0x0A:
            if csv:
                return False
            raise self._error("end-of-copy marker corrupt")
        if (self._eol in (Eol.NL, Eol.CRNL) and c2 != 0x0A) or (self._eol is Eol.CR and c2 != 0x0D):
            raise self._error("end-of-copy marker does not match previous newline style")
        return True

    # --- fields -----------------------------------------------------------------------------

    def _row(self, line: bytes) -> list[str | None]:
        if not line.isascii():
            try:  # CopyReadLine converts (verifies) the whole line before splitting it
                line.decode()
            except UnicodeDecodeError as exc:
                err = invalid_utf8(line, exc.start)
                err.where = line_context(self.table, self.line_number)
                raise err from None
        fields = self._csv_fields(line) if self._csv else self._text_fields(line)
        if len(fields) > len(self.columns):
            raise self._error("extra data after last expected column", line=line)
        if len(fields) < len(self.columns):
            raise self._error(f'missing data for column "{self.columns[len(fields)]}"', line=line)
        return fields

    def _text_fields(self, line: bytes) -> list[str | None]:
        if b"\\" not in line and b"\0" not in line:
            # the common line: no escapes, valid UTF-8 (_row checked it), so the whole line is
            # decoded once and split; the NULL string can only be a whole field
            parts = line.decode().split(self._delimiter_text)
            null_text = self._null_text
            if null_text in parts:
                return [None if f == null_text else f for f in parts]
            return cast("list[str | None]", parts)
        null = self._null
        raw_fields = line.split(self._delimiter)
        if b"\\" not in line:
            try:
                return [None if f == null else decode_text(f) for f in raw_fields]
            except PgError as err:
                err.where = line_context(self.table, self.line_number, line.decode(errors="replace"))
                raise
        return self._text_fields_escaped(line)

    def _text_fields_escaped(self, line: bytes) -> list[str | None]:
        """CopyReadAttributesText: a backslash escapes the delimiter and forms \\n, \\ooo, \\xhh..."""
        fields: list[str | None] = []
        delimiter = self._delimiter[0]
        size = len(line)
        pos = 0
        while True:
            start = pos
            out = bytearray()
            while pos < size:
                c = line[pos]
                pos += 1
                if c == delimiter:
                    break
                if c != 0x5C:
                    out.append(c)
                    continue
                if pos >= size:
                    out.append(c)
                    break
                c = line[pos]
                pos += 1
                if c in _OCTAL:
                    value = c - 0x30
                    for _ in range(2):
                        if pos < size and line[pos] in _OCTAL:
                            value = value * 8 + line[pos] - 0x30
                            pos += 1
                    out.append(value & 0xFF)
                elif c == 0x78 and pos < size and line[pos] in _HEX:  # \xhh
                    digits = 1 + (pos + 1 < size and line[pos + 1] in _HEX)
                    out.append(int(line[pos : pos + digits], 16))
                    pos += digits
                else:
                    out.append(_TEXT_ESCAPES.get(c, c))
            else:
                raw = line[start:pos]
                fields.append(self._text_value(raw, out))
                return fields
            raw = line[start : pos - 1]
            fields.append(self._text_value(raw, out))

    def _text_value(self, raw: bytes, value: bytearray) -> str | None:
        if raw == self._null:
            return None
        try:
            return decode_text(bytes(value))
        except PgError as err:
            err.where = line_context(self.table, self.line_number)
            raise

    def _csv_fields(self, line: bytes) -> list[str | None]:
        """CopyReadAttributesCSV, on the verified text of the line."""
        try:
            text = decode_text(line)
        except PgError as err:
            err.where = line_context(self.table, self.line_number)
            raise
        delimiter, quote, escape = self.options.delimiter_char, self.options.quote_char, self.options.escape_char
        null = self.options.null_string
        fields: list[str | None] = []
        size = len(text)
        pos = 0
        while True:
            start = pos
            parts: list[str] = []
            saw_quote = False
            in_quote = False
            ended = False
            while pos < size:
                c = text[pos]
                if in_quote:
                    if c == escape and pos + 1 < size and text[pos + 1] in (quote, escape) \
                            and not (escape == quote and text[pos + 1] != quote):
                        parts.append(text[pos + 1])
                        pos += 2
                        continue
                    if c == quote:
                        in_quote = False
                        pos += 1
                        continue
                    parts.append(c)
                    pos += 1
                    continue
                if c == delimiter:
                    pos += 1
                    ended = True
                    break
                if c == quote:
                    saw_quote = in_quote = True
                    pos += 1
                    continue
                parts.append(c)
                pos += 1
            if in_quote:
                raise self._error("unterminated CSV quoted field", line=line)
            raw = text[start : pos - 1 if ended else pos]
            value = "".join(parts)
            index = len(fields)
            if not saw_quote and raw == null:
                # NULL, unless FORCE_NOT_NULL turns it back into the null string (NextCopyFrom)
                fields.append(value if index in self.options.force_not_null else None)
            elif index in self.options.force_null and value == null:
                fields.append(None)
            else:
                fields.append(value)
            if not ended:
                return fields

    def _check_header(self, line: bytes) -> None:
        if self.options.header != "match":
            return
        fields = self._csv_fields(line) if self._csv else self._text_fields(line)
        if len(fields) != len(self.columns):
            raise self._error(
                f"wrong number of fields in header line: got {len(fields)}, expected {len(self.columns)}",
                line=line,
            )
        for number, (got, expected) in enumerate(zip(fields, self.columns, strict=True), start=1):
            if got is None:
                raise self._error(f"column name mismatch in header line field {number}: got null value "
                                  f'("{self.options.null_string}"), expected "{expected}"', line=line)
            if got != expected:
                raise self._error(f'column name mismatch in header line field {number}: got "{got}", '
                                  f'expected "{expected}"', line=line)

