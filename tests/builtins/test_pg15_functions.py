"""PostgreSQL 15's regular expression functions (regexp_like, regexp_count, regexp_instr,
regexp_substr with their start, occurrence, end option, flags and subexpression arguments and
22023 errors), and syntax pgaurora refuses rather than ignore (UNIQUE NULLS NOT DISTINCT, SEARCH
/ CYCLE of recursive queries: PostgreSQL's answers are not given here, only that nothing
silently differs)."""

from __future__ import annotations

import psycopg
import pytest

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


@pytest.mark.parametrize("sql", [
    "CREATE TABLE pg15_un (a int, b int, UNIQUE NULLS NOT DISTINCT (a, b))",
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET o "
    "SELECT * FROM t",
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n % 2 + 1 FROM t) CYCLE n SET c USING p SELECT * FROM t",
])
def test_unbuilt_syntax_is_refused_not_ignored(sql: str, instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.FeatureNotSupported):
        conn.execute(sql)
