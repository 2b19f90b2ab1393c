"""Where an error points (ErrorResponse's position, psql's LINE / caret), as PostgreSQL 15:
a literal that is no valid input of its type points at the literal, whether cast explicitly
(`'abc'::int`, `CAST('x' AS date)`, `int '42x'`) or coerced by an operator; an unknown name at
the name. Same statements on both servers, compared by SQLSTATE, message and position."""

from __future__ import annotations

import psycopg
import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

STATEMENTS = [
    "SELECT 'abc'::int",
    "SELECT  CAST('x' AS date)",
    "SELECT int '42x'",
    "SELECT 1 + 'abc'",
    "SELECT '1'::int + 'y'::int",
    "SELECT 'nope'::boolean, 1",
    "SELECT '2024-13-01'::date",
    "SELECT '99999'::smallint",
    "SELECT ARRAY['1', 'x']::int[]",
    "SELECT x FROM (SELECT 1 AS y) s",
    "SELECT * FROM no_such_table",
    "SELECT no_such_function(1)",
    "SELECT 1 WHERE 'a' = 1",
]


def _errors(dsn: str) -> list[tuple[str | None, str, str | None]]:
    out = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in STATEMENTS:
            with pytest.raises(psycopg.Error) as info:
                conn.execute(sql)
            diag = info.value.diag
            out.append((info.value.sqlstate, diag.message_primary or "", diag.statement_position))
    return out


def test_error_positions_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    expected = _errors(pg_oracle.dsn)
    got = _errors(instance.dsn)
    for sql, want, have in zip(STATEMENTS, expected, got, strict=True):
        assert (sql, have) == (sql, want)
