"""psycopg 3 features beyond plain queries, each run against pgaurora and PostgreSQL 15 with
the same calls and compared: pipeline mode (including an error inside the pipeline), named
server-side cursors (in a transaction and WITH HOLD), executemany with RETURNING, COPY FROM in
binary format, LISTEN/NOTIFY through `conn.notifies()`, and psycopg_pool's ConnectionPool and
AsyncConnectionPool serving concurrent work."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

DDL = "CREATE TABLE {t} (id int PRIMARY KEY, s text, n numeric(10,2), d date, j jsonb)"


@pytest.fixture
def both(instance: InstanceProcess, pg_oracle: PgOracle) -> Iterator[tuple[str, str]]:
    yield instance.dsn, pg_oracle.dsn


def _pipeline(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS pipe_t")
        conn.execute(DDL.format(t="pipe_t"))
        with conn.pipeline() as pipeline:
            cur = conn.cursor()
            for i in range(5):
                cur.execute("INSERT INTO pipe_t (id, s) VALUES (%s, %s)", (i, f"row {i}"))
            first = conn.execute("SELECT count(*) FROM pipe_t")
            second = conn.execute("SELECT s FROM pipe_t WHERE id = %s", (3,))
            pipeline.sync()
            out += [first.fetchall(), second.fetchall()]
        try:
            with conn.pipeline():
                conn.execute("INSERT INTO pipe_t (id) VALUES (%s)", (10,))
                conn.execute("INSERT INTO pipe_t (id) VALUES (%s)", (1,))  # duplicate key
                conn.execute("INSERT INTO pipe_t (id) VALUES (%s)", (11,))
        except psycopg.Error as e:
            out.append(e.sqlstate)
        out.append(conn.execute("SELECT id FROM pipe_t ORDER BY id").fetchall())
        with conn.transaction(), conn.pipeline():
            conn.cursor().executemany("UPDATE pipe_t SET n = %s WHERE id = %s", [(i * 1.5, i) for i in range(3)])
        out.append(conn.execute("SELECT id, n FROM pipe_t WHERE n IS NOT NULL ORDER BY id").fetchall())
        conn.execute("DROP TABLE pipe_t")
    return out


def test_pipeline_mode(both: tuple[str, str]) -> None:
    ours, theirs = (_pipeline(dsn) for dsn in both)
    assert ours == theirs
    assert ours[2] == "23505"


def _named_cursors(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn) as conn:
        with conn.cursor(name="walk") as cur:
            cur.itersize = 7
            cur.execute("SELECT g, g * 2 FROM generate_series(1, 40) g WHERE g %% %s = 0", (3,))
            out.append(cur.fetchone())
            out.append(cur.fetchmany(4))
            out.append(sum(1 for _ in cur))
        with conn.cursor(name="skipping") as cur:  # forward scrolls (SCROLL cursors: see not-built-yet.md)
            cur.execute("SELECT g FROM generate_series(1, 10) g")
            cur.scroll(5, "absolute")
            out.append(cur.fetchone())
            cur.scroll(2)
            out.append(cur.fetchone())
        conn.commit()
        with conn.cursor(name="held", withhold=True) as cur:
            cur.execute("SELECT g FROM generate_series(1, 5) g")
            conn.commit()  # a WITH HOLD cursor survives the commit
            out.append(cur.fetchall())
    return out


def test_named_server_side_cursors(both: tuple[str, str]) -> None:
    ours, theirs = (_named_cursors(dsn) for dsn in both)
    assert ours == theirs


ROWS = [(1, "plain", decimal.Decimal("1.50"), datetime.date(2024, 1, 2), {"a": [1, 2]}),
        (2, "tab\there\nnew line", None, None, None),
        (3, "ünïcødé", decimal.Decimal("-7.25"), datetime.date(1999, 12, 31), {"nested": {"x": None}})]


def _executemany_and_binary_copy(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS many_t")
        conn.execute(DDL.format(t="many_t"))
        cur = conn.cursor()
        cur.executemany("INSERT INTO many_t (id, s, n, d, j) VALUES (%s, %s, %s, %s, %s::jsonb) RETURNING id * 10",
                        [(r[0], r[1], r[2], r[3], psycopg.types.json.Jsonb(r[4]) if r[4] is not None else None)
                         for r in ROWS], returning=True)
        ids = []
        while True:
            ids.append(cur.fetchone())
            if not cur.nextset():
                break
        out.append(ids)
        out.append(cur.rowcount)
        conn.execute("DELETE FROM many_t")
        with conn.cursor(binary=True).copy("COPY many_t (id, s, n, d, j) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text", "numeric", "date", "jsonb"])
            for row in ROWS:
                copy.write_row(row)
        out.append(conn.execute("SELECT * FROM many_t ORDER BY id").fetchall())
        with conn.cursor(binary=True).copy("COPY (SELECT id, j FROM many_t ORDER BY id) TO STDOUT (FORMAT BINARY)") as c:
            c.set_types(["int4", "jsonb"])
            out.append(list(c.rows()))
        conn.execute("DROP TABLE many_t")
    return out


def test_executemany_and_binary_copy(both: tuple[str, str]) -> None:
    ours, theirs = (_executemany_and_binary_copy(dsn) for dsn in both)
    assert ours == theirs
    assert ours[0] == [(10,), (20,), (30,)]


def test_listen_notify_with_psycopg(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn, autocommit=True) as listener, \
            psycopg.connect(instance.dsn, autocommit=True) as sender:
        listener.execute("LISTEN events")
        with sender.transaction():
            sender.execute("NOTIFY events, 'first'")
            sender.execute("SELECT pg_notify('events', 'second')")
            sender.execute("NOTIFY other, 'ignored'")
        got = [(n.channel, n.payload, n.pid) for n in listener.notifies(timeout=10, stop_after=2)]
        sender_pid = sender.execute("SELECT pg_backend_pid()").fetchone()
        assert sender_pid is not None
        assert got == [("events", "first", sender_pid[0]), ("events", "second", sender_pid[0])]
        listener.execute("UNLISTEN events")
        sender.execute("NOTIFY events, 'after unlisten'")
        assert list(listener.notifies(timeout=0.2)) == []


def test_connection_pool_serves_threads(instance: InstanceProcess) -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    with ConnectionPool(instance.dsn, min_size=2, max_size=4, open=True, timeout=30) as pool:
        pool.wait(timeout=30)

        def work(n: int) -> None:
            try:
                with pool.connection() as conn:
                    row = conn.execute("SELECT %s::int * 2", (n,)).fetchone()
                    assert row is not None
                    results.append(row[0])
            except BaseException as e:  # noqa: BLE001 - reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        stats = pool.get_stats()
    assert not errors
    assert sorted(results) == [n * 2 for n in range(12)]
    assert stats["pool_max"] == 4


async def test_async_connection_pool(instance: InstanceProcess) -> None:
    async with AsyncConnectionPool(instance.dsn, min_size=1, max_size=3, open=False, timeout=30) as pool:
        await pool.wait(timeout=30)

        async def work(n: int) -> int:
            async with pool.connection() as conn:
                async with conn.transaction():
                    cur = await conn.execute("SELECT %s::int + 100", (n,))
                    row = await cur.fetchone()
                    assert row is not None
                    return int(row[0])

        got = await asyncio.wait_for(asyncio.gather(*(work(n) for n in range(10))), 60)
    assert got == [n + 100 for n in range(10)]
