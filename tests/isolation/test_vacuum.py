"""Dead tuple versions under a steady update load: pruning and vacuum keep the table bounded.

In-process (tests.sql.runner.EngineSession): several sessions update random rows while the
heap's page count and the index size are watched; VACUUM with every index removes dead entries
and gives back empty item pointers at the end of pages, and new versions reuse the emptied
slots; a snapshot still in use keeps the versions it sees. SQL VACUUM in PostgreSQL's forms.
A ~16 s soak (autovacuum with index cleanup + VACUUM between rounds) runs in the normal suite;
the several-minute one is marked long. The HOT soaks run no vacuum at all: updates that leave
every indexed column alone are heap-only, pruning frees their dead versions' slots and the next
versions take them, so the page count must not move once the first round filled the pages.
"""

from __future__ import annotations

import asyncio
import pathlib
import random
import time

import pytest

from pgaurora.access.vacuum import vacuum
from pgaurora.errors import PgError
from pgaurora.executor.maintenance import index_resolver
from tests.sql.runner import EngineSession


async def _table(s: EngineSession, rows: int, name: str = "soak") -> tuple[object, list[object]]:
    await s.query(f"CREATE TABLE {name} (id int PRIMARY KEY, v int NOT NULL, pad text)")
    await s.query(f"INSERT INTO {name} SELECT g, 0, repeat('x', 100) FROM generate_series(1, {rows}) g")
    state = s.catalog.current()
    table = state.relation(name)
    storage = s.engine.storage
    return storage.heap(table.rel_id), [storage.btree(ix.rel_id) for ix in state.indexes(table.oid)]


async def _update_load(s: EngineSession, rows: int, seconds: float, max_updates: int, workers: int = 3) -> int:
    """Random single-row increments from `workers` sessions; returns how many committed."""
    deadline = time.monotonic() + seconds
    done = 0

    async def worker(seed: int) -> None:
        nonlocal done
        session = EngineSession(s.engine, s.catalog)
        rng = random.Random(seed)
        while time.monotonic() < deadline and done < max_updates:
            await session.query(f"UPDATE soak SET v = v + 1 WHERE id = {rng.randint(1, rows)}")
            done += 1

    await asyncio.gather(*(worker(i) for i in range(workers)))
    return done


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    yield s
    await s.stop()


async def test_update_load_keeps_the_heap_bounded(session):
    rows = 200
    heap, indexes = await _table(session, rows)
    start_pages = await heap.count_pages()
    done = await _update_load(session, rows, seconds=6, max_updates=600)
    assert done > 100
    # dead versions are pruned from full pages as updates need room: no page per N updates
    assert await heap.count_pages() <= start_pages + 2
    assert (await session.query("SELECT sum(v), count(*) FROM soak"))[1] == [(done, rows)]
    result = await vacuum(heap, indexes, session.engine.txns.oldest_xmin(), all_indexes=True)
    assert result.kept_tuples == rows
    assert len(await indexes[0].entries()) == rows  # every dead entry is gone from the index


async def test_vacuum_reclaims_only_what_no_snapshot_sees(session):
    # a reader's snapshot keeps the versions it sees; once it is gone, vacuum takes them
    heap, indexes = await _table(session, 20, "held")
    reader = EngineSession(session.engine, session.catalog)
    reader.txn = session.engine.txns.begin("repeatable read")  # as BEGIN ISOLATION LEVEL REPEATABLE READ
    assert (await reader.query("SELECT sum(v) FROM held"))[1] == [(0,)]
    await session.query("UPDATE held SET v = v + 1")
    kept = await vacuum(heap, indexes, session.engine.txns.oldest_xmin(), all_indexes=True)
    assert kept.removed_tuples == 0
    assert (await reader.query("SELECT sum(v) FROM held WHERE id <= 20"))[1] == [(0,)]
    await reader.query("COMMIT")
    freed = await vacuum(heap, indexes, session.engine.txns.oldest_xmin(), all_indexes=True)
    assert freed.removed_tuples == 20
    assert (await session.query("SELECT sum(v) FROM held"))[1] == [(20,)]

    # with every index cleaned, the empty item pointers at the end of a page are given back
    heap, indexes = await _table(session, 40, "tail")
    pages = (await heap._ready()).pages
    tail = len((await heap.cache.read(pages[-1])).items)
    await session.query("DELETE FROM tail WHERE id > 30")
    result = await vacuum(heap, indexes, session.engine.txns.oldest_xmin(), all_indexes=True)
    assert result.removed_tuples == 10 and result.truncated_slots >= 10
    assert len((await heap.cache.read(pages[-1])).items) <= tail - 10
    # slot numbers are handed out again: index lookups must find only the new rows
    await session.query("INSERT INTO tail SELECT g, g, 'new' FROM generate_series(31, 45) g")
    for key in (31, 35, 40, 45):
        assert (await session.query(f"SELECT id, v, pad FROM tail WHERE id = {key}"))[1] == [(key, key, "new")]
    assert (await session.query("SELECT count(*) FROM tail"))[1] == [(45,)]


async def _soak(s: EngineSession, seconds: float, per_round: int, max_pages: int) -> None:
    """Rounds of `per_round` updates, each followed by autovacuum (index cleanup included: the
    engine gives storage an index resolver) and SQL VACUUM. Between passes pruned slots cannot be
    reused (an index entry may point at them), so the first round grows the heap by about a page
    per ~1900 updates; after that a steady load must not grow it: vacuum hands the slots back."""
    rows = 60
    heap, indexes = await _table(s, rows)
    s.engine.storage.index_resolver = index_resolver(s.catalog)  # as session.engine.Engine does
    start_pages = await heap.count_pages()
    deadline = time.monotonic() + seconds
    total = rounds = 0
    history: list[int] = []
    while time.monotonic() < deadline and rounds < 1000:
        rounds += 1
        total += await _update_load(s, rows, seconds=max(seconds, 60), max_updates=per_round)
        assert await s.engine.storage.autovacuum_once(threshold=0) >= 1
        assert len(await indexes[0].entries()) == rows  # autovacuum removed the dead entries
        assert (await s.query("VACUUM soak"))[2] == "VACUUM"
        history.append(await heap.count_pages())
        assert history[-1] <= start_pages + max_pages, (rounds, total, history)
    # steady state: the last rounds add no more than a page to what the first three reached
    assert history[-1] <= history[min(2, len(history) - 1)] + 1, history
    assert sum(len(slots) for slots in heap.unused_slots.values()) > 0  # slots are being handed out
    assert (await s.query("SELECT sum(v), count(*) FROM soak"))[1] == [(total, rows)]
    assert (await s.query("SELECT count(*) FROM soak WHERE id BETWEEN 1 AND 60"))[1] == [(rows,)]


async def test_soak_bounded(session):
    await _soak(session, seconds=16, per_round=1500, max_pages=2)


@pytest.mark.long
async def test_soak_several_minutes(session):
    await _soak(session, seconds=240, per_round=5000, max_pages=4)


async def _hot_soak(s: EngineSession, seconds: float, per_round: int) -> list[int]:
    """Rounds of `per_round` single-row updates of an unindexed column and no vacuum: the page
    count after the first round stays where it is, and the index gets no new entries."""
    rows = 60
    heap, indexes = await _table(s, rows)
    deadline = time.monotonic() + seconds
    total = rounds = 0
    history: list[int] = []
    slots: list[int] = []
    while time.monotonic() < deadline and rounds < 1000:
        rounds += 1
        total += await _update_load(s, rows, seconds=max(seconds, 60), max_updates=per_round)
        history.append(await heap.count_pages())
        pages = (await heap._ready()).pages
        slots.append(max([len((await heap.cache.read(p)).items) for p in pages]))
        assert history[-1] == history[0], (rounds, total, history)
        assert slots[-1] <= max(slots[0], 150), (rounds, total, slots)  # item pointers do not pile up
    assert rounds >= 2 and total >= 2 * per_round
    assert heap.tuples_hot_updated >= total * 0.9, (heap.tuples_hot_updated, total)
    assert len(await indexes[0].entries()) <= rows + total * 0.1  # (non-HOT ones add an entry)
    assert (await s.query("SELECT sum(v), count(*) FROM soak"))[1] == [(total, rows)]
    assert (await s.query("SELECT count(*) FROM soak WHERE id BETWEEN 1 AND 60"))[1] == [(rows,)]
    return history


async def test_hot_soak_bounded_without_vacuum(session):
    await _hot_soak(session, seconds=12, per_round=800)


@pytest.mark.long
async def test_hot_soak_several_minutes_without_vacuum(session):
    await _hot_soak(session, seconds=240, per_round=4000)


async def test_sql_vacuum_forms(session):
    heap, indexes = await _table(session, 30, "forms")
    await session.query("CREATE MATERIALIZED VIEW forms_mv AS SELECT id FROM forms")
    await session.query("DELETE FROM forms WHERE id <= 10")
    assert len(await indexes[0].entries()) == 30
    for sql in ("VACUUM forms", "VACUUM (VERBOSE) forms", "VACUUM VERBOSE ANALYZE forms", "VACUUM (FULL, ANALYZE)",
                "VACUUM", "VACUUM forms, forms_mv"):
        assert (await session.query(sql))[2] == "VACUUM"
    assert len(await indexes[0].entries()) == 20  # the index was cleaned along with the heap
    assert sum(len(slots) for slots in heap.unused_slots.values()) == 10
    await session.query("INSERT INTO forms SELECT g, 1, 'again' FROM generate_series(1, 10) g")
    assert (await session.query("SELECT count(*), sum(v) FROM forms WHERE id BETWEEN 1 AND 30"))[1] == [(30, 10)]
    assert (await session.query("SELECT pad FROM forms WHERE id = 5"))[1] == [("again",)]
    with pytest.raises(PgError) as missing:
        await session.query("VACUUM nosuch")
    assert missing.value.sqlstate == "42P01" and str(missing.value) == 'relation "nosuch" does not exist'
    with pytest.raises(PgError) as option:
        await session.query("VACUUM (bogus) forms")
    assert option.value.sqlstate == "42601" and str(option.value) == 'unrecognized VACUUM option "bogus"'
