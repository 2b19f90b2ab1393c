"""TABLESAMPLE SYSTEM / BERNOULLI (percent) [REPEATABLE (seed)] (it was refused): 0 and 100
percent exactly as PostgreSQL, a sample's size within bounds, a REPEATABLE sample the same every
time, and PostgreSQL's errors (42704, 2202H, 2202G, 0A000, 22P02). Which rows a given seed
draws is pgaurora's own (PostgreSQL's generator is not reproduced), so the transcript compares
only what both must agree on."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    'CREATE TABLE ts AS SELECT g AS id, g % 10 AS k FROM generate_series(1, 5000) g',
    'CREATE VIEW tsv AS SELECT * FROM ts',
    'SELECT count(*) FROM ts TABLESAMPLE foo (10)',
    'SELECT count(*) FROM ts TABLESAMPLE system (10, 20)',
    'SELECT count(*) FROM ts TABLESAMPLE bernoulli (101)',
    'SELECT count(*) FROM ts TABLESAMPLE bernoulli (NULL)',
    'SELECT count(*) FROM ts TABLESAMPLE bernoulli (10) REPEATABLE (NULL)',
    'SELECT count(*) FROM tsv TABLESAMPLE bernoulli (10)',
    'SELECT count(*) FROM ts TABLESAMPLE bernoulli (0)',
    'SELECT count(*) FROM ts TABLESAMPLE system (100)',
    "SELECT count(*) FROM ts TABLESAMPLE bernoulli ('abc')",
    'SELECT count(*) FROM ts TABLESAMPLE bernoulli (100) WHERE k = 3',
    'SELECT count(*) BETWEEN 350 AND 650 FROM ts TABLESAMPLE bernoulli (10)',
    'SELECT count(*) BETWEEN 350 AND 650 FROM ts x TABLESAMPLE bernoulli (10) REPEATABLE (7)',
    'SELECT (SELECT count(*) FROM ts TABLESAMPLE bernoulli (30) REPEATABLE (1)) = (SELECT count(*) FROM ts TABLESAMPLE bernoulli (30) REPEATABLE (1))',
    'SELECT (SELECT array_agg(id ORDER BY id) FROM ts TABLESAMPLE system (50) REPEATABLE (2)) = (SELECT array_agg(id ORDER BY id) FROM ts TABLESAMPLE system (50) REPEATABLE (2))',
    'SELECT count(*) FROM ts a TABLESAMPLE bernoulli (100) JOIN ts b ON a.id = b.id WHERE a.k = 1',
]


def test_tablesample_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=["DROP TABLE IF EXISTS ts CASCADE"],
                           details=True)
