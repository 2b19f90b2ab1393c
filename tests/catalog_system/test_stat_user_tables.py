"""pg_stat_user_tables' counters through a sequence of inserts, updates, a delete, ANALYZE,
VACUUM and TRUNCATE: the same numbers as PostgreSQL 15 (which publishes them once
pg_stat_force_next_flush() asks; pgaurora's are read live)."""

from __future__ import annotations

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


def _transcript(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as writer, psycopg.connect(dsn, autocommit=True) as reader:
        writer.execute("DROP TABLE IF EXISTS stat_t")
        try:
            for step in STEPS:
                writer.execute(step)
                writer.execute("SELECT pg_stat_force_next_flush()")
                reader.execute("SELECT pg_stat_clear_snapshot()")
                row = reader.execute(f"SELECT {COUNTERS} FROM pg_stat_user_tables WHERE relname = 'stat_t'").fetchone()
                out.append((step, row))
        finally:
            writer.execute("DROP TABLE IF EXISTS stat_t")
    return out


def test_table_counters_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(_transcript, instance.dsn, pg_oracle.dsn)
