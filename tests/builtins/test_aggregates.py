"""Aggregates compared with PostgreSQL over small VALUES lists (including empty input and NULLs)."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builtins.harness import ours_aggregate, pg_aggregate

Rows = list[tuple[str | None, ...]]
INTS: Rows = [("1",), ("2",), ("4",), (None,)]
NUMS: Rows = [("1.5",), ("2.25",), ("7",), (None,)]
FLOATS: Rows = [("1.5",), ("2.25",), ("7",)]
CASES: list[tuple[str, str | None, Rows]] = [
    ("count", "int4", INTS), ("sum", "int4", INTS), ("sum", "int2", INTS), ("sum", "int8", INTS), ("sum", "numeric", NUMS),
    ("sum", "float8", FLOATS), ("sum", "float4", FLOATS), ("avg", "int4", INTS), ("avg", "int8", INTS), ("avg", "numeric", NUMS),
    ("avg", "float8", FLOATS), ("min", "int4", INTS), ("max", "numeric", NUMS + [("NaN",)]), ("max", "text", [("b",), ("a",), ("B",)]),
    ("min", "date", [("2024-01-02",), ("2023-12-31",)]), ("max", "interval", [("1 mon",), ("29 days",)]),
    ("min", "int4[]", [("{1,2}",), ("{1}",)]), ("max", "float8", [("1",), ("NaN",), ("2",)]), ("min", "varchar", [("x",), ("y",)]),
    ("bool_and", "bool", [("t",), ("f",), (None,)]), ("bool_or", "bool", [("f",), (None,)]), ("every", "bool", [("t",)]),
    ("array_agg", "int4", INTS), ("array_agg", "text", [("a b",), (None,)]), ("array_agg", "int4[]", [("{1,2}",), ("{3,4}",)]),
    ("json_agg", "int4", INTS), ("jsonb_agg", "text", [("a",), (None,)]), ("json_agg", "timestamp", [("2024-01-02 03:04",)]),
    ("variance", "int4", INTS), ("var_pop", "int4", INTS), ("var_samp", "numeric", NUMS), ("stddev", "numeric", NUMS),
    ("stddev_pop", "int8", INTS), ("stddev_samp", "float8", FLOATS), ("var_pop", "float8", FLOATS), ("variance", "float4", FLOATS),
    ("var_pop", "numeric", [("1.5",), ("1.5",)]), ("var_samp", "int4", [("5",)]), ("stddev", "numeric", [("1",), ("2",), ("3",)]),
    ("sum", "interval", [("1 day",), ("2 hours",)]), ("avg", "interval", [("1 day",), ("2 hours",)]),
    ("sum", "int4", []), ("count", "int4", []), ("avg", "numeric", []), ("max", "text", []), ("array_agg", "int4", []),
    ("stddev", "float8", [("1",)]), ("var_pop", "float8", [("1",)]), ("bit_and", "int4", [("12",), ("10",), ("6",)]),
    ("bit_or", "int8", [("12",), ("10",), (None,)]), ("bit_xor", "int2", [("12",), ("10",), ("6",)]),
    ("bit_or", "bit(4)", [("1100",), ("0011",)]),
]


@pytest.mark.parametrize(("name", "arg_type", "rows"), CASES, ids=lambda x: x if isinstance(x, str) else "")
def test_aggregate_matches_postgres(oracle_conn: psycopg.Connection, name: str, arg_type: str, rows: Rows) -> None:
    if not rows:
        rows_sql: Rows = [(None,)]
        expected = oracle_conn.execute(f"SELECT {name}(x)::text FROM (SELECT NULL::{arg_type} x WHERE false) s").fetchone()
        assert expected is not None
        assert ours_aggregate(name, arg_type, []) == expected[0]
        del rows_sql
        return
    assert ours_aggregate(name, arg_type, rows) == pg_aggregate(oracle_conn, name, arg_type, rows)


def test_string_agg_uses_each_rows_delimiter(oracle_conn: psycopg.Connection) -> None:
    rows: Rows = [("a", ","), ("b", ";"), (None, "!"), ("c", "-")]
    assert ours_aggregate("string_agg", "text", rows, ("text",)) == pg_aggregate(oracle_conn, "string_agg", "text", rows, ("text",))


def test_object_aggs(oracle_conn: psycopg.Connection) -> None:
    rows: Rows = [("b", "1"), ("a", None)]
    for name in ("json_object_agg", "jsonb_object_agg"):
        assert ours_aggregate(name, "text", rows, ("int4",)) == pg_aggregate(oracle_conn, name, "text", rows, ("int4",))


def test_count_star() -> None:
    from pgaurora.catalog import builtins

    agg = builtins.resolve_aggregate("count", ())
    assert agg is not None
    state = agg.make()
    for _ in range(3):
        state.step()
    assert state.final() == 3


_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(st.lists(st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False), min_size=1, max_size=8))
def test_numeric_statistics_hypothesis(oracle_conn: psycopg.Connection, values: list) -> None:
    rows: Rows = [(str(v),) for v in values]
    for name in ("sum", "avg", "var_samp", "var_pop", "stddev_samp", "stddev_pop"):
        assert ours_aggregate(name, "numeric", rows) == pg_aggregate(oracle_conn, name, "numeric", rows), name


@_SETTINGS
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=8))
def test_float_statistics_hypothesis(oracle_conn: psycopg.Connection, values: list) -> None:
    rows: Rows = [(repr(v),) for v in values]
    for name in ("sum", "avg", "var_samp", "var_pop", "stddev_samp", "stddev_pop"):
        assert ours_aggregate(name, "float8", rows) == pg_aggregate(oracle_conn, name, "float8", rows), name


@_SETTINGS
@given(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=8))
def test_int_statistics_hypothesis(oracle_conn: psycopg.Connection, values: list) -> None:
    rows: Rows = [(str(v),) for v in values]
    for name in ("sum", "avg", "var_samp", "stddev_pop"):
        assert ours_aggregate(name, "int4", rows) == pg_aggregate(oracle_conn, name, "int4", rows), name
