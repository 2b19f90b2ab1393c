"""SET ROLE and SET SESSION AUTHORIZATION: current_user / session_user, who owns what a session
creates, PostgreSQL's permission checks and errors, transactional undo (ROLLBACK, SET LOCAL),
RESET, RESET ALL (which keeps them) and DISCARD ALL (which does not); and who may create, alter
and drop roles (superuser, CREATEROLE, a role's own password). Transcripts equal on
PostgreSQL 15 and pgaurora. pgaurora has no privileges to check beyond these (see
docs/architecture/not-built-yet.md), so the objects here are created by superusers, which
PostgreSQL 15 would also allow."""

from __future__ import annotations

from typing import Any

from tests.pgoracle import PgOracle, assert_same_transcripts, statement_transcript
from tests.server.harness import InstanceProcess

OWNERS = ("SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          "WHERE c.relname LIKE 'sr\\_%' ORDER BY 1")
STEPS = [
    "CREATE ROLE sr_app LOGIN", "CREATE ROLE sr_other", "CREATE ROLE sr_admin SUPERUSER",
    "SELECT current_user, session_user, current_role",
    "SHOW role", "SHOW session_authorization", "SHOW is_superuser",
    "SELECT count(*) FROM pg_settings WHERE name IN ('role', 'session_authorization', 'is_superuser')",
    "SET ROLE sr_app",
    "SELECT current_user, session_user, current_setting('role'), current_setting('is_superuser')",
    "SET ROLE sr_other", "SET ROLE postgres", "RESET ROLE", "SELECT current_user",
    "SET ROLE sr_nosuch", "SET ROLE NONE", "SELECT current_user",
    # transactional: undone by ROLLBACK, SET LOCAL ends with its transaction, a COMMIT keeps it
    "BEGIN", "SET ROLE sr_app", "SELECT current_user", "ROLLBACK", "SELECT current_user",
    "BEGIN", "SET LOCAL ROLE sr_app", "SELECT current_user", "COMMIT", "SELECT current_user",
    "BEGIN", "SET ROLE sr_app", "COMMIT", "SELECT current_user",
    "BEGIN", "SAVEPOINT a", "SET ROLE sr_other", "ROLLBACK TO SAVEPOINT a", "SELECT current_user", "COMMIT",
    # a non-superuser session user may not take another role; a superuser login may still
    # change its session user
    "SET SESSION AUTHORIZATION sr_app",
    "SELECT current_user, session_user, current_setting('is_superuser')",
    "SET ROLE sr_other", "SET ROLE sr_app", "SELECT current_user",
    "SELECT pg_cancel_backend(1)",
    "SET SESSION AUTHORIZATION sr_other", "SELECT current_user, session_user",
    "SET SESSION AUTHORIZATION sr_nosuch",
    "SET SESSION AUTHORIZATION postgres", "SET ROLE sr_app", "SET SESSION AUTHORIZATION DEFAULT",
    "SELECT current_user, session_user",
    # what a role creates is its own
    "SET ROLE sr_admin", "SELECT current_user, current_setting('is_superuser')",
    "CREATE TABLE sr_t (id serial PRIMARY KEY, v text)",
    "CREATE VIEW sr_v AS SELECT id FROM sr_t",
    "CREATE SEQUENCE sr_s",
    "CREATE SCHEMA sr_schema",
    "CREATE SCHEMA sr_app_schema AUTHORIZATION sr_app",
    "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname LIKE 'sr\\_%' ORDER BY 1",
    OWNERS,
    "SELECT tableowner FROM pg_tables WHERE tablename = 'sr_t'",
    "RESET ROLE",
    "CREATE TABLE sr_mine (id int)",
    "ALTER TABLE sr_mine OWNER TO sr_other",
    # only an owner (or a superuser) gives a table away, and (without role membership) only to itself
    "SET ROLE sr_app", "ALTER TABLE sr_mine OWNER TO CURRENT_USER", "RESET ROLE",
    "SET ROLE sr_other", "ALTER TABLE sr_mine OWNER TO sr_app", "ALTER TABLE sr_mine OWNER TO sr_other",
    "ALTER SCHEMA sr_app_schema OWNER TO sr_other", "ALTER VIEW sr_v OWNER TO sr_other", "RESET ROLE",
    "ALTER SCHEMA sr_app_schema OWNER TO SESSION_USER",
    "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname LIKE 'sr\\_%' ORDER BY 1",
    OWNERS,
    "SET ROLE sr_admin", "RESET ALL", "SELECT current_user",
    "DISCARD ALL", "SELECT current_user, session_user",
    "SET SESSION AUTHORIZATION 'sr_app'", "RESET SESSION AUTHORIZATION", "SELECT current_user, session_user",
    "SET ROLE sr_app", "SET SESSION AUTHORIZATION sr_other", "SELECT current_user, session_user",
    "RESET ROLE", "SELECT current_user", "SET SESSION AUTHORIZATION DEFAULT",
    "SET LOCAL ROLE sr_app", "SELECT current_user",
]
CLEANUP = ["SET SESSION AUTHORIZATION DEFAULT", "DROP VIEW IF EXISTS sr_v", "DROP TABLE IF EXISTS sr_t, sr_mine",
           "DROP SEQUENCE IF EXISTS sr_s", "DROP SCHEMA IF EXISTS sr_schema", "DROP SCHEMA IF EXISTS sr_app_schema",
           "DROP ROLE IF EXISTS sr_app", "DROP ROLE IF EXISTS sr_other", "DROP ROLE IF EXISTS sr_admin"]


def _transcript(dsn: str) -> list[Any]:
    return statement_transcript(dsn, STEPS, cleanup=CLEANUP)


def test_set_role_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(_transcript, instance.dsn, pg_oracle.dsn)


ROLE_ADMIN = [
    "CREATE ROLE ra_plain LOGIN", "CREATE ROLE ra_creator CREATEROLE LOGIN", "CREATE ROLE ra_super SUPERUSER",
    "SET ROLE ra_plain",  # neither superuser nor CREATEROLE: its own password only
    "CREATE ROLE ra_x", "ALTER ROLE ra_plain SUPERUSER", "ALTER ROLE ra_plain CREATEDB",
    "ALTER ROLE ra_plain PASSWORD 'pw'", "ALTER ROLE CURRENT_USER PASSWORD 'pw'", "ALTER ROLE ra_creator PASSWORD 'pw'",
    "ALTER ROLE ra_plain CONNECTION LIMIT 3", "ALTER ROLE ra_plain VALID UNTIL 'infinity'",
    "DROP ROLE ra_creator", "DROP ROLE IF EXISTS ra_nosuch",
    "RESET ROLE", "SET ROLE ra_creator",  # CREATEROLE: roles that are no superuser, replication or bypassrls
    "CREATE ROLE ra_y", "CREATE ROLE ra_z SUPERUSER", "CREATE ROLE ra_r REPLICATION", "CREATE ROLE ra_b BYPASSRLS",
    "CREATE ROLE ra_c CREATEDB LOGIN PASSWORD 'x'",
    "ALTER ROLE ra_y CREATEDB", "ALTER ROLE ra_y SUPERUSER", "ALTER ROLE ra_super NOSUPERUSER",
    "ALTER ROLE ra_super PASSWORD 'x'", "ALTER ROLE ra_y REPLICATION", "ALTER ROLE ra_plain PASSWORD 'pw2'",
    "DROP ROLE ra_super", "DROP ROLE ra_creator", "DROP ROLE ra_y",
    "RESET ROLE", "SET SESSION AUTHORIZATION ra_plain", "DROP ROLE ra_plain",
    "SET SESSION AUTHORIZATION DEFAULT", "SET ROLE ra_super", "DROP ROLE ra_super", "DROP ROLE postgres", "RESET ROLE",
    "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname LIKE 'ra\\_%' ORDER BY 1",
]
ROLE_ADMIN_CLEANUP = ["RESET ROLE", "SET SESSION AUTHORIZATION DEFAULT"] + [
    f"DROP ROLE IF EXISTS {r}" for r in ("ra_plain", "ra_creator", "ra_super", "ra_x", "ra_y", "ra_z", "ra_r", "ra_b",
                                         "ra_c")]


def _role_admin_transcript(dsn: str) -> list[Any]:
    return statement_transcript(dsn, ROLE_ADMIN, cleanup=ROLE_ADMIN_CLEANUP)


def test_role_administration_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(_role_admin_transcript, instance.dsn, pg_oracle.dsn)
