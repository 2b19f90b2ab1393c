"""Casts compared with PostgreSQL: results of CAST(value AS type), errors, and cast contexts."""

from __future__ import annotations

import psycopg
import pytest

from pgaurora import datatypes
from pgaurora.datatypes import CastContext
from pgaurora.errors import PgError
from tests.datatypes.test_text_io import _resolve
from tests.pgoracle import pg_error, pg_text

CASTS: list[tuple[str, str, str]] = [
    ("float8", "2.5", "int4"), ("float8", "3.5", "int4"), ("float8", "-2.5", "int4"), ("float8", "-0.5", "int8"),
    ("numeric", "2.5", "int4"), ("numeric", "-2.5", "int4"), ("numeric", "2.4999", "int2"),
    ("float8", "0.333333333333333314829616256247", "numeric"), ("float4", "0.1", "numeric"), ("float8", "1e20", "numeric"),
    ("float8", "NaN", "numeric"), ("float8", "-Infinity", "numeric"), ("numeric", "1.5", "float8"),
    ("numeric", "0.1", "float4"), ("numeric", "NaN", "float8"), ("int4", "12", "float4"), ("int8", "9007199254740993", "float8"),
    ("int8", "16777217", "float4"), ("bool", "t", "int4"), ("int4", "7", "bool"), ("int4", "0", "bool"),
    ("bool", "false", "text"), ("int4", "65", '"char"'), ("text", "abc", '"char"'), ('"char"', "A", "int4"),
    ("char(5)", "ab", "text"), ("char(5)", "ab", "varchar"), ("text", "abcdef", "varchar(3)"), ("text", "ab", "char(4)"),
    ("text", "12", "int4"), ("text", " 1.50 ", "numeric(4,1)"), ("int4", "42", "text"), ("float8", "0.1", "text"),
    ("numeric", "1.50", "varchar"), ("date", "2024-01-02", "timestamp"), ("date", "2024-01-02", "timestamptz"),
    ("timestamp", "2024-01-02 03:04:05", "date"), ("timestamptz", "2024-01-02 23:04:05-05", "date"),
    ("timestamptz", "2024-01-02 23:04:05-05", "timestamp"), ("timestamp", "2024-01-02 23:04:05", "timestamptz"),
    ("timestamp", "2024-01-02 23:04:05.678", "time"), ("interval", "1 day 03:04:05", "time"), ("time", "03:04:05", "interval"),
    ("timestamptz", "2024-01-02 23:04:05.678", "timestamptz(1)"), ("timestamp", "2024-01-02 03:04:05.5", "timestamp(0)"),
    ("jsonb", "1.5", "int4"), ("jsonb", "true", "bool"), ("jsonb", "12.25", "numeric"), ("jsonb", "12.25", "float8"),
    ("json", '{"b":1, "a":2}', "jsonb"), ("jsonb", '{"b":1, "a":2}', "json"), ("jsonb", '{"b":1}', "text"),
    ("int4[]", "{1,2,NULL}", "int8[]"), ("int4[]", "{1,2}", "text[]"), ("text[]", "{1,2}", "int4[]"),
    ("numeric[]", "{1.5,2.5}", "int4[]"), ("int4[]", "{1,2}", "text"), ("oid", "4294967295", "int4"), ("int8", "12", "oid"),
    ("int4", "-1", "oid"), ("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "text"), ("text", "1 day", "interval"),
    ("interval", "1 mon 2 days", "text"), ("bytea", "\\x0102", "text"), ("numeric", "123.456", "numeric(5,1)"),
    ("int4", "12345", "numeric(7,2)"), ("varchar", "x", "name"), ("int4", "5", "bit(4)"), ("int4", "-1", "bit(6)"),
    ("bit(4)", "0101", "int4"), ("text", "1010", "bit(8)"), ("varbit", "0101", "varbit(3)"), ("bit(4)", "1111", "int8"),
]


@pytest.mark.parametrize(("source", "text", "target"), CASTS)
def test_cast_matches_postgres(oracle_conn: psycopg.Connection, source: str, text: str, target: str) -> None:
    expected = pg_text(oracle_conn, f"SELECT CAST(%s::{source} AS {target})", text)
    src, src_mod = _resolve(source)
    dst, dst_mod = _resolve(target)
    value = datatypes.text_decoder(src.oid, src_mod)(text)
    result = datatypes.cast(value, src.oid, dst.oid, dst_mod)
    assert datatypes.text_encoder(dst.oid)(result) == expected


BAD_CASTS: list[tuple[str, str, str]] = [
    ("int4", "70000", "int2"), ("int8", "9999999999", "int4"), ("float8", "1e10", "int4"), ("float8", "NaN", "int4"),
    ("numeric", "NaN", "int4"), ("numeric", "Infinity", "int8"), ("numeric", "99999", "int2"),
    ("float8", "1e300", "float4"), ("float8", "1e-300", "float4"), ("int4", "300", '"char"'),
    ("jsonb", '"a"', "int4"), ("jsonb", "[1]", "int4"), ("jsonb", "1", "bool"), ("text", "abc", "int4"),
    ("numeric", "1000", "numeric(4,1)"), ("int8", "-9999999999", "oid"),
]


@pytest.mark.parametrize(("source", "text", "target"), BAD_CASTS)
def test_cast_errors_match_postgres(oracle_conn: psycopg.Connection, source: str, text: str, target: str) -> None:
    sqlstate, message = pg_error(oracle_conn, f"SELECT CAST(%s::{source} AS {target})", text)
    src, src_mod = _resolve(source)
    dst, dst_mod = _resolve(target)
    value = datatypes.text_decoder(src.oid, src_mod)(text)
    with pytest.raises(PgError) as info:
        datatypes.cast(value, src.oid, dst.oid, dst_mod)
    assert (info.value.sqlstate, info.value.message) == (sqlstate, message)


def test_cast_contexts_follow_pg_cast() -> None:
    assert datatypes.cast_context(23, 20) == CastContext.IMPLICIT
    assert datatypes.cast_context(20, 23) == CastContext.ASSIGNMENT
    assert datatypes.cast_context(23, 16) == CastContext.EXPLICIT
    assert datatypes.cast_context(23, 25) == CastContext.ASSIGNMENT  # I/O cast to a string type
    assert datatypes.cast_context(25, 23) == CastContext.EXPLICIT  # I/O cast from a string type
    assert datatypes.cast_context(705, 1082) == CastContext.IMPLICIT
    assert datatypes.cast_context(1007, 1016) == CastContext.IMPLICIT  # int4[] -> int8[]
    assert datatypes.cast_context(1082, 23) is None
    assert datatypes.can_coerce(21, 1700)
    assert not datatypes.can_coerce(1700, 23)
    assert datatypes.can_coerce(1700, 23, CastContext.ASSIGNMENT)
    assert datatypes.cast_function(1082, 23) is None
    assert datatypes.type_category(23) == "N" and datatypes.is_preferred(701) and not datatypes.is_preferred(23)


def test_cast_contexts_match_pg_catalog(oracle_conn: psycopg.Connection) -> None:
    rows = oracle_conn.execute("SELECT castsource::int, casttarget::int, castcontext FROM pg_cast").fetchall()
    checked = 0
    for source, target, context in rows:
        if datatypes.find(source) is None or datatypes.find(target) is None:
            continue
        assert datatypes.cast_context(source, target) == {"i": 0, "a": 1, "e": 2}[context], (source, target)
        checked += 1
    assert checked > 150


def test_session_dependent_casts() -> None:
    assert datatypes.cast_depends_on_session(1184, 1082)
    assert datatypes.cast_depends_on_session(1184, 25)
    assert datatypes.cast_depends_on_session(705, 1184)
    assert datatypes.cast_depends_on_session(701, 25)
    assert datatypes.cast_depends_on_session(1185, 1009)
    assert not datatypes.cast_depends_on_session(23, 20)
    assert not datatypes.cast_depends_on_session(23, 25)
    assert not datatypes.cast_depends_on_session(1114, 1082)
