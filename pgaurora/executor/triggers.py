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

from typing import Any

from pgaurora.errors import FeatureNotSupported


class StatementTriggers:
    """The triggers one INSERT / UPDATE / DELETE statement fires on its table."""

    __slots__ = ("table", "event", "before_row", "after_row", "before_statement", "after_statement", "names",
                 "types", "queued", "ctx", "routines")

    def __init__(self, ctx: Any, table: Any, event: str, triggers: tuple[Any, ...], names: tuple[str, ...],
                 types: tuple[int, ...]) -> None:
        self.ctx = ctx
        self.table = table
        self.event = event
        mine = [t for t in triggers if event in t.events and t.enabled != "D"]
        self.before_row = [t for t in mine if t.for_each_row and t.timing == "before"]
        self.after_row = [t for t in mine if t.for_each_row and t.timing == "after"]
        self.before_statement = [t for t in mine if not t.for_each_row and t.timing == "before"]
        self.after_statement = [t for t in mine if not t.for_each_row and t.timing == "after"]
        self.names = names
        self.types = types
        self.queued: list[tuple[Any, tuple[Any, ...] | None, tuple[Any, ...] | None]] = []
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
        if self.after_row:
            self.queued.append((None, old, new))

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
                await self.routines.fire(trigger, self.table, self.event, self.names, self.types, old, new, self.ctx)
        for trigger in self.after_statement:
            await self.routines.fire(trigger, self.table, self.event, self.names, self.types, None, None, self.ctx)


def statement_triggers(env: Any, table_oid: int, event: str, checks: Any) -> StatementTriggers | None:
    """The triggers `event` fires on the table, or None when it has none (the usual case: one
    dictionary lookup per statement)."""
    ctx = env.ctx
    state = ctx.extra.get("catalog_state")
    if state is None:
        return None
    triggers = state.triggers.get(table_oid)
    if not triggers or not any(event in t.events for t in triggers):
        return None
    table = state.table(table_oid)
    if table is None:
        return None
    found = StatementTriggers(ctx, table, event, triggers, tuple(checks.column_names), tuple(checks.column_types))
    if not (found.before_row or found.after_row or found.before_statement or found.after_statement):
        return None
    return found
