"""search_path as PostgreSQL 15 resolves it: "$user" is the current user's own schema (where
that role's unqualified CREATE goes, PostgreSQL 15's advice now that PUBLIC may not create in
public), a schema the role may not use (USAGE) is skipped and the lookup goes on to the next,
and a prepared statement is planned again when the search path or the role changes (with
0A000 "cached plan must not change result type" when its result would change). Each
transcript is equal on PostgreSQL 15 and pgaurora; asyncpg's statement cache is checked on
both the same way."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.pgoracle import PgOracle, assert_same_transcript, run_each
from tests.server.harness import InstanceProcess

CLEANUP = [
    "RESET ROLE", "RESET search_path", "DEALLOCATE ALL",
    "DROP SCHEMA IF EXISTS sp_a, sp_b, sp_alice, sp_bob CASCADE", "DROP TABLE IF EXISTS sp_t",
    "DROP OWNED BY sp_alice", "DROP OWNED BY sp_bob", "DROP ROLE IF EXISTS sp_alice", "DROP ROLE IF EXISTS sp_bob",
]
SETUP = [
    "CREATE SCHEMA sp_a", "CREATE SCHEMA sp_b",
    "CREATE TABLE sp_a.sp_t (x text)", "CREATE TABLE sp_b.sp_t (x text)", "CREATE TABLE sp_t (x text)",
    "INSERT INTO sp_a.sp_t VALUES ('a')", "INSERT INTO sp_b.sp_t VALUES ('b')", "INSERT INTO sp_t VALUES ('public')",
    "CREATE ROLE sp_alice LOGIN", "CREATE ROLE sp_bob LOGIN",
    "CREATE SCHEMA sp_alice AUTHORIZATION sp_alice",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public, sp_a, sp_b TO sp_alice, sp_bob",
]

PREPARED = [
    # a prepared statement follows the search path (PostgreSQL's plan cache compares it)
    "SET search_path = sp_b", "PREPARE p AS SELECT x FROM sp_t", "EXECUTE p",
    "SET search_path = sp_a", "EXECUTE p",
    "RESET search_path", "EXECUTE p",
    "SET search_path = nosuch, sp_b, public", "EXECUTE p", "SELECT current_schemas(false), current_schema()",
    "RESET search_path",
    # ... and the role ("$user"): sp_alice's own table has another type
    "SET ROLE sp_alice", "CREATE TABLE sp_t (x int)", "INSERT INTO sp_t VALUES (1)", "SELECT x FROM sp_t",
    "EXECUTE p", "EXECUTE p", "PREPARE q AS SELECT x FROM sp_t", "EXECUTE q",
    "RESET ROLE", "EXECUTE p", "EXECUTE q",
]

USER_SCHEMA = [
    # "$user": the role's own schema comes first, and its unqualified CREATE goes there
    "SET ROLE sp_alice",
    "SELECT current_user, current_schemas(true), current_schema()",
    "CREATE TABLE sp_mine (v int)", "CREATE VIEW sp_mine_v AS SELECT v FROM sp_mine",
    "CREATE SEQUENCE sp_mine_seq", "SELECT nextval('sp_mine_seq')",
    "SELECT schemaname, tablename FROM pg_tables WHERE tablename = 'sp_mine'",
    "SELECT 'sp_mine'::regclass::text, 'sp_t'::regclass::text",
    "SELECT pg_table_is_visible('sp_alice.sp_mine'::regclass), pg_table_is_visible('public.sp_t'::regclass)",
    "INSERT INTO sp_mine VALUES (7)", "SELECT v FROM sp_mine_v",
    "CREATE TABLE sp_t (x int)", "SELECT x FROM sp_t", "SELECT x FROM public.sp_t",
    "SET search_path = public", "SELECT current_schemas(false)", "SELECT x FROM sp_t", "CREATE TABLE sp_other (v int)",
    "SET search_path = '$user'", "SELECT current_schemas(false)", "SELECT count(*) FROM sp_mine",
    "RESET search_path",
    # a role without a schema of its name: public alone
    "SET ROLE sp_bob", "SELECT current_schemas(false), current_schema()", "SELECT x FROM sp_t",
    "RESET ROLE",
    "SELECT current_schemas(false)", "SELECT x FROM sp_t",
    # a schema named after the role: the role's path changes at once
    "CREATE SCHEMA sp_bob", "GRANT USAGE ON SCHEMA sp_bob TO sp_bob", "CREATE TABLE sp_bob.sp_t (x text)",
    "INSERT INTO sp_bob.sp_t VALUES ('bob')", "GRANT SELECT ON sp_bob.sp_t TO sp_bob",
    "SET ROLE sp_bob", "SELECT current_schemas(false)", "SELECT x FROM sp_t", "RESET ROLE",
    "REVOKE USAGE ON SCHEMA sp_bob FROM sp_bob",
    "SET ROLE sp_bob", "SELECT current_schemas(false)", "SELECT x FROM sp_t", "RESET ROLE",
]

USAGE = [
    # a schema the role may not use is skipped: the lookup goes on to the next one
    "REVOKE USAGE ON SCHEMA sp_a FROM PUBLIC", "GRANT USAGE ON SCHEMA sp_b TO sp_bob",
    "SET ROLE sp_bob", "SET search_path = sp_a, sp_b, public",
    "SELECT current_schemas(false), current_schema()", "SELECT x FROM sp_t", "SELECT x FROM sp_a.sp_t",
    "SELECT 'sp_t'::regclass::text",
    "SET search_path = sp_a", "SELECT current_schemas(false), current_schema()", "SELECT x FROM sp_t",
    "CREATE TABLE sp_new (v int)",
    "RESET ROLE", "SELECT x FROM sp_t",
    "REVOKE USAGE ON SCHEMA public FROM PUBLIC",
    "SET ROLE sp_bob", "RESET search_path", "SELECT current_schemas(true)", "SELECT x FROM sp_t",
    "SELECT count(*) FROM pg_class WHERE relname = 'sp_t'", "RESET ROLE",
    "GRANT USAGE ON SCHEMA public TO PUBLIC",
]


def _compare(instance: InstanceProcess, pg_oracle: PgOracle, steps: list[str]) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, steps, setup=SETUP, cleanup=CLEANUP)


def test_prepared_statements_follow_search_path_and_role_as_postgres(
        instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    _compare(instance, pg_oracle, PREPARED)


def test_user_schema_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    _compare(instance, pg_oracle, USER_SCHEMA)


def test_schemas_without_usage_are_skipped_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    _compare(instance, pg_oracle, USAGE)


async def _asyncpg_session(url: str) -> list[Any]:
    """asyncpg caches each query's prepared statement: after SET search_path the same text must
    read the other schema's table, and where the result's type changes the server's 0A000 makes
    asyncpg prepare it again (outside a transaction, transparently)."""
    out: list[Any] = []
    conn = await asyncpg.connect(url)
    try:
        query = "SELECT x FROM sp_t"
        for path in ("sp_a", "sp_b", "public", "sp_a"):
            await conn.execute(f"SET search_path = {path}")
            out.append((path, await conn.fetchval(query)))
        await conn.execute('SET search_path = "$user", public')
        await conn.execute("SET ROLE sp_alice")
        await conn.execute("CREATE TABLE sp_t (x int)")
        await conn.execute("INSERT INTO sp_t VALUES (42)")
        out.append(("alice", await conn.fetchval(query)))
        await conn.execute("RESET ROLE")
        out.append(("reset", await conn.fetchval(query)))
        stmt = await conn.prepare(query)
        await conn.execute("SET search_path = sp_b")
        out.append(("explicit", await stmt.fetchval()))
        await conn.execute("SET ROLE sp_alice")
        await conn.execute('SET search_path = "$user"')
        try:
            out.append(("explicit", await stmt.fetchval()))
        except asyncpg.PostgresError as exc:
            out.append(("explicit", exc.sqlstate, type(exc).__name__))
        # a catalog change that changes the result (psycopg would DEALLOCATE ALL after the DDL)
        await conn.execute("RESET ROLE")
        await conn.execute("RESET search_path")
        star = await conn.prepare("SELECT * FROM sp_t")
        out.append(("star", [tuple(r) for r in await star.fetch()]))
        await conn.execute("ALTER TABLE sp_t ADD COLUMN y int DEFAULT 5")
        try:
            out.append(("star", [tuple(r) for r in await star.fetch()]))
        except asyncpg.PostgresError as exc:
            out.append(("star", exc.sqlstate, type(exc).__name__))
        out.append(("star cached", [tuple(r) for r in await conn.fetch("SELECT * FROM sp_t")]))
        await conn.execute("ALTER TABLE sp_t DROP COLUMN y")
        out.append(("star cached", [tuple(r) for r in await conn.fetch("SELECT * FROM sp_t")]))
    finally:
        await conn.close()
    return out


def test_asyncpg_statement_cache_follows_search_path(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    results = []
    for dsn, url in ((pg_oracle.dsn, pg_oracle.url), (instance.dsn, instance.url)):
        run_each(dsn, CLEANUP)
        run_each(dsn, SETUP)
        try:
            results.append(asyncio.run(_asyncpg_session(url)))
        finally:
            run_each(dsn, CLEANUP)
    assert results[1] == results[0]
    assert results[0][:5] == [("sp_a", "a"), ("sp_b", "b"), ("public", "public"), ("sp_a", "a"), ("alice", 42)]
    assert ("star", "0A000", "InvalidCachedStatementError") in results[0]
