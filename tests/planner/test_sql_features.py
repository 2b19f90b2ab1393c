"""Plan shapes of the SQL features whose results tests/sql checks against PostgreSQL: expression
and partial indexes are used when a query's expression and WHERE match them (and kept up to
date by DML), merge join is chosen for inputs sorted on the join key (and the Sort above it
dropped), data-modifying CTEs run once, generated columns are computed into the stored row."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from pgaurora.executor.mergejoin import MergeJoin
from pgaurora.executor.plannodes import HashJoin, IndexScan, SeqScan, Sort
from pgaurora.executor.withmodify import ModifyingCtes
from pgaurora.planner import parse, plan
from tests.sql.runner import EngineSession


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    yield s
    await s.stop()


def _nodes(node: Any) -> list[Any]:
    out = [node]
    for name in ("input", "outer", "inner", "left", "right", "source", "plan"):
        child = getattr(node, name, None)
        if child is not None and hasattr(child, "width"):
            out.extend(_nodes(child))
    return out


def _plan(session: EngineSession, sql: str) -> Any:
    return plan(parse(sql)[0], session.catalog, ()).node


async def test_expression_index_is_used_and_maintained(session: EngineSession) -> None:
    await session.query("CREATE TABLE u (id int PRIMARY KEY, email text)")
    await session.query("INSERT INTO u SELECT g, 'User' || g || '@X' FROM generate_series(1, 40) g")
    await session.query("CREATE INDEX u_lower ON u (lower(email))")
    scans = [n for n in _nodes(_plan(session, "SELECT id FROM u WHERE lower(email) = 'user7@x'")) if isinstance(n, IndexScan)]
    assert [s.index_name for s in scans] == ["u_lower"]
    assert (await session.query("SELECT id FROM u WHERE lower(email) = 'user7@x'"))[1] == [(7,)]
    await session.query("UPDATE u SET email = 'Moved@X' WHERE id = 7")
    assert (await session.query("SELECT id FROM u WHERE lower(email) = 'user7@x'"))[1] == []
    assert (await session.query("SELECT id FROM u WHERE lower(email) = 'moved@x'"))[1] == [(7,)]
    # another expression is not this index
    assert not any(isinstance(n, IndexScan) for n in _nodes(_plan(session, "SELECT id FROM u WHERE upper(email) = 'X'")))


async def test_partial_index_needs_its_predicate_in_the_query(session: EngineSession) -> None:
    await session.query("CREATE TABLE job (id int PRIMARY KEY, state text, prio int)")
    await session.query("INSERT INTO job SELECT g, CASE WHEN g % 5 = 0 THEN 'ready' ELSE 'done' END, g FROM generate_series(1, 50) g")
    await session.query("CREATE INDEX job_ready ON job (prio) WHERE state = 'ready'")
    with_predicate = _plan(session, "SELECT id FROM job WHERE prio = 10 AND state = 'ready'")
    assert [n.index_name for n in _nodes(with_predicate) if isinstance(n, IndexScan)] == ["job_ready"]
    without = _plan(session, "SELECT id FROM job WHERE prio = 10")
    assert not any(isinstance(n, IndexScan) and n.index_name == "job_ready" for n in _nodes(without))
    assert (await session.query("SELECT id FROM job WHERE prio = 10 AND state = 'ready'"))[1] == [(10,)]
    assert (await session.query("SELECT id FROM job WHERE prio = 11 AND state = 'ready'"))[1] == []
    await session.query("UPDATE job SET state = 'ready' WHERE id = 11")
    assert (await session.query("SELECT id FROM job WHERE prio = 11 AND state = 'ready'"))[1] == [(11,)]


async def test_merge_join_for_index_ordered_inputs(session: EngineSession) -> None:
    await session.query("CREATE TABLE a (id int PRIMARY KEY, x int)")
    await session.query("CREATE TABLE b (id int PRIMARY KEY, y int)")
    await session.query("INSERT INTO a SELECT g, g FROM generate_series(1, 100) g")
    await session.query("INSERT INTO b SELECT g * 2, g FROM generate_series(1, 100) g")
    sql = "SELECT a.id, b.y FROM a JOIN b ON b.id = a.id WHERE a.id > 10 AND b.id > 10 ORDER BY a.id"
    nodes = _nodes(_plan(session, sql))
    assert any(isinstance(n, MergeJoin) for n in nodes)
    assert not any(isinstance(n, Sort | HashJoin) for n in nodes)  # the output is already in a.id order
    _, rows, _ = await session.query(sql)
    assert rows == [(i, i // 2) for i in range(12, 101, 2)]
    # unsorted inputs keep the hash join
    nodes = _nodes(_plan(session, "SELECT a.id FROM a JOIN b ON b.y = a.x"))
    assert any(isinstance(n, HashJoin) for n in nodes) and not any(isinstance(n, MergeJoin) for n in nodes)


async def test_modifying_cte_runs_once_even_when_unread(session: EngineSession) -> None:
    await session.query("CREATE TABLE log (n int)")
    node = _plan(session, "WITH w AS (INSERT INTO log VALUES (1) RETURNING n) SELECT 1")
    assert isinstance(node, ModifyingCtes)
    await session.query("WITH w AS (INSERT INTO log VALUES (1) RETURNING n) SELECT 1")
    await session.query("WITH w AS (INSERT INTO log VALUES (2) RETURNING n) SELECT * FROM w, w AS again")
    assert (await session.query("SELECT n FROM log ORDER BY n"))[1] == [(1,), (2,)]


async def test_generated_column_is_stored(session: EngineSession) -> None:
    await session.query("CREATE TABLE g (a int, b int GENERATED ALWAYS AS (a * 2) STORED)")
    await session.query("INSERT INTO g (a) VALUES (4)")
    await session.query("UPDATE g SET a = 5")
    table = session.catalog.current().relation("g")
    heap = session.engine.storage.heap(table.rel_id)
    txn = session.engine.txns.begin()
    try:
        rows = [row async for batch in heap.scan(txn, txn.snapshot()) for _tid, row in batch]
    finally:
        await txn.abort()
    assert rows == [(5, 10)]
    assert isinstance(_nodes(_plan(session, "SELECT * FROM g"))[-1], SeqScan)


async def test_partitions_are_pruned_on_constants_and_rows_routed(session: EngineSession) -> None:
    await session.query("CREATE TABLE m (id int, k int) PARTITION BY RANGE (k)")
    await session.query("CREATE TABLE m_a PARTITION OF m FOR VALUES FROM (MINVALUE) TO (10)")
    await session.query("CREATE TABLE m_b PARTITION OF m FOR VALUES FROM (10) TO (20)")
    await session.query("CREATE TABLE m_d PARTITION OF m DEFAULT")
    await session.query("INSERT INTO m SELECT g, g FROM generate_series(1, 30) g")
    for name, expected in (("m_a", 9), ("m_b", 10), ("m_d", 11)):
        assert (await session.query(f"SELECT count(*) FROM {name}"))[1] == [(expected,)]
    scanned = {n.table_name for n in _nodes(_plan(session, "SELECT id FROM m WHERE k = 15")) if isinstance(n, SeqScan)}
    assert scanned == {"m_b", "m_d"}  # the default partition may hold anything the others do not
    scanned = {n.table_name for n in _nodes(_plan(session, "SELECT id FROM m WHERE k < 5")) if isinstance(n, SeqScan)}
    assert scanned == {"m_a", "m_d"}
    _, rows, tag = await session.query("DELETE FROM m WHERE k >= 10 AND k < 20")
    assert tag == "DELETE 10"
    assert (await session.query("SELECT count(*) FROM m"))[1] == [(20,)]


async def test_partitions_are_pruned_at_run_time_on_parameters(session: EngineSession) -> None:
    from pgaurora.executor.partition import PartitionGuard

    await session.query("CREATE TABLE r (id int, k int) PARTITION BY LIST (k)")
    await session.query("CREATE TABLE r_1 PARTITION OF r FOR VALUES IN (1)")
    await session.query("CREATE TABLE r_2 PARTITION OF r FOR VALUES IN (2, NULL)")
    await session.query("INSERT INTO r VALUES (10, 1), (20, 2), (30, NULL)")
    p = plan(parse("SELECT id FROM r WHERE k = $1")[0], session.catalog, (23,))
    guards = [n for n in _nodes(p.node) if isinstance(n, PartitionGuard)]
    assert len(guards) == 2
    for k, expected in ((1, [(10,)]), (2, [(20,)]), (3, [])):
        assert (await session.query("SELECT id FROM r WHERE k = $1", (k,)))[1] == expected
    assert (await session.query("SELECT id FROM r WHERE k IS NULL"))[1] == [(30,)]
