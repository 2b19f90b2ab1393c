"""SELECT planning: FROM items, joins, WHERE, grouping, windows, targets, DISTINCT, ORDER BY, LIMIT,
set operations, VALUES and WITH.

Owns the query-level structure (PostgreSQL's analyze.c + the shape of planner.c) and produces
an unoptimized physical tree: joins as NestLoop in FROM order with quals on top, which the rules
in planner.rules then improve. Not expressions (planner.exprbind), not DML (planner.modify).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pgaurora.catalog import system  # system relations: see pgaurora/catalog/system
from pgaurora.catalog.model import Index, Sequence, Table, View
from pgaurora.catalog.state import CatalogState
from pgaurora.datatypes import typeinfo
from pgaurora.datatypes.typeinfo import INT8_OID, TEXT_OID, UNKNOWN_OID
from pgaurora.errors import (
    DuplicateAlias,
    FeatureNotSupported,
    GroupingError,
    InvalidColumnReference,
    SyntaxError_,
    UndefinedColumn,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.expr import BoolExpr, BoolOp, CoalesceExpr, Const, Expr, Var, shift_vars, transform
from pgaurora.executor.plannodes import (
    Aggregate,
    AggSpec,
    CteScan,
    Filter,
    FunctionScan,
    JoinType,
    Limit,
    LockRows,
    NestLoop,
    PlanNode,
    Project,
    ProjectSet,
    RecursiveUnion,
    ResultColumn,
    SeqScan,
    SetOp,
    SetOpKind,
    Sort,
    SortKey,
    SystemScan,  # system relations: see pgaurora/catalog/system
    Unique,
    ValuesScan,
    WindowAgg,
    WindowSpec,
    WorkTableScan,
)
from pgaurora.planner import resolve
from pgaurora.planner.exprbind import AggRef, GroupingRef, Level, WindowRef, bind, names_of, sort_key
from pgaurora.planner.resolve import ParamTypes, coerce
from pgaurora.planner.scope import RangeEntry, Scope, StatementState


@dataclass(slots=True)
class Planned:
    node: PlanNode
    columns: list[ResultColumn]


@dataclass(slots=True)
class Cte:
    cte_id: int
    name: str
    planned: Planned | None
    column_names: list[str]
    recursive_types: list[tuple[int, int]] | None = None


@dataclass(slots=True)
class QueryContext:
    """Shared by every query level of one statement."""

    catalog: CatalogState
    params: ParamTypes
    state: StatementState
    position: Callable[[int | None], int | None]
    parse_view: Callable[[str], dict[str, Any]]
    ctes: list[dict[str, Cte]] = field(default_factory=list)
    cte_counter: int = 0


def conjuncts(expr: Expr | None) -> list[Expr]:
    if expr is None:
        return []
    if isinstance(expr, BoolExpr) and expr.op is BoolOp.AND:
        out: list[Expr] = []
        for a in expr.args:
            out.extend(conjuncts(a))
        return out
    return [expr]


def and_all(exprs: list[Expr]) -> Expr | None:
    if not exprs:
        return None
    if len(exprs) == 1:
        return exprs[0]
    return BoolExpr(BoolOp.AND, tuple(exprs))


class SelectPlanner:
    def __init__(self, qc: QueryContext) -> None:
        self.qc = qc
        self._lateral: dict[int, tuple[tuple[int, ...], tuple[Expr, ...]]] = {}
        self._keep_alive: list[PlanNode] = []
        # FOR UPDATE of the level being planned: (table oid, tid column, mode, wait policy)
        self._lock: tuple[int, int, str, str] | None = None

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

    # ---- WITH ---------------------------------------------------------------------------------
    def _push_ctes(self, with_clause: dict[str, Any], scope: Scope) -> None:
        frame: dict[str, Cte] = {}
        self.qc.ctes.append(frame)
        recursive = bool(with_clause.get("recursive"))
        for item in with_clause["ctes"]:
            cte = item["CommonTableExpr"]
            name = cte["ctename"]
            if name in frame:
                raise DuplicateAlias(f'WITH query name "{name}" specified more than once',
                                     position=self.qc.position(cte.get("location")))
            self.qc.cte_counter += 1
            cte_id = self.qc.cte_counter
            aliases = [c["String"]["sval"] for c in cte.get("aliascolnames", ())]
            query = cte["ctequery"]
            qbody = query.get("SelectStmt")
            if qbody is None:
                raise FeatureNotSupported("data-modifying statements in WITH are not supported")
            if recursive and qbody.get("op") == "SETOP_UNION" and self._references(query, name):
                planned = self._recursive_cte(cte_id, name, aliases, qbody, scope, frame)
            else:
                planned = self.plan_query(query, Scope(self.qc.state, scope, opaque=True))
                planned = Planned(CteScan(cte_id, name, planned.node, planned.node.width), planned.columns)
            names = aliases + [c.name for c in planned.columns[len(aliases):]]
            frame[name] = Cte(cte_id, name, planned, names)

    def _references(self, node: Any, name: str) -> bool:
        if isinstance(node, dict):
            rv = node.get("RangeVar")
            if rv is not None and rv.get("relname") == name and "schemaname" not in rv:
                return True
            return any(self._references(v, name) for v in node.values())
        if isinstance(node, list):
            return any(self._references(v, name) for v in node)
        return False

    def _recursive_cte(self, cte_id: int, name: str, aliases: list[str], qbody: dict[str, Any],
                       scope: Scope, frame: dict[str, Cte]) -> Planned:
        base = self.plan_select(_select_body(qbody["larg"]), Scope(self.qc.state, scope, opaque=True))
        names = aliases + [c.name for c in base.columns[len(aliases):]]
        types = [(c.type_oid, c.typmod) for c in base.columns]
        frame[name] = Cte(cte_id, name, None, names, types)
        rec = self.plan_select(_select_body(qbody["rarg"]), Scope(self.qc.state, scope, opaque=True))
        rec_node = rec.node
        if [c.type_oid for c in rec.columns] != [t for t, _ in types]:
            exprs = tuple(coerce(Var(i, c.type_oid, c.typmod), types[i][0], -1, "assignment", self.qc.params)
                          for i, c in enumerate(rec.columns))
            rec_node = Project(rec_node, exprs, len(exprs))
        union = RecursiveUnion(cte_id, base.node, rec_node, bool(qbody.get("all")), base.node.width)
        del frame[name]
        return Planned(CteScan(cte_id, name, union, union.width), base.columns)

    def _find_cte(self, name: str) -> Cte | None:
        for frame in reversed(self.qc.ctes):
            if name in frame:
                return frame[name]
        return None

    # ---- FROM ---------------------------------------------------------------------------------
    def _from(self, items: list[dict[str, Any]], scope: Scope) -> tuple[PlanNode, list[Expr]]:
        node: PlanNode | None = None
        quals: list[Expr] = []
        for item in items:
            right, right_quals = self._from_item(item, scope)
            quals.extend(right_quals)
            lateral = self._lateral.pop(id(right), None)
            if node is None:
                node = right
            elif lateral is not None:
                node = NestLoop(JoinType.INNER, node, right, None, node.width + right.width, *lateral)
            else:
                node = NestLoop(JoinType.INNER, node, right, None, node.width + right.width)
        assert node is not None
        return node, quals

    def _from_item(self, item: dict[str, Any], scope: Scope) -> tuple[PlanNode, list[Expr]]:
        kind, body = next(iter(item.items()))
        pos = self.qc.position(body.get("location"))
        if kind == "RangeVar":
            return self._range_var(body, scope, pos), []
        if kind == "RangeSubselect":
            if "alias" not in body:
                from pgaurora.planner.ddl import _min_location

                start = _min_location(body["subquery"])
                raise SyntaxError_("subquery in FROM must have an alias",
                                   hint="For example, FROM (SELECT ...) [AS] foo.",
                                   position=self._open_paren(start))
            if body.get("lateral") and scope.entries:
                sub_scope = Scope(self.qc.state, scope)
                planned = self.plan_query(body["subquery"], sub_scope)
                self._note_lateral(planned.node, sub_scope)
            else:
                planned = self.plan_query(body["subquery"], Scope(self.qc.state, scope, opaque=True))
            alias = body.get("alias", {})
            names = [c.name for c in planned.columns]
            for i, c in enumerate(alias.get("colnames", ())):
                names[i] = c["String"]["sval"]
            entry = RangeEntry(alias.get("aliasname", ""), names,
                               [(c.type_oid, c.typmod) for c in planned.columns])
            self._add_entry(scope, entry, pos)
            return planned.node, []
        if kind == "JoinExpr":
            return self._join(body, scope)
        if kind == "RangeFunction":
            return self._range_function(body, scope, pos), []
        raise FeatureNotSupported(f"{kind} in FROM is not supported", position=pos)

    def _open_paren(self, byte_location: int) -> int | None:
        """Position of the "(" opening the subquery whose first expression is at `byte_location`."""
        import re

        text_before = self._query_bytes()[:byte_location].decode("utf-8", "ignore")
        matches = list(re.finditer(r"\(\s*(?:select|values|with|table)\b", text_before, re.IGNORECASE))
        return matches[-1].start() + 1 if matches else None

    def _query_bytes(self) -> bytes:
        query = getattr(self.qc.position, "__self__", None)
        return str(getattr(query, "query", "")).encode("utf-8")

    def _note_lateral(self, node: PlanNode, sub_scope: Scope) -> None:
        """A LATERAL item reads earlier FROM items: it becomes a nested loop's parameterized inner side."""
        if sub_scope.outer_refs:
            self._lateral[id(node)] = (tuple(slot for slot, _ in sub_scope.outer_refs),
                                       tuple(expr for _, expr in sub_scope.outer_refs))
            self._keep_alive.append(node)

    def _add_entry(self, scope: Scope, entry: RangeEntry, pos: int | None) -> None:
        if entry.alias and scope.find_entry(entry.alias) is not None:
            raise DuplicateAlias(f'table name "{entry.alias}" specified more than once', position=pos)
        scope.add(entry)

    def _range_var(self, body: dict[str, Any], scope: Scope, pos: int | None) -> PlanNode:
        name = body["relname"]
        schema = body.get("schemaname")
        alias = body.get("alias", {}).get("aliasname", name)
        colnames = [c["String"]["sval"] for c in body.get("alias", {}).get("colnames", ())]
        if schema is None:
            cte = self._find_cte(name)
            if cte is not None:
                if cte.planned is None:
                    assert cte.recursive_types is not None
                    entry = RangeEntry(alias, list(cte.column_names), list(cte.recursive_types))
                    self._rename(entry, colnames)
                    self._add_entry(scope, entry, pos)
                    return WorkTableScan(cte.cte_id, len(cte.column_names))
                entry = RangeEntry(alias, list(cte.column_names),
                                   [(c.type_oid, c.typmod) for c in cte.planned.columns])
                self._rename(entry, colnames)
                self._add_entry(scope, entry, pos)
                return cte.planned.node
        rel = self.qc.catalog.relation(name, schema)
        if rel is None and (sysrel := system.lookup_relation(name, schema)) is not None:
            # system relations: see pgaurora/catalog/system
            entry = RangeEntry(alias, list(sysrel.column_names), [(c[1], c[2]) for c in sysrel.columns],
                               table_oid=sysrel.oid, attnums=list(range(1, len(sysrel.columns) + 1)))
            self._rename(entry, colnames)
            self._add_entry(scope, entry, pos)
            return SystemScan(sysrel.schema, sysrel.name, len(sysrel.columns))
        if rel is None:
            shown = f"{schema}.{name}" if schema else name
            raise UndefinedTable(f'relation "{shown}" does not exist', position=pos)
        if isinstance(rel, View):
            tree = self.qc.parse_view(rel.query)
            planned = self.plan_query(tree, Scope(self.qc.state, None))
            names = list(rel.column_names)
            entry = RangeEntry(alias, names, [(c.type_oid, c.typmod) for c in planned.columns])
            self._rename(entry, colnames)
            self._add_entry(scope, entry, pos)
            return planned.node
        if isinstance(rel, Sequence | Index):
            raise WrongObjectType(f'"{name}" is not a table', position=pos)
        assert isinstance(rel, Table)
        cols = rel.columns
        entry = RangeEntry(alias, [c.name if not c.dropped else f"........pg.dropped.{c.attnum}........" for c in cols],
                           [(c.type_oid, c.typmod) for c in cols], table_oid=rel.oid,
                           attnums=[c.attnum for c in cols])
        entry.using_hidden = {f"........pg.dropped.{c.attnum}........" for c in cols if c.dropped}
        self._rename(entry, colnames)
        self._add_entry(scope, entry, pos)
        return SeqScan(rel.oid, rel.name, len(cols))

    def _rename(self, entry: RangeEntry, colnames: list[str]) -> None:
        for i, c in enumerate(colnames):
            entry.columns[i] = c

    def _range_function(self, body: dict[str, Any], scope: Scope, pos: int | None) -> PlanNode:
        from pgaurora.catalog import builtins

        funcs = body["functions"]
        if len(funcs) != 1:
            raise FeatureNotSupported("ROWS FROM with several functions is not supported", position=pos)
        call = funcs[0]["List"]["items"][0]["FuncCall"]
        name = names_of(call["funcname"])[-1]
        # arguments may read earlier FROM items (implicit LATERAL): those become ExecParams set by the
        # nested loop above; with no earlier items, outer references belong to this level itself
        arg_scope = Scope(self.qc.state, scope) if scope.entries else scope
        lv = Level(arg_scope, self.qc.params, self.qc.position, self._subquery)
        args = [bind(a, lv) for a in call.get("args", ())]
        srf = builtins.resolve_set_function(name, tuple(a.type_oid for a in args))
        if srf is None:
            shown = ", ".join(resolve.type_name(a.type_oid) for a in args)
            raise resolve.UndefinedFunction(f"function {name}({shown}) does not exist", position=pos)
        args = [coerce(a, t, -1, "implicit", self.qc.params, pos)
                if t not in typeinfo.POLYMORPHIC_OIDS and t != typeinfo.ANY_OID else a
                for a, t in zip(args, srf.arg_oids, strict=False)]
        result_types = list(srf.result_types(tuple(a.type_oid for a in args)))
        alias = body.get("alias", {})
        names = list(srf.column_names) if len(result_types) > 1 else [alias.get("aliasname", name)]
        if body.get("ordinality"):
            names.append("ordinality")
            result_types.append(INT8_OID)
        entry = RangeEntry(alias.get("aliasname", name), names, [(t, -1) for t in result_types])
        self._rename(entry, [c["String"]["sval"] for c in alias.get("colnames", ())])
        self._add_entry(scope, entry, pos)
        fscan = FunctionScan(name, srf.fn, tuple(args), len(names), bool(body.get("ordinality")),
                             getattr(srf, "needs_context", False))
        if arg_scope is not scope:
            self._note_lateral(fscan, arg_scope)
        return fscan

    def _join(self, body: dict[str, Any], scope: Scope) -> tuple[PlanNode, list[Expr]]:
        jt = {"JOIN_INNER": JoinType.INNER, "JOIN_LEFT": JoinType.LEFT, "JOIN_RIGHT": JoinType.RIGHT,
              "JOIN_FULL": JoinType.FULL}[body["jointype"]]
        base = scope.width  # earlier FROM items' columns precede this join's row (psql's catalog queries; see pgaurora/catalog/system)
        left, left_quals = self._from_item(body["larg"], scope)
        left_entries = list(scope.entries)
        right, right_quals = self._from_item(body["rarg"], scope)
        lateral = self._lateral.pop(id(right), None)
        right_entries = scope.entries[len(left_entries):]
        quals: list[Expr] = []
        using: list[str] = [u["String"]["sval"] for u in body.get("usingClause", ())]
        if body.get("isNatural"):
            left_names = [c for e in left_entries for c in e.columns if c not in e.using_hidden]
            right_names = {c for e in right_entries for c in e.columns if c not in e.using_hidden}
            using = [c for c in left_names if c in right_names]
        lv = Level(scope, self.qc.params, self.qc.position, self._subquery, None, "JOIN conditions")
        merged: list[tuple[str, Expr]] = []
        for col in using:
            lvar = self._find_in(left_entries, col, scope)
            rvar = self._find_in(right_entries, col, scope)
            quals.append(resolve.make_operator("=", lvar, rvar, self.qc.params, None))
            if jt is JoinType.RIGHT:
                merged.append((col, rvar))
            elif jt is JoinType.FULL:
                ctype = resolve.common_type([lvar, rvar], "JOIN/USING")
                merged.append((col, CoalesceExpr((coerce(lvar, ctype, -1, "implicit", self.qc.params),
                                                  coerce(rvar, ctype, -1, "implicit", self.qc.params)), ctype)))
            else:
                merged.append((col, lvar))
        if "quals" in body:
            q = bind(body["quals"], lv)
            quals.append(resolve.to_boolean(q, "JOIN/ON", self.qc.params, None))
        width = left.width + right.width
        params = lateral or ((), ())
        if jt is JoinType.INNER:
            node: PlanNode = NestLoop(jt, left, right, None, width, *params)
            inner_quals = left_quals + right_quals + quals
        else:
            # quals of joins nested inside either side stay on that side, below the outer join
            lw = left.width
            left = self._wrap_quals(left, [shift_vars(q, lambda i: i - base) for q in left_quals], jt)
            right = self._wrap_quals(right, [shift_vars(q, lambda i: i - base - lw) for q in right_quals], jt)
            node = NestLoop(jt, left, right, and_all([shift_vars(q, lambda i: i - base) for q in quals]), width, *params)
            inner_quals = []
        if merged:
            exprs = tuple(Var(i, *scope_type(scope, base + i)) for i in range(width)) + tuple(
                shift_vars(e, lambda i: i - base) for _, e in merged)
            if inner_quals:
                node = Filter(node, and_all([shift_vars(q, lambda i: i - base) for q in inner_quals]) or Const(True, 16), width)
                inner_quals = []
            node = Project(node, exprs, len(exprs))
            for e in left_entries + list(right_entries):
                e.using_hidden |= set(using)
            entry = RangeEntry("", [c for c, _ in merged], [(e.type_oid, e.typmod) for _, e in merged])
            scope.add(entry)
            scope.entries.remove(entry)
            scope.entries.insert(0, entry)
        return node, inner_quals

    def _wrap_quals(self, node: PlanNode, quals: list[Expr], jt: JoinType) -> PlanNode:
        if quals:
            return Filter(node, and_all(quals) or Const(True, 16), node.width)
        return node

    def _find_in(self, entries: list[RangeEntry], col: str, scope: Scope) -> Expr:
        for e in entries:
            if col in e.using_hidden:
                continue
            for i, c in enumerate(e.columns):
                if c == col:
                    oid, typmod = e.types[i]
                    return Var(e.offset + i, oid, typmod, col)
        for e in scope.entries:
            if e.alias == "" and col in e.columns:
                i = e.columns.index(col)
                return Var(e.offset + i, *e.types[i], col)  # type: ignore[misc]
        raise UndefinedColumn(f'column "{col}" specified in USING clause does not exist in left table')

    def _subquery(self, node: dict[str, Any], scope: Scope) -> Planned:
        from pgaurora.planner import rules

        planned = self.plan_query(node, scope)
        # expression subplans get the optimizer too (psql/asyncpg catalog queries: see pgaurora/catalog/system)
        return Planned(rules.optimize(planned.node, self.qc.catalog, self.qc.state.new_slot), planned.columns)

    # ---- SELECT core --------------------------------------------------------------------------
    def _simple_select(self, body: dict[str, Any], scope: Scope) -> Planned:
        qc = self.qc
        quals: list[Expr] = []
        locking = body.get("lockingClause")
        if locking:
            self._check_locking(body)
            node, quals = self._from(body["fromClause"], scope)
            # the locked table's scan also yields tids (one more column than the table)
            scan = node
            assert isinstance(scan, SeqScan)
            node = dataclasses.replace(scan, width=scan.width + 1, with_tid=True)
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
        if locking:
            self._lock = tl_lock
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
            expr = resolve.finalize_unknown(bind(val, tl), qc.params)
            targets.append(expr)
            columns.append(self._result_column(rt, val, expr, scope))

        group_nodes = body.get("groupClause", ())
        having = body.get("havingClause")
        if locking and (aggs or windows):
            self._lock = None
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
            node, targets = self._window(node, targets, windows, sort_map)
            sort_map = None
        return self._finish(body, node, targets, columns, scope, tl, sort_map)

    def _check_locking(self, body: dict[str, Any]) -> None:
        from_items = body.get("fromClause", ())
        if len(from_items) != 1 or "RangeVar" not in from_items[0]:
            raise FeatureNotSupported("FOR UPDATE/SHARE is supported on a single table only")
        rel = self.qc.catalog.relation(from_items[0]["RangeVar"]["relname"], from_items[0]["RangeVar"].get("schemaname"))
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
        agg_node = Aggregate(node, tuple(group_keys), tuple(aggs), gid + (1 if grouping_sets else 0), grouping_sets)

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
            if expr in targets:
                idx = targets.index(expr)
            else:
                if body.get("distinctClause") is not None and body.get("distinctClause") != [{}]:
                    pass
                if body.get("distinctClause") == [{}]:
                    raise InvalidColumnReference("for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                                                 position=qc.position(sb.get("location") if sb.get("location", -1) >= 0
                                                                      else next(iter(sb["node"].values())).get("location")))
                idx = len(targets) + len(extra)
                extra.append(expr)
            key = sort_key(sb, tl, Var(idx, expr.type_oid, expr.typmod))
            sort_keys.append(key)
        lock = getattr(self, "_lock", None)
        if lock is not None:
            self._lock = None
            tid_index = len(targets) + len(extra)
            extra.append(Var(lock[1], 27))  # the scan's tid column
        width = len(targets) + len(extra)
        srf_positions = tuple(i for i, t in enumerate(targets) if _is_srf(t))
        if srf_positions:
            node = ProjectSet(node, tuple(targets + extra), srf_positions, width)
        else:
            node = Project(node, tuple(targets + extra), width)
        distinct = body.get("distinctClause")
        if distinct is not None:
            if distinct == [{}]:
                node = Unique(Sort(node, tuple(SortKey(Var(i, t.type_oid)) for i, t in enumerate(targets)), width)
                              if not sort_keys else node, width)
                if sort_keys:
                    node = Unique(Sort(node.input, tuple(sort_keys) + tuple(  # type: ignore[attr-defined]
                        SortKey(Var(i, t.type_oid)) for i, t in enumerate(targets)), width), width)
                    sort_keys = []
            else:
                on = [self._group_or_order_target(d, tl, targets, columns, "DISTINCT ON") for d in distinct]
                on_vars = []
                for e in on:
                    if e in targets:
                        on_vars.append(Var(targets.index(e), e.type_oid))
                    else:
                        on_vars.append(Var(len(targets) + len(extra), e.type_oid))
                        extra.append(e)
                node = Sort(node, tuple(sort_keys) if sort_keys else tuple(SortKey(v) for v in on_vars), width)
                node = Unique(node, width, tuple(on_vars))
                sort_keys = []
        if sort_keys:
            node = Sort(node, tuple(sort_keys), width)
        if lock is not None:
            node = LockRows(node, lock[0], tid_index, lock[2], lock[3], width)
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
            limit = coerce(bind(body["limitCount"], lv), INT8_OID, -1, "implicit", self.qc.params)
            if isinstance(limit, Const) and limit.value is None:
                limit = None
        if "limitOffset" in body:
            offset = coerce(bind(body["limitOffset"], lv), INT8_OID, -1, "implicit", self.qc.params)
        return Limit(node, limit, offset, node.width)

    def _order_limit_simple(self, body: dict[str, Any], planned: Planned, scope: Scope) -> Planned:
        node = planned.node
        if "sortClause" in body:
            tmp = Scope(self.qc.state, scope, opaque=True)
            tmp.add(RangeEntry("*VALUES*", [c.name for c in planned.columns],
                               [(c.type_oid, c.typmod) for c in planned.columns]))
            lv = Level(tmp, self.qc.params, self.qc.position, self._subquery)
            targets: list[Expr] = [Var(i, c.type_oid, c.typmod) for i, c in enumerate(planned.columns)]
            keys = []
            for s in body["sortClause"]:
                sb = s["SortBy"]
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
        left = self.plan_select(_select_body(body["larg"]), Scope(self.qc.state, scope, opaque=True))
        right = self.plan_select(_select_body(body["rarg"]), Scope(self.qc.state, scope, opaque=True))
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
        return self._order_limit_simple(body, Planned(node, columns), scope)

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


def _select_body(node: dict[str, Any]) -> dict[str, Any]:
    """Set-operation arms are bare SelectStmt bodies in pglast's JSON (sometimes wrapped)."""
    return node.get("SelectStmt", node)  # type: ignore[no-any-return]


def scope_type(scope: Scope, index: int) -> tuple[int, int]:
    for e in scope.entries:
        if e.offset <= index < e.offset + len(e.columns):
            return e.types[index - e.offset]
    return (TEXT_OID, -1)


def _is_srf(expr: Expr) -> bool:
    from pgaurora.executor.expr import FuncExpr

    return isinstance(expr, FuncExpr) and expr.retset


def derive_name(val: dict[str, Any]) -> str:
    """PostgreSQL's FigureColname: the column name a target without AS gets."""
    kind, body = next(iter(val.items()))
    if kind == "FuncCall":
        return names_of(body["funcname"])[-1]
    if kind == "TypeCast":
        inner = derive_name(body["arg"])
        if inner != "?column?":
            return inner
        return names_of(body["typeName"]["names"])[-1].replace("bpchar", "bpchar")
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
        return derive_name(body["arg"])
    return "?column?"
