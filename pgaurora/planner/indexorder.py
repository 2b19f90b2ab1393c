"""ORDER BY ... LIMIT and min() / max() read in an index's order: the sort or the whole-table read dropped.

Owns the rule that turns

    Limit(Sort(Project(scan of t)))   into   Limit(Project(IndexScan of t in key order))

when the sort keys are plain columns of t, all ascending with NULLs last (a B-tree's order) or
all descending with NULLs first (its reverse, read by a backward scan: ORDER BY x DESC's
default), that follow an index's columns from its first (or from the first after those an
equality fixes), and the scan filters nothing the index does not. The first rows of the index
are then the first rows the sort would give, and executor.scan fetches rows as the index
yields entries, so the limit stops the scan after a few pages instead of a whole-table read
and sort: `ORDER BY id LIMIT 10`, keyset pagination (`WHERE id > $1 ORDER BY id LIMIT 10`), the first rows of a group
(`WHERE a = $1 ORDER BY b LIMIT 5` over an index on (a, b)). PostgreSQL plans these the same way.

Not here: choosing indexes for quals (planner.rules.use_indexes, which runs first), mixed
directions (`ORDER BY a, b DESC` keeps its sort), a sort with a residual filter below it (whose
rows may lie anywhere in the index: the sort stays, as a whole-table read is bounded).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pgaurora.catalog.model import Index
from pgaurora.catalog.state import CatalogState
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.typeinfo import INT8_OID
from pgaurora.executor.expr import Const, Var
from pgaurora.executor.plannodes import Aggregate, IndexKind, IndexScan, Limit, Project, SeqScan, Sort
from pgaurora.planner.rules import map_children

# Types whose sort order (catalog.builtins.sort_key, NULLs last) is the B-tree's key order.
_SAME_ORDER = frozenset((t.INT2_OID, t.INT4_OID, t.INT8_OID, t.NUMERIC_OID, t.FLOAT4_OID, t.FLOAT8_OID,
                         t.TEXT_OID, t.VARCHAR_OID, t.DATE_OID, t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID,
                         t.UUID_OID, t.BOOL_OID, t.OID_OID))


def apply(node: Any, state: CatalogState) -> Any:
    """The plan with each Limit over a sort that an index's order satisfies rewritten as above,
    and each lone min() / max() of an indexed column over a whole table read at the index's end."""
    node = map_children(node, lambda child: apply(child, state))
    if isinstance(node, Aggregate):
        return _min_max(node, state) or node
    if not isinstance(node, Limit) or node.limit is None or not isinstance(node.input, Sort):
        return node
    ordered = _ordered(node.input, state)
    return node if ordered is None else Limit(ordered, node.limit, node.offset, node.width, node.ties)


def _min_max(node: Aggregate, state: CatalogState) -> Aggregate | None:
    """`SELECT min(c) FROM t` / `max(c)`, c leading a B-tree: the aggregate over the first row of
    the index in that direction whose c is not NULL (PostgreSQL's planagg does the same with an
    InitPlan), instead of over the whole table; None for any other aggregate."""
    scan = node.input
    if node.group_keys or node.grouping_sets is not None or len(node.aggs) != 1 or not isinstance(scan, SeqScan):
        return None
    spec = node.aggs[0]
    if (spec.name not in ("min", "max") or spec.filter is not None or spec.order_by or spec.star
            or len(spec.args) != 1 or scan.qual is not None or scan.with_tid):
        return None
    arg = spec.args[0]
    table = state.table(scan.table_oid)
    if (table is None or not isinstance(arg, Var) or arg.index >= len(table.columns)
            or arg.type_oid not in _SAME_ORDER or table.columns[arg.index].type_oid != arg.type_oid):
        return None
    attnum = table.columns[arg.index].attnum
    index = next((ix for ix in state.indexes(table.oid) if not ix.expressions and ix.predicate is None
                  and ix.columns[:1] == (attnum,) and ix.method == "btree"), None)
    if index is None:
        return None
    first = _whole_index(scan, table, index, backward=spec.name == "max", nulls=False)
    return Aggregate(Limit(first, Const(1, INT8_OID), None, scan.width), (), node.aggs, node.width)


def _ordered(sort: Sort, state: CatalogState) -> Any:
    """`sort`'s input read in index order, or None."""
    project = sort.input
    scan = project.input if isinstance(project, Project) else project
    if isinstance(scan, SeqScan):
        if scan.qual is not None or scan.with_tid:
            return None
        fixed = 0
    elif isinstance(scan, IndexScan):
        if (scan.qual is not None or scan.with_tid or scan.kind is IndexKind.IN
                or (scan.kind is IndexKind.EQ and len(scan.eq_keys) >= scan.key_count)):
            return None
        fixed = len(scan.eq_keys)  # leading index columns an equality fixes
    else:
        return None
    table = state.table(scan.table_oid)
    if table is None:
        return None
    columns: list[int] = []  # attnums, in sort key order
    # every key ascending with NULLs last (the index's order), or every key descending with
    # NULLs first (its reverse: a backward scan, as ORDER BY x DESC defaults to)
    backward = sort.keys[0].descending
    for key in sort.keys:
        if key.descending != backward or key.nulls_first != backward or not isinstance(key.expr, Var):
            return None
        expr: Any = key.expr
        if isinstance(project, Project):
            expr = project.exprs[expr.index] if expr.index < len(project.exprs) else None
        if not isinstance(expr, Var) or expr.index >= len(table.columns) or expr.type_oid not in _SAME_ORDER:
            return None
        column = table.columns[expr.index]
        if column.type_oid != expr.type_oid:
            return None
        columns.append(column.attnum)
    if isinstance(scan, IndexScan):
        index = state.by_oid.get(scan.index_oid)
        if not isinstance(index, Index) or index.method != "btree" or not _follows(columns, tuple(index.columns), fixed):
            return None
        ordered: Any = dataclasses.replace(scan, backward=True) if backward else scan
    else:
        index = next((ix for ix in state.indexes(table.oid) if not ix.expressions and ix.predicate is None
                      and ix.method == "btree" and _follows(columns, tuple(ix.columns), 0)), None)
        if index is None:
            return None
        ordered = _whole_index(scan, table, index, backward=backward)
    if isinstance(project, Project):
        return Project(ordered, project.exprs, project.width)
    return ordered


def _follows(columns: list[int], index_columns: tuple[int, ...], fixed: int) -> bool:
    """Do sort columns `columns` follow the index's order, its first `fixed` columns being constant?"""
    rest = [c for c in columns if c not in index_columns[:fixed]]
    return bool(columns) and tuple(rest) == index_columns[fixed:fixed + len(rest)] and 0 not in rest


def _whole_index(scan: SeqScan, table: Any, index: Index, *, backward: bool, nulls: bool = True) -> IndexScan:
    """`scan`'s rows through the whole of `index`, in key order (backward: highest first), its
    NULL keys included or not."""
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    names = tuple(table.columns[positions[a]].name for a in index.columns)
    return IndexScan(scan.table_oid, scan.table_name, index.oid, index.name, scan.width, IndexKind.RANGE,
                     key_count=len(index.columns), key_names=names, backward=backward, nulls=nulls)
