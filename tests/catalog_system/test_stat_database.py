"""pg_stat_database: PostgreSQL 15's rows and columns; numbackends; transactions committed and
rolled back (a statement answered on the fused path outside any transaction counts as the
commit PostgreSQL would have made); sessions, sessions killed by pg_terminate_backend, deadlocks
and the user tables' tuples, each moving by exactly what a session did."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

COUNTERS = ("SELECT xact_commit, xact_rollback, sessions, sessions_killed, deadlocks, tup_inserted, tup_updated, "
            "tup_deleted, numbackends FROM pg_stat_database WHERE datname = 'postgres'")


def _counters(conn: psycopg.Connection[Any]) -> dict[str, int]:
    cursor = conn.execute(COUNTERS)
    names = [c.name for c in cursor.description or ()]
    row = cursor.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def test_rows_and_columns_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    shape = ("SELECT datid = 0, datname, xact_commit >= 0, blks_read >= 0, stats_reset FROM pg_stat_database "
             "ORDER BY datname NULLS FIRST")
    columns = "SELECT * FROM pg_stat_database LIMIT 0"
    with psycopg.connect(instance.dsn) as ours, psycopg.connect(pg_oracle.dsn) as theirs:
        assert ours.execute(shape).fetchall() == theirs.execute(shape).fetchall()
        mine, pg = ours.execute(columns), theirs.execute(columns)
        assert [(c.name, c.type_code) for c in mine.description or ()] == [
            (c.name, c.type_code) for c in pg.description or ()]


def test_transactions_sessions_and_tuples(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn, autocommit=True) as watcher:
        watcher.execute("DROP TABLE IF EXISTS sd_t")
        watcher.execute("CREATE TABLE sd_t (id int PRIMARY KEY, v int)")
        before = _counters(watcher)  # (this read commits too: one more below)
        with psycopg.connect(instance.dsn, autocommit=True) as conn:
            conn.execute("SELECT 1")  # the fused path: no transaction, still a commit
            conn.execute("SELECT v FROM sd_t WHERE id = %s", (1,), prepare=True)
            conn.execute("INSERT INTO sd_t VALUES (1, 1), (2, 2), (3, 3)")
            conn.execute("UPDATE sd_t SET v = 9 WHERE id = 2")
            with conn.transaction():
                conn.execute("DELETE FROM sd_t WHERE id = 3")
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute("INSERT INTO sd_t VALUES (1, 1)")  # rolled back
            conn.execute("BEGIN")
            conn.execute("INSERT INTO sd_t VALUES (4, 4)")
            conn.execute("ROLLBACK")
            during = _counters(watcher)
        for _ in range(100):  # the server notices the closed connection soon after (bounded wait)
            after = _counters(watcher)
            if after["numbackends"] == before["numbackends"]:
                break
            watcher.execute("SELECT pg_sleep(0.02)")
        # the first read, then SELECT 1, the Parse (psycopg's own Sync) and execution of the
        # prepared statement, INSERT, UPDATE and the transaction block: a commit each
        assert during["xact_commit"] - before["xact_commit"] == 1 + 6
        assert during["xact_rollback"] - before["xact_rollback"] == 2
        assert during["sessions"] - before["sessions"] == 1
        assert during["numbackends"] == before["numbackends"] + 1 == after["numbackends"] + 1
        assert (during["tup_inserted"] - before["tup_inserted"], during["tup_updated"] - before["tup_updated"],
                during["tup_deleted"] - before["tup_deleted"]) == (5, 1, 1)  # rolled-back inserts count too
        watcher.execute("DROP TABLE sd_t")


def test_killed_sessions_and_deadlocks(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn, autocommit=True) as watcher:
        before = _counters(watcher)
        victim = psycopg.connect(instance.dsn, autocommit=True)
        pid = victim.info.backend_pid
        assert watcher.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)
        victim.close()
        a = psycopg.connect(instance.dsn, autocommit=True)
        b = psycopg.connect(instance.dsn, autocommit=True)
        try:
            a.execute("SELECT pg_advisory_lock(101)")
            b.execute("SELECT pg_advisory_lock(102)")
            import threading

            outcome: list[BaseException | None] = []

            def first() -> None:
                try:
                    a.execute("SELECT pg_advisory_lock(102)")
                    outcome.append(None)
                except psycopg.Error as exc:
                    outcome.append(exc)

            waiter = threading.Thread(target=first)
            waiter.start()
            for _ in range(200):  # until a waits for b (bounded)
                if watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone() == (1,):
                    break
                watcher.execute("SELECT pg_sleep(0.02)")
            with pytest.raises(psycopg.errors.DeadlockDetected):
                b.execute("SELECT pg_advisory_lock(101)")
            b.execute("SELECT pg_advisory_unlock_all()")
            waiter.join(timeout=20)
            assert outcome == [None]
        finally:
            a.close()
            b.close()
        after = _counters(watcher)
        assert after["sessions_killed"] - before["sessions_killed"] == 1
        assert after["deadlocks"] - before["deadlocks"] == 1
