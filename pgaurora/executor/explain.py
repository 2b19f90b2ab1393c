"""EXPLAIN: plan trees as PostgreSQL-style text (as with COSTS OFF), and EXPLAIN ANALYZE.

Owns the Explain node and rendering node names, index conditions, filters, join keys, sort keys
and (with ANALYZE) actual row counts and timings. Not choosing plans (planner).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pgaurora.executor.context import Env
from pgaurora.executor.expr import (
    BooleanTest,
    BoolExpr,
    CaseExpr,
    CoalesceExpr,
    Const,
    ContextValue,
    ExecParam,
    Expr,
    FuncExpr,
    NullTest,
    Param,
    ScalarArrayOp,
    SubPlanExpr,
    Var,
)
from pgaurora.executor.mergejoin import MergeJoin
from pgaurora.executor.nodes import Batch, run_node, runner
from pgaurora.executor.partition import PartitionGuard
from pgaurora.executor.plannodes import (
    Aggregate,
    CteScan,
    Filter,
    FunctionScan,
    HashJoin,
    IndexScan,
    Limit,
    NestLoop,
    PlanNode,
    Project,
    ProjectSet,
    RecursiveUnion,
    RowsFromScan,
    SampleScan,
    SeqScan,
    SetOp,
    Sort,
    Unique,
    ValuesScan,
    WindowAgg,
    WorkTableScan,
)


@dataclass(frozen=True, slots=True)
class Explain(PlanNode):
    plan: PlanNode
    analyze: bool = False
    width: int = 1


_EXEC_PARAMS: dict[int, Expr] = {}  # while rendering: nested-loop parameter slot -> outer expression


def show(expr: Expr | None) -> str:
    if expr is None:
        return ""
    if isinstance(expr, Var):
        return expr.name or f"${expr.index}"
    if isinstance(expr, Const):
        if expr.value is None:
            return "NULL"
        if isinstance(expr.value, str):
            return "'" + expr.value.replace("'", "''") + "'"
        return str(expr.value)
    if isinstance(expr, Param):
        return f"${expr.index + 1}"
    if isinstance(expr, ExecParam):
        outer = _EXEC_PARAMS.get(expr.slot)
        return show(outer) if outer is not None else f"$exec{expr.slot}"
    if isinstance(expr, FuncExpr):
        if expr.is_operator and len(expr.args) == 2:
            return f"({show(expr.args[0])} {expr.name} {show(expr.args[1])})"
        if len(expr.args) == 1 and not expr.is_operator and expr.name[:1].isalpha() and expr.name == expr.name.lower() \
                and " " in expr.name:
            return f"({show(expr.args[0])})::{expr.name}"
        return f"{expr.name}({', '.join(show(a) for a in expr.args)})"
    if isinstance(expr, BoolExpr):
        if expr.op.value == "NOT":
            return f"(NOT {show(expr.args[0])})"
        return "(" + f" {expr.op.value} ".join(show(a) for a in expr.args) + ")"
    if isinstance(expr, NullTest):
        return f"({show(expr.arg)} IS {'NOT ' if expr.is_not else ''}NULL)"
    if isinstance(expr, BooleanTest):
        return f"({show(expr.arg)} {expr.test.replace('_', ' ')})"
    if isinstance(expr, ScalarArrayOp):
        return f"({show(expr.left)} {expr.name} {'ANY' if expr.use_or else 'ALL'} (...))"
    if isinstance(expr, SubPlanExpr):
        return f"(SubPlan {expr.kind.value})"
    if isinstance(expr, CaseExpr):
        whens = " ".join(f"WHEN {show(w)} THEN {show(t)}" for w, t in expr.whens)
        return f"CASE {whens}{f' ELSE {show(expr.default)}' if expr.default is not None else ''} END"
    if isinstance(expr, CoalesceExpr):
        return f"COALESCE({', '.join(show(a) for a in expr.args)})"
    if isinstance(expr, ContextValue):  # CURRENT_USER, CURRENT_TIMESTAMP, ... as PostgreSQL prints them
        return expr.name.upper()
    return type(expr).__name__


def describe(node: Any) -> tuple[str, list[str]]:
    """(node title, detail lines) for one plan node."""
    details: list[str] = []
    if isinstance(node, SampleScan):
        repeatable = f" REPEATABLE ({show(node.seed)})" if node.seed is not None else ""
        details.append(f"Sampling: {node.method} ({show(node.percent)}){repeatable}")
        return f"Sample Scan on {getattr(node.input, 'table_name', '')}", details
    if isinstance(node, SeqScan):
        if node.qual is not None:
            details.append(f"Filter: {show(node.qual)}")
        return f"Seq Scan on {node.table_name}", details
    if isinstance(node, IndexScan):
        names = node.key_names or tuple(f"key{i + 1}" for i in range(node.key_count))
        conds = [f"({names[i]} = {show(k)})" for i, k in enumerate(node.eq_keys)]
        n = len(node.eq_keys)
        if node.lo is not None:
            conds.append(f"({names[n]} {'>=' if node.lo_inclusive else '>'} {show(node.lo)})")
        if node.hi is not None:
            conds.append(f"({names[n]} {'<=' if node.hi_inclusive else '<'} {show(node.hi)})")
        if node.in_list is not None:
            conds.append(f"({names[n]} = ANY (...))")
        if not node.nulls:
            conds.append(f"({names[n]} IS NOT NULL)")
        if conds:  # none: the whole index, in order
            details.append("Index Cond: " + (conds[0] if len(conds) == 1 else "(" + " AND ".join(conds) + ")"))
        if node.qual is not None:
            details.append(f"Filter: {show(node.qual)}")
        backward = " Backward" if node.backward else ""
        return f"Index Scan{backward} using {node.index_name} on {node.table_name}", details
    if isinstance(node, Filter):
        return "Result", [f"Filter: {show(node.qual)}"]
    if isinstance(node, NestLoop):
        title = "Nested Loop" + ("" if node.join_type.value == "Inner" else f" {node.join_type.value} Join")
        if node.qual is not None:
            details.append(f"Join Filter: {show(node.qual)}")
        return title, details
    if isinstance(node, HashJoin | MergeJoin):
        method = "Hash" if isinstance(node, HashJoin) else "Merge"
        key_conds = " AND ".join(f"({show(o)} = {show(i)})" for o, i in zip(node.outer_keys, node.inner_keys, strict=True))
        details.append(f"{method} Cond: {key_conds}")
        if isinstance(node, MergeJoin) and node.qual is not None:
            details.append(f"Join Filter: {show(node.qual)}")
        return f"{method} Join" if node.join_type.value == "Inner" else f"{method} {node.join_type.value} Join", details
    if isinstance(node, Sort):
        keys = ", ".join(show(k.expr) + (" DESC" if k.descending else "") for k in node.keys)
        return "Sort", [f"Sort Key: {keys}"]
    if isinstance(node, Aggregate):
        if node.group_keys:
            return "HashAggregate", [f"Group Key: {', '.join(show(k) for k in node.group_keys)}"]
        return "Aggregate", []
    titles = {Limit: "Limit", Unique: "Unique", ValuesScan: "Values Scan", Project: "Result",
              ProjectSet: "ProjectSet", WindowAgg: "WindowAgg", SetOp: "SetOp", CteScan: "CTE Scan",
              WorkTableScan: "WorkTable Scan", RecursiveUnion: "Recursive Union", FunctionScan: "Function Scan"}
    title = titles.get(type(node), type(node).__name__)
    if isinstance(node, SetOp):
        title = ("Append" if node.kind.value == "Union" and node.all else f"HashSetOp {node.kind.value}")
    if isinstance(node, FunctionScan):
        title = f"Function Scan on {node.name}"
    if isinstance(node, RowsFromScan):
        title = f"Function Scan on {getattr(node.functions[0], 'name', '')}"
    if isinstance(node, CteScan):
        title = f"CTE Scan on {node.name}"
    if isinstance(node, ValuesScan) and node.width == 0:
        title = "Result"
    return title, details


CHILDREN = ("outer", "inner", "input", "left", "right", "source", "non_recursive", "recursive", "plan", "as_query")


def children(node: Any) -> list[Any]:
    if isinstance(node, SampleScan):  # (its SeqScan is part of it, as PostgreSQL's Sample Scan)
        return []
    out = []
    for name in CHILDREN:
        child = getattr(node, name, None)
        if isinstance(child, PlanNode):
            out.append(child)
    # MultiModify's partitions, ModifyingCtes' data-modifying CTEs
    out.extend(getattr(node, "parts", ()))
    out.extend(getattr(node, "ctes", ()))
    return out


def render(node: Any, stats: dict[int, list[float]] | None = None) -> list[str]:
    lines: list[str] = []

    _EXEC_PARAMS.clear()

    def visit(n: Any, depth: int) -> None:
        if isinstance(n, NestLoop):
            _EXEC_PARAMS.update(zip(n.param_slots, n.param_exprs, strict=True))
        # pass-through projections are not shown, as PostgreSQL folds them into their input; nor are
        # run-time partition pruning guards (PostgreSQL reports only the partitions it keeps), nor is
        # the step adding a scan's system columns
        # (a projection computing expressions over a ProjectSet's produced rows is PostgreSQL's Result)
        if (isinstance(n, Project | PartitionGuard) or type(n).__name__ == "SystemColumns") and not (  # (executor.scan)
                isinstance(n, Project) and isinstance(n.input, ProjectSet) and not all(isinstance(e, Var) for e in n.exprs)):
            for c in children(n):
                visit(c, depth)
            return
        title, details = describe(n)
        if stats is not None and id(n) in stats:
            rows, loops, ms = stats[id(n)]
            title += f" (actual time=0.000..{ms:.3f} rows={int(rows)} loops={int(loops)})"
        prefix = "" if depth == 0 else "  " * (depth - 1) + "  ->  "
        lines.append(prefix + title)
        pad = "  " * depth + ("      " if depth else "  ")
        for d in details:
            lines.append(pad + d)
        for c in children(n):
            visit(c, depth + 1)

    visit(node, 0)
    return lines


@runner(Explain)
async def run_explain(node: Explain, env: Env) -> AsyncIterator[Batch]:
    if not node.analyze:
        yield [(line,) for line in render(node.plan)]
        return
    start = time.perf_counter()
    rows = 0
    async for batch in run_node(node.plan, env):
        rows += len(batch)
    elapsed = (time.perf_counter() - start) * 1000
    lines = render(node.plan, {id(node.plan): [rows, 1, elapsed]})
    lines.append(f"Execution Time: {elapsed:.3f} ms")
    yield [(line,) for line in lines]
