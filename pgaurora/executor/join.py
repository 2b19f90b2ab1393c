"""Join nodes: nested loop (optionally parameterized, for index lookups) and hash join.

Owns INNER / LEFT / RIGHT / FULL / SEMI / ANTI semantics over outer+inner rows (the joined row
is the outer row's columns followed by the inner row's). Not choosing the join method or order
(planner.rules).

    NestLoop: for o in outer: [set ExecParams from o]; for i in inner(o): if qual(o+i): emit
    HashJoin: build {inner_keys(i): [i]} once; for o in outer: probe outer_keys(o)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.hashing import freeze_row
from pgaurora.executor.nodes import (
    BATCH_SIZE,
    Batch,
    collect,
    compiled,
    compiled_expr,
    prepare_all,
    run_node,
    runner,
)
from pgaurora.executor.plannodes import HashJoin, JoinType, NestLoop


@runner(NestLoop)
async def run_nestloop(node: NestLoop, env: Env) -> AsyncIterator[Batch]:
    jt = node.join_type
    qual = compiled_expr(node, "qual", node.qual) if node.qual is not None else None
    qfn = qual.fn if qual is not None else None
    qsub = qual.subplans if qual is not None else None
    outer_width = node.outer.width
    inner_width = node.inner.width
    null_inner = (None,) * inner_width
    null_outer = (None,) * outer_width
    parameterized = bool(node.param_slots)
    param_fn = compiled(node, "params", lambda: compile_exprs(node.param_exprs))[0] if parameterized else None
    inner_rows: Batch | None = None if parameterized else await collect(node.inner, env)
    inner_matched: set[int] | None = set() if jt in (JoinType.RIGHT, JoinType.FULL) else None
    out: Batch = []
    async for batch in run_node(node.outer, env):
        env.ctx.check_cancel()
        for o in batch:
            if parameterized:
                assert param_fn is not None
                values = param_fn(o, env)
                for slot, v in zip(node.param_slots, values, strict=True):
                    env.exec_params[slot] = v
                rows = await collect(node.inner, env)
            else:
                assert inner_rows is not None
                rows = inner_rows
            matched = False
            for idx, i in enumerate(rows):
                joined = o + i
                if qfn is not None:
                    if qsub:
                        await prepare_all(qsub, joined, env)
                    if qfn(joined, env) is not True:
                        continue
                matched = True
                if jt is JoinType.SEMI:
                    break
                if jt is JoinType.ANTI:
                    break
                if inner_matched is not None:
                    inner_matched.add(idx)
                out.append(joined)
            if not matched:
                if jt in (JoinType.LEFT, JoinType.FULL):
                    out.append(o + null_inner)
                elif jt is JoinType.ANTI:
                    out.append(o)
            elif jt is JoinType.SEMI:
                out.append(o)
            if len(out) >= BATCH_SIZE:
                yield out
                out = []
    if inner_matched is not None and inner_rows is not None:
        for idx, i in enumerate(inner_rows):
            if idx not in inner_matched:
                out.append(null_outer + i)
    if out:
        yield out


@runner(HashJoin)
async def run_hashjoin(node: HashJoin, env: Env) -> AsyncIterator[Batch]:
    jt = node.join_type
    inner_key = compiled(node, "inner_keys", lambda: compile_exprs(node.inner_keys))[0]
    outer_key = compiled(node, "outer_keys", lambda: compile_exprs(node.outer_keys))[0]
    qual = compiled_expr(node, "qual", node.qual) if node.qual is not None else None
    table: dict[tuple[Any, ...], list[int]] = {}
    inner_rows = await collect(node.inner, env)
    for idx, i in enumerate(inner_rows):
        k = freeze_row(inner_key(i, env))
        if None in k:
            continue
        bucket = table.get(k)
        if bucket is None:
            table[k] = [idx]
        else:
            bucket.append(idx)
    env.ctx.check_cancel()
    if not table and jt in (JoinType.INNER, JoinType.SEMI):
        return  # nothing can match: skip the outer scan (correlated catalog subqueries: see pgaurora/catalog/system)
    null_inner = (None,) * node.inner.width
    null_outer = (None,) * node.outer.width
    inner_matched: set[int] | None = set() if jt in (JoinType.RIGHT, JoinType.FULL) else None
    out: Batch = []
    async for batch in run_node(node.outer, env):
        for o in batch:
            k = freeze_row(outer_key(o, env))
            bucket = table.get(k) if None not in k else None
            matched = False
            if bucket:
                for idx in bucket:
                    joined = o + inner_rows[idx]
                    if qual is not None:
                        if qual.subplans:
                            await prepare_all(qual.subplans, joined, env)
                        if qual.fn(joined, env) is not True:
                            continue
                    matched = True
                    if jt is JoinType.SEMI or jt is JoinType.ANTI:
                        break
                    if inner_matched is not None:
                        inner_matched.add(idx)
                    out.append(joined)
            if not matched:
                if jt in (JoinType.LEFT, JoinType.FULL):
                    out.append(o + null_inner)
                elif jt is JoinType.ANTI:
                    out.append(o)
            elif jt is JoinType.SEMI:
                out.append(o)
        if len(out) >= BATCH_SIZE:
            yield out
            out = []
    if inner_matched is not None:
        for idx, i in enumerate(inner_rows):
            if idx not in inner_matched:
                out.append(null_outer + i)
    if out:
        yield out
