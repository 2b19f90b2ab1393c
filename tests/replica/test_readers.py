"""Read replicas end to end: 6 storage-node processes, a writer and 2 reader processes.

Readers see committed data within a bounded time, never uncommitted data, never go back in
time within a session, refuse writes as a PostgreSQL hot standby does, see DDL, and hold the
writer's vacuum back while a snapshot of theirs needs old versions. The last test kills the
writer with SIGKILL (the module's cluster is not usable as before after it): the readers keep
answering, one is promoted with pg_promote() and the other follows it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from tests.replica.harness import ReplicaCluster, connect, wait_for

VISIBLE_WITHIN = 5.0  # seconds: a commit on the writer is visible on every reader by then


def test_committed_rows_appear_on_every_reader(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("CREATE TABLE seen (id int PRIMARY KEY, v text)")
        w.execute("INSERT INTO seen SELECT g, 'v' || g FROM generate_series(1, 500) g")
    for reader in cluster.readers:
        with connect(reader.dsn) as r:
            def complete(r: psycopg.Connection[Any] = r) -> bool:
                try:
                    return r.execute("SELECT count(*), sum(id) FROM seen").fetchone() == (500, 125250)
                except psycopg.errors.UndefinedTable:
                    return False
            wait_for(complete, VISIBLE_WITHIN)
            assert r.execute("SELECT v FROM seen WHERE id = 42").fetchone() == ("v42",)


def test_a_reader_never_sees_uncommitted_rows(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("CREATE TABLE pending (id int PRIMARY KEY, v text)")
        w.execute("INSERT INTO pending VALUES (1, 'old')")
    with connect(cluster.writer.dsn, autocommit=False) as open_txn, connect(cluster.writer.dsn) as marker:
        open_txn.execute("INSERT INTO pending VALUES (2, 'uncommitted')")
        open_txn.execute("UPDATE pending SET v = 'uncommitted' WHERE id = 1")
        marker.execute("CREATE TABLE pending_marker (id int)")
        marker.execute("INSERT INTO pending_marker VALUES (1)")  # committed after the open txn's writes
        for reader in cluster.readers:
            with connect(reader.dsn) as r:
                def marked(r: psycopg.Connection[Any] = r) -> bool:
                    try:
                        return r.execute("SELECT count(*) FROM pending_marker").fetchone() == (1,)
                    except psycopg.errors.UndefinedTable:
                        return False
                wait_for(marked, VISIBLE_WITHIN)
                assert r.execute("SELECT id, v FROM pending ORDER BY id").fetchall() == [(1, "old")]
        open_txn.commit()
    for reader in cluster.readers:
        with connect(reader.dsn) as r:
            def both(r: psycopg.Connection[Any] = r) -> bool:
                return r.execute("SELECT count(*) FROM pending").fetchone() == (2,)
            wait_for(both, VISIBLE_WITHIN)
            assert r.execute("SELECT v FROM pending ORDER BY id").fetchall() == [("uncommitted",)] * 2


def test_time_never_goes_backwards_within_a_reader_session(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("CREATE TABLE clock (id int PRIMARY KEY, n int)")
        w.execute("INSERT INTO clock VALUES (1, 0)")
    stop = threading.Event()
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            with connect(cluster.writer.dsn) as w:  # type: ignore[union-attr]
                for _ in range(100_000):
                    if stop.is_set():
                        return
                    w.execute("UPDATE clock SET n = n + 1 WHERE id = 1")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        with connect(cluster.readers[0].dsn) as r:
            wait_for(lambda: _table_exists(r, "clock"), VISIBLE_WITHIN)
            last = -1
            seen = set()
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                row = r.execute("SELECT n FROM clock WHERE id = 1").fetchone()
                assert row is not None
                assert row[0] >= last, f"went back from {last} to {row[0]}"
                last = row[0]
                seen.add(last)
            assert len(seen) > 3  # the reader followed the writer while it read
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors


def _table_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return conn.execute("SELECT count(*) FROM pg_class WHERE relname = %s", (name,)).fetchone() == (1,)


WRITES = [
    ("INSERT INTO seen VALUES (9999, 'x')", "25006", "cannot execute INSERT in a read-only transaction"),
    ("UPDATE seen SET v = 'x'", "25006", "cannot execute UPDATE in a read-only transaction"),
    ("DELETE FROM seen", "25006", "cannot execute DELETE in a read-only transaction"),
    ("CREATE TABLE nope (a int)", "25006", "cannot execute CREATE TABLE in a read-only transaction"),
    ("DROP TABLE seen", "25006", "cannot execute DROP TABLE in a read-only transaction"),
    ("TRUNCATE seen", "25006", "cannot execute TRUNCATE TABLE in a read-only transaction"),
    ("CREATE INDEX ON seen (v)", "25006", "cannot execute CREATE INDEX in a read-only transaction"),
    ("SELECT * FROM seen FOR UPDATE", "25006", "cannot execute SELECT FOR UPDATE in a read-only transaction"),
    ("SELECT * FROM seen FOR SHARE", "25006", "cannot execute SELECT FOR SHARE in a read-only transaction"),
    ("SELECT nextval('seq')", "25006", "cannot execute nextval() in a read-only transaction"),
    ("VACUUM seen", "25006", "cannot execute VACUUM during recovery"),
    ("BEGIN ISOLATION LEVEL SERIALIZABLE", "0A000", "cannot use serializable mode in a hot standby"),
    ("BEGIN READ WRITE", "0A000", "cannot set transaction read-write mode during recovery"),
    ("SET TRANSACTION READ WRITE", "0A000", "cannot set transaction read-write mode during recovery"),
    ("LISTEN channel", "25006", "cannot execute LISTEN during recovery"),
    ("NOTIFY channel", "25006", "cannot execute NOTIFY during recovery"),
]


@pytest.mark.parametrize(("sql", "sqlstate", "message"), WRITES, ids=[w[0].split(" (")[0] for w in WRITES])
def test_writes_on_a_reader_fail_as_on_a_hot_standby(cluster: ReplicaCluster, sql: str, sqlstate: str,
                                                     message: str) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        if not _table_exists(w, "seen"):
            w.execute("CREATE TABLE seen (id int PRIMARY KEY, v text)")
        w.execute("CREATE SEQUENCE IF NOT EXISTS seq")
    with connect(cluster.readers[1].dsn) as r:
        wait_for(lambda: _table_exists(r, "seq") and _table_exists(r, "seen"), VISIBLE_WITHIN)
        with pytest.raises(psycopg.Error) as info:
            r.execute(sql)
        assert (info.value.sqlstate, info.value.diag.message_primary) == (sqlstate, message)
        assert r.execute("SELECT 1").fetchone() == (1,)  # no transaction block was left open


def test_a_reader_reports_itself_as_a_hot_standby(cluster: ReplicaCluster) -> None:
    with connect(cluster.readers[0].dsn) as r:
        assert r.info.parameter_status("in_hot_standby") == "on"
        assert r.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        assert r.execute("SHOW transaction_read_only").fetchone() == ("on",)
        assert r.execute("SELECT current_setting('transaction_read_only')").fetchone() == ("on",)
        r.execute("RESET ALL")
        r.execute("DISCARD ALL")
        assert r.execute("SHOW transaction_read_only").fetchone() == ("on",)
        assert r.execute("SHOW default_transaction_read_only").fetchone() == ("off",)  # as a PG15 standby
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        assert w.info.parameter_status("in_hot_standby") == "off"
        assert w.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    # libpq picks the right server by these (target_session_attrs)
    dsn = (f"host=127.0.0.1,127.0.0.1 port={cluster.readers[0].port},{cluster.writer.port} "
           "user=postgres dbname=postgres target_session_attrs=read-write")
    with psycopg.connect(dsn) as conn:
        assert conn.info.port == cluster.writer.port


def test_recovery_functions_refuse_on_the_writer(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        for sql in ("SELECT pg_promote()", "SELECT aurora_follow_writer('127.0.0.1:1')"):
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as info:
                w.execute(sql)
            assert info.value.diag.message_primary == "recovery is not in progress"
            assert info.value.diag.message_hint == "Recovery control functions can only be executed during recovery."


def test_pg_promote_checks_its_arguments_as_postgresql(cluster: ReplicaCluster, oracle_conn: Any) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:  # not in recovery: that is checked first, as PostgreSQL does
        for sql in ("SELECT pg_promote(true, 0)", "SELECT pg_promote(false, 5)"):
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as ours:
                w.execute(sql)
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as theirs:
                oracle_conn.execute(sql)
            assert ours.value.diag.message_primary == theirs.value.diag.message_primary
    with connect(cluster.readers[0].dsn) as r:
        for sql in ("SELECT pg_promote(true, 0)", "SELECT pg_promote(false, -1)"):
            with pytest.raises(psycopg.errors.InvalidParameterValue) as info:
                r.execute(sql)
            assert info.value.diag.message_primary == '"wait_seconds" must not be negative or zero'
        assert r.execute("SELECT pg_is_in_recovery(), pg_promote(NULL)").fetchone() == (True, None)  # strict


def test_ddl_on_the_writer_is_visible_on_readers(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("CREATE TABLE shape (id int PRIMARY KEY)")
        w.execute("INSERT INTO shape VALUES (1)")
    with connect(cluster.readers[0].dsn) as r:
        wait_for(lambda: _table_exists(r, "shape"), VISIBLE_WITHIN)
        assert r.execute("SELECT * FROM shape").fetchall() == [(1,)]
        with connect(cluster.writer.dsn) as w:
            w.execute("ALTER TABLE shape ADD COLUMN label text DEFAULT 'new'")
            w.execute("CREATE INDEX shape_label ON shape (label)")
            w.execute("CREATE VIEW shape_view AS SELECT id, label FROM shape")

        def altered() -> bool:
            try:
                return r.execute("SELECT id, label FROM shape_view").fetchall() == [(1, "new")]
            except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
                return False
        wait_for(altered, VISIBLE_WITHIN)
        assert r.execute("SELECT id FROM shape WHERE label = 'new'").fetchall() == [(1,)]
        with connect(cluster.writer.dsn) as w:
            w.execute("DROP VIEW shape_view")
            w.execute("DROP TABLE shape")
        wait_for(lambda: not _table_exists(r, "shape"), VISIBLE_WITHIN)
        with pytest.raises(psycopg.errors.UndefinedTable):
            r.execute("SELECT * FROM shape")


def test_a_reader_snapshot_keeps_the_versions_it_reads_from_vacuum(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("CREATE TABLE kept (id int PRIMARY KEY, v int)")
        w.execute("INSERT INTO kept SELECT g, 0 FROM generate_series(1, 50) g")
    with connect(cluster.readers[0].dsn) as r:
        wait_for(lambda: _table_exists(r, "kept") and r.execute("SELECT count(*) FROM kept").fetchone() == (50,), VISIBLE_WITHIN)
        r.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert r.execute("SELECT sum(v) FROM kept").fetchone() == (0,)
        # No wait for feedback needed: what a reader last reported is never above the xmin of a
        # snapshot it takes later, so the writer's floor already covers this one.
        with connect(cluster.writer.dsn) as w:
            for i in range(1, 6):
                w.execute("UPDATE kept SET v = %s", (i,))
            w.execute("VACUUM kept")
            status = w.execute("SELECT server_id, feedback_xmin FROM aurora_replica_status() "
                               "WHERE session_id <> 'MASTER_SESSION_ID'").fetchall()
            assert {row[0] for row in status} == {"reader-1", "reader-2"}
        with connect(cluster.readers[1].dsn) as other:
            wait_for(lambda: other.execute("SELECT sum(v) FROM kept").fetchone() == (250,), VISIBLE_WITHIN)
        # the old versions are still on the pages the reader reads, for its snapshot
        assert r.execute("SELECT sum(v), count(*) FROM kept").fetchone() == (0, 50)
        r.execute("COMMIT")
        assert r.execute("SELECT sum(v) FROM kept").fetchone() == (250,)


def test_replica_status_shows_read_points_and_lag(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("CREATE TABLE lag (id int)")
        w.execute("INSERT INTO lag VALUES (1)")

        def reported() -> bool:
            return w.execute("SELECT count(*) FROM aurora_replica_status() WHERE replica_lag_in_msec IS NOT NULL "
                             "AND session_id <> 'MASTER_SESSION_ID'").fetchone() == (2,)
        wait_for(reported, VISIBLE_WITHIN)
        rows = w.execute("SELECT server_id, session_id, durable_lsn, current_read_lsn, replica_lag_in_msec, "
                         "is_current FROM aurora_replica_status() ORDER BY server_id").fetchall()
        replication = w.execute("SELECT application_name, state, sync_state, client_addr, replay_lsn IS NOT NULL "
                                "FROM pg_stat_replication ORDER BY application_name").fetchall()
    by_id = {row[0]: row for row in rows}
    assert by_id["writer"][1] == "MASTER_SESSION_ID"
    for name in ("reader-1", "reader-2"):
        _, session_id, durable, read_lsn, lag, current = by_id[name]
        assert session_id != "MASTER_SESSION_ID" and current
        assert 0 < read_lsn <= durable and lag is not None and 0 <= lag < 5000
    assert replication == [("reader-1", "streaming", "async", "127.0.0.1", True),
                           ("reader-2", "streaming", "async", "127.0.0.1", True)]
    with connect(cluster.readers[0].dsn) as r:
        assert r.execute("SELECT count(*) FROM pg_stat_replication").fetchone() == (0,)
        lag_rows = r.execute("SELECT server_id, samples > 0, p50_ms <= max_ms FROM pgaurora_replica_lag()").fetchall()
        assert lag_rows == [("reader-1", True, True)]
        rows = r.execute("SELECT server_id, current_read_lsn, highest_lsn_rcvd FROM aurora_replica_status()").fetchall()
        assert [row[0] for row in rows] == ["writer", "reader-1"]
        assert rows[1][1] > 0 and rows[1][2] >= rows[1][1]
        assert r.execute("SELECT pg_last_wal_replay_lsn() IS NOT NULL, pg_last_wal_receive_lsn() IS NOT NULL, "
                         "pg_last_xact_replay_timestamp() IS NOT NULL, pg_is_wal_replay_paused()").fetchone() == (
            True, True, True, False)
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="recovery is in progress"):
            r.execute("SELECT pg_current_wal_lsn()")
    with connect(cluster.writer.dsn) as w:
        assert w.execute("SELECT pg_current_wal_lsn() IS NOT NULL, pg_last_wal_replay_lsn() IS NULL").fetchone() == (
            True, True)


def test_readers_survive_the_writer_and_one_is_promoted(cluster: ReplicaCluster) -> None:
    """Runs last: kill -9 of the writer; reads go on; pg_promote(); the other reader follows."""
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("CREATE TABLE survivor (id int PRIMARY KEY, v text)")
        w.execute("INSERT INTO survivor SELECT g, 'before' FROM generate_series(1, 100) g")
    reader1, reader2 = cluster.readers
    for reader in (reader1, reader2):
        with connect(reader.dsn) as r:
            def copied(r: psycopg.Connection[Any] = r) -> bool:
                return _table_exists(r, "survivor") and r.execute("SELECT count(*) FROM survivor").fetchone() == (100,)
            wait_for(copied, VISIBLE_WITHIN)
    cluster.writer.kill()
    for reader in (reader1, reader2):
        with connect(reader.dsn) as r:  # new sessions, at the last read point
            assert r.execute("SELECT count(*), min(v) FROM survivor").fetchone() == (100, "before")
            assert r.execute("SELECT v FROM survivor WHERE id = 7").fetchone() == ("before",)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                r.execute("INSERT INTO survivor VALUES (0, 'x')")
    with connect(reader1.dsn) as r:
        assert r.execute("SELECT pg_promote()").fetchone() == (True,)
    new_port = cluster.read_replication_port(reader1)

    def promoted() -> bool:
        try:
            with connect(reader1.dsn) as conn:
                return conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        except psycopg.OperationalError:
            return False
    wait_for(promoted, 30.0)
    # A reader that subscribes before the new writer's first write must still become ready:
    # recovery leaves a gap above VDL that only a new write would close.
    cluster.writer = reader1
    (reader3,) = cluster.spawn_readers(["reader-3"])
    cluster.wait_ready(reader3)
    with connect(reader3.dsn) as r:
        assert r.execute("SELECT count(*) FROM survivor").fetchone() == (100,)
    with connect(reader1.dsn) as new_writer:
        assert new_writer.info.parameter_status("in_hot_standby") == "off"
        assert new_writer.execute("SELECT count(*) FROM survivor").fetchone() == (100,)
        new_writer.execute("INSERT INTO survivor VALUES (101, 'after')")
        new_writer.execute("UPDATE survivor SET v = 'after' WHERE id = 1")
    with connect(reader2.dsn) as r:
        assert r.execute("SELECT aurora_follow_writer(%s)", (f"127.0.0.1:{new_port}",)).fetchone() == (True,)
        wait_for(lambda: r.execute("SELECT count(*) FROM survivor WHERE v = 'after'").fetchone() == (2,), 20.0)
        assert r.execute("SELECT count(*) FROM survivor").fetchone() == (101,)
