"""ALTER ... SET SCHEMA and RENAME of relations (and columns) that views name, as PostgreSQL 15: the relation
moves with its indexes and owned sequences (their defaults follow), only its owner with CREATE
on the new schema may move it, and the views (and materialized views) naming it keep working,
because pgaurora rewrites their query text where PostgreSQL holds oids. Transcripts equal on
PostgreSQL 15 and pgaurora."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcripts, statement_transcript
from tests.server.harness import InstanceProcess

CLEANUP = ["RESET ROLE", "DROP SCHEMA IF EXISTS ss_a CASCADE", "DROP SCHEMA IF EXISTS ss_b CASCADE",
           "DROP VIEW IF EXISTS ss_v, ss_v2", "DROP MATERIALIZED VIEW IF EXISTS ss_mv",
           "DROP TABLE IF EXISTS ss_t, ss_t2, ss_other", "DROP SEQUENCE IF EXISTS ss_seq", "DROP ROLE IF EXISTS ss_r"]
SETUP = [
    "CREATE SCHEMA ss_a", "CREATE TABLE ss_t (id serial PRIMARY KEY, v int)", "CREATE INDEX ss_t_v ON ss_t (v)",
    "INSERT INTO ss_t (v) VALUES (1), (2)", "CREATE VIEW ss_v AS SELECT ss_t.id, v FROM ss_t WHERE v > 0",
    "CREATE VIEW ss_v2 AS WITH w AS (SELECT * FROM ss_v) SELECT count(*) AS n FROM w",
    "CREATE MATERIALIZED VIEW ss_mv AS SELECT sum(v) AS s FROM ss_t", "CREATE SEQUENCE ss_seq", "CREATE ROLE ss_r",
]
STEPS = [
    "ALTER TABLE ss_t SET SCHEMA ss_a",
    "SELECT relname, relnamespace::regnamespace FROM pg_class WHERE relname LIKE 'ss_t%' ORDER BY 1",
    "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'ss_a.ss_t'::regclass",
    "SELECT * FROM ss_v ORDER BY id", "SELECT * FROM ss_v2", "REFRESH MATERIALIZED VIEW ss_mv", "SELECT * FROM ss_mv",
    "INSERT INTO ss_a.ss_t (v) VALUES (3) RETURNING id",
    "ALTER TABLE ss_a.ss_t SET SCHEMA ss_a", "ALTER TABLE nosuch SET SCHEMA ss_a",
    "ALTER TABLE IF EXISTS nosuch SET SCHEMA ss_a", "ALTER TABLE ss_a.ss_t SET SCHEMA nosuch",
    "CREATE TABLE ss_other (x int)", "CREATE TABLE ss_a.ss_other (y int)", "ALTER TABLE ss_other SET SCHEMA ss_a",
    "ALTER SEQUENCE ss_a.ss_t_id_seq SET SCHEMA public", "ALTER VIEW ss_v SET SCHEMA ss_a",
    "ALTER VIEW ss_seq SET SCHEMA ss_a", "ALTER SEQUENCE ss_seq SET SCHEMA ss_a",
    "SELECT relnamespace::regnamespace FROM pg_class WHERE relname IN ('ss_v', 'ss_seq') ORDER BY 1",
    "SELECT * FROM ss_v2", "SELECT nextval('ss_a.ss_seq')",
    # only the owner, with CREATE on the schema
    "CREATE SCHEMA ss_b", "ALTER TABLE ss_other OWNER TO ss_r", "SET ROLE ss_r",
    "ALTER TABLE ss_other SET SCHEMA ss_b", "RESET ROLE", "GRANT CREATE ON SCHEMA ss_b TO ss_r", "SET ROLE ss_r",
    "ALTER TABLE ss_other SET SCHEMA ss_b", "RESET ROLE",
    # RENAME: the views follow
    "ALTER TABLE ss_a.ss_t RENAME TO ss_t2", "SELECT * FROM ss_a.ss_v ORDER BY id", "SELECT * FROM ss_v2",
    "REFRESH MATERIALIZED VIEW ss_mv", "SELECT * FROM ss_mv",
    "ALTER VIEW ss_a.ss_v RENAME TO ss_v3", "SELECT * FROM ss_v2",
    "ALTER TABLE ss_a.ss_t2 RENAME COLUMN v TO w", "SELECT * FROM ss_a.ss_v3 ORDER BY id", "SELECT * FROM ss_v2",
    "REFRESH MATERIALIZED VIEW ss_mv", "SELECT * FROM ss_mv",
    "SELECT attname FROM pg_attribute WHERE attrelid = 'ss_a.ss_v3'::regclass AND attnum > 0 ORDER BY attnum",
    "DROP SCHEMA ss_a CASCADE",
]


def test_set_schema_and_renames_with_views_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(lambda dsn: statement_transcript(dsn, STEPS, setup=SETUP, cleanup=CLEANUP, details=True),
                            instance.dsn, pg_oracle.dsn)
