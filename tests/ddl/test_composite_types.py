"""Composite types as PostgreSQL 15 has them: CREATE TYPE name AS (attributes) (nested, arrays of
them), ROW(...)::type and 'text'::type with their errors, field selection ((x).a, (x).a.b, (x).*),
comparison and ordering (a NULL field equal to another NULL and after any value), columns of
composite types (stored, indexed, grouped, updated, copied), functions taking and returning them
(LANGUAGE sql and plpgsql: p.x of a parameter or variable, RETURNS type, RETURNS SETOF type, in
FROM and in a select list), COMMENT ON TYPE, ALTER TYPE ... OWNER TO, DROP TYPE with its
dependency errors, the catalogs (pg_type, pg_class relkind 'c', pg_attribute, format_type,
regtype) and psql's \\dT and \\d; asyncpg and psycopg decode and send them. Compared with
PostgreSQL 15 on the same statements."""

from __future__ import annotations

import asyncio
import os
import subprocess
from typing import Any

import asyncpg
import psycopg
from psycopg.types.composite import CompositeInfo, register_composite

from tests.pgoracle import PgOracle, assert_same_transcript, pg_bindir, run_each
from tests.server.harness import InstanceProcess

CLEANUP = ["DROP TABLE IF EXISTS ct_up, ct_uses CASCADE",
           "DROP FUNCTION IF EXISTS ct_mk(integer), ct_mks(integer), ct_use(ct_pair), ct_pl(integer), "
           "ct_fx(integer), ct_fy(ct_pair)",
           "DROP TYPE IF EXISTS ct_nest, ct_pair, ct_other"]
STEPS = [
    "CREATE TYPE ct_pair AS (x int, y text)",
    "CREATE TYPE ct_nest AS (p ct_pair, tags text[], n numeric(5,2))",
    "SELECT ROW(1, 'a')::ct_pair",
    "SELECT '(2,\"b c\")'::ct_pair, '(3,)'::ct_pair",
    "SELECT ('(2,b)'::ct_pair).y, ('(2,b)'::ct_pair).x + 1",
    "SELECT ROW(ROW(1, 'q')::ct_pair, ARRAY['t'], 1.234)::ct_nest",
    "SELECT (ROW(ROW(1, 'q')::ct_pair, ARRAY['t'], 1.234)::ct_nest).p",
    "SELECT ('(\"(1,q)\",{t},2)'::ct_nest).p.y",
    "SELECT ('(\"(1,q)\",{t},2)'::ct_nest).*",
    "SELECT ('(1,q)'::ct_pair).nosuch",
    "SELECT ARRAY[ROW(1,'a')::ct_pair, ROW(2,'b')::ct_pair]",
    "SELECT NULL::ct_pair IS NULL, pg_typeof(ROW(1,'a')::ct_pair), 'ct_pair'::regtype, "
    "format_type('ct_pair'::regtype, NULL), format_type('ct_pair[]'::regtype, NULL)",
    "SELECT ROW(1, 'a', 3)::ct_pair",
    "SELECT ROW(1)::ct_pair",
    "SELECT '(1,a,3)'::ct_pair",
    "SELECT '(1)'::ct_pair",
    "SELECT 'junk'::ct_pair",
    "SELECT '(x,a)'::ct_pair",
    "SELECT ROW(1, 'a')::ct_pair = ROW(1, 'a')::ct_pair, '(1,)'::ct_pair = '(1,)'::ct_pair, "
    "'(1,)'::ct_pair > '(1,a)'::ct_pair, ROW(2, 'a')::ct_pair < ROW(1, 'b')::ct_pair",
    "CREATE FUNCTION ct_mk(a int) RETURNS ct_pair LANGUAGE sql AS $$ SELECT a, 'v' || a $$",
    "SELECT ct_mk(4)",
    "SELECT * FROM ct_mk(5)",
    "SELECT (ct_mk(6)).y, (ct_mk(6)).*",
    "CREATE FUNCTION ct_mks(n int) RETURNS SETOF ct_pair LANGUAGE sql AS "
    "$$ SELECT g, 'w' || g FROM generate_series(1, n) g $$",
    "SELECT * FROM ct_mks(2)",
    "SELECT ct_mks(2)",
    "CREATE FUNCTION ct_use(p ct_pair) RETURNS text LANGUAGE sql AS $$ SELECT p.y || p.x $$",
    "SELECT ct_use(ROW(7, 'z')::ct_pair), ct_use(ROW(8, 'q'))",
    "CREATE FUNCTION ct_pl(n int) RETURNS ct_pair LANGUAGE plpgsql AS "
    "$$ DECLARE r ct_pair; BEGIN r := ROW(n, 'pl'); RETURN r; END $$",
    "SELECT ct_pl(8), (ct_pl(9)).x",
    "CREATE FUNCTION ct_fx(n int) RETURNS text LANGUAGE plpgsql AS $$\n"
    "DECLARE r ct_pair; s ct_pair := ROW(n, 'init');\nBEGIN\n  r := ROW(n * 2, 'x' || n);\n"
    "  RETURN r.x || r.y || s.y || (s).x;\nEND $$",
    "SELECT ct_fx(3)",
    "CREATE FUNCTION ct_fy(q ct_pair) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN q.x * 10; END $$",
    "SELECT ct_fy(ROW(4, 'z'))",
    "SELECT pg_get_function_result('ct_mks'::regproc), pg_get_function_arguments('ct_use'::regproc)",
    "CREATE TABLE ct_up (id int PRIMARY KEY, p ct_pair, ps ct_pair[])",
    "INSERT INTO ct_up VALUES (1, ROW(1, 'a'), ARRAY[ROW(2,'b')::ct_pair]), (2, '(3,\"c d\")', NULL), "
    "(3, NULL, '{\"(4,e)\"}'), (4, '(1,)', NULL), (5, '(,a)', NULL), (6, '(1,)', NULL)",
    "SELECT * FROM ct_up ORDER BY id",
    "SELECT id, (p).x, (p).y, ps[1], (ps[1]).y FROM ct_up ORDER BY id",
    "SELECT id FROM ct_up WHERE p = ROW(1, 'a')::ct_pair",
    "SELECT id FROM ct_up WHERE (p).x > 1",
    "SELECT id, p FROM ct_up ORDER BY p, id",
    "SELECT p, count(*) FROM ct_up GROUP BY p ORDER BY p",
    "SELECT DISTINCT p FROM ct_up ORDER BY p DESC",
    "CREATE INDEX ct_up_p ON ct_up (p)",
    "SELECT id FROM ct_up WHERE p = '(1,)'::ct_pair ORDER BY id",
    "SELECT id, ct_fy(p) FROM ct_up WHERE id = 2",
    "UPDATE ct_up SET p = ROW((p).x + 10, upper((p).y)) WHERE id = 2 RETURNING *",
    "SELECT t.typname, t.typtype, t.typcategory, t.typrelid = c.oid, c.relkind, c.relnatts, t.typarray <> 0 "
    "FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid WHERE t.typname IN ('ct_pair', '_ct_pair') "
    "ORDER BY 1",
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnum FROM pg_attribute a "
    "JOIN pg_type t ON a.attrelid = t.typrelid WHERE t.typname = 'ct_nest' ORDER BY attnum",
    "COMMENT ON TYPE ct_pair IS 'two things'",
    "SELECT obj_description('ct_pair'::regtype, 'pg_type')",
    "CREATE TYPE ct_pair AS (z int)",
    "CREATE TYPE ct_other AS (a int, a text)",
    "DROP TYPE ct_pair",
    "DROP TYPE ct_nest, ct_pair",
    "DROP TABLE ct_up",
    "DROP FUNCTION ct_mk(integer), ct_mks(integer), ct_use(ct_pair), ct_pl(integer), ct_fy(ct_pair)",
    "DROP FUNCTION ct_fx(integer)",
    "DROP TYPE ct_pair",
    "DROP TYPE ct_nest, ct_pair",
    "SELECT 'ct_pair'::regtype",
    "DROP TYPE IF EXISTS ct_pair",
]


def test_composite_types_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=CLEANUP, details=True)


def _psql(port: int, command: str) -> str:
    done = subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-h", "127.0.0.1", "-p", str(port), "-U",
                           "postgres", "-d", "postgres", "-c", command], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


PSQL_SETUP = ["CREATE TYPE ct_pair AS (x int, y text)",
              "CREATE TYPE ct_nest AS (p ct_pair, tags text[], n numeric(5,2))",
              "COMMENT ON TYPE ct_nest IS 'nested'"]


def test_psql_describes_composite_types_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    outputs = []
    for server in (pg_oracle, instance):
        run_each(server.dsn, CLEANUP)
        run_each(server.dsn, PSQL_SETUP)
        try:
            outputs.append([_psql(server.port, command) for command in (r"\dT", r"\dT+ ct_*", r"\d ct_nest",
                                                                        r"\d+ ct_pair")])
        finally:
            run_each(server.dsn, CLEANUP)
    assert outputs[1] == outputs[0]


async def _asyncpg(url: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        out: list[Any] = []
        for query in ("SELECT ROW(1, 'a', 2)::ct_trio", "SELECT p, ps FROM ct_up ORDER BY id", "SELECT (p).y FROM ct_up"):
            rows = await conn.fetch(query)
            out.append([tuple(tuple(v) if isinstance(v, asyncpg.Record) else v for v in r) for r in rows])
        out.append([tuple(r) for r in await conn.fetch("SELECT $1::ct_trio", (5, "five", 5))])
        await conn.execute("INSERT INTO ct_up VALUES ($1, $2)", 9, (7, "seven", None))
        out.append([tuple(r[0]) for r in await conn.fetch("SELECT p FROM ct_up WHERE id = 9")])
        return out
    finally:
        await conn.close()


def _psycopg(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        out.append(conn.execute("SELECT p, ps FROM ct_up ORDER BY id").fetchall())
        info = CompositeInfo.fetch(conn, "ct_trio")
        assert info is not None
        register_composite(info, conn)
        for binary in (False, True):
            rows = conn.cursor(binary=binary).execute("SELECT p, ps FROM ct_up ORDER BY id").fetchall()
            out.append([tuple(tuple(v) if isinstance(v, tuple) else v for v in r) for r in rows])
        conn.execute("INSERT INTO ct_up (id, p) VALUES (3, %s)", (info.python_type(9, "nine", None),))
        out.append([tuple(r[0]) for r in conn.execute("SELECT p FROM ct_up WHERE id = 3").fetchall()])
    return out


CLIENT_CLEANUP = ["DROP TABLE IF EXISTS ct_up", "DROP TYPE IF EXISTS ct_trio"]
CLIENT_SETUP = ["CREATE TYPE ct_trio AS (x int, y text, z numeric)",
                "CREATE TABLE ct_up (id int, p ct_trio, ps ct_trio[])",
                "INSERT INTO ct_up VALUES (1, ROW(1, 'a', 1.5), ARRAY[ROW(2, NULL, NULL)::ct_trio])"]


def test_clients_decode_and_send_composite_values_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    results = []
    for server in (pg_oracle, instance):
        run_each(server.dsn, CLIENT_CLEANUP)
        run_each(server.dsn, CLIENT_SETUP)
        try:
            results.append((asyncio.run(_asyncpg(server.url)), _psycopg(server.dsn)))
        finally:
            run_each(server.dsn, CLIENT_CLEANUP)
    assert results[1] == results[0]


ROW_CLEANUP = ["DROP TABLE IF EXISTS ct_acct, ct_t2 CASCADE", "DROP FUNCTION IF EXISTS ct_pl2()",
               "DROP TYPE IF EXISTS ct_acct, ct_t2, ct_pair2"]
# a table's row type: whole-row values of it, NULL::t, ROW(...)::t, functions RETURNS t / SETOF t,
# PL/pgSQL variables of it (and of a composite type) with their fields assigned, json[b]_populate_record[set],
# DROP TABLE with the functions that use its type
ROW_TYPES = [
    "CREATE TABLE ct_acct (id int PRIMARY KEY, name text, bal numeric(10,2), tags text[], meta jsonb)",
    "INSERT INTO ct_acct VALUES (1, 'a', 10, '{x}', '{\"k\": 1}'), (2, 'b', NULL, NULL, NULL)",
    "CREATE TYPE ct_pair2 AS (x int, y text)",
    "SELECT ct_acct FROM ct_acct ORDER BY id",
    "SELECT a FROM ct_acct a ORDER BY a",
    "SELECT pg_typeof(a), (a).name, a.* FROM ct_acct a WHERE id = 1",
    "SELECT NULL::ct_acct, ROW(3, 'c', 1.5, NULL, NULL)::ct_acct, ('(4,d,2,,)'::ct_acct).bal",
    "SELECT row_to_json(a), to_jsonb(a) FROM ct_acct a WHERE id = 1",
    "SELECT a = ROW(1, 'a', 10, '{x}', '{\"k\": 1}')::ct_acct FROM ct_acct a ORDER BY id",
    "SELECT count(DISTINCT a) FROM ct_acct a",
    "CREATE FUNCTION ct_one(i int) RETURNS ct_acct LANGUAGE sql AS $$ SELECT * FROM ct_acct WHERE id = i $$",
    "SELECT ct_one(1), (ct_one(2)).name",
    "SELECT * FROM ct_one(1)",
    "CREATE FUNCTION ct_alls() RETURNS SETOF ct_acct LANGUAGE sql AS $$ SELECT * FROM ct_acct ORDER BY id $$",
    "SELECT ct_alls()",
    "SELECT * FROM ct_alls()",
    "SELECT pg_get_function_result('ct_one'::regproc), pg_get_function_result('ct_alls'::regproc)",
    "CREATE FUNCTION ct_pl(i int) RETURNS ct_acct LANGUAGE plpgsql AS "
    "$$ DECLARE r ct_acct; BEGIN SELECT * INTO r FROM ct_acct WHERE id = i; r.bal := 99; RETURN r; END $$",
    "SELECT ct_pl(1), ct_pl(3)",
    "CREATE FUNCTION ct_pl2() RETURNS text LANGUAGE plpgsql AS $$\n"
    "DECLARE r ct_acct; p ct_pair2; q ct_pair2 := ROW(5, 'five'); t ct_acct%ROWTYPE;\nBEGIN\n"
    "  r.name := 'nm'; p.x := 3;\n  t.id := 7;\n"
    "  RETURN r::text || ' ' || p::text || ' ' || q.y || ' ' || (r IS NULL)::text || ' ' || t::text;\nEND $$",
    "SELECT ct_pl2()",
    "CREATE FUNCTION ct_pl3() RETURNS SETOF ct_acct LANGUAGE plpgsql AS $$\nDECLARE r ct_acct;\nBEGIN\n"
    "  FOR r IN SELECT * FROM ct_acct ORDER BY id LOOP r.name := upper(r.name); RETURN NEXT r; END LOOP;\nEND $$",
    "SELECT * FROM ct_pl3()",
    "DO $$ DECLARE p ct_pair2; BEGIN RAISE NOTICE '% %', p IS NULL, p; p := ROW(1, 'z'); RAISE NOTICE '% %', p, p.y; END $$",
    "CREATE FUNCTION ct_pl4(a ct_acct) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN a.name || a.id; END $$",
    "SELECT ct_pl4(ct_acct) FROM ct_acct ORDER BY id",
    "SELECT ct_pl4(a.*) FROM ct_acct a ORDER BY id",
    "SELECT jsonb_populate_record(NULL::ct_acct, '{\"id\": 5, \"name\": \"z\", \"tags\": [\"p\", \"q\"], "
    "\"meta\": {\"a\": [1]}}')",
    "SELECT * FROM jsonb_populate_record(NULL::ct_acct, '{\"id\": 5, \"name\": \"z\", \"bal\": \"1.5\"}')",
    "SELECT p.* FROM ct_acct a, json_populate_record(a, '{\"name\": \"renamed\"}') p ORDER BY p.id",
    "SELECT * FROM json_populate_recordset(NULL::ct_acct, '[{\"id\": 5, \"name\": \"z\"},{\"id\":6}]')",
    "SELECT * FROM jsonb_populate_recordset(NULL::ct_acct, '[{\"id\": 7}]') WITH ORDINALITY",
    "SELECT (jsonb_populate_record(NULL::ct_acct, '{\"id\": 8}')).id",
    "INSERT INTO ct_acct SELECT * FROM jsonb_populate_record(NULL::ct_acct, '{\"id\": 9, \"name\": \"nine\"}')",
    "SELECT id, name FROM ct_acct ORDER BY id",
    "SELECT * FROM jsonb_populate_record(NULL::ct_acct, '[1]')",
    "SELECT * FROM jsonb_populate_record(NULL::ct_acct, '{\"id\": \"x\"}')",
    "SELECT * FROM jsonb_populate_recordset(NULL::ct_pair2, '[{\"x\": 1, \"y\": \"a\"}, {\"x\": 2}]')",
    "SELECT jsonb_populate_recordset(NULL::ct_pair2, '[{\"x\": 1, \"y\": \"a\"}, {\"x\": 2}]')",
    "CREATE TYPE ct_acct AS (x int)",
    "CREATE TYPE ct_t2 AS (x int)",
    "CREATE TABLE ct_t2 (x int)",
    "SELECT t.typname, t.typtype, t.typrelid = 'ct_acct'::regclass, c.reltype = t.oid FROM pg_type t "
    "JOIN pg_class c ON c.relname = 'ct_acct' WHERE t.typname IN ('ct_acct', '_ct_acct') ORDER BY 1",
    "DROP TABLE ct_acct",
    "CREATE VIEW ct_v AS SELECT * FROM ct_acct",
    "DROP TABLE ct_acct",
    "DROP TABLE ct_acct CASCADE",
    "SELECT 'ct_acct'::regtype",
]


def test_table_row_types_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, ROW_TYPES, cleanup=ROW_CLEANUP, details=True)


ALTER_CLEANUP = ["DROP TABLE IF EXISTS at_uses", "DROP TYPE IF EXISTS at_mood, at_feeling, at_pair, at_couple"]
# ALTER TYPE ... RENAME TO (enum and composite types) and a composite type's ADD / DROP / ALTER /
# RENAME ATTRIBUTE (ADD also of one a column uses: its stored values gain a NULL field)
ALTER_TYPES = [
    "CREATE TYPE at_mood AS ENUM ('sad', 'ok')",
    'CREATE TYPE at_pair AS (x int, y text)',
    'ALTER TYPE at_mood RENAME TO at_feeling',
    "SELECT 'ok'::at_feeling, 'at_feeling'::regtype",
    "SELECT 'ok'::at_mood",
    'ALTER TYPE at_pair ADD ATTRIBUTE z numeric(5,2)',
    'ALTER TYPE at_pair DROP ATTRIBUTE IF EXISTS nosuch',
    'ALTER TYPE at_pair RENAME ATTRIBUTE x TO xx',
    'ALTER TYPE at_pair ALTER ATTRIBUTE y TYPE varchar(10)',
    "SELECT ROW(1, 'a', 2.5)::at_pair, ('(1,a,2.5)'::at_pair).xx",
    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = (SELECT typrelid FROM pg_type WHERE typname = 'at_pair') ORDER BY attnum",
    'ALTER TYPE at_pair DROP ATTRIBUTE z',
    'ALTER TYPE at_pair ADD ATTRIBUTE xx int',
    'ALTER TYPE at_pair RENAME ATTRIBUTE nosuch TO q',
    'ALTER TYPE at_pair RENAME TO at_couple',
    'CREATE TABLE at_uses (c at_couple)',
    'ALTER TYPE at_couple ADD ATTRIBUTE w int',
    'ALTER TYPE nosuch RENAME TO x',
    'ALTER TYPE at_feeling RENAME TO at_couple',
    'ALTER TYPE at_feeling ADD ATTRIBUTE q int',
    "INSERT INTO at_uses VALUES (ROW(1, 'a', NULL)::at_couple)",
    'ALTER TYPE at_couple ADD ATTRIBUTE v text',
    'SELECT c, (c).v, (c).xx FROM at_uses',
]


def test_alter_types_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, ALTER_TYPES, cleanup=ALTER_CLEANUP, details=True)
