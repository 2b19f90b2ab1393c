"""Write statement sources read without a scan node: UPDATE / DELETE by the whole key of an
index, and INSERT of one VALUES row.

Owns one shape of write statement source, the most common one (`UPDATE t SET ... WHERE pk = $1`,
`DELETE FROM t WHERE id = 5`): an IndexScan by equality on every key column, each key a
parameter or a constant, with nothing left to filter. Its rows are exactly what
executor.scan.run_indexscan yields for it -- the versions the statement's snapshot sees, padded
to the table's width, each followed by its tid -- but read in one call: no async generator, no
per-execution compilation, the heap and B-tree resolved once per catalog state. Likewise the one
row of `INSERT ... VALUES (...)` is computed as executor.scan.run_values computes it, without
its async generator. Not the writes (executor.modify), not other source shapes (they take the
general path, run_node).

    Update / Delete ── source: IndexScan EQ (all keys $n / constants, with_tid, no qual)
                        └─► point_target_rows: one lookup, one fetch per tid found (a
                            unique index: newest version first, up to the one it sees)
    Insert ─────────── source: ValuesScan of one row ─► values_row
"""

from __future__ import annotations

from typing import Any

from pgaurora.errors import InternalError
from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Const, Param
from pgaurora.executor.fastpath import key_versions, whole_key_lookup
from pgaurora.executor.nodes import compiled, prepare_all
from pgaurora.executor.plannodes import IndexScan, ValuesScan


def point_target(scan: Any) -> bool:
    """Is `scan` (an UPDATE / DELETE source) an index lookup of one whole key, given as
    parameters or constants, with no qual of its own?"""
    return type(scan) is IndexScan and scan.with_tid and whole_key_lookup(scan)


class _Resolved:
    """The relations of one point_target scan under one catalog state and storage."""

    __slots__ = ("state", "storage", "heap", "btree", "key", "unique")

    def __init__(self, scan: IndexScan, state: Any, storage: Any) -> None:
        table = state.table(scan.table_oid)
        if table is None:
            raise InternalError(f"table {scan.table_oid} vanished from the catalog")
        index = state.by_oid.get(scan.index_oid)
        if index is None:
            raise InternalError(f"index {scan.index_oid} vanished from the catalog")
        self.state = state
        self.storage = storage
        self.heap = storage.heap(table.rel_id)
        self.btree = storage.btree(index.rel_id)
        self.unique = bool(index.unique)  # at most one version of a key is visible: stop at it
        parts = tuple((True, k.index) if isinstance(k, Param) else (False, k.value)
                      for k in scan.eq_keys if isinstance(k, Param | Const))
        if len(parts) == 1 and parts[0][0]:
            i = parts[0][1]
            self.key: Any = lambda params: (params[i],)
        else:
            self.key = lambda params: tuple(params[v] if is_param else v for is_param, v in parts)


async def point_target_rows(scan: Any, env: Env, holder: list[Any]) -> list[tuple[Any, ...]]:
    """The source rows of a point_target scan: `stored columns + (tid,)` of each visible version.
    `holder`: a one-element list the caller keeps per plan (the relations, resolved once)."""
    ctx = env.ctx
    state = ctx.extra["catalog_state"]
    resolved = holder[0]
    if resolved is None or resolved.state is not state or resolved.storage is not ctx.storage:
        resolved = holder[0] = _Resolved(scan, state, ctx.storage)
    key = resolved.key(env.params)
    if None in key:
        return []
    # stored columns, then the tid
    found = await key_versions(resolved.btree, resolved.heap, env, key, scan.width - 1, first=resolved.unique)
    return [row + (tid,) for row, tid in found]


def single_values(source: Any) -> bool:
    """Is `source` (an INSERT's) a VALUES list of one row?"""
    return type(source) is ValuesScan and len(source.rows) == 1


async def values_row(values: Any, env: Env) -> tuple[Any, ...]:
    """The row of a single_values source."""
    if values.width == 0:
        return ()
    fn, subplans = compiled(values, "insert_row", lambda: compile_exprs(values.rows[0]))
    if subplans:
        await prepare_all(subplans, (), env)
    return fn((), env)  # type: ignore[no-any-return]
