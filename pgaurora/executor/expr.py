"""Bound, typed expressions (read-only values) as the planner hands them to the executor.

Owns the expression node types: what a plan's targets, quals and keys are made of. Not their
evaluation (executor.compile turns them into closures once per plan) and not binding names to
columns (planner.binder). Every node carries its result type oid and typmod.

    a.x + 1 > $1      ->   FuncExpr(">", [FuncExpr("+", [Var(0), Const(1)]), Param(0)])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Expr:
    """Base of expression nodes; `type_oid` and `typmod` describe the result."""

    __slots__ = ()
    type_oid: int
    typmod: int


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: Any
    type_oid: int
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class Param(Expr):
    """$n of the statement (index is 0-based)."""

    index: int
    type_oid: int
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class ExecParam(Expr):
    """A value set at run time by an enclosing node: an outer row's column in a correlated subquery."""

    slot: int
    type_oid: int
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class Var(Expr):
    """Column `index` of the input row; `name` is for EXPLAIN only."""

    index: int
    type_oid: int
    typmod: int = -1
    name: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class FuncExpr(Expr):
    """A call of a Python implementation of a SQL function or operator.

    `strict` functions return NULL when any argument is NULL without being called (PostgreSQL's
    proisstrict); `volatile` ones are never constant-folded.
    """

    name: str
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Expr, ...]
    type_oid: int
    typmod: int = -1
    strict: bool = True
    volatile: bool = False
    is_operator: bool = False
    needs_context: bool = False
    retset: bool = False  # a set-returning function in a target list (ProjectSet expands it)
    # a call of a user function returning a row (OUT parameters): its fields' (name, type); the
    # value is the tuple of them, of type record
    columns: tuple[tuple[str, int], ...] = field(default=(), compare=False)


class BoolOp(Enum):
    AND = "AND"
    OR = "OR"
    NOT = "NOT"


@dataclass(frozen=True, slots=True)
class BoolExpr(Expr):
    op: BoolOp
    args: tuple[Expr, ...]
    type_oid: int = 16
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class NullTest(Expr):
    arg: Expr
    is_not: bool
    type_oid: int = 16
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class BooleanTest(Expr):
    """IS [NOT] TRUE / FALSE / UNKNOWN."""

    arg: Expr
    test: str
    type_oid: int = 16
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class CaseExpr(Expr):
    """CASE [arg] WHEN .. THEN .. ELSE .. END; with `arg`, each `when` is a boolean over Var-free equality."""

    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None
    type_oid: int
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class CoalesceExpr(Expr):
    args: tuple[Expr, ...]
    type_oid: int
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class MinMaxExpr(Expr):
    """GREATEST / LEAST (NULLs ignored)."""

    is_greatest: bool
    args: tuple[Expr, ...]
    compare: Callable[[Any, Any], bool] = field(compare=False)
    type_oid: int = 0
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class ScalarArrayOp(Expr):
    """x op ANY/ALL (array) and x IN (list): `fn(x, elem)` per element, SQL three-valued logic."""

    fn: Callable[[Any, Any], Any] = field(compare=False)
    name: str
    use_or: bool
    left: Expr
    right: Expr
    type_oid: int = 16
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class ArrayExpr(Expr):
    elements: tuple[Expr, ...]
    type_oid: int
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class RowExpr(Expr):
    fields: tuple[Expr, ...]
    type_oid: int = 2249
    typmod: int = -1
    names: tuple[str, ...] = field(default=(), compare=False)  # a whole-row reference's column names
    null: bool = False  # a NULL of this row's shape (PL/pgSQL's OLD in an INSERT trigger)


class SubLinkKind(Enum):
    EXISTS = "EXISTS"
    EXPR = "EXPR"  # scalar subquery
    ANY = "ANY"  # x op ANY (subquery), x IN (subquery)
    ALL = "ALL"
    ARRAY = "ARRAY"


@dataclass(frozen=True, slots=True)
class SubPlanExpr(Expr):
    """A subquery inside an expression.

    `plan` is an executor plan node; before each run the values of `outer_args` (evaluated on the
    current row) are stored into ExecParam slots `outer_slots`. For ANY/ALL, `compare(left, v)`
    is applied to the subquery's single column. Uncorrelated subqueries run once per execution.
    """

    kind: SubLinkKind
    plan: Any
    outer_slots: tuple[int, ...]
    outer_args: tuple[Expr, ...]
    left: Expr | None
    compare: Callable[[Any, Any], Any] | None = field(compare=False)
    type_oid: int = 16
    typmod: int = -1
    op_name: str = ""  # the ANY/ALL operator ("=" lets IN (subquery) probe a hash set)


@dataclass(frozen=True, slots=True)
class ContextValue(Expr):
    """A value read from the execution context: current_timestamp, current_user, settings."""

    name: str
    type_oid: int
    typmod: int = -1


def walk(expr: Expr) -> list[Expr]:
    """Every node of `expr`, parents before children (not descending into subplans)."""
    out: list[Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(children(node))
    return out


def children(node: Expr) -> tuple[Expr, ...]:
    if isinstance(node, FuncExpr | BoolExpr | CoalesceExpr | MinMaxExpr):
        return node.args
    if isinstance(node, NullTest | BooleanTest):
        return (node.arg,)
    if isinstance(node, CaseExpr):
        parts: list[Expr] = []
        for cond, result in node.whens:
            parts.extend((cond, result))
        if node.default is not None:
            parts.append(node.default)
        return tuple(parts)
    if isinstance(node, ScalarArrayOp):
        return (node.left, node.right)
    if isinstance(node, ArrayExpr):
        return node.elements
    if isinstance(node, RowExpr):
        return node.fields
    if isinstance(node, SubPlanExpr):
        return node.outer_args + ((node.left,) if node.left is not None else ())
    return ()


def max_var_index(expr: Expr) -> int:
    """The highest Var index used in `expr`, -1 if none."""
    return max((n.index for n in walk(expr) if isinstance(n, Var)), default=-1)


def shift_vars(expr: Expr, mapping: Callable[[int], int]) -> Expr:
    """A copy of `expr` with every Var index remapped (used when moving quals across joins)."""
    return transform(expr, lambda n: Var(mapping(n.index), n.type_oid, n.typmod, n.name) if isinstance(n, Var) else None)


def transform(expr: Expr, fn: Callable[[Expr], Expr | None]) -> Expr:
    """Bottom-up rewrite: `fn(node)` returns a replacement or None to keep (children rewritten)."""
    replaced = fn(expr)
    if replaced is not None:
        return replaced
    if isinstance(expr, FuncExpr):
        return FuncExpr(expr.name, expr.fn, tuple(transform(a, fn) for a in expr.args), expr.type_oid,
                        expr.typmod, expr.strict, expr.volatile, expr.is_operator, expr.needs_context, expr.retset)
    if isinstance(expr, BoolExpr):
        return BoolExpr(expr.op, tuple(transform(a, fn) for a in expr.args))
    if isinstance(expr, CoalesceExpr):
        return CoalesceExpr(tuple(transform(a, fn) for a in expr.args), expr.type_oid, expr.typmod)
    if isinstance(expr, MinMaxExpr):
        return MinMaxExpr(expr.is_greatest, tuple(transform(a, fn) for a in expr.args), expr.compare,
                          expr.type_oid, expr.typmod)
    if isinstance(expr, NullTest):
        return NullTest(transform(expr.arg, fn), expr.is_not)
    if isinstance(expr, BooleanTest):
        return BooleanTest(transform(expr.arg, fn), expr.test)
    if isinstance(expr, CaseExpr):
        whens = tuple((transform(c, fn), transform(r, fn)) for c, r in expr.whens)
        default = transform(expr.default, fn) if expr.default is not None else None
        return CaseExpr(whens, default, expr.type_oid, expr.typmod)
    if isinstance(expr, ScalarArrayOp):
        return ScalarArrayOp(expr.fn, expr.name, expr.use_or, transform(expr.left, fn), transform(expr.right, fn))
    if isinstance(expr, ArrayExpr):
        return ArrayExpr(tuple(transform(a, fn) for a in expr.elements), expr.type_oid, expr.typmod)
    if isinstance(expr, RowExpr):
        return RowExpr(tuple(transform(a, fn) for a in expr.fields), names=expr.names, null=expr.null)
    if isinstance(expr, SubPlanExpr):
        left = transform(expr.left, fn) if expr.left is not None else None
        return SubPlanExpr(expr.kind, expr.plan, expr.outer_slots, tuple(transform(a, fn) for a in expr.outer_args),
                           left, expr.compare, expr.type_oid, expr.typmod, expr.op_name)
    return expr
