"""Running a plan: `run(plan, params, ctx) -> Cursor`.

Owns the statement-level lifecycle: syncing the catalog, taking the statement's snapshot,
pulling batches on demand for `fetch(n)`, the CommandComplete tag, and closing the command
(bumping the transaction's command id after writes so later statements see them). Not the
nodes (node modules) and not the session's portals (session).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pgaurora.executor.context import Env, ExecContext
from pgaurora.executor.fastpath import point_lookup, point_shape
from pgaurora.executor.nodes import Batch, eval_subplan, run_node
from pgaurora.executor.plannodes import Plan
from pgaurora.executor.privileges import check as check_permissions

ROW_COMMANDS = {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "FETCH", "MOVE"}


class Cursor:
    """Rows of one execution, fetched in batches; `tag` is set once the statement is done."""

    def __init__(self, plan: Plan, env: Env, source: AsyncIterator[Batch]) -> None:
        self.plan = plan
        self.env = env
        self._source = source
        self._buffer: Batch = []
        self.done = False
        self.rowcount = 0
        self.tag: str | None = None
        self.columns = plan.columns

    async def fetch(self, n: int = 0) -> list[tuple[Any, ...]]:
        """Up to `n` rows (all remaining when n <= 0); an empty list once exhausted."""
        while not self.done and (n <= 0 or len(self._buffer) < n):
            try:
                batch = await self._source.__anext__()
            except StopAsyncIteration:
                await self._finish()
                break
            except BaseException:
                self.done = True
                raise
            self._buffer.extend(batch)
            self.env.ctx.check_cancel()
        if n <= 0:
            rows, self._buffer = self._buffer, []
        else:
            rows, self._buffer = self._buffer[:n], self._buffer[n:]
        if self.plan.columns is not None:
            self.rowcount += len(rows)
        return rows

    async def _finish(self) -> None:
        self.done = True
        env = self.env
        ctx = env.ctx
        catalog = ctx.catalog
        if hasattr(catalog, "flush_sequences") and not ctx.extra.get("nested"):
            # (a statement a function runs leaves this to the statement that called it: its call
            # may be one that cannot wait, session.routines.call_now)
            await catalog.flush_sequences()
        command = self.plan.command
        counts = env.row_counts
        if command not in ("SELECT", "EXPLAIN", "SHOW") or counts.get("modified"):
            # later statements of the transaction must see what this one wrote (CommandCounterIncrement)
            txn = ctx.txn
            if txn is not None and hasattr(txn, "next_command"):
                txn.next_command()
        self.tag = make_tag(command, counts.get("rows", self.rowcount + len(self._buffer)), counts)

    async def close(self) -> None:
        if not self.done:
            self.done = True
            aclose = getattr(self._source, "aclose", None)
            if aclose is not None:
                await aclose()


def make_tag(command: str, rows: int, counts: dict[str, int]) -> str:
    if "tag" in counts:
        return str(counts["tag_text"]) if "tag_text" in counts else command
    if command == "INSERT":
        return f"INSERT 0 {rows}"
    if command in ("SELECT", "UPDATE", "DELETE", "COPY", "FETCH", "MOVE", "MERGE"):
        return f"{command} {rows}"
    if command == "CREATE TABLE AS":
        return f"SELECT {rows}"
    return command


async def run(plan: Plan, params: tuple[Any, ...] | list[Any], ctx: ExecContext) -> Cursor:
    """Starts executing `plan`; rows come from `await cursor.fetch(n)`."""
    catalog = ctx.catalog
    if getattr(catalog, "pending", None) or getattr(catalog, "_needs_reload", False):
        await catalog.sync()
    state = catalog.state_for(ctx.txn) if hasattr(catalog, "state_for") else catalog
    ctx.extra["catalog_state"] = state.for_backend(int(getattr(ctx.txn, "pid", 0) or 0)) if state.temp_schemas else state
    if plan.permissions:
        check_permissions(plan.permissions, ctx, state)
    env = Env(ctx, tuple(params), plan.exec_param_count, eval_subplan)
    node = plan.node
    if ctx.txn is not None:
        env.snapshot = ctx.take_snapshot()
    if point_shape(node):
        rows = await point_lookup(node, env)
        if rows is not None:
            return Cursor(plan, env, _rows(rows))
    source = run_node(node, env)
    return Cursor(plan, env, source)


async def _rows(rows: Batch) -> AsyncIterator[Batch]:
    if rows:
        yield rows
