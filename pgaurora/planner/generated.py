"""Generated columns: GENERATED ALWAYS AS (expr) STORED.

Owns binding a generation expression over the row of its table, PostgreSQL's checks on it at
CREATE TABLE (42P17 for a reference to another generated column or a non-immutable function,
42803 for aggregates, 0A000 for subqueries), and putting the computed values into the rows
INSERT, UPDATE and COPY FROM write. The catalog keeps the expression text in
`Column.generated`; the value is stored in the heap like any other column.

    INSERT:  source rows (generated columns NULL)  ->  Project(Var.., expr over the row)  ->  Insert
    UPDATE:  new_row[g] = expr with each Var i replaced by new_row[i] (the assigned value)

Not the DEFAULT / identity rules (planner.modify) and not storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pgaurora.catalog.builtins import functions_named
from pgaurora.catalog.model import Column
from pgaurora.errors import FeatureNotSupported, InvalidObjectDefinition
from pgaurora.executor.expr import ContextValue, Expr, FuncExpr, Var, transform, walk
from pgaurora.executor.plannodes import PlanNode, Project
from pgaurora.planner.exprbind import Level, bind
from pgaurora.planner.querycontext import QueryContext
from pgaurora.planner.resolve import coerce
from pgaurora.planner.scope import RangeEntry, Scope

_CLAUSE = "column generation expression"
# types whose text output depends on DateStyle / TimeZone / IntervalStyle / extra_float_digits
_SETTING_DEPENDENT = frozenset((700, 701, 1082, 1083, 1114, 1184, 1186, 1266))


def _no_subquery(_query: dict[str, Any], _scope: Scope) -> Any:
    raise FeatureNotSupported(f"cannot use subquery in {_CLAUSE}")


def _entry(table_name: str, columns: Sequence[Column]) -> RangeEntry:
    return RangeEntry(table_name,
                      [c.name if not c.dropped else f"........pg.dropped.{c.attnum}........" for c in columns],
                      [(c.type_oid, c.typmod) for c in columns], attnums=[c.attnum for c in columns])


def generation_expr(qc: QueryContext, table_name: str, columns: Sequence[Column], index: int) -> Expr:
    """Column `index`'s generation expression, over the table row (Var i = column position i)."""
    from pgaurora.planner.modify import parse_expression

    col = columns[index]
    assert col.generated is not None
    scope = Scope(qc.state)
    scope.add(_entry(table_name, columns))
    lv = Level(scope, qc.params, lambda loc: None, _no_subquery, None, f"{_CLAUSE}s")
    expr = bind(parse_expression(col.generated), lv)
    return coerce(expr, col.type_oid, col.typmod, "assignment", qc.params, None, col.name)


def is_immutable(node: Expr) -> bool:
    """Would PostgreSQL accept this node in an expression that must be IMMUTABLE?"""
    if isinstance(node, ContextValue):
        return False
    if isinstance(node, FuncExpr):
        if node.is_operator and node.name == "||" and not any(a.type_oid in _SETTING_DEPENDENT for a in node.args):
            return True  # textanycat/anytextcat: PostgreSQL inlines them to an immutable cast and textcat
        if node.volatile:
            return False
        if not node.is_operator:
            found = functions_named(node.name)
            if found and all(getattr(f, "volatility", "i") != "i" for f in found):
                return False
    return True


def check_generated(qc: QueryContext, table_name: str, columns: Sequence[Column]) -> None:
    """CREATE TABLE's checks of every generation expression (PostgreSQL's cookDefault)."""
    generated = {i for i, c in enumerate(columns) if c.generated is not None}
    for i in sorted(generated):
        expr = generation_expr(qc, table_name, columns, i)
        for node in walk(expr):
            if isinstance(node, Var) and node.index in generated:
                raise InvalidObjectDefinition(
                    f'cannot use generated column "{columns[node.index].name}" in column generation expression',
                    detail="A generated column cannot reference another generated column.")
        if not all(is_immutable(n) for n in walk(expr)):
            raise InvalidObjectDefinition("generation expression is not immutable")


def has_generated(columns: Sequence[Column]) -> bool:
    return any(c.generated is not None for c in columns)


def with_generated(qc: QueryContext, table_name: str, columns: Sequence[Column], source: PlanNode) -> PlanNode:
    """`source` (full table rows, generated columns NULL) with the generated values computed."""
    if not has_generated(columns):
        return source
    exprs: list[Expr] = []
    for i, c in enumerate(columns):
        exprs.append(generation_expr(qc, table_name, columns, i) if c.generated is not None and not c.dropped
                     else Var(i, c.type_oid, c.typmod))
    return Project(source, tuple(exprs), len(columns))


def substitute_generated(qc: QueryContext, table_name: str, columns: Sequence[Column], new_row: list[Expr]) -> None:
    """UPDATE / ON CONFLICT DO UPDATE: each generated column recomputed from the row's new values."""
    for i, c in enumerate(columns):
        if c.generated is None or c.dropped:
            continue
        expr = generation_expr(qc, table_name, columns, i)
        new_row[i] = transform(expr, lambda n: new_row[n.index] if isinstance(n, Var) else None)


__all__ = ["is_immutable", "generation_expr", "check_generated", "has_generated", "with_generated", "substitute_generated"]
