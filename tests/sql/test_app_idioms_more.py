"""Application idioms PostgreSQL 15 answers and pgaurora answered differently: json_agg /
jsonb_agg of a table's rows (objects by column name, rows and arrays set apart by ", \\n " in
json_agg), `RETURNING (xmax = 0) AS inserted` after INSERT ... ON CONFLICT DO UPDATE (and the
0A000 for system columns of a partitioned target), and row comparisons with a subquery:
`(a, b) IN (SELECT x, y ...)`, NOT IN, = ANY, <> ALL. Transcripts equal on both."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

JSON_AGG = [
    'CREATE TABLE u (id int PRIMARY KEY, n int, t text)',
    'INSERT INTO u VALUES (1, 10, \'a\'), (2, NULL, \'b"q\')',
    'SELECT jsonb_agg(u ORDER BY id) FROM u',
    'SELECT json_agg(u ORDER BY id) FROM u',
    'SELECT json_agg(u.*) FROM u WHERE id = 1',
    'SELECT jsonb_agg(ROW(id, t)) FROM u',
    'SELECT json_agg(x) FROM (SELECT id, t FROM u ORDER BY id) x',
    'SELECT json_agg(1), json_agg(t ORDER BY t) FROM u',
    'SELECT json_agg(ARRAY[x]), json_agg(x), json_agg(to_json(v)) FROM (VALUES (1), (2)) v(x)',
]
UPSERT_XMAX = [
    'CREATE TABLE u (id int PRIMARY KEY, n int)',
    'INSERT INTO u VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = u.n + 1 RETURNING id, n, (xmax = 0) AS inserted',
    'INSERT INTO u VALUES (1, 1), (2, 2) ON CONFLICT (id) DO UPDATE SET n = u.n + 1 RETURNING id, n, (xmax = 0) AS inserted, xmax = txid_current()::text::xid AS mine',
    'INSERT INTO u VALUES (3, 3) RETURNING xmax',
    'CREATE TABLE up (id int PRIMARY KEY, n int) PARTITION BY RANGE (id)',
    'CREATE TABLE up1 PARTITION OF up FOR VALUES FROM (0) TO (100)',
    'INSERT INTO up VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = up.n + 1 RETURNING id, (xmax = 0) AS inserted',
    'INSERT INTO up VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = up.n + 1 RETURNING id, (xmax = 0) AS inserted',
]
ROW_IN = [
    'CREATE TABLE u (id int PRIMARY KEY, n int, t text)',
    "INSERT INTO u VALUES (1, 10, 'a'), (2, 20, 'b'), (3, NULL, 'c')",
    'SELECT * FROM u WHERE (id, n) IN (SELECT 1, 10) OR (id, n) = (2, 20) ORDER BY id',
    'SELECT * FROM u WHERE (id, t) IN (SELECT id, t FROM u WHERE n > 15) ORDER BY id',
    'SELECT * FROM u WHERE (id, n) NOT IN (SELECT 1, 10) ORDER BY id',
    'SELECT * FROM u WHERE (id, n) NOT IN (SELECT 3, NULL::int) ORDER BY id',
    'SELECT (1, 2) IN (SELECT 1, 2), (1, NULL) IN (SELECT 1, 2), (1, 3) IN (SELECT 1, 2), (1, 2) = ANY (SELECT 1, 2 UNION SELECT 3, 4), (1, 2) <> ALL (SELECT 3, 4)',
    'SELECT (1, 2) IN (SELECT 1)',
    'SELECT (1, 2) IN (SELECT 1, 2, 3)',
    "SELECT (1, 'x') IN (SELECT 1, 2)",
    'SELECT * FROM u a WHERE (a.id, a.n) IN (SELECT b.id, b.n FROM u b WHERE b.id = a.id) ORDER BY 1',
]


def test_json_agg_of_rows_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, JSON_AGG, cleanup=["DROP TABLE IF EXISTS u"], details=True)


def test_upsert_returning_xmax_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, UPSERT_XMAX, cleanup=["DROP TABLE IF EXISTS u, up"],
                           details=True)


def test_row_in_subquery_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, ROW_IN, cleanup=["DROP TABLE IF EXISTS u"], details=True)
