"""Role membership (GRANT role TO member [WITH ADMIN OPTION], REVOKE [ADMIN OPTION FOR]):
who may grant (a superuser for superuser roles, CREATEROLE, the admin option), cycles (0LP01),
NOTICE / WARNING for repeated grants and missing members, pg_auth_members and pg_has_role,
SET ROLE to a role one is a member of, ownership through an inheriting membership and not
through a NOINHERIT one, DROP ROLE taking its memberships along. One transcript (notices
included), equal on PostgreSQL 15 and pgaurora."""

from __future__ import annotations

from typing import Any

from tests.pgoracle import PgOracle, assert_same_transcripts, statement_transcript
from tests.server.harness import InstanceProcess

CLEANUP = ["RESET ROLE", "SET SESSION AUTHORIZATION DEFAULT", "DROP TABLE IF EXISTS gm_t"] + [
    f"DROP ROLE IF EXISTS {r}" for r in ("gm_owner", "gm_dev", "gm_lead", "gm_noinh", "gm_creator", "gm_super")]
MEMBERS = ("SELECT r.rolname, m.rolname, a.admin_option FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
           "JOIN pg_roles m ON m.oid = a.member WHERE r.rolname LIKE 'gm\\_%' ORDER BY 1, 2")
STEPS = [
    "CREATE ROLE gm_owner", "CREATE ROLE gm_dev LOGIN", "CREATE ROLE gm_lead LOGIN",
    "CREATE ROLE gm_noinh NOINHERIT LOGIN", "CREATE ROLE gm_creator CREATEROLE", "CREATE ROLE gm_super SUPERUSER",
    "GRANT gm_owner TO gm_dev", "GRANT gm_owner TO gm_dev", "GRANT gm_dev TO gm_lead WITH ADMIN OPTION",
    "GRANT gm_owner TO gm_noinh",
    "GRANT gm_lead TO gm_owner", "GRANT gm_owner TO gm_owner",  # cycles
    "GRANT gm_nosuch TO gm_dev", "GRANT gm_owner TO gm_nosuch",
    "SELECT r.rolname, m.rolname, g.rolname, a.admin_option FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
    "JOIN pg_roles m ON m.oid = a.member JOIN pg_roles g ON g.oid = a.grantor WHERE r.rolname LIKE 'gm\\_%' ORDER BY 1, 2",
    "SELECT pg_has_role('gm_lead', 'gm_owner', 'MEMBER'), pg_has_role('gm_lead', 'gm_owner', 'USAGE'), "
    "pg_has_role('gm_noinh', 'gm_owner', 'MEMBER'), pg_has_role('gm_noinh', 'gm_owner', 'USAGE'), "
    "pg_has_role('gm_dev', 'gm_lead', 'MEMBER')",
    "CREATE TABLE gm_t (id int)", "ALTER TABLE gm_t OWNER TO gm_owner",
    # a member (through gm_dev) acts as the owner, and may SET ROLE to it, not to a role it is no member of
    "SET SESSION AUTHORIZATION gm_lead",
    "SELECT pg_has_role('gm_owner', 'MEMBER'), pg_has_role('gm_super', 'MEMBER')",
    "ALTER TABLE gm_t ADD COLUMN v int",
    "SET ROLE gm_owner", "SELECT current_user", "SET ROLE gm_super", "RESET ROLE",
    # the admin option on gm_dev lets it grant gm_dev, not gm_owner
    "GRANT gm_dev TO gm_noinh", "REVOKE gm_dev FROM gm_noinh", "GRANT gm_owner TO gm_noinh",
    # NOINHERIT: a member, but without the owner's privileges until SET ROLE
    "SET SESSION AUTHORIZATION gm_noinh",
    "ALTER TABLE gm_t ADD COLUMN w int", "SET ROLE gm_owner", "ALTER TABLE gm_t ADD COLUMN w int", "RESET ROLE",
    # CREATEROLE grants any role but a superuser
    "SET SESSION AUTHORIZATION DEFAULT", "SET ROLE gm_creator",
    "GRANT gm_dev TO gm_noinh", "GRANT gm_super TO gm_noinh", "REVOKE gm_dev FROM gm_noinh",
    "REVOKE gm_dev FROM gm_noinh", "RESET ROLE",
    "REVOKE ADMIN OPTION FOR gm_dev FROM gm_lead", MEMBERS,
    "DROP TABLE gm_t", "DROP ROLE gm_dev", MEMBERS,
]


def _transcript(dsn: str) -> list[Any]:
    return statement_transcript(dsn, STEPS, cleanup=CLEANUP)


def test_role_membership_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(_transcript, instance.dsn, pg_oracle.dsn)


OWNED_CLEANUP = ["RESET ROLE", "DROP TABLE IF EXISTS dr_t, dr_u", "DROP VIEW IF EXISTS dr_v", "DROP SEQUENCE IF EXISTS dr_s",
                 "DROP SCHEMA IF EXISTS dr_sch CASCADE"] + [f"DROP ROLE IF EXISTS {r}" for r in ("dr_a", "dr_b", "dr_c")]
OWNERS = ("SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.relname LIKE 'dr\\_%' "
          "UNION ALL SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname LIKE 'dr\\_%' ORDER BY 1")
OWNED = [
    "CREATE ROLE dr_a", "CREATE ROLE dr_b", "CREATE ROLE dr_c LOGIN",
    "CREATE TABLE dr_t (id serial PRIMARY KEY)", "ALTER TABLE dr_t OWNER TO dr_a",
    "CREATE VIEW dr_v AS SELECT 1 AS x", "ALTER VIEW dr_v OWNER TO dr_a",
    "CREATE SCHEMA dr_sch AUTHORIZATION dr_a", "CREATE SEQUENCE dr_s", "ALTER SEQUENCE dr_s OWNER TO dr_a",
    "DROP ROLE dr_a",  # it owns objects: 2BP01, each listed
    "SET ROLE dr_c", "REASSIGN OWNED BY dr_a TO dr_b", "DROP OWNED BY dr_a", "RESET ROLE",
    "REASSIGN OWNED BY dr_a TO dr_nosuch",
    "REASSIGN OWNED BY dr_a TO dr_b", OWNERS,
    "DROP ROLE dr_a",
    "CREATE TABLE dr_u (id int)", "ALTER TABLE dr_u OWNER TO dr_b",
    "DROP OWNED BY dr_b", OWNERS,
    "DROP ROLE dr_b",
]


def _owned_transcript(dsn: str) -> list[Any]:
    return statement_transcript(dsn, OWNED, cleanup=OWNED_CLEANUP, details=True)


def test_owned_objects_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """DROP ROLE of an owner (2BP01), REASSIGN OWNED and DROP OWNED and who may run them."""
    assert_same_transcripts(_owned_transcript, instance.dsn, pg_oracle.dsn)


CREATE_IN_CLEANUP = ["DROP ROLE IF EXISTS ci_x", "DROP ROLE IF EXISTS ci_u", "DROP ROLE IF EXISTS ci_g",
                     "DROP ROLE IF EXISTS ci_m", "DROP ROLE IF EXISTS ci_bad"]
CREATE_IN = [
    "CREATE ROLE ci_g", "CREATE ROLE ci_m", "CREATE ROLE ci_x IN ROLE ci_g ROLE ci_m ADMIN postgres",
    "SELECT r.rolname, m.rolname, a.admin_option, pg_get_userbyid(a.grantor) FROM pg_auth_members a "
    "JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
    "WHERE r.rolname IN ('ci_g', 'ci_x') ORDER BY 1, 2",
    "CREATE ROLE ci_bad IN ROLE nosuch", "SELECT count(*) FROM pg_roles WHERE rolname = 'ci_bad'",
    "CREATE USER ci_u IN GROUP ci_g", "SELECT pg_has_role('ci_u', 'ci_g', 'member')",
]


def test_create_role_memberships_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """CREATE ROLE ... IN ROLE / ROLE / ADMIN makes the memberships GRANT would."""
    assert_same_transcripts(lambda dsn: statement_transcript(dsn, CREATE_IN, cleanup=CREATE_IN_CLEANUP, details=True),
                            instance.dsn, pg_oracle.dsn)


SHARED_COMMENTS_CLEANUP = ["RESET ROLE", "COMMENT ON DATABASE postgres IS NULL", "DROP ROLE IF EXISTS sc_a",
                           "DROP ROLE IF EXISTS sc_b"]
SHARED_COMMENTS = [
    "CREATE ROLE sc_a", "CREATE ROLE sc_b", "COMMENT ON ROLE sc_a IS 'a role'", "COMMENT ON DATABASE postgres IS 'the db'",
    "COMMENT ON ROLE nosuch IS 'x'", "COMMENT ON DATABASE nosuch IS 'x'",
    "SELECT shobj_description('sc_a'::regrole, 'pg_authid'), "
    "shobj_description((SELECT oid FROM pg_database WHERE datname = 'postgres'), 'pg_database')",
    "SELECT classoid, description FROM pg_shdescription WHERE description IN ('a role', 'the db') ORDER BY 1",
    "SET ROLE sc_b", "COMMENT ON ROLE sc_a IS 'x'", "COMMENT ON DATABASE postgres IS 'x'", "RESET ROLE",
    "COMMENT ON ROLE sc_a IS NULL", "SELECT count(*) FROM pg_shdescription WHERE description = 'a role'",
    "COMMENT ON ROLE sc_b IS 'b'", "DROP ROLE sc_b", "SELECT count(*) FROM pg_shdescription WHERE description = 'b'",
]


def test_comments_on_roles_and_databases_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """COMMENT ON ROLE / DATABASE (pg_shdescription, shobj_description, psql's \\du+ and \\l+)."""
    assert_same_transcripts(lambda dsn: statement_transcript(dsn, SHARED_COMMENTS, cleanup=SHARED_COMMENTS_CLEANUP,
                                                             details=True), instance.dsn, pg_oracle.dsn)
