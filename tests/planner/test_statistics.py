"""ANALYZE: statistics stored in the catalog and shown through pg_stats / pg_class as PostgreSQL 15
shows them (a small table is read whole, so the values must match the oracle's), and the
selectivity estimates the planner derives from them."""

from __future__ import annotations

import math
import pathlib
from typing import Any

import psycopg
import pytest

from pgaurora.catalog.statistics import compute_column
from pgaurora.errors import PgError
from pgaurora.executor.plannodes import IndexScan, SeqScan
from pgaurora.planner import estimate, parse, plan
from tests.pgoracle import pg_error
from tests.sql.runner import EngineSession

SETUP = (
    "DROP TABLE IF EXISTS st_people",
    "CREATE TABLE st_people (id int PRIMARY KEY, grp int, name text, big bigint, born date, flag bool)",
    "INSERT INTO st_people SELECT g, g % 10, CASE WHEN g % 4 = 0 THEN NULL ELSE 'n' || (g % 37) END, g * 1000, "
    "date '2020-01-01' + (g % 365), g % 3 = 0 FROM generate_series(1, 2000) g",
)
STATS_SQL = ("SELECT attname, null_frac, avg_width, n_distinct, most_common_vals, most_common_freqs, "
             "histogram_bounds, correlation FROM pg_stats WHERE tablename = 'st_people' ORDER BY attname")


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    yield s
    await s.stop()


async def _setup(session: EngineSession) -> None:
    for sql in SETUP[1:]:
        await session.query(sql)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-5, abs_tol=1e-7)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


async def test_pg_stats_matches_postgresql_for_a_table_read_whole(session: EngineSession,
                                                                   oracle_conn: psycopg.Connection) -> None:
    await _setup(session)
    assert (await session.query(STATS_SQL))[1] == []
    assert (await session.query("ANALYZE st_people"))[2] == "ANALYZE"
    ours = (await session.query(STATS_SQL))[1]
    for sql in SETUP:
        oracle_conn.execute(sql)
    oracle_conn.execute("ANALYZE st_people")
    theirs = oracle_conn.execute(STATS_SQL).fetchall()
    assert [r[0] for r in ours] == [r[0] for r in theirs] == ["big", "born", "flag", "grp", "id", "name"]
    for mine, pg in zip(ours, theirs, strict=True):
        for i, (a, b) in enumerate(zip(mine, pg, strict=True)):
            assert _close(a, b), (mine[0], STATS_SQL.split(",")[i], a, b)
    # n_distinct: -1 for a unique column, a count for few values, NULLs counted in null_frac
    by_name = {r[0]: r for r in ours}
    assert by_name["id"][3] == -1.0 and by_name["grp"][3] == 10.0 and by_name["name"][1] == 0.25
    oracle_conn.execute("DROP TABLE st_people")


async def test_reltuples_and_relpages(session: EngineSession) -> None:
    await _setup(session)
    sql = "SELECT relname, reltuples, relpages > 0 FROM pg_class WHERE relname IN ('st_people', 'st_people_pkey') ORDER BY 1"
    assert (await session.query(sql))[1] == [("st_people", -1.0, False), ("st_people_pkey", -1.0, False)]
    await session.query("ANALYZE")
    assert (await session.query(sql))[1] == [("st_people", 2000.0, True), ("st_people_pkey", 2000.0, False)]
    await session.query("DELETE FROM st_people WHERE id > 500")
    await session.query("VACUUM ANALYZE st_people")
    assert (await session.query(sql))[1][0][1] == 500.0
    await session.query("DELETE FROM st_people WHERE id > 100")
    await session.query("VACUUM st_people")  # vac_update_relstats: reltuples without a new sample
    assert (await session.query(sql))[1][0][1] == 100.0
    assert (await session.query("SELECT count(*) FROM pg_stats WHERE tablename = 'st_people'"))[1] == [(6,)]


async def test_estimates_follow_the_heap_between_analyzes(session: EngineSession) -> None:
    """reltuples is scaled to the heap's current pages (PostgreSQL's estimate_rel_size), so a bulk
    load after ANALYZE is seen by the planner; a heap never analyzed is sized from its pages."""
    await _setup(session)
    storage = session.engine.storage
    state = session.catalog.current
    table = state().relation("st_people")
    assert table is not None
    await session.query("SELECT count(*) FROM st_people")  # loads the heap's page list
    token = estimate.HEAP_PAGES.set(estimate.heap_pages_of(storage))
    try:
        unanalyzed = estimate.table_rows(state(), table)  # type: ignore[arg-type]
        assert 1000 < unanalyzed < 8000
        await session.query("ANALYZE st_people")
        assert estimate.table_rows(state(), table) == pytest.approx(2000)  # type: ignore[arg-type]
        await session.query("INSERT INTO st_people SELECT g, 1, 'x', 1, date '2020-01-01', true "
                            "FROM generate_series(2001, 4000) g")
        assert estimate.table_rows(state(), table) == pytest.approx(4000, rel=0.1)  # type: ignore[arg-type]
    finally:
        estimate.HEAP_PAGES.reset(token)
    assert estimate.table_rows(state(), table) == 2000.0  # type: ignore[arg-type]


async def test_analyze_columns_errors_and_transactions(session: EngineSession,
                                                       oracle_conn: psycopg.Connection) -> None:
    await _setup(session)
    await session.query("ANALYZE st_people (grp, name)")
    names = "SELECT attname FROM pg_stats WHERE tablename = 'st_people' ORDER BY 1"
    assert (await session.query(names))[1] == [("grp",), ("name",)]
    await session.query("ANALYZE st_people (id)")  # adds id, keeps the others
    assert (await session.query(names))[1] == [("grp",), ("id",), ("name",)]
    oracle_conn.execute("DROP TABLE IF EXISTS st_people")
    oracle_conn.execute("CREATE TABLE st_people (id int)")
    for sql in ("ANALYZE st_people (nope)", "ANALYZE st_nothing"):
        with pytest.raises(PgError) as info:
            await session.query(sql)
        assert (info.value.sqlstate, str(info.value.args[0])) == pg_error(oracle_conn, sql)
    oracle_conn.execute("DROP TABLE st_people")
    # statistics are catalog rows written in the statement's transaction
    await session.query("CREATE TABLE st_other (v int)")
    await session.query("INSERT INTO st_other SELECT g FROM generate_series(1, 10) g")
    await session.query("BEGIN")
    await session.query("ANALYZE st_other")
    await session.query("ROLLBACK")
    assert (await session.query("SELECT count(*) FROM pg_stats WHERE tablename = 'st_other'"))[1] == [(0,)]
    await session.query("BEGIN")
    await session.query("ANALYZE st_other")
    await session.query("COMMIT")
    assert (await session.query("SELECT count(*) FROM pg_stats WHERE tablename = 'st_other'"))[1] == [(1,)]
    # PostgreSQL runs ANALYZE in a READ ONLY transaction too (the statistics commit on their own)
    await session.query("INSERT INTO st_other SELECT g FROM generate_series(11, 30) g")
    session.txn = session.engine.txns.begin(read_only=True)
    assert (await session.query("ANALYZE st_other"))[2] == "ANALYZE"
    await session.query("ROLLBACK")
    assert (await session.query("SELECT reltuples FROM pg_class WHERE relname = 'st_other'"))[1] == [(30.0,)]


def test_sampled_statistics_shapes() -> None:
    """A sample of a bigger table: n_distinct is extrapolated (Haas-Stokes) and stored as a
    fraction of the rows when it is more than 10% of them; rare values get no MCV entry."""
    sample = [i % 20000 for i in range(30000)]  # 20000 distinct, 10000 seen twice
    null_frac, width, nd, mcv, freqs, hist, corr = compute_column(sample, 100_000.0, 4, lambda v: v)
    assert null_frac == 0.0 and width == 4
    assert -1.0 < nd < -0.2  # proportional: more distinct values than 10% of the 100000 rows
    assert mcv is None and freqs is None  # nothing stands out
    assert hist is not None and len(hist) == 101 and hist[0] == 0 and hist[-1] == 19999
    skewed = [1] * 15000 + list(range(2, 15002))
    _, _, nd2, mcv2, freqs2, _, _ = compute_column(skewed, 1_000_000.0, 4, lambda v: v)
    assert mcv2 == (1,) and freqs2 == (0.5,)
    assert nd2 > 15001  # more than the values seen: most were seen once
    empty = compute_column([None, None], 100.0, -1, lambda v: v)
    assert empty[:3] == (1.0, 0, 0.0)


def _scan(session: EngineSession, sql: str) -> Any:
    node = plan(parse(sql)[0], session.catalog, ()).node
    while not isinstance(node, SeqScan | IndexScan):
        node = node.input
    return node


async def test_estimates_from_statistics(session: EngineSession) -> None:
    await _setup(session)
    state = session.catalog.current()

    def rows(where: str) -> float:
        return estimate.estimate_rows(_scan(session, f"SELECT * FROM st_people WHERE {where}"),
                                      session.catalog.current())

    # without statistics: PostgreSQL's defaults over a default-sized table
    assert rows("grp = 3") == pytest.approx(estimate.DEFAULT_TABLE_ROWS * 0.005)
    assert rows("grp < 3") == pytest.approx(estimate.DEFAULT_TABLE_ROWS / 3)
    await session.query("ANALYZE st_people")
    assert session.catalog.current() is not state
    assert rows("id = 7") == pytest.approx(1.0)
    assert rows("grp = 3") == pytest.approx(200, rel=0.01)  # an MCV: its frequency
    assert rows("grp = 42") == pytest.approx(1.0)  # not among the 10 values seen
    assert rows("id < 101") == pytest.approx(100, rel=0.05)  # histogram
    assert rows("id BETWEEN 1001 AND 1500") == pytest.approx(500, rel=0.05)
    assert rows("grp IN (1, 2, 3)") == pytest.approx(600, rel=0.01)
    assert rows("name IS NULL") == pytest.approx(500, rel=0.01)
    assert rows("name IS NOT NULL AND grp = 1") == pytest.approx(150, rel=0.01)
    assert rows("grp = 1 OR grp = 2") == pytest.approx(2000 * (0.1 + 0.1 - 0.01), rel=0.01)
    assert rows("NOT (grp = 1)") == pytest.approx(1800, rel=0.01)
    grouped = plan(parse("SELECT grp, count(*) FROM st_people WHERE id > 10 GROUP BY grp")[0], session.catalog, ()).node
    while type(grouped).__name__ != "Aggregate":
        grouped = grouped.input
    assert estimate.estimate_rows(grouped, session.catalog.current()) == pytest.approx(10)
    assert rows("name LIKE 'n1%'") < rows("name LIKE 'n%'")
    assert rows("name LIKE 'n1%'") == pytest.approx(2000 * 0.75 * 11 / 37, rel=0.35)


def test_join_selectivity_uses_most_common_values() -> None:
    """Two columns whose common value is the same join far more rows than n_distinct says."""
    from pgaurora.catalog.statistics import ColumnStatistics
    from pgaurora.planner.selectivity import VarInfo, join_eq_selectivity

    skewed = ColumnStatistics(1, 0.0, 4, 11.0, (1,), (0.9,), tuple(range(2, 12)), None)
    a = VarInfo(skewed, 1000.0, 1000.0, type_oid=23, rel=0)
    b = VarInfo(skewed, 1000.0, 1000.0, type_oid=23, rel=1)
    assert join_eq_selectivity(a, b) == pytest.approx(0.81 + 0.1 * 0.1 / 10, rel=0.01)
    plain = ColumnStatistics(1, 0.0, 4, 11.0, (), (), tuple(range(1, 12)), None)
    c = VarInfo(plain, 1000.0, 1000.0, type_oid=23, rel=1)
    assert join_eq_selectivity(a, c) == pytest.approx(1 / 11)
