"""Cost-based join order (planner.joinorder): a FROM order that starts with the big table and
filters the last one is reordered, which EXPLAIN shows and which cuts the rows the joins
produce (counted by running each join of the plan); results stay PostgreSQL's; outer joins,
cross joins, problems beyond MAX_RELATIONS and the hash join's fast path behave."""

from __future__ import annotations

import pathlib
from typing import Any

import psycopg
import pytest

from pgaurora.executor import ExecContext, run
from pgaurora.executor.mergejoin import MergeJoin
from pgaurora.executor.plannodes import HashJoin, IndexScan, NestLoop, Plan, SeqScan
from pgaurora.planner import joinorder, parse, plan
from tests.sql.runner import EngineSession

TABLES = (
    "CREATE TABLE jo_big (id int PRIMARY KEY, mid_id int, v int)",
    "CREATE TABLE jo_mid (id int PRIMARY KEY, small_id int, w int)",
    "CREATE TABLE jo_small (id int PRIMARY KEY, tag text)",
    "CREATE TABLE jo_tiny (id int PRIMARY KEY, small_id int, note text)",
    "INSERT INTO jo_big SELECT g, g % 400 + 1, g % 97 FROM generate_series(1, 8000) g",
    "INSERT INTO jo_mid SELECT g, g % 40 + 1, g % 7 FROM generate_series(1, 400) g",
    "INSERT INTO jo_small SELECT g, 't' || g FROM generate_series(1, 40) g",
    "INSERT INTO jo_tiny SELECT g, g % 40 + 1, CASE WHEN g % 3 = 0 THEN NULL ELSE 'x' || g END FROM generate_series(1, 60) g",
)
BAD_ORDER = ("SELECT b.id, m.id, s.tag FROM jo_big b, jo_mid m, jo_small s "
             "WHERE b.mid_id = m.id AND m.small_id = s.id AND s.tag = 't7' ORDER BY 1, 2")
FOUR = ("SELECT count(*), sum(b.v), min(t.note) FROM jo_big b JOIN jo_mid m ON b.mid_id = m.id "
        "JOIN jo_small s ON m.small_id = s.id JOIN jo_tiny t ON t.small_id = s.id WHERE s.tag IN ('t3', 't4')")


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    for sql in TABLES:
        await s.query(sql)
    await s.query("ANALYZE")
    yield s
    await s.stop()


@pytest.fixture(scope="module")
def oracle(oracle_conn: psycopg.Connection):
    for name in ("jo_big", "jo_mid", "jo_small", "jo_tiny"):
        oracle_conn.execute(f"DROP TABLE IF EXISTS {name}")
    for sql in TABLES:
        oracle_conn.execute(sql)
    oracle_conn.execute("ANALYZE")
    yield oracle_conn
    for name in ("jo_big", "jo_mid", "jo_small", "jo_tiny"):
        oracle_conn.execute(f"DROP TABLE IF EXISTS {name}")


def _plan(session: EngineSession, sql: str) -> Any:
    return plan(parse(sql)[0], session.catalog, ())


def _joins(node: Any) -> list[Any]:
    out = []
    if isinstance(node, NestLoop | HashJoin | MergeJoin):
        out.append(node)
    for name in ("input", "outer", "inner", "plan"):
        child = getattr(node, name, None)
        if child is not None and hasattr(child, "width"):
            out.extend(_joins(child))
    return out


def _tables(node: Any) -> list[str]:
    if isinstance(node, SeqScan | IndexScan):
        return [node.table_name]
    return [t for name in ("input", "outer", "inner") if (c := getattr(node, name, None)) is not None
            for t in _tables(c)]


async def _rows_joined(session: EngineSession, planned: Plan) -> int:
    """Rows produced by every join of the plan: each join subtree run on its own (no timing)."""
    total = 0
    txn = session.engine.txns.begin()
    try:
        for join in _joins(planned.node):
            sub = Plan("SELECT", join, None, (), planned.catalog_version, planned.exec_param_count)
            cursor = await run(sub, (), ExecContext(txn, session.engine.storage, session.catalog))
            total += len(await cursor.fetch(0))
    finally:
        await txn.abort()
    return total


async def _explain(session: EngineSession, sql: str) -> list[str]:
    return [r[0] for r in (await session.query("EXPLAIN " + sql))[1]]


async def test_bad_from_order_is_reordered(session: EngineSession, oracle: psycopg.Connection,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    lines = await _explain(session, BAD_ORDER)
    # the filtered small table is joined to mid first; the big table comes last, probing a hash
    # table (or looking up) the few rows of that join
    top = _joins(_plan(session, BAD_ORDER).node)[0]
    assert "jo_big" in _tables(top.outer) + _tables(top.inner)
    lower = _joins(_plan(session, BAD_ORDER).node)[1]
    assert sorted(_tables(lower)) == ["jo_mid", "jo_small"], lines
    assert any("Seq Scan on jo_small" in line for line in lines)
    reordered = await _rows_joined(session, _plan(session, BAD_ORDER))
    monkeypatch.setattr(joinorder, "MAX_RELATIONS", 1)  # FROM order
    from_order = _plan(session, BAD_ORDER)
    assert sorted(_tables(_joins(from_order.node)[-1])) == ["jo_big", "jo_mid"]
    as_written = await _rows_joined(session, from_order)
    assert reordered * 20 < as_written, (reordered, as_written)  # 10 + 200 rows instead of 8000 + 200
    monkeypatch.undo()
    ours = (await session.query(BAD_ORDER))[1]
    assert ours == [tuple(r) for r in oracle.execute(BAD_ORDER).fetchall()]
    assert len(ours) == 200


async def test_four_tables_results_match_postgresql(session: EngineSession, oracle: psycopg.Connection) -> None:
    queries = [
        FOUR,
        "SELECT s.tag, count(*) FROM jo_tiny t, jo_big b, jo_small s, jo_mid m WHERE b.mid_id = m.id "
        "AND m.small_id = s.id AND t.small_id = s.id AND b.v < 5 GROUP BY s.tag ORDER BY 1",
        "SELECT m.id, t.id FROM jo_mid m LEFT JOIN jo_tiny t ON t.small_id = m.small_id AND t.note IS NOT NULL "
        "JOIN jo_small s ON s.id = m.small_id WHERE s.tag = 't9' ORDER BY 1, 2",
        "SELECT count(*) FROM jo_small s, jo_tiny t WHERE s.id < 3 AND t.id < 4",  # cross join
        "SELECT b.id FROM jo_big b JOIN jo_mid m ON b.mid_id = m.id AND b.v = m.w WHERE m.id = 5 ORDER BY 1",
        # a volatile qual stays above the joins; LATERAL and correlated subqueries see the FROM-order row
        "SELECT count(*) FROM jo_big b, jo_mid m, jo_small s WHERE b.mid_id = m.id AND m.small_id = s.id "
        "AND s.id < 3 AND random() >= 0",
        "SELECT s.id, x.n FROM jo_mid m, jo_small s, LATERAL (SELECT count(*) AS n FROM jo_tiny t "
        "WHERE t.small_id = s.id AND t.id > m.w) x WHERE m.small_id = s.id AND m.id < 5 ORDER BY 1, 2",
        "SELECT m.id, (SELECT max(t.id) FROM jo_tiny t WHERE t.small_id = s.id) FROM jo_big b, jo_mid m, "
        "jo_small s WHERE b.mid_id = m.id AND m.small_id = s.id AND b.id < 30 ORDER BY 1, 2",
    ]
    for sql in queries:
        assert (await session.query(sql))[1] == [tuple(r) for r in oracle.execute(sql).fetchall()], sql
    # the same plan each time (candidates in FROM order, ties keep the first)
    assert await _explain(session, FOUR) == await _explain(session, FOUR)


async def test_selective_outer_uses_index_lookups(session: EngineSession) -> None:
    sql = "SELECT b.id FROM jo_mid m JOIN jo_big b ON b.id = m.w WHERE m.id = 5"
    lines = await _explain(session, sql)
    assert lines[0] == "Nested Loop", lines
    assert any("Index Scan using jo_big_pkey on jo_big" in line for line in lines)
    assert (await session.query(sql))[1] == [(5,)]


async def test_outer_joins_keep_their_order(session: EngineSession, oracle: psycopg.Connection) -> None:
    sql = ("SELECT s.id, m.id FROM jo_small s LEFT JOIN jo_mid m ON m.small_id = s.id AND m.w = 99 "
           "WHERE s.id <= 3 ORDER BY 1, 2")
    node = _plan(session, sql).node
    left = [j for j in _joins(node) if j.join_type.value == "Left"]
    assert left and "jo_small" in _tables(left[0].outer)
    assert (await session.query(sql))[1] == [tuple(r) for r in oracle.execute(sql).fetchall()]


async def test_beyond_the_limit_keeps_from_order(session: EngineSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(joinorder, "MAX_RELATIONS", 2)
    node = _plan(session, BAD_ORDER).node
    assert sorted(_tables(_joins(node)[-1])) == ["jo_big", "jo_mid"]
    assert len((await session.query(BAD_ORDER))[1]) == 200


async def test_hash_join_fast_path(session: EngineSession, oracle: psycopg.Connection) -> None:
    """Duplicate keys, NULL keys, two-column keys, LEFT / SEMI / ANTI joins through the hash join."""
    setup = ("CREATE TABLE jo_l (k int, j int, v text)", "CREATE TABLE jo_r (k int, j int, w text)",
             "INSERT INTO jo_l VALUES (1, 1, 'a'), (1, 2, 'b'), (2, 1, 'c'), (NULL, 1, 'd'), (3, NULL, 'e')",
             "INSERT INTO jo_r VALUES (1, 1, 'x'), (1, 1, 'y'), (2, 2, 'z'), (NULL, 1, 'n'), (3, NULL, 'm'), (4, 4, 'q')")
    for sql in setup:
        await session.query(sql)
    oracle.execute("DROP TABLE IF EXISTS jo_l, jo_r")
    for sql in setup:
        oracle.execute(sql)
    queries = [
        "SELECT l.v, r.w FROM jo_l l JOIN jo_r r ON l.k = r.k ORDER BY 1, 2",
        "SELECT l.v, r.w FROM jo_l l JOIN jo_r r ON l.k = r.k AND l.j = r.j ORDER BY 1, 2",
        "SELECT l.v, r.w FROM jo_l l LEFT JOIN jo_r r ON l.k = r.k AND r.w <> 'y' ORDER BY 1, 2",
        "SELECT v FROM jo_l l WHERE EXISTS (SELECT 1 FROM jo_r r WHERE r.k = l.k) ORDER BY 1",
        "SELECT v FROM jo_l l WHERE NOT EXISTS (SELECT 1 FROM jo_r r WHERE r.k = l.k) ORDER BY 1",
        "SELECT l.v, r.w FROM jo_l l FULL JOIN jo_r r ON l.k = r.k ORDER BY 1, 2",
        "SELECT r.w, l.v FROM jo_r r JOIN jo_l l ON l.k = r.k WHERE r.w > 'm' ORDER BY 1, 2",
    ]
    try:
        for sql in queries:
            assert (await session.query(sql))[1] == [tuple(r) for r in oracle.execute(sql).fetchall()], sql
    finally:
        oracle.execute("DROP TABLE IF EXISTS jo_l, jo_r")
