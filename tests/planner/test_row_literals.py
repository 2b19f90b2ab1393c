"""ROW(...) with untyped literals, through the simple protocol's plan cache (which binds the
literals as parameters not typed yet) and the extended protocol: each field prints as its text,
as PostgreSQL's unknownout does. Same answers as PostgreSQL 15."""

from __future__ import annotations

import psycopg

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

# (a record column itself is sent as text, described as text: not-built-yet.md; cast here)
QUERIES = [
    "SELECT row(1, 'a')::text",
    "SELECT row(1, 'a b', null)::text, row(1, 'a b', null)::varchar",
    "SELECT row(1, 'x', row('y', 2))::text",
    "SELECT row_to_json(row(1, 'a')), to_jsonb(row('q', 2.5))",
    "SELECT (1, 'x') = (1, 'x'), (1, 'a') < (1, 'b')",
]


def _answers(dsn: str) -> list[object]:
    out: list[object] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for cursor in (psycopg.ClientCursor(conn), conn.cursor()):
            for _ in range(2):  # the second time from the plan cache
                for sql in QUERIES:
                    cursor.execute(sql)
                    out.append(cursor.fetchall())
    return out


def test_row_literals_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert _answers(instance.dsn) == _answers(pg_oracle.dsn)
