"""Operators compared with PostgreSQL: results (as text), result types, and errors."""

from __future__ import annotations

import psycopg
import pytest

from pgaurora.errors import PgError
from tests.builtins.harness import ours, ours_type, sql_for, theirs, theirs_type
from tests.pgoracle import pg_error

OPS: list[tuple[str, str | None, str | None, str | None, str | None]] = [
    ("+", "int4", "1", "int4", "2"), ("+", "int2", "1", "int8", "2"), ("-", "int8", "5", "int4", "7"),
    ("*", "int2", "300", "int2", "100"), ("/", "int4", "-7", "int4", "2"), ("%", "int4", "-7", "int4", "2"),
    ("/", "int8", "9", "int2", "4"), ("+", None, "1", "int4", "2"), ("*", "float8", "0.1", "float8", "3"),
    ("/", "float8", "1", "float8", "3"), ("+", "float4", "0.1", "float4", "0.2"), ("+", "float4", "0.1", "float8", "0.2"),
    ("^", "float8", "2", "float8", "0.5"), ("+", "numeric", "1.50", "numeric", "2.125"),
    ("*", "numeric", "1.50", "numeric", "2.125"), ("/", "numeric", "10", "numeric", "3"),
    ("/", "numeric", "1", "numeric", "3.00000"), ("/", "numeric", "100000", "numeric", "7"),
    ("/", "numeric", "2", "numeric", "0.0003"), ("/", "numeric", "-5.5", "numeric", "1234567.891"),
    ("%", "numeric", "-7.5", "numeric", "2"), ("^", "numeric", "2", "numeric", "10"), ("^", "numeric", "2", "numeric", "0.5"),
    ("^", "numeric", "1.1", "numeric", "100"), ("/", "numeric", "1", "int4", "7"), ("+", "int4", "1", "numeric", "0.5"),
    ("+", "numeric", "NaN", "numeric", "1"), ("-", "numeric", "Infinity", "numeric", "Infinity"),
    ("&", "int4", "12", "int4", "10"), ("|", "int8", "12", "int8", "3"), ("#", "int2", "12", "int2", "10"),
    ("<<", "int4", "1", "int4", "31"), (">>", "int4", "-16", "int4", "2"), ("<<", "int2", "1", "int4", "15"),
    ("=", "int4", "1", "int8", "1"), ("<", "int2", "1", "numeric", "1.5"), ("=", "float8", "NaN", "float8", "NaN"),
    ("<", "float8", "1e308", "float8", "NaN"), ("=", "numeric", "NaN", "numeric", "NaN"),
    (">", "numeric", "NaN", "numeric", "1e100"), ("=", "numeric", "1.0", "numeric", "1.00"),
    ("=", "text", "abc", None, "abc"), ("<", "text", "B", "text", "a"), ("<", "text", "é", "text", "z"),
    ("=", "char(5)", "ab", "char(3)", "ab "), ("<", "varchar", "ab", "varchar", "abc"),
    ("=", "name", "x", "text", "x"), ("=", "date", "2024-01-02", "timestamp", "2024-01-02 00:00"),
    ("<", "date", "2024-01-02", "timestamptz", "2024-01-02 00:00:01+00"),
    ("=", "timestamp", "2024-01-02 03:00", "timestamptz", "2024-01-02 03:00+00"),
    ("=", "interval", "1 mon", "interval", "30 days"), ("<", "interval", "1 day", "interval", "23:59:59"),
    ("=", "bool", "t", None, "true"), ("<", "bool", "f", "bool", "t"), ("=", "bytea", "\\x01", "bytea", "\\x01"),
    ("=", "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", None, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
    ("=", "int4[]", "{1,2}", "int4[]", "{1,2}"), ("<", "int4[]", "{1,2}", "int4[]", "{1,3}"),
    ("<", "int4[]", "{1,NULL}", "int4[]", "{1,2}"), ("<", "int4[]", "{1,2}", "int4[]", "{1,2,0}"),
    ("||", "text", "a", "text", "b"), ("||", None, "a", None, "b"), ("||", "text", "x", "int4", "1"),
    ("||", "int4", "1", "text", "x"), ("||", "text", "x", "bool", "t"), ("||", "text", "x", "numeric", "1.50"),
    ("||", "int4[]", "{1,2}", "int4", "3"), ("||", "int4", "0", "int4[]", "{1,2}"),
    ("||", "int4[]", "{1,2}", "int4[]", "{3}"), ("||", "int4[]", "{{1,2}}", "int4[]", "{3,4}"),
    ("@>", "int4[]", "{1,2,3}", "int4[]", "{3,1}"), ("<@", "int4[]", "{1,NULL}", "int4[]", "{1,2}"),
    ("&&", "text[]", "{a,b}", "text[]", "{c,b}"),
    ("~~", "text", "hello", None, "h%o"), ("~~", "text", "h_llo", None, "h\\_llo"), ("~~*", "text", "HeLLo", None, "he%"),
    ("!~~", "text", "abc", None, "a_"), ("~~", "text", "a", None, "a\\"), ("~~", "text", "a%b", None, "a\\%b"), ("~", "text", "foobar", None, "o+b"), ("~*", "text", "FOO", None, "^fo+$"),
    ("!~", "text", "abc", None, "[[:digit:]]"), ("~", "text", "a\nb", None, "a.b"), ("~", "text", "word x", None, "\\mx"),
    ("-", "date", "2024-03-01", "date", "2024-01-01"), ("+", "date", "2024-01-31", "int4", "30"),
    ("-", "date", "2024-01-01", "int4", "1"), ("+", "date", "2024-01-01", "interval", "1 hour"),
    ("+", "date", "2024-01-01", "time", "03:04"), ("+", "timestamp", "2024-01-31", "interval", "1 month"),
    ("+", "timestamp", "2024-02-29", "interval", "1 year 1 day 01:00"), ("-", "timestamp", "2024-03-01", "timestamp", "2024-01-01 12:00"),
    ("-", "timestamp", "2024-01-01", "timestamp", "2024-03-01 12:00"),
    ("+", "timestamptz", "2024-03-09 12:00+00", "interval", "1 day"), ("-", "timestamptz", "2024-03-09 12:00+00", "interval", "1 mon"),
    ("-", "timestamptz", "2024-03-09 12:00+00", "timestamptz", "2024-03-08 11:00+05"),
    ("*", "interval", "1 mon", "float8", "1.5"), ("/", "interval", "1 day", "float8", "7"),
    ("*", "interval", "3 days 10:00", "float8", "0.3"), ("*", "float8", "2", "interval", "1 mon 1 day 01:00:01"),
    ("+", "interval", "1 day", "interval", "-02:00"), ("-", "interval", "1 mon", "interval", "1 day"),
    ("+", "time", "23:00", "interval", "2 hours"), ("-", "time", "01:00", "time", "03:30"),
    ("->", "jsonb", '{"a": [1, 2]}', None, "a"), ("->", "jsonb", "[1, 2, 3]", "int4", "-1"),
    ("->>", "jsonb", '{"a": "x"}', None, "a"), ("->>", "jsonb", '{"a": {"b": 1}}', None, "a"),
    ("#>", "jsonb", '{"a": [1, {"b": 2}]}', None, "{a,1,b}"), ("#>>", "jsonb", '{"a": [1, "z"]}', None, "{a,1}"),
    ("->", "json", '{"a": [1,  2], "b": {"c": "d"}}', None, "a"), ("->>", "json", '{"a": [1,  2], "b": {"c": "d"}}', None, "b"),
    ("->>", "json", '{"a": "\\u00e9"}', None, "a"), ("->", "json", "[1, 2]", "int4", "5"),
    ("@>", "jsonb", '{"a": {"b": 1, "c": 2}}', "jsonb", '{"a": {"b": 1}}'), ("<@", "jsonb", "[1]", "jsonb", "[1, 2]"),
    ("@>", "jsonb", "[1, [2, 3]]", "jsonb", "[[3]]"), ("@>", "jsonb", '["a"]', "jsonb", '"a"'),
    ("?", "jsonb", '{"a": 1}', None, "a"), ("?", "jsonb", '["a", 1]', None, "a"), ("?|", "jsonb", '{"a": 1}', "text[]", "{x,a}"),
    ("?&", "jsonb", '{"a": 1}', "text[]", "{x,a}"), ("||", "jsonb", '{"a": 1}', "jsonb", '{"b": 2, "a": 3}'),
    ("||", "jsonb", "[1, 2]", "jsonb", "3"), ("-", "jsonb", '{"a": 1, "b": 2}', None, "a"),
    ("-", "jsonb", "[1, 2, 3]", "int4", "-1"), ("-", "jsonb", '{"a": 1, "b": 2}', "text[]", "{a,b}"),
    ("#-", "jsonb", '{"a": [1, 2]}', "text[]", "{a,0}"), ("=", "jsonb", '{"a": 1.0}', "jsonb", '{"a": 1}'),
    ("<", "jsonb", "[1]", "jsonb", '{"a": 1}'),
    ("~~*", "text", "É", None, "é"), ("~*", "text", "É", None, "é"), ("~", "text", "é", None, "^\\w$"),
    ("~", "text", "abd", "text", "^(?:a(b|d)*)$"), ("+", None, "1", "numeric", "1.5"), ("*", "numeric", "2.5", None, "2"),
    ("=", None, "abc", None, "abc"), ("<", None, "abc", None, "abd"), ("&", "bit(4)", "1100", "bit(4)", "1010"),
    ("|", "bit(4)", "1100", "bit(4)", "1010"), ("#", "bit(4)", "1100", "bit(4)", "1010"), ("<<", "bit(4)", "1100", "int4", "1"),
    (">>", "bit(4)", "1100", "int4", "3"), ("||", "bit(2)", "11", "bit(1)", "0"), ("<", "varbit", "01", "varbit", "011"), ("=", "regtype", "integer", "regtype", "int4"),
]


def _args(case: tuple[str, str | None, str | None, str | None, str | None]) -> tuple[str, list[tuple[str | None, str | None]]]:
    name, lt, lv, rt, rv = case
    return name, [(lt, lv), (rt, rv)]


@pytest.mark.parametrize("case", OPS, ids=lambda c: f"{c[1]} {c[0]} {c[3]}")
def test_operator_matches_postgres(oracle_conn: psycopg.Connection, case: tuple) -> None:
    name, args = _args(case)
    assert ours(name, args, "operator") == theirs(oracle_conn, name, args, "operator"), sql_for(name, args, "operator")
    assert ours_type(name, args, "operator") == theirs_type(oracle_conn, name, args, "operator")


PREFIX: list[tuple[str, str, str]] = [
    ("-", "int4", "5"), ("-", "numeric", "0.00"), ("@", "int8", "-3"), ("-", "interval", "1 day -02:00"),
    ("~", "int4", "5"), ("|/", "float8", "16"), ("-", "float8", "0"),
]


@pytest.mark.parametrize("case", PREFIX, ids=lambda c: f"{c[0]} {c[1]}")
def test_prefix_operator_matches_postgres(oracle_conn: psycopg.Connection, case: tuple[str, str, str]) -> None:
    name, sql_type, value = case
    args: list[tuple[str | None, str | None]] = [(sql_type, value)]
    assert ours(name, args, "operator") == theirs(oracle_conn, name, args, "operator")


ERRORS: list[tuple[str, str | None, str | None, str | None, str | None]] = [
    ("+", "int4", "2147483647", "int4", "1"), ("*", "int2", "300", "int2", "300"), ("-", "int8", "-9223372036854775808", "int8", "1"),
    ("/", "int4", "1", "int4", "0"), ("%", "int8", "1", "int8", "0"), ("/", "int4", "-2147483648", "int4", "-1"),
    ("/", "float8", "1", "float8", "0"), ("*", "float8", "1e308", "float8", "10"), ("*", "float8", "1e-308", "float8", "1e-308"),
    ("/", "numeric", "1", "numeric", "0"), ("^", "float8", "0", "float8", "-1"), ("^", "numeric", "-8", "numeric", "0.5"),
    ("~~", "text", "ab", None, "a\\"), ("~", "text", "a", None, "("), ("~", "text", "a", None, "[a"),
    ("~", "text", "a", None, "*a"), ("=", "int4", "1", "text", "1"),
    ("||", "int4[]", "{{1,2}}", "int4[]", "{{3}}"), ("=", "regtype", "integer", None, "int4"),
    ("&", "bit(2)", "01", "bit(3)", "011"), ("-", "jsonb", '"a"', None, "a"), ("+", "date", "2024-01-01", "date", "2024-01-02"),
]


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: f"{c[1]} {c[0]} {c[3]}")
def test_operator_errors_match_postgres(oracle_conn: psycopg.Connection, case: tuple) -> None:
    name, args = _args(case)
    sqlstate, message = pg_error(oracle_conn, sql_for(name, args, "operator"))
    with pytest.raises(PgError) as info:
        ours(name, args, "operator")
    assert (info.value.sqlstate, info.value.message) == (sqlstate, message)


RESOLUTION: list[tuple[str, list[tuple[str | None, str | None]], str]] = [
    ("+", [(None, "1"), (None, "1")], "operator"), ("array_append", [("int4[]", "{1}"), ("int8", "2")], "function"),
    ("array_cat", [("int4[]", "{1}"), ("numeric[]", "{1.5}")], "function"), ("||", [("int4[]", "{1}"), (None, "{2}")], "operator"),
    ("coalesce_placeholder", [], "function"), ("abs", [(None, "-1")], "function"), ("length", [("varchar", "ab")], "function"),
    ("-", [("date", "2024-01-02"), (None, "1")], "operator"), ("+", [("timestamp", "2024-01-02"), (None, "1 day")], "operator"),
    ("<", [("date", "2024-01-02"), (None, "2024-01-03 10:00")], "operator"), ("~~", [("varchar", "ab"), (None, "a%")], "operator"),
    ("=", [("int8", "1"), (None, "1")], "operator"), ("*", [("int2", "2"), ("int4", "3")], "operator"),
    ("round", [("int8", "3"), ("int4", "1")], "function"), ("sum_placeholder", [], "function"),
]
RESOLUTION = [r for r in RESOLUTION if not r[0].endswith("placeholder")]


@pytest.mark.parametrize(("name", "args", "kind"), RESOLUTION, ids=lambda x: x if isinstance(x, str) else "")
def test_resolution_matches_postgres(oracle_conn: psycopg.Connection, name: str, args: list, kind: str) -> None:
    try:
        expected = theirs_type(oracle_conn, name, args, kind)
    except psycopg.Error as exc:
        with pytest.raises(PgError) as info:
            ours(name, args, kind)
        assert (info.value.sqlstate, info.value.message) == (exc.diag.sqlstate, exc.diag.message_primary)
        return
    assert ours_type(name, args, kind) == expected
    assert ours(name, args, kind) == theirs(oracle_conn, name, args, kind)
