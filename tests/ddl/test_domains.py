"""Domains as PostgreSQL 15 has them: CREATE DOMAIN with DEFAULT, NOT NULL and CHECK constraints
(PostgreSQL's default constraint names), columns of domain types checked on INSERT, UPDATE and
COPY with the domain's messages, the domain's default, casts to a domain, DROP DOMAIN with its
dependency error, DROP SCHEMA / DROP OWNED over domains, ALTER DOMAIN (defaults, NOT NULL and CHECK
constraints checked against the stored values, RENAME, OWNER TO), and the
catalogs (pg_type, pg_constraint, pg_attribute, format_type) and psql's \\d. Compared with
PostgreSQL 15 on the same statements."""

from __future__ import annotations

import os
import subprocess

import psycopg

from tests.pgoracle import PgOracle, assert_same_transcript, pg_bindir, run_each
from tests.server.harness import InstanceProcess

CLEANUP = ["RESET ROLE", "DROP TABLE IF EXISTS dm_people, dm_pub", "DROP SCHEMA IF EXISTS dm_s CASCADE",
           "DROP DOMAIN IF EXISTS dm_posint, dm_email, dm_code, dm_mine", "DROP OWNED BY dm_role",
           "DROP ROLE IF EXISTS dm_role"]
STEPS = [
    "CREATE DOMAIN dm_posint AS integer CHECK (VALUE > 0)",
    "CREATE DOMAIN dm_email AS text NOT NULL CONSTRAINT dm_email_at CHECK (VALUE LIKE '%@%') "
    "CHECK (length(VALUE) < 50)",
    "CREATE DOMAIN dm_code AS varchar(5) DEFAULT 'none'",
    "CREATE DOMAIN dm_posint AS int",
    "CREATE DOMAIN dm_bad AS integer CHECK (VALUE)",
    "CREATE TABLE dm_people (id int PRIMARY KEY, age dm_posint, mail dm_email, c dm_code, n int DEFAULT 1)",
    "INSERT INTO dm_people (id, age, mail) VALUES (1, 30, 'a@x')",
    "INSERT INTO dm_people (id, age, mail) VALUES (2, -1, 'a@x')",
    "INSERT INTO dm_people (id, age, mail) VALUES (3, 5, 'nope')",
    "INSERT INTO dm_people (id, age) VALUES (4, 5)",
    "INSERT INTO dm_people (id, age, mail, c) VALUES (5, 7, 'b@x', 'toolong')",
    "UPDATE dm_people SET age = 0",
    "UPDATE dm_people SET age = age + 1 RETURNING age, mail, c",
    "SELECT 5::dm_posint, CAST('x@y' AS dm_email), '3'::dm_posint + 1",
    "SELECT (-5)::dm_posint",
    "SELECT NULL::dm_email",
    "SELECT typname, typtype, typbasetype::regtype, typtypmod, typnotnull FROM pg_type "
    "WHERE typname IN ('dm_posint', 'dm_email', 'dm_code') ORDER BY 1",
    "SELECT conname, contypid::regtype FROM pg_constraint WHERE contypid IN "
    "('dm_posint'::regtype, 'dm_email'::regtype) ORDER BY 1",
    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
    "WHERE attrelid = 'dm_people'::regclass AND attnum > 0 ORDER BY attnum",
    "DROP DOMAIN dm_posint",
    "DROP DOMAIN IF EXISTS dm_nosuch",
    "DROP DOMAIN dm_nosuch",
    "DROP TABLE dm_people",
    "DROP DOMAIN dm_posint, dm_email",
    "CREATE ROLE dm_role",
    "CREATE SCHEMA dm_s",
    "CREATE DOMAIN dm_s.posint AS integer CHECK (VALUE > 0)",
    "CREATE TABLE dm_s.t (a dm_s.posint)",
    "CREATE TABLE dm_pub (b dm_s.posint)",
    "DROP DOMAIN dm_s.posint",
    "DROP SCHEMA dm_s",
    "DROP TABLE dm_pub",
    "DROP SCHEMA dm_s CASCADE",
    "CREATE DOMAIN dm_mine AS text",
    "ALTER DOMAIN dm_mine OWNER TO dm_role",
    "DROP ROLE dm_role",
    "DROP OWNED BY dm_role",
    "SELECT count(*) FROM pg_type WHERE typname = 'dm_mine'",
]


ALTER_CLEANUP = ["DROP TABLE IF EXISTS dm_dt", "DROP DOMAIN IF EXISTS dm_pos", "DROP DOMAIN IF EXISTS dm_posi"]
ALTER = [
    "CREATE DOMAIN dm_pos AS integer",
    "CREATE TABLE dm_dt (a dm_pos, b dm_pos)",
    "INSERT INTO dm_dt VALUES (1, NULL), (-2, 3)",
    "ALTER DOMAIN dm_pos ADD CONSTRAINT dm_pos_check CHECK (VALUE > 0)",
    "ALTER DOMAIN dm_pos SET NOT NULL",
    "DELETE FROM dm_dt WHERE a < 0",
    "ALTER DOMAIN dm_pos ADD CONSTRAINT dm_pos_check CHECK (VALUE > 0)",
    "ALTER DOMAIN dm_pos ADD CHECK (VALUE < 100)",
    "ALTER DOMAIN dm_pos ADD CONSTRAINT dm_pos_check CHECK (VALUE > 5)",
    "ALTER DOMAIN dm_pos SET NOT NULL",
    "UPDATE dm_dt SET b = 2",
    "ALTER DOMAIN dm_pos SET NOT NULL",
    "ALTER DOMAIN dm_pos SET DEFAULT 7",
    "INSERT INTO dm_dt (b) VALUES (8)",
    "INSERT INTO dm_dt VALUES (200, 1)",
    "INSERT INTO dm_dt VALUES (NULL, 1)",
    "ALTER DOMAIN dm_pos DROP NOT NULL",
    "ALTER DOMAIN dm_pos DROP DEFAULT",
    "ALTER DOMAIN dm_pos DROP CONSTRAINT dm_pos_check1",
    "ALTER DOMAIN dm_pos DROP CONSTRAINT nosuch",
    "ALTER DOMAIN dm_pos DROP CONSTRAINT IF EXISTS nosuch",
    "ALTER DOMAIN dm_pos RENAME CONSTRAINT dm_pos_check TO positive",
    "ALTER DOMAIN dm_pos RENAME TO dm_posi",
    "INSERT INTO dm_dt VALUES (-1, 1)",
    "INSERT INTO dm_dt VALUES (500, NULL)",
    "SELECT * FROM dm_dt ORDER BY a NULLS LAST",
    "SELECT conname FROM pg_constraint WHERE contypid = 'dm_posi'::regtype ORDER BY 1",
    "ALTER DOMAIN dm_nosuch SET NOT NULL",
]


def test_alter_domain_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, ALTER, cleanup=ALTER_CLEANUP, details=True)


def test_domains_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=CLEANUP, details=True)


def test_copy_checks_domains_and_fills_defaults_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """COPY FROM a table with a serial key and domain columns left out: their defaults (nextval,
    the domain's), and the domain's CHECK on the copied values."""
    def transcript(dsn: str) -> list[object]:
        run_each(dsn, CLEANUP)
        run_each(dsn, ["CREATE DOMAIN dm_posint AS integer CHECK (VALUE > 0)",
                       "CREATE DOMAIN dm_code AS varchar(5) DEFAULT 'none'",
                       "CREATE TABLE dm_people (id serial PRIMARY KEY, age dm_posint, c dm_code)"])
        out: list[object] = []
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                with conn.cursor().copy("COPY dm_people (age) FROM STDIN") as copy:
                    copy.write_row((9,))
                    copy.write_row((3,))
                out.append(conn.execute("SELECT id, age, c FROM dm_people ORDER BY id").fetchall())
                try:
                    with conn.cursor().copy("COPY dm_people (age) FROM STDIN") as copy:
                        copy.write_row((-9,))
                except psycopg.Error as exc:
                    out.append((exc.sqlstate, str(exc).splitlines()[0]))
        finally:
            run_each(dsn, CLEANUP)
        return out

    expected = transcript(pg_oracle.dsn)
    assert transcript(instance.dsn) == expected


def test_psql_describes_domain_columns_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    outputs = []
    for server in (pg_oracle, instance):
        run_each(server.dsn, CLEANUP)
        run_each(server.dsn, ["CREATE DOMAIN dm_posint AS integer CHECK (VALUE > 0)",
                              "CREATE DOMAIN dm_code AS varchar(5) DEFAULT 'none'",
                              "CREATE TABLE dm_people (id int PRIMARY KEY, age dm_posint, c dm_code NOT NULL)"])
        try:
            done = subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-h", "127.0.0.1", "-p", str(server.port),
                                   "-U", "postgres", "-d", "postgres", "-c", r"\d dm_people"],
                                  capture_output=True, text=True, timeout=60)
            outputs.append(done.stdout + done.stderr)
        finally:
            run_each(server.dsn, CLEANUP)
    assert outputs[1] == outputs[0]
