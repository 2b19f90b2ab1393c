"""Set operations: UNION [ALL], INTERSECT [ALL], EXCEPT [ALL] (hashed).

Owns combining two inputs of equal width with SQL's duplicate rules (NULLs compare equal here,
as in PostgreSQL's set operations). Not type alignment of the inputs (planner.select).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from pgaurora.executor.context import Env
from pgaurora.executor.hashing import freeze_row
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
    # compare hashable stand-ins (arrays and jsonb values are lists and dicts), emit the originals
    left_keys = [freeze_row(r) for r in left]
    right_keys = [freeze_row(r) for r in right]
    out: list[tuple[Any, ...]] = []
    if node.kind is SetOpKind.UNION:
        seen: set[tuple[Any, ...]] = set()
        for r, k in zip(left + right, left_keys + right_keys, strict=True):
            if k not in seen:
                seen.add(k)
                out.append(r)
    else:
        counts = Counter(right_keys)
        emitted: set[tuple[Any, ...]] = set()
        intersect = node.kind is SetOpKind.INTERSECT
        for r, k in zip(left, left_keys, strict=True):
            if node.all:
                if counts[k] > 0:
                    counts[k] -= 1
                    if intersect:
                        out.append(r)
                elif not intersect:
                    out.append(r)
            elif (k in counts) == intersect and k not in emitted:
                emitted.add(k)
                out.append(r)
    for i in range(0, len(out), BATCH_SIZE):
        yield out[i:i + BATCH_SIZE]
