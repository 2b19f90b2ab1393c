"""ORDER BY ... LIMIT read in an index's order (planner.indexorder), forward or backward: EXPLAIN
shows the index scan and no sort, the scan stops after a few index entries (pg_stat_user_indexes' idx_tup_read, not
the table's 20,000), and every result is PostgreSQL 15's, NULLs and ties included; the shapes the
rule must leave alone keep their sort."""

from __future__ import annotations

import pathlib

import psycopg
import pytest

from tests.pgoracle import oracle_tables
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
    # descending with NULLs first (DESC's default): the same indexes read backward
    ("SELECT id, name FROM io_t ORDER BY id DESC LIMIT 5", "io_t_pkey"),
    ("SELECT id FROM io_t WHERE id < 12345 ORDER BY id DESC LIMIT 4", "io_t_pkey"),
    ("SELECT id FROM io_t WHERE id > 19990 ORDER BY id DESC LIMIT 40", "io_t_pkey"),
    ("SELECT id, pos FROM io_t WHERE grp = 7 ORDER BY pos DESC LIMIT 5", "io_t_grp_pos"),
    ("SELECT grp, pos, id FROM io_t ORDER BY grp DESC, pos DESC LIMIT 6", "io_t_grp_pos"),
    ("SELECT name, id FROM io_t ORDER BY name DESC LIMIT 5", "io_t_name"),
    ("SELECT name FROM io_t ORDER BY name DESC NULLS FIRST LIMIT 3 OFFSET 2855", "io_t_name"),  # ties: names only
]
KEEP_SORT = [  # the rule does not apply: a sort (or no index) stays
    "SELECT id FROM io_t ORDER BY id DESC NULLS LAST LIMIT 5",
    "SELECT grp, pos, id FROM io_t ORDER BY grp, pos DESC, id LIMIT 5",
    "SELECT id FROM io_t ORDER BY pos, id LIMIT 5",
    "SELECT id FROM io_t WHERE score = 3 ORDER BY id LIMIT 5",
    "SELECT id FROM io_t ORDER BY name NULLS FIRST, id LIMIT 5",
    "SELECT id FROM io_t ORDER BY id + 0 LIMIT 5",
    "SELECT id, pos FROM io_t ORDER BY pos, grp LIMIT 5",
]


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path, TABLES + ("ANALYZE io_t",))
    yield s
    await s.stop()


@pytest.fixture(scope="module")
def oracle(oracle_conn: psycopg.Connection):
    with oracle_tables(oracle_conn, "io_t", TABLES + ("ANALYZE io_t",)) as conn:
        yield conn


async def _explain(session: EngineSession, sql: str) -> list[str]:
    return [r[0] for r in (await session.query("EXPLAIN " + sql))[1]]


async def _entries_read(session: EngineSession) -> int:
    rows = (await session.query("SELECT sum(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'io_t'"))[1]
    return int(rows[0][0])


async def test_limit_reads_the_index_in_order(session: EngineSession, oracle: psycopg.Connection) -> None:
    for sql, index in ORDERED:
        lines = await _explain(session, sql)
        assert not any("Sort" in line for line in lines), (sql, lines)
        scan = "Index Scan Backward" if " DESC" in sql else "Index Scan"
        assert any(f"{scan} using {index} on io_t" in line for line in lines), (sql, lines)
        before = await _entries_read(session)
        ours = (await session.query(sql))[1]
        read = await _entries_read(session) - before
        offset = int(sql.split("OFFSET ")[1]) if "OFFSET" in sql else 0
        assert 0 < read <= offset + 2100, (sql, read)  # a batch of entries or two past the offset, not all 20,000
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


async def test_min_and_max_read_one_end_of_the_index(session: EngineSession, oracle: psycopg.Connection) -> None:
    await session.query("INSERT INTO io_t VALUES (20001, NULL, NULL, NULL, NULL), (20002, NULL, 1, 'zz', NULL)")
    oracle.execute("INSERT INTO io_t VALUES (20001, NULL, NULL, NULL, NULL), (20002, NULL, 1, 'zz', NULL)")
    try:
        for sql, scan in (("SELECT max(id) FROM io_t", "Index Scan Backward using io_t_pkey"),
                          ("SELECT min(id) FROM io_t", "Index Scan using io_t_pkey"),
                          ("SELECT max(name) FROM io_t", "Index Scan Backward using io_t_name"),  # NULLs skipped
                          ("SELECT min(name) AS first_name FROM io_t", "Index Scan using io_t_name"),
                          ("SELECT max(grp) + 1 FROM io_t", "Index Scan Backward using io_t_grp_pos")):
            lines = await _explain(session, sql)
            assert any(scan in line for line in lines) and not any("Seq Scan" in line for line in lines), lines
            before = await _entries_read(session)
            assert (await session.query(sql))[1] == [tuple(r) for r in oracle.execute(sql).fetchall()], sql
            assert await _entries_read(session) - before <= 1024, sql
        for sql in ("SELECT max(pos) FROM io_t",              # no index leads with pos
                    "SELECT max(id), min(id) FROM io_t",      # two aggregates
                    "SELECT max(id) FROM io_t WHERE score = 1",
                    "SELECT grp, max(pos) FROM io_t GROUP BY grp ORDER BY grp LIMIT 3",
                    "SELECT max(id) FILTER (WHERE grp = 3) FROM io_t"):
            assert any("Seq Scan" in line for line in await _explain(session, sql)), sql
            assert (await session.query(sql))[1] == [tuple(r) for r in oracle.execute(sql).fetchall()], sql
        await session.query("CREATE TABLE io_empty (id int PRIMARY KEY, v text)")
        await session.query("CREATE INDEX io_empty_v ON io_empty (v)")
        await session.query("INSERT INTO io_empty VALUES (1, NULL)")
        assert (await session.query("SELECT max(v), (SELECT min(id) FROM io_empty WHERE false) FROM io_empty"))[1] \
            == [(None, None)]
        assert (await session.query("SELECT max(v) FROM io_empty"))[1] == [(None,)]
        await session.query("DELETE FROM io_empty")
        assert (await session.query("SELECT min(id) FROM io_empty"))[1] == [(None,)]
    finally:
        oracle.execute("DELETE FROM io_t WHERE id > 20000")
