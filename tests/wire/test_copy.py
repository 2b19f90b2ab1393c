"""COPY text, CSV and binary formats: parsing in chunks, formatting, and PostgreSQL's answers."""

from __future__ import annotations

import psycopg
import pytest

from pgaurora.errors import PgError
from pgaurora.wire.copy import CopyFormat, CopyInParser, CopyOptions
from pgaurora.wire.copy_binary import BinaryCopyInParser, BinaryCopyOutFormatter
from pgaurora.wire.copy_out import CopyOutFormatter

CSV = CopyOptions(format=CopyFormat.CSV)

# (COPY options SQL, our options, input) -- run through PostgreSQL and through CopyInParser
FROM_CASES = [
    ("", CopyOptions(), b"1\tx\n2\t\\N\n3\t\\\\N\n"),
    ("", CopyOptions(), b"a\\tb\tc\\nd\\\\e\\x41\\101\\q\n"),
    ("", CopyOptions(), b"1\tx\r\n2\ty\r\n"),
    ("", CopyOptions(), b"1\tx\r2\ty\r"),
    ("", CopyOptions(), b"1\tno newline at end"),
    ("", CopyOptions(), b"1\tx\n\\.\nignored\tafter marker\n"),
    ("", CopyOptions(), b"1\tab\\.\n"),
    ("", CopyOptions(), b"1\tx\n2\n"),
    ("", CopyOptions(), b"1\tx\t3\n"),
    ("", CopyOptions(), b"1\tx\r\n2\ty\n"),
    ("", CopyOptions(), b"1\tx\n2\ty\r\n"),
    ("", CopyOptions(), b"1\t\xff\n"),
    ("", CopyOptions(), b"1\tx\n\\.x\n"),
    ("(delimiter '|', null 'NULL')", CopyOptions(delimiter="|", null="NULL"), b"1|NULL\n\\|x|y\\|z\n"),
    ("(format csv)", CSV, b'1,"x\r\ny"\r\n2,\r\n3,""\r\n4,"a""b"\r\n'),
    ("(format csv)", CSV, b'1,"x\ny"\n"\\.",z\n\\.\n'),
    ("(format csv)", CSV, b'1,"unterminated\n'),
    ("(format csv)", CSV, b"1,2,3\n"),
    ("(format csv)", CSV, b"1\n"),
    ("(format csv, header)", CopyOptions(format=CopyFormat.CSV, header=True), b"a,b\n1,2\n"),
    ("(format csv, header match)", CopyOptions(format=CopyFormat.CSV, header="match"), b"a,c\n1,2\n"),
    ("(format csv, quote '''', escape '\\')", CopyOptions(format=CopyFormat.CSV, quote="'", escape="\\"),
     b"'a\\'b','c\\\\d'\n'x,y',\n"),
    ("(format csv, null 'N', force_not_null (b))",
     CopyOptions(format=CopyFormat.CSV, null="N", force_not_null=frozenset({1})), b"N,N\n"),
    ("(format csv, null 'N', force_null (b))",
     CopyOptions(format=CopyFormat.CSV, null="N", force_null=frozenset({1})), b'"N","N"\n'),
    ("(format csv)", CSV, b"1,x\r\n2,y\n"),
    ("(format csv, null 'N', force_not_null (b), force_null (b))",
     CopyOptions(format=CopyFormat.CSV, null="N", force_not_null=frozenset({1}), force_null=frozenset({1})),
     b'N,N\n"N","N"\n'),
    ("(format csv)", CSV, b'a"b"c,"x"y\n'),
    ("(format csv, escape '\\')", CopyOptions(format=CopyFormat.CSV, escape="\\"), b'"a\\x\\\\","\\""\n'),
]


def postgres_copy_from(dsn: str, options_sql: str, data: bytes) -> tuple[list[tuple[object, ...]] | None, tuple[str, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("create temp table t (a text, b text)")
        try:
            with conn.cursor() as cur, cur.copy(f"copy t from stdin {options_sql}") as copy:
                copy.write(data)
        except psycopg.Error as exc:
            diag = exc.diag
            return None, (diag.sqlstate or "", diag.message_primary or "", diag.context or "")
        return [tuple(r) for r in conn.execute("select a, b from t")], ()


def parse_in_chunks(options: CopyOptions, data: bytes, size: int) -> list[list[str | None]]:
    parser = CopyInParser(options, ("a", "b"), "t")
    rows = []
    for i in range(0, len(data), size):
        rows += parser.feed(data[i : i + size])
    return rows + parser.finish()


@pytest.mark.parametrize(("options_sql", "options", "data"), FROM_CASES)
def test_copy_from_matches_postgres(pg_oracle, options_sql: str, options: CopyOptions, data: bytes) -> None:
    rows, error = postgres_copy_from(pg_oracle.dsn, options_sql, data)
    for size in (len(data) or 1, 1, 3):
        if rows is not None:
            assert [tuple(r) for r in parse_in_chunks(options, data, size)] == rows
        else:
            with pytest.raises(PgError) as info:
                parse_in_chunks(options, data, size)
            ours = info.value
            sqlstate, message, context = error
            assert (ours.sqlstate, ours.message) == (sqlstate, message)
            assert ours.where == context


TO_VALUES = [
    ("tab\there", None),
    ("back\\slash", "new\nline\rcr"),
    ("", "\\."),
    ('quo"te', "com,ma"),
    ("\b\f\v", "NULL"),
]


@pytest.mark.parametrize(
    ("options_sql", "options"),
    [
        ("", CopyOptions()),
        ("(header)", CopyOptions(header=True)),
        ("(format csv, header)", CopyOptions(format=CopyFormat.CSV, header=True)),
        ("(format csv, force_quote (b))", CopyOptions(format=CopyFormat.CSV, force_quote=frozenset({1}))),
        ("(format csv, force_quote *, null 'NULL')",
         CopyOptions(format=CopyFormat.CSV, force_quote=True, null="NULL")),
        ("(delimiter ',', null '')", CopyOptions(delimiter=",", null="")),
    ],
)
def test_copy_to_matches_postgres(pg_oracle, options_sql: str, options: CopyOptions) -> None:
    with psycopg.connect(pg_oracle.dsn, autocommit=True) as conn:
        conn.execute("create temp table t (a text, b text)")
        with conn.cursor() as cur:
            cur.executemany("insert into t values (%s, %s)", TO_VALUES)
            theirs = b""
            with cur.copy(f"copy t to stdout {options_sql}") as copy:
                for chunk in copy:
                    theirs += bytes(chunk)
    formatter = CopyOutFormatter(options, ("a", "b"))
    ours = formatter.header() + b"".join(formatter.row(v) for v in TO_VALUES)
    assert ours == theirs
    if options.null_string == "" and not options.csv:
        return  # '' is both NULL and the empty string here: it does not read back (nor in PostgreSQL)
    back = CopyInParser(options, ("a", "b"), "t")
    rows = back.feed(ours) + back.finish()
    assert [tuple(r) for r in rows] == TO_VALUES


def test_single_column_csv_end_marker_is_quoted() -> None:
    formatter = CopyOutFormatter(CSV, ("a",))
    assert formatter.row(["\\."]) == b'"\\."\n'


def test_binary_round_trip_and_postgres_bytes(pg_oracle) -> None:
    with psycopg.connect(pg_oracle.dsn, autocommit=True) as conn, conn.cursor() as cur:
        theirs = b""
        with cur.copy("copy (select 1::int4, 'x'::text, null::int8) to stdout (format binary)") as copy:
            for chunk in copy:
                theirs += bytes(chunk)
    out = BinaryCopyOutFormatter(3)
    ours = out.header() + out.row([b"\0\0\0\1", b"x", None]) + out.trailer()
    assert ours == theirs
    parser = BinaryCopyInParser(("a", "b", "c"), "t")
    rows = []
    for i in range(len(ours)):
        rows += parser.feed(ours[i : i + 1])
    assert rows + parser.finish() == [[b"\0\0\0\1", b"x", None]]


BINARY_ERRORS = [
    b"PGCOPY\n\xff\r\n\0",
    b"PGCOPX\n\xff\r\n\0\0\0\0\0\0\0\0\0",
    b"PGCOPY\n\xff\r\n\0\0\0\0\0",
    b"PGCOPY\n\xff\r\n\0\0\1\0\0\0\0\0\0",
    b"PGCOPY\n\xff\r\n\0\0\2\0\0\0\0\0\0",
    b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\5ab",
    b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0\0\1",
    b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0\0\2\0\0\0\1a\0\0\0\5ab",
    b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0\0\2\0\0\0\1a\xff\xff\xff\xfe",
    b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0\xff\xffextra",
]


@pytest.mark.parametrize("data", BINARY_ERRORS)
def test_binary_errors_match_postgres(pg_oracle, data: bytes) -> None:
    _, error = postgres_copy_from(pg_oracle.dsn, "(format binary)", data)
    assert error, "PostgreSQL accepted it"
    parser = BinaryCopyInParser(("a", "b"), "t")
    with pytest.raises(PgError) as info:
        parser.feed(data)
        parser.finish()
    assert (info.value.sqlstate, info.value.message) == error[:2]
    assert (info.value.where or "") == error[2]


OPTION_ERRORS = [
    ("from", "(format binary, delimiter ',')", CopyOptions(format=CopyFormat.BINARY, delimiter=",")),
    ("from", "(format binary, null 'x')", CopyOptions(format=CopyFormat.BINARY, null="x")),
    ("from", "(delimiter 'ab')", CopyOptions(delimiter="ab")),
    ("from", "(delimiter E'\\n')", CopyOptions(delimiter="\n")),
    ("from", "(null E'a\\rb')", CopyOptions(null="a\rb")),
    ("from", "(delimiter 'x')", CopyOptions(delimiter="x")),
    ("from", "(delimiter '.')", CopyOptions(delimiter=".")),
    ("from", "(format binary, header)", CopyOptions(format=CopyFormat.BINARY, header=True)),
    ("to", "(format csv, header match)", CopyOptions(format=CopyFormat.CSV, header="match")),
    ("from", "(quote '\"')", CopyOptions(quote='"')),
    ("from", "(format csv, quote 'ab')", CopyOptions(format=CopyFormat.CSV, quote="ab")),
    ("from", "(format csv, quote ',')", CopyOptions(format=CopyFormat.CSV, quote=",")),
    ("from", "(escape '\\')", CopyOptions(escape="\\")),
    ("from", "(format csv, escape 'ab')", CopyOptions(format=CopyFormat.CSV, escape="ab")),
    ("to", "(force_quote (a))", CopyOptions(force_quote=frozenset({0}))),
    ("from", "(format csv, force_quote (a))", CopyOptions(format=CopyFormat.CSV, force_quote=frozenset({0}))),
    ("from", "(force_not_null (a))", CopyOptions(force_not_null=frozenset({0}))),
    ("to", "(format csv, force_not_null (a))", CopyOptions(format=CopyFormat.CSV, force_not_null=frozenset({0}))),
    ("from", "(force_null (a))", CopyOptions(force_null=frozenset({0}))),
    ("to", "(format csv, force_null (a))", CopyOptions(format=CopyFormat.CSV, force_null=frozenset({0}))),
    ("from", "(delimiter '|', null 'a|b')", CopyOptions(delimiter="|", null="a|b")),
    ("from", "(format csv, null 'a\"b')", CopyOptions(format=CopyFormat.CSV, null='a"b')),
]


@pytest.mark.parametrize(("direction", "options_sql", "options"), OPTION_ERRORS)
def test_option_errors_match_postgres(pg_oracle, direction: str, options_sql: str, options: CopyOptions) -> None:
    with psycopg.connect(pg_oracle.dsn, autocommit=True) as conn:
        conn.execute("create temp table t (a text, b text)")
        with pytest.raises(psycopg.Error) as theirs:
            conn.execute(f"copy t {direction} {'stdin' if direction == 'from' else 'stdout'} {options_sql}")
    with pytest.raises(PgError) as ours:
        options.validate(is_from=direction == "from")
    assert (ours.value.sqlstate, ours.value.message) == (theirs.value.diag.sqlstate,
                                                          theirs.value.diag.message_primary)
