"""Set-returning functions in target lists: PostgreSQL's split_pathtarget_at_srfs.

Owns turning a target list whose expressions call set-returning functions (SRFs) into a stack of
ProjectSet nodes under a Project. Not the placement errors (planner.exprbind refuses SRFs in
WHERE, CASE, aggregates...), not running a ProjectSet (executor.project).

Each distinct SRF call gets a level: 1 + the highest level of the SRF calls in its arguments.
The SRFs of one level run in lockstep in one ProjectSet (the shorter ones padded with NULLs),
which passes its input's columns through; the targets around them are computed per produced row
by the Project on top, with every SRF replaced by a Var over its ProjectSet column:

    SELECT generate_series(1, generate_series(1, 3)) * 2
        Project: $4 * 2                          (one row per produced row)
        └─ ProjectSet: ..input, generate_series(1, $3)      (level 2)
           └─ ProjectSet: ..input, generate_series(1, 3)    (level 1)

A target list whose SRFs are all whole targets with SRF-free arguments, and whose other targets
call nothing volatile, keeps the single ProjectSet it always had (the other targets are computed
once per input row there).
"""

from __future__ import annotations

from collections.abc import Callable

from pgaurora.executor.explain import show
from pgaurora.executor.expr import Const, Expr, FuncExpr, Param, Var, children, transform, walk
from pgaurora.executor.plannodes import PlanNode, Project, ProjectSet


def is_srf(expr: Expr) -> bool:
    return isinstance(expr, FuncExpr) and expr.retset


def contains_srf(expr: Expr) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, FuncExpr):
            if node.retset:
                return True
            stack.extend(node.args)
        elif not isinstance(node, Var | Const | Param):  # (the common leaves, checked first)
            stack.extend(children(node))
    return False


def outer_calls(exprs: list[Expr]) -> list[Expr]:
    """The distinct SRF calls of `exprs` that are not arguments of another SRF call."""
    found: list[Expr] = []
    stack = list(reversed(exprs))
    while stack:
        node = stack.pop()
        if is_srf(node):
            if node not in found:
                found.append(node)
            continue
        stack.extend(reversed(children(node)))
    return found


def reading_columns(calls: list[Expr], base: int) -> Callable[[Expr], Expr | None]:
    """A transform step reading call k from column `base + k` (where a node below computed it)."""
    def fn(n: Expr) -> Expr | None:
        if is_srf(n):
            for k, call in enumerate(calls):
                if n == call:
                    return Var(base + k, n.type_oid, n.typmod, show(call))
        return None
    return fn


def _volatile(expr: Expr) -> bool:
    return any(isinstance(n, FuncExpr) and n.volatile for n in walk(expr))


def project_targets(node: PlanNode, exprs: tuple[Expr, ...]) -> PlanNode:
    """A node computing `exprs` over the rows of `node`, expanding the SRFs among them."""
    width = len(exprs)
    if not any(contains_srf(e) for e in exprs):
        return Project(node, exprs, width)
    whole = tuple(i for i, e in enumerate(exprs) if is_srf(e))
    if (all(not contains_srf(a) for i in whole for a in children(exprs[i]))
            and all(not contains_srf(e) and not _volatile(e) for i, e in enumerate(exprs) if i not in whole)):
        return ProjectSet(node, exprs, whole, width)
    return _stacked(node, exprs)


def _stacked(node: PlanNode, exprs: tuple[Expr, ...]) -> PlanNode:
    calls: list[Expr] = []  # distinct SRF calls, innermost first
    levels: list[int] = []

    def level_of(expr: Expr) -> int:
        """The level of the SRFs in `expr` (0: none); records each distinct call once."""
        inner = max((level_of(c) for c in children(expr)), default=0)
        if not is_srf(expr):
            return inner
        if expr in calls:
            return levels[calls.index(expr)]
        calls.append(expr)
        levels.append(inner + 1)
        return inner + 1

    for e in exprs:
        level_of(e)
    columns: list[int] = [-1] * len(calls)  # each call's column in the ProjectSet that computes it

    def over_columns(expr: Expr, below: int) -> Expr:
        """`expr` with the SRF calls of levels below `below` read from their columns."""
        def fn(n: Expr) -> Expr | None:
            if is_srf(n) and n in calls:
                k = calls.index(n)
                if levels[k] < below:
                    return Var(columns[k], n.type_oid, n.typmod, show(n))
            return None
        return transform(expr, fn)

    current = node
    width = node.width
    for level in range(1, max(levels) + 1):
        out: list[Expr] = [Var(i, 0) for i in range(width)]  # the input's columns, passed through
        for k, call in enumerate(calls):
            if levels[k] == level:
                columns[k] = len(out)
                out.append(over_columns(call, level))
        positions = tuple(range(width, len(out)))
        current = ProjectSet(current, tuple(out), positions, len(out))
        width = len(out)
    top = max(levels) + 1
    return Project(current, tuple(over_columns(e, top) for e in exprs), len(exprs))
