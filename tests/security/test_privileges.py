"""Privileges on objects, as PostgreSQL 15 grants and checks them: GRANT / REVOKE on tables,
views, sequences, schemas and the database (grant options, GRANTED BY, CASCADE, ALL ... IN
SCHEMA, PUBLIC), the ACLs the catalogs show (relacl, nspacl, datacl, aclexplode,
has_*_privilege), the checks statements make (SELECT, INSERT, UPDATE and DELETE with and
without reading columns, RETURNING, ON CONFLICT, FOR UPDATE / SHARE, views read with their
owner's privileges, TRUNCATE, LOCK TABLE, sequences, foreign keys, CREATE in a schema and the
database, temporary tables, schema USAGE, COPY, EXPLAIN) and what owner changes, DROP ROLE,
DROP OWNED and REASSIGN OWNED do to them. Each scenario's transcript (rows, tags, errors with
SQLSTATE and DETAIL, notices and warnings) is equal on PostgreSQL 15 and pgaurora."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.pgoracle import PgOracle, run_each, statement_transcript
from tests.server.harness import InstanceProcess

ROLES = ("pv_a", "pv_b", "pv_c")
_CLEANUP = [
    "RESET ROLE", "DROP SCHEMA IF EXISTS pvs CASCADE", "DROP VIEW IF EXISTS pv_view, pv_view2",
    "DROP TABLE IF EXISTS pv_t, pv_u, pv_fk, pv_mine, pv_part, pv_ins", "DROP SEQUENCE IF EXISTS pv_seq",
    *(f"DROP OWNED BY {r}" for r in ROLES), *(f"DROP ROLE {r}" for r in ROLES),
    # PostgreSQL keeps a database ACL explicit once granted on; later tests compare \l with a
    # fresh pgaurora, so the shared oracle gets its default back (pgaurora refuses this: its
    # instance is this module's alone)
    "UPDATE pg_database SET datacl = NULL WHERE datname = 'postgres'",
]
_SETUP = [
    *(f"CREATE ROLE {r} LOGIN" for r in ROLES),
    "CREATE TABLE pv_t (id serial PRIMARY KEY, v text)", "INSERT INTO pv_t (v) VALUES ('one'), ('two')",
    "CREATE SEQUENCE pv_seq", "CREATE SCHEMA pvs", "CREATE TABLE pvs.inner_t (x int)",
    "CREATE VIEW pv_view AS SELECT id, v FROM pv_t",
]

GRANT_REVOKE = [
    "SELECT relacl FROM pg_class WHERE relname = 'pv_t'",
    "GRANT SELECT, INSERT ON pv_t TO pv_a",
    "GRANT UPDATE ON TABLE pv_t TO pv_b WITH GRANT OPTION",
    "GRANT ALL ON pv_t TO PUBLIC",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_t'",
    "REVOKE ALL ON pv_t FROM PUBLIC",
    "GRANT USAGE ON TABLE pv_t TO pv_a", "GRANT INSERT ON SEQUENCE pv_seq TO pv_a",
    "GRANT SELECT, INSERT ON TABLE pv_seq TO pv_a", "GRANT ALL ON SEQUENCE pv_seq TO pv_b",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_seq'",
    "GRANT SELECT ON nosuch TO pv_a", "GRANT SELECT ON pv_t TO nosuch", "GRANT SELECT ON SEQUENCE pv_t TO pv_a",
    "GRANT USAGE, CREATE ON SCHEMA pvs TO pv_a", "GRANT SELECT ON SCHEMA pvs TO pv_a", "GRANT USAGE ON SCHEMA nosuch TO pv_a",
    "SELECT nspacl FROM pg_namespace WHERE nspname = 'pvs'",
    "GRANT CREATE ON SCHEMA public TO pv_c",
    "SELECT nspacl FROM pg_namespace WHERE nspname = 'public'",
    "GRANT TEMP, CONNECT ON DATABASE postgres TO pv_c", "GRANT SELECT ON DATABASE postgres TO pv_c",
    "GRANT CONNECT ON DATABASE nosuch TO pv_c",
    "SELECT datacl FROM pg_database WHERE datname = 'postgres'",
    "GRANT SELECT ON ALL TABLES IN SCHEMA pvs TO pv_b", "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO pv_c",
    "SELECT relname, relacl FROM pg_class WHERE relname IN ('inner_t', 'pv_seq', 'pv_t_id_seq') ORDER BY 1",
    # grant options: pv_b may pass UPDATE on, nothing else
    "SET ROLE pv_b",
    "GRANT UPDATE ON pv_t TO pv_c", "GRANT SELECT, UPDATE ON pv_t TO pv_c", "GRANT SELECT ON pv_t TO pv_c",
    "GRANT DELETE ON pv_t TO pv_c",
    "REVOKE SELECT ON pv_t FROM pv_a",
    "GRANT UPDATE ON pv_t TO pv_a GRANTED BY CURRENT_USER",
    "GRANT UPDATE ON pv_t TO pv_a GRANTED BY pv_c",
    "RESET ROLE",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_t'",
    "SELECT a.privilege_type, a.is_grantable, pg_get_userbyid(a.grantor), coalesce(pg_get_userbyid(a.grantee), '-') "
    "FROM pg_class c, aclexplode(c.relacl) a WHERE c.relname = 'pv_t' ORDER BY 4, 1",
    "REVOKE GRANT OPTION FOR UPDATE ON pv_t FROM pv_b",
    "REVOKE GRANT OPTION FOR UPDATE ON pv_t FROM pv_b CASCADE",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_t'",
    "GRANT SELECT ON pv_t TO PUBLIC WITH GRANT OPTION",
    "REVOKE INSERT ON pv_t FROM pv_a", "REVOKE ALL PRIVILEGES ON pv_t FROM pv_b, pv_c",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_t'",
    "SET ROLE pv_a", "GRANT SELECT ON pv_t TO pv_b", "REVOKE SELECT ON pv_t FROM pv_b", "RESET ROLE",
    "GRANT SELECT ON pv_seq TO postgres WITH GRANT OPTION", "GRANT SELECT (v) ON pv_t TO postgres WITH GRANT OPTION",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_seq'",
    "SELECT attacl FROM pg_attribute WHERE attrelid = 'pv_t'::regclass AND attname = 'v'",
    "REVOKE ALL ON pv_t FROM postgres",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_t'",
    "SELECT count(*) FROM pv_t",
    "GRANT ALL ON pv_t TO postgres",
]
HAS_PRIVILEGE = [
    "GRANT SELECT ON pv_t TO pv_a", "GRANT UPDATE ON pv_t TO pv_b WITH GRANT OPTION", "GRANT USAGE ON SCHEMA pvs TO pv_a",
    "GRANT USAGE ON SEQUENCE pv_seq TO pv_c", "REVOKE TEMP ON DATABASE postgres FROM PUBLIC",
    "SELECT has_table_privilege('pv_a', 'pv_t', 'SELECT'), has_table_privilege('pv_a', 'pv_t', 'insert'), "
    "has_table_privilege('pv_a', 'pv_t', 'INSERT, select'), has_table_privilege('pv_b', 'pv_t', 'update with grant option'), "
    "has_table_privilege('pv_a', 'pv_t', 'SELECT WITH GRANT OPTION'), has_table_privilege('postgres', 'pv_t', 'DELETE')",
    "SELECT has_table_privilege('pv_a', 'pv_t', 'USAGE')", "SELECT has_table_privilege('nosuch', 'pv_t', 'SELECT')",
    "SELECT has_table_privilege('pv_a', 'nosuch', 'SELECT')",
    "SELECT has_table_privilege('pv_a', 'pv_t'::regclass::oid, 'SELECT'), has_table_privilege('pv_a', 99999::oid, 'SELECT')",
    "SELECT has_table_privilege('pv_a', 'pg_class', 'SELECT'), has_table_privilege('pv_a', 'pg_class', 'UPDATE'), "
    "has_table_privilege('pv_a', 'pg_authid', 'SELECT'), has_table_privilege('pv_a', 'pg_settings', 'UPDATE'), "
    "has_column_privilege('pv_a', 'pg_class', 'relname', 'SELECT'), has_any_column_privilege('pv_a', 'pg_authid', 'SELECT'), "
    "has_schema_privilege('pv_a', 'pg_catalog', 'USAGE'), has_schema_privilege('pv_a', 'pg_catalog', 'CREATE'), "
    "has_schema_privilege('pv_a', 'pg_toast', 'USAGE'), has_schema_privilege('pv_a', 'information_schema', 'USAGE')",
    "SELECT has_sequence_privilege('pv_c', 'pv_seq', 'USAGE'), has_sequence_privilege('pv_a', 'pv_seq', 'SELECT')",
    "SELECT has_sequence_privilege('pv_c', 'pv_t', 'USAGE')",
    "SELECT has_schema_privilege('pv_a', 'pvs', 'USAGE'), has_schema_privilege('pv_a', 'pvs', 'CREATE'), "
    "has_schema_privilege('pv_b', 'public', 'USAGE'), has_schema_privilege('pv_b', 'public', 'CREATE'), "
    "has_schema_privilege('postgres', 'public', 'CREATE')",
    "SELECT has_schema_privilege('pv_a', 'nosuch', 'USAGE')",
    "SELECT has_database_privilege('pv_a', 'postgres', 'CONNECT'), has_database_privilege('pv_a', 'postgres', 'TEMP'), "
    "has_database_privilege('pv_a', 'postgres', 'CREATE')",
    "SELECT has_database_privilege('pv_a', 'nosuch', 'CONNECT')",
    "SELECT has_column_privilege('pv_a', 'pv_t', 'v', 'SELECT'), has_column_privilege('pv_a', 'pv_t', 'v', 'UPDATE'), "
    "has_any_column_privilege('pv_a', 'pv_t', 'SELECT'), has_any_column_privilege('pv_b', 'pv_t', 'INSERT')",
    "SELECT has_column_privilege('pv_a', 'pv_t', 'nosuch', 'SELECT')",
    "SET ROLE pv_a",
    "SELECT has_table_privilege('pv_t', 'SELECT'), has_table_privilege('pv_t', 'DELETE'), current_user",
    "RESET ROLE",
    "GRANT TEMP ON DATABASE postgres TO PUBLIC",
]
ENFORCEMENT = [
    "GRANT SELECT ON pv_view TO pv_a", "GRANT SELECT (id) ON pv_t TO pv_b",
    "SET ROLE pv_a",
    "SELECT * FROM pv_view ORDER BY id", "SELECT * FROM pv_t", "SELECT 1 FROM pv_t LIMIT 1",
    "SELECT count(*) FROM pv_view v JOIN pv_t t USING (id)",
    "SELECT (SELECT count(*) FROM pv_t)", "WITH w AS (SELECT * FROM pv_t) SELECT count(*) FROM w",
    "EXPLAIN (COSTS OFF) SELECT * FROM pv_t",
    "INSERT INTO pv_t (v) VALUES ('three')", "UPDATE pv_t SET v = 'x'", "DELETE FROM pv_t",
    "TRUNCATE pv_t", "SELECT * FROM pv_view FOR UPDATE",
    "SELECT nextval('pv_seq')", "SELECT currval('pv_seq')", "SELECT setval('pv_seq', 10)",
    "CREATE TABLE pv_mine (id int)", "CREATE SCHEMA pv_new", "SELECT * FROM pvs.inner_t",
    "RESET ROLE",
    "GRANT INSERT, UPDATE, DELETE ON pv_t TO pv_a", "GRANT USAGE ON SEQUENCE pv_t_id_seq TO pv_b",
    "SET ROLE pv_a",
    "INSERT INTO pv_t (v) VALUES ('three')", "INSERT INTO pv_t (id, v) VALUES (10, 'ten')",
    "INSERT INTO pv_t (id, v) VALUES (11, 'eleven') RETURNING id", "INSERT INTO pv_t (id, v) VALUES (12, 'x') RETURNING 1",
    "INSERT INTO pv_t (id, v) VALUES (12, 'x') ON CONFLICT DO NOTHING",
    "INSERT INTO pv_t (id, v) VALUES (12, 'x') ON CONFLICT (id) DO NOTHING",
    "INSERT INTO pv_t (id, v) VALUES (12, 'y') ON CONFLICT (id) DO UPDATE SET v = excluded.v",
    "UPDATE pv_t SET v = 'x' WHERE false", "UPDATE pv_t SET v = 'all'", "UPDATE pv_t SET v = v || '!'",
    "UPDATE pv_t SET v = 'z' WHERE id = 10", "UPDATE pv_t SET v = 'r' RETURNING 1",
    "UPDATE pv_t SET v = 'r' RETURNING *",
    "DELETE FROM pv_t WHERE id = 12", "SELECT * FROM pv_t FOR SHARE",
    "WITH d AS (DELETE FROM pv_t WHERE false RETURNING 1) SELECT count(*) FROM d",
    "RESET ROLE",
    "GRANT SELECT ON pv_t TO pv_a",
    "SET ROLE pv_a",
    "UPDATE pv_t SET v = v || '!' WHERE id = 10 RETURNING v", "SELECT id, v FROM pv_t WHERE id = 10 FOR UPDATE",
    "DELETE FROM pv_t WHERE id = 11 RETURNING id",
    "LOCK TABLE pv_t IN ACCESS SHARE MODE", "BEGIN", "LOCK TABLE pv_t IN ACCESS SHARE MODE",
    "LOCK TABLE pv_t IN ROW EXCLUSIVE MODE", "LOCK TABLE pv_t IN EXCLUSIVE MODE", "COMMIT",
    "BEGIN", "LOCK TABLE pv_seq", "ROLLBACK", "BEGIN", "LOCK TABLE pvs.inner_t IN ACCESS SHARE MODE", "ROLLBACK",
    "RESET ROLE",
    # a view reads with its owner's privileges
    "CREATE VIEW pv_view2 AS SELECT count(*) AS n FROM pvs.inner_t", "ALTER VIEW pv_view2 OWNER TO pv_b",
    "GRANT SELECT ON pv_view2 TO pv_c",
    "SET ROLE pv_c", "SELECT * FROM pv_view2", "RESET ROLE",
    "GRANT USAGE ON SCHEMA pvs TO pv_b",
    "SET ROLE pv_c", "SELECT * FROM pv_view2", "RESET ROLE",
    "GRANT SELECT ON pvs.inner_t TO pv_b",
    "SET ROLE pv_c", "SELECT * FROM pv_view2", "SELECT * FROM pvs.inner_t", "RESET ROLE",
    # an updatable view: the view's privileges for the user, the table's for the view's owner
    "GRANT INSERT ON pv_view TO pv_c",
    "SET ROLE pv_c", "INSERT INTO pv_view (id, v) VALUES (20, 'via view')", "UPDATE pv_view SET v = 'w'", "RESET ROLE",
    "SELECT id, v FROM pv_t ORDER BY id",
    # TRUNCATE, foreign keys (REFERENCES), CREATE in schemas and the database, temporary tables
    "GRANT TRUNCATE ON pv_t TO pv_c",
    "CREATE TABLE pv_fk (id int REFERENCES pv_t)", "ALTER TABLE pv_fk OWNER TO pv_c",
    "SET ROLE pv_c", "TRUNCATE pv_t", "TRUNCATE pv_fk, pv_t", "ALTER TABLE pv_fk ADD FOREIGN KEY (id) REFERENCES pv_t",
    "CREATE TABLE pv_mine (id int REFERENCES pv_t)", "RESET ROLE",
    "GRANT REFERENCES ON pv_t TO pv_c", "GRANT CREATE ON SCHEMA public TO pv_c",
    "SET ROLE pv_c", "ALTER TABLE pv_fk ADD FOREIGN KEY (id) REFERENCES pv_t",
    "CREATE TABLE pv_mine (id int REFERENCES pv_t)", "CREATE INDEX pv_mine_id ON pv_mine (id)",
    "CREATE SEQUENCE pvs.s", "CREATE VIEW pvs.v AS SELECT 1", "RESET ROLE",
    "REVOKE TEMP ON DATABASE postgres FROM PUBLIC",
    "SET ROLE pv_c", "CREATE TEMP TABLE pv_tmp (id int)", "RESET ROLE",
    "GRANT TEMP ON DATABASE postgres TO PUBLIC", "GRANT CREATE ON DATABASE postgres TO pv_c",
    "SET ROLE pv_c", "CREATE TEMP TABLE pv_tmp (id int)", "DROP TABLE pv_tmp", "CREATE SCHEMA pv_c_s",
    "DROP SCHEMA pv_c_s", "RESET ROLE",
    # schema USAGE
    "GRANT SELECT ON pvs.inner_t TO pv_a",
    "SET ROLE pv_a", "SELECT count(*) FROM pvs.inner_t", "RESET ROLE",
    "GRANT USAGE ON SCHEMA pvs TO pv_a",
    "SET ROLE pv_a", "SELECT count(*) FROM pvs.inner_t", "RESET ROLE",
    "REVOKE USAGE ON SCHEMA public FROM PUBLIC",
    "SET ROLE pv_b", "SELECT * FROM pv_t", "RESET ROLE",
    "GRANT USAGE ON SCHEMA public TO PUBLIC",
    # sequences: USAGE or UPDATE for nextval, USAGE or SELECT for currval, UPDATE for setval
    "GRANT USAGE ON SEQUENCE pv_seq TO pv_b", "GRANT SELECT ON SEQUENCE pv_seq TO pv_c",
    "SET ROLE pv_b", "SELECT nextval('pv_seq')", "SELECT currval('pv_seq')", "SELECT setval('pv_seq', 5)", "RESET ROLE",
    "SET ROLE pv_c", "SELECT last_value FROM pv_seq", "SELECT nextval('pv_seq')", "RESET ROLE",
    # a partitioned table: its privileges, not its partitions'
    "CREATE TABLE pv_part (id int, v text) PARTITION BY RANGE (id)",
    "CREATE TABLE pvs.pv_part_1 PARTITION OF pv_part FOR VALUES FROM (0) TO (100)",
    "GRANT SELECT, INSERT, UPDATE ON pv_part TO pv_a",
    "SET ROLE pv_a", "INSERT INTO pv_part VALUES (1, 'a')", "UPDATE pv_part SET v = 'b' WHERE id = 1",
    "SELECT * FROM pv_part", "DELETE FROM pv_part", "SELECT * FROM pvs.pv_part_1", "RESET ROLE",
    # an owner without CREATE on the schema may alter its table but not rename it or index it
    "CREATE TABLE pvs.rn (a int)", "CREATE SEQUENCE pvs.rn_seq", "ALTER TABLE pvs.rn OWNER TO pv_a",
    "ALTER SEQUENCE pvs.rn_seq OWNER TO pv_a",
    "SET ROLE pv_a", "ALTER TABLE pvs.rn RENAME TO rn2", "ALTER SEQUENCE pvs.rn_seq RENAME TO rn_seq2",
    "ALTER TABLE pvs.rn ADD COLUMN b int", "CREATE INDEX rn_a ON pvs.rn (a)", "RESET ROLE",
    "GRANT CREATE ON SCHEMA pvs TO pv_a",
    "SET ROLE pv_a", "ALTER TABLE pvs.rn RENAME TO rn2", "CREATE INDEX rn_a ON pvs.rn2 (a)", "RESET ROLE",
]
OWNERS = [
    "GRANT SELECT ON pv_t TO pv_a", "GRANT USAGE ON SCHEMA pvs TO pv_a", "GRANT CONNECT ON DATABASE postgres TO pv_a",
    "GRANT USAGE ON pv_seq TO pv_a", "GRANT SELECT ON pv_view TO pv_a WITH GRANT OPTION",
    "DROP ROLE pv_a",
    "ALTER TABLE pv_t OWNER TO pv_a", "SELECT relacl FROM pg_class WHERE relname = 'pv_t'",
    "ALTER TABLE pv_t OWNER TO pv_b",
    "SELECT relname, relacl FROM pg_class WHERE relname IN ('pv_t', 'pv_t_id_seq') ORDER BY 1",
    "SET ROLE pv_a", "GRANT SELECT ON pv_view TO pv_c", "RESET ROLE",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_view'",
    "DROP OWNED BY pv_a",
    "SELECT relname, relacl FROM pg_class WHERE relname IN ('pv_t', 'pv_seq', 'pv_view') ORDER BY 1",
    "SELECT nspacl FROM pg_namespace WHERE nspname = 'pvs'",
    "SELECT datacl FROM pg_database WHERE datname = 'postgres'",
    "DROP ROLE pv_a",
    "GRANT SELECT ON pv_seq TO pv_c", "REASSIGN OWNED BY pv_b TO pv_c",
    "SELECT relname, pg_get_userbyid(relowner), relacl FROM pg_class WHERE relname IN ('pv_t', 'pv_seq') ORDER BY 1",
    "SET ROLE pv_b", "ALTER TABLE pv_t OWNER TO pv_b", "RESET ROLE",
    "CREATE SCHEMA pvs2", "CREATE TABLE pvs2.t (x int)", "ALTER TABLE pvs2.t OWNER TO pv_c",
    "SET ROLE pv_c", "ALTER TABLE pvs2.t OWNER TO pv_c", "DROP TABLE pvs2.t", "RESET ROLE",
    "GRANT USAGE ON SCHEMA pvs2 TO pv_c", "SET ROLE pv_c", "ALTER TABLE pvs2.t OWNER TO pv_c", "RESET ROLE",
    "GRANT pv_b TO pv_c", "SET ROLE pv_c", "ALTER TABLE pvs2.t OWNER TO pv_b", "RESET ROLE",
    "GRANT CREATE ON SCHEMA pvs2 TO pv_b", "SET ROLE pv_c", "ALTER TABLE pvs2.t OWNER TO pv_b", "RESET ROLE",
    "DROP SCHEMA pvs2 CASCADE",
    # creating a view needs no privilege on what it reads; reading it needs its owner's
    "GRANT CREATE ON SCHEMA public TO pv_c", "SET ROLE pv_c", "CREATE VIEW pv_view2 AS SELECT * FROM pv_t",
    "SELECT * FROM pv_view2", "RESET ROLE",
]
DEFAULTS = [
    "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO pv_a",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA pvs GRANT INSERT ON TABLES TO pv_b",
    "ALTER DEFAULT PRIVILEGES FOR ROLE pv_a IN SCHEMA pvs GRANT USAGE ON SEQUENCES TO pv_b",
    "ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO pv_b",
    "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO pv_c",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA pvs GRANT ALL ON SCHEMAS TO pv_b",
    "ALTER DEFAULT PRIVILEGES GRANT USAGE ON TABLES TO pv_b", "ALTER DEFAULT PRIVILEGES IN SCHEMA nosuch GRANT SELECT ON TABLES TO pv_b",
    "ALTER DEFAULT PRIVILEGES FOR ROLE nosuch GRANT SELECT ON TABLES TO pv_b",
    "SELECT pg_get_userbyid(defaclrole), defaclnamespace::regnamespace, defaclobjtype, defaclacl "
    "FROM pg_default_acl ORDER BY 1, 2, 3",
    "CREATE TABLE pvs.d1 (id serial)", "CREATE TABLE pv_u (id int)", "CREATE SEQUENCE pvs.dseq", "CREATE SCHEMA pvs2",
    "CREATE VIEW pvs.dv AS SELECT 1 AS x",
    "SELECT c.relname, c.relacl FROM pg_class c WHERE c.relname IN ('d1', 'd1_id_seq', 'pv_u', 'dseq', 'dv') ORDER BY 1",
    "SELECT nspacl FROM pg_namespace WHERE nspname = 'pvs2'",
    "GRANT CREATE ON SCHEMA pvs TO pv_a", "GRANT USAGE ON SCHEMA pvs TO pv_a",
    "SET ROLE pv_a", "CREATE SEQUENCE pvs.aseq", "CREATE TABLE pvs.atab (x int)",
    "ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT SELECT ON TABLES TO pv_a", "RESET ROLE",
    "SELECT c.relname, c.relacl FROM pg_class c WHERE c.relname IN ('aseq', 'atab') ORDER BY 1",
    "SET ROLE pv_b", "SELECT * FROM pv_u", "INSERT INTO pvs.d1 VALUES (1)", "RESET ROLE",
    "DROP ROLE pv_b", "DROP ROLE pv_a",
    "ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM postgres",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA pvs REVOKE INSERT ON TABLES FROM pv_b",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA pvs REVOKE SELECT ON TABLES FROM pv_a",
    "SELECT pg_get_userbyid(defaclrole), defaclnamespace::regnamespace, defaclobjtype, defaclacl "
    "FROM pg_default_acl ORDER BY 1, 2, 3",
    "CREATE TABLE pvs.d2 (id int)", "SELECT relacl FROM pg_class WHERE relname = 'd2'",
    "ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO postgres",
    "ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM pv_a",
    "SELECT count(*) FROM pg_default_acl WHERE defaclobjtype = 'r'",
    "DROP OWNED BY pv_b",
    "SELECT pg_get_userbyid(defaclrole), defaclnamespace::regnamespace, defaclobjtype, defaclacl "
    "FROM pg_default_acl ORDER BY 1, 2, 3",
    "DROP OWNED BY pv_a", "DROP OWNED BY pv_c", "SELECT count(*) FROM pg_default_acl",
]
COLUMNS = [
    "GRANT SELECT (id), UPDATE (v) ON pv_t TO pv_a", "GRANT INSERT (v), REFERENCES (id) ON pv_t TO pv_b",
    "GRANT ALL (id, v) ON pv_view TO pv_c", "GRANT SELECT (nosuch) ON pv_t TO pv_a", "GRANT DELETE (id) ON pv_t TO pv_a",
    "GRANT SELECT (last_value), UPDATE (last_value) ON pv_seq TO pv_a", "GRANT USAGE (x) ON SCHEMA pvs TO pv_a",
    "SELECT attname, attacl FROM pg_attribute WHERE attrelid IN ('pv_t'::regclass, 'pv_view'::regclass, "
    "'pv_seq'::regclass) AND attacl IS NOT NULL ORDER BY attrelid::regclass::text, attnum",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_t'",
    "SELECT has_column_privilege('pv_a', 'pv_t', 'id', 'SELECT'), has_column_privilege('pv_a', 'pv_t', 'v', 'SELECT'), "
    "has_column_privilege('pv_a', 'pv_t', 2::int2, 'UPDATE'), has_table_privilege('pv_a', 'pv_t', 'SELECT'), "
    "has_any_column_privilege('pv_a', 'pv_t', 'SELECT'), has_any_column_privilege('pv_b', 'pv_t', 'SELECT')",
    "SET ROLE pv_a",
    "SELECT id FROM pv_t ORDER BY id", "SELECT * FROM pv_t", "SELECT v FROM pv_t", "SELECT count(*) FROM pv_t",
    "SELECT id FROM pv_t WHERE v = 'one'", "SELECT pv_t FROM pv_t", "SELECT 1 FROM pv_t t1 JOIN pv_t t2 USING (id) LIMIT 1",
    "UPDATE pv_t SET v = 'uno' WHERE id = 1", "UPDATE pv_t SET v = v WHERE id = 1", "UPDATE pv_t SET id = 5 WHERE id = 1",
    "UPDATE pv_t SET v = 'x' WHERE id = 99 RETURNING id", "UPDATE pv_t SET v = 'x' WHERE id = 99 RETURNING v",
    "INSERT INTO pv_t (v) VALUES ('no')", "DELETE FROM pv_t WHERE id = 1",
    "SELECT * FROM pv_t FOR UPDATE", "SELECT id FROM pv_t WHERE id = 2 FOR UPDATE",
    "RESET ROLE",
    "SET ROLE pv_b",
    "INSERT INTO pv_t (v) VALUES ('three')", "INSERT INTO pv_t (id, v) VALUES (50, 'x')",
    "INSERT INTO pv_t (v) VALUES ('four') RETURNING id", "SELECT id FROM pv_t",
    "RESET ROLE",
    "GRANT USAGE ON SEQUENCE pv_t_id_seq TO pv_b",
    "SET ROLE pv_b", "INSERT INTO pv_t (v) VALUES ('three')", "RESET ROLE",
    "GRANT CREATE ON SCHEMA public TO pv_b",
    "SET ROLE pv_b", "CREATE TABLE pv_fk (id int REFERENCES pv_t (id))", "RESET ROLE",
    "SET ROLE pv_c", "SELECT v FROM pv_view ORDER BY v", "RESET ROLE",
    # revoking a table-level privilege revokes the column privileges too
    "GRANT SELECT ON pv_t TO pv_a", "REVOKE SELECT ON pv_t FROM pv_a",
    "SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'pv_t'::regclass AND attacl IS NOT NULL ORDER BY attnum",
    "REVOKE UPDATE (v) ON pv_t FROM pv_a", "REVOKE INSERT (v) ON pv_t FROM pv_b",
    "SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'pv_t'::regclass AND attacl IS NOT NULL ORDER BY attnum",
    # grant options on columns
    "GRANT SELECT (v) ON pv_t TO pv_a WITH GRANT OPTION",
    "SET ROLE pv_a", "GRANT SELECT (v) ON pv_t TO pv_c", "GRANT SELECT (id) ON pv_t TO pv_c", "GRANT SELECT ON pv_t TO pv_c",
    "RESET ROLE",
    "SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'pv_t'::regclass AND attacl IS NOT NULL ORDER BY attnum",
    "REVOKE SELECT (v) ON pv_t FROM pv_a", "REVOKE SELECT (v) ON pv_t FROM pv_a CASCADE",
    "GRANT UPDATE (v) ON pv_t TO pv_a", "DROP ROLE pv_a", "ALTER TABLE pv_t OWNER TO pv_c",
    "SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'pv_t'::regclass AND attacl IS NOT NULL ORDER BY attnum",
    "DROP OWNED BY pv_a",
    "SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'pv_t'::regclass AND attacl IS NOT NULL ORDER BY attnum",
]
SCENARIOS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "grant_revoke": (GRANT_REVOKE, _SETUP, _CLEANUP),
    "has_privilege": (HAS_PRIVILEGE, _SETUP, _CLEANUP),
    "enforcement": (ENFORCEMENT, _SETUP, _CLEANUP + ["DROP SCHEMA IF EXISTS pvs2 CASCADE"]),
    "columns": (COLUMNS, _SETUP, _CLEANUP),
    "owners": (OWNERS, _SETUP, _CLEANUP + ["DROP SCHEMA IF EXISTS pvs2 CASCADE"]),
    "defaults": (DEFAULTS, _SETUP, ["ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM pv_a",
                                    "ALTER DEFAULT PRIVILEGES IN SCHEMA pvs REVOKE INSERT ON TABLES FROM pv_b",
                                    "ALTER DEFAULT PRIVILEGES REVOKE USAGE ON SCHEMAS FROM pv_b",
                                    "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM pv_c",
                                    "ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO postgres",
                                    "DROP SCHEMA IF EXISTS pvs2 CASCADE", *_CLEANUP]),
}


def scenario(dsn: str, name: str) -> list[Any]:
    """The scenario's transcript. DROP ROLE's DETAIL lists what depends on the role in the
    order of pg_shdepend's heap, which its updates reshuffle: the lines are compared sorted."""
    steps, setup, undo = SCENARIOS[name]
    run_each(dsn, undo)
    try:
        out = statement_transcript(dsn, steps, setup=setup, details=True)
    finally:
        run_each(dsn, undo)
    return [(*entry[:3], "\n".join(sorted(entry[3].splitlines())))
            if len(entry) == 4 and str(entry[0]).startswith("DROP ROLE") and entry[3] else entry for entry in out]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_privileges_as_postgres(name: str, instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    expected = scenario(pg_oracle.dsn, name)
    got = scenario(instance.dsn, name)
    for want, have in zip(expected, got, strict=True):
        assert have == want


PSQL_SETUP = [
    "GRANT SELECT, UPDATE ON pv_t TO pv_a", "GRANT INSERT ON pv_t TO pv_b WITH GRANT OPTION",
    "GRANT SELECT (id), UPDATE (v) ON pv_view TO pv_c", "GRANT USAGE ON SEQUENCE pv_seq TO PUBLIC",
    "GRANT USAGE ON SCHEMA pvs TO pv_a", "GRANT CREATE ON SCHEMA pvs TO pv_b",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA pvs GRANT SELECT ON TABLES TO pv_a",
    "ALTER DEFAULT PRIVILEGES FOR ROLE pv_b GRANT USAGE ON SEQUENCES TO pv_c",
]
PSQL_COMMANDS = [r"\dp pv_*", r"\z pv_t", r"\dp pvs.*", r"\ddp", r"\dn+ pvs"]


def _psql(port: int, command: str) -> str:
    import os
    import subprocess

    from tests.pgoracle import pg_bindir

    done = subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                           "-d", "postgres", "-c", command], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def test_psql_privilege_commands_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    r"""\dp (\z), \ddp and \dn+ show the same access privileges on both servers."""
    undo = _CLEANUP + ["ALTER DEFAULT PRIVILEGES IN SCHEMA pvs REVOKE SELECT ON TABLES FROM pv_a"]
    outputs = []
    for dsn, port in ((pg_oracle.dsn, pg_oracle.port), (instance.dsn, instance.port)):
        run_each(dsn, undo)
        try:
            statement_transcript(dsn, PSQL_SETUP, setup=_SETUP)
            outputs.append([_psql(port, command) for command in PSQL_COMMANDS])
        finally:
            run_each(dsn, undo)
    assert outputs[1] == outputs[0]
    assert "pv_a=rw/postgres" in outputs[0][0]


PREDEFINED = [
    "GRANT pg_read_all_data TO pv_a", "GRANT pg_write_all_data TO pv_b", "GRANT pg_signal_backend TO pv_c",
    "GRANT pg_read_all_data TO pv_a",
    "SELECT m.rolname, r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
    "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname LIKE 'pv_%' ORDER BY 1",
    "SELECT pg_has_role('pv_a', 'pg_read_all_data', 'MEMBER'), pg_has_role('pv_b', 'pg_read_all_data', 'USAGE')",
    "SELECT has_table_privilege('pv_a', 'pvs.inner_t', 'SELECT'), has_table_privilege('pv_a', 'pv_t', 'INSERT'), "
    "has_schema_privilege('pv_a', 'pvs', 'USAGE'), has_table_privilege('pv_b', 'pv_t', 'UPDATE'), "
    "has_table_privilege('pv_b', 'pv_t', 'SELECT'), has_sequence_privilege('pv_a', 'pv_seq', 'SELECT')",
    "SET ROLE pv_a", "SELECT count(*) FROM pvs.inner_t", "SELECT id FROM pv_t ORDER BY id",
    "INSERT INTO pv_t (v) VALUES ('no')", "RESET ROLE",
    "SET ROLE pv_b", "INSERT INTO pvs.inner_t VALUES (1)", "UPDATE pv_t SET v = 'w'", "SELECT * FROM pv_t",
    "DELETE FROM pvs.inner_t", "RESET ROLE",
    "REVOKE pg_read_all_data FROM pv_a",
    "SET ROLE pv_a", "SELECT count(*) FROM pvs.inner_t", "RESET ROLE",
    "REVOKE pg_write_all_data, pg_signal_backend FROM pv_b, pv_c",
]
SCENARIOS["predefined_roles"] = (PREDEFINED, _SETUP, _CLEANUP)


VIEW_OPTIONS = [
    "GRANT SELECT ON pv_view TO pv_a",
    "CREATE VIEW pv_view2 WITH (security_invoker = true) AS SELECT id, v FROM pv_t", "GRANT SELECT ON pv_view2 TO pv_a",
    "SELECT relname, reloptions FROM pg_class WHERE relname IN ('pv_view', 'pv_view2') ORDER BY 1",
    "SET ROLE pv_a", "SELECT count(*) FROM pv_view", "SELECT count(*) FROM pv_view2", "RESET ROLE",
    "ALTER VIEW pv_view2 SET (security_invoker = off, security_barrier)",
    "SELECT reloptions FROM pg_class WHERE relname = 'pv_view2'",
    "SET ROLE pv_a", "SELECT count(*) FROM pv_view2", "RESET ROLE",
    "ALTER VIEW pv_view2 RESET (security_barrier)", "ALTER VIEW pv_view2 SET (security_invoker)",
    "SELECT reloptions FROM pg_class WHERE relname = 'pv_view2'",
    "SET ROLE pv_a", "SELECT count(*) FROM pv_view2", "RESET ROLE",
    "ALTER VIEW pv_view2 SET (nosuch = 1)", "ALTER VIEW pv_view2 SET (security_invoker = maybe)",
    "CREATE VIEW pv_bad WITH (fillfactor = 50) AS SELECT 1",
    "CREATE OR REPLACE VIEW pv_view2 WITH (security_invoker = true) AS SELECT id, v, 1 AS one FROM pv_t",
    "SELECT relacl FROM pg_class WHERE relname = 'pv_view2'",
]
SCENARIOS["view_options"] = (VIEW_OPTIONS, _SETUP, _CLEANUP)


ACTIVITY = ("SELECT usename, application_name, state, query, backend_start IS NULL, client_port IS NULL, "
            "backend_type, backend_xmin IS NULL FROM pg_stat_activity WHERE application_name = 'pv_sleeper'")


def _activity(dsn: str) -> list[Any]:
    """What roles see of another role's busy session in pg_stat_activity."""
    import threading
    import time

    run_each(dsn, _CLEANUP)
    out: list[Any] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for sql in [*_SETUP, "GRANT pg_read_all_stats TO pv_b", "GRANT pv_c TO pv_a"]:
                conn.execute(sql)
        sleeper = threading.Thread(target=lambda: psycopg.connect(dsn + " application_name=pv_sleeper",
                                                                   autocommit=True).execute("SELECT pg_sleep(1.5)"))
        sleeper.start()
        time.sleep(0.5)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for role in ("pv_a", "pv_b", "postgres"):
                conn.execute(f"SET ROLE {role}")
                out.append((role, conn.execute(ACTIVITY).fetchall()))
        sleeper.join(10)
    finally:
        run_each(dsn, _CLEANUP)
    return out


def test_activity_of_other_roles_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """Another role's session shows only who it is ('<insufficient privilege>') unless the viewer
    has that role's privileges or pg_read_all_stats's."""
    mine, theirs = _activity(instance.dsn), _activity(pg_oracle.dsn)
    assert mine == theirs
    assert mine[0][1] == [("postgres", "pv_sleeper", None, "<insufficient privilege>", True, True, None, False)]


_SUPERUSER_ONLY = ("'config_file', 'data_directory', 'dynamic_library_path', 'extension_destdir', 'external_pid_file', "
                   "'hba_file', 'ident_file', 'jit_provider', 'krb_server_keyfile', 'log_directory', 'log_filename', "
                   "'primary_conninfo', 'session_preload_libraries', 'shared_preload_libraries', 'ssl_ciphers', "
                   "'ssl_dh_params_file', 'ssl_ecdh_curve', 'ssl_max_protocol_version', 'ssl_min_protocol_version', "
                   "'ssl_passphrase_command', 'unix_socket_directories'")
SETTINGS = [
    "SET ROLE pv_a", "SHOW data_directory", "SHOW HBA_FILE", "SELECT current_setting('ident_file')",
    "SELECT current_setting('ssl_ciphers', true)", f"SELECT count(*) FROM pg_settings WHERE name IN ({_SUPERUSER_ONLY})",
    "SHOW work_mem", "RESET ROLE",
    "GRANT pg_read_all_settings TO pv_a",
    "SET ROLE pv_a", f"SELECT count(*) FROM pg_settings WHERE name IN ({_SUPERUSER_ONLY})",
    "SELECT current_setting('data_directory') IS NOT NULL", "RESET ROLE",
    "REVOKE pg_read_all_settings FROM pv_a",
]
SCENARIOS["superuser_only_settings"] = (SETTINGS, _SETUP, _CLEANUP)

LASTVAL = [
    "SELECT lastval()", "SELECT nextval('pv_seq')", "SELECT nextval('pv_seq'), lastval()", "SELECT lastval()",
    "SET ROLE pv_a", "SELECT lastval()", "RESET ROLE", "GRANT USAGE ON SEQUENCE pv_seq TO pv_a",
    "SET ROLE pv_a", "SELECT lastval()", "RESET ROLE",
    "SELECT setval('pv_seq', 40), lastval()", "DROP SEQUENCE pv_seq", "SELECT lastval()",
]
SCENARIOS["lastval"] = (LASTVAL, _SETUP, _CLEANUP)
