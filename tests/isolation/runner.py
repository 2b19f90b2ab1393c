"""Running one permutation of an isolation spec over real connections, as isolationtester does.

Owns driving one connection per spec session (psycopg, autocommit, simple protocol), issuing
the permutation's steps in order, telling which steps block, and writing the transcript:

    step s1u
    step s2u <waiting ...>
    step s1c
    step s2u <... completed>
    ERROR:  40001 could not serialize access due to concurrent update

Each step's outcome is its rows in PostgreSQL's text output (header line, then `a|b` lines)
or `ERROR:  sqlstate message`. Not the spec format (tests.isolation.spec).

Telling a blocked step from a slow one:
- on PostgreSQL (the oracle) the step is blocked when pg_isolation_test_session_is_blocked()
  says so and it is still running 0.35 s later (so a lock_timeout or a deadlock found after a
  short deadlock_timeout counts as "not blocked, then an error");
- on pgaurora there is no lock introspection, so the oracle's run says how long to wait: a step
  the oracle saw complete gets up to LONG_WAIT seconds, one it saw block gets SHORT_WAIT.
Both are bounded polls of an external server process with a deadline.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import psycopg

from tests.isolation.spec import Spec

LONG_WAIT = 15.0  # a step expected to complete
SHORT_WAIT = 0.25  # a step expected to stay blocked
BLOCK_STABLE = 0.35  # PostgreSQL: blocked this long = blocked
POLL = 0.01


@dataclass
class Observed:
    """One run's transcript and, for the oracle, when each step blocked and completed."""

    lines: list[str] = field(default_factory=list)
    blocked: dict[int, bool] = field(default_factory=dict)  # permutation position -> blocked when issued
    completed_after: dict[int, set[int]] = field(default_factory=dict)  # after position i: these completed


def _render_error(exc: psycopg.Error) -> list[str]:
    return [f"ERROR:  {exc.sqlstate} {exc.diag.message_primary}"]


async def _execute(conn: psycopg.AsyncConnection, sql: str) -> list[str]:
    """Runs one step's SQL (several statements allowed); its rows as text lines, or the error."""
    lines: list[str] = []
    try:
        cur = conn.cursor(binary=False)
        await cur.execute(sql.encode(), prepare=False)  # bytes + no params: the simple protocol
        while True:
            result = cur.pgresult
            if result is not None and result.nfields:
                lines.append("|".join(bytes(result.fname(i) or b"").decode() for i in range(result.nfields)))
                for r in range(result.ntuples):
                    vals = []
                    for c in range(result.nfields):
                        v = result.get_value(r, c)
                        vals.append("NULL" if v is None else bytes(v).decode())
                    lines.append("|".join(vals))
            if not cur.nextset():
                break
    except psycopg.Error as exc:
        return lines + _render_error(exc)
    return lines


class PermutationRun:
    """Runs one permutation of `spec` against `dsn`; `expected` (the oracle's run) times the waits."""

    def __init__(self, spec: Spec, dsn: str, *, oracle: bool, expected: Observed | None = None) -> None:
        self.spec = spec
        self.dsn = dsn
        self.oracle = oracle
        self.expected = expected
        self.conns: dict[str, psycopg.AsyncConnection] = {}
        self.pids: dict[str, int] = {}
        self.control: psycopg.AsyncConnection | None = None
        self.out = Observed()

    async def _is_blocked(self, session: str) -> bool:
        assert self.control is not None
        others = [pid for name, pid in self.pids.items() if name != session]
        cur = await self.control.execute("SELECT pg_catalog.pg_isolation_test_session_is_blocked(%s, %s)",
                                         (self.pids[session], others))
        row = await cur.fetchone()
        return bool(row and row[0])

    async def _settle(self, task: asyncio.Task[list[str]], session: str, expect_done: bool | None) -> bool:
        """Waits (bounded) until `task` completes or counts as blocked; True if it completed."""
        if not self.oracle:
            timeout = LONG_WAIT if expect_done in (None, True) else SHORT_WAIT
            await asyncio.wait([task], timeout=timeout)
            return task.done()
        deadline = time.monotonic() + LONG_WAIT
        blocked_since: float | None = None
        while time.monotonic() < deadline:
            await asyncio.wait([task], timeout=POLL)
            if task.done():
                return True
            if await self._is_blocked(session):
                now = time.monotonic()
                if blocked_since is None:
                    blocked_since = now
                elif now - blocked_since >= BLOCK_STABLE:
                    return False
            else:
                blocked_since = None
        return task.done()

    async def _setup(self) -> None:
        self.control = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        for sql in self.spec.setup:
            lines = await _execute(self.control, sql)
            if lines and lines[-1].startswith("ERROR:"):
                self.out.lines.append(f"setup: {lines[-1]}")
        for session in self.spec.sessions:
            conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            self.conns[session.name] = conn
            self.pids[session.name] = conn.info.backend_pid
            for sql in session.setup:
                lines = await _execute(conn, sql)
                if lines and lines[-1].startswith("ERROR:"):
                    self.out.lines.append(f"setup {session.name}: {lines[-1]}")

    async def _teardown(self, waiting: list[tuple[int, str, asyncio.Task[list[str]]]]) -> None:
        for _pos, name, task in waiting:
            self.out.lines.append(f"step {name} <still waiting at the end>")
            task.cancel()
        for session in self.spec.sessions:
            conn = self.conns.get(session.name)
            if conn is None:
                continue
            if not waiting:
                for sql in session.teardown:
                    await asyncio.wait_for(_execute(conn, sql), LONG_WAIT)
            await asyncio.wait_for(conn.close(), LONG_WAIT)
        if waiting:
            await asyncio.wait_for(asyncio.gather(*(t for _, _, t in waiting), return_exceptions=True), LONG_WAIT)
        if self.control is not None:
            for sql in self.spec.teardown:
                for _ in range(3):  # a closed session's locks may take a moment to go away
                    lines = await asyncio.wait_for(_execute(self.control, sql), LONG_WAIT)
                    if not (lines and lines[-1].startswith("ERROR:")):
                        break
            await asyncio.wait_for(self.control.close(), LONG_WAIT)

    async def run(self, permutation: tuple[str, ...]) -> Observed:
        out = self.out
        waiting: list[tuple[int, str, asyncio.Task[list[str]]]] = []
        try:
            await self._setup()
            for pos, name in enumerate(permutation):
                step = self.spec.step(name)
                if any(self.spec.step(w).session == step.session for _, w, _ in waiting):
                    raise AssertionError(f"step {name}: its session is still waiting")
                task = asyncio.ensure_future(_execute(self.conns[step.session], step.sql))
                expect_done = None if self.expected is None else not self.expected.blocked.get(pos, False)
                done = await self._settle(task, step.session, expect_done)
                out.blocked[pos] = not done
                if done:
                    out.lines.append(f"step {name}")
                    out.lines.extend(task.result())
                else:
                    out.lines.append(f"step {name} <waiting ...>")
                    waiting.append((pos, name, task))
                await self._check_waiting(pos, waiting)
        finally:
            await self._teardown(waiting)
        return out

    async def _check_waiting(self, pos: int, waiting: list[tuple[int, str, asyncio.Task[list[str]]]]) -> None:
        """After the step at `pos`: which waiting steps complete now (repeated until none does)."""
        completed = self.out.completed_after.setdefault(pos, set())
        expected = None if self.expected is None else self.expected.completed_after.get(pos, set())
        progress = True
        while progress and waiting:
            progress = False
            for entry in list(waiting):
                wpos, wname, task = entry
                if wpos == pos:
                    continue  # just found blocked
                expect_done = None if expected is None else wpos in expected
                session = self.spec.step(wname).session
                if await self._settle(task, session, expect_done if expect_done else False):
                    waiting.remove(entry)
                    completed.add(wpos)
                    self.out.lines.append(f"step {wname} <... completed>")
                    self.out.lines.extend(task.result())
                    progress = True


async def run_permutation(spec: Spec, permutation: tuple[str, ...], dsn: str, *, oracle: bool,
                          expected: Observed | None = None) -> Observed:
    return await PermutationRun(spec, dsn, oracle=oracle, expected=expected).run(permutation)
