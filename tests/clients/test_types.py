"""Every type round-trips through asyncpg (binary) and psycopg (text and binary, client- and
server-side binding, prepared) with the same values a real PostgreSQL 15 returns."""

from __future__ import annotations

import datetime
import decimal
import uuid

import asyncpg
import psycopg
import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

# (SQL expression, the Python value to send as a parameter, its cast)
VALUES = [
    ("true", True, "bool"),
    ("32767::int2", 32767, "int2"),
    ("(-2147483648)::int4", -2147483648, "int4"),
    ("9223372036854775807::int8", 9223372036854775807, "int8"),
    ("1.5::float4", 1.5, "float4"),
    ("-2.25e100::float8", -2.25e100, "float8"),
    ("12345.678901234567890::numeric", decimal.Decimal("12345.678901234567890"), "numeric"),
    ("'héllo'::text", "héllo", "text"),
    ("'abc'::varchar(5)", "abc", "varchar"),
    ("'ab'::char(4)", "ab  ", "bpchar"),
    ("'relname'::name", "relname", "name"),
    ("'\\xdeadbeef'::bytea", b"\xde\xad\xbe\xef", "bytea"),
    ("'2024-02-29'::date", datetime.date(2024, 2, 29), "date"),
    ("'13:45:01.5'::time", datetime.time(13, 45, 1, 500000), "time"),
    ("'2024-02-29 13:45:01.123456'::timestamp", datetime.datetime(2024, 2, 29, 13, 45, 1, 123456), "timestamp"),
    ("'2024-02-29 13:45:01+02'::timestamptz",
     datetime.datetime(2024, 2, 29, 11, 45, 1, tzinfo=datetime.UTC), "timestamptz"),
    ("'1 year 2 mons 3 days 04:05:06'::interval", datetime.timedelta(days=3, seconds=14706), "interval"),
    ("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid"),
    ("'{\"a\": [1, 2]}'::json", '{"a": [1, 2]}', "json"),
    ("'{\"b\": 1, \"a\": [true, null]}'::jsonb", '{"a": [true, null], "b": 1}', "jsonb"),
    ("1259::oid", 1259, "oid"),
    ("ARRAY[1, NULL, 3]::int4[]", [1, None, 3], "int4[]"),
    ("ARRAY['a', 'b c']::text[]", ["a", "b c"], "text[]"),
    ("ARRAY[1.5, 2.5]::float8[]", [1.5, 2.5], "float8[]"),
    ("ARRAY[true, false]::bool[]", [True, False], "bool[]"),
    ("ARRAY['2024-01-01'::date]", [datetime.date(2024, 1, 1)], "date[]"),
    ("ARRAY[12.5::numeric]", [decimal.Decimal("12.5")], "numeric[]"),
]
SELECT_ALL = "SELECT " + ", ".join(f"{expr} AS c{i}" for i, (expr, _, _) in enumerate(VALUES))


async def _asyncpg_rows(url: str) -> tuple[list[object], list[object]]:
    conn = await asyncpg.connect(url)
    try:
        literal = list(await conn.fetchrow(SELECT_ALL))
        params = []
        for _, value, cast in VALUES:
            if cast == "interval" or cast in ("json", "jsonb"):
                params.append(await conn.fetchval(f"SELECT $1::{cast}::text", value if cast != "interval"
                                                  else datetime.timedelta(days=3, seconds=14706)))
            else:
                params.append(await conn.fetchval(f"SELECT $1::{cast}", value))
        return literal, params
    finally:
        await conn.close()


async def test_asyncpg_binary_values_match_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert await _asyncpg_rows(instance.url) == await _asyncpg_rows(pg_oracle.url)


async def test_asyncpg_executemany_and_prepared(instance: InstanceProcess) -> None:
    conn = await asyncpg.connect(instance.url)
    try:
        await conn.execute("CREATE TABLE em (id int PRIMARY KEY, v text, d numeric)")
        await conn.executemany("INSERT INTO em VALUES ($1, $2, $3)",
                               [(i, f"v{i}", decimal.Decimal(i) / 4) for i in range(50)])
        stmt = await conn.prepare("SELECT v, d FROM em WHERE id = $1")
        assert await stmt.fetchrow(7) == ("v7", decimal.Decimal("1.75"))
        assert await stmt.fetchval(49) == "v49"
        assert await conn.fetchval("SELECT count(*) FROM em") == 50
    finally:
        await conn.close()


def _psycopg_rows(dsn: str, binary: bool, prepare: bool | None) -> list[object]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        out = list(cur.execute(SELECT_ALL, prepare=prepare).fetchone() or ())
        for _, value, cast in VALUES:
            if cast in ("interval", "json", "jsonb", "bytea"):
                continue
            out.append(cur.execute(f"SELECT %s::{cast}", (value,), prepare=prepare).fetchone())
        return out


@pytest.mark.parametrize(("binary", "prepare"), [(False, None), (True, None), (False, True), (True, True)])
def test_psycopg_values_match_postgres(binary: bool, prepare: bool | None, instance: InstanceProcess,
                                       pg_oracle: PgOracle) -> None:
    assert _psycopg_rows(instance.dsn, binary, prepare) == _psycopg_rows(pg_oracle.dsn, binary, prepare)


def test_psycopg_client_side_binding(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    def rows(dsn: str) -> list[object]:
        with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
            return [conn.execute("SELECT %s, %s, %s, %s", (1, "it's", None, decimal.Decimal("2.5"))).fetchone()]
    assert rows(instance.dsn) == rows(pg_oracle.dsn)


async def test_psycopg_async(instance: InstanceProcess) -> None:
    async with await psycopg.AsyncConnection.connect(instance.dsn) as conn:
        cur = await conn.execute("SELECT %s::int + 1", (41,))
        assert await cur.fetchone() == (42,)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        await conn.rollback()
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
