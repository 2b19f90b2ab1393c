"""ORDER BY ... LIMIT read in an index's order (planner.indexorder): EXPLAIN shows the index scan
and no sort, the scan stops after a few index entries (pg_stat_user_indexes' idx_tup_read, not
the table's 20,000), and every result is PostgreSQL 15's, NULLs and ties included; the shapes the
rule must leave alone keep their sort."""

from __future__ import annotations

import pathlib

import psycopg
import pytest

from tests.sql.runner import EngineSession

TABLES = (
    "CREATE TABLE io_t (id int PRIMARY KEY, grp int, pos int, name text, score numeric)",
    "CREATE INDEX io_t_grp_pos ON io_t (grp, pos)",
    "CREATE INDEX io_t_name ON io_t (name)",
    "INSERT INTO io_t SELECT g, g % 50, g / 50, CASE WHEN g % 7 = 0 THEN NULL ELSE 'n' || (g % 900) END, "
    "g % 13 FROM generate_series(1, 20000) g",
)
ORDERED = [  # (query, index the scan uses)
    ("SELECT id, name FROM io_t ORDER BY id LIMIT 5", "io_t_pkey"),
    ("SELECT * FROM io_t ORDER BY id LIMIT 3 OFFSET 10", "io_t_pkey"),
    ("SELECT id FROM io_t WHERE id > 12345 ORDER BY id LIMIT 4", "io_t_pkey"),
    ("SELECT id FROM io_t WHERE id >= 100 AND id < 110 ORDER BY id LIMIT 20", "io_t_pkey"),
    ("SELECT id, pos FROM io_t WHERE grp = 7 ORDER BY pos LIMIT 5", "io_t_grp_pos"),
    ("SELECT id, pos FROM io_t WHERE grp = 7 ORDER BY grp, pos LIMIT 5", "io_t_grp_pos"),
    ("SELECT grp, pos, id FROM io_t ORDER BY grp, pos LIMIT 6", "io_t_grp_pos"),
    ("SELECT grp FROM io_t ORDER BY grp LIMIT 3", "io_t_grp_pos"),
    ("SELECT name, id FROM io_t ORDER BY name LIMIT 5", "io_t_name"),
    ("SELECT upper(name) AS u, id * 2 FROM io_t ORDER BY id LIMIT 3", "io_t_pkey"),
]
KEEP_SORT = [  # the rule does not apply: a sort (or no index) stays
    "SELECT id FROM io_t ORDER BY id DESC LIMIT 5",
    "SELECT id FROM io_t ORDER BY pos, id LIMIT 5",
    "SELECT id FROM io_t WHERE score = 3 ORDER BY id LIMIT 5",
    "SELECT id FROM io_t ORDER BY name NULLS FIRST, id LIMIT 5",
    "SELECT id FROM io_t ORDER BY id + 0 LIMIT 5",
    "SELECT id, pos FROM io_t ORDER BY pos, grp LIMIT 5",
]


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    for sql in TABLES:
        await s.query(sql)
    await s.query("ANALYZE io_t")
    yield s
    await s.stop()


@pytest.fixture(scope="module")
def oracle(oracle_conn: psycopg.Connection):
    oracle_conn.execute("DROP TABLE IF EXISTS io_t")
    for sql in TABLES:
        oracle_conn.execute(sql)
    oracle_conn.execute("ANALYZE io_t")
    yield oracle_conn
    oracle_conn.execute("DROP TABLE IF EXISTS io_t")


async def _explain(session: EngineSession, sql: str) -> list[str]:
    return [r[0] for r in (await session.query("EXPLAIN " + sql))[1]]


async def _entries_read(session: EngineSession) -> int:
    rows = (await session.query("SELECT sum(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'io_t'"))[1]
    return int(rows[0][0])


async def test_limit_reads_the_index_in_order(session: EngineSession, oracle: psycopg.Connection) -> None:
    for sql, index in ORDERED:
        lines = await _explain(session, sql)
        assert not any("Sort" in line for line in lines), (sql, lines)
        assert any(f"Index Scan using {index} on io_t" in line for line in lines), (sql, lines)
        before = await _entries_read(session)
        ours = (await session.query(sql))[1]
        read = await _entries_read(session) - before
        assert 0 < read <= 2100, (sql, read)  # a batch of entries or two, never the 20,000 rows
        assert ours == [tuple(r) for r in oracle.execute(sql).fetchall()], sql


async def test_nulls_come_last_in_index_order(session: EngineSession, oracle: psycopg.Connection) -> None:
    # the last rows by name are the NULLs (every seventh id): an index walk past every name
    sql = "SELECT name, id FROM io_t ORDER BY name LIMIT 3 OFFSET 17142"
    assert not any("Sort" in line for line in await _explain(session, sql))
    ours = (await session.query(sql))[1]
    assert [r[0] for r in ours] == ["n99", None, None]
    assert ours[:1] == [tuple(r) for r in oracle.execute(sql).fetchall()][:1]


async def test_other_shapes_keep_their_sort(session: EngineSession, oracle: psycopg.Connection) -> None:
    for sql in KEEP_SORT:
        lines = await _explain(session, sql)
        assert any("Sort" in line for line in lines), (sql, lines)
        assert (await session.query(sql))[1] == [tuple(r) for r in oracle.execute(sql).fetchall()], sql


async def test_rows_written_during_an_ordered_update_are_not_seen_again(session: EngineSession,
                                                                        oracle: psycopg.Connection) -> None:
    # a key range read while the statement moves its rows further up the same index: each row
    # is updated once (the new versions are the statement's own, which its snapshot does not see)
    sql = "UPDATE io_t SET id = id + 100000 WHERE id > 19000"
    for target in (session, None):
        if target is None:
            oracle.execute("BEGIN")
            oracle.execute(sql)
            expected = oracle.execute("SELECT count(*), min(id), max(id) FROM io_t WHERE id > 100000").fetchone()
            oracle.execute("ROLLBACK")
        else:
            await target.query(sql)
            got = (await target.query("SELECT count(*), min(id), max(id) FROM io_t WHERE id > 100000"))[1][0]
    assert got == tuple(expected)
