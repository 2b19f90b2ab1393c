"""The extended query protocol of a session: Parse, Bind, Describe, Execute, Close, Sync.

Owns PostgreSQL's exec_parse_message / exec_bind_message / exec_execute_message semantics for
named and unnamed statements and portals: plans cached at Parse (re-planned when the catalog
changed), Execute with a row limit answered by PortalSuspended, utility statements through
portals, COPY through Execute, and the implicit transaction that Sync commits. Parameter bytes
are decoded by the server (wire.formats) between `statement_for_bind` and `bind`.
Not the simple protocol or cancellation (session.session), not the bytes (wire).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pgaurora import datatypes
from pgaurora.errors import (
    ActiveSqlTransaction,
    DuplicatePreparedStatement,
    FeatureNotSupported,
    ProtocolViolationError,
    QueryCanceled,
)
from pgaurora.session.fastpath import fast_plan_of
from pgaurora.session.locking import NO_LOCKS, lock_relations, must_wait, plan_locks
from pgaurora.session.portals import Namespace, Portal, PreparedStatement
from pgaurora.session.transaction import BlockState, TransactionBlock, in_failed_transaction
from pgaurora.session.utility import UTILITY_NODES, is_transaction_exit, outside_block_only

if TYPE_CHECKING:
    from pgaurora.session.engine import Engine
    from pgaurora.session.session import ResultSink

FETCH_BATCH = 1000


class ExtendedProtocol:
    """Mixed into Session; uses its engine, block, names, utility runner and cancellation."""

    engine: Engine
    block: TransactionBlock
    settings: Any
    names: Namespace
    utility: Any
    _copy_tag: str
    _sink: ResultSink | None
    activity_query: str
    activity_fast: Any
    query_start: float | None
    pid: int

    if TYPE_CHECKING:
        def _arm(self) -> None: ...
        def _disarm(self) -> None: ...
        def _cancelled(self) -> QueryCanceled | None: ...
        def _armed(self) -> contextlib.AbstractContextManager[None]: ...
        async def _start(self, plan: Any, params: tuple[Any, ...], extra: dict[str, Any] | None = None,
                         replan: Any = None) -> Any: ...
        async def _copy(self, stmt: Any, plan: Any, params: tuple[Any, ...], sink: Any) -> None: ...
        def plan_statement(self, stmt: Any, param_types: tuple[int, ...] = ()) -> Any: ...

    async def parse(self, name: str, sql: str, param_oids: Sequence[int] = ()) -> PreparedStatement:
        stmt = self.engine.parse_one(sql)
        await self.engine.sync_catalog()
        if self.block.state is BlockState.FAILED and not is_transaction_exit(stmt.node_type, stmt.tree):
            raise in_failed_transaction()
        if name and name in self.names.statements:
            raise DuplicatePreparedStatement(f'prepared statement "{name}" already exists')
        self.block.start_implicit()
        prepared = self.prepare(name, sql, stmt, tuple(param_oids))
        if prepared.plan is not None and self.engine.relation_locks is not None \
                and self.engine.relation_locks.locks:
            await self._lock_at_parse(prepared)
        if name:
            self.names.add_statement(prepared)
        else:
            self.names.statements[""] = prepared
        return prepared

    async def _lock_at_parse(self, prepared: PreparedStatement) -> None:
        """PostgreSQL takes a statement's relation locks in parse analysis, so a Parse that must
        wait (a table being altered or dropped) describes the table as it is after the wait.
        Only a Parse that would wait begins the transaction here; otherwise Execute takes them."""
        table = self.engine.relation_locks
        locks = plan_locks(prepared.plan)
        if locks is NO_LOCKS or not must_wait(locks, self.block.txn, table):
            return
        txn = self.block.transaction()
        version = self.engine.catalog_version
        with self._armed():  # the wait can be canceled (and times out) like a running statement
            await lock_relations(locks, txn, table, self.engine.catalog)
        await self.engine.sync_catalog()
        if self.engine.catalog_version != version:  # parsed after the wait: a new result is no change
            prepared.catalog_version = -1
            self._replan_if_stale(prepared, fixed_result=False)

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
        plan = self.plan_statement(stmt, param_oids)
        return PreparedStatement(name, sql, stmt, stmt.tree, None, tuple(plan.param_types), plan=plan,
                                 columns=plan.columns, catalog_version=self.engine.catalog_version,
                                 path_key=self.settings.path_key,
                                 from_sql=from_sql, fast=fast_plan_of(plan))

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

    def _replan_if_stale(self, stmt: PreparedStatement, fixed_result: bool = True) -> None:
        """Plans a prepared statement again when the catalog changed since, or the search path
        or current_user did (they decide what its unqualified names are: PostgreSQL's plan cache
        compares the search path too). Its result must keep its columns' names and types
        (0A000 otherwise, as PostgreSQL's RevalidateCachedQuery: clients decode rows by the
        description they were given; asyncpg prepares again on that error)."""
        if stmt.plan is not None and (stmt.catalog_version != self.engine.catalog_version
                                      or stmt.path_key != self.settings.path_key):
            plan = self.plan_statement(stmt.parsed, stmt.param_types)
            if fixed_result and not same_result(stmt.columns, plan.columns):
                raise result_changed()
            stmt.plan, stmt.columns = plan, plan.columns
            stmt.catalog_version = self.engine.catalog_version
            stmt.path_key = self.settings.path_key
            stmt.fast = fast_plan_of(plan)
            stmt.fast_reply = None

    def _replan_portal(self, portal: Portal) -> tuple[Any, tuple[Any, ...]]:
        """DDL committed while the portal waited for a relation lock: its statement planned
        again (PostgreSQL's plan cache revalidation, with its error when the columns changed:
        _replan_if_stale keeps the columns the portal was bound with, or raises)."""
        stmt = portal.statement
        stmt.catalog_version = -1
        self._replan_if_stale(stmt)
        portal.plan = stmt.plan
        return stmt.plan, portal.params

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
        self.activity_query = stmt.sql  # pg_stat_activity
        self.activity_fast = None
        self.query_start = time.time()
        with self._armed():
            if stmt.utility is not None:
                await self._execute_utility(portal, max_rows, sink)
            else:
                try:
                    await self._execute_plan(portal, max_rows, sink)
                finally:
                    self.nonatomic = False

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
            if parsed.node_type == "LockStmt" and not self.block.in_block:  # RequireTransactionBlock
                from pgaurora.errors import NoActiveSqlTransaction

                raise NoActiveSqlTransaction("LOCK TABLE can only be used in transaction blocks")
            # (a CALL or DO outside a block may end its transaction: session.routines)
            self.nonatomic = parsed.node_type in ("CallStmt", "DoStmt") and not self.block.in_block
            cursor = portal.cursor = await self._start(portal.plan, portal.params,
                                                       replan=lambda: self._replan_portal(portal))
        if max_rows <= 0:
            while True:
                rows = await cursor.fetch(FETCH_BATCH)
                if not rows:
                    break
                sink.data_rows(rows)
                if len(rows) >= FETCH_BATCH:
                    await asyncio.sleep(0)   # let the other sessions (and cancels) run
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


def same_result(old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> bool:
    """Whether two descriptions of a statement's result (executor.plannodes.ResultColumn) agree
    in what a client decodes by: PostgreSQL's equalTupleDescs of the result (names, types,
    typmods; not the columns they come from)."""
    if old is None or new is None:
        return old is new
    return len(old) == len(new) and all(
        (a.name, a.type_oid, a.typmod) == (b.name, b.type_oid, b.typmod) for a, b in zip(old, new, strict=True))


def result_changed() -> FeatureNotSupported:
    """PostgreSQL's error for a prepared statement whose result would change (with its source
    function, by which asyncpg recognizes it)."""
    return FeatureNotSupported("cached plan must not change result type", routine="RevalidateCachedQuery")
