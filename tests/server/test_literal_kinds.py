"""Simple queries of one shape with literals of every kind in turn (ints, negatives, numerics,
exponents, int8s, strings, NULL, booleans), as an application building SQL by string formatting
sends them: the plan cache's text path must answer each as PostgreSQL 15 does (rows or the
SQLSTATE), never bind a literal into a slot of another kind, and keep the connection."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

LITERALS = ["1", "-1", "1.5", "'1'", "'x'", "NULL", "TRUE", "1e3", "5000000000", "''", "'2020-01-01'", "-0.5", "00"]
TEMPLATES = ["SELECT * FROM lk WHERE id = {} ORDER BY id", "SELECT id + {} FROM lk WHERE id = 1",
             "SELECT * FROM lk ORDER BY id LIMIT {}", "SELECT * FROM lk ORDER BY id OFFSET {}",
             "UPDATE lk SET n = {} WHERE id = 2", "SELECT {}::int", "SELECT * FROM lk WHERE v = {}",
             "INSERT INTO lk VALUES (100, 'a', {}) ON CONFLICT (id) DO UPDATE SET n = excluded.n",
             "SELECT array[{}, 2]", "DELETE FROM lk WHERE id = {} AND false",
             "SELECT * FROM lk WHERE id BETWEEN {} AND 3 ORDER BY id"]


def _transcript(dsn: str) -> list[Any]:
    """Through the simple query protocol (psycopg's ClientCursor sends Query messages)."""
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        conn.execute("DROP TABLE IF EXISTS lk; CREATE TABLE lk (id int PRIMARY KEY, v text, n int);"
                     "INSERT INTO lk VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)")
        for template in TEMPLATES:
            for literal in LITERALS:
                sql = template.format(literal)
                try:
                    cur = conn.execute(sql)
                    out.append((sql, cur.fetchall() if cur.description else cur.statusmessage))
                except psycopg.Error as error:
                    out.append((sql, error.sqlstate))
        conn.execute("DROP TABLE lk")
    return out


def test_literals_of_every_kind_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    ours, theirs = _transcript(instance.dsn), _transcript(pg_oracle.dsn)
    for have, want in zip(ours, theirs, strict=True):
        assert have == want
