"""COPY TO STDOUT in text and CSV format: rows out as CopyData payloads (copyto.c).

Owns escaping (text: backslash escapes; CSV: quoting with QUOTE/ESCAPE, FORCE_QUOTE, and
quoting values that would read back as NULL or as the end-of-copy marker) and the header
line. Not reading COPY data (wire.copy), not binary COPY (wire.copy_binary).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pgaurora.wire.copy import CopyFormat, CopyOptions


class CopyOutFormatter:
    """COPY TO STDOUT in text or CSV format: one CopyData payload per row (copyto.c).

    `fields` are the values already in text form (the columns' output functions), None = NULL.
    """

    def __init__(self, options: CopyOptions, column_names: Sequence[str]) -> None:
        if options.format is CopyFormat.BINARY:
            raise ValueError("binary COPY is written by wire.copy_binary.BinaryCopyOutFormatter")
        self.options = options
        self.columns = tuple(column_names)
        self._delimiter = options.delimiter_char
        self._null = options.null_string
        escapes = {8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 92: "\\\\"}
        escapes.setdefault(ord(self._delimiter), "\\" + self._delimiter)
        self._text_table = str.maketrans(escapes)  # type: ignore[arg-type]
        quote, escape = options.quote_char, options.escape_char
        self._csv_table = str.maketrans({quote: escape + quote, escape: escape + escape})
        self._csv_specials = re.compile("[" + re.escape(self._delimiter + quote) + "\r\n]")
        force = options.force_quote
        count = len(self.columns)
        self._force = [force is True or (force is not False and i in force) for i in range(count)]

    def header(self) -> bytes:
        """The header line (COPY ... HEADER), or b''."""
        if not self.options.header:
            return b""
        if self.options.csv:
            single = len(self.columns) == 1
            line = self._delimiter.join(self._csv_value(name, False, single) for name in self.columns)
        else:
            line = self._delimiter.join(name.translate(self._text_table) for name in self.columns)
        return (line + "\n").encode()

    def row(self, fields: Sequence[str | None]) -> bytes:
        if self.options.csv:
            null, force, single = self._null, self._force, len(fields) == 1
            out = [null if v is None else self._csv_value(v, force[i], single) for i, v in enumerate(fields)]
        else:
            null, table = self._null, self._text_table
            out = [null if v is None else v.translate(table) for v in fields]
        return (self._delimiter.join(out) + "\n").encode()

    def _csv_value(self, value: str, force: bool, single: bool) -> str:
        quote = force or value == self._null
        if not quote:
            quote = value == "\\." if single else False
            if not quote:
                quote = self._csv_specials.search(value) is not None
        if not quote:
            return value
        q = self.options.quote_char
        return q + value.translate(self._csv_table) + q
