"""information_schema's privilege views and its privilege filtering, as PostgreSQL 15's
information_schema.sql computes them: table_privileges, role_table_grants, column_privileges,
role_column_grants, usage_privileges, role_usage_grants, enabled_roles, applicable_roles and
administrable_role_authorizations (grantor and grantee names, PUBLIC, the owner's implicit
grant options, a superuser grantee's, with_hierarchy, what a role that is neither grantor nor
grantee is shown), and the rows tables, columns, views, sequences, schemata, table_constraints,
key_column_usage, referential_constraints, constraint_column_usage and check_constraints show a
role that is not a superuser (ownership, privileges held directly, through PUBLIC or through a
role it inherits from, NOINHERIT, schema USAGE, grant options). Each scenario's transcript is
equal on PostgreSQL 15 and pgaurora, as the superuser and after SET ROLE."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pgoracle import PgOracle, run_each, statement_transcript
from tests.server.harness import InstanceProcess

ROLES = ("isp_a", "isp_b", "isp_c", "isp_g", "isp_n", "isp_su")
_CLEANUP = [
    "RESET ROLE", "DROP SCHEMA IF EXISTS isp_s CASCADE", "DROP VIEW IF EXISTS isp_v",
    "DROP TABLE IF EXISTS isp_u, isp_t, isp_own, isp_id, isp_p", "DROP SEQUENCE IF EXISTS isp_seq, isp_seq2",
    *(f"DROP OWNED BY {r}" for r in ROLES), *(f"DROP ROLE {r}" for r in ROLES),
]
_SETUP = [
    "CREATE ROLE isp_a", "CREATE ROLE isp_b", "CREATE ROLE isp_g", "CREATE ROLE isp_c", "CREATE ROLE isp_n NOINHERIT",
    "CREATE ROLE isp_su SUPERUSER", "GRANT isp_g TO isp_c, isp_n",
    "CREATE TABLE isp_t (id int CONSTRAINT isp_t_pk PRIMARY KEY, isp_nn text NOT NULL,"
    " w int CONSTRAINT isp_t_w CHECK (w > 0))",
    "CREATE TABLE isp_u (id int CONSTRAINT isp_u_fk REFERENCES isp_t, z int CONSTRAINT isp_u_z UNIQUE)",
    "CREATE VIEW isp_v AS SELECT id, isp_nn FROM isp_t",
    "CREATE SEQUENCE isp_seq", "CREATE SEQUENCE isp_seq2",
    "CREATE TABLE isp_own (a int CONSTRAINT isp_own_pk PRIMARY KEY)", "ALTER TABLE isp_own OWNER TO isp_b",
    "CREATE TABLE isp_id (a int GENERATED ALWAYS AS IDENTITY, b serial)",
    "CREATE TABLE isp_p (k int, v text) PARTITION BY LIST (k)",
    "CREATE SCHEMA isp_s", "CREATE TABLE isp_s.isp_inner (x int)", "CREATE SEQUENCE isp_s.isp_inner_seq",
]

_ISP = "LIKE 'isp%'"
TABLE_PRIVILEGES = f"SELECT * FROM information_schema.table_privileges WHERE table_name {_ISP} ORDER BY 5, 2, 6, 1, 4, 7"
ROLE_TABLE_GRANTS = f"SELECT * FROM information_schema.role_table_grants WHERE table_name {_ISP} ORDER BY 5, 2, 6, 1, 4, 7"
COLUMN_PRIVILEGES = (f"SELECT * FROM information_schema.column_privileges WHERE table_name {_ISP} "
                     "ORDER BY 5, 6, 2, 7, 1, 4, 8")
ROLE_COLUMN_GRANTS = (f"SELECT * FROM information_schema.role_column_grants WHERE table_name {_ISP} "
                      "ORDER BY 5, 6, 2, 7, 1, 4, 8")
USAGE_PRIVILEGES = f"SELECT * FROM information_schema.usage_privileges WHERE object_name {_ISP} ORDER BY 5, 2, 1, 4, 8"
ROLE_USAGE_GRANTS = f"SELECT * FROM information_schema.role_usage_grants WHERE object_name {_ISP} ORDER BY 5, 2, 1, 4, 8"
COLLATIONS = ("SELECT * FROM information_schema.usage_privileges "
              "WHERE object_type = 'COLLATION' AND object_name IN ('C', 'POSIX') ORDER BY 5")
PREDEFINED_ROLES = ("SELECT * FROM information_schema.applicable_roles "
                    "WHERE grantee LIKE 'pg\\_%' OR role_name = 'pg_database_owner' ORDER BY 1, 2")
ENABLED_ROLES = f"SELECT * FROM information_schema.enabled_roles WHERE role_name {_ISP} ORDER BY 1"
APPLICABLE_ROLES = (f"SELECT * FROM information_schema.applicable_roles WHERE grantee {_ISP} OR role_name {_ISP} "
                    "ORDER BY 1, 2")
ADMINISTRABLE = (f"SELECT * FROM information_schema.administrable_role_authorizations WHERE grantee {_ISP} "
                 "ORDER BY 1, 2")
TABLES = f"SELECT * FROM information_schema.tables WHERE table_name {_ISP} ORDER BY 2, 3"
SYSTEM_TABLES = ("SELECT table_schema, table_name, table_type FROM information_schema.tables "
                 "WHERE table_name IN ('pg_class', 'pg_authid', 'pg_settings', 'pg_shadow', 'pg_subscription', 'tables') "
                 "ORDER BY 2")
SYSTEM_GRANTS = ("SELECT * FROM information_schema.table_privileges "
                 "WHERE table_name IN ('pg_class', 'pg_authid', 'pg_settings', 'tables') ORDER BY 5, 2, 6, 1, 7")
COLUMNS = ("SELECT table_schema, table_name, column_name, ordinal_position, is_nullable, data_type "
           f"FROM information_schema.columns WHERE table_name {_ISP} ORDER BY 2, 4")
VIEWS = f"SELECT table_catalog, table_schema, table_name, view_definition FROM information_schema.views WHERE table_name {_ISP} ORDER BY 3"
SEQUENCES = f"SELECT * FROM information_schema.sequences WHERE sequence_name {_ISP} ORDER BY 2, 3"
SCHEMATA = ("SELECT * FROM information_schema.schemata WHERE schema_name "
            f"{_ISP} OR schema_name IN ('public', 'pg_catalog', 'information_schema', 'pg_toast') ORDER BY 2")
_NAME = "CASE WHEN constraint_name LIKE '%\\_not\\_null' THEN 'not null' ELSE constraint_name END"
TABLE_CONSTRAINTS = (f"SELECT {_NAME}, table_name, constraint_type, is_deferrable, nulls_distinct "
                     f"FROM information_schema.table_constraints WHERE table_name {_ISP} ORDER BY 2, 3, 1, 5")
KEY_COLUMN_USAGE = (f"SELECT * FROM information_schema.key_column_usage WHERE table_name {_ISP} ORDER BY 3, 8")
REFERENTIAL = f"SELECT * FROM information_schema.referential_constraints WHERE constraint_name {_ISP} ORDER BY 3"
CONSTRAINT_COLUMN_USAGE = (f"SELECT * FROM information_schema.constraint_column_usage WHERE table_name {_ISP} "
                           "ORDER BY 7, 4")
CHECK_CONSTRAINTS = (f"SELECT {_NAME}, check_clause FROM information_schema.check_constraints "
                     f"WHERE constraint_name {_ISP} OR check_clause {_ISP} ORDER BY 2, 1")

SYSTEM_COLUMNS = ("SELECT * FROM information_schema.column_privileges WHERE table_name = 'pg_subscription' "
                  "AND (grantee = 'PUBLIC' OR column_name = 'subconninfo') ORDER BY 6, 2, 7, 8")
GRANT_VIEWS = [TABLE_PRIVILEGES, ROLE_TABLE_GRANTS, COLUMN_PRIVILEGES, ROLE_COLUMN_GRANTS, USAGE_PRIVILEGES,
               ROLE_USAGE_GRANTS, COLLATIONS, ENABLED_ROLES, APPLICABLE_ROLES, ADMINISTRABLE, PREDEFINED_ROLES]
FILTERED_VIEWS = [TABLES, COLUMNS, VIEWS, SEQUENCES, SCHEMATA, TABLE_CONSTRAINTS, KEY_COLUMN_USAGE, REFERENTIAL,
                  CONSTRAINT_COLUMN_USAGE, CHECK_CONSTRAINTS, SYSTEM_TABLES, SYSTEM_GRANTS, SYSTEM_COLUMNS]
EVERYTHING = GRANT_VIEWS + FILTERED_VIEWS


def as_role(role: str, queries: list[str]) -> list[str]:
    return [f"SET ROLE {role}", "SELECT current_user", *queries, "RESET ROLE"]


_GRANTS = [
    "GRANT SELECT ON isp_t TO isp_a WITH GRANT OPTION", "GRANT INSERT ON isp_t TO PUBLIC",
    "GRANT UPDATE, TRIGGER ON isp_v TO isp_g", "GRANT USAGE ON SEQUENCE isp_seq TO isp_a",
    "GRANT SELECT ON SEQUENCE isp_seq2 TO isp_b", "GRANT USAGE ON SCHEMA isp_s TO isp_a",
    "GRANT REFERENCES ON isp_u TO isp_b", "GRANT DELETE ON isp_p TO isp_su",
    "GRANT isp_b TO isp_a WITH ADMIN OPTION",
    "SET ROLE isp_a", "GRANT SELECT ON isp_t TO isp_c", "RESET ROLE",
    # column privileges: shown for their columns only; one the table's grant also gives shows once
    "GRANT SELECT (isp_nn), UPDATE (w) ON isp_t TO isp_n", "GRANT REFERENCES (z) ON isp_u TO isp_c WITH GRANT OPTION",
    "GRANT INSERT (isp_nn) ON isp_v TO isp_n", "GRANT SELECT (id) ON isp_t TO isp_a WITH GRANT OPTION",
    "GRANT UPDATE (a) ON isp_own TO isp_g",
    # the same privilege with and without the grant option, both shown YES to a superuser grantee
    "GRANT SELECT ON isp_u TO isp_su", "GRANT SELECT (z) ON isp_u TO isp_su WITH GRANT OPTION",
]

SUPERUSER = [*EVERYTHING, *_GRANTS, *EVERYTHING, *as_role("isp_su", [TABLE_PRIVILEGES, ENABLED_ROLES, TABLES])]
GRANTEES = [
    *as_role("isp_a", EVERYTHING), *_GRANTS,
    *as_role("isp_a", EVERYTHING), *as_role("isp_b", EVERYTHING), *as_role("isp_c", EVERYTHING),
    *as_role("isp_n", [TABLE_PRIVILEGES, COLUMN_PRIVILEGES, ROLE_COLUMN_GRANTS, ENABLED_ROLES, TABLES, COLUMNS, VIEWS,
                       TABLE_CONSTRAINTS, KEY_COLUMN_USAGE, REFERENTIAL]), *as_role("isp_g", GRANT_VIEWS + [TABLES]),
]
CHANGES = [
    *_GRANTS,
    # the owner's own privileges revoked; a role's privileges through PUBLIC only
    "REVOKE ALL ON isp_own FROM isp_b", "REVOKE INSERT ON isp_t FROM PUBLIC", "GRANT SELECT ON isp_own TO PUBLIC",
    *as_role("isp_b", [TABLE_PRIVILEGES, TABLES, TABLE_CONSTRAINTS, KEY_COLUMN_USAGE]),
    *as_role("isp_c", [TABLE_PRIVILEGES, TABLES, COLUMNS, TABLE_CONSTRAINTS, KEY_COLUMN_USAGE]),
    # schema USAGE / CREATE, PUBLIC's USAGE on public taken away
    "REVOKE USAGE ON SCHEMA isp_s FROM isp_a", "GRANT CREATE ON SCHEMA isp_s TO isp_c",
    "REVOKE USAGE ON SCHEMA public FROM PUBLIC",
    *as_role("isp_a", [SCHEMATA, TABLES]), *as_role("isp_c", [SCHEMATA]),
    "GRANT USAGE ON SCHEMA public TO PUBLIC",
    # a new owner, and grant options revoked with what was granted under them
    "ALTER TABLE isp_t OWNER TO isp_g", "REVOKE GRANT OPTION FOR SELECT ON isp_t FROM isp_a CASCADE",
    *as_role("isp_c", [TABLE_PRIVILEGES, COLUMN_PRIVILEGES, VIEWS, TABLE_CONSTRAINTS, REFERENTIAL,
                       CONSTRAINT_COLUMN_USAGE, CHECK_CONSTRAINTS]),
    *as_role("isp_a", [TABLE_PRIVILEGES, ROLE_TABLE_GRANTS, TABLES]),
    "ALTER SEQUENCE isp_seq OWNER TO isp_c", "REVOKE ALL ON SEQUENCE isp_seq2 FROM isp_b",
    "GRANT USAGE ON SEQUENCE isp_seq2 TO PUBLIC WITH GRANT OPTION", "GRANT USAGE ON SEQUENCE isp_seq2 TO PUBLIC",
    "GRANT USAGE ON SEQUENCE isp_seq2 TO isp_a WITH GRANT OPTION",
    USAGE_PRIVILEGES, *as_role("isp_c", [USAGE_PRIVILEGES, ROLE_USAGE_GRANTS, SEQUENCES]),
    *as_role("isp_b", [USAGE_PRIVILEGES, ROLE_USAGE_GRANTS, SEQUENCES]),
    *as_role("isp_a", [USAGE_PRIVILEGES, ROLE_USAGE_GRANTS, SEQUENCES]),
    # one transaction, one catalog, two roles
    "BEGIN", TABLES, "SET ROLE isp_n", TABLES, SCHEMATA, "RESET ROLE", TABLES, "COMMIT",
    "ALTER TABLE isp_t OWNER TO postgres",
]
SCENARIOS: dict[str, list[str]] = {"superuser": SUPERUSER, "grantees": GRANTEES, "changes": CHANGES}


def scenario(dsn: str, name: str) -> list[Any]:
    run_each(dsn, _CLEANUP)
    try:
        return statement_transcript(dsn, SCENARIOS[name], setup=_SETUP, details=True)
    finally:
        run_each(dsn, _CLEANUP)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_information_schema_privileges(name: str, instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    expected = scenario(pg_oracle.dsn, name)
    got = scenario(instance.dsn, name)
    for want, have in zip(expected, got, strict=True):
        assert have == want
