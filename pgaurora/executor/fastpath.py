"""The point-lookup fast path: `SELECT cols FROM t WHERE pk = $1` without the node machinery.

Owns recognising a plan that is a projection of an equality lookup on a whole unique index (the
shape of pgbench -S and of most ORM "get by id" queries) and running it directly: one B-tree
lookup, one heap fetch, one projection, no async generators. Any other plan returns None and
runs through the ordinary nodes. Results are identical to the general path (tests compare).
"""

from __future__ import annotations

from typing import Any

from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Const, Param
from pgaurora.executor.nodes import compiled
from pgaurora.executor.plannodes import IndexKind, IndexScan, Project


def point_shape(node: Any) -> bool:
    if not isinstance(node, Project) or not isinstance(node.input, IndexScan):
        return False
    scan = node.input
    return (scan.kind is IndexKind.EQ and scan.qual is None and not scan.with_tid
            and len(scan.eq_keys) == scan.key_count and all(isinstance(k, Param | Const) for k in scan.eq_keys))


async def point_lookup(node: Project, env: Env) -> list[tuple[Any, ...]] | None:
    """The rows of a point-shaped plan, or None when the index turns out not to be unique."""
    scan = node.input
    assert isinstance(scan, IndexScan)
    state = env.ctx.extra["catalog_state"]
    index = state.by_oid.get(scan.index_oid)
    table = state.table(scan.table_oid)
    if index is None or table is None or not index.unique:
        return None
    key = tuple(env.params[k.index] if isinstance(k, Param) else k.value for k in scan.eq_keys
                if isinstance(k, Param | Const))
    if None in key:
        return []
    storage = env.ctx.storage
    project = compiled(node, "targets", lambda: compile_exprs(node.exprs))
    if project[1]:
        return None  # subqueries in the targets: the general path prepares them
    width = scan.width
    fetch = storage.heap(table.rel_id).fetch
    txn = env.ctx.txn
    for tid in await storage.btree(index.rel_id).lookup(key):
        row = await fetch(txn, env.snapshot, tid)
        if row is not None:
            if len(row) != width:
                row = row + (None,) * (width - len(row))
            return [project[0](row, env)]
    return []
