"""A reader keeps its cached pages across a new replication stream, and a promoted reader
hands them to the new writer.

One cluster (6 storage-node processes, a writer, two readers), in order: the writer is killed
(SIGKILL) with a transaction open and started again on the same replication port — the readers
reconnect, keep their pages (the writer replays its MTRs since recovery from the point they
hold), never show the aborted transaction's rows and see the new writer's commits; then the
writer is killed again, reader-1 is promoted and starts with the pages it cached, and reader-2
follows it, again keeping its pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import psycopg

from tests.replica.harness import Proc, ReplicaCluster, connect, wait_for

VISIBLE_WITHIN = 20.0


def count(dsn: str, sql: str) -> Any:
    try:
        with connect(dsn) as conn:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None
    except (psycopg.errors.UndefinedTable, psycopg.OperationalError):
        return None


def has_rows(reader: Proc, n: int) -> Callable[[], bool]:
    return lambda: count(reader.dsn, "SELECT count(*) FROM kept") == n


def log_matches(proc: Proc, pattern: str) -> list[str]:
    return re.findall(pattern, proc.log())


def test_a_restarted_writer_streams_from_where_its_readers_are(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("CREATE TABLE kept (id int PRIMARY KEY, v text)")
        w.execute("INSERT INTO kept SELECT g, 'before' FROM generate_series(1, 300) g")
    for reader in cluster.readers:
        wait_for(has_rows(reader, 300), VISIBLE_WITHIN)
    open_txn = connect(cluster.writer.dsn, autocommit=False)
    open_txn.execute("INSERT INTO kept VALUES (1000, 'never committed')")
    open_txn.execute("UPDATE kept SET v = 'never committed' WHERE id = 1")
    with connect(cluster.writer.dsn) as w:
        w.execute("SELECT pg_current_wal_lsn()")  # the open transaction's redo is sent by now
    cluster.writer.kill()
    open_txn.close()
    cluster.restart_writer()
    with connect(cluster.writer.dsn) as w:
        w.execute("INSERT INTO kept VALUES (301, 'after')")
    for reader in cluster.readers:
        wait_for(has_rows(reader, 301), VISIBLE_WITHIN)
        with connect(reader.dsn) as r:
            assert r.execute("SELECT v FROM kept WHERE id = 1").fetchone() == ("before",)
            assert r.execute("SELECT count(*) FROM kept WHERE v = 'never committed'").fetchone() == (0,)
            assert r.execute("SELECT v FROM kept WHERE id = 301").fetchone() == ("after",)
        assert log_matches(reader, r"cached pages kept"), reader.log()[-3000:]
        assert not log_matches(reader, r"re-read the cached pages")


def test_a_promoted_reader_starts_with_its_cached_pages(cluster: ReplicaCluster) -> None:
    assert cluster.writer is not None
    with connect(cluster.writer.dsn) as w:
        w.execute("INSERT INTO kept SELECT g, 'second' FROM generate_series(302, 400) g")
    reader1, reader2 = cluster.readers
    for reader in (reader1, reader2):
        wait_for(has_rows(reader, 400), VISIBLE_WITHIN)
    cluster.writer.kill()
    with connect(reader1.dsn) as r:
        assert r.execute("SELECT pg_promote()").fetchone() == (True,)
    new_port = cluster.read_replication_port(reader1)
    promoted = log_matches(reader1, r"'pages_kept': (\d+)")
    assert promoted and int(promoted[-1]) > 0, reader1.log()[-3000:]
    wait_for(lambda: count(reader1.dsn, "SELECT pg_is_in_recovery()") is False, VISIBLE_WITHIN)
    cluster.writer = reader1
    with connect(reader1.dsn) as w:
        assert w.execute("SELECT count(*), count(*) FILTER (WHERE v = 'second') FROM kept").fetchone() == (400, 99)
        w.execute("INSERT INTO kept VALUES (401, 'promoted')")
        w.execute("UPDATE kept SET v = 'promoted' WHERE id = 2")
    with connect(reader2.dsn) as r:
        assert r.execute("SELECT aurora_follow_writer(%s)", (f"127.0.0.1:{new_port}",)).fetchone() == (True,)
    wait_for(lambda: count(reader2.dsn, "SELECT count(*) FROM kept WHERE v = 'promoted'") == 2, VISIBLE_WITHIN)
    assert count(reader2.dsn, "SELECT count(*) FROM kept") == 401
    assert len(log_matches(reader2, r"cached pages kept")) >= 2, reader2.log()[-3000:]
    assert not log_matches(reader2, r"re-read the cached pages")
