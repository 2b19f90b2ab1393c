"""Join nodes: nested loop (optionally parameterized, for index lookups) and hash join.

Owns INNER / LEFT / RIGHT / FULL / SEMI / ANTI semantics over outer+inner rows (the joined row
is the outer row's columns followed by the inner row's). Not choosing the join method or order
(planner.joinorder, planner.rules).

    NestLoop: for o in outer: [set ExecParams from o]; for i in inner(o): if qual(o+i): emit
    HashJoin: build {inner_keys(i): [i]} once; for o in outer: probe outer_keys(o)
              (keys that are plain columns: itemgetter keys, and {key: row} while keys are unique)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from operator import itemgetter
from typing import Any

from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Var
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


# key types whose Python values are hashable as they are (arrays, json and others go through freeze_row)
_HASHABLE_TYPES = frozenset({16, 17, 19, 20, 21, 23, 25, 26, 700, 701, 1042, 1043, 1082, 1083, 1114, 1184, 1700, 2950})


def _key_getter(keys: tuple[Any, ...]) -> Callable[[tuple[Any, ...]], Any] | None:
    """A C-level key function (itemgetter) when every key is a plain column of a hashable type:
    one key gives the value itself, several a tuple."""
    if not keys or not all(isinstance(k, Var) and k.type_oid in _HASHABLE_TYPES for k in keys):
        return None
    return itemgetter(*(k.index for k in keys))


@runner(HashJoin)
async def run_hashjoin(node: HashJoin, env: Env) -> AsyncIterator[Batch]:
    jt = node.join_type
    inner_get = _key_getter(node.inner_keys)
    outer_get = _key_getter(node.outer_keys)
    if inner_get is None or outer_get is None or jt in (JoinType.RIGHT, JoinType.FULL):
        async for batch in _hashjoin_general(node, env):
            yield batch
        return
    # fast path: keys are columns (itemgetter), buckets hold the row itself until a key repeats
    qual = compiled_expr(node, "qual", node.qual) if node.qual is not None else None
    single = len(node.inner_keys) == 1
    inner_rows = await collect(node.inner, env)
    keys = list(map(inner_get, inner_rows))
    table: dict[Any, Any] = dict(zip(keys, inner_rows, strict=True))
    duplicates = len(table) != len(inner_rows)
    if not duplicates:  # unique keys (a primary key): built at C speed; drop NULL keys
        if single:
            table.pop(None, None)
        else:
            for k in [k for k in keys if None in k]:
                del table[k]
    else:
        table, duplicates = _buckets(inner_rows, keys, single)
    env.ctx.check_cancel()
    if not table and jt in (JoinType.INNER, JoinType.SEMI):
        return
    get = table.get
    null_inner = (None,) * node.inner.width
    qfn = qual.fn if qual is not None else None
    qsub = qual.subplans if qual is not None else None
    out: Batch = []
    async for batch in run_node(node.outer, env):
        if jt is JoinType.INNER and qfn is None and not duplicates:
            out.extend([o + i for o in batch if (i := get(outer_get(o))) is not None])
        else:
            for o in batch:
                found = get(outer_get(o))
                matched = False
                if found is not None:
                    for inner_row in (found if duplicates else (found,)):
                        joined = o + inner_row
                        if qfn is not None:
                            if qsub:
                                await prepare_all(qsub, joined, env)
                            if qfn(joined, env) is not True:
                                continue
                        matched = True
                        if jt is JoinType.SEMI or jt is JoinType.ANTI:
                            break
                        out.append(joined)
                if not matched:
                    if jt is JoinType.LEFT:
                        out.append(o + null_inner)
                    elif jt is JoinType.ANTI:
                        out.append(o)
                elif jt is JoinType.SEMI:
                    out.append(o)
        if len(out) >= BATCH_SIZE:
            yield out
            out = []
    if out:
        yield out


def _buckets(rows: Batch, keys: list[Any], single: bool) -> tuple[dict[Any, Any], bool]:
    """key -> row, or key -> [rows] for every key when some key repeats (the flag says which)."""
    table: dict[Any, Any] = {}
    duplicates = False
    for k, row in zip(keys, rows, strict=True):
        if k is None if single else None in k:
            continue
        if duplicates:
            bucket = table.get(k)
            if bucket is None:
                table[k] = [row]
            else:
                bucket.append(row)
        elif k in table:
            duplicates = True  # from now on every bucket is a list of rows
            table = {key: [first] for key, first in table.items()}
            table[k].append(row)
        else:
            table[k] = row
    return table, duplicates


async def _hashjoin_general(node: HashJoin, env: Env) -> AsyncIterator[Batch]:
    """Any key expressions and RIGHT / FULL joins (which track the inner rows that matched)."""
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
