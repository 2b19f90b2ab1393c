"""MERGE as PostgreSQL 15 has it: WHEN [NOT] MATCHED [AND condition] THEN UPDATE / DELETE /
INSERT / DO NOTHING, the first clause that applies per source row, sources that are tables,
subqueries and VALUES, DEFAULT values, the MERGE n tag, the 21000 error when a target row would
change twice (and nothing changed then), triggers firing, partitioned targets, bound parameters
(psycopg's extended protocol), a read-only transaction refusing it. Compared with PostgreSQL 15 on
the same statements."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

CLEANUP = ["DROP TABLE IF EXISTS mg_tgt, mg_src, mg_log, mg_parts CASCADE", "DROP FUNCTION IF EXISTS mg_note()"]
STEPS = [
    "CREATE TABLE mg_tgt (id int PRIMARY KEY, v text, n int DEFAULT 0)",
    "CREATE TABLE mg_src (id int, v text)",
    "INSERT INTO mg_tgt VALUES (1, 'a', 1), (2, 'b', 2), (4, 'd', 4)",
    "INSERT INTO mg_src VALUES (2, 'B'), (3, 'C'), (4, 'X')",
    "MERGE INTO mg_tgt t USING mg_src s ON t.id = s.id WHEN MATCHED AND s.v = 'X' THEN DELETE "
    "WHEN MATCHED THEN UPDATE SET v = s.v, n = t.n + 10 WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)",
    "SELECT * FROM mg_tgt ORDER BY id",
    "MERGE INTO mg_tgt USING (VALUES (1, 'one'), (9, 'nine')) AS v(id, name) ON mg_tgt.id = v.id "
    "WHEN MATCHED THEN UPDATE SET v = v.name WHEN NOT MATCHED AND v.id > 5 THEN INSERT VALUES (v.id, v.name, DEFAULT)",
    "SELECT * FROM mg_tgt ORDER BY id",
    "MERGE INTO mg_tgt t USING mg_src s ON t.id = s.id WHEN MATCHED THEN DO NOTHING",
    "INSERT INTO mg_src VALUES (2, 'again')",
    "MERGE INTO mg_tgt t USING mg_src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET n = t.n + 1",
    "SELECT * FROM mg_tgt ORDER BY id",
    "MERGE INTO mg_tgt t USING mg_src s ON t.id = s.id "
    "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id + 100, s.v || '!')",
    "MERGE INTO mg_tgt t USING (SELECT id, max(v) AS v FROM mg_src GROUP BY id) s ON t.id = s.id "
    "WHEN MATCHED AND t.n > 5 THEN UPDATE SET n = DEFAULT WHEN MATCHED THEN DELETE "
    "WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
    "SELECT * FROM mg_tgt ORDER BY id",
    "BEGIN",
    "MERGE INTO mg_tgt t USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE",
    "SELECT count(*) FROM mg_tgt",
    "ROLLBACK",
    "BEGIN READ ONLY",
    "MERGE INTO mg_tgt t USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE",
    "ROLLBACK",
    "CREATE TABLE mg_log (op text, id int)",
    "CREATE FUNCTION mg_note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO mg_log VALUES (TG_OP, coalesce(NEW.id, OLD.id)); RETURN coalesce(NEW, OLD); END $$",
    "CREATE TRIGGER mg_t AFTER INSERT OR UPDATE OR DELETE ON mg_tgt FOR EACH ROW EXECUTE FUNCTION mg_note()",
    "MERGE INTO mg_tgt t USING (VALUES (1, 'u'), (50, 'i'), (9, 'd')) s(id, v) ON t.id = s.id "
    "WHEN MATCHED AND s.v = 'd' THEN DELETE WHEN MATCHED THEN UPDATE SET v = s.v "
    "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)",
    "SELECT * FROM mg_log ORDER BY op, id",
    "CREATE TABLE mg_parts (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)",
    "CREATE TABLE mg_parts_1 PARTITION OF mg_parts FOR VALUES FROM (0) TO (10)",
    "CREATE TABLE mg_parts_2 PARTITION OF mg_parts FOR VALUES FROM (10) TO (20)",
    "INSERT INTO mg_parts VALUES (1, 'a'), (11, 'b')",
    "MERGE INTO mg_parts p USING (VALUES (1, 'A'), (11, 'B'), (12, 'C')) s(id, v) ON p.id = s.id "
    "WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v)",
    "SELECT tableoid::regclass, * FROM mg_parts ORDER BY id",
]


def test_merge_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=CLEANUP, details=True)


def _bound(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS mg_bound")
        conn.execute("CREATE TABLE mg_bound (id int PRIMARY KEY, v text)")
        try:
            for i in range(3):  # (prepared by psycopg from the third execution on)
                cur = conn.execute("MERGE INTO mg_bound USING (SELECT %s::int AS id, %s::text AS v) s "
                                   "ON mg_bound.id = s.id WHEN MATCHED THEN UPDATE SET v = mg_bound.v || s.v "
                                   "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v)", (1, f"x{i}"))
                out.append((cur.rowcount, cur.statusmessage))
            out.append(conn.execute("SELECT * FROM mg_bound").fetchall())
        finally:
            conn.execute("DROP TABLE mg_bound")
    return out


def test_merge_with_bound_parameters_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert _bound(instance.dsn) == _bound(pg_oracle.dsn)
