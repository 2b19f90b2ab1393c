"""COPY's options (WITH (...)) and error context, shared by the COPY readers and writers.

Owns CopyOptions with PostgreSQL's defaults per format and ProcessCopyOptions' checks on
their combination (`validate`), and the 'COPY t, line N...' error context. Not reading or
writing COPY data (wire.copy, wire.copy_out, wire.copy_binary), not parsing the statement.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final

from pgaurora.errors import FeatureNotSupported, InvalidParameterValue, SyntaxError_

MAX_COPY_DATA_DISPLAY: Final = 100


class CopyFormat(enum.Enum):
    TEXT = "text"
    CSV = "csv"
    BINARY = "binary"


@dataclass(frozen=True, slots=True)
class CopyOptions:
    """COPY's WITH (...) options; None means PostgreSQL's default for the format."""

    format: CopyFormat = CopyFormat.TEXT
    delimiter: str | None = None
    null: str | None = None
    header: bool | str = False  # True, False or "match" (COPY FROM only)
    quote: str | None = None
    escape: str | None = None
    force_quote: frozenset[int] | bool = frozenset()  # column indexes, or True for *
    force_not_null: frozenset[int] = field(default_factory=frozenset)
    force_null: frozenset[int] = field(default_factory=frozenset)

    @property
    def csv(self) -> bool:
        return self.format is CopyFormat.CSV

    @property
    def delimiter_char(self) -> str:
        return self.delimiter if self.delimiter is not None else ("," if self.csv else "\t")

    @property
    def null_string(self) -> str:
        return self.null if self.null is not None else ("" if self.csv else "\\N")

    @property
    def escape_char(self) -> str:
        return self.escape if self.escape is not None else self.quote_char

    @property
    def quote_char(self) -> str:
        return self.quote if self.quote is not None else '"'

    def validate(self, is_from: bool) -> None:
        """ProcessCopyOptions' checks on the combination, with PostgreSQL's errors."""
        binary, csv = self.format is CopyFormat.BINARY, self.csv
        if binary and self.delimiter is not None:
            raise SyntaxError_("cannot specify DELIMITER in BINARY mode")
        if binary and self.null is not None:
            raise SyntaxError_("cannot specify NULL in BINARY mode")
        delimiter, null = self.delimiter_char, self.null_string
        if len(delimiter.encode()) != 1:
            raise FeatureNotSupported("COPY delimiter must be a single one-byte character")
        if "\r" in delimiter or "\n" in delimiter:
            raise InvalidParameterValue("COPY delimiter cannot be newline or carriage return")
        if "\r" in null or "\n" in null:
            raise InvalidParameterValue("COPY null representation cannot use newline or carriage return")
        if not csv and delimiter in "\\.abcdefghijklmnopqrstuvwxyz0123456789":
            raise InvalidParameterValue(f'COPY delimiter cannot be "{delimiter}"')
        if binary and self.header:
            raise FeatureNotSupported("cannot specify HEADER in BINARY mode")
        if self.header == "match" and not is_from:
            raise FeatureNotSupported('cannot use "match" with HEADER in COPY TO')
        if not csv and self.quote is not None:
            raise FeatureNotSupported("COPY quote available only in CSV mode")
        if csv and len(self.quote_char.encode()) != 1:
            raise FeatureNotSupported("COPY quote must be a single one-byte character")
        if csv and delimiter == self.quote_char:
            raise InvalidParameterValue("COPY delimiter and quote must be different")
        if not csv and self.escape is not None:
            raise FeatureNotSupported("COPY escape available only in CSV mode")
        if csv and len(self.escape_char.encode()) != 1:
            raise FeatureNotSupported("COPY escape must be a single one-byte character")
        if not csv and self.force_quote:
            raise FeatureNotSupported("COPY force quote available only in CSV mode")
        if self.force_quote and is_from:
            raise FeatureNotSupported("COPY force quote only available using COPY TO")
        if not csv and self.force_not_null:
            raise FeatureNotSupported("COPY force not null available only in CSV mode")
        if self.force_not_null and not is_from:
            raise FeatureNotSupported("COPY force not null only available using COPY FROM")
        if not csv and self.force_null:
            raise FeatureNotSupported("COPY force null available only in CSV mode")
        if self.force_null and not is_from:
            raise FeatureNotSupported("COPY force null only available using COPY FROM")
        if delimiter in null:
            raise FeatureNotSupported("COPY delimiter must not appear in the NULL specification")
        if csv and self.quote_char in null:
            raise FeatureNotSupported("CSV quote character must not appear in the NULL specification")


def _display(line: str) -> str:
    """limit_printout_length: at most 100 characters, then '...'."""
    return line if len(line) <= MAX_COPY_DATA_DISPLAY else line[:MAX_COPY_DATA_DISPLAY] + "..."


def line_context(table: str, line_number: int, line: str | None = None, column: str | None = None,
                 value: str | None = None, null_input: bool = False) -> str:
    """PostgreSQL's COPY error context for a line, or for one field of it."""
    where = f"COPY {table}, line {line_number}"
    if column is not None:
        if null_input:
            return f"{where}, column {column}: null input"
        return f'{where}, column {column}: "{_display(value or "")}"'
    if line is not None:
        return f'{where}: "{_display(line)}"'
    return where
