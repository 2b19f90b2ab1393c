"""One client session: the simple and extended query protocols over a transaction block.

Owns what PostgreSQL's postgres.c does per backend: running each statement of a Query in
an implicit transaction (or the open block), failed-block semantics, cancellation and
statement_timeout. Results go to a `ResultSink` that the server implements (it encodes them
with wire/); the session never sees bytes. Not Parse/Bind/Execute/Sync (session.extended,
mixed in), not the statements answered without the planner (session.utility_exec), not the
transaction block's state machine (session.transaction).

    simple Query:   parse ─► for each statement: [plan ─► run ─► rows] ─► commit ─► tags
    extended:       Parse ─► Bind ─► Execute(n) … ─► Sync (commit of the implicit transaction)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Protocol

from pgaurora.catalog.roles import is_member
from pgaurora.errors import (
    ActiveSqlTransaction,
    InsufficientPrivilege,
    InvalidParameterValue,
    PgError,
    QueryCanceled,
)
from pgaurora.session.copy import run_copy
from pgaurora.session.engine import Engine
from pgaurora.session.extended import ExtendedProtocol
from pgaurora.session.portals import Namespace, Portal, PreparedStatement, Utility
from pgaurora.session.routines import Routines
from pgaurora.session.settings import Settings
from pgaurora.session.transaction import BlockState, TransactionBlock, in_failed_transaction
from pgaurora.session.utility import UTILITY_NODES, is_transaction_exit, outside_block_only

FETCH_BATCH = 1000


class Armed:
    """Session._armed()'s context (a class, not a generator: it wraps every Execute)."""

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> None:
        self.session._arm()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        session = self.session
        session._disarm()
        if kind is not None and issubclass(kind, asyncio.CancelledError):
            canceled = session._cancelled()
            if canceled is not None:
                raise canceled from None


class ResultSink(Protocol):
    """Where a session sends results; the server encodes each call into wire messages."""

    def row_description(self, columns: Sequence[Any]) -> None: ...
    def data_rows(self, rows: list[tuple[Any, ...]]) -> None: ...
    def command_complete(self, tag: str) -> None: ...
    def empty_query(self) -> None: ...
    def portal_suspended(self) -> None: ...
    def notice(self, notice: PgError, severity: str) -> None: ...
    def error(self, err: PgError) -> None: ...


READ_ALL_SETTINGS_OID = 3374  # pg_read_all_settings


class Session(ExtendedProtocol):
    """Per-connection state: transaction block, statements, portals, settings."""

    def __init__(self, engine: Engine, *, user: str, database: str, settings: Settings,
                 pid: int = 0, secret: int = 0, superuser: bool = True) -> None:
        if database != "postgres" and hasattr(engine, "for_database"):
            engine = engine.for_database(database)  # template1: an empty database (session.template)
        self.engine = engine
        self.user = user  # the role that logged in (pg_stat_activity's usename)
        self.database = database
        self.settings = settings
        self.pid = pid
        self.secret = secret
        self.login_superuser = superuser
        settings.superuser_of = lambda: self.superuser
        settings.reads_all_settings_of = lambda: self.has_privileges_of_role(READ_ALL_SETTINGS_OID)
        self.block = TransactionBlock(engine, settings)
        self.block.on_end = self._transaction_ended
        self.block.before_commit = self.run_deferred_checks
        self.block.owner = self
        self.block.pid = pid
        # the running statement is a CALL or DO of its own outside a transaction block: its
        # procedures may COMMIT and ROLLBACK (session.routines.end_transaction)
        self.nonatomic = False
        self.names = Namespace()
        self.listening: set[str] = set()
        self.pending_notifies: list[tuple[str, str]] = []
        self.notify_hook: Any = None          # server: deliver(channel, payload, sender_pid)
        self.terminate_hook: Any = None       # server: end this connection (pg_terminate_backend)
        self._sink: ResultSink | None = None
        self._task: asyncio.Task[Any] | None = None
        self._running = False
        self._cancel_reason: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._copy_tag = "COPY 0"
        self._default_path: tuple[Any, bool] | None = None  # default_search_path()'s answer, by its key
        self._internal_plans: dict[tuple[str, tuple[int, ...]], tuple[Any, Any]] = {}  # run_internal's
        self.routines = Routines(self)  # user functions, procedures, DO and triggers (session.routines)
        from pgaurora.session.utility_exec import UtilityRunner
        self.utility = UtilityRunner(self)
        # pg_stat_activity: what the server knows of the client (it may set the address) and
        # the last query, as epoch seconds (cheap to stamp; shown as timestamptz)
        self.client_addr: str | None = None
        self.client_port: int | None = None
        self.tls: Any = None  # the connection's ssl.SSLObject, if it negotiated TLS (pg_stat_ssl)
        self.backend_start = time.time()
        self.query_start: float | None = None
        self.state_change: float | None = self.backend_start
        self.activity_query = ""
        self.activity_fast: Any = None  # the FastPlan session.fastpath last answered (its text is looked up)
        if pid and hasattr(engine, "sessions"):
            engine.sessions[pid] = self
        if hasattr(engine, "activity"):
            engine.activities.setdefault(database, engine.activity)
            engine.activity.sessions += 1

    # -- roles: SET SESSION AUTHORIZATION and SET ROLE ---------------------------------------------

    @property
    def session_user(self) -> str:
        """session_user: the login role, or the one SET SESSION AUTHORIZATION chose."""
        return self.settings.get("session_authorization", missing_ok=True) or self.user

    @property
    def current_user(self) -> str:
        """current_user: the role SET ROLE chose, else the session user. It owns what the
        session creates and decides superuser-only actions (pgaurora checks no other privilege)."""
        role = self.settings.get("role", missing_ok=True)
        return self.session_user if role is None or role == "none" else role

    @property
    def superuser(self) -> bool:
        """Whether current_user is a superuser (the login role's as it logged in)."""
        name = self.current_user
        if name == self.user:
            return self.login_superuser
        role = self.engine.role(name)
        return bool(role is not None and role.superuser)

    def has_privileges_of_role(self, role_oid: int) -> bool:
        """Does current_user have the privileges of `role_oid` (a superuser: of every role)?"""
        if self.superuser:
            return True
        from pgaurora.catalog.roles import has_privileges_of

        state = self.engine.catalog.current()
        role = state.roles.get(self.current_user)
        return role is not None and has_privileges_of(state, role.oid, role_oid)

    def set_role(self, key: str, value: str | None, is_local: bool = False) -> None:
        """SET [LOCAL] ROLE / SESSION AUTHORIZATION (value None: DEFAULT or RESET), with
        PostgreSQL's checks: a role must exist (22023); only a superuser login may change its
        session user; the session user may take a role it is a member of (catalog.roles: any
        role for a superuser), else 42501. A new session user also ends SET ROLE. Both are
        settings, so a rollback (or the end of SET LOCAL's transaction) undoes them."""
        settings = self.settings
        if key == "role":
            name = "none" if value is None or value.lower() == "none" else value
            if name != "none":
                role = self.engine.role(name)
                if role is None:
                    raise InvalidParameterValue(f'role "{name}" does not exist')
                member = self.engine.role(self.session_user)
                state = self.engine.catalog.current() if hasattr(self.engine.catalog, "current") else None
                allowed = name == self.session_user or (
                    member is not None and state is not None and is_member(state, member.oid, role.oid))
                if not allowed:
                    raise InsufficientPrivilege(f'permission denied to set role "{name}"')
            settings.set_internal("role", name, is_local)
        else:
            name = self.user if value is None else value
            if self.engine.role(name) is None:
                raise InvalidParameterValue(f'role "{name}" does not exist')
            if name != self.user and not self.login_superuser:
                raise InsufficientPrivilege("permission denied to set session authorization")
            settings.set_internal("session_authorization", name, is_local)
            settings.set_internal("role", "none", is_local)
        settings.set_internal("is_superuser", "on" if self.superuser else "off", is_local)

    # -- state the server reads -----------------------------------------------------------------

    @property
    def transaction_status(self) -> str:
        return self.block.status

    def parameter_changes(self) -> Any:
        return self.settings.changed_reports()

    def current_query(self) -> str:
        """pg_stat_activity.query: the text of the last statement this session ran."""
        fast = self.activity_fast
        if fast is not None:
            for stmt in self.names.statements.values():
                if stmt.fast is fast:
                    return stmt.sql
        return self.activity_query

    # -- cancellation -----------------------------------------------------------------------------

    def request_cancel(self, reason: str = "user request") -> bool:
        """CancelRequest / statement_timeout: ends the running statement with 57014."""
        task = self._task
        if not self._running or task is None or task.done():
            return False
        self._cancel_reason = reason
        task.cancel()
        return True

    def _arm(self) -> None:
        task = asyncio.current_task()
        if task is not None:     # None while the server runs a batch eagerly (see server.connection)
            self._task = task
        self._cancel_reason = None
        self._running = True
        ms = self.settings.statement_timeout_ms
        if ms > 0:
            loop = asyncio.get_running_loop()
            self._deadline = loop.time() + ms / 1000.0
            self._timer = loop.call_at(self._deadline, self.request_cancel, "statement timeout")

    def _disarm(self) -> None:
        if self._running:
            self.state_change = time.time()
        self._running = False
        self._deadline = 0.0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _cancelled(self) -> QueryCanceled | None:
        """Turns a cancellation we asked for into 57014; None when it came from elsewhere."""
        reason, self._cancel_reason = self._cancel_reason, None
        if reason is None:
            return None
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            task.uncancel()
        return QueryCanceled(f"canceling statement due to {reason}")

    def _armed(self) -> Armed:
        """Its body can be canceled and times out like a statement: our cancellation leaves it as
        57014, anyone else's as CancelledError."""
        return Armed(self)

    def _notice(self, notice: PgError, severity: str = "NOTICE") -> None:
        if self._sink is not None:
            self._sink.notice(notice, severity)

    def _transaction_ended(self, committed: bool) -> None:
        activity = getattr(self.engine, "activity", None)
        if activity is not None:
            if committed:
                activity.commits += 1
            else:
                activity.rollbacks += 1
        self.names.drop_portals_at_end_of_transaction()
        if committed and self.pending_notifies and self.notify_hook is not None:
            for channel, payload in self.pending_notifies:
                self.notify_hook(channel, payload, self.pid)
        self.pending_notifies.clear()

    # -- simple query protocol ------------------------------------------------------------------

    async def simple_query(self, sql: str, sink: ResultSink, cached: tuple[Any, ...] | None = None) -> None:
        """Runs every statement of one Query message; errors end it (sent via sink.error).
        `cached` is the plan cache's (plan, params) for `sql` when the caller already asked
        (session.fastpath.fast_query), or () when it asked and the cache had no plan."""
        self._sink = sink
        self.activity_query = sql
        self.activity_fast = None
        self.query_start = time.time()
        block = self.block
        cache = self.engine.plan_cache
        try:
            await self.engine.sync_catalog()
            # The plan cache answers single SELECT/INSERT/UPDATE/DELETE statements whose
            # literals change every time (pgbench, ORMs) without planning them again.
            hit = (cached or None) if cached is not None else (
                cache.plan_query(sql, self.engine.catalog, block.txn)
                if cache is not None and block.state is not BlockState.FAILED
                and self.default_search_path() else None)
            stmts = None if hit is not None else self.engine.parse(sql)
        except PgError as err:
            await self.statement_failed()
            sink.error(err)
            return
        if hit is not None:
            await self._guarded(self._simple_plan(hit[0], hit[1], sink, False, True, sql,
                                                  replan=lambda: (self._plan_text(sql), ())), sink)
        elif not stmts:
            sink.empty_query()
            return
        else:
            last = len(stmts) - 1
            multi = last > 0
            for i, stmt in enumerate(stmts):
                if not await self._guarded(self._simple_statement(stmt, sink, multi, i == last), sink):
                    return
        if block.state is BlockState.IMPLICIT:
            try:
                await block.commit()
            except PgError as err:
                sink.error(err)

    async def _guarded(self, statement: Any, sink: ResultSink) -> bool:
        """Runs one statement with cancel/timeout armed; False when it failed (error sent)."""
        try:
            try:
                self._arm()
                await statement
            finally:
                self._disarm()
        except asyncio.CancelledError:
            canceled = self._cancelled()
            if canceled is None:
                await self._abort_quietly()
                raise
            await self.statement_failed()
            sink.error(canceled)
            return False
        except PgError as err:
            await self.statement_failed()
            sink.error(err)
            return False
        except Exception:
            await self.statement_failed()
            raise
        return True

    async def _simple_statement(self, stmt: Any, sink: ResultSink, multi: bool, last: bool) -> None:
        node_type = stmt.node_type
        utility = UTILITY_NODES.get(node_type)
        if utility is not None:
            if self.block.state is BlockState.FAILED and not is_transaction_exit(node_type, stmt.tree):
                raise in_failed_transaction()
            result = await self.utility.run(utility, stmt, (), multi)
            if result is None:
                return
            columns, rows, tag = result
            if columns is not None:
                sink.row_description(columns)
                if rows:
                    sink.data_rows(rows)
            if last and self.block.state is BlockState.IMPLICIT:
                self._disarm()
                await self.block.commit()
            sink.command_complete(tag)
            return
        if self.block.state is BlockState.FAILED:
            raise in_failed_transaction()
        restricted = outside_block_only(node_type, stmt.tree)
        if restricted is not None and (multi or self.block.in_block):
            raise ActiveSqlTransaction(f"{restricted} cannot run inside a transaction block")
        if node_type == "LockStmt" and not (multi or self.block.in_block):  # RequireTransactionBlock
            from pgaurora.errors import NoActiveSqlTransaction

            raise NoActiveSqlTransaction("LOCK TABLE can only be used in transaction blocks")
        self.block.start_implicit()
        await self.engine.sync_catalog()
        plan = self.plan_statement(stmt)
        if node_type == "CopyStmt":
            await self._copy(stmt, plan, (), sink)
            if last and self.block.state is BlockState.IMPLICIT:
                self._disarm()
                await self.block.commit()
            sink.command_complete(self._copy_tag)
            return
        self.nonatomic = node_type in _NONATOMIC and not multi and not self.block.in_block
        try:
            await self._simple_plan(plan, (), sink, multi, last,
                                    replan=lambda: (self.plan_statement(stmt), ()))
        finally:
            self.nonatomic = False

    def _plan_text(self, sql: str) -> Any:
        return self.plan_statement(self.engine.parse_one(sql))

    def plan_statement(self, stmt: Any, param_types: tuple[int, ...] = ()) -> Any:
        """engine.plan for this session: its transaction's DDL, its temporary tables, names
        resolved along its search_path for current_user."""
        return self.engine.plan(stmt, param_types, self.block.txn, self.settings.search_path_schemas(),
                                backend_pid=self.pid, search_role=self.current_user)

    def default_search_path(self) -> bool:
        """Whether this session's search path resolves as the plan cache's does (public alone:
        its shared plans serve the session), for current_user in the committed catalog. The
        answer is kept until search_path, the role or the catalog changes."""
        key = (self.settings.path_key, self.engine.catalog_version)
        known = self._default_path
        if known is not None and known[0] == key:
            return known[1]
        current = getattr(self.engine.catalog, "current", None)
        if current is None:
            answer = self.settings.search_path_schemas() is None
        else:
            from pgaurora.catalog.state import PUBLIC_SCHEMA_OID

            state = current().with_search_path(self.settings.search_path_schemas(), self.current_user)
            answer = state.search_path_oids() == (PUBLIC_SCHEMA_OID,)
        self._default_path = (key, answer)
        return answer

    async def _copy(self, stmt: Any, plan: Any, params: tuple[Any, ...], sink: Any) -> None:
        self._copy_tag = await run_copy(self, stmt, plan, params, sink)

    async def _simple_plan(self, plan: Any, params: tuple[Any, ...], sink: ResultSink, multi: bool,
                           last: bool, cached_sql: str | None = None, replan: Any = None) -> None:
        block = self.block
        block.start_implicit()
        cursor = await self._start(plan, params, replan=replan)
        plan = getattr(cursor, "plan", plan)  # planned again if DDL committed while it waited for a lock
        fetch = cursor.fetch
        try:
            rows = await fetch(FETCH_BATCH)
        except PgError:
            if cached_sql is not None:
                # A generic plan from the plan cache evaluates at run time what PostgreSQL's
                # planner folds (SELECT 1/0): planning the text itself raises that error the
                # way PostgreSQL does, before any RowDescription.
                self.plan_statement(self.engine.parse_one(cached_sql))
            if plan.columns is not None:
                sink.row_description(plan.columns)
            raise
        if plan.columns is not None:
            sink.row_description(plan.columns)
        while rows:
            sink.data_rows(rows)
            if len(rows) >= FETCH_BATCH:
                await asyncio.sleep(0)   # a long result lets the other sessions (and cancels) run
            rows = await fetch(FETCH_BATCH)
        tag = cursor.tag
        if last and block.state is BlockState.IMPLICIT:
            self._disarm()
            await block.commit()
        sink.command_complete(tag)

    async def run_deferred_checks(self, txn: Any, only: set[int] | None = None) -> None:
        """The deferred foreign key checks of `txn` (of the constraints in `only`, else all):
        at COMMIT and at SET CONSTRAINTS ... IMMEDIATE (executor.deferred)."""
        from pgaurora.executor.foreignkeys import run_deferred_checks

        state = self.engine.catalog.state_for(txn).for_backend(self.pid)
        ctx = self._context(txn)
        ctx.extra["catalog_state"] = state
        ctx.extra.setdefault("session", self)  # (deferred constraint triggers run the session's routines)
        await run_deferred_checks(ctx, state, only)

    async def run_internal(self, sql: str, param_types: tuple[int, ...], params: tuple[Any, ...], *,
                           as_role: str | None) -> None:
        """Runs a statement the executor needs inside the running one, in its transaction, as
        `as_role` (PostgreSQL's SPI queries of referential actions, run as the referencing
        table's owner): its names are qualified, so the search path does not matter. Its plan is
        kept while the catalog its transaction sees stays the same object (a DELETE of many
        referenced rows runs the same UPDATE for each: PostgreSQL's RI code keeps its plans too)."""
        txn = self.block.transaction()
        state = self.engine.catalog.state_for(txn)
        key = (sql, param_types)
        known = self._internal_plans.get(key)
        if known is not None and known[0] is state:
            plan = known[1]
        else:
            plan = self.engine.plan(self.engine.parse_one(sql), param_types, txn, None, backend_pid=self.pid)
            if len(self._internal_plans) >= 64:
                self._internal_plans.clear()
            self._internal_plans[key] = (state, plan)
        ctx = self._context(txn)
        if as_role is not None:
            ctx.user = as_role
        cursor = await self.engine.run(plan, params, ctx)
        while await cursor.fetch(FETCH_BATCH):
            pass

    async def _start(self, plan: Any, params: tuple[Any, ...], extra: dict[str, Any] | None = None,
                     replan: Any = None) -> Any:
        """Begins (if needed) the transaction and opens an executor cursor on `plan`."""
        block = self.block
        txn = block.transaction()
        if txn.isolation == "serializable" and not txn.has_snapshot:
            await txn.manager.ssi.settle()  # its snapshot then sees the commits decided so far
        # The first statement of a transaction starts when the transaction does (one clock read).
        ctx = self._context(txn, block.started_at if block.statements_run == 1 else None)
        if extra:
            ctx.extra.update(extra)
        return await self.engine.run(plan, params, ctx, replan)

    def _context(self, txn: Any, statement_start: Any = None) -> Any:
        """The executor.ExecContext of a statement of this session in `txn` (now, unless given)."""
        return self.engine.context(txn=txn, settings=self.settings, notice=self._executor_notice, session=self,
                                   transaction_start=self.block.started_at, is_canceled=self._is_canceled,
                                   statement_start=statement_start)

    def _is_canceled(self) -> bool:
        """The executor's check between batches. The deadline is also checked here because a
        statement that never yields to the event loop keeps the timer from firing."""
        if self._cancel_reason is not None:
            return True
        if self._deadline and asyncio.get_running_loop().time() >= self._deadline:
            raise QueryCanceled("canceling statement due to statement timeout")
        return False

    def _executor_notice(self, notice: Any, severity: str = "NOTICE") -> None:
        if isinstance(notice, str):
            notice = PgError(notice, sqlstate="01000" if severity == "WARNING" else "00000")
        self._notice(notice, severity)

    async def statement_failed(self) -> None:
        """An error ended a statement: abort the implicit transaction or fail the block."""
        self._disarm()
        await self.block.fail()

    async def _abort_quietly(self) -> None:
        try:
            await self.block.abort()
        except Exception:  # noqa: BLE001 - the connection is going away; nothing to report to
            pass

    async def terminate(self) -> None:
        """The connection closed: an open transaction aborts (no partial rows remain) and the
        session's advisory locks are released."""
        self._disarm()
        if self.block.state is not BlockState.IDLE or self.block.txn is not None:
            await self._abort_quietly()
        self.engine.release_session_locks(self)
        sessions = getattr(self.engine, "sessions", None)
        if sessions is not None and sessions.get(self.pid) is self:
            del sessions[self.pid]

    # -- used by utility statements ---------------------------------------------------------------

    async def run_prepared(self, stmt: PreparedStatement, params: tuple[Any, ...],
                           portal: Portal | None = None) -> tuple[Any, list[tuple[Any, ...]], str]:
        """Runs a planned statement to completion (EXECUTE, DECLARE ... WITH HOLD)."""
        await self.engine.sync_catalog()
        self._replan_if_stale(stmt)
        self.block.start_implicit()
        cursor = await self._start(stmt.plan, params)
        rows: list[tuple[Any, ...]] = []
        while True:
            batch = await cursor.fetch(FETCH_BATCH)
            if not batch:
                break
            rows.extend(batch)
        return stmt.columns, rows, cursor.tag

    async def open_cursor(self, stmt: PreparedStatement, params: tuple[Any, ...]) -> Any:
        self._replan_if_stale(stmt)
        self.block.start_implicit()
        return await self._start(stmt.plan, params)


_NONATOMIC = ("CallStmt", "DoStmt")  # the statements whose procedures may end the transaction

__all__ = ["ResultSink", "Session", "Utility"]
