"""Scrollable cursors: DECLARE [NO] SCROLL, FETCH and MOVE in every direction, compared with
PostgreSQL 15 statement by statement (rows, tags, errors), and psycopg's named cursors
(`scroll()` issues MOVE, `scrollable=False` declares NO SCROLL)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

SETUP = ("DROP TABLE IF EXISTS scroll_t; CREATE TABLE scroll_t (i int PRIMARY KEY, s text); "
         "INSERT INTO scroll_t SELECT g, 'r' || g FROM generate_series(1, 5) g")

SCRIPT = """
BEGIN
DECLARE s SCROLL CURSOR FOR SELECT i, s FROM scroll_t ORDER BY i
FETCH FORWARD 0 FROM s
FETCH 2 FROM s
FETCH FORWARD 0 FROM s
MOVE FORWARD ALL IN s
FETCH PRIOR FROM s
FETCH ABSOLUTE -2 FROM s
FETCH RELATIVE 0 FROM s
FETCH RELATIVE -1 FROM s
MOVE ABSOLUTE 0 IN s
MOVE BACKWARD ALL IN s
MOVE ABSOLUTE 3 IN s
MOVE RELATIVE 10 IN s
FETCH BACKWARD ALL FROM s
MOVE LAST IN s
FETCH FIRST FROM s
FETCH -2 FROM s
FETCH ABSOLUTE 9 FROM s
FETCH BACKWARD 2 FROM s
MOVE 0 IN s
MOVE RELATIVE 0 IN s
FETCH LAST FROM s
MOVE BACKWARD 10 IN s
FETCH NEXT FROM s
FETCH ALL FROM s
FETCH ABSOLUTE 2 FROM s
FETCH RELATIVE 2 FROM s
MOVE BACKWARD 1 FROM s
FETCH FORWARD 3 FROM s
CLOSE s
DECLARE d CURSOR FOR SELECT i FROM scroll_t WHERE i > 1 ORDER BY i
FETCH 2 FROM d
FETCH PRIOR FROM d
FETCH LAST FROM d
DECLARE g CURSOR FOR SELECT count(*) FROM scroll_t
FETCH 1 FROM g
FETCH PRIOR FROM g
ROLLBACK
BEGIN
DECLARE n NO SCROLL CURSOR FOR SELECT i FROM scroll_t ORDER BY i
FETCH 2 FROM n
FETCH ABSOLUTE 4 FROM n
MOVE RELATIVE 0 IN n
FETCH FORWARD 0 FROM n
ROLLBACK
BEGIN
DECLARE n NO SCROLL CURSOR FOR SELECT i FROM scroll_t ORDER BY i
FETCH 3 FROM n
FETCH ABSOLUTE 1 FROM n
ROLLBACK
BEGIN
DECLARE u SCROLL CURSOR FOR SELECT i FROM scroll_t FOR UPDATE
ROLLBACK
DECLARE h SCROLL CURSOR WITH HOLD FOR SELECT i FROM scroll_t ORDER BY i
FETCH LAST FROM h
FETCH BACKWARD 2 FROM h
FETCH ABSOLUTE 1 FROM h
CLOSE h
"""


def _transcript(dsn: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SETUP)
        for sql in filter(None, (line.strip() for line in SCRIPT.splitlines())):
            try:
                cur = conn.execute(sql)
                rows = cur.fetchall() if cur.description is not None else None
                out.append((sql, cur.statusmessage, rows))
            except psycopg.Error as err:
                out.append((sql, err.sqlstate, err.diag.message_primary, err.diag.message_hint,
                            err.diag.message_detail))
    return out


def test_fetch_and_move_as_postgresql(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    expected = _transcript(pg_oracle.dsn)
    got = _transcript(instance.dsn)
    assert got == expected
    assert ("FETCH PRIOR FROM g", "55000", "cursor can only scan forward",
            "Declare it with SCROLL option to enable backward scan.", None) in got


def _scrolled(dsn: str) -> list[Any]:
    seen: list[Any] = []
    with psycopg.connect(dsn) as conn:
        conn.execute(SETUP)
        conn.commit()
        with conn.cursor("named_scroll", scrollable=True) as cur:
            cur.execute("SELECT i FROM scroll_t ORDER BY i")
            seen.append(cur.fetchmany(3))
            cur.scroll(-2)
            seen.append(cur.fetchone())
            cur.scroll(0, mode="absolute")
            seen.append(cur.fetchall())
            cur.scroll(1, mode="absolute")
            seen.append(cur.fetchone())
            cur.scroll(-3)
            seen.append(cur.fetchmany(2))
        conn.rollback()
        with conn.cursor("named_forward", scrollable=False) as cur:
            cur.execute("SELECT i FROM scroll_t ORDER BY i")
            seen.append(cur.fetchmany(2))
            cur.scroll(2)
            seen.append(cur.fetchone())
            with pytest.raises(psycopg.Error) as err:
                cur.scroll(-1)
            seen.append((err.value.sqlstate, err.value.diag.message_primary))
        conn.rollback()
    return seen


def test_psycopg_named_cursor_scroll(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    expected = _scrolled(pg_oracle.dsn)
    got = _scrolled(instance.dsn)
    assert got == expected
    assert got[-1] == ("55000", "cursor can only scan forward")
