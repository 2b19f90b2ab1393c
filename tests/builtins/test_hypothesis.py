"""Property tests: random operands through pgaurora's operators and functions versus PostgreSQL."""

from __future__ import annotations

import datetime
from decimal import Decimal

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builtins.harness import ours, theirs

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_NUMERIC = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=None).filter(
    lambda d: d.as_tuple().exponent >= -12)  # type: ignore[operator]


def _same(conn: psycopg.Connection, name: str, args: list[tuple[str | None, str | None]], kind: str) -> None:
    try:
        expected = theirs(conn, name, args, kind)
    except psycopg.Error:
        return  # errors are compared in the example-based tests
    assert ours(name, args, kind) == expected, (name, args)


@_SETTINGS
@given(_NUMERIC, _NUMERIC)
def test_numeric_arithmetic(oracle_conn: psycopg.Connection, a: Decimal, b: Decimal) -> None:
    for op in ("+", "-", "*", "/", "%"):
        _same(oracle_conn, op, [("numeric", str(a)), ("numeric", str(b))], "operator")


@_SETTINGS
@given(_NUMERIC.filter(lambda d: d > 0), st.integers(-3, 6))
def test_numeric_functions(oracle_conn: psycopg.Connection, a: Decimal, places: int) -> None:
    for name in ("sqrt", "ln", "exp", "log"):
        if name == "exp" and a > 100:
            continue
        _same(oracle_conn, name, [("numeric", str(a))], "function")
    _same(oracle_conn, "round", [("numeric", str(a)), ("int4", str(places))], "function")
    _same(oracle_conn, "trunc", [("numeric", str(-a)), ("int4", str(places))], "function")


@_SETTINGS
@given(st.floats(min_value=-1e10, max_value=1e10, allow_nan=False), st.floats(min_value=-1e10, max_value=1e10, allow_nan=False))
def test_float_arithmetic(oracle_conn: psycopg.Connection, a: float, b: float) -> None:
    for op in ("+", "-", "*", "/"):
        _same(oracle_conn, op, [("float8", repr(a)), ("float8", repr(b))], "operator")
    _same(oracle_conn, "round", [("float8", repr(a))], "function")


@_SETTINGS
@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1))
def test_int_arithmetic(oracle_conn: psycopg.Connection, a: int, b: int) -> None:
    for op in ("+", "-", "*", "/", "%"):
        _same(oracle_conn, op, [("int4", str(a)), ("int4", str(b))], "operator")


@_SETTINGS
@given(st.datetimes(min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2100, 1, 1)),
       st.integers(-30, 30), st.integers(-400, 400), st.integers(-10**11, 10**11))
def test_timestamp_interval_arithmetic(oracle_conn: psycopg.Connection, ts: datetime.datetime, months: int,
                                       days: int, micros: int) -> None:
    from pgaurora import datatypes
    span = datatypes.text_encoder(1186)(datatypes.Interval(months, days, micros))
    stamp = ts.isoformat(sep=" ")
    _same(oracle_conn, "+", [("timestamp", stamp), ("interval", span)], "operator")
    _same(oracle_conn, "-", [("timestamptz", stamp + "+00"), ("interval", span)], "operator")
    _same(oracle_conn, "-", [("timestamp", stamp), ("timestamp", "2000-01-01")], "operator")
    _same(oracle_conn, "age", [("timestamp", stamp), ("timestamp", "1999-02-28 12:00")], "function")
    _same(oracle_conn, "*", [("interval", span), ("float8", "1.7")], "operator")
    _same(oracle_conn, "date_trunc", [(None, "week"), ("timestamp", stamp)], "function")
    _same(oracle_conn, "to_char", [("timestamp", stamp), (None, "YYYY-MM-DD HH24:MI:SS.US Dy IW")], "function")
