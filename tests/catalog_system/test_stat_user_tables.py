"""pg_stat_user_tables' counters through a sequence of inserts, updates, a delete, ANALYZE,
VACUUM and TRUNCATE: the same numbers as PostgreSQL 15 (which publishes them once
pg_stat_force_next_flush() asks; pgaurora's are read live)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from tests.pgoracle import PgOracle, assert_same_transcripts
from tests.server.harness import InstanceProcess

COUNTERS = ("n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd, n_live_tup, n_dead_tup, n_mod_since_analyze, "
            "n_ins_since_vacuum, vacuum_count, autovacuum_count, analyze_count, autoanalyze_count, "
            "last_vacuum IS NOT NULL, last_analyze IS NOT NULL")
STEPS = [
    "CREATE TABLE stat_t (id int PRIMARY KEY, v int)",
    "INSERT INTO stat_t SELECT g, 0 FROM generate_series(1, 5) g",
    "UPDATE stat_t SET v = v + 1 WHERE id <= 2",
    "DELETE FROM stat_t WHERE id = 5",
    "ANALYZE stat_t",
    "INSERT INTO stat_t VALUES (6, 0)",
    "VACUUM stat_t",
    "UPDATE stat_t SET v = 9 WHERE id = 6",
    "TRUNCATE stat_t",
    "INSERT INTO stat_t VALUES (1, 1), (2, 2)",
]


def _counted(dsn: str, steps: list[str], tables: str, counts: Callable[[Any], tuple[Any, ...]]) -> list[Any]:
    """Runs each step on one connection, then reads `counts(reader)` on another after PostgreSQL
    has published its counters (pg_stat_force_next_flush; pgaurora's are read live). Steps
    "COPY ..." run as COPY TO, "PREPARED <sql with %s>" three times as a prepared statement
    (on pgaurora's fused path). `tables` are dropped before and after."""
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as writer, psycopg.connect(dsn, autocommit=True) as reader:
        writer.execute(f"DROP TABLE IF EXISTS {tables}")
        try:
            for step in steps:
                if step.startswith("COPY"):
                    with writer.cursor().copy(step) as copy:
                        rows = sum(1 for _ in copy)
                    assert rows > 0
                elif step.startswith("PREPARED"):
                    cursor = writer.cursor()
                    for key in (7, 8, 9):
                        cursor.execute(step.removeprefix("PREPARED "), (key,), prepare=True)
                else:
                    writer.execute(step)
                writer.execute("SELECT pg_stat_force_next_flush()")
                reader.execute("SELECT pg_stat_clear_snapshot()")
                out.append((step, *counts(reader)))
        finally:
            writer.execute(f"DROP TABLE IF EXISTS {tables}")
    return out


def _transcript(dsn: str) -> list[Any]:
    return _counted(dsn, STEPS, "stat_t", lambda reader: (reader.execute(
        f"SELECT {COUNTERS} FROM pg_stat_user_tables WHERE relname = 'stat_t'").fetchone(),))


def test_table_counters_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(_transcript, instance.dsn, pg_oracle.dsn)


TABLE_SCANS = "relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch"
INDEX_SCANS = "indexrelname, idx_scan, idx_tup_read, idx_tup_fetch"
# Statements whose plans are the same on both servers: a whole-table scan, index scans by the
# whole key (found, deleted, through the fused path of a prepared statement; an IN list begins a
# scan per key in PostgreSQL 15, and its literals are parameters of a cached plan here), an interior key
# range (PostgreSQL's planner probes the index for a range at the ends of its histogram, which
# counts too), a foreign key's check, COPY TO, index builds on empty and filled tables, TRUNCATE.
SCAN_STEPS = [
    "CREATE TABLE sc_t (id int PRIMARY KEY, v int NOT NULL, w text)",
    "CREATE INDEX sc_t_v ON sc_t (v)",
    "INSERT INTO sc_t SELECT g, g % 100, 'x' FROM generate_series(1, 10000) g",
    "ANALYZE sc_t",
    "SELECT count(*) FROM sc_t",
    "SELECT v FROM sc_t WHERE id = 42",
    "SELECT v FROM sc_t WHERE id IN (1, 2, 3)",
    "SELECT id FROM sc_t WHERE w = 'y'",
    "SELECT w FROM sc_t WHERE id BETWEEN 5000 AND 5009",
    "UPDATE sc_t SET w = 'z' WHERE id = 5",
    "DELETE FROM sc_t WHERE id = 6",
    "SELECT w FROM sc_t WHERE id = 6",
    "CREATE TABLE sc_c (id int PRIMARY KEY, t_id int REFERENCES sc_t)",
    "INSERT INTO sc_c VALUES (1, 7), (2, 8)",
    "CREATE INDEX sc_c_t ON sc_c (t_id)",
    "COPY sc_t TO STDOUT",
    "PREPARED SELECT v FROM sc_t WHERE id = %s",
    "TRUNCATE sc_c",
    "SELECT * FROM sc_c WHERE id = 1",
]


def _scan_counts(reader: Any) -> tuple[Any, ...]:
    tables = reader.execute(f"SELECT {TABLE_SCANS} FROM pg_stat_user_tables "
                            "WHERE relname LIKE 'sc\\_%' ORDER BY relname").fetchall()
    indexes = reader.execute(f"SELECT {INDEX_SCANS} FROM pg_stat_user_indexes "
                             "WHERE relname LIKE 'sc\\_%' ORDER BY indexrelname").fetchall()
    return tables, indexes


def _scan_transcript(dsn: str) -> list[Any]:
    return _counted(dsn, SCAN_STEPS, "sc_c, sc_t", _scan_counts)


def test_scan_counters_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """seq_scan, seq_tup_read, idx_scan, idx_tup_fetch and pg_stat_user_indexes after each step."""
    assert_same_transcripts(_scan_transcript, instance.dsn, pg_oracle.dsn)
