"""Firing CREATE TRIGGER's triggers around INSERT, UPDATE and DELETE.

Owns which triggers of a table fire for a statement and when, as PostgreSQL fires them: BEFORE
STATEMENT first; for each row BEFORE ROW triggers in name order, each seeing the row the one
before returned (a NULL return skips the row); AFTER ROW triggers queued and fired once the
statement's rows are written (a new command id first, so that they see every row), then AFTER
STATEMENT. WHEN conditions and UPDATE OF column lists decide per row (UPDATE OF: a listed
column's value changed). The functions run in the session (ctx.extra["session"].routines),
which the executor cannot import. Not the catalog rows (executor.routines) nor PL/pgSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pgaurora.errors import FeatureNotSupported
from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.deferred import is_deferred, put_off_trigger
from pgaurora.executor.expr import Expr
from pgaurora.executor.nodes import BATCH_SIZE, Batch, compiled, run_node, runner
from pgaurora.executor.plannodes import PlanNode


class StatementTriggers:
    """The triggers one INSERT / UPDATE / DELETE statement fires on its table."""

    __slots__ = ("table", "event", "before_row", "after_row", "before_statement", "after_statement", "names",
                 "types", "queued", "ctx", "routines", "capture", "old_rows", "new_rows")

    def __init__(self, ctx: Any, table: Any, event: str, triggers: tuple[Any, ...], names: tuple[str, ...],
                 types: tuple[int, ...]) -> None:
        self.ctx = ctx
        self.table = table
        self.event = event
        mine = [t for t in triggers if t.enabled != "D"]
        self.before_row = [t for t in mine if t.for_each_row and t.timing == "before"]
        self.after_row = [t for t in mine if t.for_each_row and t.timing == "after"]
        self.before_statement = [t for t in mine if not t.for_each_row and t.timing == "before"]
        self.after_statement = [t for t in mine if not t.for_each_row and t.timing == "after"]
        self.names = names
        self.types = types
        self.queued: list[tuple[Any, tuple[Any, ...] | None, tuple[Any, ...] | None]] = []
        # REFERENCING OLD / NEW TABLE: every row the statement wrote, for its AFTER triggers
        self.capture = any(t.old_table or t.new_table for t in (*self.after_row, *self.after_statement))
        self.old_rows: list[tuple[Any, ...]] = []
        self.new_rows: list[tuple[Any, ...]] = []
        session = ctx.extra.get("session")
        if session is None:
            raise FeatureNotSupported("triggers cannot fire here")
        self.routines = session.routines

    def _applies(self, trigger: Any, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> bool:
        if trigger.columns and old is not None and new is not None:
            return any(old[n - 1] != new[n - 1] for n in trigger.columns if n - 1 < len(old))
        return True

    async def _when(self, trigger: Any, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> bool:
        if trigger.when is None:
            return True
        return bool(await self.routines.trigger_condition(trigger, self.table, self.names, self.types, old, new,
                                                          self.ctx))

    async def start(self) -> None:
        for trigger in self.before_statement:
            await self.routines.fire(trigger, self.table, self.event, self.names, self.types, None, None, self.ctx)

    async def before(self, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        """The row to write after the BEFORE ROW triggers (None: skip it); for DELETE, OLD or None."""
        row = new if self.event != "delete" else old
        for trigger in self.before_row:
            if not self._applies(trigger, old, row if self.event == "update" else None):
                continue
            if not await self._when(trigger, old, new if self.event != "delete" else None):
                continue
            returned = await self.routines.fire(trigger, self.table, self.event, self.names, self.types,
                                                old, row if self.event != "delete" else None, self.ctx)
            if returned is None:
                return None
            if self.event != "delete":
                row = tuple(returned)
                new = row
        return row

    def after(self, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> None:
        if self.capture:
            if old is not None:
                self.old_rows.append(old)
            if new is not None:
                self.new_rows.append(new)
        if self.after_row:
            self.queued.append((None, old, new))

    def _transition(self, trigger: Any) -> dict[str, Any] | None:
        """A trigger's transition tables: name -> (column names, types, rows), dropped columns out."""
        if not (trigger.old_table or trigger.new_table):
            return None
        visible = [i for i, n in enumerate(self.names) if not n.startswith("........pg.dropped.")]
        names = tuple(self.names[i] for i in visible)
        types = tuple(self.types[i] for i in visible)
        out: dict[str, Any] = {}
        for name, rows in ((trigger.old_table, self.old_rows), (trigger.new_table, self.new_rows)):
            if name:
                out[name] = (names, types, [tuple(r[i] for i in visible) for r in rows])
        return out

    async def finish(self) -> None:
        """The AFTER ROW triggers of every row written, then AFTER STATEMENT ones."""
        if not self.queued and not self.after_statement:
            return
        txn = self.ctx.txn
        if txn is not None and hasattr(txn, "next_command"):
            txn.next_command()  # the triggers see every row of the statement
        queued, self.queued = self.queued, []
        for _, old, new in queued:
            for trigger in self.after_row:
                if not self._applies(trigger, old, new):
                    continue
                if not await self._when(trigger, old, new):
                    continue
                if trigger.constraint_oid and is_deferred(txn, trigger.constraint_oid, trigger.deferrable,
                                                          trigger.initially_deferred):
                    put_off_trigger(txn, (trigger.constraint_oid, trigger, self.table, self.event, self.names,
                                          self.types, old, new))
                    continue  # (fired at COMMIT, or at SET CONSTRAINTS ... IMMEDIATE)
                await self.routines.fire(trigger, self.table, self.event, self.names, self.types, old, new, self.ctx,
                                         self._transition(trigger))
        for trigger in self.after_statement:
            await self.routines.fire(trigger, self.table, self.event, self.names, self.types, None, None, self.ctx,
                                     self._transition(trigger))


def truncate_triggers(ctx: Any, state: Any, table: Any) -> StatementTriggers | None:
    """The BEFORE / AFTER TRUNCATE triggers of a table TRUNCATE empties (statement-level only)."""
    found = sorted((t for t in state.triggers.get(table.oid, ()) if "truncate" in t.events), key=lambda t: t.name)
    if not found:
        return None
    columns = [c for c in table.columns if not c.dropped]
    return StatementTriggers(ctx, table, "truncate", tuple(found), tuple(c.name for c in columns),
                             tuple(c.type_oid for c in columns))


def statement_triggers(env: Any, table_oid: int, event: str, checks: Any, *, rows: bool = True,
                       statement: bool | None = None) -> StatementTriggers | None:
    """The triggers `event` fires on the table, or None when it has none (the usual case: a
    dictionary lookup or two per statement). Row triggers are the table's own and those of the
    partitioned tables above it (PostgreSQL clones them onto each partition); statement triggers
    only the table's own, and none when `statement` is False (a partition reached through its
    parent: the parent's fire) or the statement runs over a partitioned table's partitions."""
    ctx = env.ctx
    state = ctx.extra.get("catalog_state")
    if state is None:
        return None
    table = state.table(table_oid)
    if table is None:
        return None
    if statement is None:
        statement = not ctx.extra.get("partitions_of_statement")
    found: list[Any] = []
    level = table
    own = True
    while level is not None:
        for trigger in state.triggers.get(level.oid, ()):
            if event in trigger.events and ((trigger.for_each_row and rows) or (not trigger.for_each_row and own
                                                                                and statement)):
                found.append(trigger)
        own = False
        level = state.table(level.partition_of) if level.partition_of else None
    if not found:
        return None
    found.sort(key=lambda t: t.name)  # (PostgreSQL fires a table's triggers in name order)
    return StatementTriggers(ctx, table, event, tuple(found), tuple(checks.column_names), tuple(checks.column_types))


@dataclass(frozen=True, slots=True)
class TransitionScan(PlanNode):
    """A trigger function's read of a transition table (REFERENCING ... TABLE AS name): the rows
    the firing statement wrote, which session.routines puts in the context it runs queries in."""

    name: str
    width: int


@runner(TransitionScan)
async def run_transition_scan(node: TransitionScan, env: Env) -> AsyncIterator[Batch]:
    rows = env.ctx.extra.get("transition_tables", {}).get(node.name)
    if rows is None:
        from pgaurora.errors import UndefinedTable

        raise UndefinedTable(f'relation "{node.name}" does not exist')
    for start in range(0, len(rows), BATCH_SIZE):
        yield rows[start:start + BATCH_SIZE]


@dataclass(frozen=True, slots=True)
class InsteadOf(PlanNode):
    """INSERT / UPDATE / DELETE on a view with INSTEAD OF triggers: `source` yields, per row the
    statement touches, NEW (insert), OLD then NEW (update) or OLD (delete) in the view's column
    layout; the triggers run instead of any write, and the rows they do not skip are counted
    (and returned: `returning` over the NEW row, OLD for DELETE)."""

    view_oid: int
    event: str
    source: PlanNode
    names: tuple[str, ...]
    types: tuple[int, ...]
    returning: tuple[Expr, ...] | None
    width: int


@runner(InsteadOf)
async def run_instead_of(node: InsteadOf, env: Env) -> AsyncIterator[Batch]:
    ctx = env.ctx
    state = ctx.extra.get("catalog_state")
    session = ctx.extra.get("session")
    view = state.by_oid.get(node.view_oid) if state is not None else None
    if session is None or view is None or state is None:
        raise FeatureNotSupported("INSTEAD OF triggers cannot fire here")
    triggers = sorted((t for t in state.triggers.get(node.view_oid, ()) if node.event in t.events
                       and t.timing == "instead" and t.enabled != "D"), key=lambda t: t.name)
    routines = session.routines
    exprs = node.returning
    returning = compiled(node, "returning", lambda: compile_exprs(exprs)[0]) if exprs is not None else None
    n = len(node.names)
    count = 0
    out: Batch = []
    async for batch in run_node(node.source, env):
        ctx.check_cancel()
        for row in batch:
            old = tuple(row[:n]) if node.event != "insert" else None
            new = tuple(row[n:2 * n]) if node.event == "update" else (tuple(row[:n]) if node.event == "insert"
                                                                        else None)
            result: tuple[Any, ...] | None = new if new is not None else old
            for trigger in triggers:
                result = await routines.fire(trigger, view, node.event, node.names, node.types, old,
                                             new if node.event != "delete" else None, ctx)
                if result is None:
                    break
                if node.event != "delete":
                    new = result
            if result is None:
                continue
            count += 1
            if returning is not None:
                out.append(returning(new if node.event != "delete" else old, env))
                if len(out) >= BATCH_SIZE:
                    yield out
                    out = []
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out
