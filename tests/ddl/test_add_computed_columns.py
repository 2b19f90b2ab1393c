"""ALTER TABLE ... ADD COLUMN with a stored generated expression or a volatile default (now(),
random(): each existing row its own value), both refused before; ALTER COLUMN ... DROP EXPRESSION
[IF EXISTS]. Transcript equal on PostgreSQL 15 and pgaurora."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    'CREATE TABLE ag (id int PRIMARY KEY, a int)',
    'INSERT INTO ag VALUES (1, 10), (2, NULL), (3, 30)',
    'ALTER TABLE ag ADD COLUMN w int GENERATED ALWAYS AS (a * 2) STORED',
    'SELECT * FROM ag ORDER BY id',
    'INSERT INTO ag (id, a) VALUES (4, 40)',
    'UPDATE ag SET a = 11 WHERE id = 1',
    'SELECT * FROM ag ORDER BY id',
    'ALTER TABLE ag ADD COLUMN bad int GENERATED ALWAYS AS (random()::int) STORED',
    'ALTER TABLE ag ADD COLUMN bad2 int GENERATED ALWAYS AS (w + 1) STORED',
    'ALTER TABLE ag ADD COLUMN made timestamptz DEFAULT now()',
    'SELECT count(*), count(DISTINCT made), bool_and(made IS NOT NULL) FROM ag',
    'ALTER TABLE ag ADD COLUMN r float8 DEFAULT random()',
    'SELECT count(DISTINCT r) > 1 FROM ag',
    'ALTER TABLE ag ADD COLUMN t text NOT NULL DEFAULT md5(random()::text)',
    'SELECT count(*) FROM ag WHERE length(t) = 32',
    'ALTER TABLE ag ALTER COLUMN w DROP EXPRESSION',
    'INSERT INTO ag (id, a, w) VALUES (5, 50, 7)',
    'SELECT id, a, w FROM ag ORDER BY id',
    'ALTER TABLE ag ALTER COLUMN a DROP EXPRESSION',
    'ALTER TABLE ag ALTER COLUMN a DROP EXPRESSION IF EXISTS',
    'ALTER TABLE ag ALTER COLUMN zz DROP EXPRESSION',
]


def test_add_computed_columns_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=["DROP TABLE IF EXISTS ag"], details=True)
