"""Foreign keys MATCH FULL as PostgreSQL 15 enforces them: a key with some NULL and some non-NULL
columns is a 23503 violation (on INSERT, UPDATE and when ALTER TABLE ... ADD validates existing
rows), an all-NULL key references nothing; confmatchtype, pg_get_constraintdef and
information_schema say FULL; MATCH PARTIAL is refused as PostgreSQL refuses it."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

CLEANUP = ["DROP TABLE IF EXISTS p4, p6, p7, p5 CASCADE"]
STEPS = [
    'CREATE TABLE p5 (a int, b int, PRIMARY KEY (a, b))',
    'INSERT INTO p5 VALUES (1, 1)',
    'CREATE TABLE p4 (a int, b int, FOREIGN KEY (a, b) REFERENCES p5 (a, b) MATCH FULL ON DELETE CASCADE)',
    'INSERT INTO p4 VALUES (1, NULL)',
    'INSERT INTO p4 VALUES (NULL, NULL)',
    'INSERT INTO p4 VALUES (1, 1)',
    'INSERT INTO p4 VALUES (1, 2)',
    'UPDATE p4 SET b = NULL WHERE a = 1',
    "SELECT conname, confmatchtype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'p4'::regclass",
    "SELECT constraint_name, match_option FROM information_schema.referential_constraints WHERE constraint_name LIKE 'p4%'",
    'CREATE TABLE p6 (a int, b int)',
    'INSERT INTO p6 VALUES (1, NULL)',
    'ALTER TABLE p6 ADD FOREIGN KEY (a, b) REFERENCES p5 MATCH FULL',
    'ALTER TABLE p6 ADD FOREIGN KEY (a, b) REFERENCES p5 MATCH SIMPLE',
    'CREATE TABLE p7 (a int, b int, FOREIGN KEY (a, b) REFERENCES p7x MATCH PARTIAL)',
    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'p6'::regclass ORDER BY 1",
]


def test_match_full_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=CLEANUP, details=True)
