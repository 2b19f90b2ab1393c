"""One client session: the simple and extended query protocols over a transaction block.

Owns what PostgreSQL's postgres.c does per backend: running each statement of a Query in
an implicit transaction (or the open block), Parse/Bind/Describe/Execute/Close/Sync,
failed-block semantics, cancellation and statement_timeout. Results go to a `ResultSink`
that the server implements (it encodes them with wire/); the session never sees bytes.
Not the statements answered without the planner (session.utility_exec), not the
transaction block's state machine (session.transaction).

    simple Query:   parse ─► for each statement: [plan ─► run ─► rows] ─► commit ─► tags
    extended:       Parse ─► Bind ─► Execute(n) … ─► Sync (commit of the implicit transaction)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from pgaurora import datatypes
from pgaurora.errors import (
    ActiveSqlTransaction,
    DuplicatePreparedStatement,
    FeatureNotSupported,
    PgError,
    ProtocolViolationError,
    QueryCanceled,
)
from pgaurora.session.engine import Engine
from pgaurora.session.portals import Namespace, Portal, PreparedStatement, Utility
from pgaurora.session.settings import Settings
from pgaurora.session.transaction import BlockState, TransactionBlock, in_failed_transaction
from pgaurora.session.utility import UTILITY_NODES, is_transaction_exit, outside_block_only

FETCH_BATCH = 1000


class ResultSink(Protocol):
    """Where a session sends results; the server encodes each call into wire messages."""

    def row_description(self, columns: Sequence[Any]) -> None: ...
    def data_rows(self, rows: list[tuple[Any, ...]]) -> None: ...
    def command_complete(self, tag: str) -> None: ...
    def empty_query(self) -> None: ...
    def portal_suspended(self) -> None: ...
    def notice(self, notice: PgError, severity: str) -> None: ...
    def error(self, err: PgError) -> None: ...


class Session:
    """Per-connection state: transaction block, statements, portals, settings."""

    def __init__(self, engine: Engine, *, user: str, database: str, settings: Settings,
                 pid: int = 0, secret: int = 0, superuser: bool = True) -> None:
        self.engine = engine
        self.user = user
        self.database = database
        self.settings = settings
        self.pid = pid
        self.secret = secret
        self.superuser = superuser
        self.block = TransactionBlock(engine, settings)
        self.block.on_end = self._transaction_ended
        self.block.owner = self
        self.block.pid = pid
        self.names = Namespace()
        self.listening: set[str] = set()
        self.pending_notifies: list[tuple[str, str]] = []
        self.notify_hook: Any = None          # server: deliver(channel, payload, sender_pid)
        self._sink: ResultSink | None = None
        self._task: asyncio.Task[Any] | None = None
        self._running = False
        self._cancel_reason: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._copy_tag = "COPY 0"
        from pgaurora.session.utility_exec import UtilityRunner
        self.utility = UtilityRunner(self)

    # -- state the server reads -----------------------------------------------------------------

    @property
    def transaction_status(self) -> str:
        return self.block.status

    def parameter_changes(self) -> Any:
        return self.settings.changed_reports()

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

    def _notice(self, notice: PgError, severity: str = "NOTICE") -> None:
        if self._sink is not None:
            self._sink.notice(notice, severity)

    def _transaction_ended(self, committed: bool) -> None:
        self.names.drop_portals_at_end_of_transaction()
        if committed and self.pending_notifies and self.notify_hook is not None:
            for channel, payload in self.pending_notifies:
                self.notify_hook(channel, payload, self.pid)
        self.pending_notifies.clear()

    # -- simple query protocol ------------------------------------------------------------------

    async def simple_query(self, sql: str, sink: ResultSink) -> None:
        """Runs every statement of one Query message; errors end it (sent via sink.error)."""
        self._sink = sink
        block = self.block
        cache = self.engine.plan_cache
        try:
            await self.engine.sync_catalog()
            # The plan cache answers single SELECT/INSERT/UPDATE/DELETE statements whose
            # literals change every time (pgbench, ORMs) without planning them again.
            hit = (cache.plan_query(sql, self.engine.catalog, block.txn)
                   if cache is not None and block.state is not BlockState.FAILED else None)
            stmts = None if hit is not None else self.engine.parse(sql)
        except PgError as err:
            await self.statement_failed()
            sink.error(err)
            return
        if hit is not None:
            await self._guarded(self._simple_plan(hit[0], hit[1], sink, False, True), sink)
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
        self.block.start_implicit()
        await self.engine.sync_catalog()
        plan = self.engine.plan(stmt, (), self.block.txn)
        if node_type == "CopyStmt":
            await self._copy(stmt, plan, (), sink)
            if last and self.block.state is BlockState.IMPLICIT:
                self._disarm()
                await self.block.commit()
            sink.command_complete(self._copy_tag)
            return
        await self._simple_plan(plan, (), sink, multi, last)

    async def _copy(self, stmt: Any, plan: Any, params: tuple[Any, ...], sink: Any) -> None:
        """COPY FROM STDIN / TO STDOUT: the rows travel through the sink's COPY sub-protocol.

        FROM: the client's rows (decoded by the server with wire's COPY codecs) feed the plan's
        ExternalRows node via ctx.extra["copy_rows"]; an error or a disconnect before CopyDone
        fails the statement, so its transaction aborts and no partial rows remain.
        """
        tree = stmt.tree
        if "filename" in tree or tree.get("is_program"):
            raise FeatureNotSupported("COPY to or from a file is not supported",
                                      hint="Use COPY FROM STDIN or COPY TO STDOUT.")
        self.block.start_implicit()
        if tree.get("is_from"):
            names = self.utility.copy_column_names(tree)
            rows = sink.copy_in_rows(tree, names, tree.get("relation", {}).get("relname", ""))
            cursor = await self._start(plan, params, {"copy_rows": rows})
            while await cursor.fetch(FETCH_BATCH):
                pass
        else:
            columns = plan.columns or ()
            sink.copy_out_begin(tree, columns)
            cursor = await self._start(plan, params)
            while True:
                rows = await cursor.fetch(FETCH_BATCH)
                if not rows:
                    break
                sink.copy_out_rows(rows)
            sink.copy_out_end()
        tag = cursor.tag or "COPY 0"
        self._copy_tag = tag if tag.startswith("COPY") else "COPY " + tag.rsplit(" ", 1)[-1]

    async def _simple_plan(self, plan: Any, params: tuple[Any, ...], sink: ResultSink, multi: bool,
                           last: bool) -> None:
        block = self.block
        block.start_implicit()
        if plan.columns is not None:
            sink.row_description(plan.columns)
        cursor = await self._start(plan, params)
        fetch = cursor.fetch
        while True:
            rows = await fetch(FETCH_BATCH)
            if not rows:
                break
            sink.data_rows(rows)
        tag = cursor.tag
        if last and block.state is BlockState.IMPLICIT:
            self._disarm()
            await block.commit()
        sink.command_complete(tag)

    async def _start(self, plan: Any, params: tuple[Any, ...], extra: dict[str, Any] | None = None) -> Any:
        """Begins (if needed) the transaction and opens an executor cursor on `plan`."""
        txn = self.block.transaction()
        ctx = self.engine.context(txn=txn, settings=self.settings, notice=self._executor_notice, session=self,
                                  transaction_start=self.block.started_at, is_canceled=self._is_canceled)
        if extra:
            ctx.extra.update(extra)
        return await self.engine.run(plan, params, ctx)

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

    # -- extended query protocol ----------------------------------------------------------------

    async def parse(self, name: str, sql: str, param_oids: Sequence[int] = ()) -> PreparedStatement:
        stmt = self.engine.parse_one(sql)
        await self.engine.sync_catalog()
        if self.block.state is BlockState.FAILED and not is_transaction_exit(stmt.node_type, stmt.tree):
            raise in_failed_transaction()
        if name and name in self.names.statements:
            raise DuplicatePreparedStatement(f'prepared statement "{name}" already exists')
        self.block.start_implicit()
        prepared = self.prepare(name, sql, stmt, tuple(param_oids))
        if name:
            self.names.add_statement(prepared)
        else:
            self.names.statements[""] = prepared
        return prepared

    def prepare(self, name: str, sql: str, stmt: Any, param_oids: tuple[int, ...],
                from_sql: bool = False) -> PreparedStatement:
        """A PreparedStatement for one parsed statement (protocol Parse or SQL PREPARE)."""
        if stmt.node_type == "EmptyQuery":
            return PreparedStatement(name, sql, None, None, None, param_oids, columns=None)
        utility = UTILITY_NODES.get(stmt.node_type)
        if utility is not None:
            columns, param_types = self.utility.describe(utility, stmt, param_oids)
            return PreparedStatement(name, sql, stmt, stmt.tree, utility, param_types,
                                     columns=columns, from_sql=from_sql)
        plan = self.engine.plan(stmt, param_oids, self.block.txn)
        return PreparedStatement(name, sql, stmt, stmt.tree, None, tuple(plan.param_types), plan=plan,
                                 columns=plan.columns, catalog_version=self.engine.catalog_version,
                                 from_sql=from_sql)

    async def statement_for_bind(self, stmt_name: str) -> PreparedStatement:
        """Bind, first half: the statement whose parameter types decode the values."""
        stmt = self.names.statement(stmt_name)
        if self.block.state is BlockState.FAILED and (
                stmt.parsed is None or not is_transaction_exit(stmt.parsed.node_type, stmt.parsed.tree)):
            raise in_failed_transaction()
        self.block.start_implicit()
        await self.engine.sync_catalog()
        self._replan_if_stale(stmt)
        return stmt

    def bind(self, portal_name: str, stmt: PreparedStatement, values: tuple[Any, ...],
             result_formats: tuple[int, ...]) -> Portal:
        """Bind, second half: a portal from decoded values and expanded result format codes."""
        if len(values) != len(stmt.param_types):
            label = f'"{stmt.name}"' if stmt.name else '""'
            raise ProtocolViolationError(
                f"bind message supplies {len(values)} parameters, but prepared statement {label} "
                f"requires {len(stmt.param_types)}")
        portal = Portal(portal_name, stmt, values, result_formats, stmt.columns, plan=stmt.plan)
        self.names.add_portal(portal)
        return portal

    def decode_text_params(self, stmt: PreparedStatement, texts: Sequence[str | None]) -> tuple[Any, ...]:
        """Parameters given as SQL text (EXECUTE name(...)), decoded with their types' input."""
        return tuple(None if t is None else datatypes.text_decoder(oid or 25, -1)(t)
                     for t, oid in zip(texts, stmt.param_types, strict=True))

    def _replan_if_stale(self, stmt: PreparedStatement) -> None:
        if stmt.plan is not None and stmt.catalog_version != self.engine.catalog_version:
            plan = self.engine.plan(stmt.parsed, stmt.param_types, self.block.txn)
            stmt.plan, stmt.columns = plan, plan.columns
            stmt.catalog_version = self.engine.catalog_version

    def describe_statement(self, name: str) -> tuple[tuple[int, ...], Any]:
        stmt = self.names.statement(name)
        if self.block.state is BlockState.FAILED and (
                stmt.parsed is None or not is_transaction_exit(stmt.parsed.node_type, stmt.parsed.tree)):
            raise in_failed_transaction()
        self._replan_if_stale(stmt)
        return stmt.param_types, stmt.columns

    def describe_portal(self, name: str) -> Portal:
        portal = self.names.portal(name)
        if self.block.state is BlockState.FAILED:
            raise in_failed_transaction()
        return portal

    async def execute(self, portal_name: str, max_rows: int, sink: ResultSink) -> None:
        """Execute: rows (at most max_rows unless 0), then CommandComplete or PortalSuspended."""
        self._sink = sink
        portal = self.names.portal(portal_name)
        stmt = portal.statement
        if self.block.state is BlockState.FAILED and (
                stmt.parsed is None or not is_transaction_exit(stmt.parsed.node_type, stmt.parsed.tree)):
            raise in_failed_transaction()
        if stmt.parsed is None:
            sink.empty_query()
            return
        self._arm()
        try:
            if stmt.utility is not None:
                await self._execute_utility(portal, max_rows, sink)
            else:
                await self._execute_plan(portal, max_rows, sink)
        except asyncio.CancelledError:
            canceled = self._cancelled()
            if canceled is None:
                raise
            raise canceled from None
        finally:
            self._disarm()

    async def _execute_plan(self, portal: Portal, max_rows: int, sink: ResultSink) -> None:
        if portal.done:
            sink.command_complete(portal.tag or "SELECT 0")
            return
        self.block.start_implicit()
        cursor = portal.cursor
        if cursor is None and portal.statement.parsed.node_type == "CopyStmt":
            await self._copy(portal.statement.parsed, portal.plan, portal.params, sink)
            portal.done = True
            portal.tag = self._copy_tag
            sink.command_complete(self._copy_tag)
            return
        if cursor is None:
            parsed = portal.statement.parsed
            restricted = outside_block_only(parsed.node_type, parsed.tree)
            if restricted is not None and self.block.in_block:
                raise ActiveSqlTransaction(f"{restricted} cannot run inside a transaction block")
            cursor = portal.cursor = await self._start(portal.plan, portal.params)
        if max_rows <= 0:
            while True:
                rows = await cursor.fetch(FETCH_BATCH)
                if not rows:
                    break
                sink.data_rows(rows)
        else:
            got = 0
            while got < max_rows:
                rows = await cursor.fetch(max_rows - got)
                if not rows:
                    break
                got += len(rows)
                sink.data_rows(rows)
            if got >= max_rows:
                sink.portal_suspended()
                return
        portal.done = True
        portal.tag = cursor.tag
        portal.cursor = None
        sink.command_complete(portal.tag)

    async def _execute_utility(self, portal: Portal, max_rows: int, sink: ResultSink) -> None:
        if portal.buffered is None and not portal.done:
            assert portal.statement.utility is not None
            result = await self.utility.run(portal.statement.utility, portal.statement.parsed,
                                            portal.params, False, portal=portal)
            if result is None:
                portal.done = True
                return
            _, rows, portal.tag = result
            portal.buffered = list(rows)
        rows = portal.buffered or []
        if max_rows > 0 and len(rows) >= max_rows and portal.columns is not None:
            sink.data_rows(rows[:max_rows])
            portal.buffered = rows[max_rows:]
            sink.portal_suspended()
            return
        if rows:
            sink.data_rows(rows)
        portal.buffered = []
        portal.done = True
        sink.command_complete(portal.tag or "")

    def close(self, kind: str, name: str) -> None:
        if kind == "S":
            self.names.statements.pop(name, None)
        else:
            self.names.portals.pop(name, None)

    async def sync(self) -> None:
        """Sync: the implicit transaction of the extended messages before it commits."""
        self._disarm()
        if self.block.state is BlockState.IMPLICIT:
            await self.block.commit()

    async def terminate(self) -> None:
        """The connection closed: an open transaction aborts (no partial rows remain)."""
        self._disarm()
        if self.block.state is not BlockState.IDLE or self.block.txn is not None:
            await self._abort_quietly()

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


__all__ = ["ResultSink", "Session", "Utility"]
