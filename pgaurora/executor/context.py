"""Execution context and per-run environment.

Owns ExecContext (what the session hands the executor for one statement: transaction,
storage, catalog, settings, notices, cancellation) and Env (the state of one run of one plan:
parameter values, ExecParam slots, subplan results, materialized CTEs). Not plans (plannodes)
and not node logic (the node modules).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pgaurora.errors import QueryCanceled


class Settings:
    """The minimal settings object: `get(name) -> str` over a dict (the session passes its own)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = {"timezone": "UTC", "datestyle": "ISO, MDY", "search_path": '"$user", public',
                       "server_version": "15.18", "client_encoding": "UTF8"}
        if values:
            self.values.update(values)

    def get(self, name: str, missing_ok: bool = False) -> str:
        return self.values.get(name.lower(), "")


@dataclass(slots=True)
class ExecContext:
    """What one statement runs with; built by the session for each execution."""

    txn: Any
    storage: Any
    catalog: Any
    settings: Any = field(default_factory=Settings)
    notice: Callable[..., None] = field(default=lambda message, *severity: None)  # (str | PgError[, severity])
    statement_start: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    transaction_start: datetime.datetime | None = None
    is_canceled: Callable[[], bool] = field(default=lambda: False)
    user: str = "postgres"
    session_user: str = "postgres"
    database: str = "postgres"
    snapshot: Any = None
    format_context: Any = None
    backend_pid: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def check_cancel(self) -> None:
        if self.is_canceled():
            raise QueryCanceled("canceling statement due to user request")

    def take_snapshot(self) -> Any:
        if self.snapshot is None:
            self.snapshot = self.txn.snapshot()
        return self.snapshot


class Env:
    """One run of one plan: parameters, exec param slots, subplan values, CTE rows."""

    __slots__ = ("ctx", "params", "exec_params", "subplan_values", "cte_rows", "worktables", "snapshot",
                 "_eval_subplan", "row_counts")

    def __init__(self, ctx: ExecContext, params: tuple[Any, ...], exec_param_count: int,
                 eval_subplan: Callable[..., Any]) -> None:
        self.ctx = ctx
        self.params = params
        self.exec_params: list[Any] = [None] * max(exec_param_count, 0)
        self.subplan_values: dict[int, Any] = {}
        self.cte_rows: dict[int, list[tuple[Any, ...]]] = {}
        self.worktables: dict[int, list[tuple[Any, ...]]] = {}
        self.snapshot: Any = None
        self._eval_subplan = eval_subplan
        self.row_counts: dict[str, int] = {}

    def ensure_slots(self, n: int) -> None:
        if len(self.exec_params) < n:
            self.exec_params.extend([None] * (n - len(self.exec_params)))

    async def eval_subplan(self, sub: Any, row: Any) -> Any:
        return await self._eval_subplan(sub, self)

    def context_value(self, name: str) -> Any:
        ctx = self.ctx
        if name in ("current_timestamp", "now"):
            return ctx.transaction_start or ctx.statement_start
        if name == "localtimestamp":
            return (ctx.transaction_start or ctx.statement_start).replace(tzinfo=None)
        if name == "current_date":
            return (ctx.transaction_start or ctx.statement_start).date()
        if name == "current_time":
            return (ctx.transaction_start or ctx.statement_start).timetz()
        if name == "localtime":
            return (ctx.transaction_start or ctx.statement_start).time()
        if name == "current_user":
            return ctx.user
        if name == "session_user":
            return ctx.session_user
        if name == "current_catalog":
            return ctx.database
        if name == "current_schema":
            return "public"
        return ctx.settings.get(name)
