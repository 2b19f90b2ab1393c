"""An OR of equalities on one indexed column (`id = 1 OR id = 2`), like an IN list of parameters,
is an index scan (planner.rules.use_indexes); results are PostgreSQL 15's, NULLs and duplicates
included; an OR over different columns stays a filter."""

from __future__ import annotations

import pathlib

import psycopg
import pytest

from tests.pgoracle import oracle_tables
from tests.sql.runner import EngineSession

TABLE = ("CREATE TABLE oe_t (id int PRIMARY KEY, v int, name text)",
         "CREATE INDEX oe_t_name ON oe_t (name)",
         "INSERT INTO oe_t SELECT g, g % 10, 'n' || (g % 50) FROM generate_series(1, 5000) g")
INDEXED = [
    "SELECT id, v FROM oe_t WHERE id = 1 OR id = 2 ORDER BY id",
    "SELECT id FROM oe_t WHERE 8 = id OR id = 9::bigint OR id = 8 ORDER BY id",
    "SELECT id FROM oe_t WHERE (id = 5 OR id = NULL) AND v > 0",
    "SELECT count(*) FROM oe_t WHERE name = 'n3' OR name = 'n4'",
]
FILTERED = [  # left as they were: a filter over a sequential scan
    "SELECT id FROM oe_t WHERE id IN (7, 8) OR id = 9 ORDER BY id",
    "SELECT count(*) FROM oe_t WHERE id = 1 OR v = 2",
    "SELECT count(*) FROM oe_t WHERE id = 1 OR id > 4990",
]


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path, TABLE)
    yield s
    await s.stop()


@pytest.fixture(scope="module")
def oracle(oracle_conn: psycopg.Connection):
    with oracle_tables(oracle_conn, "oe_t", TABLE) as conn:
        yield conn


async def test_or_of_equalities_uses_the_index(session: EngineSession, oracle: psycopg.Connection) -> None:
    for sql in INDEXED + FILTERED:
        plan = [r[0] for r in (await session.query("EXPLAIN " + sql))[1]]
        assert any("Index Scan" in line for line in plan) == (sql in INDEXED), (sql, plan)
        assert (await session.query(sql))[1] == [tuple(r) for r in oracle.execute(sql).fetchall()], sql


async def test_parameters_in_the_or(session: EngineSession, oracle: psycopg.Connection) -> None:
    sql = "SELECT id FROM oe_t WHERE id = $1 OR id = $2 OR id = $3 ORDER BY id"
    assert (await session.query(sql, (3, None, 4)))[1] == [(3,), (4,)]
