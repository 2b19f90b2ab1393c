"""COPY support: COPY FROM rows go through INSERT's defaults and constraints; COPY TO is a row plan."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from pgaurora.errors import PgError
from pgaurora.executor import ExecContext, run
from pgaurora.planner import parse, plan
from tests.sql.runner import EngineSession


async def _rows(items: list[list[str | None]]) -> AsyncIterator[list[str | None]]:
    for item in items:
        yield item


async def _copy_in(session: EngineSession, sql: str, items: list[list[str | None]]) -> str:
    txn = session.engine.txns.begin()
    p = plan(parse(sql)[0], session.catalog, (), txn=txn)
    ctx = ExecContext(txn, session.engine.storage, session.catalog, extra={"copy_rows": _rows(items)})
    try:
        cursor = await run(p, (), ctx)
        await cursor.fetch(0)
    except BaseException:
        await txn.abort()
        raise
    await txn.commit()
    assert cursor.tag is not None
    return cursor.tag


async def test_copy_from_and_to(tmp_path: pathlib.Path) -> None:
    session = await EngineSession.start(tmp_path)
    await session.query("CREATE TABLE c (id int PRIMARY KEY, name text NOT NULL, n int DEFAULT 42)")
    tag = await _copy_in(session, "COPY c (id, name) FROM STDIN", [["1", "a"], ["2", "b"]])
    assert tag == "COPY 2"
    assert (await session.query("SELECT * FROM c ORDER BY id"))[1] == [(1, "a", 42), (2, "b", 42)]
    with pytest.raises(PgError) as info:
        await _copy_in(session, "COPY c FROM STDIN", [["3", "c", "1"], ["1", "dup", "1"]])
    assert info.value.sqlstate == "23505"
    with pytest.raises(PgError) as info:
        await _copy_in(session, "COPY c FROM STDIN", [["x", "c", "1"]])
    assert info.value.sqlstate == "22P02" and info.value.where == "COPY, line 1"
    with pytest.raises(PgError) as info:
        await _copy_in(session, "COPY c (id, name) FROM STDIN", [["4", None]])
    assert info.value.sqlstate == "23502"
    txn = session.engine.txns.begin()
    p = plan(parse("COPY c TO STDOUT")[0], session.catalog, (), txn=txn)
    cursor = await run(p, (), ExecContext(txn, session.engine.storage, session.catalog))
    assert sorted(await cursor.fetch(0)) == [(1, "a", 42), (2, "b", 42)] and cursor.tag == "COPY 2"
    p = plan(parse("COPY (SELECT id * 10 FROM c WHERE id = 2) TO STDOUT")[0], session.catalog, (), txn=txn)
    cursor = await run(p, (), ExecContext(txn, session.engine.storage, session.catalog))
    assert await cursor.fetch(0) == [(20,)] and cursor.tag == "COPY 1"
    await txn.abort()
    await session.stop()
