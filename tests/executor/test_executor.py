"""Executor behaviour the golden scripts cannot show: batching, cancellation, notices, command ids."""

from __future__ import annotations

import pathlib
import time

import pytest

from pgaurora.errors import PgError, QueryCanceled
from pgaurora.executor import ExecContext, run
from pgaurora.planner import parse, plan
from pgaurora.planner.plancache import PlanCache
from tests.sql.runner import EngineSession


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    await s.query("CREATE TABLE nums (n int PRIMARY KEY, sq int)")
    await s.query("INSERT INTO nums SELECT g, g * g FROM generate_series(1, 2000) g")
    yield s
    await s.stop()


async def test_cursor_fetches_in_portions(session: EngineSession) -> None:
    txn = session.engine.txns.begin()
    p = plan(parse("SELECT n FROM nums ORDER BY n")[0], session.catalog, ())
    cursor = await run(p, (), ExecContext(txn, session.engine.storage, session.catalog))
    first = await cursor.fetch(10)
    assert [r[0] for r in first] == list(range(1, 11)) and not cursor.done
    rest = await cursor.fetch(0)
    assert len(rest) == 1990 and cursor.done and cursor.tag == "SELECT 2000"
    assert await cursor.fetch(5) == []
    await txn.abort()


async def test_cancellation_between_batches(session: EngineSession) -> None:
    txn = session.engine.txns.begin()
    canceled = False
    p = plan(parse("SELECT a.n FROM nums a, nums b WHERE a.n + b.n = 7")[0], session.catalog, ())
    ctx = ExecContext(txn, session.engine.storage, session.catalog, is_canceled=lambda: canceled)
    cursor = await run(p, (), ctx)
    canceled = True
    with pytest.raises(QueryCanceled) as info:
        await cursor.fetch(0)
    assert info.value.sqlstate == "57014" and info.value.message == "canceling statement due to user request"
    await txn.abort()


async def test_notices_and_drop_if_exists(session: EngineSession) -> None:
    txn = session.engine.txns.begin()
    notices: list[str] = []
    p = plan(parse("DROP TABLE IF EXISTS missing_one, nums")[0], session.catalog, (), txn=txn)
    cursor = await run(p, (), ExecContext(txn, session.engine.storage, session.catalog, notice=notices.append))
    assert await cursor.fetch(0) == [] and cursor.tag == "DROP TABLE"
    assert notices == ['table "missing_one" does not exist, skipping']
    await txn.commit()


async def test_statements_in_one_transaction_see_each_other(session: EngineSession) -> None:
    await session.query("BEGIN")
    await session.query("UPDATE nums SET sq = 0 WHERE n = 3")
    assert (await session.query("SELECT sq FROM nums WHERE n = 3"))[1] == [(0,)]
    await session.query("DELETE FROM nums WHERE n > 10")
    assert (await session.query("SELECT count(*) FROM nums"))[1] == [(10,)]
    await session.query("ROLLBACK")
    assert (await session.query("SELECT count(*), sum(sq) FROM nums WHERE n <= 3"))[1] == [(3, 14)]


async def test_unique_violation_within_one_statement(session: EngineSession) -> None:
    with pytest.raises(PgError) as info:
        await session.query("INSERT INTO nums VALUES (5000, 1), (5000, 2)")
    assert info.value.sqlstate == "23505" and info.value.detail == "Key (n)=(5000) already exists."
    assert (await session.query("SELECT count(*) FROM nums WHERE n = 5000"))[1] == [(0,)]


async def test_measure_point_select_and_aggregate(session: EngineSession, capsys: pytest.CaptureFixture[str]) -> None:
    """Reports µs per plan-cached point select and the time of an aggregate scan (not a pass/fail bound)."""
    cache = PlanCache()
    txn = session.engine.txns.begin(read_only=True)
    storage, catalog = session.engine.storage, session.catalog
    n = 1000
    start = time.perf_counter()
    for i in range(n):
        p, params = cache.plan_query(f"SELECT sq FROM nums WHERE n = {i % 2000 + 1}", catalog, txn)
        rows = await (await run(p, params, ExecContext(txn, storage, catalog))).fetch(0)
        assert rows == [((i % 2000 + 1) ** 2,)]
    per_query = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    _, rows, _ = await session.query("SELECT count(*), sum(sq), max(n) FROM nums")
    scan_ms = (time.perf_counter() - start) * 1000
    assert rows == [(2000, sum(g * g for g in range(1, 2001)), 2000)]
    with capsys.disabled():
        print(f"\n  point select, plan cached: {per_query:.1f} us/query; 2000-row aggregate scan: {scan_ms:.1f} ms")
    await txn.abort()
