"""Two-session SQL scripts, run against pgaurora (in process) and a real PostgreSQL 15 alike.

A script is a list of steps `"c1: SQL"`; `"c2: !SQL"` must block (a lock wait), and
`"c2: <await>"` collects the blocked statement's outcome once another step released it. Both
engines produce the same transcript format (as tests/sql/runner.py's), so PostgreSQL's
transcript is the expected one:

    c1: SELECT ... FOR UPDATE          then its rows / tag / ERROR lines
    c2: SELECT ... FOR UPDATE -- blocks
    c2: <await>                        then the blocked statement's rows / tag / ERROR

Blocking is seen on pgaurora as a statement still running after the other session went idle
(its lock wait awaits a future), and on PostgreSQL in pg_stat_activity (wait_event_type Lock),
polled with a deadline (it is an external process).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pgaurora import datatypes
from pgaurora.errors import PgError
from tests.sql.runner import EngineSession, format_error

BLOCK_WAIT = 0.2  # how long a pgaurora statement must stay blocked to count as blocking
DEADLINE = 10.0


def _format(columns: list[str] | None, rows: list[list[str | None]], tag: str) -> list[str]:
    lines = []
    if columns is not None:
        lines.append(" | ".join(columns))
        lines.extend(" | ".join("NULL" if v is None else v for v in r) for r in rows)
    lines.append(tag)
    return lines


async def _engine_run(session: EngineSession, sql: str) -> list[str]:
    from pgaurora.planner import parse

    try:
        columns, rows, tag, p = await session._statement(parse(sql)[0], (), [])
    except PgError as exc:
        return [format_error(exc.sqlstate, exc.message)]
    texts: list[list[str | None]] = []
    if columns is not None:
        encoders = [datatypes.text_encoder(c.type_oid) for c in p.columns]
        texts = [[None if v is None else enc(v) for enc, v in zip(encoders, r, strict=True)] for r in rows]
    return _format(columns, texts, tag)


async def _steps(steps: list[str], run: Callable[[str, str], Awaitable[list[str]]],
                 blocked: Callable[[str, asyncio.Task[list[str]]], Awaitable[bool]]) -> list[str]:
    lines: list[str] = []
    pending: dict[str, asyncio.Task[list[str]]] = {}
    for step in steps:
        who, sql = (part.strip() for part in step.split(":", 1))
        if sql == "<await>":
            lines.append(f"{who}: <await>")
            lines.extend(await asyncio.wait_for(pending.pop(who), DEADLINE))
            continue
        if sql.startswith("!"):
            sql = sql[1:].strip()
            task = asyncio.ensure_future(run(who, sql))
            lines.append(f"{who}: {sql} -- {'blocks' if await blocked(who, task) else 'did not block'}")
            if task.done():
                lines.extend(task.result())
            else:
                pending[who] = task
            continue
        lines.append(f"{who}: {sql}")
        lines.extend(await asyncio.wait_for(run(who, sql), DEADLINE))
    for task in pending.values():
        task.cancel()
    return lines


async def engine_transcript(setup: list[str], steps: list[str], root: Any) -> list[str]:
    first = await EngineSession.start(root)
    sessions = {"c1": first, "c2": EngineSession(first.engine, first.catalog, pid=2)}
    first.pid = 1
    try:
        for sql in setup:
            await first.query(sql)

        async def blocked(who: str, task: asyncio.Task[list[str]]) -> bool:
            done, _ = await asyncio.wait({task}, timeout=BLOCK_WAIT)
            return not done

        return await _steps(steps, lambda who, sql: _engine_run(sessions[who], sql), blocked)
    finally:
        for s in sessions.values():
            if s.txn is not None:
                await s.txn.abort()
                s.txn = None
        await first.stop()


async def postgres_transcript(dsn: str, setup: list[str], steps: list[str], schema: str) -> list[str]:
    """The transcript from PostgreSQL, in a fresh schema `schema` (dropped afterwards)."""
    import psycopg

    conns = {name: await psycopg.AsyncConnection.connect(dsn, autocommit=True) for name in ("c1", "c2", "watch")}
    try:
        await conns["c1"].execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conns["c1"].execute(f"CREATE SCHEMA {schema}")
        for name in ("c1", "c2"):
            await conns[name].execute(f"SET search_path = {schema}")
        for sql in setup:
            await conns["c1"].execute(sql)
        pids = {name: conn.info.backend_pid for name, conn in conns.items()}

        async def run(who: str, sql: str) -> list[str]:
            cur = conns[who].cursor(binary=False)
            try:
                await cur.execute(sql.encode(), prepare=False)
            except psycopg.Error as exc:
                return [format_error(exc.diag.sqlstate or "", exc.diag.message_primary or "")]
            texts: list[list[str | None]] = []
            columns = None
            if cur.description is not None:
                columns = [c.name for c in cur.description]
                result = cur.pgresult
                assert result is not None
                for r in range(result.ntuples):
                    raw = (result.get_value(r, c) for c in range(result.nfields))
                    texts.append([None if v is None else bytes(v).decode() for v in raw])
            return _format(columns, texts, cur.statusmessage or "")

        async def blocked(who: str, task: asyncio.Task[list[str]]) -> bool:
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline and not task.done():
                cur = await conns["watch"].execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pids[who],))
                row = await cur.fetchone()
                if row is not None and row[0] == "Lock":
                    return True
                await asyncio.sleep(0.02)  # polling an external process, bounded by the deadline
            return False

        return await _steps(steps, run, blocked)
    finally:
        await conns["watch"].execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        for conn in conns.values():
            await conn.close()
