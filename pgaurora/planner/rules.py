"""Optimizer rules: plain functions over plan trees, applied in order (STYLE.md §8).

    RULES = (push_down_filters, prune_partitions, use_indexes, choose_joins)

push_down_filters   Filter: t.v = 'b' └─ NestLoop(t, u)  ->  NestLoop(Scan t (t.v = 'b'), u)
prune_partitions    Append(Scan m_1 (k = 5), Scan m_2 (k = 5))  ->  Scan m_1 (k = 5)   (planner.partition)
use_indexes         Scan t (t.id = $1)  ->  IndexScan t_pkey (id = $1); also ranges and IN lists
reorder_joins       (before choose_joins) inner joins reordered, hash / index lookup / nested loop
                    chosen by estimated cost (planner.joinorder, from planner.estimate's row counts)
choose_joins        NestLoop(a, b, a.x = b.y)  ->  HashJoin(a, b, [a.x], [b.y]), or a parameterized
                    index nested loop when b has an index on y and a is small (an index lookup or VALUES)

After them: index_nested_loop (when slots are available) and merge joins (planner.mergejoin).
Constant folding happens while binding (planner.resolve folds immutable calls on constants).
Each rule returns a new tree; plans stay read-only values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pgaurora.catalog.state import CatalogState
from pgaurora.datatypes.typeinfo import array_of
from pgaurora.executor.expr import (
    ArrayExpr,
    BoolExpr,
    BoolOp,
    Const,
    ExecParam,
    Expr,
    FuncExpr,
    Param,
    ScalarArrayOp,
    Var,
    shift_vars,
    walk,
)
from pgaurora.executor.plannodes import (
    Filter,
    HashJoin,
    IndexKind,
    IndexScan,
    JoinType,
    NestLoop,
    PlanNode,
    SeqScan,
    SetOp,
    SetOpKind,
    SystemScan,
)
from pgaurora.planner.indexexpr import index_key_spec, predicate_implied

CHILD_FIELDS = ("input", "outer", "inner", "left", "right", "source", "non_recursive", "recursive", "plan", "as_query")
_COMMUTE = {"=": "=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


def map_children(node: Any, fn: Callable[[Any], Any]) -> Any:
    if not isinstance(node, PlanNode) or not dataclasses.is_dataclass(node):
        return node
    changes = {}
    for name in CHILD_FIELDS:
        if hasattr(node, name):
            child = getattr(node, name)
            if isinstance(child, PlanNode):
                new = fn(child)
                if new is not child:
                    changes[name] = new
    return dataclasses.replace(node, **changes) if changes else node


def conjuncts(expr: Expr | None) -> list[Expr]:
    from pgaurora.planner.querycontext import conjuncts as split

    return split(expr)


def and_all(exprs: list[Expr]) -> Expr | None:
    from pgaurora.planner.querycontext import and_all as join

    return join(exprs)


def var_range(expr: Expr) -> tuple[int, int]:
    idx = [n.index for n in walk(expr) if isinstance(n, Var)]
    if not idx:
        return (-1, -1)
    return (min(idx), max(idx))


def has_volatile(expr: Expr) -> bool:
    return any(isinstance(n, FuncExpr) and n.volatile for n in walk(expr))


def has_subplan(expr: Expr) -> bool:
    from pgaurora.executor.expr import SubPlanExpr

    return any(isinstance(n, SubPlanExpr) for n in walk(expr))


# ---- push_down_filters -------------------------------------------------------------------------
def push_down_filters(node: Any, state: CatalogState) -> Any:
    """Moves Filter conjuncts into scans and to the join side whose columns they use."""
    node = map_children(node, lambda c: push_down_filters(c, state))
    if isinstance(node, Filter):
        return _push(node.input, conjuncts(node.qual))
    return node


def _push(node: Any, quals: list[Expr]) -> Any:
    if not quals:
        return node
    if isinstance(node, SeqScan | SystemScan):
        existing = conjuncts(node.qual)
        return dataclasses.replace(node, qual=and_all(existing + quals))
    if isinstance(node, NestLoop) and node.join_type in (JoinType.INNER, JoinType.LEFT):
        ow = node.outer.width
        outer_q: list[Expr] = []
        inner_q: list[Expr] = []
        keep: list[Expr] = []
        for q in quals:
            lo, hi = var_range(q)
            if has_volatile(q):
                keep.append(q)
            elif hi < ow and lo >= 0 or lo == -1 and not has_subplan(q):
                outer_q.append(q)
            elif lo >= ow and node.join_type is JoinType.INNER:
                inner_q.append(shift_vars(q, lambda i: i - ow))
            else:
                keep.append(q)
        outer = _push(node.outer, outer_q)
        inner = _push(node.inner, inner_q)
        if node.join_type is JoinType.INNER:
            joined = dataclasses.replace(node, outer=outer, inner=inner,
                                         qual=and_all(conjuncts(node.qual) + keep))
            return joined
        new = dataclasses.replace(node, outer=outer, inner=inner)
        rest = and_all(keep)
        return Filter(new, rest, new.width) if rest is not None else new
    if isinstance(node, Filter):
        return _push(node.input, conjuncts(node.qual) + quals)
    if type(node).__name__ == "SystemColumns":
        # a scan with its system columns (executor.scan): quals on stored columns go into the scan
        stored = node.input.width - 1
        pushed = [q for q in quals if -1 < var_range(q)[1] < stored and not has_volatile(q)]
        kept = [q for q in quals if not any(q is p for p in pushed)]
        if pushed:
            node = dataclasses.replace(node, input=_push(node.input, pushed))
        return Filter(node, and_all(kept), node.width) if kept else node  # type: ignore[arg-type]
    if isinstance(node, SetOp) and node.kind is SetOpKind.UNION and node.all \
            and not any(has_volatile(q) or has_subplan(q) for q in quals):
        # UNION ALL (a partitioned table's partitions): each arm filters its own rows
        return dataclasses.replace(node, left=_push(node.left, quals), right=_push(node.right, quals))
    return Filter(node, and_all(quals), node.width)  # type: ignore[arg-type]


# ---- use_indexes ---------------------------------------------------------------------------------
def _is_runtime_constant(expr: Expr) -> bool:
    return all(not isinstance(n, Var) for n in walk(expr)) and not has_volatile(expr) and not has_subplan(expr)


# Types whose values compare the same in a B-tree whichever of them the key was stored as
# (int4 column = int8 parameter, as psycopg sends small Python ints as int2/int8).
_SAME_ORDER = ({21, 23, 20}, {25, 1043})


def _comparable(a: int, b: int) -> bool:
    return a == b or any(a in family and b in family for family in _SAME_ORDER)


def _comparison(q: Expr) -> tuple[str, int, Expr] | None:
    """(op, column index, value) for `col op value` / `value op col` comparisons."""
    if not isinstance(q, FuncExpr) or not q.is_operator or len(q.args) != 2 or q.name not in _COMMUTE:
        return None
    left, right = q.args
    if isinstance(left, Var) and _is_runtime_constant(right) and _comparable(left.type_oid, right.type_oid):
        return q.name, left.index, right
    if isinstance(right, Var) and _is_runtime_constant(left) and _comparable(left.type_oid, right.type_oid):
        return _COMMUTE[q.name], right.index, left
    return None


def _expression_comparison(q: Expr, key_exprs: list[tuple[Expr, int]]) -> tuple[str, int, Expr] | None:
    """(op, key number, value) for `expr op value` where expr is an index's key expression."""
    if not isinstance(q, FuncExpr) or not q.is_operator or len(q.args) != 2 or q.name not in _COMMUTE:
        return None
    left, right = q.args
    for side, value, op in ((left, right, q.name), (right, left, _COMMUTE[q.name])):
        if isinstance(side, Var) or not _is_runtime_constant(value) or not _comparable(side.type_oid, value.type_oid):
            continue
        for expr, sid in key_exprs:
            if expr == side:
                return op, sid, value
    return None


def use_indexes(node: Any, state: CatalogState) -> Any:
    """SeqScan with an indexable qual -> IndexScan."""
    node = map_children(node, lambda c: use_indexes(c, state))
    if not isinstance(node, SeqScan) or node.qual is None:
        return node
    table = state.table(node.table_oid)
    if table is None:
        return node
    indexes = state.indexes(table.oid)
    if not indexes:
        return node
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    quals = conjuncts(node.qual)
    eq: dict[int, tuple[int, Expr]] = {}
    ranges: dict[int, list[tuple[int, str, Expr]]] = {}
    ins: dict[int, tuple[int, Expr]] = {}
    # expression / partial indexes: each key expression gets a negative "column" number, so that a
    # qual comparing the same expression is matched like one on a column (planner.indexexpr)
    special: dict[int, tuple[list[int], tuple[str, ...]] | None] = {}
    key_exprs: list[tuple[Expr, int]] = []
    for ix in indexes:
        if ix.expressions or ix.predicate is not None:
            spec = index_key_spec(state, table, ix)
            if spec is None or not predicate_implied(spec.predicate, quals):
                special[ix.oid] = None
                continue
            cols_of: list[int] = []
            for key in spec.keys:
                if isinstance(key, Var):
                    cols_of.append(key.index)
                    continue
                found = next((sid for e, sid in key_exprs if e == key), None)
                if found is None:
                    found = -2 - len(key_exprs)
                    key_exprs.append((key, found))
                cols_of.append(found)
            special[ix.oid] = (cols_of, spec.key_names)
    for k, q in enumerate(quals):
        cmp = _comparison(q) or (_expression_comparison(q, key_exprs) if key_exprs else None)
        if cmp is not None:
            op, col, value = cmp
            if op == "=":
                eq.setdefault(col, (k, value))
            else:
                ranges.setdefault(col, []).append((k, op, value))
            continue
        if isinstance(q, ScalarArrayOp) and q.use_or and q.name == "=" and isinstance(q.left, Var) \
                and _is_runtime_constant(q.right) and (isinstance(q.right, ArrayExpr | Const | Param)):
            ins.setdefault(q.left.index, (k, q.right))
        elif isinstance(q, BoolExpr) and q.op is BoolOp.OR:
            # `c = 1 OR c = 2` is `c IN (1, 2)` (PostgreSQL would OR two index scans' bitmaps)
            parts = [_comparison(arg) for arg in q.args]
            if all(p is not None and p[0] == "=" for p in parts) and len({p[1] for p in parts if p}) == 1:
                values = tuple(p[2] for p in parts if p)
                ins.setdefault(parts[0][1], (k, ArrayExpr(values, array_of(values[0].type_oid))))  # type: ignore[index]
    best: tuple[int, Any] | None = None
    for ix in indexes:
        if ix.oid in special:
            found_special = special[ix.oid]
            if found_special is None:
                continue
            cols, key_names = found_special
        else:
            cols = [positions.get(a, -1) for a in ix.columns]
            key_names = tuple(table.columns[c].name for c in cols)
        used: list[int] = []
        keys: list[Expr] = []
        for c in cols:
            if c in eq:
                used.append(eq[c][0])
                keys.append(eq[c][1])
            else:
                break
        score = 0
        candidate = None
        if len(keys) == len(cols):
            score = 100 + len(keys) * 10 + (50 if ix.unique else 0)
            candidate = dataclasses.replace  # marker
            kind = IndexKind.EQ
            extra: dict[str, Any] = {}
        elif len(keys) < len(cols) and cols[len(keys)] in ins and len(keys) + 1 == len(cols):
            k, lst = ins[cols[len(keys)]]
            used.append(k)
            score = 60 + len(keys) * 10
            kind = IndexKind.IN
            extra = {"in_list": lst}
            candidate = dataclasses.replace
        elif len(keys) < len(cols) and cols[len(keys)] in ranges and ix.method == "btree":
            extra = {}
            for k, op, value in ranges[cols[len(keys)]]:
                if op in (">", ">=") and "lo" not in extra:
                    extra.update(lo=value, lo_inclusive=op == ">=")
                    used.append(k)
                elif op in ("<", "<=") and "hi" not in extra:
                    extra.update(hi=value, hi_inclusive=op == "<=")
                    used.append(k)
            score = 40 + len(keys) * 10
            kind = IndexKind.RANGE
            candidate = dataclasses.replace
        elif keys:
            score = 30 + len(keys) * 10
            kind = IndexKind.EQ
            extra = {}
            candidate = dataclasses.replace
        if ix.predicate is not None:
            score += 5  # a partial index holds fewer entries than a full one on the same key
        if candidate is not None and (best is None or score > best[0]):
            rest = [q for i, q in enumerate(quals) if i not in used]
            scan = IndexScan(node.table_oid, node.table_name, ix.oid, ix.name, node.width, kind,
                             tuple(keys), qual=and_all(rest), key_count=len(cols), with_tid=node.with_tid,
                             key_names=key_names, **extra)
            best = (score, scan)
    return best[1] if best is not None else node


# ---- choose_joins --------------------------------------------------------------------------------
def _equi_keys(qual: Expr | None, ow: int) -> tuple[list[Expr], list[Expr], list[Expr]]:
    outer_keys: list[Expr] = []
    inner_keys: list[Expr] = []
    rest: list[Expr] = []
    for q in conjuncts(qual):
        if isinstance(q, FuncExpr) and q.is_operator and q.name == "=" and len(q.args) == 2 and not has_volatile(q):
            a, b = q.args
            ar, br = var_range(a), var_range(b)
            if a.type_oid == b.type_oid and ar[0] >= 0 and br[0] >= 0:
                if ar[1] < ow <= br[0]:
                    outer_keys.append(a)
                    inner_keys.append(shift_vars(b, lambda i: i - ow))
                    continue
                if br[1] < ow <= ar[0]:
                    outer_keys.append(b)
                    inner_keys.append(shift_vars(a, lambda i: i - ow))
                    continue
        rest.append(q)
    return outer_keys, inner_keys, rest


def _small(node: Any) -> bool:
    if isinstance(node, IndexScan) and node.kind in (IndexKind.EQ, IndexKind.IN):
        return True
    from pgaurora.executor.plannodes import ValuesScan

    return isinstance(node, ValuesScan) and len(node.rows) <= 100


def choose_joins(node: Any, state: CatalogState, slots: list[int] | None = None) -> Any:
    node = map_children(node, lambda c: choose_joins(c, state, slots))
    if not isinstance(node, NestLoop) or node.param_slots:
        return node
    if node.join_type not in (JoinType.INNER, JoinType.LEFT, JoinType.RIGHT, JoinType.FULL, JoinType.SEMI, JoinType.ANTI):
        return node
    ow = node.outer.width
    outer_keys, inner_keys, rest = _equi_keys(node.qual, ow)
    if not outer_keys:
        return node
    return HashJoin(node.join_type, node.outer, node.inner, tuple(outer_keys), tuple(inner_keys),
                    and_all(rest), node.width)


def index_nested_loop(node: Any, state: CatalogState, next_slot: Callable[[], int]) -> Any:
    """HashJoin(small outer, SeqScan inner with an index on the key) -> NestLoop with IndexScan on ExecParams.

    An inner join whose small side is the inner one is turned around first (join order), with a
    projection restoring the column order the nodes above expect:
        HashJoin(Scan big, IndexScan small)  ->  Project(NestLoop(IndexScan small, IndexScan big on $key))
    """
    node = map_children(node, lambda c: index_nested_loop(c, state, next_slot))
    if not isinstance(node, HashJoin) or node.join_type not in (JoinType.INNER, JoinType.LEFT):
        return node
    if node.join_type is JoinType.INNER and isinstance(node.outer, SeqScan) and not node.outer.with_tid \
            and _small(node.inner) and not _small(node.outer):
        ow, iw = node.outer.width, node.inner.width
        swapped = HashJoin(JoinType.INNER, node.inner, node.outer, node.inner_keys, node.outer_keys,
                           shift_vars(node.qual, lambda i: i + iw if i < ow else i - ow) if node.qual is not None else None,
                           node.width)
        turned = _index_lookup_join(swapped, state, next_slot)
        if turned is not swapped:
            from pgaurora.executor.plannodes import Project

            order = tuple(Var(iw + i, 0) for i in range(ow)) + tuple(Var(i, 0) for i in range(iw))
            return Project(turned, order, node.width)
        return node
    return _index_lookup_join(node, state, next_slot)


def _index_lookup_join(node: HashJoin, state: CatalogState, next_slot: Callable[[], int]) -> Any:
    inner = node.inner
    if not isinstance(inner, SeqScan) or not _small(node.outer):
        return node
    table = state.table(inner.table_oid)
    if table is None or not _lookups_pay(node, table, state):
        return node
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    for ix in state.indexes(table.oid):
        if ix.expressions or ix.predicate is not None:
            continue  # expression / partial indexes: only for quals (use_indexes)
        cols = [positions.get(a, -1) for a in ix.columns]
        mapping = {ik.index: ok for ok, ik in zip(node.outer_keys, node.inner_keys, strict=True) if isinstance(ik, Var)}
        if len(mapping) != len(node.inner_keys) or set(mapping) != set(cols):
            continue
        slots = [next_slot() for _ in cols]
        keys = tuple(ExecParam(s, mapping[c].type_oid) for s, c in zip(slots, cols, strict=True))
        scan = IndexScan(inner.table_oid, inner.table_name, ix.oid, ix.name, inner.width, IndexKind.EQ, keys,
                         qual=inner.qual, key_count=len(cols), key_names=tuple(table.columns[c].name for c in cols))
        return NestLoop(node.join_type, node.outer, scan, node.qual, node.width, tuple(slots),
                        tuple(mapping[c] for c in cols))
    return node


def _lookups_pay(node: HashJoin, table: Any, state: CatalogState) -> bool:
    """Do index lookups for the outer rows cost less than hashing the inner table (planner.estimate)?"""
    from pgaurora.planner import estimate

    outer_rows = estimate.estimate_rows(node.outer, state)
    inner_rows = estimate.table_rows(state, table)
    lookups = outer_rows * (estimate.INDEX_LOOKUP + estimate.INDEX_FETCH)
    return lookups <= inner_rows * (estimate.SEQ_ROW + estimate.HASH_BUILD) + outer_rows * estimate.HASH_PROBE


def prune_partitions(node: Any, state: CatalogState) -> Any:
    """Scans of partitions whose bound contradicts their constant quals -> nothing (planner.partition)."""
    from pgaurora.planner.partition import prune

    return prune(node, state)


RULES = (push_down_filters, prune_partitions, use_indexes, choose_joins)


def optimize(node: Any, state: CatalogState, next_slot: Callable[[], int] | None = None) -> Any:
    from pgaurora.planner import (  # rule modules of their own (using map_children from here)
        indexorder,
        mergejoin,
    )
    from pgaurora.planner.joinorder import reorder_joins  # join order by cost, after use_indexes

    for rule in RULES:
        if rule is choose_joins:
            node = reorder_joins(node, state, next_slot)
        node = rule(node, state)
    if next_slot is not None:
        node = index_nested_loop(node, state, next_slot)
    node = mergejoin.apply(node, state)
    return indexorder.apply(node, state)
