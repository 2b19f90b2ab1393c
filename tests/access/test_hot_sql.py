"""HOT updates through SQL: which UPDATEs are heap-only, and every index still finds the rows."""

from __future__ import annotations

import pathlib

import pytest

from tests.sql.runner import EngineSession


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    yield s
    await s.stop()


def _storage(s: EngineSession, name: str):
    state = s.catalog.current()
    table = state.relation(name)
    storage = s.engine.storage
    return storage.heap(table.rel_id), {ix.name: storage.btree(ix.rel_id) for ix in state.indexes(table.oid)}


async def test_updates_of_unindexed_columns_are_hot(session):
    s = session
    await s.query("CREATE TABLE acct (id int PRIMARY KEY, owner text, balance int, note text)")
    await s.query("CREATE INDEX acct_owner ON acct (owner)")
    await s.query("INSERT INTO acct SELECT g, 'o' || (g % 3), 0, 'n' FROM generate_series(1, 30) g")
    heap, indexes = _storage(s, "acct")
    for n in range(20):
        await s.query(f"UPDATE acct SET balance = balance + 1, note = 'n{n}' WHERE id = {n % 5 + 1}")
    assert heap.tuples_hot_updated == 20
    assert [len(await ix.entries()) for ix in indexes.values()] == [30, 30]
    assert (await s.query("SELECT id, balance, note FROM acct WHERE id = 1"))[1] == [(1, 4, "n15")]
    assert (await s.query("SELECT sum(balance) FROM acct WHERE owner = 'o1'"))[1] == [(8,)]
    # an indexed column changes: new entries in every index, as PostgreSQL
    await s.query("UPDATE acct SET owner = 'x' WHERE id = 2")
    assert heap.tuples_hot_updated == 20 and heap.tuples_updated == 21
    assert [len(await ix.entries()) for ix in indexes.values()] == [31, 31]
    assert (await s.query("SELECT id FROM acct WHERE owner = 'x'"))[1] == [(2,)]
    assert (await s.query("SELECT count(*) FROM acct WHERE owner = 'o2'"))[1] == [(9,)]
    # unique checks see through HOT chains
    err = None
    try:
        await s.query("INSERT INTO acct VALUES (1, 'y', 0, 'dup')")
    except Exception as exc:  # noqa: BLE001 - checked below
        err = exc
    assert getattr(err, "sqlstate", None) == "23505"
    await s.query("INSERT INTO acct VALUES (1, 'y', 0, 'dup') ON CONFLICT (id) DO UPDATE SET note = 'upserted'")
    assert (await s.query("SELECT note, balance FROM acct WHERE id = 1"))[1] == [("upserted", 4)]
    # a new index over rows with HOT chains points at the chains' roots
    await s.query("CREATE INDEX acct_note ON acct (note)")
    assert (await s.query("SELECT id FROM acct WHERE note = 'n19'"))[1] == [(5,)]
    assert (await s.query("SELECT id FROM acct WHERE note = 'upserted'"))[1] == [(1,)]
    await s.query("UPDATE acct SET balance = balance + 100 WHERE note = 'n19'")
    assert (await s.query("SELECT balance FROM acct WHERE id = 5"))[1] == [(104,)]


async def test_expression_and_partial_indexes_decide_hot_by_their_keys(session):
    s = session
    await s.query("CREATE TABLE u (id int PRIMARY KEY, email text, active bool, visits int)")
    await s.query("CREATE UNIQUE INDEX u_email ON u (lower(email)) WHERE active")
    await s.query("INSERT INTO u VALUES (1, 'A@x', true, 0), (2, 'b@x', false, 0)")
    heap, _ = _storage(s, "u")
    await s.query("UPDATE u SET visits = visits + 1 WHERE id = 1")
    await s.query("UPDATE u SET email = 'a@X' WHERE id = 1")  # same lower(): same key
    assert heap.tuples_hot_updated == 2
    await s.query("UPDATE u SET active = true WHERE id = 2")  # enters the partial index
    assert heap.tuples_hot_updated == 2
    assert (await s.query("SELECT id FROM u WHERE lower(email) = 'b@x' AND active"))[1] == [(2,)]
    assert (await s.query("SELECT id, visits FROM u WHERE lower(email) = 'a@x' AND active"))[1] == [(1, 1)]
