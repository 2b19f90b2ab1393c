"""Fixtures for the system-catalog tests: one pgaurora instance for the package, the same DDL
applied to it and to the PostgreSQL oracle, and helpers that run psql / SQL against both."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess, start_instance

# Names start with cs_ so that meta-command patterns (\dt cs_*) ignore other tests' objects on the
# shared oracle.
DDL = """
CREATE TABLE cs_t (id int PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x', v numeric(10,2), UNIQUE (name));
CREATE TABLE cs_c (cid serial PRIMARY KEY, tid int REFERENCES cs_t(id) ON DELETE CASCADE,
                   note text CHECK (length(note) < 100), created timestamptz DEFAULT now(), flag boolean DEFAULT true,
                   big bigint DEFAULT 5);
CREATE INDEX cs_c_note_idx ON cs_c (note);
CREATE VIEW cs_v AS SELECT id, name FROM cs_t;
CREATE SEQUENCE cs_seq;
CREATE SCHEMA cs_s;
CREATE TABLE cs_s.m (a int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, b text, c int, d date DEFAULT '2020-01-01',
                     e float8 DEFAULT 1.5, f int DEFAULT -1);
CREATE TABLE cs_dd (a int, b int, c text);
ALTER TABLE cs_dd DROP COLUMN b;
CREATE TABLE cs_fk2 (x int, y int, PRIMARY KEY (x, y));
CREATE TABLE cs_fk3 (id int PRIMARY KEY, x int, y int,
                     FOREIGN KEY (x, y) REFERENCES cs_fk2 (x, y) ON UPDATE CASCADE ON DELETE SET NULL);
CREATE ROLE cs_group NOLOGIN;
CREATE ROLE cs_app LOGIN CREATEDB CONNECTION LIMIT 5;
CREATE ROLE cs_admin CREATEROLE;
GRANT cs_group TO cs_app;
GRANT cs_group TO cs_admin WITH ADMIN OPTION;
ALTER TABLE cs_dd OWNER TO cs_app;
"""
CLEANUP = ("DROP VIEW IF EXISTS cs_v; DROP TABLE IF EXISTS cs_c; DROP TABLE IF EXISTS cs_t; DROP SEQUENCE IF EXISTS cs_seq;"
           "DROP TABLE IF EXISTS cs_s.m; DROP SCHEMA IF EXISTS cs_s; DROP TABLE IF EXISTS cs_dd;"
           "DROP TABLE IF EXISTS cs_fk3; DROP TABLE IF EXISTS cs_fk2;"
           "DROP ROLE IF EXISTS cs_app; DROP ROLE IF EXISTS cs_admin; DROP ROLE IF EXISTS cs_group")


@dataclass
class Pair:
    """The same schema on pgaurora (`aurora`) and on PostgreSQL 15 (`oracle`)."""

    aurora: InstanceProcess
    oracle: PgOracle

    def psql(self, port: int, command: str) -> str:
        done = subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres",
                               "-c", command], capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr

    def both_psql(self, command: str) -> tuple[str, str]:
        return self.psql(self.aurora.port, command), self.psql(self.oracle.port, command)

    def query(self, dsn: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return conn.execute(sql, params or None).fetchall()  # type: ignore[arg-type]

    def both(self, sql: str, params: tuple[object, ...] = ()) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        return self.query(self.aurora.dsn, sql, params), self.query(self.oracle.dsn, sql, params)

    def execute_both(self, *statements: str) -> None:
        """Runs `statements` on both servers, in autocommit."""
        for dsn in (self.aurora.dsn, self.oracle.dsn):
            with psycopg.connect(dsn, autocommit=True) as conn:
                for sql in statements:
                    conn.execute(sql)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def with_schema(self, ddl: str, cleanup: str) -> Iterator[Pair]:
        """The pair with `ddl` run on both (after `cleanup`), and `cleanup` run again at the end."""
        self.execute_both(cleanup, ddl)
        try:
            yield self
        finally:
            self.execute_both(cleanup)

    def schema_dump(self, port: int, tables: str) -> list[str]:
        """pg_dump -s of the tables matching `tables` (a pattern), without its version lines."""
        done = subprocess.run(["pg_dump", "-s", "-t", tables, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                               "postgres"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return [line for line in done.stdout.splitlines()
                if not line.startswith(("\\restrict", "\\unrestrict", "-- Dumped from"))]


@pytest.fixture(scope="package")
def pair(pg_oracle: PgOracle) -> Iterator[Pair]:
    inst = start_instance()
    try:
        for dsn in (inst.dsn, pg_oracle.dsn):
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(CLEANUP)
                conn.execute(DDL)
        yield Pair(inst, pg_oracle)
    finally:
        try:
            with psycopg.connect(pg_oracle.dsn, autocommit=True) as conn:
                conn.execute(CLEANUP)
        finally:
            inst.stop()
