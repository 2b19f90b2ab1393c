"""sort_key(oid): ORDER BY and DISTINCT results compared with PostgreSQL's."""

from __future__ import annotations

import psycopg
import pytest

from pgaurora import datatypes
from pgaurora.catalog import builtins

VALUES: list[tuple[str, list[str]]] = [
    ("float8", ["NaN", "1", "-Infinity", "Infinity", "-0", "0", "NaN", "2.5"]),
    ("numeric", ["NaN", "1", "-Infinity", "Infinity", "0.00", "0", "NaN", "1.0"]),
    ("int4[]", ["{1,NULL}", "{1,2}", "{1,2,0}", "{0}", "{}", "{NULL}", "{1,2}"]),
    ("char(4)", ["ab", "ab  ", "a", "b", "A"]),
    ("text", ["b", "a", "B", "é", "ab", ""]),
    ("jsonb", ['{"a": 1}', "[1]", "true", "1", '"x"', "null", "1.0", "[]", "{}", '{"a": 1, "b": 2}', '{"b": 1}', "false"]),
    ("timetz", ["12:00+02", "10:00+00", "11:00+01", "09:00-01"]),
    ("interval", ["1 mon", "30 days", "1 day", "-1 day", "24:00:00"]),
]


@pytest.mark.parametrize(("sql_type", "texts"), VALUES, ids=lambda x: x if isinstance(x, str) else "")
def test_sort_and_distinct_match_postgres(oracle_conn: psycopg.Connection, sql_type: str, texts: list[str]) -> None:
    rows = ", ".join(f"(%s::{sql_type})" for _ in texts)
    ordered = oracle_conn.execute(f"SELECT x::text AS shown FROM (VALUES {rows}) v(x) ORDER BY x", texts).fetchall()
    distinct = oracle_conn.execute(f"SELECT count(DISTINCT x) FROM (VALUES {rows}) v(x)", texts).fetchone()
    assert distinct is not None
    base = sql_type.split("(")[0].replace("char", "bpchar") if sql_type.startswith("char") else sql_type
    oid = datatypes.lookup_name(base).oid
    typmod = 8 if sql_type == "char(4)" else -1
    values = [datatypes.text_decoder(oid, typmod)(x) for x in texts]
    key = builtins.sort_key(oid)
    theirs = [datatypes.text_decoder(oid, typmod)(r[0]) for r in ordered]
    # values with equal keys may come out in either order, so compare the key sequences
    assert [key(v) for v in sorted(values, key=key)] == [key(v) for v in theirs]
    assert len({key(v) for v in values}) == distinct[0]
