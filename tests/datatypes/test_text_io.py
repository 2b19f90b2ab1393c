"""Text input/output of every type compared with PostgreSQL 15's, values and errors."""

from __future__ import annotations

import psycopg
import pytest

from pgaurora import datatypes
from pgaurora.errors import PgError
from tests.pgoracle import pg_error, pg_text

CASES: list[tuple[str, str]] = [
    ("int2", "12"), ("int2", " -32768 "), ("int4", "+2147483647"), ("int4", "-0"), ("int8", "9223372036854775807"),
    ("oid", "4294967295"), ("oid", "-1"),
    ("float8", "0.1"), ("float8", "1e20"), ("float8", "1e15"), ("float8", "123456789012345"),
    ("float8", "1234567890123456"), ("float8", "1e-5"), ("float8", "0.0001"), ("float8", "-0"),
    ("float8", "NaN"), ("float8", "-inf"), ("float8", "Infinity"), ("float8", "1e-310"), ("float8", "3.141592653589793"),
    ("float8", "2.5e-7"), ("float8", "0x10"), ("float8", "-0x1p3"), ("float8", "1.7976931348623157e308"), ("float8", "  5  "),
    ("float4", "0.1"), ("float4", "1e6"), ("float4", "123456"), ("float4", "1234567"), ("float4", "3.14159265"),
    ("float4", "1e-45"), ("float4", "-1.5e-7"), ("float4", "3.4028235e38"),
    ("numeric", "1.50"), ("numeric", "1e2"), ("numeric", "1.5e1"), ("numeric", " -0.00 "), ("numeric", ".5"),
    ("numeric", "5."), ("numeric", "inf"), ("numeric", "-Infinity"), ("numeric", "nan"),
    ("numeric", "123456789012345678901234567890.123456789"), ("numeric", "1e-20"),
    ("numeric", "1e1000"), ("numeric", "-25e998"), ("numeric", "0e999999"), ("numeric", "1e-16383"),
    ("jsonb", "[1e1000, 0e-16383]"),
    ("numeric(5,2)", "123.456"), ("numeric(5,2)", "-1.005"), ("numeric(3,-1)", "1234"),
    ("bool", "t"), ("bool", "yes"), ("bool", " OFF "), ("bool", "0"), ("bool", "tr"),
    ("text", "héllo wörld"), ("varchar(3)", "ab "), ("varchar(3)", "abc   "), ("char(3)", "a"), ("char(2)", "ab   "),
    ("name", "x" * 70), ('"char"', "abc"),
    ("bytea", "\\x0102ff"), ("bytea", "abc\\\\def\\001"), ("bytea", "\\x 01 02"),
    ("date", "2024-01-02"), ("date", "Jan 2 2024"), ("date", "01/02/2024"), ("date", "20240102"),
    ("date", "2024.01.02"), ("date", "2 Jan 2024"), ("date", "2024-Jan-02"), ("date", "12/31/99"),
    ("date", "1/2/70"), ("date", "infinity"), ("date", "-infinity"), ("date", "epoch"), ("date", "2024-01-02 03:04"),
    ("date", "February 29, 2024"), ("date", "990108"), ("date", "J2451187"), ("date", "1999.008"), ("date", "2024 01 02"),
    ("date", "9999-12-31"), ("date", "0001-01-01"), ("timestamp", "2024-01-02 allballs"), ("timestamp", "19990108 040506"),
    ("time", "03:04:05"), ("time", "04:05 PM"), ("time", "12:00 am"), ("time", "03:04:05.1234567"), ("time", "040506"),
    ("time", "allballs"), ("time(2)", "03:04:05.125"), ("time", "2024-01-02 03:04"),
    ("timetz", "03:04:05+05:30"), ("timetz", "03:04:05.5 +02"), ("timetz", "03:04:05 UTC"),
    ("timestamp", "2024-01-02 03:04:05"), ("timestamp", "2024-01-02T03:04:05Z"), ("timestamp", "epoch"),
    ("timestamp", "20240102T030405"), ("timestamp", "Jan 2, 2024 3:00 pm"), ("timestamp", "2024-01-02 24:00:00"),
    ("timestamp", "2024-01-02 23:59:60"), ("timestamp", "Tue Jan 02 03:04:05 2024"), ("timestamp", "infinity"),
    ("timestamp", "-infinity"), ("timestamp", "2024-01-02 03:04:05.1234565"), ("timestamp(0)", "2024-01-02 03:04:05.5"),
    ("timestamp(3)", "2024-01-02 03:04:05.1235"), ("timestamp", "0001-01-01 00:00:01"), ("timestamp", "9999-12-31 23:59:59"),
    ("timestamptz", "2024-01-02 03:04:05.123456+05:30"), ("timestamptz", "2024-01-02 03:04:05"),
    ("timestamptz", "2024-01-02 03:04:05 America/New_York"), ("timestamptz", "2024-07-02 03:04:05 EST"),
    ("timestamptz", "2024-01-02 03:04:05-0830"), ("timestamptz", "2024-07-01 12:00 Europe/Paris"),
    ("timestamptz", "infinity"), ("timestamptz", "1999-12-31 23:59:59.999999-01"),
    ("interval", "1 year 2 mons 3 days 04:05:06.5"), ("interval", "1.5 months"), ("interval", "1.5 days"),
    ("interval", "-1 days +02:00:00"), ("interval", "P1Y2M3DT4H5M6.5S"), ("interval", "@ 1 day 2 hours ago"),
    ("interval", "1:30"), ("interval", "10"), ("interval", "1 week"), ("interval", "1.5 years"), ("interval", "-1:30:00"),
    ("interval", "1 day -1 hour"), ("interval", "0"), ("interval", "1 mon -1 day"), ("interval", "3 centuries 1 decade"),
    ("interval", "100 ms"), ("interval", "1 yr 2 hrs 3 mins 4 secs"), ("interval", "P0D"), ("interval", "PT1.5H"),
    ("interval", "-2 years -3 mons"), ("interval", "1 day 02:03"), ("interval", "1.5"), ("interval", "0.7 sec"),
    ("interval", "1 hour -30 minutes"), ("interval", "1-2"), ("interval", "-1-2"), ("interval", "3 4:05:06"),
    ("interval", "1-2 3 4:05:06.5"), ("interval", "-3 4:05:06"), ("interval", "-1 year -2 mons +3 days -04:05:06"), ("interval", "25 hours"),
    ("uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), ("uuid", "{a0eebc999c0b4ef8bb6d6bb9bd380a11}"),
    ("uuid", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"),
    ("json", '{"b": 1,  "a" : [1, 2.50]}'), ("jsonb", '{"b": 1, "a": [1, 2.50], "aa": null, "a": true}'),
    ("jsonb", '"h\\u00e9\\n"'), ("jsonb", "1e2"), ("jsonb", "-0.0"), ("jsonb", '{"ccc":1,"bb":2,"a":3,"B":4}'),
    ("jsonb", "[]"), ("jsonb", "{}"), ("jsonb", '[1, "a", {"x": [false]}]'), ("jsonb", "12345678901234567890"),
    ("int4[]", "{1,2,NULL}"), ("int4[]", "{}"), ("int4[]", " { 1 , 2 } "), ("int4[]", "{{1,2},{3,4}}"),
    ("int4[]", "[1:2]={5,6}"), ("text[]", '{"a b","x\\"y",NULL,"",null,"NULL"}'),
    ("text[]", "{a\\,b,\\\"c,  d  e  }"), ("text[]", '{"{}","a\\\\b"}'), ("float8[]", "{1.5,NaN,-Infinity}"),
    ("numeric[]", "{1.50,2}"), ("bool[]", "{t,f,NULL}"), ("date[]", "{2024-01-02,infinity}"),
    ("timestamptz[]", '{"2024-01-02 03:04:05+01"}'), ("varchar(2)[]", "{ab,c}"), ("jsonb[]", '{"{\\"a\\": 1}"}'),
    ("uuid[]", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"), ("bytea[]", '{"\\\\x01"}'), ("interval[]", '{"1 day"}'),
    ("bit(4)", "0101"), ("varbit", "x1F"), ("varbit(5)", "101"), ("bit varying", ""), ("bit(3)[]", "{101,010}"),
    ("oidvector", "1 2  3"), ("int2vector", "1 2"), ("tid", "(1,2)"), ("pg_lsn", "16/B374D848"), ("xid", "123"),
]


def _ours(type_sql: str, text: str) -> str:
    info, typmod = _resolve(type_sql)
    value = datatypes.text_decoder(info.oid, typmod)(text)
    return datatypes.text_encoder(info.oid)(value)


def _resolve(type_sql: str) -> tuple[datatypes.TypeInfo, int]:
    """Map the SQL type spellings used here to (TypeInfo, typmod)."""
    base, _, mod = type_sql.partition("(")
    suffix = "[]" if type_sql.endswith("[]") else ""
    if mod:
        args = mod.split(")")[0].split(",")
        name = base.strip()
        if name == "numeric":
            scale = int(args[1]) if len(args) > 1 else 0
            typmod = ((int(args[0]) << 16) | (scale & 0x7FF)) + 4
        elif name in ("varchar", "char"):
            typmod = int(args[0]) + 4
            name = "bpchar" if name == "char" else name
        elif name in ("bit", "varbit"):
            typmod = int(args[0])
        else:
            typmod = int(args[0])
        return datatypes.lookup_name(name + suffix), typmod
    if type_sql == '"char"':
        return datatypes.lookup(18), -1
    return datatypes.lookup_name(type_sql), -1


@pytest.mark.parametrize(("type_sql", "text"), CASES)
def test_text_round_trip_matches_postgres(oracle_conn: psycopg.Connection, type_sql: str, text: str) -> None:
    expected = pg_text(oracle_conn, f"SELECT %s::{type_sql}", text)
    assert _ours(type_sql, text) == expected


BAD_CASES: list[tuple[str, str]] = [
    ("int4", "abc"), ("int4", "99999999999"), ("int2", "40000"), ("int8", "1_000"), ("int4", ""), ("int4", "1.5"),
    ("int8", "99999999999999999999"), ("oid", "x"),
    ("float8", "abc"), ("float8", "1e400"), ("float8", "1e-400"), ("float4", "1e39"), ("float4", "1e-50"), ("float4", "1e400"), ("float8", "1e-310x"),
    ("float8", " "), ("float8", "1.5.5"), ("float8", "0xZ"), ("float4", "-1e39"),
    ("numeric", "abc"), ("numeric", "1.2.3"), ("numeric", "1e131072"), ("numeric", "1e-16384"),
    ("numeric", "0e-20000"), ("numeric", "0e2000000000"), ("jsonb", "{\"a\": 1e131072}"), ("numeric(5,2)", "1000"), ("numeric(3,2)", "-9.999"),
    ("numeric(4,2)", "Infinity"), ("bool", "maybe"), ("bool", "o"),
    ("bytea", "\\x123"), ("bytea", "\\xzz"), ("bytea", "a\\b"),
    ("date", "xyz"), ("date", "2024-02-30"), ("date", "13/01/2024"), ("timestamp", "2024-01-02 25:00"),
    ("timestamp", "2024-13-01"), ("timestamptz", "garbage"), ("time", "25:00"), ("time", "abc"),
    ("interval", "abc"), ("interval", "1 day 1 day"), ("interval", "1 fortnight"),
    ("uuid", "xyz"), ("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"),
    ("json", "{"), ("json", "[1,]"), ("jsonb", "nope"), ("jsonb", "NaN"),
    ("varbit", "012"), ("varbit", "xZZ"),
    ("int4[]", "{1,2"), ("int4[]", "1,2"), ("int4[]", "{{1,2},{3}}"), ("int4[]", "{1,a}"), ("int4[]", "{1}}"),
]


@pytest.mark.parametrize(("type_sql", "text"), BAD_CASES)
def test_bad_input_errors_match_postgres(oracle_conn: psycopg.Connection, type_sql: str, text: str) -> None:
    sqlstate, message = pg_error(oracle_conn, f"SELECT %s::{type_sql}", text)
    with pytest.raises(PgError) as info:
        _ours(type_sql, text)
    assert (info.value.sqlstate, info.value.message) == (sqlstate, message)


def test_timezone_setting_changes_timestamptz_output(oracle_conn: psycopg.Connection) -> None:
    ctx = datatypes.FormatContext(timezone="America/New_York")
    value = datatypes.text_decoder(1184, -1, ctx)("2024-07-01 12:00:00")
    oracle_conn.execute("SET TimeZone = 'America/New_York'")
    try:
        expected = pg_text(oracle_conn, "SELECT CAST('2024-07-01 12:00:00'::timestamptz AS text)")
        utc = pg_text(oracle_conn, "SELECT CAST(CAST('2024-07-01 12:00:00'::timestamptz AS timestamp) AS text)")
    finally:
        oracle_conn.execute("SET TimeZone = 'UTC'")
    assert datatypes.text_encoder(1184, ctx)(value) == expected
    assert utc == "2024-07-01 12:00:00"
    assert datatypes.text_encoder(1184)(value) == "2024-07-01 16:00:00+00"


def test_extra_float_digits_zero(oracle_conn: psycopg.Connection) -> None:
    ctx = datatypes.FormatContext(extra_float_digits=0)
    oracle_conn.execute("SET extra_float_digits = 0")
    try:
        for text in ("0.1", "3.141592653589793", "1e20", "2.0000000000000004"):
            expected = pg_text(oracle_conn, "SELECT CAST(%s::float8 AS text)", text)
            assert datatypes.text_encoder(701, ctx)(float(text)) == expected
    finally:
        oracle_conn.execute("SET extra_float_digits = 1")


def test_bytea_escape_output(oracle_conn: psycopg.Connection) -> None:
    ctx = datatypes.FormatContext(bytea_output="escape")
    value = bytes(range(0, 256, 7)) + b"\\"
    oracle_conn.execute("SET bytea_output = 'escape'")
    try:
        expected = pg_text(oracle_conn, "SELECT CAST(%s::bytea AS text)", "\\x" + value.hex())
    finally:
        oracle_conn.execute("SET bytea_output = 'hex'")
    assert datatypes.text_encoder(17, ctx)(value) == expected


@pytest.mark.parametrize("style", ["iso_8601", "sql_standard", "postgres_verbose"])
def test_intervalstyles(oracle_conn: psycopg.Connection, style: str) -> None:
    oracle_conn.execute(f"SET IntervalStyle = '{style}'")
    try:
        for text in ("1 year 2 mons 3 days 04:05:06.5", "0", "-1 days +02:00:00", "-00:00:01.5", "-1 year -2 mons",
                     "1 day", "1 mon -1 day", "3 days -04:00", "-3 days -04:05:06", "25:00:00", "1 year", "-1 mons",
                     "00:00:01", "-00:00:01", "1 min 1 sec"):
            expected = pg_text(oracle_conn, "SELECT CAST(%s::interval AS text)", text)
            value = datatypes.text_decoder(1186)(text)
            assert datatypes.text_encoder(1186, datatypes.FormatContext(intervalstyle=style))(value) == expected, text
    finally:
        oracle_conn.execute("SET IntervalStyle = 'postgres'")


@pytest.mark.parametrize(("type_sql", "text"), [("varchar(3)", "abcd"), ("char(2)", "abc"), ("numeric(4,1)", "1000"),
                                                   ("bit(3)", "01"), ("varbit(2)", "011")])
def test_assignment_typmod_errors_match_postgres(oracle_conn: psycopg.Connection, type_sql: str, text: str) -> None:
    oracle_conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS typmod_{type_sql.split('(')[0]} (v {type_sql})")
    sqlstate, message = pg_error(oracle_conn, f"INSERT INTO typmod_{type_sql.split('(')[0]} VALUES (%s)", text)
    with pytest.raises(PgError) as info:
        _ours(type_sql, text)
    assert (info.value.sqlstate, info.value.message) == (sqlstate, message)


def test_explicit_cast_truncates_strings() -> None:
    assert datatypes.cast("abcd", 25, 1043, typmod=7) == "abc"
    assert datatypes.cast("abcd", 25, 1042, typmod=6) == "ab"
    assert datatypes.cast("a", 25, 1042, typmod=7) == "a  "


@pytest.mark.parametrize("style", ["SQL, MDY", "SQL, DMY", "Postgres, MDY", "Postgres, DMY", "German", "ISO, DMY"])
def test_datestyle_output_and_input(oracle_conn: psycopg.Connection, style: str) -> None:
    ctx = datatypes.FormatContext(datestyle=style, timezone="America/New_York")
    oracle_conn.execute(f"SET DateStyle = '{style}'")
    oracle_conn.execute("SET TimeZone = 'America/New_York'")
    try:
        for type_sql, text in (("date", "2024-03-05"), ("timestamp", "2024-03-05 14:07:09.5"),
                               ("timestamptz", "2024-03-05 14:07:09.5+00"), ("timestamptz", "2024-07-05 14:07:09+00"),
                               ("date", "infinity"), ("date", "01/02/2024"), ("timestamp", "03/04/2024 05:06")):
            expected = pg_text(oracle_conn, f"SELECT %s::{type_sql}", text)
            oid = datatypes.lookup_name(type_sql).oid
            assert datatypes.text_encoder(oid, ctx)(datatypes.text_decoder(oid, -1, ctx)(text)) == expected
    finally:
        oracle_conn.execute("SET DateStyle = 'ISO, MDY'")
        oracle_conn.execute("SET TimeZone = 'UTC'")
