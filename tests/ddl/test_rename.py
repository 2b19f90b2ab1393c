"""ALTER SCHEMA / ROLE ... RENAME TO (they failed with an internal error), ALTER TABLE ...
RENAME CONSTRAINT (refused; a unique constraint's index follows it) and ALTER TABLE IF EXISTS
... RENAME of a missing table, with PostgreSQL 15's checks and messages: one transcript (notices
and details included), equal on PostgreSQL 15 and pgaurora."""

from __future__ import annotations

from typing import Any

from tests.pgoracle import PgOracle, assert_same_transcripts, statement_transcript
from tests.server.harness import InstanceProcess

CLEANUP = ["RESET ROLE", "SET SESSION AUTHORIZATION DEFAULT", "DROP TABLE IF EXISTS rn_t",
           "DROP SCHEMA IF EXISTS rn_s CASCADE", "DROP SCHEMA IF EXISTS rn_s2 CASCADE", "DROP SCHEMA IF EXISTS rn_x CASCADE"] + [
    f"DROP ROLE IF EXISTS {r}" for r in ("rn_r", "rn_r2", "rn_md5", "rn_md5b", "rn_su", "rn_plain", "rn_creator", "rn_taken")]
STEPS = [
    "CREATE SCHEMA rn_s", "CREATE TABLE rn_s.t (a int)", "CREATE SCHEMA rn_x",
    "ALTER SCHEMA rn_s RENAME TO rn_x", "ALTER SCHEMA rn_nosuch RENAME TO rn_y", "ALTER SCHEMA rn_s RENAME TO rn_s2",
    "SELECT count(*) FROM rn_s2.t", "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rn\\_%' ORDER BY 1",
    "CREATE ROLE rn_r", "CREATE ROLE rn_taken", "CREATE ROLE rn_su SUPERUSER", "CREATE ROLE rn_plain LOGIN", "CREATE ROLE rn_creator CREATEROLE",
    "SET password_encryption = 'md5'", "CREATE ROLE rn_md5 LOGIN PASSWORD 'x'", "RESET password_encryption",
    "ALTER ROLE rn_r RENAME TO rn_taken", "ALTER ROLE rn_nosuch RENAME TO rn_q", "ALTER ROLE rn_r RENAME TO pg_bad",
    "ALTER ROLE rn_r RENAME TO rn_r2", "ALTER ROLE rn_md5 RENAME TO rn_md5b",
    "SELECT rolname, rolpassword IS NULL FROM pg_authid WHERE rolname LIKE 'rn\\_%' ORDER BY 1",
    "ALTER ROLE postgres RENAME TO rn_pg",
    "SET ROLE rn_creator", "ALTER ROLE rn_su RENAME TO rn_su2", "ALTER ROLE rn_plain RENAME TO rn_plain2", "ALTER ROLE rn_plain2 RENAME TO rn_plain", "RESET ROLE",
    "SET ROLE rn_plain", "ALTER ROLE rn_taken RENAME TO rn_t2", "ALTER SCHEMA rn_x RENAME TO rn_z", "RESET ROLE",
    "CREATE TABLE rn_t (a int CONSTRAINT rn_c CHECK (a > 0), b int CONSTRAINT rn_u UNIQUE)",
    "ALTER TABLE rn_t RENAME CONSTRAINT rn_c TO rn_c2", "ALTER TABLE rn_t RENAME CONSTRAINT rn_nosuch TO rn_c3",
    "ALTER TABLE rn_t RENAME CONSTRAINT rn_c2 TO rn_u", "ALTER TABLE rn_t RENAME CONSTRAINT rn_u TO rn_u2",
    "SELECT conname FROM pg_constraint WHERE conrelid = 'rn_t'::regclass ORDER BY 1", "SELECT indexname FROM pg_indexes WHERE tablename = 'rn_t'",
    "INSERT INTO rn_t VALUES (0, 1)",
    "ALTER TABLE IF EXISTS rn_nosuch RENAME TO rn_y", "ALTER TABLE IF EXISTS rn_nosuch RENAME COLUMN a TO b",
]


def _transcript(dsn: str) -> list[Any]:
    return statement_transcript(dsn, STEPS, cleanup=CLEANUP, details=True)


def test_renames_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(_transcript, instance.dsn, pg_oracle.dsn)
