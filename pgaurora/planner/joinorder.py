"""Optimizer rule: join order and join methods by estimated cost (PostgreSQL's standard_join_search).

    NestLoop(NestLoop(Scan big, Scan mid), Scan small (v = 5))      FROM big, mid, small
      ->  HashJoin(HashJoin(Scan small (v = 5), Scan mid), Scan big)     smallest inputs first
          (a Project above restores the FROM-order column layout the nodes above expect)

A run of INNER nested loops without parameters is one join problem: its inputs ("base
relations": scans, subqueries, outer joins — an outer join is planned inside as its own problem
and keeps its constraints) and its quals, each with the set of relations it reads. A dynamic
program over subsets finds the cheapest plan of every connected subset from its pairs of
cheapest sub-plans (cross joins only where no qual connects a subset), for up to
MAX_RELATIONS relations; bigger problems keep FROM order. Each pair is costed as
  hash join       outer + inner + inner rows x HASH_BUILD + outer rows x HASH_PROBE
  index lookup    outer + outer rows x (INDEX_LOOKUP + rows per lookup x INDEX_FETCH)
                  (the inner side one table with a B-tree on the join key: parameterized NestLoop)
  nested loop     outer + inner + outer rows x inner rows x NESTLOOP_PAIR   (no equality to hash)
plus OUTPUT_ROW per joined row; join sizes come from planner.estimate / planner.selectivity.
Merge joins are chosen afterwards for hash joins whose inputs arrive sorted (planner.mergejoin).
Ties keep the earlier candidate, and candidates are enumerated in FROM order: deterministic.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgaurora.catalog.model import Index
from pgaurora.catalog.state import CatalogState
from pgaurora.executor.expr import ExecParam, Expr, FuncExpr, Var, shift_vars, walk
from pgaurora.executor.plannodes import (
    Filter,
    HashJoin,
    IndexKind,
    IndexScan,
    JoinType,
    NestLoop,
    Project,
    SeqScan,
)
from pgaurora.planner import estimate
from pgaurora.planner.selectivity import VarInfo, clause_selectivity

MAX_RELATIONS = 8  # PostgreSQL's join_collapse_limit / from_collapse_limit


@dataclass(slots=True)
class Relation:
    """One input of the join problem."""

    node: Any
    offset: int  # first column in the FROM-order layout
    width: int
    rows: float
    cost: float
    resolve: Callable[[Var], VarInfo | None]


@dataclass(frozen=True, slots=True)
class Qual:
    expr: Expr  # over the FROM-order layout
    relids: int  # bitmask of the relations it reads


@dataclass(frozen=True, slots=True)
class Path:
    """The cheapest way found to join a set of relations."""

    cost: float
    rows: float
    method: str  # "rel" | "hash" | "index" | "nestloop"
    relids: int
    outer: Path | None = None
    inner: Path | None = None
    rel: int = -1  # for "rel": which relation
    index_oid: int = 0  # for "index"


class JoinProblem:
    def __init__(self, relations: list[Relation], quals: list[Qual], top: list[Expr], state: CatalogState) -> None:
        self.relations = relations
        self.quals = quals
        self.top = top
        self.state = state
        self.offsets = [r.offset for r in relations]
        self._rows: dict[int, float] = {}

    # -- helpers -------------------------------------------------------------------------------------
    def rel_of(self, index: int) -> int:
        return bisect.bisect_right(self.offsets, index) - 1

    def resolve(self, var: Var) -> VarInfo | None:
        rel = self.rel_of(var.index)
        if rel < 0:
            return None
        r = self.relations[rel]
        info = r.resolve(Var(var.index - r.offset, var.type_oid))
        if info is None:
            return VarInfo(None, r.rows, r.rows, False, var.type_oid, rel)
        return VarInfo(info.stats, info.table_rows, r.rows, info.unique, info.type_oid, rel)

    def relids_of(self, expr: Expr) -> int:
        mask = 0
        for n in walk(expr):
            if isinstance(n, Var):
                mask |= 1 << self.rel_of(n.index)
        return mask

    def prepare(self) -> None:
        """Per-qual facts the search reads many times: selectivity, and the sides of `x = y`."""
        self._sel = [clause_selectivity(q.expr, self.resolve) for q in self.quals]
        self._sides: list[tuple[int, int, Expr, Expr] | None] = []
        for q in self.quals:
            e = q.expr
            side = None
            if isinstance(e, FuncExpr) and e.is_operator and e.name == "=" and len(e.args) == 2 \
                    and not any(isinstance(n, FuncExpr) and n.volatile for n in walk(e)):
                a, b = e.args
                ra, rb = self.relids_of(a), self.relids_of(b)
                if a.type_oid == b.type_oid and ra and rb and not ra & rb:
                    side = (ra, rb, a, b)
            self._sides.append(side)
        self._index_cache: dict[tuple[int, tuple[tuple[int, int], ...]], tuple[int, float] | None] = {}

    def rows(self, relids: int) -> float:
        found = self._rows.get(relids)
        if found is not None:
            return found
        rows = 1.0
        for i, r in enumerate(self.relations):
            if relids >> i & 1:
                rows *= r.rows
        for k, q in enumerate(self.quals):
            if q.relids & relids == q.relids:
                rows *= self._sel[k]
        rows = max(rows, 1.0)
        self._rows[relids] = rows
        return rows

    def join_quals(self, outer: int, inner: int) -> list[int]:
        """Numbers of the quals that become evaluable when `outer` and `inner` are joined."""
        both = outer | inner
        return [k for k, q in enumerate(self.quals)
                if q.relids & both == q.relids and q.relids & outer and q.relids & inner]

    def equi_keys(self, quals: list[int], outer: int, inner: int) -> list[tuple[Expr, Expr, int]]:
        """(outer side, inner side, qual number) for `x = y` quals with x on the outer and y on the inner side."""
        out = []
        for k in quals:
            side = self._sides[k]
            if side is None:
                continue
            ra, rb, a, b = side
            if ra & outer == ra and rb & inner == rb:
                out.append((a, b, k))
            elif rb & outer == rb and ra & inner == ra:
                out.append((b, a, k))
        return out

    def search(self) -> Path:
        self.prepare()
        n = len(self.relations)
        best: dict[int, Path] = {}
        for i, r in enumerate(self.relations):
            best[1 << i] = Path(r.cost, r.rows, "rel", 1 << i, rel=i)
        by_size: dict[int, list[int]] = {}
        for mask in range(1, 1 << n):
            by_size.setdefault(bin(mask).count("1"), []).append(mask)
        full = (1 << n) - 1
        # as PostgreSQL: no cross products of relations that quals connect some other way; a
        # problem whose quals do not connect every relation gets cross joins where needed
        clauseless = not self.connected(full)
        for size in range(2, n + 1):
            for mask in by_size[size]:
                if not clauseless and not self.connected(mask):
                    continue
                found = self._best_for(mask, best, connected_only=True)
                if found is None:
                    found = self._best_for(mask, best, connected_only=False)
                if found is not None:
                    best[mask] = found
        return best[full]

    def connected(self, mask: int) -> bool:
        """Do the quals within `mask` connect all its relations?"""
        reached = mask & -mask
        changed = True
        while changed:
            changed = False
            for q in self.quals:
                if q.relids & mask == q.relids and q.relids & reached and q.relids & ~reached:
                    reached |= q.relids
                    changed = True
        return reached == mask

    def _best_for(self, mask: int, best: dict[int, Path], connected_only: bool) -> Path | None:
        chosen: Path | None = None
        rows = self.rows(mask)
        subset = (0 - mask) & mask  # the proper non-empty subsets of mask, in ascending order
        while subset != mask:
            outer, inner = subset, mask ^ subset
            subset = (subset - mask) & mask
            o, i = best.get(outer), best.get(inner)
            if o is None or i is None:
                continue
            quals = self.join_quals(outer, inner)
            if connected_only and not quals:
                continue
            for path in self._paths(o, i, quals, rows):
                if chosen is None or path.cost < chosen.cost * (1 - 1e-9):
                    chosen = path
        return chosen

    def _paths(self, o: Path, i: Path, quals: list[int], rows: float) -> list[Path]:
        relids = o.relids | i.relids
        out_cost = rows * estimate.OUTPUT_ROW
        paths = []
        keys = self.equi_keys(quals, o.relids, i.relids)
        if keys:
            cost = o.cost + i.cost + i.rows * estimate.HASH_BUILD + o.rows * estimate.HASH_PROBE + out_cost
            paths.append(Path(cost, rows, "hash", relids, o, i))
            lookup = self._index_for(i, keys)
            if lookup is not None:
                index_oid, per_lookup = lookup
                cost = o.cost + o.rows * (estimate.INDEX_LOOKUP + per_lookup * estimate.INDEX_FETCH) + out_cost
                paths.append(Path(cost, rows, "index", relids, o, i, index_oid=index_oid))
        else:
            cost = o.cost + i.cost + o.rows * i.rows * estimate.NESTLOOP_PAIR + out_cost
            paths.append(Path(cost, rows, "nestloop", relids, o, i))
        return paths

    def _index_for(self, inner: Path, keys: list[tuple[Expr, Expr, int]]) -> tuple[int, float] | None:
        """(index oid, rows per lookup) when `inner` is one table with a B-tree on inner join keys."""
        if inner.method != "rel":
            return None
        rel = self.relations[inner.rel]
        node = rel.node
        if not isinstance(node, SeqScan) or node.with_tid:
            return None
        keyed: dict[int, int] = {}
        for _, inner_side, k in keys:
            if isinstance(inner_side, Var):
                keyed.setdefault(inner_side.index - rel.offset, k)
        cache_key = (inner.rel, tuple(sorted(keyed.items())))
        if cache_key in self._index_cache:
            return self._index_cache[cache_key]
        found = None
        table = self.state.table(node.table_oid)
        positions = {c.attnum: i for i, c in enumerate(table.columns)} if table is not None else {}
        for ix in self.state.indexes(table.oid) if table is not None else ():
            if ix.expressions or ix.predicate is not None:
                continue
            cols = [positions.get(a, -1) for a in ix.columns]
            if not cols or any(c not in keyed for c in cols):
                continue
            assert table is not None
            table_rows = estimate.table_rows(self.state, table)
            sel = 1.0
            for c in cols:
                sel *= self._sel[keyed[c]]
            if ix.unique:
                sel = min(sel, 1.0 / max(table_rows, 1.0))
            found = (ix.oid, max(table_rows * sel, 0.0))
            break
        self._index_cache[cache_key] = found
        return found

    # -- building the chosen plan ---------------------------------------------------------------------
    def build(self, path: Path, next_slot: Callable[[], int] | None) -> tuple[Any, list[int]]:
        """(plan node, relation order of its columns)."""
        if path.method == "rel":
            return self.relations[path.rel].node, [path.rel]
        assert path.outer is not None and path.inner is not None
        outer, outer_order = self.build(path.outer, next_slot)
        quals = self.join_quals(path.outer.relids, path.inner.relids)
        if path.method == "index" and next_slot is not None:
            return self._build_index(path, outer, outer_order, quals, next_slot)
        inner, inner_order = self.build(path.inner, next_slot)
        order = outer_order + inner_order
        layout = self._layout(order)
        width = outer.width + inner.width
        if path.method in ("hash", "index"):
            keys = self.equi_keys(quals, path.outer.relids, path.inner.relids)
            used = {k for _, _, k in keys}
            outer_layout = self._layout(outer_order)
            inner_layout = self._layout(inner_order)
            rest = [self._shift(self.quals[k].expr, layout) for k in quals if k not in used]
            return HashJoin(JoinType.INNER, outer, inner,
                            tuple(self._shift(a, outer_layout) for a, _, _ in keys),
                            tuple(self._shift(b, inner_layout) for _, b, _ in keys),
                            _and(rest), width), order
        rest = [self._shift(self.quals[k].expr, layout) for k in quals]
        return NestLoop(JoinType.INNER, outer, inner, _and(rest), width), order

    def _build_index(self, path: Path, outer: Any, outer_order: list[int], quals: list[int],
                     next_slot: Callable[[], int]) -> tuple[Any, list[int]]:
        assert path.inner is not None and path.outer is not None
        rel = self.relations[path.inner.rel]
        scan = rel.node
        table = self.state.table(scan.table_oid)
        index = self.state.by_oid.get(path.index_oid)
        assert table is not None and isinstance(index, Index)
        positions = {c.attnum: i for i, c in enumerate(table.columns)}
        cols = [positions[a] for a in index.columns]
        keys = self.equi_keys(quals, path.outer.relids, path.inner.relids)
        outer_layout = self._layout(outer_order)
        by_column: dict[int, tuple[Expr, int]] = {}
        for a, b, k in keys:
            if isinstance(b, Var):
                by_column.setdefault(b.index - rel.offset, (a, k))
        slots = [next_slot() for _ in cols]
        params = tuple(self._shift(by_column[c][0], outer_layout) for c in cols)
        used = {by_column[c][1] for c in cols}
        lookup = IndexScan(scan.table_oid, scan.table_name, index.oid, index.name, scan.width, IndexKind.EQ,
                           tuple(ExecParam(s, p.type_oid) for s, p in zip(slots, params, strict=True)),
                           qual=scan.qual, key_count=len(cols), key_names=tuple(table.columns[c].name for c in cols))
        order = outer_order + [path.inner.rel]
        layout = self._layout(order)
        rest = [self._shift(self.quals[k].expr, layout) for k in quals if k not in used]
        return NestLoop(JoinType.INNER, outer, lookup, _and(rest), outer.width + scan.width, tuple(slots),
                        params), order

    def _layout(self, order: list[int]) -> dict[int, int]:
        """relation -> its first column in a row laid out in `order`."""
        out = {}
        at = 0
        for rel in order:
            out[rel] = at
            at += self.relations[rel].width
        return out

    def _shift(self, expr: Expr, layout: dict[int, int]) -> Expr:
        def move(index: int) -> int:
            rel = self.rel_of(index)
            return layout[rel] + index - self.relations[rel].offset
        return shift_vars(expr, move)


def _and(quals: list[Expr]) -> Expr | None:
    from pgaurora.planner.rules import and_all

    return and_all(quals)


def _flatten(node: Any, offset: int, leaves: list[tuple[Any, int]], quals: list[Expr]) -> None:
    if isinstance(node, NestLoop) and node.join_type is JoinType.INNER and not node.param_slots:
        _flatten(node.outer, offset, leaves, quals)
        _flatten(node.inner, offset + node.outer.width, leaves, quals)
        from pgaurora.planner.rules import conjuncts

        for q in conjuncts(node.qual):
            quals.append(shift_vars(q, lambda i: i + offset) if offset else q)
        return
    leaves.append((node, offset))


def reorder_joins(node: Any, state: CatalogState, next_slot: Callable[[], int] | None = None) -> Any:
    """The rule: every run of inner joins planned by cost (see the module docstring)."""
    from pgaurora.planner.rules import map_children

    if not (isinstance(node, NestLoop) and node.join_type is JoinType.INNER and not node.param_slots):
        return map_children(node, lambda c: reorder_joins(c, state, next_slot))
    leaves: list[tuple[Any, int]] = []
    raw: list[Expr] = []
    _flatten(node, 0, leaves, raw)
    if len(leaves) > MAX_RELATIONS:
        return map_children(node, lambda c: reorder_joins(c, state, next_slot))
    relations = []
    for leaf, offset in leaves:
        leaf = reorder_joins(leaf, state, next_slot)
        rows = estimate.estimate_rows(leaf, state)
        resolve = _leaf_resolver(leaf, state)
        relations.append(Relation(leaf, offset, leaf.width, rows, estimate.scan_cost(leaf, rows, state), resolve))
    problem = JoinProblem(relations, [], [], state)
    for q in raw:
        relids = problem.relids_of(q)
        volatile = any(isinstance(n, FuncExpr) and n.volatile for n in walk(q))
        if volatile or bin(relids).count("1") < 2:
            problem.top.append(q)
        else:
            problem.quals.append(Qual(q, relids))
    best = problem.search()
    built, order = problem.build(best, next_slot)
    if order != sorted(order):
        layout = problem._layout(order)
        exprs: list[Expr] = []
        for rel in range(len(relations)):
            r = relations[rel]
            exprs.extend(Var(layout[rel] + k, 0) for k in range(r.width))
        built = Project(built, tuple(exprs), node.width)
    if problem.top:
        top = _and(problem.top)
        assert top is not None
        built = Filter(built, top, node.width)
    return built


def _leaf_resolver(leaf: Any, state: CatalogState) -> Callable[[Var], VarInfo | None]:
    if isinstance(leaf, SeqScan | IndexScan):
        table = state.table(leaf.table_oid)
        if table is not None:
            return estimate.table_resolver(state, table)
    return lambda var: None


__all__ = ["MAX_RELATIONS", "reorder_joins"]
