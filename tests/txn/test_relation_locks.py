"""Relation locks between sessions, compared with PostgreSQL 15 running the same scripts.

Each script runs against a pgaurora instance and against the oracle; every statement's outcome
(blocked, its tag and rows, or its SQLSTATE and message) must be the same, which covers the
conflict table (DML against LOCK TABLE, DROP, TRUNCATE, CREATE INDEX, ALTER TABLE, VACUUM), the
wait queue, NOWAIT, lock_timeout and deadlocks (also between a row lock and a table lock).
In the deadlock scripts the session that closes the cycle has the short deadlock_timeout, so
PostgreSQL fails the same session pgaurora fails (pgaurora checks when a wait begins).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess
from tests.txn.sessions import FINISH, WAIT, run_script

pytestmark = pytest.mark.timeout(120)

SETUP = ("DROP TABLE IF EXISTS lk; DROP TABLE IF EXISTS lk2; "
         "CREATE TABLE lk (id int PRIMARY KEY, v int); INSERT INTO lk VALUES (1, 10), (2, 20); "
         "CREATE TABLE lk2 (id int)")

PARTITIONED = ("DROP TABLE IF EXISTS lkp; CREATE TABLE lkp (a int) PARTITION BY LIST (a); "
               "CREATE TABLE lkp1 PARTITION OF lkp FOR VALUES IN (1); "
               "CREATE TABLE lkp2 PARTITION OF lkp FOR VALUES IN (2); INSERT INTO lkp VALUES (1), (2)")

SCRIPTS: dict[str, list[tuple[Any, ...]]] = {
    "partitioned_table": [
        ("a", PARTITIONED), ("a", "BEGIN"), ("a", "LOCK TABLE lkp IN SHARE MODE"),
        ("b", "INSERT INTO lkp2 VALUES (2)"), ("a", "COMMIT"), ("b", WAIT),
        ("a", "BEGIN"), ("a", "LOCK TABLE ONLY lkp IN SHARE MODE"), ("b", "INSERT INTO lkp2 VALUES (2)"),
        ("a", "COMMIT"),
        ("a", "BEGIN"), ("a", "SELECT count(*) FROM lkp WHERE a = 1"), ("b", "DROP TABLE lkp"), ("a", "COMMIT"),
        ("b", WAIT), ("a", "SELECT count(*) FROM lkp1")],
    "insert_blocks_lock_share": [
        ("a", "BEGIN"), ("a", "INSERT INTO lk VALUES (3, 30)"), ("b", "BEGIN"),
        ("b", "LOCK TABLE lk IN SHARE MODE"), ("a", "COMMIT"), ("b", WAIT),
        ("b", "SELECT count(*) FROM lk"), ("b", "COMMIT")],
    "select_blocks_drop": [
        ("a", "BEGIN"), ("a", "SELECT v FROM lk WHERE id = 1"), ("b", "DROP TABLE lk"),
        ("a", "SELECT count(*) FROM lk"), ("a", "COMMIT"), ("b", WAIT), ("a", "SELECT * FROM lk")],
    "drop_blocks_select": [
        ("a", "BEGIN"), ("a", "DROP TABLE lk"), ("b", "SELECT * FROM lk"), ("a", "COMMIT"), ("b", WAIT)],
    "alter_table_waiters_see_the_new_column": [
        # b reads no row c writes: which of the two woken waiters runs first is not fixed (nor in
        # PostgreSQL), but both must see the new column
        ("a", "BEGIN"), ("a", "ALTER TABLE lk ADD COLUMN w int DEFAULT 5"), ("b", "SELECT * FROM lk WHERE id = 2"),
        ("c", "UPDATE lk SET v = 3 WHERE id = 1 RETURNING *"), ("a", "COMMIT"), ("b", WAIT), ("c", WAIT)],
    "extended_protocol_waits_at_parse": [
        ("a", "BEGIN"), ("a", "ALTER TABLE lk ADD COLUMN w int DEFAULT 5"),
        ("b", ("SELECT * FROM lk WHERE id > %s ORDER BY id", (0,))), ("a", "COMMIT"), ("b", WAIT),
        ("a", "BEGIN"), ("a", "DROP TABLE lk"), ("b", ("SELECT * FROM lk WHERE id > %s", (0,))), ("a", "COMMIT"),
        ("b", WAIT)],
    "truncate_waits_then_reader_sees_empty": [
        ("a", "BEGIN"), ("a", "TRUNCATE lk"), ("b", "SELECT count(*) FROM lk"), ("a", "COMMIT"), ("b", WAIT)],
    "select_blocks_truncate": [
        ("a", "BEGIN"), ("a", "SELECT count(*) FROM lk"), ("b", "TRUNCATE lk"), ("a", "COMMIT"), ("b", WAIT),
        ("a", "SELECT count(*) FROM lk")],
    "update_blocks_create_index": [
        ("a", "BEGIN"), ("a", "UPDATE lk SET v = 11 WHERE id = 1"), ("b", "CREATE INDEX lk_v ON lk (v)"),
        ("a", "ROLLBACK"), ("b", WAIT)],
    "create_index_blocks_insert_not_select": [
        ("a", "BEGIN"), ("a", "CREATE INDEX lk_v ON lk (v)"), ("b", "SELECT count(*) FROM lk"),
        ("b", "INSERT INTO lk VALUES (5, 50)"), ("a", "COMMIT"), ("b", WAIT)],
    "exclusive_blocks_for_update_not_select": [
        ("a", "BEGIN"), ("a", "LOCK TABLE lk IN EXCLUSIVE MODE"), ("b", "SELECT count(*) FROM lk"),
        ("b", "SELECT id FROM lk WHERE id = 1 FOR UPDATE"), ("a", "COMMIT"), ("b", WAIT)],
    "access_exclusive_blocks_select": [
        ("a", "BEGIN"), ("a", "LOCK TABLE lk"), ("b", "SELECT count(*) FROM lk"), ("a", "COMMIT"), ("b", WAIT)],
    "row_exclusive_modes_share": [
        ("a", "BEGIN"), ("a", "LOCK TABLE lk IN ROW EXCLUSIVE MODE"), ("b", "UPDATE lk SET v = 21 WHERE id = 2"),
        ("b", "BEGIN"), ("b", "LOCK TABLE lk IN ROW SHARE MODE"), ("b", "COMMIT"), ("a", "COMMIT")],
    "nowait": [
        ("a", "BEGIN"), ("a", "SELECT count(*) FROM lk"), ("b", "BEGIN"),
        ("b", "LOCK TABLE lk IN ACCESS EXCLUSIVE MODE NOWAIT"), ("b", "ROLLBACK"), ("a", "COMMIT")],
    "lock_timeout": [
        ("b", "SET lock_timeout = '200ms'"), ("a", "BEGIN"), ("a", "LOCK TABLE lk IN SHARE MODE"),
        ("b", "INSERT INTO lk VALUES (9, 90)", FINISH), ("a", "COMMIT"), ("b", "SELECT count(*) FROM lk")],
    "waiter_queue_holds_back_later_readers": [
        ("a", "BEGIN"), ("a", "SELECT count(*) FROM lk"), ("b", "ALTER TABLE lk ADD COLUMN w int"),
        ("c", "SELECT count(*) FROM lk"), ("a", "COMMIT"), ("b", WAIT), ("c", WAIT)],
    "lock_upgrade_in_own_transaction": [
        ("a", "BEGIN"), ("a", "SELECT count(*) FROM lk"), ("a", "INSERT INTO lk VALUES (7, 70)"),
        ("a", "LOCK TABLE lk IN ACCESS EXCLUSIVE MODE"), ("a", "ALTER TABLE lk ADD COLUMN z int"), ("a", "COMMIT")],
    "rollback_to_savepoint_releases_later_locks": [
        ("a", "BEGIN"), ("a", "SELECT count(*) FROM lk"), ("a", "SAVEPOINT s"),
        ("a", "LOCK TABLE lk IN EXCLUSIVE MODE"), ("b", "INSERT INTO lk VALUES (8, 80)"),
        ("a", "ROLLBACK TO SAVEPOINT s"), ("b", WAIT), ("c", "BEGIN"),
        ("c", "LOCK TABLE lk IN ACCESS EXCLUSIVE MODE NOWAIT"), ("c", "ROLLBACK"), ("a", "COMMIT")],
    "rollback_to_savepoint_drops_fast_path_locks": [
        ("a", "BEGIN"), ("a", "SELECT count(*) FROM lk"), ("a", "SAVEPOINT s"),
        ("a", "INSERT INTO lk VALUES (8, 80)"), ("a", "ROLLBACK TO SAVEPOINT s"), ("c", "BEGIN"),
        ("c", "LOCK TABLE lk IN SHARE MODE NOWAIT"), ("c", "ROLLBACK"), ("b", "BEGIN"),
        ("b", "LOCK TABLE lk IN ACCESS EXCLUSIVE MODE NOWAIT"), ("b", "ROLLBACK"), ("a", "COMMIT")],
    "vacuum_waits_for_share_update_exclusive": [
        ("a", "BEGIN"), ("a", "LOCK TABLE lk IN SHARE UPDATE EXCLUSIVE MODE"), ("b", "VACUUM lk"),
        ("a", "COMMIT"), ("b", WAIT)],
    "table_deadlock": [
        ("a", "SET deadlock_timeout = '100ms'"), ("b", "SET deadlock_timeout = '10s'"),
        ("a", "BEGIN"), ("b", "BEGIN"), ("a", "LOCK TABLE lk IN EXCLUSIVE MODE"),
        ("b", "LOCK TABLE lk2 IN EXCLUSIVE MODE"), ("b", "LOCK TABLE lk IN EXCLUSIVE MODE"),
        ("a", "LOCK TABLE lk2 IN EXCLUSIVE MODE", FINISH), ("a", "ROLLBACK"), ("b", WAIT), ("b", "COMMIT")],
    "row_and_table_deadlock": [
        ("a", "SET deadlock_timeout = '100ms'"), ("b", "SET deadlock_timeout = '10s'"),
        ("a", "BEGIN"), ("b", "BEGIN"), ("a", "UPDATE lk SET v = 1 WHERE id = 1"),
        ("b", "LOCK TABLE lk2 IN EXCLUSIVE MODE"), ("b", "UPDATE lk SET v = 2 WHERE id = 1"),
        ("a", "LOCK TABLE lk2 IN SHARE MODE", FINISH), ("a", "ROLLBACK"), ("b", WAIT), ("b", "COMMIT"),
        ("a", "SELECT v FROM lk WHERE id = 1")],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_same_outcomes_as_postgresql(name: str, instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    script = SCRIPTS[name]
    expected = await run_script(pg_oracle.dsn, SETUP, script)
    got = await run_script(instance.dsn, SETUP, script)
    assert got == expected


SIMPLE_PROTOCOL = ("alter_table_waiters_see_the_new_column", "drop_blocks_select", "row_and_table_deadlock",
                   "waiter_queue_holds_back_later_readers")


@pytest.mark.parametrize("name", SIMPLE_PROTOCOL)
async def test_same_outcomes_through_simple_queries(name: str, instance: InstanceProcess,
                                                    pg_oracle: PgOracle) -> None:
    """The same scripts as simple Query messages (psql's way; pgaurora's plan cache path)."""
    script = SCRIPTS[name]
    expected = await run_script(pg_oracle.dsn, SETUP, script, simple=True)
    got = await run_script(instance.dsn, SETUP, script, simple=True)
    assert got == expected
