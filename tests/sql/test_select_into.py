"""SELECT ... INTO [TEMP | UNLOGGED] t as PostgreSQL 15 runs it: CREATE TABLE t AS the query
(also a set operation's, whose leftmost SELECT holds the INTO); it was refused (0A000).
Transcript equal on PostgreSQL 15 and pgaurora."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    'CREATE TABLE o (id int, a int, b text)',
    "INSERT INTO o VALUES (1, 5, 'x'), (2, -1, 'y'), (3, 7, NULL)",
    'SELECT * INTO o2 FROM o WHERE a > 0',
    'SELECT * FROM o2 ORDER BY id',
    'SELECT id AS k, b INTO TEMP o3 FROM o',
    'SELECT count(*) FROM o3',
    'SELECT 1 AS x INTO o2',
    'SELECT a, count(*) INTO UNLOGGED o4 FROM o GROUP BY a',
    'SELECT id INTO o5 FROM o UNION SELECT 9',
    'SELECT * FROM o5 ORDER BY 1',
]


def test_select_into_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=["DROP TABLE IF EXISTS o, o2, o4, o5"],
                           details=True)
