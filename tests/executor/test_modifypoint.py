"""Write sources without a scan node (executor.modifypoint): UPDATE / DELETE by one whole index
key and INSERT of one VALUES row. Which sources take these paths, and that they change exactly
what the general path (a scan node) changes."""

from __future__ import annotations

import asyncio
import pathlib
from typing import Any

import pytest

from pgaurora.errors import PgError
from pgaurora.executor import modify
from pgaurora.executor.modify import Delete, Update
from pgaurora.executor.modifypoint import point_target
from pgaurora.planner import parse, plan
from tests.sql.runner import EngineSession

SETUP = (
    "CREATE TABLE acct (id int PRIMARY KEY, grp int NOT NULL, balance int CHECK (balance > -100), note text)",
    "CREATE INDEX acct_grp ON acct (grp)",
    "CREATE TABLE pair (a int, b int, v int, PRIMARY KEY (a, b))",
    "CREATE TABLE log (id bigserial PRIMARY KEY, acct int REFERENCES acct, v int NOT NULL DEFAULT 7, t text)",
    "INSERT INTO acct SELECT g, g % 7, g * 10, 'n' || g FROM generate_series(1, 300) g",
    "INSERT INTO pair SELECT g % 10, g / 10, g FROM generate_series(0, 99) g",
)

# (sql, params): statements whose results and effects both paths must agree on
SCRIPT: tuple[tuple[str, tuple[object, ...]], ...] = (
    ("UPDATE acct SET balance = balance + 1 WHERE id = $1", (5,)),
    ("UPDATE acct SET balance = balance + 1 WHERE id = $1", (5,)),  # HOT chain grows
    ("UPDATE acct SET balance = balance + 1 WHERE id = $1", (None,)),  # NULL key: no row
    ("UPDATE acct SET balance = balance + 1 WHERE id = $1", (100000,)),  # missing key
    ("UPDATE acct SET grp = 99 WHERE id = $1 RETURNING id, grp, balance", (7,)),  # indexed column: not HOT
    ("UPDATE acct SET id = 1000 WHERE id = 8 RETURNING *", ()),  # the key itself
    ("UPDATE acct SET id = 9 WHERE id = 10", ()),  # 23505
    ("UPDATE acct SET balance = -500 WHERE id = 11", ()),  # 23514
    ("UPDATE acct SET note = NULL, balance = balance * 2 WHERE id = $1 RETURNING note, balance", (12,)),
    ("UPDATE pair SET v = v + 1000 WHERE a = $1 AND b = $2 RETURNING a, b, v", (3, 4)),
    ("UPDATE pair SET v = 0 WHERE a = 3 AND b = $1", (99,)),
    ("DELETE FROM acct WHERE id = $1 RETURNING id, balance", (20,)),
    ("DELETE FROM acct WHERE id = $1", (20,)),  # already gone
    ("DELETE FROM pair WHERE a = $1 AND b = $2", (1, 1)),
    ("UPDATE acct SET balance = balance + 1 WHERE id = $1", (1000,)),  # the moved key
    ("INSERT INTO log (acct, v, t) VALUES ($1, $2, 'x')", (1, 5)),
    ("INSERT INTO log (acct, t) VALUES ($1, 'y') RETURNING id, acct, v, t", (2,)),  # a default
    ("INSERT INTO log (acct, v) VALUES ($1, $2)", (20, 1)),  # 23503: deleted above
    ("INSERT INTO log (acct, v) VALUES ($1, NULL)", (3,)),  # 23502
    ("INSERT INTO log (id, acct, v) VALUES (1, 4, 4)", ()),  # 23505
    ("INSERT INTO log (acct, v) VALUES ((SELECT max(id) FROM acct WHERE id < 50), 9) RETURNING acct", ()),
    ("INSERT INTO pair VALUES ($1, $2, $3) RETURNING *", (50, 1, 2)),
    ("INSERT INTO log DEFAULT VALUES RETURNING v", ()),
)


def _source(s: EngineSession, sql: str, types: tuple[int, ...]) -> object:
    p = plan(parse(sql)[0], s.catalog, types)
    assert isinstance(p.node, Update | Delete)
    return p.node.source


async def _run_script(tmp: pathlib.Path, point: bool, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    with monkeypatch.context() as m:
        if not point:
            m.setattr(modify, "_point", lambda source: None)
            m.setattr(modify, "single_values", lambda source: False)
        s = await EngineSession.start(tmp)
        try:
            for sql in SETUP:
                await s.query(sql)
            out: list[Any] = []
            for sql, params in SCRIPT:
                try:
                    _, rows, tag = await s.query(sql, params)
                    out.append((tag, rows))
                except PgError as exc:
                    out.append((exc.sqlstate, exc.message))
            out.append((await s.query("SELECT * FROM acct ORDER BY id"))[1])
            out.append((await s.query("SELECT * FROM pair ORDER BY a, b"))[1])
            out.append((await s.query("SELECT id FROM acct WHERE grp = 99"))[1])
            out.append((await s.query("SELECT * FROM log ORDER BY id"))[1])
            return out
        finally:
            await s.stop()


async def test_point_sources(tmp_path: pathlib.Path) -> None:
    s = await EngineSession.start(tmp_path)
    try:
        for sql in SETUP[:3]:  # the tables, no rows
            await s.query(sql)
        assert point_target(_source(s, "UPDATE acct SET balance = 0 WHERE id = $1", (23,)))
        assert point_target(_source(s, "DELETE FROM acct WHERE id = 5", ()))
        assert point_target(_source(s, "UPDATE pair SET v = 0 WHERE a = $1 AND b = 2", (23,)))
        assert not point_target(_source(s, "UPDATE pair SET v = 0 WHERE a = 1", ()))  # a key prefix
        assert not point_target(_source(s, "UPDATE acct SET balance = 0 WHERE id > 5", ()))
        assert not point_target(_source(s, "UPDATE acct SET balance = 0 WHERE id = 5 AND note = 'x'", ()))
        assert not point_target(_source(s, "UPDATE acct SET balance = 0 FROM pair WHERE acct.id = 5 AND pair.a = 1",
                                        ()))
    finally:
        await s.stop()


async def test_point_path_changes_what_the_scan_path_changes(tmp_path: pathlib.Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    point = await _run_script(tmp_path / "point", True, monkeypatch)
    general = await _run_script(tmp_path / "general", False, monkeypatch)
    assert point == general
    assert point[0] == ("UPDATE 1", [])
    assert point[2] == ("UPDATE 0", []) and point[3] == ("UPDATE 0", [])
    assert point[6][0] == "23505" and point[7][0] == "23514"
    assert point[11] == ("DELETE 1", [(20, 200)]) and point[12] == ("DELETE 0", [])
    assert point[16] == ("INSERT 0 1", [(2, 2, 7, "y")])
    assert [point[i][0] for i in (17, 18, 19)] == ["23503", "23502", "23505"]
    assert point[-1] == [(1, 1, 5, "x"), (2, 2, 7, "y"), (5, 49, 9, None), (6, None, 7, None)]


async def test_point_update_rechecks_a_concurrent_update(tmp_path: pathlib.Path) -> None:
    """READ COMMITTED: the second UPDATE waits for the first, then changes the newest version."""
    s = await EngineSession.start(tmp_path)
    try:
        for sql in (SETUP[0], "INSERT INTO acct SELECT g, g % 7, g * 10, 'n' || g FROM generate_series(1, 300) g"):
            await s.query(sql)
        other = EngineSession(s.engine, s.catalog, pid=2)
        await s.query("BEGIN")
        await s.query("UPDATE acct SET balance = balance + 1 WHERE id = $1", (3,))
        waiting = asyncio.ensure_future(other.query("UPDATE acct SET balance = balance + 100 WHERE id = $1 "
                                                    "RETURNING balance", (3,)))
        for _ in range(20):
            await asyncio.sleep(0)  # let it reach the row lock (bounded: it cannot finish)
        assert not waiting.done()
        await s.query("COMMIT")
        assert (await asyncio.wait_for(waiting, 10))[1] == [(131,)]
        assert (await s.query("SELECT balance FROM acct WHERE id = 3"))[1] == [(131,)]
    finally:
        await s.stop()


async def test_a_row_updated_many_times_in_one_transaction_is_found_newest_first(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The versions a transaction leaves of a row it updates over and over cannot be pruned
    while it runs: a whole-key lookup tries them newest first and stops at the one it sees,
    so the 600th UPDATE looks at about as many versions as the 6th (it looked at all 600);
    a snapshot from before them still finds the old version, further back."""
    from pgaurora.access.heap import Heap

    s = await EngineSession.start(tmp_path)
    try:
        for sql in (SETUP[0], "INSERT INTO acct SELECT g, g % 7, g * 10, 'n' || g FROM generate_series(1, 300) g"):
            await s.query(sql)
        reader = EngineSession(s.engine, s.catalog, pid=2)
        await reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert (await reader.query("SELECT balance FROM acct WHERE id = 3"))[1] == [(30,)]
        fetched = [0]
        original = Heap.fetch_cached

        def counting(self: Heap, snapshot: Any, tid: Any) -> Any:
            fetched[0] += 1
            return original(self, snapshot, tid)

        monkeypatch.setattr(Heap, "fetch_cached", counting)
        await s.query("BEGIN")
        per_update = []
        for i in range(600):
            before = fetched[0]
            assert (await s.query("UPDATE acct SET balance = balance + 1 WHERE id = $1 RETURNING balance",
                                  (3,)))[1] == [(31 + i,)]
            per_update.append(fetched[0] - before)
        assert max(per_update[-100:]) <= 3, per_update[-100:]
        assert (await s.query("SELECT balance FROM acct WHERE id = 3"))[1] == [(630,)]
        assert (await reader.query("SELECT balance FROM acct WHERE id = 3"))[1] == [(30,)]
        await s.query("COMMIT")
        await reader.query("COMMIT")
        assert (await reader.query("SELECT balance FROM acct WHERE id = 3"))[1] == [(630,)]
    finally:
        await s.stop()
