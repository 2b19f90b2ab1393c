"""Several functions side by side in FROM: ROWS FROM (f(...), g(...)) [WITH ORDINALITY] and
unnest(a, b, ...) (which PostgreSQL's parser makes one), shorter results padded with NULLs,
LATERAL arguments, per-function column definition lists, and the bulk-write idiom
`INSERT ... SELECT * FROM unnest($1::int[], $2::text[])` as asyncpg sends it; all compared with
PostgreSQL 15."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    "SELECT * FROM unnest(ARRAY[1,2,3], ARRAY['a','b']) AS u(n, s)",
    "SELECT * FROM unnest(ARRAY[1,2,3], ARRAY['a','b'])",
    "SELECT * FROM ROWS FROM (generate_series(1,3), unnest(ARRAY['x','y'])) AS r(a, b)",
    "SELECT * FROM ROWS FROM (generate_series(1,3), unnest(ARRAY['x','y']))",
    'SELECT * FROM ROWS FROM (generate_series(1,2)) WITH ORDINALITY AS r(a, o)',
    "SELECT * FROM unnest(ARRAY[1,2], ARRAY['a','b']) WITH ORDINALITY",
    "SELECT * FROM unnest(ARRAY[1,2], ARRAY['a','b'], ARRAY[true]) WITH ORDINALITY AS x(a, b, c, d)",
    "SELECT u.* FROM unnest(ARRAY[1,2], ARRAY['a','b']) u",
    "SELECT unnest FROM unnest(ARRAY[1,2], ARRAY['a','b']) u",
    'CREATE TABLE bulk (id int PRIMARY KEY, v text)',
    "INSERT INTO bulk SELECT * FROM unnest(ARRAY[1,2], ARRAY['a','b'])",
    "INSERT INTO bulk (id, v) SELECT * FROM unnest(ARRAY[1,3]::int[], ARRAY['z','c']::text[]) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v",
    'SELECT * FROM bulk ORDER BY id',
    "UPDATE bulk SET v = u.v FROM unnest(ARRAY[1,2], ARRAY['p','q']) AS u(id, v) WHERE bulk.id = u.id",
    'SELECT * FROM bulk ORDER BY id',
    'SELECT b.id, x.* FROM bulk b, ROWS FROM (generate_series(1, b.id), unnest(ARRAY[b.v])) x ORDER BY 1, 2',
    'SELECT b.id, x.* FROM bulk b CROSS JOIN LATERAL unnest(ARRAY[b.id, b.id * 10], ARRAY[b.v]) x ORDER BY 1, 2',
    'SELECT * FROM ROWS FROM (json_to_record(\'{"a": 1, "b": "x"}\') AS (a int, b text), generate_series(1,2))',
    'SELECT * FROM ROWS FROM (generate_series(1,2), generate_series(1,3)) AS r(a int, b int)',
    'SELECT * FROM ROWS FROM (generate_series(1,0), generate_series(1,0))',
    'SELECT * FROM ROWS FROM (unnest(NULL::int[]), generate_series(1,2))',
    "SELECT * FROM unnest(ARRAY[[1,2],[3,4]], ARRAY['a'])",
    'SELECT * FROM ROWS FROM (pg_catalog.unnest(ARRAY[1]), nosuch(1))',
    "CREATE FUNCTION f3() RETURNS SETOF int LANGUAGE sql AS 'SELECT generate_series(1,3)'",
    'SELECT * FROM ROWS FROM (f3(), generate_series(10, 11)) WITH ORDINALITY',
    "SELECT unnest(ARRAY[1,2], ARRAY['a','b'])",
    "EXPLAIN (COSTS OFF) SELECT * FROM unnest(ARRAY[1,2], ARRAY['a','b'])",
    'SELECT * FROM nosuch(1)',
]


def test_rows_from_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, details=True,
                           cleanup=["DROP TABLE IF EXISTS bulk", "DROP FUNCTION IF EXISTS f3()"])


async def _bulk(url: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS bulk_u")
        await conn.execute("CREATE TABLE bulk_u (id int PRIMARY KEY, name text, score float8)")
        upsert = ("INSERT INTO bulk_u (id, name, score) SELECT * FROM unnest($1::int[], $2::text[], $3::float8[]) "
                  "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, score = EXCLUDED.score")
        await conn.execute(upsert, list(range(1, 501)), [f"n{i}" for i in range(1, 501)], [i / 4 for i in range(500)])
        await conn.execute(upsert, [5, 600], ["five", None], [None, 1.5])
        rows = await conn.fetch("SELECT id, name, score FROM unnest($1::int[]) WITH ORDINALITY AS k(id, o) "
                                "JOIN bulk_u USING (id) ORDER BY o", [600, 5, 1])
        count = await conn.fetchval("SELECT count(*) FROM bulk_u")
        return [[tuple(r) for r in rows], count]
    finally:
        await conn.execute("DROP TABLE IF EXISTS bulk_u")
        await conn.close()


async def test_asyncpg_unnest_bulk_upsert(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert await _bulk(instance.url) == await _bulk(pg_oracle.url)
