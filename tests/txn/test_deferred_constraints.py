"""DEFERRABLE foreign keys as PostgreSQL 15 checks them: INITIALLY DEFERRED ones at COMMIT (a
violation fails the COMMIT, 23503, and rolls the transaction back), SET CONSTRAINTS {ALL | name}
DEFERRED / IMMEDIATE (IMMEDIATE checks what was put off at once; a name is looked up along the
search path, 42704 / 55000 for a missing or non-deferrable one, a WARNING outside a block), the
NO ACTION check of a deleted referenced key put off too (the key may come back before COMMIT),
savepoints rolled back taking their violations with them; the catalogs and pg_get_constraintdef
show them; the clauses' errors of CREATE TABLE. Transcripts equal on PostgreSQL 15 and pgaurora;
psycopg's commit() raises the same error on both."""

from __future__ import annotations

import psycopg
import pytest

from tests.pgoracle import PgOracle, assert_same_transcript, run_each
from tests.server.harness import InstanceProcess

CLEANUP = ["DROP TABLE IF EXISTS df_child, df_imm, df_x, df_parent CASCADE", "DROP SCHEMA IF EXISTS df_s CASCADE"]
SETUP = [
    "CREATE TABLE df_parent (id int PRIMARY KEY)",
    "CREATE TABLE df_child (id int PRIMARY KEY, pid int REFERENCES df_parent DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TABLE df_imm (id int PRIMARY KEY, pid int, CONSTRAINT df_imm_fk FOREIGN KEY (pid) REFERENCES df_parent "
    "ON DELETE NO ACTION DEFERRABLE)",
    "CREATE SCHEMA df_s",
    "CREATE TABLE df_s.t (id int PRIMARY KEY, pid int, CONSTRAINT df_imm_fk FOREIGN KEY (pid) REFERENCES df_parent "
    "DEFERRABLE)",
]
STEPS = [
    "SELECT conrelid::regclass::text, conname, condeferrable, condeferred, pg_get_constraintdef(oid) "
    "FROM pg_constraint WHERE contype = 'f' AND conname LIKE 'df_%' ORDER BY 1, 2",
    "SELECT table_name, constraint_name, is_deferrable, initially_deferred FROM information_schema.table_constraints "
    "WHERE constraint_type = 'FOREIGN KEY' AND constraint_name LIKE 'df_%' ORDER BY 1, 2",
    # INITIALLY DEFERRED: the referenced row may come later in the transaction
    "BEGIN", "INSERT INTO df_child VALUES (1, 10)", "INSERT INTO df_parent VALUES (10)", "COMMIT",
    "BEGIN", "INSERT INTO df_child VALUES (2, 20)", "SELECT count(*) FROM df_child", "COMMIT",
    "SELECT * FROM df_child ORDER BY id",
    "INSERT INTO df_child VALUES (3, 30)",  # autocommit: checked at its own commit
    # DEFERRABLE INITIALLY IMMEDIATE, and SET CONSTRAINTS
    "BEGIN", "INSERT INTO df_imm VALUES (1, 99)", "ROLLBACK",
    "BEGIN", "SET CONSTRAINTS df_imm_fk DEFERRED", "INSERT INTO df_imm VALUES (1, 99)",
    "INSERT INTO df_s.t VALUES (1, 98)", "ROLLBACK",
    "BEGIN", "SET CONSTRAINTS df_s.df_imm_fk DEFERRED", "INSERT INTO df_s.t VALUES (1, 98)",
    "INSERT INTO df_parent VALUES (98)", "COMMIT",
    "BEGIN", "SET CONSTRAINTS ALL DEFERRED", "INSERT INTO df_imm VALUES (2, 77)", "INSERT INTO df_imm VALUES (3, 78)",
    "SET CONSTRAINTS ALL IMMEDIATE", "ROLLBACK",
    "BEGIN", "SET CONSTRAINTS ALL DEFERRED", "INSERT INTO df_imm VALUES (2, 77)", "INSERT INTO df_parent VALUES (77)",
    "SET CONSTRAINTS df_imm_fk IMMEDIATE", "INSERT INTO df_imm VALUES (4, 76)", "ROLLBACK",
    "BEGIN", "SET CONSTRAINTS ALL IMMEDIATE", "INSERT INTO df_child VALUES (5, 50)", "ROLLBACK",
    # a savepoint rolled back takes its violation along; an update away from a missing key too
    "BEGIN", "INSERT INTO df_child VALUES (4, 55)", "SAVEPOINT s", "INSERT INTO df_child VALUES (5, 66)",
    "ROLLBACK TO s", "INSERT INTO df_parent VALUES (55)", "UPDATE df_child SET pid = 1000 WHERE id = 4",
    "UPDATE df_child SET pid = 55 WHERE id = 4", "COMMIT",
    "SELECT * FROM df_child ORDER BY id",
    # the referenced side: NO ACTION put off, the key may come back
    "BEGIN", "DELETE FROM df_parent WHERE id = 10", "INSERT INTO df_parent VALUES (10)", "COMMIT",
    "BEGIN", "DELETE FROM df_parent WHERE id = 10", "COMMIT",
    "BEGIN", "DELETE FROM df_parent WHERE id = 10", "DELETE FROM df_child WHERE pid = 10", "COMMIT",
    "SELECT * FROM df_parent ORDER BY id", "SELECT * FROM df_child ORDER BY id",
    # SET CONSTRAINTS' errors
    "SET CONSTRAINTS ALL DEFERRED",
    "BEGIN", "SET CONSTRAINTS nosuch DEFERRED", "ROLLBACK",
    "BEGIN", "SET CONSTRAINTS df_parent_pkey DEFERRED", "ROLLBACK",
    "BEGIN", "SET CONSTRAINTS nosuch_schema.df_imm_fk DEFERRED", "ROLLBACK",
    "BEGIN", "SET CONSTRAINTS public.df_imm_fk, df_child_pid_fkey IMMEDIATE", "COMMIT",
    # the clauses' errors and forms
    "CREATE TABLE df_x (id int REFERENCES df_parent NOT DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TABLE df_x (id int CHECK (id > 0) DEFERRABLE)",
    "CREATE TABLE df_x (id int NOT NULL DEFERRABLE)",
    "CREATE TABLE df_x (id int REFERENCES df_parent DEFERRABLE NOT DEFERRABLE)",
    "CREATE TABLE df_x (id int REFERENCES df_parent INITIALLY DEFERRED INITIALLY IMMEDIATE)",
    "CREATE TABLE df_x (id int REFERENCES df_parent INITIALLY DEFERRED, j int REFERENCES df_parent DEFERRABLE "
    "INITIALLY IMMEDIATE, k int REFERENCES df_parent NOT DEFERRABLE)",
    "ALTER TABLE df_x ADD CONSTRAINT df_x_late FOREIGN KEY (k) REFERENCES df_parent INITIALLY DEFERRED",
    "SELECT conname, condeferrable, condeferred FROM pg_constraint WHERE conrelid = 'df_x'::regclass ORDER BY 1",
    "ALTER TABLE df_x ALTER CONSTRAINT df_x_late NOT DEFERRABLE",
    "ALTER TABLE df_x ALTER CONSTRAINT df_x_k_fkey DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE df_x ALTER CONSTRAINT df_x_j_fkey INITIALLY DEFERRED",
    "ALTER TABLE df_x ALTER CONSTRAINT nosuch DEFERRABLE",
    "ALTER TABLE df_parent ALTER CONSTRAINT df_parent_pkey DEFERRABLE",
    "SELECT conname, condeferrable, condeferred FROM pg_constraint WHERE conrelid = 'df_x'::regclass ORDER BY 1",
    "BEGIN", "INSERT INTO df_x (k) VALUES (12345)", "ROLLBACK",
    "BEGIN", "INSERT INTO df_x (id) VALUES (12345)", "COMMIT",
]


def test_deferred_foreign_keys_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, setup=SETUP, cleanup=CLEANUP, details=True)


def _commit_error(dsn: str) -> tuple[str | None, str, str]:
    run_each(dsn, CLEANUP)
    run_each(dsn, SETUP)
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute("INSERT INTO df_child VALUES (1, 404)")
            with pytest.raises(psycopg.errors.ForeignKeyViolation) as info:
                conn.commit()
            status = conn.info.transaction_status.name
            count = conn.execute("SELECT count(*) FROM df_child").fetchone()
            return info.value.sqlstate, str(info.value).splitlines()[0], f"{status} {count}"
    finally:
        run_each(dsn, CLEANUP)


def test_psycopg_commit_raises_the_deferred_violation(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    expected = _commit_error(pg_oracle.dsn)
    assert expected[0] == "23503"
    assert _commit_error(instance.dsn) == expected
