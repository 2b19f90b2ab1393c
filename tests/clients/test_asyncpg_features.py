"""asyncpg features beyond plain queries, run against pgaurora and PostgreSQL 15 with the same
calls and compared: set_type_codec for json and jsonb (text and binary formats),
copy_records_to_table / copy_from_query / copy_from_table / copy_to_table, cursors inside
transactions (prefetch, fetch, forward), nested transactions (savepoints), and a pool under
concurrent acquire."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import asyncpg

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

DDL = "CREATE TABLE {t} (id int PRIMARY KEY, doc json, bin jsonb, note text)"
DOCS = [(1, {"a": 1, "b": [1, 2, None]}, {"z": "ü", "n": 1.5}, "first"),
        (2, [], {}, None),
        (3, "just a string", [{"deep": {"er": True}}], "tab\there")]


async def _codecs(url: str) -> list[Any]:
    out: list[Any] = []
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS codec_t")
        await conn.execute(DDL.format(t="codec_t"))
        await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        await conn.executemany("INSERT INTO codec_t VALUES ($1, $2, $3, $4)", DOCS)
        out.append([tuple(r) for r in await conn.fetch("SELECT * FROM codec_t ORDER BY id")])
        out.append(await conn.fetchval("SELECT bin -> 'n' FROM codec_t WHERE id = $1", 1))
        out.append(await conn.fetchval("SELECT $1::jsonb || '{\"added\": 2}'", {"base": [1]}))
        # the binary jsonb format (a version byte, then the text)
        await conn.set_type_codec("jsonb", encoder=lambda v: b"\x01" + json.dumps(v).encode(),
                                  decoder=lambda b: json.loads(b[1:].decode()), schema="pg_catalog", format="binary")
        out.append(await conn.fetchval("SELECT bin FROM codec_t WHERE id = 3"))
        out.append(await conn.fetchval("SELECT $1::jsonb -> 'k'", {"k": [True, None]}))
        await conn.execute("DROP TABLE codec_t")
    finally:
        await conn.close()
    return out


async def test_set_type_codec_json_and_jsonb(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    ours, theirs = await _codecs(instance.url), await _codecs(pg_oracle.url)
    assert ours == theirs


async def _copies(url: str) -> list[Any]:
    out: list[Any] = []
    conn = await asyncpg.connect(url)
    try:
        for t in ("copy_src", "copy_dst"):
            await conn.execute(f"DROP TABLE IF EXISTS {t}")
            await conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, name text, score numeric(6,2))")
        records = [(i, f"name {i}" if i % 4 else None, i * 1.25) for i in range(1, 41)]
        out.append(await conn.copy_records_to_table("copy_src", records=records, columns=["id", "name", "score"]))
        buf = io.BytesIO()
        out.append(await conn.copy_from_query("SELECT id, name FROM copy_src WHERE id <= $1 ORDER BY id", 5,
                                              output=buf))
        out.append(buf.getvalue())
        buf = io.BytesIO()
        out.append(await conn.copy_from_query("SELECT * FROM copy_src WHERE id > 38 ORDER BY id", output=buf,
                                              format="csv", header=True))
        out.append(buf.getvalue())
        table = io.BytesIO()
        out.append(await conn.copy_from_table("copy_src", output=table, columns=["id", "score"]))
        table.seek(0)
        out.append(await conn.copy_to_table("copy_dst", source=table, columns=["id", "score"]))
        out.append(await conn.fetch("SELECT count(*), sum(score), count(name) FROM copy_dst"))
        out = [tuple(x) if isinstance(x, asyncpg.Record) else x for x in out]
        for t in ("copy_src", "copy_dst"):
            await conn.execute(f"DROP TABLE {t}")
    finally:
        await conn.close()
    return [[tuple(r) for r in x] if isinstance(x, list) else x for x in out]


async def test_copy_functions(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    ours, theirs = await _copies(instance.url), await _copies(pg_oracle.url)
    assert ours == theirs
    assert ours[0] == "COPY 40"


async def _cursors(url: str) -> list[Any]:
    out: list[Any] = []
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            rows = [r[0] async for r in conn.cursor("SELECT g FROM generate_series(1, 50) g WHERE g % $1 = 0", 2,
                                                    prefetch=7)]
            out.append(rows)
            cur = await conn.cursor("SELECT g, g::text FROM generate_series(1, 30) g")
            out.append([tuple(r) for r in await cur.fetch(4)])
            out.append(await cur.forward(10))
            out.append(tuple(await cur.fetchrow() or ()))
            out.append([tuple(r) for r in await cur.fetch(100)])
        try:
            await conn.cursor("SELECT 1")
        except asyncpg.PostgresError as e:
            out.append(type(e).__name__)
        except asyncpg.InterfaceError as e:
            out.append(str(e).split(":")[0])
        # nested transactions are savepoints
        await conn.execute("DROP TABLE IF EXISTS nest_t")
        await conn.execute("CREATE TABLE nest_t (id int PRIMARY KEY)")
        async with conn.transaction():
            await conn.execute("INSERT INTO nest_t VALUES (1)")
            try:
                async with conn.transaction():
                    await conn.execute("INSERT INTO nest_t VALUES (2)")
                    await conn.execute("INSERT INTO nest_t VALUES (1)")
            except asyncpg.UniqueViolationError:
                out.append("inner rolled back")
            await conn.execute("INSERT INTO nest_t VALUES (3)")
        out.append([r[0] for r in await conn.fetch("SELECT id FROM nest_t ORDER BY id")])
        await conn.execute("DROP TABLE nest_t")
    finally:
        await conn.close()
    return out


async def test_cursors_in_transactions_and_savepoints(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    ours, theirs = await _cursors(instance.url), await _cursors(pg_oracle.url)
    assert ours == theirs
    assert ours[-1] == [1, 3]


async def test_pool_under_concurrent_acquire(instance: InstanceProcess) -> None:
    pool = await asyncpg.create_pool(instance.url, min_size=2, max_size=5)
    assert pool is not None
    try:
        await pool.execute("DROP TABLE IF EXISTS pool_t")
        await pool.execute("CREATE TABLE pool_t (id int PRIMARY KEY, who int)")

        async def work(n: int) -> int:
            async with pool.acquire() as conn:
                async with conn.transaction():
                    await conn.execute("INSERT INTO pool_t VALUES ($1, pg_backend_pid())", n)
                    value = await conn.fetchval("SELECT count(*) FROM pool_t WHERE id <= $1", n)
                    return int(value)

        counts = await asyncio.wait_for(asyncio.gather(*(work(n) for n in range(1, 31))), 60)
        assert all(1 <= c <= n for c, n in zip(counts, range(1, 31), strict=True))
        assert await pool.fetchval("SELECT count(*) FROM pool_t") == 30
        assert 1 <= await pool.fetchval("SELECT count(DISTINCT who) FROM pool_t") <= 5
        await pool.execute("DROP TABLE pool_t")
    finally:
        await asyncio.wait_for(pool.close(), 30)
