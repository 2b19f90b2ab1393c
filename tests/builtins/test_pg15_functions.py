"""PostgreSQL 15's regular expression functions (regexp_like, regexp_count, regexp_instr,
regexp_substr with their start, occurrence, end option, flags and subexpression arguments and
22023 errors), and UNIQUE ... NULLS NOT DISTINCT (constraints, indexes, ON CONFLICT, index builds, catalog
text). (SEARCH / CYCLE of recursive queries: tests/sql/test_recursive.py.)"""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    "SELECT regexp_like('Hello', 'h', 'i'), regexp_count('abcabc', 'b'), regexp_count('abcabc', 'B', 1, 'i'), "
    "regexp_instr('abcabc', 'c', 1, 2), regexp_substr('abc123def', '\\d+')",
    "SELECT regexp_instr('number of your street, town zip, FR', '[^,]+', 1, 2), "
    "regexp_instr('ABCDEFGHI', '(c..)(...)', 1, 1, 0, 'i', 2), regexp_instr('abc', 'z'), "
    "regexp_instr('abcabc', 'b', 3, 1, 1)",
    "SELECT regexp_substr('number of your street, town zip, FR', '[^,]+', 1, 2), "
    "regexp_substr('ABCDEFGHI', '(c..)(...)', 1, 1, 'i', 2), regexp_substr('abc', 'z')",
    "SELECT regexp_instr('abc', 'b', 0)",
    "SELECT regexp_substr('abc', 'b', 1, 0)",
]


def test_regexp_functions_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, details=True)


NULLS_NOT_DISTINCT = [
    "CREATE TABLE nnd (a int, b int, UNIQUE NULLS NOT DISTINCT (a, b))",
    "INSERT INTO nnd VALUES (1, NULL)",
    "INSERT INTO nnd VALUES (1, NULL)",
    "INSERT INTO nnd VALUES (NULL, NULL)",
    "INSERT INTO nnd VALUES (NULL, NULL)",
    "INSERT INTO nnd VALUES (1, NULL) ON CONFLICT DO NOTHING",
    "INSERT INTO nnd VALUES (1, NULL) ON CONFLICT (a, b) DO UPDATE SET a = 5",
    "SELECT * FROM nnd ORDER BY a, b",
    "CREATE TABLE nd (a int UNIQUE NULLS NOT DISTINCT, c int)",
    "INSERT INTO nd VALUES (NULL, 1), (NULL, 2)",
    "INSERT INTO nd VALUES (NULL, 1)",
    "UPDATE nd SET a = NULL WHERE c = 1",
    "CREATE TABLE ni (a int, b text)",
    "INSERT INTO ni VALUES (NULL, 'x'), (NULL, 'y')",
    "CREATE UNIQUE INDEX ni_a ON ni (a) NULLS NOT DISTINCT",
    "CREATE UNIQUE INDEX ni_b ON ni (b) NULLS NOT DISTINCT",
    "CREATE UNIQUE INDEX ni_a2 ON ni (a) NULLS DISTINCT",
    "INSERT INTO ni VALUES (1, NULL)",
    "INSERT INTO ni VALUES (2, NULL)",
    "SELECT pg_get_indexdef(indexrelid), indnullsnotdistinct FROM pg_index "
    "WHERE indrelid IN ('nnd'::regclass, 'nd'::regclass, 'ni'::regclass) ORDER BY 1",
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid IN ('nnd'::regclass, 'nd'::regclass) ORDER BY 1",
    "CREATE TABLE nl (LIKE nnd INCLUDING ALL)",
    "INSERT INTO nl VALUES (NULL, NULL), (NULL, NULL)",
]


def test_unique_nulls_not_distinct_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, NULLS_NOT_DISTINCT, details=True)
