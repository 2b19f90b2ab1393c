"""Binary send/receive compared byte for byte with PostgreSQL's typsend functions."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgaurora import datatypes
from tests.datatypes.test_text_io import CASES, _resolve


def _pg_send(conn: psycopg.Connection, type_sql: str, text: str) -> bytes:
    info, _ = _resolve(type_sql)
    send = info.send if not info.is_array else "array_send"
    row = conn.execute(f"SELECT {send}(%s::{type_sql})", (text,)).fetchone()
    assert row is not None
    return bytes(row[0])


SKIP_BINARY = {"json"}  # json_send is the text itself; covered by text tests


@pytest.mark.parametrize(("type_sql", "text"), [c for c in CASES if c[0] not in SKIP_BINARY])
def test_send_matches_postgres(oracle_conn: psycopg.Connection, type_sql: str, text: str) -> None:
    info, typmod = _resolve(type_sql)
    value = datatypes.text_decoder(info.oid, typmod)(text)
    expected = _pg_send(oracle_conn, type_sql, text)
    assert datatypes.binary_encoder(info.oid)(value) == expected
    back = datatypes.binary_decoder(info.oid)(expected)
    encode = datatypes.text_encoder(info.oid)
    assert encode(back) == encode(value)


def _check(conn: psycopg.Connection, type_sql: str, text: str) -> None:
    info, typmod = _resolve(type_sql)
    cur = conn.cursor(binary=False)
    cur.execute(f"SELECT %s::{type_sql}", (text,))
    assert cur.pgresult is not None
    raw = cur.pgresult.get_value(0, 0)
    assert raw is not None
    value = datatypes.text_decoder(info.oid, typmod)(text)
    assert datatypes.text_encoder(info.oid)(value) == bytes(raw).decode()
    assert datatypes.binary_encoder(info.oid)(value) == _pg_send(conn, type_sql, text)


_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_int8_hypothesis(oracle_conn: psycopg.Connection, value: int) -> None:
    _check(oracle_conn, "int8", str(value))


@_SETTINGS
@given(st.floats(allow_nan=False, allow_infinity=True))
def test_float8_hypothesis(oracle_conn: psycopg.Connection, value: float) -> None:
    _check(oracle_conn, "float8", repr(value).replace("inf", "Infinity"))


@_SETTINGS
@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_float4_hypothesis(oracle_conn: psycopg.Connection, value: float) -> None:
    if value != 0 and abs(value) < 1.2e-38:
        return  # subnormal float4 input goes through strtof in PostgreSQL; double rounding may differ
    _check(oracle_conn, "float4", repr(value))


@_SETTINGS
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d.adjusted()) < 60))
def test_numeric_hypothesis(oracle_conn: psycopg.Connection, value: Decimal) -> None:
    _check(oracle_conn, "numeric", str(value))


@_SETTINGS
@given(st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30)))
def test_timestamp_hypothesis(oracle_conn: psycopg.Connection, value: datetime.datetime) -> None:
    _check(oracle_conn, "timestamp", value.isoformat(sep=" "))
    _check(oracle_conn, "timestamptz", value.isoformat(sep=" ") + "+03:30")
    _check(oracle_conn, "date", value.date().isoformat())
    _check(oracle_conn, "time", value.time().isoformat())


@_SETTINGS
@given(st.tuples(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-(10**12), 10**12)))
def test_interval_hypothesis(oracle_conn: psycopg.Connection, parts: tuple[int, int, int]) -> None:
    value = datatypes.Interval(*parts)
    text = datatypes.text_encoder(1186)(value)
    _check(oracle_conn, "interval", text)
    assert datatypes.text_decoder(1186)(text).identical(value)


_ELEMENT = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                        max_size=8))


@_SETTINGS
@given(st.lists(_ELEMENT, max_size=6))
def test_text_array_hypothesis(oracle_conn: psycopg.Connection, value: list[str | None]) -> None:
    text = datatypes.text_encoder(1009)(value)
    assert datatypes.text_decoder(1009)(text) == value
    _check(oracle_conn, "text[]", text)


@_SETTINGS
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), min_size=2, max_size=2),
                min_size=1, max_size=3))
def test_int4_2d_array_hypothesis(oracle_conn: psycopg.Connection, value: list[list[int | None]]) -> None:
    text = datatypes.text_encoder(1007)(value)
    assert datatypes.text_decoder(1007)(text) == value
    _check(oracle_conn, "int4[]", text)


def test_float_specials_binary() -> None:
    send = datatypes.binary_encoder(701)
    recv = datatypes.binary_decoder(701)
    assert math.isnan(recv(send(math.nan)))
    assert recv(send(-math.inf)) == -math.inf
