"""Two sessions on one volume: row locks, SKIP LOCKED, and READ COMMITTED re-checks of updated rows."""

from __future__ import annotations

import asyncio
import pathlib

import pytest

from pgaurora.errors import PgError
from tests.sql.runner import EngineSession


@pytest.fixture
async def pair(tmp_path: pathlib.Path):
    first = await EngineSession.start(tmp_path)
    second = EngineSession(first.engine, first.catalog)
    await first.query("CREATE TABLE jobs (id int PRIMARY KEY, state text, n int)")
    await first.query("INSERT INTO jobs VALUES (1, 'new', 0), (2, 'new', 0), (3, 'done', 0)")
    yield first, second
    if second.txn is not None:
        await second.txn.abort()
    await first.stop()


async def test_skip_locked_takes_the_next_job(pair: tuple[EngineSession, EngineSession]) -> None:
    a, b = pair
    await a.query("BEGIN")
    await b.query("BEGIN")
    sql = "SELECT id FROM jobs WHERE state = 'new' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    assert (await a.query(sql))[1] == [(1,)]
    assert (await b.query(sql))[1] == [(2,)]
    with pytest.raises(PgError) as info:
        await b.query("SELECT id FROM jobs WHERE id = 1 FOR UPDATE NOWAIT")
    assert info.value.sqlstate == "55P03"
    await a.query("COMMIT")
    await b.query("ROLLBACK")


async def test_read_committed_update_waits_and_rechecks(pair: tuple[EngineSession, EngineSession]) -> None:
    a, b = pair
    await a.query("BEGIN")
    await a.query("UPDATE jobs SET n = n + 1 WHERE id IN (1, 2)")
    await b.query("BEGIN")
    # both rows match b's snapshot (n = 0); b waits for a, then re-evaluates the newest versions
    blocked = asyncio.ensure_future(b.query("UPDATE jobs SET n = n + 10 WHERE (id = 1) OR (id = 2 AND n = 0)"))
    done, _ = await asyncio.wait({blocked}, timeout=0.2)
    assert not done  # waits for the first writer
    await a.query("COMMIT")
    _, _, tag = await asyncio.wait_for(blocked, 10)
    assert tag == "UPDATE 1"  # row 2 no longer satisfies n = 0
    await b.query("COMMIT")
    assert (await a.query("SELECT id, n FROM jobs WHERE id < 3 ORDER BY id"))[1] == [(1, 11), (2, 1)]


async def test_repeatable_read_write_conflict(pair: tuple[EngineSession, EngineSession]) -> None:
    a, b = pair
    b.txn = b.engine.txns.begin("repeatable read")
    assert (await b.query("SELECT n FROM jobs WHERE id = 2"))[1] == [(0,)]
    await a.query("UPDATE jobs SET n = 5 WHERE id = 2")
    with pytest.raises(PgError) as info:
        await b.query("UPDATE jobs SET n = n + 1 WHERE id = 2")
    assert info.value.sqlstate == "40001"
    await b.query("ROLLBACK")
