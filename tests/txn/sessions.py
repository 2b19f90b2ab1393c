"""Running one script of several sessions against a server (pgaurora or the PostgreSQL oracle).

A script is a list of steps `(session, sql)`, `(session, sql, FINISH)` or `(session, WAIT)`:
a statement runs in its session's connection; when it waits for a lock (pg_stat_activity
shows wait_event_type 'Lock' for its pid) it is recorded as "blocked" and the script goes on;
WAIT records the outcome of that session's blocked statement. FINISH awaits the statement
however long it waits (a lock_timeout or a deadlock check that ends it). Outcomes are
comparable across servers: (session, sql, "ok", status, rows) / ("error", sqlstate, message).
Waiting on the server is a bounded poll of pg_stat_activity (the server is another process).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

WAIT = "<wait>"
FINISH = "<finish>"
BLOCK_DEADLINE = 10.0
OBSERVER = "observer"


async def run_statement(conn: psycopg.AsyncConnection[Any], sql: Any) -> tuple[Any, ...]:
    """`sql` is a text, or (text, parameters): the extended protocol, as psycopg sends those."""
    text, params = sql if isinstance(sql, tuple) else (sql, None)
    try:
        cur = await conn.execute(text, params)
        rows = await cur.fetchall() if cur.description is not None else None
        return ("ok", cur.statusmessage, rows)
    except psycopg.Error as err:
        return ("error", err.sqlstate, err.diag.message_primary)


async def blocked(observer: psycopg.AsyncConnection[Any], pid: int, task: asyncio.Task[Any]) -> bool:
    """True once backend `pid` waits for a lock, False if `task` finishes first."""
    deadline = time.monotonic() + BLOCK_DEADLINE
    while time.monotonic() < deadline:
        if task.done():
            return False
        cur = await observer.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = await cur.fetchone()
        if row is not None and row[0] == "Lock":
            return True
        await asyncio.wait({task}, timeout=0.02)
    raise AssertionError(f"backend {pid} neither finished nor waited for a lock")


class Sessions:
    """Named autocommit connections to one server plus an observer."""

    def __init__(self, dsn: str, simple: bool = False) -> None:
        self.dsn = dsn
        self.simple = simple  # the simple query protocol (psycopg's client-side binding cursors)
        self.conns: dict[str, psycopg.AsyncConnection[Any]] = {}
        self.pending: dict[str, asyncio.Task[Any]] = {}

    async def conn(self, name: str) -> psycopg.AsyncConnection[Any]:
        conn = self.conns.get(name)
        if conn is None:
            conn = self.conns[name] = await psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True, application_name=f"sess_{name}",
                cursor_factory=psycopg.AsyncClientCursor if self.simple else psycopg.AsyncCursor)
        return conn

    def pid(self, name: str) -> int:
        return int(self.conns[name].info.backend_pid)

    async def run(self, script: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        observer = await self.conn(OBSERVER)
        outcomes: list[tuple[Any, ...]] = []
        for step in script:
            who, sql = step[0], step[1]
            if sql == WAIT:
                outcomes.append((who, "waited", *await asyncio.wait_for(self.pending.pop(who), BLOCK_DEADLINE)))
                continue
            conn = await self.conn(who)
            task = asyncio.ensure_future(run_statement(conn, sql))
            if len(step) > 2 and step[2] == FINISH:
                outcomes.append((who, sql, *await asyncio.wait_for(task, BLOCK_DEADLINE)))
            elif await blocked(observer, self.pid(who), task):
                self.pending[who] = task
                outcomes.append((who, sql, "blocked"))
            else:
                outcomes.append((who, sql, *task.result()))
        return outcomes

    async def close(self) -> None:
        for task in self.pending.values():
            task.cancel()
        for conn in self.conns.values():
            await conn.close()
        self.conns.clear()


async def run_script(dsn: str, setup: str, script: list[tuple[Any, ...]],
                     simple: bool = False) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(setup)
    sessions = Sessions(dsn, simple)
    try:
        return await sessions.run(script)
    finally:
        await sessions.close()
