"""json[b]_to_recordset with a column definition list as applications use it for bulk writes:
one JSON parameter (asyncpg encodes a str for a json parameter) turned into rows by INSERT ...
SELECT, and joined laterally. The same answers on PostgreSQL 15 and pgaurora."""

from __future__ import annotations

import asyncio
import json

import asyncpg

from tests.pgoracle import PgOracle, run_each
from tests.server.harness import InstanceProcess

ROWS = [{"id": i, "name": f"n{i}", "tags": ["a", str(i)], "score": i / 4, "extra": {"k": i}} for i in range(1, 6)]


async def _session(url: str) -> list[object]:
    conn = await asyncpg.connect(url)
    try:
        out: list[object] = [await conn.execute(
            "INSERT INTO jr_items SELECT * FROM json_to_recordset($1::json) "
            "AS r(id int, name text, tags text[], score numeric, extra jsonb)", json.dumps(ROWS))]
        out.append([tuple(r) for r in await conn.fetch("SELECT id, name, tags, score, extra::text FROM jr_items ORDER BY id")])
        out.append(await conn.execute(
            "UPDATE jr_items i SET score = u.score FROM jsonb_to_recordset($1::jsonb) AS u(id int, score numeric) "
            "WHERE i.id = u.id", json.dumps([{"id": 2, "score": 9.5}, {"id": 4, "score": None}])))
        out.append([tuple(r) for r in await conn.fetch("SELECT id, score FROM jr_items ORDER BY id")])
        out.append([tuple(r) for r in await conn.fetch(
            "SELECT i.id, r.k FROM jr_items i, jsonb_to_record(i.extra) AS r(k int) WHERE r.k > 3 ORDER BY 1")])
        try:
            await conn.fetch("SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id int)", json.dumps({"id": 1}))
        except asyncpg.PostgresError as exc:
            out.append((exc.sqlstate, str(exc)))
    finally:
        await conn.close()
    return out


def test_bulk_writes_through_json_recordsets_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    results = []
    for dsn, url in ((pg_oracle.dsn, pg_oracle.url), (instance.dsn, instance.url)):
        run_each(dsn, ["DROP TABLE IF EXISTS jr_items",
                       "CREATE TABLE jr_items (id int PRIMARY KEY, name text, tags text[], score numeric, extra jsonb)"])
        try:
            results.append(asyncio.run(_session(url)))
        finally:
            run_each(dsn, ["DROP TABLE IF EXISTS jr_items"])
    assert results[1] == results[0]
    assert results[0][0] == "INSERT 0 5"
