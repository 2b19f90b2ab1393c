"""Merge join: joins two inputs that arrive sorted on their equality join keys.

Owns the MergeJoin node and its runner (PostgreSQL's nodeMergejoin.c, for inner and left
joins). Both inputs stream: the inner side is read one group of equal keys at a time, and each
outer row with that key joins the group, so nothing is hashed and the output keeps the outer
order (a Sort on the key above it is unnecessary). Keys compare by `catalog.builtins.sort_key`,
PostgreSQL's btree order; NULL keys never match and sort last. The planner (planner.mergejoin)
only chooses it when both inputs are known to be in that order (an index range scan, a Sort);
an outer key going backwards is an internal error rather than a wrong answer.

    outer: 1 2 2 5        inner: 2 2 3 5
           ^                     ^ group [2, 2]
    1 < 2: no match (LEFT: 1 + NULLs); 2 = 2: join the group; 5 > 2: next group, 3 < 5 skipped ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from pgaurora.catalog.builtins import sort_key
from pgaurora.errors import InternalError
from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Expr
from pgaurora.executor.nodes import BATCH_SIZE, Batch, compiled, compiled_expr, prepare_all, run_node, runner
from pgaurora.executor.plannodes import JoinType, PlanNode


@dataclass(frozen=True, slots=True)
class MergeJoin(PlanNode):
    """`outer` and `inner` sorted ascending (NULLS LAST) on `outer_keys` / `inner_keys`."""

    join_type: JoinType  # INNER or LEFT
    outer: PlanNode
    inner: PlanNode
    outer_keys: tuple[Expr, ...]
    inner_keys: tuple[Expr, ...]
    qual: Expr | None  # the rest of the join condition, over outer + inner columns
    width: int


class _Rows:
    """One input as a row-at-a-time cursor over its batches."""

    __slots__ = ("source", "batch", "pos")

    def __init__(self, source: AsyncIterator[Batch]) -> None:
        self.source = source
        self.batch: Batch = []
        self.pos = 0

    async def next(self) -> tuple[Any, ...] | None:
        while self.pos >= len(self.batch):
            try:
                self.batch = await self.source.__anext__()
            except StopAsyncIteration:
                return None
            self.pos = 0
        row = self.batch[self.pos]
        self.pos += 1
        return row


def _key_function(node: MergeJoin, name: str, exprs: tuple[Expr, ...]) -> Callable[[Any, Env], Any]:
    """Row -> tuple of sort keys, or None when a key is NULL (it can never match)."""
    values = compiled(node, name, lambda: compile_exprs(exprs))[0]
    orders = tuple(sort_key(e.type_oid) for e in exprs)

    def key(row: Any, env: Env) -> Any:
        vals = values(row, env)
        if None in vals:
            return None
        return tuple(o(v) for o, v in zip(orders, vals, strict=True))

    return key


@runner(MergeJoin)
async def run_mergejoin(node: MergeJoin, env: Env) -> AsyncIterator[Batch]:
    left = node.join_type is JoinType.LEFT
    outer_key = _key_function(node, "outer_keys", node.outer_keys)
    inner_key = _key_function(node, "inner_keys", node.inner_keys)
    qual = compiled_expr(node, "qual", node.qual) if node.qual is not None else None
    null_inner = (None,) * node.inner.width
    outer = _Rows(run_node(node.outer, env))
    inner = _Rows(run_node(node.inner, env))
    group: list[tuple[Any, ...]] = []
    group_key: Any = None
    pending = await inner.next()  # the first inner row after the current group
    pending_key = inner_key(pending, env) if pending is not None else None
    previous: Any = None
    out: Batch = []
    while (o := await outer.next()) is not None:
        k = outer_key(o, env)
        matched = False
        if k is not None:
            if previous is not None and k < previous:
                raise InternalError("merge join input is not sorted on its join key")
            previous = k
            if group_key is None or group_key < k:
                # advance the inner side to the first group with a key >= k
                while pending is not None and (pending_key is None or pending_key < k):
                    if pending_key is None:  # NULL keys sort last: nothing further can match
                        pending = None
                        break
                    pending = await inner.next()
                    pending_key = inner_key(pending, env) if pending is not None else None
                group, group_key = [], k
                while pending is not None and pending_key == k:
                    group.append(pending)
                    pending = await inner.next()
                    pending_key = inner_key(pending, env) if pending is not None else None
            for i in group:
                joined = o + i
                if qual is not None:
                    if qual.subplans:
                        await prepare_all(qual.subplans, joined, env)
                    if qual.fn(joined, env) is not True:
                        continue
                matched = True
                out.append(joined)
        if not matched and left:
            out.append(o + null_inner)
        if len(out) >= BATCH_SIZE:
            env.ctx.check_cancel()
            yield out
            out = []
    if out:
        yield out


__all__ = ["MergeJoin"]
