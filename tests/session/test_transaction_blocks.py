"""Transaction blocks, SET/SHOW and the simple protocol, compared message by message with a
real PostgreSQL 15 running the same script."""

from __future__ import annotations

import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess
from tests.session.transcript import run_script

SCRIPTS = {
    "failed_block": ["BEGIN", "SHOW nosuch", "SHOW work_mem", "COMMIT", "SHOW work_mem"],
    "warnings": ["COMMIT", "ROLLBACK", "BEGIN", "BEGIN", "COMMIT", "ABORT"],
    "savepoints_outside_block": ["SAVEPOINT a", "RELEASE a", "ROLLBACK TO a"],
    "savepoints": ["BEGIN", "SAVEPOINT a", "SET work_mem = '1MB'", "SHOW nosuch", "SHOW work_mem",
                   "ROLLBACK TO a", "SHOW work_mem", "RELEASE a", "RELEASE a", "ROLLBACK"],
    "set_local": ["SET LOCAL work_mem = '1MB'", "SHOW work_mem",
                  "BEGIN; SET LOCAL work_mem = '2MB'; SHOW work_mem; COMMIT; SHOW work_mem"],
    "set_rolled_back": ["BEGIN", "SET work_mem = '3MB'", "ROLLBACK", "SHOW work_mem",
                        "SET work_mem = '3MB'; SHOW nosuch", "SHOW work_mem"],
    "multi_statement": ["SHOW work_mem; SHOW DateStyle", "SET work_mem='5MB'; COMMIT; SHOW work_mem"],
    "transaction_characteristics": [
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SHOW transaction_isolation",
        "SHOW transaction_read_only", "COMMIT", "SHOW transaction_isolation",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "SHOW default_transaction_isolation", "BEGIN", "SHOW transaction_isolation", "ROLLBACK"],
    # a running transaction becomes read-only (SET TRANSACTION, or BEGIN's options under its warning)
    "read_only_midway": [
        "CREATE TABLE IF NOT EXISTS tb_ro (a int)", "BEGIN", "SELECT 1", "SET TRANSACTION READ ONLY",
        "SHOW transaction_read_only", "INSERT INTO tb_ro VALUES (1)", "ROLLBACK", "BEGIN", "BEGIN READ ONLY",
        "INSERT INTO tb_ro VALUES (1)", "ROLLBACK", "BEGIN", "SELECT 1", "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "ROLLBACK", "BEGIN", "SELECT 1", "SET TRANSACTION READ WRITE", "ROLLBACK", "DROP TABLE tb_ro"],
    "set_errors": ["SET enable_seqscan = maybe", "SET statement_timeout = 'abc'", "SET nosuch = 1",
                   "SHOW nosuch", "SET is_superuser = on", "SET max_connections = 5", "SET my.custom = 'x'",
                   "SHOW my.custom", "RESET ALL", "SHOW work_mem"],
    "show_forms": ["SET statement_timeout = 5000", "SHOW statement_timeout", "SET work_mem = 65536",
                   "SHOW work_mem", "SET datestyle = german", "SHOW DateStyle", "SET TIME ZONE 'utc'",
                   "SHOW TIME ZONE", "RESET datestyle", "SHOW datestyle", "SET extra_float_digits = 3",
                   "SHOW extra_float_digits"],
    "prepared_names": ["DEALLOCATE nosuch", "EXECUTE nosuch", "DEALLOCATE ALL", "DISCARD ALL",
                       "BEGIN", "DISCARD ALL", "ROLLBACK"],
    "empty": ["", ";", "BEGIN; ", "COMMIT"],
    "cursors_outside_block": ["CLOSE nosuch", "CLOSE ALL", "FETCH 1 FROM nosuch"],
    "listen": ["LISTEN ch", "UNLISTEN ch", "UNLISTEN *"],
    "syntax_error": ["SELEC 1", "BEGIN", "SELEC 1", "SHOW work_mem", "ROLLBACK"],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_same_replies_as_postgres(name: str, instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    script = SCRIPTS[name]
    expected = run_script(pg_oracle.port, script)
    actual = run_script(instance.port, script)
    for sql, want, got in zip(script, expected, actual, strict=True):
        assert got == want, f"{name}: {sql!r}"


PLANNED_SCRIPTS = {
    "implicit_transaction_of_a_query": [
        "CREATE TABLE it (a int)", "INSERT INTO it VALUES (1); COMMIT; INSERT INTO it VALUES (2); SELECT 1/0",
        "SELECT a FROM it ORDER BY a", "INSERT INTO it VALUES (3); BEGIN; INSERT INTO it VALUES (4); SELECT 1/0",
        "ROLLBACK", "SELECT count(*) FROM it", "DROP TABLE it"],
    "failed_block_commit_answers_rollback": [
        "CREATE TABLE fb (a int)", "BEGIN", "INSERT INTO fb VALUES (1)", "SELECT * FROM nosuch", "SELECT 1",
        "COMMIT", "SELECT count(*) FROM fb", "DROP TABLE fb"],
    "savepoint_rollback_to_recovers": [
        "CREATE TABLE sp (a int)", "BEGIN", "INSERT INTO sp VALUES (1)", "SAVEPOINT s1",
        "INSERT INTO sp VALUES (2)", "SELECT * FROM nosuch", "ROLLBACK TO s1", "INSERT INTO sp VALUES (3)", "COMMIT",
        "SELECT a FROM sp ORDER BY a", "DROP TABLE sp"],
    "sql_prepare_execute": [
        "PREPARE p1(int, text) AS SELECT $1 + 1 AS n, upper($2) AS s", "EXECUTE p1(41, 'abc')",
        "EXECUTE p1(1)", "PREPARE p1 AS SELECT 1", "DEALLOCATE p1", "EXECUTE p1(1, 'x')", "DEALLOCATE ALL"],
    "cursors": [
        "BEGIN", "DECLARE c CURSOR FOR SELECT generate_series(1, 5) AS g", "FETCH 2 FROM c",
        "FETCH FORWARD 2 FROM c", "FETCH ALL FROM c", "FETCH 1 FROM c", "CLOSE c", "CLOSE c", "ROLLBACK",
        "DECLARE h CURSOR WITH HOLD FOR SELECT 'x' AS v", "FETCH ALL h", "CLOSE ALL", "FETCH h"],
    "no_vacuum_in_block": ["CREATE TABLE nv (a int)", "BEGIN", "VACUUM nv", "ROLLBACK", "SELECT 1; VACUUM nv",
                           "DROP TABLE nv"],
    "current_setting_and_set_config": [
        "SELECT current_setting('work_mem')", "SELECT set_config('work_mem', '8MB', false)", "SHOW work_mem",
        "BEGIN", "SELECT set_config('work_mem', '16MB', true)", "SHOW work_mem", "COMMIT", "SHOW work_mem",
        "SELECT current_setting('nosuch')", "SELECT current_setting('nosuch', true)"],
    "plan_time_and_run_time_errors": [
        "SELECT 1/0", "SELECT 1/0", "BEGIN", "SELECT 'x'::int", "ROLLBACK", "CREATE TABLE z (a int)",
        "INSERT INTO z VALUES (0)", "SELECT 1/a FROM z", "SELECT 1/a FROM z", "DROP TABLE z"],
    # values the session caches (the date format, timeouts) follow SET LOCAL and its end, also
    # when BEGIN's own transaction characteristics are set beside it
    "set_local_cached_values": [
        "BEGIN ISOLATION LEVEL SERIALIZABLE", "SET LOCAL DateStyle = 'German'", "SELECT DATE '2024-01-02'",
        "COMMIT", "SELECT DATE '2024-01-02'", "SHOW transaction_isolation",
        "BEGIN; SET LOCAL statement_timeout = '1ms'; SHOW statement_timeout; COMMIT",
        "SELECT count(*) FROM generate_series(1, 200000)", "BEGIN READ ONLY", "SHOW DateStyle", "COMMIT", "SELECT DATE '2024-01-02'"],
    "pool_reset": ["SET work_mem = '1MB'", "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;",
                   "SHOW work_mem"],
}


@pytest.mark.parametrize("name", sorted(PLANNED_SCRIPTS))
def test_planned_statements_same_as_postgres(name: str, instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    script = PLANNED_SCRIPTS[name]
    expected = run_script(pg_oracle.port, script)
    actual = run_script(instance.port, script)
    for sql, want, got in zip(script, expected, actual, strict=True):
        assert got == want, f"{name}: {sql!r}"
