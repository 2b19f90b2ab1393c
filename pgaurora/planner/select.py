"""SELECT planning: WHERE, grouping, windows, targets, DISTINCT, ORDER BY, LIMIT, FOR UPDATE, set
operations and VALUES (FROM and WITH: planner.fromclause).

Owns the query-level structure (PostgreSQL's analyze.c + the shape of planner.c) and produces
an unoptimized physical tree: joins as NestLoop in FROM order with quals on top, which the rules
in planner.rules then improve. Not expressions (planner.exprbind), not DML (planner.modify).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pgaurora.catalog.model import Table, View
from pgaurora.datatypes.typeinfo import INT8_OID, TEXT_OID, UNKNOWN_OID
from pgaurora.errors import (
    FeatureNotSupported,
    GroupingError,
    InvalidColumnReference,
    InvalidRowCountInLimitClause,
    SyntaxError_,
    UndefinedColumn,
)
from pgaurora.executor.explain import show
from pgaurora.executor.expr import Const, Expr, Var, transform
from pgaurora.executor.plannodes import (
    Aggregate,
    AggSpec,
    Filter,
    Limit,
    LockRows,
    PlanNode,
    Project,
    ResultColumn,
    RowMark,
    SeqScan,
    SetOp,
    SetOpKind,
    Sort,
    SortKey,
    Unique,
    ValuesScan,
    WindowAgg,
    WindowSpec,
)
from pgaurora.planner import resolve, rowtypes, srf
from pgaurora.planner.exprbind import (
    AggRef,
    GroupingRef,
    Level,
    WindowRef,
    bind,
    leftmost_location,
    names_of,
    sort_key,
)
from pgaurora.planner.fromclause import FromClause
from pgaurora.planner.querycontext import (
    Planned,
    QueryContext,
    and_all,
    select_body,
)
from pgaurora.planner.resolve import coerce
from pgaurora.planner.rowmarks import STRENGTHS, push_into_subqueries, row_marks
from pgaurora.planner.scope import TID_COLUMN, RangeEntry, Scope


class SelectPlanner(FromClause):
    def __init__(self, qc: QueryContext) -> None:
        self.qc = qc
        self._lateral: dict[int, tuple[tuple[int, ...], tuple[Expr, ...]]] = {}
        self._keep_alive: list[PlanNode] = []
        # FOR UPDATE of the level being planned: (table oid, tid column, mode, wait policy)
        self._lock: tuple[int, int, str, str] | None = None
        # FOR UPDATE over joins / partitioned tables: (tid column, tableoid column, mode, wait) per locked table
        self._marks: list[tuple[int, int, str, str]] | None = None
        self._nullable: set[int] = set()  # ids of RangeEntries on the nullable side of an outer join
        # FOR UPDATE of a view in FROM: alias -> locking clauses its own SELECT takes (planner.rowmarks)
        self._view_locks: dict[str, list[dict[str, Any]]] = {}

    # ---- entry points -------------------------------------------------------------------------
    def plan_query(self, node: dict[str, Any], scope: Scope) -> Planned:
        kind, body = next(iter(node.items()))
        if kind != "SelectStmt":
            raise FeatureNotSupported(f"{kind} in a subquery is not supported")
        return self.plan_select(body, scope)

    def plan_select(self, body: dict[str, Any], scope: Scope) -> Planned:
        pushed = False
        if "withClause" in body:
            self._push_ctes(body["withClause"], scope)
            pushed = True
        try:
            if body.get("op", "SETOP_NONE") != "SETOP_NONE":
                planned = self._set_op(body, scope)
            elif "valuesLists" in body:
                planned = self._values(body["valuesLists"], scope)
                planned = self._order_limit_simple(body, planned, scope)
            else:
                planned = self._simple_select(body, scope)
        finally:
            if pushed:
                self.qc.ctes.pop()
        return planned

    # ---- SELECT core --------------------------------------------------------------------------
    def _simple_select(self, body: dict[str, Any], scope: Scope) -> Planned:
        qc = self.qc
        quals: list[Expr] = []
        locking = body.get("lockingClause")
        marks = None
        if locking and not self._single_table_lock(body):
            self._check_locking(body, single=False)
            self.qc.system_columns = True  # every table's entry carries its tid and tableoid
            handled: set[str] = set()
            kinds: dict[str, str] = {}
            items = push_into_subqueries(body["fromClause"], locking, self._is_view, self._view_locks, handled, kinds)
            node, quals = self._from(items, scope)
            marks = row_marks(locking, scope, self._nullable, qc.position, handled, kinds)
            marked = {mark[0] for mark in marks}
            for e in scope.entries:  # locking rows needs UPDATE on their tables
                if e.table_oid and TID_COLUMN in e.columns and e.offset + e.columns.index(TID_COLUMN) in marked:
                    qc.require(e.table_oid, "w")
            locking = None
        elif locking:
            self._check_locking(body)
            node, quals = self._from(body["fromClause"], scope)
            # the locked table's scan also yields tids (one more column than the table)
            scan = node
            if not isinstance(scan, SeqScan):
                raise FeatureNotSupported("FOR UPDATE / FOR SHARE is supported on one plain table only")
            node = dataclasses.replace(scan, width=scan.width + 1, with_tid=True)
            qc.require(scan.table_oid, "w")  # locking rows needs UPDATE on the table
            scope.add(RangeEntry("", ["ctid"], [(27, -1)], hidden=True))
            strength = locking[0]["LockingClause"]
            tl_lock = (scan.table_oid, scan.width, {"LCS_FORUPDATE": "update", "LCS_FORNOKEYUPDATE": "no key update",
                                                    "LCS_FORSHARE": "share", "LCS_FORKEYSHARE": "key share"}[strength["strength"]],
                       {"LockWaitBlock": "block", "LockWaitError": "nowait", "LockWaitSkip": "skip"}[strength["waitPolicy"]])
        elif "fromClause" in body:
            node, quals = self._from(body["fromClause"], scope)
        else:
            node = ValuesScan(((),), 0)
        lv = Level(scope, qc.params, qc.position, self._subquery, None, "WHERE")
        if "whereClause" in body:
            where = bind(body["whereClause"], lv)
            pos = qc.position(next(iter(body["whereClause"].values())).get("location"))
            quals.append(resolve.to_boolean(where, "WHERE", qc.params, pos))
        if quals:
            node = Filter(node, and_all(quals) or Const(True, 16), node.width)

        aggs: list[AggSpec] = []
        windows: list[WindowSpec] = []
        named_windows = {w["WindowDef"]["name"]: w["WindowDef"] for w in body.get("windowClause", ())}
        tl = Level(scope, qc.params, qc.position, self._subquery, aggs, "", windows, extra={"windows": named_windows})
        targets: list[Expr] = []
        columns: list[ResultColumn] = []
        for item in body.get("targetList", ()):
            rt = item["ResTarget"]
            val = rt["val"]
            if "ColumnRef" in val and "A_Star" in val["ColumnRef"]["fields"][-1]:
                fields = val["ColumnRef"]["fields"]
                table = names_of(fields)[-1] if len(fields) > 1 else None
                expanded = scope.star(table, qc.position(val["ColumnRef"].get("location")))
                if not expanded and table is None and "fromClause" not in body:
                    raise SyntaxError_("SELECT * with no tables specified is not valid",
                                       position=qc.position(val["ColumnRef"].get("location")))
                for expr, name, entry, idx in expanded:
                    targets.append(expr)
                    columns.append(ResultColumn(name, expr.type_oid, expr.typmod, entry.table_oid,
                                                entry.attnums[idx] if entry.attnums else 0))
                continue
            if "A_Indirection" in val and "A_Star" in val["A_Indirection"]["indirection"][-1] \
                    and len(val["A_Indirection"]["indirection"]) == 1:  # (f(x)).*: each field of its row
                position = qc.position(leftmost_location(val["A_Indirection"]["arg"]))
                for field, name in rowtypes.star_fields(bind(val["A_Indirection"]["arg"], tl), position):
                    expr = resolve.finalize_unknown(field, qc.params)
                    targets.append(expr)
                    columns.append(ResultColumn(name, expr.type_oid, expr.typmod))
                continue
            expr = resolve.finalize_unknown(bind(val, tl), qc.params)
            targets.append(expr)
            columns.append(self._result_column(rt, val, expr, scope))

        group_nodes = body.get("groupClause", ())
        having = body.get("havingClause")
        if (locking or marks) and (aggs or windows):
            word = "aggregate functions" if aggs else "window functions"
            raise FeatureNotSupported(f"FOR UPDATE is not allowed with {word}")
        if group_nodes or aggs or having is not None:
            node, targets, having_expr, sort_map = self._aggregate(node, scope, targets, columns, group_nodes,
                                                                   having, aggs, tl, body)
        else:
            having_expr = None
            sort_map = None
        if having_expr is not None:
            node = Filter(node, having_expr, node.width)
        if windows:
            lift = tl.extra.get("lift")
            if lift is not None:
                # windows over a grouped query read the Aggregate's output (group keys, aggregates)
                windows = [dataclasses.replace(
                    w, args=tuple(lift(a, "window") for a in w.args),
                    partition_by=tuple(lift(p, "window") for p in w.partition_by),
                    order_by=tuple(dataclasses.replace(k, expr=lift(k.expr, "window")) for k in w.order_by),
                    filter=lift(w.filter, "window") if w.filter is not None else None) for w in windows]
            calls = srf.outer_calls([p for w in windows for p in w.partition_by]
                                    + [k.expr for w in windows for k in w.order_by])
            if calls:
                # PARTITION BY / ORDER BY generate_series(..): expanded below the WindowAgg, and the
                # same calls elsewhere in the query read those columns
                base = node.width
                node = srf.project_targets(node, tuple(Var(i, 0) for i in range(base)) + tuple(calls))
                swap = srf.reading_columns(calls, base)
                windows = [dataclasses.replace(
                    w, partition_by=tuple(transform(p, swap) for p in w.partition_by),
                    order_by=tuple(dataclasses.replace(k, expr=transform(k.expr, swap)) for k in w.order_by))
                    for w in windows]
                targets = [transform(t, swap) for t in targets]
                tl.extra["srf_swap"] = swap
            node, targets = self._window(node, targets, windows, sort_map)
            sort_map = None
        # read (and cleared) at once by _finish: subqueries planned meanwhile must not take them
        self._lock = tl_lock if locking else None
        self._marks = marks
        return self._finish(body, node, targets, columns, scope, tl, sort_map)

    def _is_view(self, rv: dict[str, Any]) -> bool | None:
        if "schemaname" not in rv and self._find_cte(rv["relname"]) is not None:
            return None
        rel = self.qc.catalog.relation(rv["relname"], rv.get("schemaname"))
        return None if rel is None else isinstance(rel, View)

    def _single_table_lock(self, body: dict[str, Any]) -> bool:
        """FOR UPDATE of one plain table (LockRows over its scan's tid); anything else (joins,
        partitioned tables, OF lists, system columns) locks through row marks."""
        from_items = body.get("fromClause", ())
        if len(from_items) != 1 or "RangeVar" not in from_items[0] or self.qc.system_columns:
            return False
        rv = from_items[0]["RangeVar"]
        rel = self.qc.catalog.relation(rv["relname"], rv.get("schemaname"))
        if not isinstance(rel, Table) or rel.kind == "p":
            return False
        alias = rv.get("alias", {}).get("aliasname", rv["relname"])
        return all(r["RangeVar"]["relname"] == alias for c in body["lockingClause"]
                   for r in c["LockingClause"].get("lockedRels", ()))

    def _check_locking(self, body: dict[str, Any], single: bool = True) -> None:
        from_items = body.get("fromClause", ())
        if single and (len(from_items) != 1 or "RangeVar" not in from_items[0]):
            raise FeatureNotSupported("FOR UPDATE/SHARE is supported on a single table only")
        if single:
            rel = self.qc.catalog.relation(from_items[0]["RangeVar"]["relname"],
                                           from_items[0]["RangeVar"].get("schemaname"))
            if rel is not None and not isinstance(rel, Table):
                raise FeatureNotSupported("FOR UPDATE/SHARE is supported on tables only")
        for clause in ("groupClause", "havingClause", "distinctClause", "windowClause"):
            if body.get(clause):
                word = {"groupClause": "GROUP BY", "havingClause": "HAVING", "distinctClause": "DISTINCT",
                        "windowClause": "window functions"}[clause]
                raise FeatureNotSupported(f"FOR UPDATE is not allowed with {word} clause")

    def _result_column(self, rt: dict[str, Any], val: dict[str, Any], expr: Expr, scope: Scope) -> ResultColumn:
        name = rt.get("name")
        table_oid = attnum = 0
        if "ColumnRef" in val:
            names = names_of(val["ColumnRef"]["fields"])
            if name is None:
                name = names[-1]
            if isinstance(expr, Var):
                for e in scope.entries:
                    if e.offset <= expr.index < e.offset + len(e.columns) and e.table_oid:
                        table_oid = e.table_oid
                        attnum = e.attnums[expr.index - e.offset]
        if name is None:
            name = derive_name(val)
        return ResultColumn(name, expr.type_oid, expr.typmod, table_oid, attnum)

    def _aggregate(self, node: PlanNode, scope: Scope, targets: list[Expr], columns: list[ResultColumn],
                   group_nodes: list[dict[str, Any]], having: dict[str, Any] | None, aggs: list[AggSpec],
                   tl: Level, body: dict[str, Any]) -> tuple[PlanNode, list[Expr], Expr | None, dict[Expr, int]]:
        qc = self.qc
        group_keys: list[Expr] = []
        gl = Level(scope, qc.params, qc.position, self._subquery, None, "GROUP BY")

        def key_index(g: dict[str, Any]) -> int:
            key = self._group_or_order_target(g, gl, targets, columns, "GROUP BY")
            if key not in group_keys:
                group_keys.append(key)
            return group_keys.index(key)

        # each GROUP BY item is a list of alternative key sets; the clause is their cross product
        items: list[list[tuple[int, ...]]] = [self._grouping_sets(g, key_index) for g in group_nodes]
        sets: list[tuple[int, ...]] = [()]
        for alternatives in items:
            sets = [tuple(dict.fromkeys(a + b)) for a in sets for b in alternatives]
        grouping_sets = tuple(sets) if any("GroupingSet" in g for g in group_nodes) else None
        having_expr = None
        if having is not None:
            hl = Level(scope, qc.params, qc.position, self._subquery, aggs, "HAVING")
            having_expr = resolve.to_boolean(bind(having, hl), "HAVING", qc.params, None)
        # ORDER BY may add aggregates too; bind them now so the Aggregate node computes them
        order_exprs: list[Expr] = []
        for s in body.get("sortClause", ()):
            sb = s["SortBy"]
            order_exprs.append(self._group_or_order_target(sb["node"], tl, targets, columns, "ORDER BY"))
        ngroup = len(group_keys)
        gid = ngroup + len(aggs)  # with grouping sets: the output's set number column
        agg_keys = tuple(group_keys)
        if any(srf.contains_srf(g) for g in group_keys):
            # GROUP BY generate_series(..): the keys' sets are expanded below the Aggregate
            base = node.width
            node = srf.project_targets(node, tuple(Var(i, 0) for i in range(base)) + agg_keys)
            agg_keys = tuple(Var(base + k, g.type_oid, g.typmod, show(g)) for k, g in enumerate(group_keys))
        agg_node = Aggregate(node, agg_keys, tuple(aggs), gid + (1 if grouping_sets else 0), grouping_sets)

        def lift(expr: Expr, clause: str) -> Expr:
            def fn(n: Expr) -> Expr | None:
                for k, g in enumerate(group_keys):
                    if n == g:
                        return Var(k, g.type_oid, g.typmod)
                if isinstance(n, AggRef):
                    return Var(ngroup + n.index, n.type_oid, n.typmod)
                if isinstance(n, GroupingRef):
                    if grouping_sets is None:
                        _grouping_value(n, group_keys, (tuple(range(ngroup)),), gid)  # validates the arguments
                        return Const(0, 23)
                    return _grouping_value(n, group_keys, grouping_sets, gid)
                if isinstance(n, Var):
                    name = n.name or "?"
                    qual = ""
                    for e in scope.entries:
                        if e.offset <= n.index < e.offset + len(e.columns):
                            qual = f"{e.alias}." if e.alias else ""
                    raise GroupingError(
                        f'column "{qual}{name}" must appear in the GROUP BY clause or be used in an aggregate function')
                return None
            return transform(expr, fn)

        new_targets = [lift(t, "SELECT") for t in targets]
        tl.extra["lifted_order"] = [lift(e, "ORDER BY") for e in order_exprs]
        tl.extra["lift"] = lift
        lifted_having = lift(having_expr, "HAVING") if having_expr is not None else None
        return agg_node, new_targets, lifted_having, {}

    def _grouping_sets(self, g: dict[str, Any], key_index: Callable[[dict[str, Any]], int]) -> list[tuple[int, ...]]:
        """The alternative key sets one GROUP BY item stands for (ROLLUP, CUBE, GROUPING SETS)."""
        if "GroupingSet" not in g:
            if "RowExpr" in g:
                return [tuple(key_index(a) for a in g["RowExpr"].get("args", ()))]
            return [(key_index(g),)]
        gs = g["GroupingSet"]
        kind = gs["kind"]
        content = gs.get("content", ())
        if kind == "GROUPING_SET_EMPTY":
            return [()]
        if kind == "GROUPING_SET_SIMPLE":
            return [tuple(key_index(a) for a in content)]
        parts = [self._grouping_sets(c, key_index) for c in content]
        flat = [p[0] for p in parts]
        if kind == "GROUPING_SET_ROLLUP":
            return [tuple(k for part in flat[:n] for k in part) for n in range(len(flat), -1, -1)]
        if kind == "GROUPING_SET_CUBE":
            out = []
            for mask in range((1 << len(flat)) - 1, -1, -1):
                out.append(tuple(k for j, part in enumerate(flat) if mask >> (len(flat) - 1 - j) & 1 for k in part))
            return out
        return [s for p in parts for s in p]  # GROUPING SETS: the union of its elements' sets

    def _group_or_order_target(self, g: dict[str, Any], lv: Level, targets: list[Expr],
                               columns: list[ResultColumn], clause: str) -> Expr:
        if "A_Const" in g and "ival" in g["A_Const"]:
            n = g["A_Const"]["ival"].get("ival", 0)
            if not 1 <= n <= len(targets):
                raise InvalidColumnReference(f"{clause} position {n} is not in select list",
                                             position=self.qc.position(g["A_Const"].get("location")))
            return targets[n - 1]
        if "ColumnRef" in g:
            names = names_of(g["ColumnRef"]["fields"])
            if len(names) == 1:
                try:
                    return resolve.finalize_unknown(bind(g, lv), self.qc.params)
                except UndefinedColumn:
                    for i, c in enumerate(columns):
                        if c.name == names[0]:
                            return targets[i]
                    raise
        return resolve.finalize_unknown(bind(g, lv), self.qc.params)

    def _window(self, node: PlanNode, targets: list[Expr], windows: list[WindowSpec],
                sort_map: dict[Expr, int] | None) -> tuple[PlanNode, list[Expr]]:
        base = node.width
        win = WindowAgg(node, tuple(windows), base + len(windows))

        def fn(n: Expr) -> Expr | None:
            if isinstance(n, WindowRef):
                return Var(base + n.index, n.type_oid, n.typmod)
            return None

        return win, [transform(t, fn) for t in targets]

    def _finish(self, body: dict[str, Any], node: PlanNode, targets: list[Expr], columns: list[ResultColumn],
                scope: Scope, tl: Level, sort_map: dict[Expr, int] | None) -> Planned:
        qc = self.qc
        lock, self._lock = self._lock, None
        marks, self._marks = self._marks, None
        sort_keys: list[SortKey] = []
        extra: list[Expr] = []
        lifted = tl.extra.get("lifted_order")
        for n, s in enumerate(body.get("sortClause", ())):
            sb = s["SortBy"]
            if lifted is not None:
                expr = lifted[n] if n < len(lifted) else self._group_or_order_target(sb["node"], tl, targets, columns, "ORDER BY")
            else:
                expr = self._group_or_order_target(sb["node"], tl, targets, columns, "ORDER BY")
            if tl.windows:
                expr = transform(expr, _window_vars(node.width - len(tl.windows)))
                if "srf_swap" in tl.extra:
                    expr = transform(expr, tl.extra["srf_swap"])
            if expr in targets:
                idx = targets.index(expr)
            else:
                if body.get("distinctClause") == [{}]:
                    raise InvalidColumnReference("for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                                                 position=qc.position(sb.get("location") if sb.get("location", -1) >= 0
                                                                      else next(iter(sb["node"].values())).get("location")))
                idx = len(targets) + len(extra)
                extra.append(expr)
            key = sort_key(sb, tl, Var(idx, expr.type_oid, expr.typmod, show(expr)))
            sort_keys.append(key)
        if lock is not None:
            tid_index = len(targets) + len(extra)
            extra.append(Var(lock[1], 27))  # the scan's tid column
        row_mark_specs: list[RowMark] = []
        if marks:
            for tid_col, tableoid_col, mode, wait in marks:
                n = len(targets) + len(extra)
                extra.extend((Var(tid_col, 27), Var(tableoid_col, 26)))
                row_mark_specs.append(RowMark(n, n + 1, mode, wait))
        distinct = body.get("distinctClause")
        on_vars: list[Var] = []
        if distinct is not None and distinct != [{}]:
            # DISTINCT ON expressions not in the select list are computed by the Project below too
            for d in distinct:
                e = self._group_or_order_target(d, tl, targets, columns, "DISTINCT ON")
                if e in targets:
                    on_vars.append(Var(targets.index(e), e.type_oid))
                else:
                    on_vars.append(Var(len(targets) + len(extra), e.type_oid))
                    extra.append(e)
        width = len(targets) + len(extra)
        node = srf.project_targets(node, tuple(targets + extra))
        if distinct is not None:
            if distinct == [{}]:
                node = Unique(Sort(node, tuple(SortKey(Var(i, t.type_oid)) for i, t in enumerate(targets)), width)
                              if not sort_keys else node, width)
                if sort_keys:
                    node = Unique(Sort(node.input, tuple(sort_keys) + tuple(  # type: ignore[attr-defined]
                        SortKey(Var(i, t.type_oid)) for i, t in enumerate(targets)), width), width)
                    sort_keys = []
            else:
                node = Sort(node, tuple(sort_keys) if sort_keys else tuple(SortKey(v) for v in on_vars), width)
                node = Unique(node, width, tuple(on_vars))
                sort_keys = []
        if sort_keys:
            node = Sort(node, tuple(sort_keys), width)
        if lock is not None:
            node = LockRows(node, lock[0], tid_index, lock[2], lock[3], width)
        if row_mark_specs:
            strongest = max(row_mark_specs, key=lambda m: STRENGTHS.index(m.mode))
            node = LockRows(node, 0, -1, strongest.mode, strongest.wait, width, tuple(row_mark_specs))
        node = self._limit(body, node, scope)
        if extra:
            node = Project(node, tuple(Var(i, t.type_oid, t.typmod) for i, t in enumerate(targets)), len(targets))
        return Planned(node, columns)

    def _limit(self, body: dict[str, Any], node: PlanNode, scope: Scope) -> PlanNode:
        if "limitCount" not in body and "limitOffset" not in body:
            return node
        lv = Level(Scope(self.qc.state, scope, opaque=True), self.qc.params, self.qc.position, self._subquery, None, "LIMIT")
        limit = offset = None
        if "limitCount" in body:
            limit = coerce(bind(body["limitCount"], lv), INT8_OID, -1, "assignment", self.qc.params)
            if isinstance(limit, Const) and limit.value is None:
                limit = None
        if "limitOffset" in body:
            offset = coerce(bind(body["limitOffset"], lv), INT8_OID, -1, "assignment", self.qc.params)
        ties: tuple[Expr, ...] = ()
        if body.get("limitOption") == "LIMIT_OPTION_WITH_TIES":  # the ORDER BY's keys, under the Limit
            if limit is None:
                raise InvalidRowCountInLimitClause("row count cannot be null in FETCH FIRST ... WITH TIES clause")
            below: Any = node
            while not isinstance(below, Sort) and hasattr(below, "input"):
                below = below.input
            if isinstance(below, Sort):
                ties = tuple(k.expr for k in below.keys)
        return Limit(node, limit, offset, node.width, ties)

    def _order_limit_simple(self, body: dict[str, Any], planned: Planned, scope: Scope, set_op: bool = False) -> Planned:
        node = planned.node
        if "sortClause" in body:
            tmp = Scope(self.qc.state, scope, opaque=True)
            tmp.add(RangeEntry("*VALUES*", [c.name for c in planned.columns],
                               [(c.type_oid, c.typmod) for c in planned.columns]))
            lv = Level(tmp, self.qc.params, self.qc.position, self._subquery, srf_clause="ORDER BY of VALUES")
            targets: list[Expr] = [Var(i, c.type_oid, c.typmod) for i, c in enumerate(planned.columns)]
            keys = []
            for s in body["sortClause"]:
                sb = s["SortBy"]
                if set_op and not ("A_Const" in sb["node"] or (
                        "ColumnRef" in sb["node"] and len(sb["node"]["ColumnRef"]["fields"]) == 1)):
                    # transformSetOperationStmt: ORDER BY names result columns only
                    raise FeatureNotSupported(
                        "invalid UNION/INTERSECT/EXCEPT ORDER BY clause",
                        detail="Only result column names can be used, not expressions or functions.",
                        hint="Add the expression/function to every SELECT, or move the UNION into a FROM clause.",
                        position=self.qc.position(leftmost_location(sb["node"])))
                expr = self._group_or_order_target(sb["node"], lv, targets, planned.columns, "ORDER BY")
                keys.append(sort_key(sb, lv, expr))
            node = Sort(node, tuple(keys), node.width)
        node = self._limit(body, node, scope)
        return Planned(node, planned.columns)

    # ---- VALUES and set operations ------------------------------------------------------------
    def _values(self, lists: list[dict[str, Any]], scope: Scope,
                target_types: list[tuple[int, int]] | None = None) -> Planned:
        lv = Level(Scope(self.qc.state, scope, opaque=True), self.qc.params, self.qc.position, self._subquery, None, "VALUES")
        rows = [[bind(v, lv) for v in item["List"]["items"]] for item in lists]
        width = len(rows[0])
        for r in rows:
            if len(r) != width:
                raise SyntaxError_("VALUES lists must all be the same length")
        columns = []
        for i in range(width):
            if target_types is not None and i < len(target_types):
                oid, typmod = target_types[i]
            else:
                oid, typmod = resolve.common_type([r[i] for r in rows], "VALUES"), -1
            for r in rows:
                r[i] = coerce(r[i], oid, -1, "implicit" if target_types is None else "assignment", self.qc.params)
            columns.append(ResultColumn(f"column{i + 1}", oid, typmod))
        return Planned(ValuesScan(tuple(tuple(r) for r in rows), width), columns)

    def _set_op(self, body: dict[str, Any], scope: Scope) -> Planned:
        kind = {"SETOP_UNION": SetOpKind.UNION, "SETOP_INTERSECT": SetOpKind.INTERSECT,
                "SETOP_EXCEPT": SetOpKind.EXCEPT}[body["op"]]
        left = self.plan_select(select_body(body["larg"]), Scope(self.qc.state, scope, opaque=True))
        right = self.plan_select(select_body(body["rarg"]), Scope(self.qc.state, scope, opaque=True))
        if len(left.columns) != len(right.columns):
            raise SyntaxError_(f"each {kind.value.upper()} query must have the same number of columns")
        types = []
        for lc, rc in zip(left.columns, right.columns, strict=True):
            probe: list[Expr] = [Const(None, lc.type_oid if lc.type_oid != UNKNOWN_OID else TEXT_OID),
                     Const(None, rc.type_oid if rc.type_oid != UNKNOWN_OID else TEXT_OID)]
            types.append(resolve.common_type(probe, kind.value.upper()))
        lnode = self._cast_columns(left, types)
        rnode = self._cast_columns(right, types)
        columns = [ResultColumn(c.name, t, c.typmod if c.type_oid == t else -1) for c, t in zip(left.columns, types, strict=True)]
        node: PlanNode = SetOp(kind, bool(body.get("all")), lnode, rnode, len(types))
        return self._order_limit_simple(body, Planned(node, columns), scope, set_op=True)

    def _cast_columns(self, planned: Planned, types: list[int]) -> PlanNode:
        if all(c.type_oid == t for c, t in zip(planned.columns, types, strict=True)):
            return planned.node
        exprs = tuple(coerce(Var(i, c.type_oid, c.typmod), t, -1, "implicit", self.qc.params)
                      for i, (c, t) in enumerate(zip(planned.columns, types, strict=True)))
        return Project(planned.node, exprs, len(exprs))


def _grouping_value(ref: GroupingRef, keys: list[Expr], sets: tuple[tuple[int, ...], ...], gid: int) -> Expr:
    """GROUPING(args) as a lookup on the output's grouping set number: bit set = argument not grouped."""
    from pgaurora.executor.expr import FuncExpr

    positions = []
    for a in ref.args:
        if a not in keys:
            raise GroupingError("arguments to GROUPING must be grouping expressions of the associated query level")
        positions.append(keys.index(a))
    n = len(positions)
    masks = tuple(sum(1 << (n - 1 - j) for j, p in enumerate(positions) if p not in s) for s in sets)
    return FuncExpr("grouping", lambda set_number: masks[set_number], (Var(gid, 23),), 23)


def _window_vars(base: int) -> Callable[[Expr], Expr | None]:
    def fn(x: Expr) -> Expr | None:
        return Var(base + x.index, x.type_oid, x.typmod) if isinstance(x, WindowRef) else None
    return fn






def _name_strength(val: dict[str, Any]) -> int:
    """FigureColnameInternal's strength: 2 for names from columns and functions, 1 for a cast's type."""
    kind, body = next(iter(val.items()))
    if kind == "TypeCast":
        return max(_name_strength(body["arg"]), 1)
    if kind == "A_Indirection":
        return _name_strength(body["arg"])
    return 0 if derive_name(val) == "?column?" or kind == "A_Const" else 2


def derive_name(val: dict[str, Any]) -> str:
    """PostgreSQL's FigureColname: the column name a target without AS gets."""
    kind, body = next(iter(val.items()))
    if kind == "FuncCall":
        return names_of(body["funcname"])[-1]
    if kind == "TypeCast":
        # a column or function name beats the type name; a constant or an inner cast's type does not
        if _name_strength(body["arg"]) >= 2:
            return derive_name(body["arg"])
        return names_of(body["typeName"]["names"])[-1]
    if kind == "ColumnRef":
        names = names_of(body["fields"])
        return names[-1] if names else "?column?"
    if kind == "CaseExpr":
        return "case"
    if kind == "GroupingFunc":
        return "grouping"
    if kind == "CoalesceExpr":
        return "coalesce"
    if kind == "MinMaxExpr":
        return "greatest" if body["op"] == "IS_GREATEST" else "least"
    if kind == "A_ArrayExpr":
        return "array"
    if kind == "RowExpr":
        return "row"
    if kind == "SubLink":
        if body["subLinkType"] == "EXISTS_SUBLINK":
            return "exists"
        if body["subLinkType"] == "ARRAY_SUBLINK":
            return "array"
        if body["subLinkType"] == "EXPR_SUBLINK":
            sub = body["subselect"].get("SelectStmt", {})
            tl = sub.get("targetList", ())
            if len(tl) == 1:
                rt = tl[0]["ResTarget"]
                return rt.get("name") or derive_name(rt["val"])
        return "?column?"
    if kind == "SQLValueFunction":
        return {"SVFOP_CURRENT_DATE": "current_date", "SVFOP_CURRENT_TIMESTAMP": "current_timestamp",
                "SVFOP_CURRENT_TIMESTAMP_N": "current_timestamp", "SVFOP_LOCALTIMESTAMP": "localtimestamp",
                "SVFOP_LOCALTIMESTAMP_N": "localtimestamp", "SVFOP_CURRENT_TIME": "current_time",
                "SVFOP_LOCALTIME": "localtime", "SVFOP_CURRENT_USER": "current_user",
                "SVFOP_SESSION_USER": "session_user", "SVFOP_USER": "current_user",
                "SVFOP_CURRENT_ROLE": "current_role", "SVFOP_CURRENT_CATALOG": "current_catalog",
                "SVFOP_CURRENT_SCHEMA": "current_schema"}.get(body["op"], "?column?")
    if kind == "A_Expr" and body.get("kind") == "AEXPR_NULLIF":
        return "nullif"
    if kind == "A_Indirection":
        last = body["indirection"][-1]
        return last["String"]["sval"] if "String" in last else derive_name(body["arg"])
    return "?column?"
