"""Ownership in DDL, as PostgreSQL 15 checks it: only an object's owner (or a superuser; for DROP
also the owner of the schema holding it) drops, alters, indexes, comments on, refreshes it;
VACUUM and ANALYZE skip another role's table with a WARNING; DROP SCHEMA refuses a schema that
holds objects (2BP01) unless CASCADE, which drops them and what depends on them. Transcripts
equal on PostgreSQL 15 and pgaurora. Privileges on data (SELECT, TRUNCATE...) and on schemas
(CREATE) need GRANT, which pgaurora does not have: the steps avoid them."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcripts, statement_transcript
from tests.server.harness import InstanceProcess

OWNERSHIP_SETUP = [
    "CREATE ROLE ow_a", "CREATE ROLE ow_b", "CREATE SCHEMA ow_s AUTHORIZATION ow_b",
    "CREATE TABLE ow_t (id int PRIMARY KEY, v int)", "ALTER TABLE ow_t OWNER TO ow_a",
    "CREATE TABLE ow_s.ow_in (id int)", "ALTER TABLE ow_s.ow_in OWNER TO ow_a",
    "CREATE VIEW ow_v AS SELECT 1 AS x", "ALTER VIEW ow_v OWNER TO ow_a",
    "CREATE SEQUENCE ow_seq", "ALTER SEQUENCE ow_seq OWNER TO ow_a",
    "CREATE MATERIALIZED VIEW ow_mv AS SELECT 1 AS x", "ALTER MATERIALIZED VIEW ow_mv OWNER TO ow_a",
    "CREATE INDEX ow_t_v ON ow_t (v)",
]
OWNERSHIP = [
    "SET ROLE ow_b",  # owns the schema ow_s, nothing in public
    "DROP TABLE ow_t", "DROP VIEW ow_v", "DROP SEQUENCE ow_seq", "DROP INDEX ow_t_v", "DROP MATERIALIZED VIEW ow_mv",
    "ALTER TABLE ow_t ADD COLUMN w int", "ALTER TABLE ow_t RENAME TO ow_t2", "ALTER TABLE ow_t ALTER COLUMN v SET DEFAULT 1",
    "CREATE INDEX ow_t_v2 ON ow_t (v)", "COMMENT ON TABLE ow_t IS 'x'", "COMMENT ON COLUMN ow_t.v IS 'x'",
    "REFRESH MATERIALIZED VIEW ow_mv", "ALTER SEQUENCE ow_seq RESTART", "ALTER INDEX ow_t_v RENAME TO ow_t_vv",
    "VACUUM ow_t", "ANALYZE ow_t", "COMMENT ON SCHEMA public IS 'x'",
    "DROP SCHEMA ow_s",            # its owner, but it holds a table
    "DROP TABLE ow_s.ow_in",       # another role's table in the schema it owns
    "SET ROLE ow_a",  # owns the objects in public
    "ALTER TABLE ow_t ADD COLUMN w int", "COMMENT ON TABLE ow_t IS 'mine'",
    "DROP VIEW ow_v", "DROP SEQUENCE ow_seq", "REFRESH MATERIALIZED VIEW ow_mv", "DROP SCHEMA ow_s CASCADE",
    "SELECT obj_description('ow_t'::regclass, 'pg_class'), count(*) FROM pg_indexes WHERE indexname = 'ow_t_v'",
    "RESET ROLE", "ALTER INDEX ow_t_v RENAME TO ow_t_vv", "VACUUM ow_t",
]
OWNERSHIP_CLEANUP = ["RESET ROLE", "DROP SCHEMA IF EXISTS ow_s CASCADE", "DROP TABLE IF EXISTS ow_t, ow_t2",
                     "DROP VIEW IF EXISTS ow_v", "DROP SEQUENCE IF EXISTS ow_seq", "DROP MATERIALIZED VIEW IF EXISTS ow_mv",
                     "DROP ROLE IF EXISTS ow_a", "DROP ROLE IF EXISTS ow_b"]
DROP_SCHEMA = [
    "CREATE SCHEMA dsx", "CREATE TABLE dsx.t1 (id serial PRIMARY KEY)", "CREATE TABLE dsx.t2 (id int REFERENCES dsx.t1)",
    "CREATE VIEW dsx.v AS SELECT * FROM dsx.t1", "CREATE SEQUENCE dsx.s", "CREATE TABLE dsx_ref (id int REFERENCES dsx.t1)",
    "CREATE VIEW dsx_pv AS SELECT * FROM dsx.t2",
    "DROP SCHEMA dsx", "DROP SCHEMA dsx RESTRICT", "DROP SCHEMA dsx CASCADE",
    "SELECT count(*) FROM pg_class WHERE relname LIKE 'dsx%' OR relnamespace = 'public'::regnamespace "
    "AND relname IN ('t1', 't2', 'v', 's')",
    "SELECT conname FROM pg_constraint WHERE conrelid = 'dsx_ref'::regclass",
    "CREATE SCHEMA dsy", "DROP SCHEMA dsy",
    "CREATE SCHEMA dsz", "CREATE TABLE dsz.one (id int)", "DROP SCHEMA dsz", "DROP SCHEMA dsz CASCADE",
    "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ds_'",
]
DROP_SCHEMA_CLEANUP = ["DROP SCHEMA IF EXISTS dsx CASCADE", "DROP SCHEMA IF EXISTS dsy CASCADE",
                       "DROP SCHEMA IF EXISTS dsz CASCADE", "DROP TABLE IF EXISTS dsx_ref", "DROP VIEW IF EXISTS dsx_pv"]


def test_only_owners_change_objects_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(lambda dsn: statement_transcript(
        dsn, OWNERSHIP, setup=OWNERSHIP_SETUP, cleanup=OWNERSHIP_CLEANUP, details=True),
                            instance.dsn, pg_oracle.dsn)


def test_drop_schema_with_objects_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(lambda dsn: statement_transcript(
        dsn, DROP_SCHEMA, cleanup=DROP_SCHEMA_CLEANUP, details=True), instance.dsn, pg_oracle.dsn)
