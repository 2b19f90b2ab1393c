"""Parsing (statement texts, offsets, 42601 positions), parameter type inference and the plan cache."""

from __future__ import annotations

import pathlib

import pytest

from pgaurora.errors import PgError
from pgaurora.executor import ExecContext, run
from pgaurora.executor.plannodes import IndexScan, Project
from pgaurora.planner import parse, plan
from pgaurora.planner.plancache import PlanCache
from tests.sql.runner import EngineSession


def test_parse_keeps_statement_texts_and_offsets() -> None:
    stmts = parse("SELECT 1; INSERT INTO t VALUES (2);  SELECT 'é'")
    assert [s.node_type for s in stmts] == ["SelectStmt", "InsertStmt", "SelectStmt"]
    assert stmts[1].text == "INSERT INTO t VALUES (2)"
    assert stmts[2].command == "SELECT"


async def test_transaction_control_texts_are_parsed_once(session: EngineSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """pgbench sends BEGIN; and END; in every transaction: the second time, neither the plan
    cache nor parse() calls the parser for them (a text with anything else in it still does)."""
    import importlib

    from pgaurora.planner import plancache
    parse_module = importlib.import_module("pgaurora.planner.parse")
    cache = PlanCache()
    first = parse("BEGIN ISOLATION LEVEL REPEATABLE READ; END;")
    assert cache.plan_query("BEGIN ISOLATION LEVEL REPEATABLE READ; END;", session.catalog) is None
    calls: list[str] = []
    real = parse_module.pg_parser.parse_sql_json

    def counted(sql: str) -> str:
        calls.append(sql)
        return real(sql)

    monkeypatch.setattr(parse_module.pg_parser, "parse_sql_json", counted)
    monkeypatch.setattr(plancache.pg_parser, "parse_sql_json", counted)
    again = parse("BEGIN ISOLATION LEVEL REPEATABLE READ; END;")
    assert again == first and [s.tree for s in again] == [s.tree for s in first]
    assert cache.plan_query("BEGIN ISOLATION LEVEL REPEATABLE READ; END;", session.catalog) is None
    assert calls == []
    assert [s.node_type for s in parse("BEGIN; SELECT 1")] == ["TransactionStmt", "SelectStmt"]
    assert calls == ["BEGIN; SELECT 1"]


@pytest.mark.parametrize(("sql", "message", "position"), [
    ("SELEC 1", 'syntax error at or near "SELEC"', 1),
    ("SELECT 1 +", "syntax error at end of input", 11),
    ("SELECT 'é' FROM WHERE", 'syntax error at or near "WHERE"', 17),
    ("SELECT 'abc", 'unterminated quoted string at or near "\'abc"', 8),
])
def test_syntax_errors_carry_postgres_positions(sql: str, message: str, position: int) -> None:
    with pytest.raises(PgError) as info:
        parse(sql)
    assert info.value.sqlstate == "42601"
    assert info.value.message == message
    assert info.value.position == position


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    await s.query("CREATE TABLE acc (aid int PRIMARY KEY, bid int, abalance int, filler char(10))")
    await s.query("INSERT INTO acc SELECT g, g % 3, g * 10, 'x' FROM generate_series(1, 50) g")
    yield s
    await s.stop()


async def test_parameter_types_are_inferred_from_context(session: EngineSession) -> None:
    stmt = parse("SELECT abalance FROM acc WHERE aid = $1 AND filler = $2 LIMIT $3")[0]
    p = plan(stmt, session.catalog, (0, 0, 0))
    assert p.param_types == (23, 1042, 20)
    assert p.columns is not None and p.columns[0].name == "abalance" and p.columns[0].attnum == 3
    stmt = parse("INSERT INTO acc (aid, filler) VALUES ($1, $2)")[0]
    assert plan(stmt, session.catalog, ()).param_types == (23, 1042)


async def test_point_select_uses_the_primary_key(session: EngineSession) -> None:
    p = plan(parse("SELECT abalance FROM acc WHERE aid = $1")[0], session.catalog, (23,))
    assert isinstance(p.node, Project) and isinstance(p.node.input, IndexScan)
    assert p.node.input.index_name == "acc_pkey"
    _, rows, tag = await session.query("SELECT abalance FROM acc WHERE aid = $1", (7,))
    assert rows == [(70,)] and tag == "SELECT 1"


async def test_plan_cache_binds_literals_as_parameters(session: EngineSession) -> None:
    cache = PlanCache()
    txn = session.engine.txns.begin()
    results = []
    for aid in (5, 6, 7):
        found = cache.plan_query(f"SELECT abalance FROM acc WHERE aid = {aid}", session.catalog, txn)
        assert found is not None
        p, params = found
        assert params == (aid,)
        cursor = await run(p, params, ExecContext(txn, session.engine.storage, session.catalog))
        results.append(await cursor.fetch(0))
    assert results == [[(50,)], [(60,)], [(70,)]]
    assert cache.misses == 1 and cache.hits == 2
    # a string literal keeps PostgreSQL's unknown typing: it becomes the column's type
    p, params = cache.plan_query("SELECT aid FROM acc WHERE filler = 'x' AND aid < 3 ORDER BY 1", session.catalog, txn)
    assert p.param_types[0] == 1042 and params[0] == "x"
    # ORDER BY 1 / 2 are positions, not values: different plans
    p1, _ = cache.plan_query("SELECT aid, bid FROM acc WHERE aid < 4 ORDER BY 2, 1", session.catalog, txn)
    p2, _ = cache.plan_query("SELECT aid, bid FROM acc WHERE aid < 4 ORDER BY 1", session.catalog, txn)
    rows1 = await (await run(p1, (4,), ExecContext(txn, session.engine.storage, session.catalog))).fetch(0)
    rows2 = await (await run(p2, (4,), ExecContext(txn, session.engine.storage, session.catalog))).fetch(0)
    assert rows1 == [(3, 0), (1, 1), (2, 2)] and rows2 == [(1, 1), (2, 2), (3, 0)]
    # a bad literal is reported with its position in the original text
    with pytest.raises(PgError) as info:
        cache.plan_query("SELECT aid FROM acc WHERE aid = 'zz'", session.catalog, txn) or plan(
            parse("SELECT aid FROM acc WHERE aid = 'zz'")[0], session.catalog, ())
    assert info.value.sqlstate == "22P02" and info.value.position == 33
    # DDL invalidates cached plans
    await session.query("CREATE INDEX acc_bid ON acc (bid)")
    await session.catalog.sync()
    p, _ = cache.plan_query("SELECT abalance FROM acc WHERE aid = 9", session.catalog, None)
    assert p.catalog_version == session.catalog.current().version
    await txn.abort()


async def test_integer_literal_typing(session: EngineSession) -> None:
    cache = PlanCache()
    p, params = cache.plan_query("SELECT 1, 3000000000, 1.5, 'a'", session.catalog)
    assert [c.type_oid for c in p.columns] == [23, 20, 1700, 25]
    assert params[1] == 3000000000


async def test_plan_cache_negative_literals_and_text_fast_path(session: EngineSession) -> None:
    cache = PlanCache()
    txn = session.engine.txns.begin()
    for delta in (-5, 7, -9, -11):
        p, params = cache.plan_query(f"UPDATE acc SET abalance = abalance + {delta} WHERE aid = 1", session.catalog, txn)
        assert params == (delta, 1)
        cursor = await run(p, params, ExecContext(txn, session.engine.storage, session.catalog))
        await cursor.fetch(0)
        assert cursor.tag == "UPDATE 1"
    p, params = cache.plan_query("SELECT abalance FROM acc WHERE aid = 1", session.catalog, txn)
    rows = await (await run(p, params, ExecContext(txn, session.engine.storage, session.catalog))).fetch(0)
    assert rows == [(10 - 5 + 7 - 9 - 11,)]
    assert cache.hits >= 2
    await txn.abort()


async def test_parameters_of_other_integer_types_still_use_the_index(session: EngineSession) -> None:
    for oid in (20, 21):
        p = plan(parse("SELECT abalance FROM acc WHERE aid = $1")[0], session.catalog, (oid,))
        assert isinstance(p.node, Project) and isinstance(p.node.input, IndexScan)
    p = plan(parse("SELECT aid FROM acc WHERE aid = ANY($1) ORDER BY aid")[0], session.catalog, (0,))
    assert p.param_types == (1007,)
    _, rows, _ = await session.query("SELECT aid FROM acc WHERE aid = ANY($1) ORDER BY aid", ([3, 1, 99],))
    assert rows == [(1,), (3,)]


async def test_join_is_turned_around_to_use_an_index_lookup(session: EngineSession) -> None:
    from pgaurora.executor.plannodes import NestLoop

    await session.query("CREATE TABLE pick (id int PRIMARY KEY, aid int)")
    await session.query("INSERT INTO pick VALUES (1, 42), (2, 7)")
    sql = "SELECT a.abalance, p.id FROM acc a, pick p WHERE a.aid = p.aid AND p.id = 1"
    p = plan(parse(sql)[0], session.catalog, ())
    join = p.node.input.input  # Project(columns) <- Project(order restored) <- NestLoop
    assert isinstance(join, NestLoop) and join.param_slots
    assert isinstance(join.outer, IndexScan) and isinstance(join.inner, IndexScan)
    assert (await session.query(sql))[1] == [(420, 1)]
