"""Privileges through pg_dump (PostgreSQL 15's binary), both ways.

The same schema with grants (table, view, sequence, column and schema privileges, grant
options, PUBLIC, a revoked owner privilege, REVOKE ... ON SCHEMA public, ALTER DEFAULT
PRIVILEGES globally and in a schema, row security policies) goes into pgaurora and into a database of the PostgreSQL
oracle. pgaurora's dump equals PostgreSQL's line for line; it restores into PostgreSQL with the
same ACLs; PostgreSQL's dump loads into pgaurora with the same ACLs, and the roles can then do
exactly what they could before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.dump.tools import dsn, psql_file, sql_file, tool
from tests.pgoracle import PgOracle, run_each
from tests.server.harness import InstanceProcess, start_instance

ROLES = ("dp_reader", "dp_writer", "dp_owner")
SCHEMA = """\
CREATE SCHEMA shop;
CREATE TABLE shop.items (id serial PRIMARY KEY, name text NOT NULL, price numeric, secret text);
CREATE TABLE public.notes (id int PRIMARY KEY, body text);
CREATE VIEW shop.cheap AS SELECT id, name FROM shop.items WHERE id < 10;
CREATE SEQUENCE public.tickets;
INSERT INTO shop.items (name, price, secret) VALUES ('pen', 2, 'x'), ('desk', 200, 'y');
INSERT INTO public.notes VALUES (1, 'hello');
GRANT USAGE ON SCHEMA shop TO dp_reader, dp_writer;
GRANT SELECT ON shop.cheap TO dp_reader;
GRANT SELECT (id, name, price) ON shop.items TO dp_reader;
GRANT SELECT, INSERT, UPDATE ON shop.items TO dp_writer WITH GRANT OPTION;
GRANT USAGE ON SEQUENCE shop.items_id_seq TO dp_writer;
GRANT SELECT ON public.notes TO PUBLIC;
GRANT UPDATE (body) ON public.notes TO dp_writer;
GRANT USAGE, SELECT ON SEQUENCE public.tickets TO dp_reader;
REVOKE TRUNCATE ON public.notes FROM postgres;
REVOKE CREATE ON SCHEMA public FROM pg_database_owner;
GRANT CREATE ON SCHEMA shop TO dp_owner;
ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO dp_reader;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO dp_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE dp_owner REVOKE ALL ON TABLES FROM PUBLIC;
CREATE POLICY cheap_only ON shop.items FOR SELECT TO dp_reader USING (price < 100);
CREATE POLICY writers ON shop.items TO dp_writer USING (true) WITH CHECK (name <> '');
CREATE POLICY no_secrets ON shop.items AS RESTRICTIVE USING (secret IS NOT NULL);
ALTER TABLE shop.items ENABLE ROW LEVEL SECURITY;
"""
ACLS = [
    "SELECT n.nspname, c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname IN ('shop', 'public') AND c.relkind IN ('r', 'v', 'S') ORDER BY 1, 2",
    "SELECT c.relname, a.attname, a.attacl::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "WHERE a.attacl IS NOT NULL AND c.relnamespace IN ('shop'::regnamespace, 'public'::regnamespace) ORDER BY 1, 2",
    "SELECT nspname, nspacl::text FROM pg_namespace WHERE nspname IN ('shop', 'public') ORDER BY 1",
    "SELECT pg_get_userbyid(defaclrole), defaclnamespace::regnamespace::text, defaclobjtype, defaclacl::text "
    "FROM pg_default_acl ORDER BY 1, 2, 3",
    "SELECT policyname, cmd, permissive, roles::text[] FROM pg_policies ORDER BY 1",
    "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('items', 'notes') ORDER BY 1",
]
AS_ROLES = [  # what the roles may do, once restored
    ("dp_reader", "SELECT id, name FROM shop.items ORDER BY id"), ("dp_reader", "SELECT secret FROM shop.items"),
    ("dp_reader", "SELECT * FROM shop.cheap ORDER BY id"), ("dp_reader", "SELECT nextval('public.tickets')"),
    ("dp_reader", "SELECT id, name, price FROM shop.items ORDER BY id"),
    ("dp_writer", "INSERT INTO shop.items (name, price, secret) VALUES ('', 1, 'z')"),
    ("dp_writer", "UPDATE shop.items SET price = price WHERE id = 1"), ("dp_writer", "DELETE FROM shop.items"),
    ("dp_writer", "UPDATE public.notes SET body = 'x' WHERE false"), ("dp_owner", "SELECT * FROM public.notes"),
    ("dp_owner", "CREATE TABLE public.nope (x int)"),
]


def _pg_dump(port: int, database: str) -> str:
    done = tool("pg_dump", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database)
    assert done.returncode == 0, done.stderr
    return "\n".join(line for line in done.stdout.splitlines()
                     if not line.startswith(("\\restrict", "\\unrestrict", "-- Dumped from")))


def _acls(dsn: str, ordered: bool = True) -> list[Any]:
    """The ACLs; without `ordered` each ACL's items sorted (a restore's REVOKE and GRANT
    statements may leave them in another order, on PostgreSQL as here)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = [conn.execute(sql).fetchall() for sql in ACLS]
    if ordered:
        return found
    return [[tuple(",".join(sorted(v.strip("{}").split(","))) if isinstance(v, str) and v.startswith("{") else v
                   for v in row) for row in rows] for rows in found]


def _behaviour(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for role, sql in AS_ROLES:
            conn.execute(f"SET ROLE {role}")
            try:
                cur = conn.execute(sql)
                out.append(cur.fetchall() if cur.description else cur.statusmessage)
            except psycopg.Error as exc:
                out.append((exc.sqlstate, str(exc).splitlines()[0]))
            conn.execute("RESET ROLE")
    return out


def _roles(dsn: str, create: bool) -> None:
    run_each(dsn, [f"CREATE ROLE {role}" if create else f"DROP ROLE {role}" for role in ROLES])


@pytest.fixture(scope="module")
def schema_file() -> Iterator[str]:
    with sql_file(SCHEMA) as path:
        yield path


@pytest.fixture(scope="module")
def databases(pg_oracle: PgOracle) -> Iterator[list[str]]:
    """Databases of the oracle made here; dropped (then the roles) at the end."""
    _roles(pg_oracle.dsn, True)
    made: list[str] = []
    try:
        yield made
    finally:
        with psycopg.connect(pg_oracle.dsn, autocommit=True) as conn:
            for name in made:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _roles(pg_oracle.dsn, False)


def _database(oracle: PgOracle, made: list[str], name: str) -> str:
    with psycopg.connect(oracle.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    made.append(name)
    return name


@pytest.fixture(scope="module")
def sources(pg_oracle: PgOracle, databases: list[str], schema_file: str) -> Iterator[tuple[InstanceProcess, str]]:
    """(a pgaurora instance holding SCHEMA, the name of an oracle database holding it)."""
    inst = start_instance()
    try:
        _roles(inst.dsn, True)
        loaded = psql_file(inst.port, schema_file, "postgres")
        assert loaded.returncode == 0, loaded.stderr
        name = _database(pg_oracle, databases, "dump_acl_source")
        loaded = psql_file(pg_oracle.port, schema_file, name)
        assert loaded.returncode == 0, loaded.stderr
        yield inst, name
    finally:
        inst.stop()


def test_dump_of_privileges_equals_postgresql(sources: tuple[InstanceProcess, str], pg_oracle: PgOracle) -> None:
    inst, name = sources
    ours, theirs = _pg_dump(inst.port, "postgres"), _pg_dump(pg_oracle.port, name)
    grants = [line for line in theirs.splitlines() if line.startswith(("GRANT", "REVOKE", "ALTER DEFAULT"))]
    assert len(grants) >= 15
    assert len(ours.splitlines()) == len(theirs.splitlines())
    for mine, pg in zip(ours.splitlines(), theirs.splitlines(), strict=True):
        # a policy's expression: PostgreSQL deparses its stored tree, pgaurora keeps the text
        assert mine == pg or (mine.startswith("CREATE POLICY") and pg.startswith(mine.split(" USING")[0])), (mine, pg)
    assert _acls(inst.dsn) == _acls(dsn(pg_oracle.port, name))
    assert _behaviour(inst.dsn) == _behaviour(dsn(pg_oracle.port, name))


def test_pgaurora_dump_restores_privileges_into_postgresql(sources: tuple[InstanceProcess, str], pg_oracle: PgOracle,
                                                           databases: list[str], tmp_path: object) -> None:
    inst, _ = sources
    path = os.path.join(str(tmp_path), "aurora.sql")
    with open(path, "w") as f:
        f.write(_pg_dump(inst.port, "postgres"))
    target = _database(pg_oracle, databases, "dump_acl_from_aurora")
    restored = psql_file(pg_oracle.port, path, target)
    assert restored.returncode == 0, restored.stderr
    assert _acls(dsn(pg_oracle.port, target), False) == _acls(inst.dsn, False)


def test_postgresql_dump_restores_privileges_into_pgaurora(sources: tuple[InstanceProcess, str],
                                                           pg_oracle: PgOracle, tmp_path: object) -> None:
    _, name = sources
    path = os.path.join(str(tmp_path), "postgres.sql")
    with open(path, "w") as f:
        f.write(_pg_dump(pg_oracle.port, name))
    inst = start_instance()
    try:
        _roles(inst.dsn, True)
        loaded = psql_file(inst.port, path, "postgres")
        assert loaded.returncode == 0, loaded.stderr
        source = dsn(pg_oracle.port, name)
        assert _acls(inst.dsn, False) == _acls(source, False)
        assert _behaviour(inst.dsn) == _behaviour(source)
    finally:
        inst.stop()
