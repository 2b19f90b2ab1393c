"""Row security policies, as PostgreSQL 15 applies them: CREATE / ALTER / DROP POLICY (permissive
and restrictive, FOR ALL / SELECT / INSERT / UPDATE / DELETE, TO roles or PUBLIC, USING and WITH
CHECK, subqueries and current_user in them), ENABLE / DISABLE / FORCE ROW LEVEL SECURITY, who
they apply to (not superusers, BYPASSRLS roles or, without FORCE, the owner), reads filtered,
UPDATE / DELETE limited to rows they may see, INSERT / UPDATE rows checked (42501), views reading
as their owner, the row_security setting, and the catalogs (pg_policy, pg_policies,
relrowsecurity, row_security_active). Transcripts equal on PostgreSQL 15 and pgaurora (the
expressions' text aside: pgaurora shows them as written, PostgreSQL as it deparses them)."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.pgoracle import PgOracle, run_each, statement_transcript
from tests.server.harness import InstanceProcess

ROLES = ("rs_a", "rs_b", "rs_admin", "rs_tmp")
CLEANUP = ["RESET ROLE", "DROP VIEW IF EXISTS rs_v", "DROP TABLE IF EXISTS rs_doc, rs_team, rs_log, rs_kv",
           *(f"DROP OWNED BY {r}" for r in ROLES), *(f"DROP ROLE {r}" for r in ROLES)]
SETUP = [
    "CREATE ROLE rs_a", "CREATE ROLE rs_b", "CREATE ROLE rs_admin BYPASSRLS",
    "CREATE TABLE rs_doc (id int PRIMARY KEY, owner text, team int, body text)",
    "INSERT INTO rs_doc VALUES (1, 'rs_a', 1, 'a one'), (2, 'rs_b', 1, 'b one'), (3, 'rs_a', 2, 'a two'), "
    "(4, 'rs_b', 2, 'b two'), (5, NULL, 1, 'nobody')",
    "CREATE TABLE rs_team (team int, member text)",
    "INSERT INTO rs_team VALUES (1, 'rs_a'), (1, 'rs_b'), (2, 'rs_b')",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON rs_doc TO rs_a, rs_b, rs_admin", "GRANT SELECT ON rs_team TO PUBLIC",
]
STEPS = [
    "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'rs_doc'",
    "CREATE POLICY own ON rs_doc USING (owner = current_user)",
    "SET ROLE rs_a", "SELECT id FROM rs_doc ORDER BY id", "RESET ROLE",  # not enabled yet: every row
    "ALTER TABLE rs_doc ENABLE ROW LEVEL SECURITY",
    "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'rs_doc'",
    "SET ROLE rs_a", "SELECT id FROM rs_doc ORDER BY id", "SELECT id, body FROM rs_doc WHERE id = 2",
    "SELECT count(*) FROM rs_doc", "SELECT row_security_active('rs_doc')",
    "UPDATE rs_doc SET body = body || '!' WHERE id IN (1, 2) RETURNING id, body",
    "UPDATE rs_doc SET owner = 'rs_b' WHERE id = 3",
    "DELETE FROM rs_doc WHERE id = 2",
    "INSERT INTO rs_doc VALUES (10, 'rs_b', 1, 'sneaky')", "INSERT INTO rs_doc VALUES (10, 'rs_a', 1, 'mine')",
    "RESET ROLE",
    "SELECT id, owner FROM rs_doc ORDER BY id",  # the owner (and a superuser) sees every row
    "SELECT row_security_active('rs_doc')",
    "SET ROLE rs_admin", "SELECT count(*) FROM rs_doc", "RESET ROLE",  # BYPASSRLS
    # team members may read their team's documents (a subquery); only rs_admin may delete
    "CREATE POLICY team_read ON rs_doc FOR SELECT USING (team IN (SELECT team FROM rs_team WHERE member = current_user))",
    "CREATE POLICY no_nulls ON rs_doc AS RESTRICTIVE USING (owner IS NOT NULL)",
    "SET ROLE rs_b", "SELECT id FROM rs_doc ORDER BY id",
    "UPDATE rs_doc SET body = 'team edit' WHERE id = 1", "DELETE FROM rs_doc WHERE id = 1",
    "UPDATE rs_doc SET body = body WHERE id = 4 RETURNING id", "RESET ROLE",
    "CREATE POLICY own ON rs_doc USING (true)", "CREATE POLICY x ON nosuch USING (true)",
    "CREATE POLICY bad ON rs_doc USING (nosuch = 1)", "CREATE POLICY bad ON rs_doc USING (id)",
    "CREATE POLICY bad ON rs_doc FOR SELECT WITH CHECK (true)", "CREATE POLICY bad ON rs_doc FOR INSERT USING (true)",
    "CREATE POLICY ins ON rs_doc FOR INSERT TO rs_b, PUBLIC WITH CHECK (body <> '')",
    "CREATE POLICY upd ON rs_doc FOR UPDATE TO rs_b USING (owner = current_user) WITH CHECK (team = 2)",
    "SELECT polname, polcmd, polpermissive, array_length(polroles, 1), polqual IS NOT NULL, "
    "polwithcheck IS NOT NULL FROM pg_policy WHERE polrelid = 'rs_doc'::regclass ORDER BY 1",
    "SELECT policyname, permissive, roles, cmd FROM pg_policies WHERE tablename = 'rs_doc' ORDER BY 1",
    "SET ROLE rs_b", "UPDATE rs_doc SET team = 1 WHERE id = 4", "UPDATE rs_doc SET team = 2 WHERE id = 4",
    "INSERT INTO rs_doc VALUES (11, 'rs_b', 2, '')", "RESET ROLE",
    "ALTER POLICY upd ON rs_doc RENAME TO upd2", "ALTER POLICY upd2 ON rs_doc TO rs_a, rs_b",
    "ALTER POLICY nosuch ON rs_doc USING (true)", "DROP POLICY ins ON rs_doc",
    "DROP POLICY IF EXISTS ins ON rs_doc", "DROP POLICY ins ON rs_doc",
    "SELECT policyname, roles FROM pg_policies WHERE tablename = 'rs_doc' ORDER BY 1",
    "CREATE ROLE rs_tmp", "CREATE POLICY tmp1 ON rs_doc TO rs_tmp USING (false)",
    "CREATE POLICY tmp2 ON rs_doc TO rs_tmp, rs_admin USING (false)", "DROP ROLE rs_tmp", "DROP OWNED BY rs_tmp",
    "SELECT polname, array_length(polroles, 1) FROM pg_policy WHERE polname LIKE 'tmp%' ORDER BY 1",
    "DROP ROLE rs_tmp", "DROP POLICY tmp2 ON rs_doc",
    # only the owner changes policies; FORCE makes them apply to the owner too
    "SET ROLE rs_a", "CREATE POLICY mine ON rs_doc USING (true)", "ALTER TABLE rs_doc DISABLE ROW LEVEL SECURITY",
    "DROP POLICY own ON rs_doc", "RESET ROLE",
    "ALTER TABLE rs_doc OWNER TO rs_a",
    "SET ROLE rs_a", "SELECT count(*) FROM rs_doc", "ALTER TABLE rs_doc FORCE ROW LEVEL SECURITY",
    "SELECT count(*) FROM rs_doc", "ALTER TABLE rs_doc NO FORCE ROW LEVEL SECURITY", "RESET ROLE",
    # a view reads as its owner
    "CREATE VIEW rs_v AS SELECT id FROM rs_doc", "GRANT SELECT ON rs_v TO rs_b",
    "SET ROLE rs_b", "SELECT count(*) FROM rs_v", "RESET ROLE",
    "ALTER VIEW rs_v OWNER TO rs_b",
    "SET ROLE rs_b", "SELECT count(*) FROM rs_v", "RESET ROLE",
    # row_security = off: an error instead of filtered rows
    "SET ROLE rs_b", "SET row_security = off", "SELECT count(*) FROM rs_doc", "RESET row_security", "RESET ROLE",
    "ALTER TABLE rs_doc OWNER TO postgres", "ALTER TABLE rs_doc DISABLE ROW LEVEL SECURITY",
    "SET ROLE rs_b", "SELECT count(*) FROM rs_doc", "RESET ROLE",
    "DROP TABLE rs_doc CASCADE", "SELECT count(*) FROM pg_policy WHERE polname IN ('own', 'team_read', 'no_nulls')",
    # a partitioned table's policies govern its partitions' rows reached through it
    "CREATE TABLE rs_log (id int, owner text, v int) PARTITION BY RANGE (id)",
    "CREATE TABLE rs_log_1 PARTITION OF rs_log FOR VALUES FROM (0) TO (10)",
    "CREATE TABLE rs_log_2 PARTITION OF rs_log FOR VALUES FROM (10) TO (20)",
    "INSERT INTO rs_log VALUES (1, 'rs_a', 1), (2, 'rs_b', 2), (11, 'rs_a', 3), (12, 'rs_b', 4)",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON rs_log TO rs_a",
    "CREATE POLICY own_log ON rs_log USING (owner = current_user) WITH CHECK (owner = current_user AND v < 100)",
    "ALTER TABLE rs_log ENABLE ROW LEVEL SECURITY",
    "SET ROLE rs_a", "SELECT id FROM rs_log ORDER BY id", "UPDATE rs_log SET v = v + 10 RETURNING id, v",
    "UPDATE rs_log SET v = 500 WHERE id = 1", "DELETE FROM rs_log WHERE id IN (2, 11)",
    "INSERT INTO rs_log VALUES (3, 'rs_b', 0)", "INSERT INTO rs_log VALUES (13, 'rs_a', 0)",
    "SELECT id, v FROM rs_log ORDER BY id", "SELECT * FROM rs_log_1",
    "UPDATE rs_log SET id = 14, v = 200 WHERE id = 1", "UPDATE rs_log SET id = 14 WHERE id = 1 RETURNING id, v",
    "RESET ROLE",
    "SELECT id, owner, v FROM rs_log ORDER BY id",
    # INSERT ... ON CONFLICT DO UPDATE: the INSERT's policies for a new row, the UPDATE's for a conflicting one
    "CREATE TABLE rs_kv (k int PRIMARY KEY, owner text, v int)", "INSERT INTO rs_kv VALUES (1, 'rs_a', 1), (2, 'rs_b', 2)",
    "GRANT SELECT, INSERT, UPDATE ON rs_kv TO rs_a", "CREATE POLICY kv_sel ON rs_kv FOR SELECT USING (true)",
    "CREATE POLICY kv_ins ON rs_kv FOR INSERT WITH CHECK (owner = current_user)",
    "CREATE POLICY kv_upd ON rs_kv FOR UPDATE USING (owner = current_user) WITH CHECK (v < 100)",
    "ALTER TABLE rs_kv ENABLE ROW LEVEL SECURITY",
    "SET ROLE rs_a",
    "INSERT INTO rs_kv VALUES (1, 'rs_a', 10) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    "INSERT INTO rs_kv VALUES (2, 'rs_a', 10) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    "INSERT INTO rs_kv VALUES (1, 'rs_a', 500) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    "INSERT INTO rs_kv VALUES (3, 'rs_b', 1) ON CONFLICT (k) DO UPDATE SET v = 1",
    "INSERT INTO rs_kv VALUES (3, 'rs_a', 1) ON CONFLICT (k) DO UPDATE SET v = 1 RETURNING *",
    "INSERT INTO rs_kv VALUES (1, 'rs_b', 1) ON CONFLICT (k) DO UPDATE SET v = rs_kv.v + 1",
    "INSERT INTO rs_kv VALUES (2, 'rs_a', 1) ON CONFLICT (k) DO UPDATE SET v = 0 WHERE rs_kv.v > 100",
    "RESET ROLE", "SELECT * FROM rs_kv ORDER BY k",
]


def _cleanup(dsn: str) -> None:
    run_each(dsn, CLEANUP)


def _transcript(dsn: str) -> list[Any]:
    _cleanup(dsn)
    try:
        return statement_transcript(dsn, STEPS, setup=SETUP, details=True)
    finally:
        _cleanup(dsn)


def test_row_security_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    expected = _transcript(pg_oracle.dsn)
    got = _transcript(instance.dsn)
    for want, have in zip(expected, got, strict=True):
        assert have == want


def _copy(dsn: str) -> list[Any]:
    """COPY TO shows the rows the policies let the role see; COPY FROM is refused when they apply."""
    _cleanup(dsn)
    out: list[Any] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for sql in [*SETUP, "CREATE POLICY own ON rs_doc USING (owner = current_user)",
                        "ALTER TABLE rs_doc ENABLE ROW LEVEL SECURITY", "SET ROLE rs_a"]:
                conn.execute(sql)
            with conn.cursor() as cur:
                with cur.copy("COPY rs_doc TO STDOUT") as copy:
                    out.append(sorted(bytes(row).decode() for row in copy))
                try:
                    with cur.copy("COPY rs_doc FROM STDIN") as copy:
                        copy.write(b"20\trs_a\t1\tcopied\n")
                except psycopg.Error as exc:
                    out.append((exc.sqlstate, str(exc).splitlines()[0]))
            conn.execute("RESET ROLE")
            with conn.cursor() as cur:
                with cur.copy("COPY rs_doc FROM STDIN") as copy:
                    copy.write(b"21\trs_b\t1\tby the owner\n")
            out.append(conn.execute("SELECT count(*) FROM rs_doc").fetchall())
    finally:
        _cleanup(dsn)
    return out


def test_copy_with_row_security_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert _copy(instance.dsn) == _copy(pg_oracle.dsn)
