"""Set operations: UNION [ALL], INTERSECT [ALL], EXCEPT [ALL] (hashed).

Owns combining two inputs of equal width with SQL's duplicate rules (NULLs compare equal here,
as in PostgreSQL's set operations). Not type alignment of the inputs (planner.select).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from pgaurora.executor.context import Env
from pgaurora.executor.nodes import BATCH_SIZE, Batch, collect, run_node, runner
from pgaurora.executor.plannodes import SetOp, SetOpKind


@runner(SetOp)
async def run_setop(node: SetOp, env: Env) -> AsyncIterator[Batch]:
    if node.kind is SetOpKind.UNION and node.all:
        async for batch in run_node(node.left, env):
            yield batch
        async for batch in run_node(node.right, env):
            yield batch
        return
    left = await collect(node.left, env)
    right = await collect(node.right, env)
    out: list[tuple[Any, ...]] = []
    if node.kind is SetOpKind.UNION:
        seen: set[tuple[Any, ...]] = set()
        for r in left + right:
            if r not in seen:
                seen.add(r)
                out.append(r)
    elif node.kind is SetOpKind.INTERSECT:
        counts = Counter(right)
        emitted: set[tuple[Any, ...]] = set()
        for r in left:
            if node.all:
                if counts[r] > 0:
                    counts[r] -= 1
                    out.append(r)
            elif r in counts and r not in emitted:
                emitted.add(r)
                out.append(r)
    else:
        counts = Counter(right)
        emitted = set()
        for r in left:
            if node.all:
                if counts[r] > 0:
                    counts[r] -= 1
                else:
                    out.append(r)
            elif r not in counts and r not in emitted:
                emitted.add(r)
                out.append(r)
    for i in range(0, len(out), BATCH_SIZE):
        yield out[i:i + BATCH_SIZE]
