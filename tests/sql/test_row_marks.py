"""SELECT ... FOR UPDATE / SHARE over joins and partitioned tables, with two sessions: the same
script runs on pgaurora and on PostgreSQL 15 and must give the same transcript (who blocks, who
gets 55P03, which rows SKIP LOCKED leaves out, what a READ COMMITTED re-check returns)."""

from __future__ import annotations

import pathlib

import pytest

from tests.sql.sessions import engine_transcript, postgres_transcript

SETUP = [
    "CREATE TABLE a (id int PRIMARY KEY, v text, n int)",
    "CREATE TABLE b (id int PRIMARY KEY, a_id int, w text)",
    "INSERT INTO a VALUES (1, 'x', 0), (2, 'y', 0)",
    "INSERT INTO b VALUES (10, 1, 'p'), (11, 2, 'q'), (12, 1, 'r')",
    "CREATE TABLE m (k int, v int) PARTITION BY LIST (k)",
    "CREATE TABLE m1 PARTITION OF m FOR VALUES IN (1)",
    "CREATE TABLE m2 PARTITION OF m FOR VALUES IN (2)",
    "INSERT INTO m VALUES (1, 10), (2, 20)",
]
JOIN = "SELECT a.id, a.v, a.n, b.id FROM a JOIN b ON b.a_id = a.id"

SCRIPTS = {
    "join_locks_both_sides": [
        "c1: BEGIN",
        f"c1: {JOIN} WHERE a.id = 1 ORDER BY b.id FOR UPDATE",
        "c2: !UPDATE b SET w = 'z' WHERE id = 12",
        "c1: COMMIT",
        "c2: <await>",
        "c1: BEGIN",
        f"c1: {JOIN} WHERE b.id = 11 FOR NO KEY UPDATE",
        "c2: !UPDATE a SET n = 5 WHERE id = 2",
        "c1: ROLLBACK",
        "c2: <await>",
    ],
    "of_locks_only_the_named_table": [
        "c1: BEGIN",
        f"c1: {JOIN} WHERE a.id = 1 ORDER BY b.id FOR UPDATE OF b",
        "c2: UPDATE a SET n = n + 1 WHERE id = 1",
        "c2: !DELETE FROM b WHERE id = 10",
        "c1: COMMIT",
        "c2: <await>",
        "c2: SELECT id FROM b ORDER BY id",
    ],
    "nowait_and_skip_locked": [
        "c1: BEGIN",
        f"c1: {JOIN} WHERE a.id = 1 AND b.id = 10 FOR UPDATE",
        f"c2: {JOIN} ORDER BY b.id FOR UPDATE NOWAIT",
        f"c2: {JOIN} ORDER BY b.id FOR UPDATE SKIP LOCKED",
        f"c2: {JOIN} ORDER BY b.id FOR SHARE OF b SKIP LOCKED",
        f"c2: {JOIN} WHERE b.id = 11 FOR KEY SHARE NOWAIT",
        "c1: COMMIT",
    ],
    "read_committed_recheck_over_a_join": [
        "c1: BEGIN",
        "c1: UPDATE a SET n = n + 1 WHERE id = 1",
        "c1: UPDATE a SET v = 'gone' WHERE id = 2",
        f"c2: !{JOIN} WHERE a.v <> 'gone' ORDER BY b.id FOR UPDATE",
        "c1: COMMIT",
        "c2: <await>",
    ],
    "read_committed_recheck_join_condition": [
        "c1: BEGIN",
        "c1: UPDATE b SET a_id = 2 WHERE id = 10",
        "c1: UPDATE a SET n = 7 WHERE id = 1",
        f"c2: !{JOIN} WHERE a.id = 1 ORDER BY b.id FOR UPDATE",
        "c1: COMMIT",
        "c2: <await>",
        "c1: BEGIN",
        "c1: UPDATE a SET n = 8 WHERE id = 2",
        "c1: UPDATE b SET w = 'changed' WHERE id = 11",
        "c2: !SELECT a.id, a.n, b.w FROM a JOIN b ON b.a_id = a.id WHERE a.id = 2 AND b.id = 11 FOR UPDATE OF a",
        "c1: COMMIT",
        "c2: <await>",
    ],
    "update_from_rechecks_the_join": [
        "c1: BEGIN",
        "c1: UPDATE a SET v = 'moved', n = 1 WHERE id = 1",
        "c2: !UPDATE a SET n = a.n + 10 FROM b WHERE b.a_id = a.id AND a.v = 'x' AND b.id = 10 RETURNING a.id, a.n",
        "c1: COMMIT",
        "c2: <await>",
        "c1: BEGIN",
        "c1: UPDATE a SET n = 5 WHERE id = 2",
        "c2: !DELETE FROM a USING b WHERE b.a_id = a.id AND b.w = 'q' AND a.n = 0 RETURNING a.id",
        "c1: COMMIT",
        "c2: <await>",
        "c2: SELECT id, v, n FROM a ORDER BY id",
    ],
    "queue_pattern_in_a_cte": [
        "c1: BEGIN",
        "c1: WITH j AS (SELECT id FROM a ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "UPDATE a SET n = n + 1 FROM j WHERE a.id = j.id RETURNING a.id, a.n",
        "c2: WITH j AS (SELECT id FROM a ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "UPDATE a SET n = n + 1 FROM j WHERE a.id = j.id RETURNING a.id, a.n",
        "c2: SELECT id FROM b WHERE a_id IN (SELECT id FROM a WHERE id = 1 FOR SHARE SKIP LOCKED) ORDER BY id",
        "c2: !SELECT id FROM b WHERE a_id IN (SELECT id FROM a WHERE id = 1 FOR SHARE) ORDER BY id",
        "c1: COMMIT",
        "c2: <await>",
    ],
    "optimistic_update_by_xmin": [
        "c1: BEGIN",
        "c1: UPDATE a SET n = n + 1 WHERE id = 1",
        "c2: !UPDATE a SET v = 'c2' WHERE id = 1 AND xmin = (SELECT xmin FROM a WHERE id = 1) RETURNING id, v, n",
        "c1: COMMIT",
        "c2: <await>",
        "c2: UPDATE a SET v = 'c2' WHERE id = 1 AND xmin = (SELECT xmin FROM a WHERE id = 1) RETURNING id, v, n",
        "c1: BEGIN",
        "c1: DELETE FROM b WHERE id = 10",
        "c2: !DELETE FROM b WHERE ctid = (SELECT ctid FROM b WHERE id = 10) RETURNING id",
        "c1: ROLLBACK",
        "c2: <await>",
    ],
    "partitioned_table": [
        "c1: BEGIN",
        "c1: SELECT * FROM m WHERE k = 1 FOR UPDATE",
        "c2: SELECT * FROM m ORDER BY k FOR UPDATE SKIP LOCKED",
        "c2: SELECT * FROM m WHERE v = 10 FOR SHARE NOWAIT",
        "c2: !UPDATE m SET v = v + 1 WHERE k = 1",
        "c1: COMMIT",
        "c2: <await>",
        "c1: BEGIN",
        "c1: UPDATE m SET v = 99 WHERE k = 2",
        "c2: !SELECT m.k, m.v, a.v FROM m JOIN a ON a.id = m.k ORDER BY m.k FOR UPDATE OF m",
        "c1: COMMIT",
        "c2: <await>",
    ],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_engine_matches_postgres(name: str, pg_oracle, tmp_path: pathlib.Path) -> None:
    expected = await postgres_transcript(pg_oracle.dsn, SETUP, SCRIPTS[name], f"row_marks_{name}")
    assert all("did not block" not in line for line in expected), expected
    got = await engine_transcript(SETUP, SCRIPTS[name], tmp_path)
    assert got == expected
