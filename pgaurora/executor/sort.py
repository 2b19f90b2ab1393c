"""Sort and Unique: ORDER BY (ASC/DESC, NULLS FIRST/LAST) and DISTINCT / DISTINCT ON.

Owns in-memory sorting of the whole input (stable multi-pass: one Python sort per key, last
key first) and removing adjacent duplicates. Text compares in C collation (code point order,
which is UTF-8 byte order). Not choosing a sort (planner).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Var
from pgaurora.executor.nodes import BATCH_SIZE, Batch, collect, compiled, prepare_all, run_node, runner
from pgaurora.executor.plannodes import Sort, SortKey, Unique


def sort_rows(rows: list[tuple[Any, ...]], keys: tuple[SortKey, ...], env: Env,
              key_fns: list[Callable[[Any, Any], Any]]) -> None:
    """Sorts `rows` in place by `keys`, one stable pass per key from the last to the first.

    Ascending NULLS LAST sorts by (v is None, v); NULLS FIRST by (v is not None, v); DESC reverses.
    """
    for key, fn in zip(reversed(keys), reversed(key_fns), strict=True):
        flip = key.nulls_first != key.descending
        if isinstance(key.expr, Var):
            rows.sort(key=_var_key(key.expr.index, flip), reverse=key.descending)
        else:
            rows.sort(key=_fn_key(fn, env, flip), reverse=key.descending)


def _var_key(i: int, flip: bool) -> Callable[[tuple[Any, ...]], tuple[bool, Any]]:
    if flip:
        return lambda r: (r[i] is not None, r[i])
    return lambda r: (r[i] is None, r[i])


def _fn_key(fn: Callable[[Any, Any], Any], env: Env, flip: bool) -> Callable[[tuple[Any, ...]], tuple[bool, Any]]:
    if flip:
        return lambda r: _notnull_first(fn(r, env))
    return lambda r: _null_last(fn(r, env))


def _null_last(v: Any) -> tuple[bool, Any]:
    return (v is None, v)


def _notnull_first(v: Any) -> tuple[bool, Any]:
    return (v is not None, v)


@runner(Sort)
async def run_sort(node: Sort, env: Env) -> AsyncIterator[Batch]:
    rows = await collect(node.input, env)
    env.ctx.check_cancel()
    if all(isinstance(k.expr, Var) for k in node.keys):
        sort_rows(rows, node.keys, env, [_unused] * len(node.keys))
    else:
        # decorate each row with its key values, sort on those, then strip them again
        key_fn, subplans = compiled(node, "keys", lambda: compile_exprs(tuple(k.expr for k in node.keys)))
        width = node.input.width
        decorated = []
        for r in rows:
            if subplans:
                await prepare_all(subplans, r, env)
            decorated.append(r + key_fn(r, env))
        keys = tuple(SortKey(Var(width + i, k.expr.type_oid), k.descending, k.nulls_first)
                     for i, k in enumerate(node.keys))
        sort_rows(decorated, keys, env, [_unused] * len(keys))
        rows = [r[:width] for r in decorated]
    for i in range(0, len(rows), BATCH_SIZE):
        yield rows[i:i + BATCH_SIZE]


def _unused(row: Any, env: Any) -> Any:
    return None


@runner(Unique)
async def run_unique(node: Unique, env: Env) -> AsyncIterator[Batch]:
    if node.on_exprs:
        fn = compiled(node, "on", lambda: compile_exprs(node.on_exprs))[0]
    else:
        fn = None
    last: Any = object()
    async for batch in run_node(node.input, env):
        out = []
        for row in batch:
            key = fn(row, env) if fn is not None else row
            if key != last:
                out.append(row)
                last = key
        if out:
            yield out
