"""Batched hash aggregation (executor.aggregate): rows bucketed by group across scan batches
and fed to the aggregate states per group give the same answers as row-at-a-time evaluation,
whether the buckets are fed once at the end or many times (FEED_ROWS made small)."""

from __future__ import annotations

import pathlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pgaurora.executor import aggregate
from tests.sql.runner import EngineSession

ROWS = 3000


def _value(i: int) -> int | None:
    return None if i % 7 == 0 else (i * 37) % 101 - 50


@pytest.fixture
async def session(tmp_path: pathlib.Path) -> AsyncIterator[EngineSession]:
    s = await EngineSession.start(tmp_path)
    await s.query("CREATE TABLE agg (id int PRIMARY KEY, g int, h int, v int, w int)")
    await s.query(f"INSERT INTO agg SELECT i, i % 13, i % 3, CASE WHEN i % 7 = 0 THEN NULL "
                  f"ELSE (i * 37) % 101 - 50 END, i FROM generate_series(1, {ROWS}) i")
    yield s
    await s.stop()


def _expected() -> dict[tuple[int, ...], list[Any]]:
    groups: dict[tuple[int, ...], list[Any]] = defaultdict(lambda: [0, [], 0])
    for i in range(1, ROWS + 1):
        g = groups[(i % 13,)]
        g[0] += 1
        if _value(i) is not None:
            g[1].append(_value(i))
        g[2] += i
    return groups


QUERIES = [
    "SELECT g, count(*), count(v), sum(v), min(v), max(v), avg(v) FROM agg GROUP BY g",
    "SELECT g, count(*) FROM agg GROUP BY g",
    "SELECT g, sum(v), sum(w) FROM agg GROUP BY g",
    "SELECT g, h, count(*), sum(v) FROM agg GROUP BY g, h",
    "SELECT count(*), sum(v), count(v) FROM agg",
]


@pytest.mark.parametrize("feed_rows", [7, 100, aggregate.FEED_ROWS])
async def test_same_results_however_often_buckets_are_fed(session: EngineSession, feed_rows: int,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregate, "FEED_ROWS", feed_rows)
    expected = _expected()
    _, rows, _ = await session.query(QUERIES[0])
    assert len(rows) == 13
    for g, count, count_v, total, low, high, avg in rows:
        e = expected[(g,)]
        assert (count, count_v, total, low, high) == (e[0], len(e[1]), sum(e[1]), min(e[1]), max(e[1]))
        assert abs(float(avg) - sum(e[1]) / len(e[1])) < 1e-9
    _, rows, _ = await session.query(QUERIES[1])
    assert sorted(rows) == sorted((k[0], e[0]) for k, e in expected.items())
    _, rows, _ = await session.query(QUERIES[2])
    assert sorted(rows) == sorted((k[0], sum(e[1]), e[2]) for k, e in expected.items())
    _, rows, _ = await session.query(QUERIES[3])
    by_pair: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for i in range(1, ROWS + 1):
        by_pair[(i % 13, i % 3)][0] += 1
        by_pair[(i % 13, i % 3)][1] += _value(i) or 0
    assert sorted(rows) == sorted((g, h, c, s) for (g, h), (c, s) in by_pair.items())
    _, rows, _ = await session.query(QUERIES[4])
    values = [v for i in range(1, ROWS + 1) if (v := _value(i)) is not None]
    assert rows == [(ROWS, sum(values), len(values))]
