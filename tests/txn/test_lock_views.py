"""pg_locks, pg_stat_activity, pg_blocking_pids and pg_cancel_backend while sessions wait,
compared with PostgreSQL 15 in the same situation (three sessions: a holder, a waiter, an
observer). Columns whose values differ by nature (pids, timestamps, xids) are compared by
their relations to each other (`transactionid = backend_xid`, `waitstart IS NOT NULL`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess
from tests.txn.sessions import OBSERVER, WAIT, Sessions

pytestmark = pytest.mark.timeout(120)

SETUP = ("DROP TABLE IF EXISTS lv; CREATE TABLE lv (id int PRIMARY KEY, v int); "
         "INSERT INTO lv VALUES (1, 10), (2, 20)")


async def _observe(dsn: str, script: list[tuple[Any, ...]], queries: list[str],
                   after: Sequence[tuple[Any, ...]] = ()) -> list[Any]:
    sessions = Sessions(dsn)
    try:
        setup = await sessions.conn("setup")
        await setup.execute(SETUP)
        await sessions.run(script)
        pids = {name: sessions.pid(name) for name in sessions.conns}
        observer = sessions.conns[OBSERVER]
        seen: list[Any] = []
        for sql in queries:
            cur = await observer.execute(sql.format(**pids))
            seen.append(await cur.fetchall())
        seen.append(await sessions.run(list(after)))
        return seen
    finally:
        await sessions.close()


async def _both(instance: InstanceProcess, pg_oracle: PgOracle, script: list[tuple[Any, ...]],
                queries: list[str], after: list[tuple[Any, ...]]) -> tuple[list[Any], list[Any]]:
    expected = await _observe(pg_oracle.dsn, script, queries, after)
    got = await _observe(instance.dsn, script, queries, after)
    return got, expected


async def test_relation_lock_wait(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    script = [("a", "BEGIN"), ("a", "UPDATE lv SET v = 11 WHERE id = 1"), ("b", "BEGIN"),
              ("b", "LOCK TABLE lv IN SHARE MODE")]
    queries = [
        "SELECT l.locktype, l.database = d.oid, l.mode, l.granted, l.fastpath, l.waitstart IS NOT NULL, "
        "a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "JOIN pg_database d ON d.datname = current_database() "
        "WHERE l.relation = 'lv'::regclass ORDER BY a.application_name, l.mode",
        "SELECT locktype, mode, granted, virtualxid = virtualtransaction FROM pg_locks "
        "WHERE locktype = 'virtualxid' AND pid IN ({a}, {b}) ORDER BY pid = {a}",
        "SELECT locktype, mode, granted FROM pg_locks WHERE locktype = 'transactionid' AND pid = {a}",
        "SELECT pg_blocking_pids({b}) = ARRAY[{a}], pg_blocking_pids({a}) = '{{}}'::int[]",
        "SELECT application_name, state, wait_event_type, wait_event, query, backend_type, usename, datname, "
        "backend_xid IS NOT NULL, xact_start IS NOT NULL, query_start >= backend_start "
        "FROM pg_stat_activity WHERE application_name LIKE 'sess_%' ORDER BY application_name",
        "SELECT pg_cancel_backend({b})",
    ]
    after = [("b", WAIT), ("b", "ROLLBACK"), ("a", "COMMIT")]
    got, expected = await _both(instance, pg_oracle, script, queries, after)
    assert got == expected
    relation_rows = got[0]
    assert [r[2] for r in relation_rows] == ["RowExclusiveLock", "ShareLock"]
    assert got[-1][0][2:] == ("error", "57014", "canceling statement due to user request")


async def test_weak_locks_are_fast_path_until_a_strong_locker_comes(instance: InstanceProcess,
                                                                     pg_oracle: PgOracle) -> None:
    script = [("a", "BEGIN"), ("a", "SELECT count(*) FROM lv"), ("a", "UPDATE lv SET v = 11 WHERE id = 1"),
              ("b", "BEGIN"), ("b", "SELECT count(*) FROM lv")]
    rows = ("SELECT l.mode, l.granted, l.fastpath, a.application_name FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.relation = 'lv'::regclass "
            "ORDER BY a.application_name, l.mode")
    after = [("c", "BEGIN"), ("c", "LOCK TABLE lv IN SHARE MODE NOWAIT"), ("b", "COMMIT"), ("a", "ROLLBACK"),
             ("c", "LOCK TABLE lv IN SHARE MODE NOWAIT"), ("c", "ROLLBACK")]
    got, expected = await _both(instance, pg_oracle, script, [rows], after)
    assert got == expected
    assert [r[2] for r in got[0]] == [True, True, True]  # AccessShare, RowExclusive of a; AccessShare of b
    assert got[-1][1][2:4] == ("error", "55P03")  # a's fast-path RowExclusiveLock still blocks ShareLock


async def test_transaction_wait_for_a_row(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    script = [("a", "BEGIN"), ("a", "UPDATE lv SET v = 11 WHERE id = 1"), ("b", "UPDATE lv SET v = 12 WHERE id = 1")]
    queries = [
        "SELECT l.locktype, l.mode, l.granted, l.transactionid = a.backend_xid FROM pg_locks l, pg_stat_activity a "
        "WHERE l.pid = {b} AND NOT l.granted AND a.pid = {a}",
        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE pid = {b}",
    ]
    after = [("a", "COMMIT"), ("b", WAIT), ("b", "SELECT v FROM lv WHERE id = 1")]
    got, expected = await _both(instance, pg_oracle, script, queries, after)
    assert got == expected
    assert got[0] == [("transactionid", "ShareLock", False, True)]


async def test_advisory_locks_are_listed(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    script = [("a", "SELECT pg_advisory_lock(42)"), ("a", "SELECT pg_advisory_lock_shared(1, 2)"),
              ("a", "SELECT pg_advisory_lock((5::bigint << 32) + 7)")]
    queries = ["SELECT locktype, database = (SELECT oid FROM pg_database WHERE datname = 'postgres'), classid, "
               "objid, objsubid, mode, granted FROM pg_locks WHERE pid = {a} AND locktype = 'advisory' "
               "ORDER BY classid, objid"]
    after = [("a", "SELECT pg_advisory_unlock_all()")]
    got, expected = await _both(instance, pg_oracle, script, queries, after)
    assert got == expected
    assert len(got[0]) == 3


async def test_idle_sessions_and_statements(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    script = [("a", "SELECT 1"), ("b", "BEGIN"), ("b", "SELECT count(*) FROM lv"), ("c", "BEGIN"),
              ("c", "SELECT 1/0")]
    queries = ["SELECT application_name, state, query, wait_event_type, xact_start IS NOT NULL "
               "FROM pg_stat_activity WHERE application_name IN ('sess_a', 'sess_b', 'sess_c') "
               "ORDER BY application_name",
               "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
               "AND application_name LIKE 'sess_%'",
               "SELECT pg_cancel_backend(0)"]
    got, expected = await _both(instance, pg_oracle, script, queries, [])
    assert got == expected
    assert [r[1] for r in got[0]] == ["idle", "idle in transaction", "idle in transaction (aborted)"]
