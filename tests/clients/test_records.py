"""Records in results as PostgreSQL 15 sends them: an anonymous ROW(...), a function's row of OUT
parameters (also from a set-returning function in a select list), arrays and nests of them, in
a UNION or a subquery, are columns of type record (2249) that asyncpg (binary record_send) and
psycopg (text and binary) decode into the same tuples; a whole-row reference is of the table's
row type (asyncpg's Record, psycopg's text), and prints the same in psql's text form."""

from __future__ import annotations

from typing import Any

import asyncpg
import psycopg

from tests.pgoracle import PgOracle, run_each
from tests.server.harness import InstanceProcess

CLEANUP = ["DROP TABLE IF EXISTS rec_t CASCADE",
           "DROP FUNCTION IF EXISTS rec_tf(integer), rec_of(integer)"]
SETUP = [
    "CREATE TABLE rec_t (a int, b text)",
    "INSERT INTO rec_t VALUES (1, 'x y'), (2, NULL)",
    "CREATE FUNCTION rec_tf(n int) RETURNS TABLE (k int, v text) LANGUAGE sql AS "
    "$$ SELECT g, 'v' || g FROM generate_series(1, n) g $$",
    "CREATE FUNCTION rec_of(n int, OUT d int, OUT e date) LANGUAGE sql AS $$ SELECT n * 2, date '2020-01-01' + n $$",
]
QUERIES = [
    "SELECT ROW(1, 'a', NULL, true, 1.5, date '2020-02-02', ARRAY[1,2], 'q\"t'::text)",
    "SELECT ROW(1, ROW(2, 'x'))",
    "SELECT ARRAY[ROW(1, 'a'), ROW(2, 'b c')]",
    "SELECT ROW(a, b) FROM rec_t ORDER BY 1",
    "SELECT DISTINCT ROW(a % 2) FROM rec_t",
    "SELECT ROW(1, 2) UNION ALL SELECT ROW(3, 4)",
    "SELECT * FROM (SELECT ROW(1, 2) AS r) s",
    "SELECT rec_of(3)",
    "SELECT rec_tf(2)",
    "SELECT rec_of(a) FROM rec_t ORDER BY a",
    "SELECT json_each('{\"a\": 1}')",
    "SELECT rec_t::text FROM rec_t ORDER BY a",
    "SELECT rec_t FROM rec_t ORDER BY a",
]


async def _asyncpg(url: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        out: list[Any] = []
        for query in QUERIES:
            statement = await conn.prepare(query)
            try:
                rows: Any = [tuple(r) for r in await statement.fetch()]
            except asyncpg.InternalClientError as error:  # (a field type asyncpg has no codec for yet)
                rows = str(error)
            oids = [a.type.oid for a in statement.get_attributes()]
            out.append((query, [oid if oid < 16384 else "user type" for oid in oids], rows))
        return out
    finally:
        await conn.close()


def _psycopg(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for binary in (False, True):
            for query in (*QUERIES[:-4], QUERIES[-1]):
                cur = conn.cursor(binary=binary)
                cur.execute(query)
                types = [d.type_code if d.type_code < 16384 else "user type" for d in cur.description or ()]
                out.append((binary, query, types, cur.fetchall() if not binary or "user type" not in types else
                            len(cur.fetchall())))
    return out


async def test_records_through_asyncpg_and_psycopg_as_postgres(instance: InstanceProcess,
                                                               pg_oracle: PgOracle) -> None:
    results = []
    for server in (pg_oracle, instance):
        run_each(server.dsn, CLEANUP)
        run_each(server.dsn, SETUP)
        try:
            results.append((await _asyncpg(server.url), _psycopg(server.dsn)))
        finally:
            run_each(server.dsn, CLEANUP)
    (theirs_apg, theirs_psy), (ours_apg, ours_psy) = results
    for want, have in zip(theirs_apg, ours_apg, strict=True):
        assert have == want
    for want, have in zip(theirs_psy, ours_psy, strict=True):
        assert have == want
