"""Node dispatch: which coroutine runs which plan node, and per-plan compiled-expression caching.

Owns `run_node(node, env)` (an async iterator of row batches), the registry the node modules
fill in, the cache of compiled expressions (compiled once per plan node, reused by every run
of a cached plan) and subplan evaluation for expressions. Not the node logic itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from pgaurora.errors import CardinalityViolation
from pgaurora.executor.compile import CompiledExpr, WaitCall, compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Expr, SubLinkKind, SubPlanExpr

Batch = list[tuple[Any, ...]]
NodeRunner = Callable[[Any, Env], AsyncIterator[Batch]]
BATCH_SIZE = 512

RUNNERS: dict[type, NodeRunner] = {}
_COMPILED: dict[tuple[int, str], tuple[Any, Any]] = {}
_COMPILED_LIMIT = 50_000


def runner(node_type: type) -> Callable[[NodeRunner], NodeRunner]:
    def register(fn: NodeRunner) -> NodeRunner:
        RUNNERS[node_type] = fn
        return fn
    return register


def run_node(node: Any, env: Env) -> AsyncIterator[Batch]:
    return RUNNERS[type(node)](node, env)


def compiled(node: Any, key: str, build: Callable[[], Any]) -> Any:
    """`build()` once per (plan node, key); the node is kept alive so its id stays unique."""
    cache_key = (id(node), key)
    hit = _COMPILED.get(cache_key)
    if hit is not None and hit[0] is node:
        return hit[1]
    if len(_COMPILED) > _COMPILED_LIMIT:
        _COMPILED.clear()
    value = build()
    _COMPILED[cache_key] = (node, value)
    return value


def compiled_expr(node: Any, key: str, expr: Expr) -> CompiledExpr:
    return compiled(node, key, lambda: compile_expr(expr))  # type: ignore[no-any-return]


def compiled_projection(node: Any, key: str, exprs: tuple[Expr, ...]) -> tuple[Any, Any]:
    return compiled(node, key, lambda: compile_exprs(exprs))  # type: ignore[no-any-return]


async def collect(node: Any, env: Env) -> Batch:
    rows: Batch = []
    async for batch in run_node(node, env):
        rows.extend(batch)
    return rows


async def prepare_all(subplans: list[Any], row: Any, env: Env) -> None:
    for key, sub, arg_fns in subplans:
        if type(sub) is WaitCall:  # a function that may wait (executor.compile)
            env.subplan_values[key] = await sub.run(row, env)
            continue
        if not sub.outer_slots:
            if key in env.subplan_values:
                continue
        else:
            for slot, arg_fn in zip(sub.outer_slots, arg_fns, strict=True):
                env.exec_params[slot] = arg_fn(row, env)
        env.subplan_values[key] = await eval_subplan(sub, env)


async def eval_subplan(sub: SubPlanExpr, env: Env) -> Any:
    """Runs a subquery for its expression: EXISTS, scalar, ANY/ALL list, ARRAY.

    A correlated subquery gets fresh CTE results: a WITH inside it may read the outer row.
    """
    if not sub.outer_slots:
        return await _eval_subplan(sub, env)
    saved = env.cte_rows
    env.cte_rows = {}
    try:
        return await _eval_subplan(sub, env)
    finally:
        env.cte_rows = saved


async def _eval_subplan(sub: SubPlanExpr, env: Env) -> Any:
    kind = sub.kind
    if kind is SubLinkKind.EXISTS:
        async for batch in run_node(sub.plan, env):
            if batch:
                return True
        return False
    if kind is SubLinkKind.EXPR:
        value = None
        seen = False
        async for batch in run_node(sub.plan, env):
            for row in batch:
                if seen:
                    raise CardinalityViolation("more than one row returned by a subquery used as an expression")
                seen = True
                value = row[0]
        return value
    rows = await collect(sub.plan, env)
    return [r[0] for r in rows]


async def filter_batches(source: AsyncIterator[Batch], pred: CompiledExpr, env: Env) -> AsyncIterator[Batch]:
    fn = pred.fn
    if pred.subplans:
        async for batch in source:
            out = []
            for row in batch:
                await prepare_all(pred.subplans, row, env)
                if fn(row, env) is True:
                    out.append(row)
            if out:
                yield out
        return
    async for batch in source:
        out = [row for row in batch if fn(row, env) is True]
        if out:
            yield out
