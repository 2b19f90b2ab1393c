"""Fuzzing the COPY parsers: any bytes in any chunking give rows or a PgError, never another
exception; chunking never changes the result."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgaurora.errors import PgError
from pgaurora.wire.copy import CopyFormat, CopyInParser, CopyOptions
from pgaurora.wire.copy_binary import BinaryCopyInParser
from pgaurora.wire.copy_out import CopyOutFormatter

# PGAURORA_FUZZ_EXAMPLES raises the count for a longer hunt (the default keeps the suite fast)
FUZZ = settings(max_examples=int(os.environ.get("PGAURORA_FUZZ_EXAMPLES", "200")), deadline=1000, suppress_health_check=[HealthCheck.too_slow])

OPTIONS = [
    CopyOptions(),
    CopyOptions(format=CopyFormat.CSV),
    CopyOptions(format=CopyFormat.CSV, quote="'", escape="\\", header=True),
    CopyOptions(delimiter=",", null=""),
]
alphabet = st.sampled_from([b"a", b"\t", b",", b"\n", b"\r", b"\\", b".", b"N", b'"', b"'", b"\xc3", b"\xa9", b"x", b"7"])


def parse(parser: CopyInParser | BinaryCopyInParser, data: bytes, size: int) -> object:
    rows: list[object] = []
    try:
        for i in range(0, len(data), size):
            rows += parser.feed(data[i : i + size])
        rows += parser.finish()
    except PgError as err:
        return (err.sqlstate, err.message)
    return rows


@FUZZ
@given(st.sampled_from(OPTIONS), st.lists(alphabet, max_size=60).map(b"".join), st.integers(1, 7))
def test_text_and_csv_parsers(options: CopyOptions, data: bytes, size: int) -> None:
    whole = parse(CopyInParser(options, ("a", "b"), "t"), data, len(data) or 1)
    assert parse(CopyInParser(options, ("a", "b"), "t"), data, size) == whole


@FUZZ
@given(st.sampled_from(OPTIONS), st.lists(st.tuples(st.one_of(st.none(), st.text(max_size=8)),
                                                      st.one_of(st.none(), st.text(max_size=8))), max_size=5))
def test_formatted_rows_read_back(options: CopyOptions, rows: list[tuple[str | None, str | None]]) -> None:
    rows = [tuple(v.replace("\0", "") if v is not None else None for v in r) for r in rows]
    if options.null_string == "" and not options.csv:
        rows = [tuple(v if v != "" else None for v in r) for r in rows]
    formatter = CopyOutFormatter(options, ("a", "b"))
    data = formatter.header() + b"".join(formatter.row(r) for r in rows)
    parsed = parse(CopyInParser(options, ("a", "b"), "t"), data, 5)
    assert parsed == [list(r) for r in rows]


@FUZZ
@given(st.binary(max_size=80), st.integers(1, 9))
def test_binary_parser(data: bytes, size: int) -> None:
    data = b"PGCOPY\n\xff\r\n\0" + data
    whole = parse(BinaryCopyInParser(("a", "b"), "t"), data, len(data))
    assert parse(BinaryCopyInParser(("a", "b"), "t"), data, size) == whole
