"""What every query level of one statement shares while it is planned.

Owns the planner's working records (Planned: a node and its result columns; QueryContext: the
catalog state, parameter types, exec-param slots and the WITH frames; Cte) and the conjunct
helpers the rules use. Not planning itself (select, fromclause, modify).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pgaurora.catalog.state import CatalogState
from pgaurora.datatypes.typeinfo import TEXT_OID
from pgaurora.executor.expr import BoolExpr, BoolOp, Expr
from pgaurora.executor.plannodes import PlanNode, ResultColumn
from pgaurora.planner.resolve import ParamTypes
from pgaurora.planner.scope import Scope, StatementState


@dataclass(slots=True)
class Planned:
    node: PlanNode
    columns: list[ResultColumn]


@dataclass(slots=True)
class Cte:
    cte_id: int
    name: str
    planned: Planned | None
    column_names: list[str]
    recursive_types: list[tuple[int, int]] | None = None
    returning: bool = True  # False: a data-modifying CTE without RETURNING (cannot be read)


@dataclass(slots=True)
class QueryContext:
    """Shared by every query level of one statement."""

    catalog: CatalogState
    params: ParamTypes
    state: StatementState
    position: Callable[[int | None], int | None]
    parse_view: Callable[[str], dict[str, Any]]
    ctes: list[dict[str, Cte]] = field(default_factory=list)
    cte_counter: int = 0
    backend_pid: int = 0  # the session's backend (its temporary tables)
    # data-modifying CTEs (WITH x AS (INSERT ...)): run once each before the main query
    modifying_ctes: list[Any] = field(default_factory=list)
    # the statement names a system column (scope.mentions_system_column): tables carry them
    system_columns: bool = False


def conjuncts(expr: Expr | None) -> list[Expr]:
    if expr is None:
        return []
    if isinstance(expr, BoolExpr) and expr.op is BoolOp.AND:
        out: list[Expr] = []
        for a in expr.args:
            out.extend(conjuncts(a))
        return out
    return [expr]


def and_all(exprs: list[Expr]) -> Expr | None:
    if not exprs:
        return None
    if len(exprs) == 1:
        return exprs[0]
    return BoolExpr(BoolOp.AND, tuple(exprs))


def select_body(node: dict[str, Any]) -> dict[str, Any]:
    """Set-operation arms are bare SelectStmt bodies in pglast's JSON (sometimes wrapped)."""
    return node.get("SelectStmt", node)  # type: ignore[no-any-return]


def scope_type(scope: Scope, index: int) -> tuple[int, int]:
    for e in scope.entries:
        if e.offset <= index < e.offset + len(e.columns):
            return e.types[index - e.offset]
    return (TEXT_OID, -1)
