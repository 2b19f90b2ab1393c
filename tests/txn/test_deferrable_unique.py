"""DEFERRABLE unique and primary key constraints as PostgreSQL 15 checks them: DEFERRABLE
(INITIALLY IMMEDIATE) ones at the end of each statement, so `UPDATE t SET a = a + 1` passes
through transient duplicates; INITIALLY DEFERRED ones at COMMIT (or SET CONSTRAINTS ...
IMMEDIATE), for INSERT, UPDATE, COPY and partitioned tables; ON CONFLICT refuses them as arbiters
and a foreign key cannot reference them (55000); the catalogs, pg_get_constraintdef and LIKE
keep them. Transcripts equal on PostgreSQL 15 and pgaurora, and a concurrent inserter of the same
key waits for the first transaction's outcome."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

CLEANUP = ["DROP TABLE IF EXISTS p2, p3, p4, p5, p6, p7, p8, pp CASCADE"]
STEPS = [
    'CREATE TABLE p2 (a int UNIQUE DEFERRABLE INITIALLY DEFERRED)',
    'BEGIN',
    'INSERT INTO p2 VALUES (1), (1)',
    'DELETE FROM p2 WHERE ctid = (SELECT min(ctid) FROM p2)',
    'COMMIT',
    'SELECT * FROM p2',
    'BEGIN',
    'INSERT INTO p2 VALUES (2)',
    'INSERT INTO p2 VALUES (2)',
    'SELECT count(*) FROM p2',
    'COMMIT',
    'SELECT * FROM p2',
    'BEGIN',
    'INSERT INTO p2 VALUES (3), (3)',
    'SET CONSTRAINTS p2_a_key IMMEDIATE',
    'ROLLBACK',
    'CREATE TABLE p3 (a int, b int, UNIQUE (a) DEFERRABLE)',
    'INSERT INTO p3 VALUES (1, 1), (2, 2), (3, 3)',
    'UPDATE p3 SET a = a + 1',
    'SELECT * FROM p3 ORDER BY a',
    'UPDATE p3 SET a = 3 WHERE a = 2',
    'INSERT INTO p3 VALUES (4, 0), (5, 0)',
    'INSERT INTO p3 VALUES (9, 0), (9, 1)',
    'BEGIN',
    'SET CONSTRAINTS ALL DEFERRED',
    'UPDATE p3 SET a = 2 WHERE a = 3',
    'UPDATE p3 SET a = 3 WHERE b = 3',
    'COMMIT',
    'SELECT * FROM p3 ORDER BY a',
    'BEGIN',
    'SET CONSTRAINTS p3_a_key DEFERRED',
    'INSERT INTO p3 VALUES (4, 9)',
    'SET CONSTRAINTS p3_a_key IMMEDIATE',
    'ROLLBACK',
    'CREATE TABLE p4 (a int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, b int, c int UNIQUE DEFERRABLE INITIALLY IMMEDIATE)',
    "SELECT conname, condeferrable, condeferred, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'p4'::regclass ORDER BY 1",
    'INSERT INTO p4 VALUES (1, 1, 1) ON CONFLICT (a) DO NOTHING',
    'INSERT INTO p4 VALUES (1, 1, 1) ON CONFLICT DO NOTHING',
    'CREATE TABLE p5 (x int REFERENCES p4 (a))',
    'CREATE TABLE p6 (a int PRIMARY KEY DEFERRABLE, b int REFERENCES p6 (a))',
    'CREATE TABLE p7 (a int, b int UNIQUE, UNIQUE (a) DEFERRABLE)',
    'INSERT INTO p7 VALUES (1, 1) ON CONFLICT (b) DO NOTHING',
    'CREATE TABLE p8 (LIKE p4 INCLUDING ALL)',
    'CREATE TABLE pp (a int, b int, UNIQUE (a, b) DEFERRABLE INITIALLY DEFERRED) PARTITION BY RANGE (a)',
    'CREATE TABLE pp1 PARTITION OF pp FOR VALUES FROM (0) TO (10)',
    'BEGIN',
    'INSERT INTO pp VALUES (1, 1), (1, 1)',
    'COMMIT',
]


def test_deferrable_unique_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=CLEANUP, details=True)


async def _race(url: str, commit_first: bool) -> str:
    a = await asyncpg.connect(url)
    b = await asyncpg.connect(url)
    try:
        await a.execute("DROP TABLE IF EXISTS du_race")
        await a.execute("CREATE TABLE du_race (k int UNIQUE DEFERRABLE)")
        tx = a.transaction()
        await tx.start()
        await a.execute("INSERT INTO du_race VALUES (1)")
        second = asyncio.ensure_future(b.execute("INSERT INTO du_race VALUES (1)"))
        await asyncio.sleep(0.3)
        waited = not second.done()
        await (tx.commit() if commit_first else tx.rollback())
        try:
            outcome = await asyncio.wait_for(second, 10)
        except asyncpg.UniqueViolationError as exc:
            outcome = exc.sqlstate
        return f"waited={waited} {outcome}"
    finally:
        await a.execute("DROP TABLE IF EXISTS du_race")
        await a.close()
        await b.close()


@pytest.mark.parametrize("commit_first", [True, False])
async def test_concurrent_inserter_waits(instance: InstanceProcess, pg_oracle: PgOracle, commit_first: bool) -> None:
    ours = await _race(instance.url, commit_first)
    assert ours == await _race(pg_oracle.url, commit_first)
    assert ours == ("waited=True 23505" if commit_first else "waited=True INSERT 0 1")
