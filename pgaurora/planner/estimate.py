"""Row and cost estimates of plan nodes, from ANALYZE's statistics (or defaults without them).

Owns `table_rows` (pg_class.reltuples, else a default), the Var resolver over one table's
column statistics, `estimate_rows(node)` for any plan node and `scan_cost(node)` for the scans
the join search starts from. The cost unit is roughly "one row read by a sequential scan" in
this executor (Python): a hash table insert or an index descent costs several of those.

    SeqScan t (quals)          reltuples x selectivity(quals)
    IndexScan t (key = $1)     reltuples x selectivity(index conditions and quals)
    joins                      outer x inner x selectivity(join quals)  (LEFT: at least outer)
    Aggregate                  1 without GROUP BY, else the group keys' n_distinct (<= input)

Not selectivity arithmetic (planner.selectivity) and not choosing plans (planner.joinorder).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from pgaurora.catalog.model import Table
from pgaurora.catalog.state import CatalogState
from pgaurora.catalog.statistics import ColumnStatistics, column_statistics
from pgaurora.executor.expr import ArrayExpr, Const, Var
from pgaurora.executor.plannodes import (
    Aggregate,
    CteScan,
    Filter,
    FunctionScan,
    HashJoin,
    IndexKind,
    IndexScan,
    JoinType,
    Limit,
    NestLoop,
    Project,
    SeqScan,
    SetOp,
    SystemScan,
    Unique,
    ValuesScan,
)
from pgaurora.planner.selectivity import (
    DEFAULT_NUM_DISTINCT,
    Resolver,
    VarInfo,
    clause_selectivity,
    clauselist_selectivity,
    eq_selectivity,
    ineq_selectivity,
)

DEFAULT_TABLE_ROWS = 1000.0  # a table never analyzed (PostgreSQL would look at its size on disk)
DEFAULT_FUNCTION_ROWS = 1000.0
DEFAULT_SYSTEM_ROWS = 100.0

# cost units: one row of a sequential scan over cached pages (about 0.15 us here) = 1. Measured
# in-process: a unique index lookup (descent + heap fetch, awaited) costs about 24 us = 160 rows.
SEQ_ROW = 1.0
INDEX_LOOKUP = 100.0  # one B-tree descent
INDEX_FETCH = 60.0  # one heap fetch through an index entry
HASH_BUILD = 1.0  # one inner row into the hash table
HASH_PROBE = 0.5  # one outer row probing it
OUTPUT_ROW = 0.5  # one joined row built
NESTLOOP_PAIR = 1.0  # one joined row built and its qual evaluated in a plain nested loop


def _decoder(type_oid: int) -> Callable[[str], Any]:
    from pgaurora.datatypes import text_decoder

    return text_decoder(type_oid)


# The heap's current page count (None: not known without I/O), set by planner.plan for the
# statement being planned: as PostgreSQL's estimate_rel_size, reltuples is scaled to the pages the
# heap has now, so estimates follow bulk loads between ANALYZEs.
HEAP_PAGES: ContextVar[Callable[[int], int | None] | None] = ContextVar("heap_pages", default=None)
PAGE_SIZE = 8192
PAGE_HEADER = 24
TUPLE_OVERHEAD = 24 + 4  # tuple header and line pointer
VARLENA_WIDTH = 32  # get_typavgwidth's guess for a variable-width column


def heap_pages_of(storage: Any) -> Callable[[int], int | None]:
    """HEAP_PAGES for an access.Storage: a heap's pages when its page list is loaded."""
    def pages(rel_id: int) -> int | None:
        heaps = getattr(storage, "_heaps", None)
        heap = heaps.get(rel_id) if isinstance(heaps, dict) else None
        pagelist = getattr(heap, "pagelist", None)
        if pagelist is None or not getattr(pagelist, "loaded", False):
            return None
        return len(pagelist.pages)
    return pages


def table_rows(state: CatalogState, table: Table) -> float:
    stat = state.statistics.get(table.oid)
    pages_of = HEAP_PAGES.get()
    current = pages_of(table.rel_id) if pages_of is not None and table.rel_id else None
    if stat is not None and stat.reltuples >= 0:
        if current is None or stat.relpages <= 0:
            return max(stat.reltuples, 0.0)
        return max(stat.reltuples / stat.relpages * current, 0.0)
    if current is None:
        return DEFAULT_TABLE_ROWS
    # never analyzed: a small heap counts as 10 pages (it may grow), rows from the columns' widths
    from pgaurora.datatypes import find

    width = TUPLE_OVERHEAD
    for column in table.columns:
        if not column.dropped:
            info = find(column.type_oid)
            width += info.typlen if info is not None and info.typlen > 0 else VARLENA_WIDTH
    return float(max(current, 10) * ((PAGE_SIZE - PAGE_HEADER) // width))


def column_stats(state: CatalogState, table: Table) -> dict[int, ColumnStatistics]:
    stat = state.statistics.get(table.oid)
    return column_statistics(stat, table, _decoder) if stat is not None else {}


def unique_columns(state: CatalogState, table: Table) -> set[int]:
    """Positions of columns with a one-column unique index (every value distinct)."""
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    return {positions[ix.columns[0]] for ix in state.indexes(table.oid)
            if ix.unique and len(ix.columns) == 1 and not ix.expressions and ix.predicate is None
            and ix.columns[0] in positions}


def table_resolver(state: CatalogState, table: Table, rel: int = -1, rel_rows: float | None = None,
                   offset: int = 0) -> Resolver:
    """Var (index - offset = the table's column position) -> VarInfo."""
    rows = table_rows(state, table)
    stats = column_stats(state, table)
    unique = unique_columns(state, table)
    columns = table.columns
    restricted = rows if rel_rows is None else rel_rows

    def resolve(var: Var) -> VarInfo | None:
        pos = var.index - offset
        if not 0 <= pos < len(columns):
            return None
        column = columns[pos]
        return VarInfo(stats.get(column.attnum), rows, restricted, pos in unique, column.type_oid, rel)

    return resolve


def _no_info(var: Var) -> VarInfo | None:
    return None


def scan_rows(node: SeqScan | IndexScan, state: CatalogState) -> float:
    table = state.table(node.table_oid)
    if table is None:
        return DEFAULT_TABLE_ROWS
    rows = table_rows(state, table)
    resolve = table_resolver(state, table)
    sel = 1.0
    if isinstance(node, IndexScan):
        sel = _index_selectivity(node, state, table, resolve)
    if node.qual is not None:
        from pgaurora.planner.rules import conjuncts

        sel *= clauselist_selectivity(conjuncts(node.qual), resolve)
    return max(rows * sel, 1.0) if rows > 0 else 0.0


def _index_selectivity(node: IndexScan, state: CatalogState, table: Table, resolve: Resolver) -> float:
    index = state.by_oid.get(node.index_oid)
    columns = getattr(index, "columns", ())
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    infos: list[VarInfo | None] = []
    for attnum in columns:
        pos = positions.get(attnum)
        infos.append(resolve(Var(pos, table.columns[pos].type_oid)) if pos is not None else None)
    if getattr(index, "unique", False) and node.kind is IndexKind.EQ and len(node.eq_keys) == len(columns) \
            and getattr(index, "predicate", None) is None:
        return 1.0 / max(table_rows(state, table), 1.0)
    sel = 1.0
    n = len(node.eq_keys)
    for i, key in enumerate(node.eq_keys):
        info = infos[i] if i < len(infos) else None
        known, value = (True, key.value) if isinstance(key, Const) else (False, None)
        sel *= eq_selectivity(info, known, value) if info is not None else 0.005
    info = infos[n] if n < len(infos) else None
    if node.kind is IndexKind.IN and node.in_list is not None:
        count = len(node.in_list.elements) if isinstance(node.in_list, ArrayExpr) else (
            len(node.in_list.value) if isinstance(node.in_list, Const) and isinstance(node.in_list.value, list) else 10)
        each = eq_selectivity(info, False, None) if info is not None else 0.005
        sel *= min(1.0, count * each)
    if node.kind is IndexKind.RANGE:
        parts = []
        for bound, op in ((node.lo, ">=" if node.lo_inclusive else ">"), (node.hi, "<=" if node.hi_inclusive else "<")):
            if bound is None:
                continue
            known, value = (True, bound.value) if isinstance(bound, Const) else (False, None)
            parts.append(ineq_selectivity(info, op, known, value) if info is not None else 1.0 / 3.0)
        if len(parts) == 2:
            both = parts[0] + parts[1] - 1.0
            sel *= both if both > 0 else 0.005
        elif parts:
            sel *= parts[0]
    return sel


def scan_cost(node: Any, rows: float, state: CatalogState) -> float:
    """Cost of producing a join search's base relation once."""
    if isinstance(node, SeqScan):
        table = state.table(node.table_oid)
        return (table_rows(state, table) if table is not None else DEFAULT_TABLE_ROWS) * SEQ_ROW
    if isinstance(node, IndexScan):
        lookups = 1.0
        if node.kind is IndexKind.IN and isinstance(node.in_list, ArrayExpr):
            lookups = float(len(node.in_list.elements))
        return lookups * INDEX_LOOKUP + rows * INDEX_FETCH
    return rows * SEQ_ROW


def estimate_rows(node: Any, state: CatalogState) -> float:
    """Estimated rows `node` returns (PostgreSQL's set_*_size_estimates, simplified)."""
    if isinstance(node, SeqScan | IndexScan):
        return scan_rows(node, state)
    if isinstance(node, Filter):
        from pgaurora.planner.rules import conjuncts

        return max(estimate_rows(node.input, state) * clauselist_selectivity(conjuncts(node.qual), _no_info), 1.0)
    if isinstance(node, Project):
        return estimate_rows(node.input, state)
    if isinstance(node, NestLoop | HashJoin) or type(node).__name__ == "MergeJoin":
        outer = estimate_rows(node.outer, state)
        inner = estimate_rows(node.inner, state)
        if isinstance(node, NestLoop) and node.param_slots:
            rows = outer * max(inner, 1.0)
        else:
            sel = clause_selectivity(node.qual, _no_info) if node.qual is not None else 1.0
            keys = getattr(node, "outer_keys", ())
            sel *= (1.0 / max(min(DEFAULT_NUM_DISTINCT, max(outer, inner)), 1.0)) ** len(keys)
            rows = outer * inner * sel
        jt = node.join_type
        if jt in (JoinType.LEFT, JoinType.FULL):
            rows = max(rows, outer)
        if jt in (JoinType.RIGHT, JoinType.FULL):
            rows = max(rows, inner)
        if jt in (JoinType.SEMI, JoinType.ANTI):
            rows = outer * 0.5
        return max(rows, 1.0)
    if isinstance(node, Aggregate):
        if not node.group_keys:
            return 1.0
        below = estimate_rows(node.input, state)
        return max(min(below, _groups(node.input, node.group_keys, state)), 1.0)
    if isinstance(node, Limit):
        below = estimate_rows(node.input, state)
        if isinstance(node.limit, Const) and isinstance(node.limit.value, int):
            return float(min(below, node.limit.value))
        return below
    if isinstance(node, Unique):
        return max(estimate_rows(node.input, state) * 0.5, 1.0)
    if isinstance(node, ValuesScan):
        return float(len(node.rows))
    if isinstance(node, FunctionScan):
        return _function_rows(node)
    if isinstance(node, SystemScan):
        return DEFAULT_SYSTEM_ROWS
    if isinstance(node, CteScan):
        return estimate_rows(node.plan, state)
    if isinstance(node, SetOp):
        return estimate_rows(node.left, state) + estimate_rows(node.right, state)
    child = getattr(node, "input", None)
    if child is not None:
        return estimate_rows(child, state)
    parts = getattr(node, "parts", None)
    if parts:
        return sum(estimate_rows(p, state) for p in parts)
    return DEFAULT_TABLE_ROWS


def _groups(node: Any, keys: tuple[Any, ...], state: CatalogState) -> float:
    """Distinct combinations of `keys` (PostgreSQL's estimate_num_groups: the product of the
    columns' n_distinct), for keys that are columns of a scanned table; else 200 per key."""
    for _ in range(64):
        if isinstance(node, Filter):
            node = node.input
        elif isinstance(node, Project) and all(isinstance(e, Var) for e in node.exprs):
            keys = tuple(node.exprs[k.index] if isinstance(k, Var) and k.index < len(node.exprs) else k for k in keys)
            node = node.input
        else:
            break
    table = state.table(node.table_oid) if isinstance(node, SeqScan | IndexScan) else None
    resolve = table_resolver(state, table) if table is not None else _no_info
    groups = 1.0
    for key in keys:
        info = resolve(key) if isinstance(key, Var) else None
        groups *= info.n_distinct()[0] if info is not None else DEFAULT_NUM_DISTINCT
    return groups


def _function_rows(node: FunctionScan) -> float:
    """generate_series over constants has a known row count (PostgreSQL 12+ asks its support function)."""
    if node.name == "generate_series" and 2 <= len(node.args) <= 3 and all(isinstance(a, Const) for a in node.args):
        values = [a.value for a in node.args if isinstance(a, Const)]
        if all(isinstance(v, int) for v in values):
            start, stop = values[0], values[1]
            step = values[2] if len(values) == 3 else 1
            if step:
                return float(max((stop - start) // step + 1, 0))
    if node.name == "unnest" and node.args and isinstance(node.args[0], Const) and isinstance(node.args[0].value, list):
        return float(len(node.args[0].value))
    return DEFAULT_FUNCTION_ROWS


__all__ = ["DEFAULT_TABLE_ROWS", "estimate_rows", "scan_cost", "scan_rows", "table_resolver", "table_rows",
           "unique_columns"]
