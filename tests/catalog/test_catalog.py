"""The catalog lives in the volume: DDL survives a writer restart, is transactional, and oids are never reused."""

from __future__ import annotations

import pathlib

from pgaurora.catalog.catalog import Catalog
from pgaurora.catalog.model import Role, Table
from tests.pagecache.harness import Engine
from tests.sql.runner import EngineSession


async def test_definitions_and_rows_survive_reopen(tmp_path: pathlib.Path) -> None:
    session = await EngineSession.start(tmp_path)
    await session.query("CREATE TABLE kept (id int PRIMARY KEY, v text)")
    await session.query("INSERT INTO kept VALUES (1, 'a'), (2, 'b')")
    await session.query("CREATE SEQUENCE kept_seq")
    assert (await session.query("SELECT nextval('kept_seq')"))[1] == [(1,)]
    oid_before = session.catalog.current().relation("kept").oid
    await session.engine.crash_writer()
    await session.engine.reopen()
    catalog = await Catalog.open(session.engine.storage, session.engine.txns)
    session.catalog = catalog
    table = catalog.current().relation("kept")
    assert isinstance(table, Table) and table.oid == oid_before
    assert [c.name for c in table.columns] == ["id", "v"]
    _, rows, _ = await session.query("SELECT v FROM kept WHERE id = 2")
    assert rows == [("b",)]
    # sequence numbering continues past what was handed out before the crash
    _, rows, _ = await session.query("SELECT nextval('kept_seq')")
    assert rows[0][0] > 1
    # oids allocated after the restart are new
    await session.query("CREATE TABLE later (x int)")
    assert catalog.current().relation("later").oid > oid_before
    await session.stop()


async def test_rolled_back_create_table_leaves_nothing(tmp_path: pathlib.Path) -> None:
    session = await EngineSession.start(tmp_path)
    await session.query("BEGIN")
    await session.query("CREATE TABLE temp_t (id int)")
    await session.query("INSERT INTO temp_t VALUES (1)")
    assert (await session.query("SELECT count(*) FROM temp_t"))[1] == [(1,)]
    # other transactions do not see the uncommitted table
    assert session.catalog.state_for(None).relation("temp_t") is None
    await session.query("ROLLBACK")
    await session.catalog.sync()
    assert session.catalog.current().relation("temp_t") is None
    await session.query("CREATE TABLE temp_t (id int)")  # the name is free again
    await session.stop()


async def test_committed_ddl_is_seen_after_reload(tmp_path: pathlib.Path) -> None:
    engine = await Engine.start(tmp_path)
    first = await Catalog.open(engine.storage, engine.txns)
    second = await Catalog.open(engine.storage, engine.txns)  # another instance's cache of the same volume
    session = EngineSession(engine, first)
    await session.query("CREATE TABLE shared (id int)")
    assert second.current().relation("shared") is None
    await second.reload()
    assert second.current().relation("shared") is not None
    await engine.stop()


async def test_roles_api(tmp_path: pathlib.Path) -> None:
    engine = await Engine.start(tmp_path)
    catalog = await Catalog.open(engine.storage, engine.txns)
    postgres = catalog.get_role("postgres")
    assert postgres is not None and postgres.superuser and postgres.login
    txn = engine.txns.begin()
    bob = await catalog.create_role(txn, Role(0, "bob", password="SCRAM-SHA-256$4096:x$y:z"))
    await txn.commit()
    await catalog.sync()
    assert catalog.get_role("bob") == bob and bob.oid >= 16384
    txn = engine.txns.begin()
    from dataclasses import replace

    await catalog.alter_role(txn, replace(bob, superuser=True))
    await txn.commit()
    await catalog.sync()
    assert catalog.get_role("bob").superuser
    txn = engine.txns.begin()
    await catalog.drop_role(txn, "bob")
    await txn.commit()
    await catalog.sync()
    assert catalog.get_role("bob") is None
    await engine.stop()


async def test_sql_roles_and_truncate_is_transactional(tmp_path: pathlib.Path) -> None:
    session = await EngineSession.start(tmp_path)
    await session.query("CREATE ROLE alice LOGIN SUPERUSER")
    await session.catalog.sync()
    assert session.catalog.get_role("alice").superuser
    await session.query("CREATE TABLE tr (id int PRIMARY KEY)")
    await session.query("INSERT INTO tr VALUES (1), (2)")
    await session.query("BEGIN")
    await session.query("TRUNCATE tr")
    assert (await session.query("SELECT count(*) FROM tr"))[1] == [(0,)]
    await session.query("ROLLBACK")
    await session.catalog.sync()
    assert (await session.query("SELECT count(*) FROM tr"))[1] == [(2,)]
    assert (await session.query("SELECT id FROM tr WHERE id = 2"))[1] == [(2,)]
    await session.stop()


async def test_temporary_tables_are_per_backend_and_dropped(tmp_path: pathlib.Path) -> None:
    one = await EngineSession.start(tmp_path)
    one.pid = 101
    two = EngineSession(one.engine, one.catalog, pid=202)
    await one.query("CREATE TABLE shared_name (v text)")
    await one.query("INSERT INTO shared_name VALUES ('permanent')")
    await one.query("CREATE TEMP TABLE shared_name (v text)")
    await one.query("INSERT INTO shared_name VALUES ('temporary')")
    assert (await one.query("SELECT v FROM shared_name"))[1] == [("temporary",)]
    assert (await two.query("SELECT v FROM shared_name"))[1] == [("permanent",)]
    assert (await one.query("SELECT v FROM public.shared_name"))[1] == [("permanent",)]
    await one.catalog.drop_temp_relations(101)
    assert (await one.query("SELECT v FROM shared_name"))[1] == [("permanent",)]
    await two.query("CREATE TEMP TABLE scratch AS SELECT 1 AS x")
    # a restarted instance has no sessions: leftover temporary tables are dropped when it opens
    await one.engine.crash_writer()
    await one.engine.reopen()
    catalog = await Catalog.open(one.engine.storage, one.engine.txns)
    assert not catalog.current().temp_schemas
    assert catalog.current().relation("shared_name") is not None
    await one.stop()
