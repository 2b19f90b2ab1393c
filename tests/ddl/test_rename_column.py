"""ALTER TABLE ... RENAME COLUMN carries the table's own expressions along (CHECK constraints,
generated columns, expression and partial indexes: they kept the old name and every later write
failed with 42703), and a constraint dropped in an ALTER frees its name for one added in the same
ALTER. Transcript equal on PostgreSQL 15 and pgaurora."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    'CREATE TABLE rc (a int CHECK (a > 0), b int GENERATED ALWAYS AS (a * 2) STORED, c int DEFAULT 5, CONSTRAINT two CHECK (rc.a < 100))',
    'CREATE INDEX rc_e ON rc ((a + 1)) WHERE a > 3',
    'CREATE INDEX rc_l ON rc (abs(a))',
    'ALTER TABLE rc RENAME COLUMN a TO aa',
    'INSERT INTO rc (aa) VALUES (5)',
    'INSERT INTO rc (aa) VALUES (-1)',
    'INSERT INTO rc (aa) VALUES (200)',
    'SELECT * FROM rc',
    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'rc'::regclass AND conname = 'rc_a_check'",
    "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'rc'::regclass ORDER BY 1",
    "SELECT attname, pg_get_expr(adbin, adrelid) FROM pg_attrdef JOIN pg_attribute ON attrelid = adrelid AND attnum = adnum WHERE adrelid = 'rc'::regclass ORDER BY 1",
    'SELECT aa FROM rc WHERE aa + 1 = 6',
    'CREATE TABLE b4 (id int PRIMARY KEY)',
    'CREATE TABLE b5 (id int REFERENCES b4 ON DELETE CASCADE ON UPDATE SET NULL)',
    'ALTER TABLE b5 DROP CONSTRAINT b5_id_fkey, ADD FOREIGN KEY (id) REFERENCES b4 ON DELETE SET DEFAULT',
    "SELECT conname FROM pg_constraint WHERE conrelid = 'b5'::regclass",
]


def test_rename_column_follows_expressions(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=["DROP TABLE IF EXISTS rc, b5, b4"],
                           details=True)
