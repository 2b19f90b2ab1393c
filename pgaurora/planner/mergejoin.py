"""Optimizer rule: merge join for inputs that already arrive sorted on the join key.

    HashJoin(IndexScan a_pkey (a.id > 10), IndexScan b_pkey (b.id > 10), a.id = b.id)
      ->  MergeJoin(same inputs, a.id = b.id)              (executor.mergejoin)

Without statistics the rule decides by order alone: when both inputs are already in ascending
order of the (single) equality key, a merge join does strictly less work than a hash join (no
hash table is built over the inner side, nothing is materialized) and its output stays in the
outer order, so a Sort on that key above the join is dropped too (`drop_sorted`). Inputs count
as ordered when they are B-tree index scans whose next key column after the equality prefix is
the join column (a range or a prefix lookup), a Sort on that key, or a Filter / projection of
one. Inner and left joins only; the join key types must be the same.
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import Index
from pgaurora.catalog.state import CatalogState
from pgaurora.executor.expr import Var
from pgaurora.executor.mergejoin import MergeJoin
from pgaurora.executor.plannodes import Filter, HashJoin, IndexKind, IndexScan, JoinType, Project, Sort
from pgaurora.planner.rules import map_children


def ordered_by(node: Any, column: int, state: CatalogState) -> bool:
    """Do `node`'s rows arrive in ascending order (NULLS LAST) of their column `column`?"""
    if isinstance(node, Filter):
        return ordered_by(node.input, column, state)
    if isinstance(node, Project):
        expr = node.exprs[column] if column < len(node.exprs) else None
        return isinstance(expr, Var) and ordered_by(node.input, expr.index, state)
    if isinstance(node, Sort):
        first = node.keys[0]
        return isinstance(first.expr, Var) and first.expr.index == column and not first.descending \
            and not first.nulls_first
    if isinstance(node, IndexScan) and node.kind is not IndexKind.IN:
        index = state.by_oid.get(node.index_oid)
        table = state.table(node.table_oid)
        if not isinstance(index, Index) or table is None or index.expressions or any(index.descending):
            return False
        n = len(node.eq_keys)
        if n >= len(index.columns):
            return False  # one key value: nothing to order by
        attnum = index.columns[n]
        return column < len(table.columns) and table.columns[column].attnum == attnum
    return False


def choose_merge_joins(node: Any, state: CatalogState) -> Any:
    node = map_children(node, lambda c: choose_merge_joins(c, state))
    if not isinstance(node, HashJoin) or node.join_type not in (JoinType.INNER, JoinType.LEFT):
        return node
    if len(node.outer_keys) != 1:
        return node
    outer_key, inner_key = node.outer_keys[0], node.inner_keys[0]
    if not isinstance(outer_key, Var) or not isinstance(inner_key, Var) or outer_key.type_oid != inner_key.type_oid:
        return node
    if not ordered_by(node.outer, outer_key.index, state) or not ordered_by(node.inner, inner_key.index, state):
        return node
    return MergeJoin(node.join_type, node.outer, node.inner, node.outer_keys, node.inner_keys, node.qual, node.width)


def drop_sorted(node: Any, state: CatalogState) -> Any:
    """Sort on a merge join's outer key, directly above it: the rows are in that order already."""
    node = map_children(node, lambda c: drop_sorted(c, state))
    if isinstance(node, Sort) and len(node.keys) == 1:
        key = node.keys[0]
        below = node.input
        if isinstance(key.expr, Var) and not key.descending and not key.nulls_first:
            column = key.expr.index
            if isinstance(below, Project):
                expr = below.exprs[column] if column < len(below.exprs) else None
                if isinstance(expr, Var) and isinstance(below.input, MergeJoin) and _merge_ordered(below.input, expr.index):
                    return below
            elif isinstance(below, MergeJoin) and _merge_ordered(below, column):
                return below
    return node


def _merge_ordered(join: MergeJoin, column: int) -> bool:
    key = join.outer_keys[0]
    return isinstance(key, Var) and key.index == column and join.join_type in (JoinType.INNER, JoinType.LEFT)


def contains(node: Any, kind: type) -> bool:
    """Is there a `kind` node in the tree (a cheap look before a rewriting walk)?"""
    if isinstance(node, kind):
        return True
    return any(contains(getattr(node, name, None), kind) for name in _CHILDREN if hasattr(node, name))


_CHILDREN = ("input", "outer", "inner", "left", "right", "source", "plan", "non_recursive", "recursive", "as_query")


def apply(node: Any, state: CatalogState) -> Any:
    if not contains(node, HashJoin):
        return node
    node = choose_merge_joins(node, state)
    return drop_sorted(node, state) if contains(node, MergeJoin) else node


__all__ = ["ordered_by", "choose_merge_joins", "drop_sorted", "apply"]
