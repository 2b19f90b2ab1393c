"""Fast paths: plans that run without the node machinery — constant rows and point lookups.

Owns recognising two plan shapes and running them directly:

    SELECT 1, SELECT $1::int + 1       Project(ValuesScan(one empty row))  ─► one closure call
    SELECT cols FROM t WHERE pk = $1   Project(IndexScan EQ, whole unique key)
                                         ─► one B-tree lookup, one heap fetch, one projection

`point_shape`/`point_lookup` serve the general executor (inside any transaction). `fast_plan`
precomputes, once per plan, a `FastPlan` that the session may run *outside* a transaction when
it is idle (autocommit): `run_const` needs no snapshot at all; `read_point` needs only a
snapshot and cached pages, and says None (take the ordinary path) when a page must be read,
an index entry needs cleaning, a row is stored out of line, or the catalog changed. Only
expressions that cannot see the transaction qualify (no context functions, no subqueries, no
set-returning functions), so results are identical to the general path (tests compare).
Not the statement lifecycle (run.py), not transactions (the session decides when this applies).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import (
    ArrayExpr,
    BooleanTest,
    BoolExpr,
    CaseExpr,
    CoalesceExpr,
    Const,
    Expr,
    FuncExpr,
    MinMaxExpr,
    NullTest,
    Param,
    RowExpr,
    ScalarArrayOp,
    Var,
    walk,
)
from pgaurora.executor.nodes import compiled
from pgaurora.executor.plannodes import IndexKind, IndexScan, Plan, Project, ValuesScan

if TYPE_CHECKING:
    from pgaurora.catalog.acl import Permission

# Expression nodes whose value depends only on the row and the parameters.
_PURE_NODES = (Const, Param, FuncExpr, BoolExpr, NullTest, BooleanTest, CaseExpr, CoalesceExpr, MinMaxExpr,
               ScalarArrayOp, ArrayExpr, RowExpr)


def whole_key_lookup(scan: IndexScan) -> bool:
    """Is `scan` an equality lookup of its index's whole key, each key column a parameter or a
    constant, with no qual of its own?"""
    return (scan.kind is IndexKind.EQ and scan.qual is None and len(scan.eq_keys) == scan.key_count
            and all(isinstance(k, Param | Const) for k in scan.eq_keys))


def point_shape(node: Any) -> bool:
    if not isinstance(node, Project) or not isinstance(node.input, IndexScan):
        return False
    return not node.input.with_tid and whole_key_lookup(node.input)


async def key_versions(btree: Any, heap: Any, env: Env, key: tuple[Any, ...], width: int,
                       *, first: bool = False) -> list[tuple[tuple[Any, ...], Any]]:
    """(row padded to `width`, tid) of each version under the whole index key `key` that the
    statement's snapshot sees (only the first with `first`: a unique index has one); the read is
    noted for SERIALIZABLE, found or not.

    With `first` the versions are tried newest first (`_newest_seen`): the one a snapshot sees is
    almost always the newest, and a row updated n times in one transaction keeps n versions that
    nothing may prune yet; naming and trying them all, oldest first, cost each lookup O(n)."""
    txn = env.ctx.txn
    snapshot = env.snapshot
    if txn is not None:
        txn.note_read(heap.rel_id)
    btree.scans += 1  # pg_stat_user_indexes, as executor.scan's index scans count
    if first:
        seen = _newest_seen(btree, heap, snapshot, key, width)
        if seen is not None:
            return seen
    cached = btree.lookup_entries_cached(key)  # no coroutine while the pages are cached
    roots, tids = cached if cached is not None else await btree.lookup_entries(key)
    btree.tuples_read += len(roots)
    found: list[tuple[tuple[Any, ...], Any]] = []
    for tid in tids:
        row = heap.fetch_cached(snapshot, tid)
        if row is False or row is True:
            row = await heap.fetch(txn, snapshot, tid)
        if row is None:
            continue
        if len(row) != width:
            row = row + (None,) * (width - len(row))
        found.append((row, tid))
        if first:
            break
    btree.tuples_fetched += len(found)
    return found


def _newest_seen(btree: Any, heap: Any, snapshot: Any, key: tuple[Any, ...],
                 width: int) -> list[tuple[tuple[Any, ...], Any]] | None:
    """key_versions(first=True) from cached pages, newest version first: the index entries
    last to first (a non-HOT update adds an entry after its old one, mostly on a later page),
    each entry's root version first (the usual row has no HOT chain), then its chain from the
    end, stopping at the first version the snapshot sees (at most one is). A chain's links
    point forward, so each chain tried is still walked once (it lies on one page); the
    visibility checks, and the chains of older entries, are what this saves. None when a page
    is not cached or a row lives in overflow pages (then the general way). Counts the index
    entries and the row it returns in the B-tree's pg_stat_user_indexes counters."""
    roots = btree.lookup_cached(key, chains=False)
    if roots is None:
        return None
    fetch = heap.fetch_cached
    for root in reversed(roots):
        tid = root
        row = fetch(snapshot, root)
        if row is None:
            members = btree.members_cached([root])
            if members is None:
                return None
            for tid in reversed(members):
                if tid != root:
                    row = fetch(snapshot, tid)
                    if row is not None:
                        break
            if row is None:
                continue
        if row is False or row is True:
            return None
        if len(row) != width:
            row = row + (None,) * (width - len(row))
        btree.tuples_read += len(roots)
        btree.tuples_fetched += 1
        return [(row, tid)]
    btree.tuples_read += len(roots)
    return []


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
    found = await key_versions(storage.btree(index.rel_id), storage.heap(table.rel_id), env, key, scan.width,
                               first=True)
    return [project[0](found[0][0], env)] if found else []


# -- plans that may run outside a transaction ----------------------------------------------------


class FastKind(enum.Enum):
    CONST = "const"    # one row computed from constants and parameters
    POINT = "point"    # at most one row, by the whole key of a unique index


class ParamEnv:
    """The only part of an executor Env that pure expressions read: the parameter values."""

    __slots__ = ("params",)

    def __init__(self, params: tuple[Any, ...]) -> None:
        self.params = params


_NO_PARAMS = ParamEnv(())


class FastPlan:
    """What `fast_plan` precomputes for one plan; `resolved` caches the relations per catalog state."""

    __slots__ = ("kind", "project", "key", "key_param", "index_oid", "table_oid", "width", "resolved",
                 "reads_params", "permissions", "allowed")

    def __init__(self, kind: FastKind, project: Any, key: Any = None, index_oid: int = 0, table_oid: int = 0,
                 width: int = 0, *, key_param: int = -1, reads_params: bool = True) -> None:
        self.kind = kind
        self.project = project          # (row, env) -> output tuple
        self.key = key                  # params -> key tuple (POINT)
        self.key_param = key_param      # >= 0: the key is this one parameter (POINT)
        self.index_oid = index_oid
        self.table_oid = table_oid
        self.width = width
        self.resolved: tuple[Any, Any, Any] | None = None  # (catalog state, btree, heap)
        self.reads_params = reads_params  # False: `project` never looks at the env (one shared env)
        self.permissions: tuple[Permission, ...] = ()  # the plan's (executor.privileges)
        self.allowed: tuple[Any, int, bool] | None = None  # (catalog state, role oid, may it run): session.fastpath


def _pure(exprs: tuple[Expr, ...], allow_vars: bool) -> bool:
    for expr in exprs:
        for node in walk(expr):
            if isinstance(node, FuncExpr):
                if node.needs_context or node.retset or node.volatile:
                    return False
            elif isinstance(node, Var):
                if not allow_vars:
                    return False
            elif not isinstance(node, _PURE_NODES):
                return False
    return True


def _key_getter(keys: tuple[Any, ...]) -> Any:
    if len(keys) == 1:
        k = keys[0]
        if isinstance(k, Param):
            i = k.index
            return lambda params: (params[i],)
        value = (k.value,)
        return lambda params: value
    parts = tuple((True, k.index) if isinstance(k, Param) else (False, k.value) for k in keys)
    return lambda params: tuple(params[v] if is_param else v for is_param, v in parts)


def _build(plan: Plan) -> FastPlan | None:
    if plan.command != "SELECT" or plan.columns is None or plan.exec_param_count:
        return None
    node = plan.node
    if not isinstance(node, Project):
        return None
    source = node.input
    if isinstance(source, ValuesScan) and source.width == 0 and source.rows == ((),):
        if not _pure(node.exprs, allow_vars=False):
            return None
        project, subplans = compile_exprs(node.exprs)
        return None if subplans else FastPlan(FastKind.CONST, project)
    if point_shape(node) and _pure(node.exprs, allow_vars=True):
        assert isinstance(source, IndexScan)
        project, subplans = compile_exprs(node.exprs)
        if subplans:
            return None
        keys = source.eq_keys
        fast = FastPlan(FastKind.POINT, project, _key_getter(keys), source.index_oid, source.table_oid,
                        source.width, key_param=keys[0].index if len(keys) == 1 and isinstance(keys[0], Param) else -1,
                        reads_params=any(isinstance(n, Param) for expr in node.exprs for n in walk(expr)))
        fast.permissions = plan.permissions
        return fast
    return None


def fast_plan(plan: Plan) -> FastPlan | None:
    """The FastPlan of `plan` (computed once per plan), or None for any other shape."""
    return compiled(plan, "fast", lambda: _build(plan))  # type: ignore[no-any-return]


def run_const(fast: FastPlan, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The single row of a CONST plan (errors of its expressions raise as in the executor)."""
    return [fast.project((), ParamEnv(params))]


def read_point(fast: FastPlan, params: tuple[Any, ...], state: Any, storage: Any,
               snapshot: Any) -> list[tuple[Any, ...]] | None:
    """The rows of a POINT plan read with `snapshot` from cached pages only, or None when the
    ordinary path must run it (a page to read, an index that is not unique, overflow rows)."""
    resolved = fast.resolved
    if resolved is None or resolved[0] is not state:
        index = state.by_oid.get(fast.index_oid)
        table = state.table(fast.table_oid)
        if index is None or table is None or not getattr(index, "unique", False):
            return None
        resolved = fast.resolved = (state, storage.btree(index.rel_id), storage.heap(table.rel_id))
    i = fast.key_param
    if i >= 0:
        value = params[i]
        if value is None:
            return []
        key = (value,)
    else:
        key = fast.key(params)
        if None in key:
            return []
    seen = _newest_seen(resolved[1], resolved[2], snapshot, key, fast.width)
    if seen is None:
        return None  # the ordinary path (which counts the scan)
    resolved[1].scans += 1
    if not seen:
        return seen  # no version it sees
    return [fast.project(seen[0][0], ParamEnv(params) if fast.reads_params else _NO_PARAMS)]
