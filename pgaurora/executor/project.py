"""Row-at-a-time transforms: Filter, Project, ProjectSet (set-returning targets), Limit.

Owns evaluating quals and target lists over batches with closures compiled once per plan.
Not scans or joins (their own modules).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pgaurora.errors import InvalidRowCountInLimitClause, InvalidRowCountInResultOffsetClause
from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.nodes import (
    BATCH_SIZE,
    Batch,
    compiled,
    compiled_expr,
    compiled_projection,
    filter_batches,
    prepare_all,
    run_node,
    runner,
)
from pgaurora.executor.plannodes import Filter, Limit, Project, ProjectSet


@runner(Filter)
async def run_filter(node: Filter, env: Env) -> AsyncIterator[Batch]:
    pred = compiled_expr(node, "qual", node.qual)
    async for batch in filter_batches(run_node(node.input, env), pred, env):
        yield batch


@runner(Project)
async def run_project(node: Project, env: Env) -> AsyncIterator[Batch]:
    fn, subplans = compiled_projection(node, "targets", node.exprs)
    if subplans:
        async for batch in run_node(node.input, env):
            out = []
            for row in batch:
                await prepare_all(subplans, row, env)
                out.append(fn(row, env))
            yield out
        return
    async for batch in run_node(node.input, env):
        yield [fn(row, env) for row in batch]


@runner(ProjectSet)
async def run_project_set(node: ProjectSet, env: Env) -> AsyncIterator[Batch]:
    """The set-returning columns are read lazily, in lockstep, and rows leave in batches of at
    most BATCH_SIZE, so `SELECT generate_series(1, 100000000) LIMIT 3` stops after three."""
    fn, subplans = compiled(node, "targets", lambda: compile_exprs(node.exprs))
    positions = node.srf_positions
    single = positions[0] if len(positions) == 1 else -1
    out: Batch = []
    async for batch in run_node(node.input, env):
        for row in batch:
            if subplans:
                await prepare_all(subplans, row, env)
            values = fn(row, env)
            if single >= 0:
                series = values[single]
                if series is None:
                    continue
                head, tail = values[:single], values[single + 1:]
                for value in series:
                    out.append((*head, value, *tail))
                    if len(out) >= BATCH_SIZE:
                        yield out
                        out = []
                continue
            iterators = [iter(()) if values[p] is None else iter(values[p]) for p in positions]
            new = list(values)
            while True:
                live = False
                for p, it in zip(positions, iterators, strict=True):
                    value = next(it, _DONE)
                    if value is _DONE:
                        new[p] = None
                    else:
                        new[p] = value
                        live = True
                if not live:
                    break
                out.append(tuple(new))
                if len(out) >= BATCH_SIZE:
                    yield out
                    out = []
        if out:
            yield out
            out = []


_DONE = object()  # an exhausted set-returning column


@runner(Limit)
async def run_limit(node: Limit, env: Env) -> AsyncIterator[Batch]:
    exprs = tuple(e for e in (node.limit, node.offset) if e is not None)
    values: tuple[Any, ...] = compiled(node, "bounds", lambda: compile_exprs(exprs))[0]((), env) if exprs else ()
    limit = offset = None
    i = 0
    if node.limit is not None:
        limit = values[i]
        i += 1
        if limit is not None and limit < 0:
            raise InvalidRowCountInLimitClause("LIMIT must not be negative")
    if node.offset is not None:
        offset = values[i]
        if offset is not None and offset < 0:
            raise InvalidRowCountInResultOffsetClause("OFFSET must not be negative")
    skip = offset or 0
    remaining = limit
    if remaining == 0:
        return
    source = run_node(node.input, env)
    async for batch in source:
        if skip:
            if len(batch) <= skip:
                skip -= len(batch)
                continue
            batch = batch[skip:]
            skip = 0
        if remaining is not None:
            if len(batch) >= remaining:
                if node.ties and remaining > 0:
                    async for rest in _with_ties(node, env, batch, remaining, source):
                        yield rest
                    return
                yield batch[:remaining]
                return
            remaining -= len(batch)
        yield batch


async def _with_ties(node: Limit, env: Env, batch: Batch, count: int,
                     source: AsyncIterator[Batch]) -> AsyncIterator[Batch]:
    """The first `count` rows of `batch`, then every following row (of it and of the rest of the
    input, `source`) whose ORDER BY keys equal the last of those (FETCH FIRST ... WITH TIES)."""
    key_of = compiled(node, "ties", lambda: compile_exprs(node.ties))[0]
    last = key_of(batch[count - 1], env)
    out = list(batch[:count])
    for row in batch[count:]:
        if key_of(row, env) != last:
            yield out
            return
        out.append(row)
    yield out
    async for more in source:
        tied: Batch = []
        for row in more:
            if key_of(row, env) != last:
                if tied:
                    yield tied
                return
            tied.append(row)
        yield tied
