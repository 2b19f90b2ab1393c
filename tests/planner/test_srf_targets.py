"""Set-returning functions in target lists (planner.srf): the plan shapes PostgreSQL's ProjectSet
takes, and the HINTs of the placements it refuses. Results and messages are compared with
PostgreSQL 15 by the golden script tests/sql/srf/targets.sql."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from pgaurora.errors import PgError
from pgaurora.executor.plannodes import Aggregate, Project, ProjectSet, WindowAgg
from pgaurora.planner import parse, plan
from tests.sql.runner import EngineSession

HINT = "You might be able to move the set-returning function into a LATERAL FROM item."


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    yield s
    await s.stop()


def _chain(node: Any) -> list[str]:
    """Node type names down the `input` chain."""
    out = []
    while node is not None and hasattr(node, "width"):
        out.append(type(node).__name__)
        node = getattr(node, "input", None)
    return out


def _plan(session: EngineSession, sql: str) -> Any:
    return plan(parse(sql)[0], session.catalog, ()).node


async def test_whole_target_srfs_keep_one_project_set(session: EngineSession) -> None:
    node = _plan(session, "SELECT generate_series(1, 3), 'a', unnest(ARRAY[1, 2])")
    assert isinstance(node, ProjectSet) and node.srf_positions == (0, 2)
    # no SRF: a plain Project, as before
    assert isinstance(_plan(session, "SELECT 1 + 2, 'a'"), Project)


async def test_nested_srfs_stack_a_project_set_per_level(session: EngineSession) -> None:
    node = _plan(session, "SELECT generate_series(1, generate_series(1, 3)) * 2, 'x'")
    assert _chain(node)[:3] == ["Project", "ProjectSet", "ProjectSet"]
    level2, level1 = node.input, node.input.input
    assert len(level1.srf_positions) == 1 and len(level2.srf_positions) == 1
    # one call that appears twice is computed once
    twice = _plan(session, "SELECT generate_series(1, 3) + 1, generate_series(1, 3) * 2")
    assert _chain(twice)[:2] == ["Project", "ProjectSet"] and len(twice.input.srf_positions) == 1
    _, rows, _ = await session.query("SELECT generate_series(1, 3) + 1, generate_series(1, 3) * 2")
    assert rows == [(2, 2), (3, 4), (4, 6)]


async def test_group_by_and_window_srfs_expand_below_their_node(session: EngineSession) -> None:
    grouped = _plan(session, "SELECT count(*) FROM (VALUES (1)) v(x) GROUP BY generate_series(1, 2)")
    aggregate = next(n for n in _walk(grouped) if isinstance(n, Aggregate))
    assert isinstance(aggregate.input, ProjectSet)
    windowed = _plan(session, "SELECT max(x) OVER (PARTITION BY generate_series(1, 2)) FROM (VALUES (1)) v(x)")
    window = next(n for n in _walk(windowed) if isinstance(n, WindowAgg))
    assert isinstance(window.input, ProjectSet)


def _walk(node: Any) -> list[Any]:
    out = []
    while node is not None and hasattr(node, "width"):
        out.append(node)
        node = getattr(node, "input", None)
    return out


async def test_project_set_reads_its_series_lazily(session: EngineSession) -> None:
    # a hundred million rows are never materialized: LIMIT stops the lockstep iteration
    _, rows, _ = await session.query("SELECT generate_series(1, 100000000), 'x' LIMIT 2")
    assert rows == [(1, "x"), (2, "x")]
    _, rows, _ = await session.query("SELECT generate_series(1, 100000000), unnest(ARRAY[7]) LIMIT 2")
    assert rows == [(1, 7), (2, None)]


async def test_explain_names_project_set_and_the_result_above(session: EngineSession) -> None:
    _, rows, _ = await session.query("EXPLAIN SELECT generate_series(1, generate_series(1, 3)) * 2")
    assert [r[0] for r in rows] == ["Result", "  ->  ProjectSet", "    ->  ProjectSet", "      ->  Result"]
    _, rows, _ = await session.query("EXPLAIN SELECT count(*) FROM (VALUES (1)) v(x) GROUP BY generate_series(1, 2)")
    assert "Group Key: generate_series(1, 2)" in rows[1][0]


@pytest.mark.parametrize(("sql", "sqlstate", "hint"), [
    ("SELECT CASE WHEN true THEN generate_series(1, 2) END", "0A000", HINT),
    ("SELECT coalesce(generate_series(1, 2), 0)", "0A000", HINT),
    ("SELECT sum(generate_series(1, 3))", "0A000", HINT),
    ("SELECT sum(generate_series(1, 2)) OVER ()", "0A000", HINT),
    ("SELECT 1 WHERE generate_series(1, 2) > 1", "0A000", None),
    ("SELECT NOT (generate_series(1, 2) > 1)", "42804", None),
])
async def test_refused_placements_carry_postgres_hints(session: EngineSession, sql: str, sqlstate: str,
                                                       hint: str | None) -> None:
    with pytest.raises(PgError) as info:
        await session.query(sql)
    assert info.value.sqlstate == sqlstate
    assert info.value.hint == hint
    assert info.value.position is not None
