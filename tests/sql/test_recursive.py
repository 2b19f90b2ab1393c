"""Recursive queries as PostgreSQL 15 runs them: SEARCH DEPTH / BREADTH FIRST and CYCLE
clauses (their extra columns, cycle marks of any type, their 42601 / 42701 / 0A000 errors), the
shape a recursive query must have (42P19), and the anonymous records and record[] values those
clauses build (comparison, ANY, ||, array_agg), each checked against PostgreSQL."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

SEARCH_CYCLE = [
    'CREATE TABLE tree (id int, parent int, name text)',
    "INSERT INTO tree VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 1, 'b'), (4, 2, 'c'), (5, 3, 'd'), (6, 4, 'e')",
    'WITH RECURSIVE t(id, name) AS (SELECT id, name FROM tree WHERE parent IS NULL UNION ALL SELECT tree.id, tree.name FROM tree JOIN t ON tree.parent = t.id) SEARCH DEPTH FIRST BY id SET ord SELECT * FROM t ORDER BY ord',
    'WITH RECURSIVE t(id, name) AS (SELECT id, name FROM tree WHERE parent IS NULL UNION ALL SELECT tree.id, tree.name FROM tree JOIN t ON tree.parent = t.id) SEARCH BREADTH FIRST BY id SET ord SELECT * FROM t ORDER BY ord',
    'WITH RECURSIVE t(id, name) AS (SELECT id, name FROM tree WHERE parent IS NULL UNION ALL SELECT tree.id, tree.name FROM tree, t x WHERE tree.parent = x.id) SEARCH DEPTH FIRST BY id, name SET ord SELECT * FROM t ORDER BY ord',
    'CREATE TABLE g (f int, t int)',
    'INSERT INTO g VALUES (1, 2), (2, 3), (3, 1), (3, 4)',
    'WITH RECURSIVE s(f, t) AS (SELECT f, t FROM g WHERE f = 1 UNION ALL SELECT g.f, g.t FROM g, s WHERE g.f = s.t) CYCLE f SET is_cycle USING path SELECT * FROM s',
    "WITH RECURSIVE s(f, t) AS (SELECT f, t FROM g WHERE f = 1 UNION ALL SELECT g.f, g.t FROM g, s WHERE g.f = s.t) CYCLE f, t SET is_cycle TO 'Y' DEFAULT 'N' USING path SELECT * FROM s",
    'WITH RECURSIVE s(f, t) AS (SELECT f, t FROM g WHERE f = 1 UNION ALL SELECT g.f, g.t FROM g, s WHERE g.f = s.t) SEARCH DEPTH FIRST BY f SET o CYCLE f SET c USING p SELECT * FROM s ORDER BY o',
    'WITH RECURSIVE s(f, t) AS (SELECT f, t FROM g WHERE f = 1 UNION ALL SELECT g.f, g.t FROM g, s WHERE g.f = s.t) SEARCH BREADTH FIRST BY f SET o CYCLE f SET c USING p SELECT * FROM s ORDER BY o',
    'WITH RECURSIVE s(f, t) AS (SELECT f, t FROM g WHERE f = 1 UNION ALL SELECT g.f, g.t FROM g, s WHERE g.f = s.t) CYCLE f SET c USING p SELECT f, t, c FROM s WHERE NOT c',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY x SET o SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) CYCLE n SET c USING c SELECT * FROM t',
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) CYCLE n SET c TO 1 DEFAULT 'x' USING p SELECT * FROM t",
    'WITH t(n) AS (SELECT 1) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM (SELECT * FROM t) x WHERE n < 3) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 INTERSECT SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n + 1 FROM t WHERE n < 3) SEARCH BREADTH FIRST BY n SET o SELECT n, o, pg_typeof(o) FROM t',
    'WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET o SELECT n, o, pg_typeof(o) FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) CYCLE n SET c USING p SELECT n, c, p, pg_typeof(c), pg_typeof(p) FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) CYCLE x SET c USING p SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n, n SET o SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) CYCLE n, n SET c USING p SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET c CYCLE n SET c USING p SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET p CYCLE n SET c USING p SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) CYCLE n SET c TO 1 DEFAULT 0 USING p SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) CYCLE n SET c TO 1 DEFAULT 2.5 USING p SELECT *, pg_typeof(c) FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t',
    'WITH RECURSIVE t(n) AS ((SELECT 1 UNION SELECT 2) UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL (SELECT n + 1 FROM t WHERE n < 3 UNION ALL SELECT 5)) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET o SELECT o FROM t WHERE o > ARRAY[ROW(1)]',
    "WITH RECURSIVE t AS (SELECT 1 AS n, 'a'::text AS s UNION ALL SELECT n + 1, s || 'b' FROM t WHERE n < 3) SEARCH DEPTH FIRST BY s SET o SELECT * FROM t",
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t AS w WHERE w.n < 3) CYCLE n SET c USING p SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT w.n + 1 FROM t w JOIN generate_series(1,1) g ON true WHERE w.n < 3) CYCLE n SET c USING p SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n % 3 + 1 FROM t) CYCLE n SET c USING p SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n % 3 + 1 FROM t) CYCLE n SET c USING p SELECT * FROM t',
]

WELL_FORMED = [
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT (SELECT n+1 FROM t) ) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT 2 WHERE EXISTS (SELECT 1 FROM t)) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT n FROM t UNION ALL SELECT 2) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT t.n + 1 FROM t, t t2 WHERE t.n < 3) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT t.n + 1 FROM generate_series(1,2) g LEFT JOIN t ON true WHERE t.n < 3) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT n FROM t) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 INTERSECT SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 EXCEPT ALL SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3), u AS (SELECT * FROM t) SELECT * FROM u',
    'WITH RECURSIVE t(n) AS (SELECT 1), u AS (SELECT * FROM t) SELECT * FROM u',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM (SELECT * FROM t) x WHERE n < 3) SELECT * FROM t',
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT (SELECT n+1 FROM t) ) SELECT * FROM t',
]

RECORDS = [
    'SELECT ARRAY[ROW(1)] || ARRAY[ROW(2)], pg_typeof(ARRAY[ROW(1)])',
    "SELECT ARRAY[ROW(1,'a')] || ROW(2,'b')",
    "SELECT ROW(0,'z') || ARRAY[ROW(1,'a')]",
    'SELECT array_cat(ARRAY[ROW(1)], ARRAY[ROW(2)])',
    'select x from (select array_agg(x) x from (values (row(1)),(row(2))) v(x)) s',
    'SELECT ROW(1) = ANY(ARRAY[ROW(1)]), ROW(3) = ANY(ARRAY[ROW(1), ROW(2)]), ROW(3) <> ALL(ARRAY[ROW(1), ROW(2)])',
    'SELECT x = x, x < y, x >= y, x <> y FROM (VALUES (ROW(1), ROW(2))) v(x, y)',
    'SELECT x FROM (VALUES (ROW(1,2)), (ROW(1,1)), (ROW(0,5))) v(x) ORDER BY x DESC',
    'SELECT array_length(ARRAY[ROW(1), ROW(2)], 1), (ARRAY[ROW(1), ROW(2)])[2], cardinality(ARRAY[ROW(1)])',
    "SELECT unnest(ARRAY[ROW(1,'a'), ROW(2,'b')])",
]


def test_search_and_cycle_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, SEARCH_CYCLE, details=True)


def test_recursive_query_shape_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, WELL_FORMED, details=True)


def test_anonymous_records_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, RECORDS, details=True)
