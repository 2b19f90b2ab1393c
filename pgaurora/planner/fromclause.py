"""FROM and WITH: table references, views, CTEs (recursive too), subqueries, LATERAL, set-returning
functions and joins (INNER / LEFT / RIGHT / FULL, ON / USING / NATURAL), as a mixin of the SELECT
planner.

Owns turning FROM items into scan and join nodes (NestLoop in FROM order; planner.rules picks
the join methods) and registering their columns in the level's Scope. Not WHERE, grouping or
targets (planner.select).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from pgaurora.catalog import system  # system relations: see pgaurora/catalog/system
from pgaurora.catalog.builtins.json_functions import (
    POPULATE_FUNCTIONS,
    RECORD_FUNCTIONS,
    populate_rows,
    record_rows,
)
from pgaurora.catalog.model import Index, Sequence, Table, View
from pgaurora.datatypes import composites, typeinfo
from pgaurora.datatypes.typeinfo import INT8_OID, RECORD_OID
from pgaurora.errors import (
    DuplicateAlias,
    FeatureNotSupported,
    InvalidRecursion,
    ObjectNotInPrerequisiteState,
    SyntaxError_,
    UndefinedColumn,
    UndefinedObject,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.expr import CoalesceExpr, Const, Expr, Var, shift_vars
from pgaurora.executor.plannodes import (
    CteScan,
    Filter,
    FunctionScan,
    JoinType,
    NestLoop,
    PlanNode,
    Project,
    RecursiveUnion,
    RowsFromScan,
    SampleScan,
    SeqScan,
    SystemScan,  # system relations: see pgaurora/catalog/system
    WorkTableScan,
)
from pgaurora.executor.triggers import TransitionScan
from pgaurora.planner import recursion, resolve, searchcycle
from pgaurora.planner.exprbind import Level, bind, names_of, positional_arguments, type_from_name
from pgaurora.planner.querycontext import (
    Cte,
    Planned,
    QueryContext,
    and_all,
    scope_type,
    select_body,
)
from pgaurora.planner.resolve import coerce
from pgaurora.planner.scope import RangeEntry, Scope, mentions_system_column
from pgaurora.planner.syscolumns import add_system_columns, system_columns_scan

# A trigger function's transition tables while its queries are planned (session.routines sets
# it): name -> (column names, types); such a name in FROM reads the firing statement's rows
TRANSITION_TABLES: ContextVar[dict[str, tuple[tuple[str, ...], tuple[int, ...]]] | None] = ContextVar(
    "TRANSITION_TABLES", default=None)


class FromClause:
    """FROM / WITH planning; SelectPlanner inherits it (it needs plan_query and plan_select)."""

    qc: QueryContext
    _lateral: dict[int, tuple[tuple[int, ...], tuple[Expr, ...]]]
    _keep_alive: list[PlanNode]

    def plan_query(self, node: dict[str, Any], scope: Scope) -> Planned:
        raise NotImplementedError

    def plan_select(self, body: dict[str, Any], scope: Scope) -> Planned:
        raise NotImplementedError

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
                frame[name] = self._modifying_cte(cte_id, name, aliases, query, scope, cte)
                continue
            clauses = cte.get("search_clause") is not None or cte.get("cycle_clause") is not None
            if recursive and qbody.get("op") == "SETOP_UNION" and self._references(query, name):
                planned = self._recursive_cte(cte_id, name, aliases, qbody, scope, frame, cte if clauses else None)
            else:
                if recursive and self._references(query, name):
                    raise InvalidRecursion(f'recursive query "{name}" does not have the form non-recursive-term '
                                           f"UNION [ALL] recursive-term", position=self.qc.position(cte.get("location")))
                if clauses:
                    raise SyntaxError_("WITH query is not recursive", position=self.qc.position(cte.get("location")))
                planned = self.plan_query(query, Scope(self.qc.state, scope, opaque=True))
                planned = Planned(CteScan(cte_id, name, planned.node, planned.node.width), planned.columns)
            names = aliases + [c.name for c in planned.columns[len(aliases):]]
            frame[name] = Cte(cte_id, name, planned, names)

    def _modifying_cte(self, cte_id: int, name: str, aliases: list[str], query: dict[str, Any], scope: Scope,
                       cte: dict[str, Any]) -> Cte:
        """WITH name AS (INSERT / UPDATE / DELETE ... [RETURNING]): planned once, run once (executor.withmodify)."""
        from pgaurora.planner.modify import ModifyPlanner

        kind, body = next(iter(query.items()))
        if scope.parent is not None:
            raise FeatureNotSupported("WITH clause containing a data-modifying statement must be at the top level",
                                      position=self.qc.position(cte.get("location")))
        mp = ModifyPlanner(self.qc)
        planned = mp.plan_statement(kind, body)
        columns = planned.columns if "returningList" in body else []
        scan = CteScan(cte_id, name, planned.node, planned.node.width)
        self.qc.modifying_ctes.append(scan)
        names = aliases + [c.name for c in columns[len(aliases):]]
        return Cte(cte_id, name, Planned(scan, columns), names, returning="returningList" in body)

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
                       scope: Scope, frame: dict[str, Cte], clauses: dict[str, Any] | None = None) -> Planned:
        """WITH RECURSIVE name AS (non-recursive UNION [ALL] recursive) [SEARCH ...] [CYCLE ...]."""
        recursion.check_well_formed(self.qc, qbody, name)
        if clauses is not None:
            searchcycle.check_form(qbody)
        base = self.plan_select(select_body(qbody["larg"]), Scope(self.qc.state, scope, opaque=True))
        names = aliases + [c.name for c in base.columns[len(aliases):]]
        types = [(c.type_oid, c.typmod) for c in base.columns]
        rarg = select_body(qbody["rarg"])
        spec = None
        if clauses is not None:
            lv = Level(Scope(self.qc.state, scope, opaque=True), self.qc.params, self.qc.position, self._subquery,
                       None, "CYCLE")
            spec = searchcycle.analyze(self.qc, clauses, names, lambda node: bind(node, lv))
            extra = spec.extra_columns()
            base = Planned(searchcycle.base_projection(spec, base.node, types), base.columns + extra)
            names += [c.name for c in extra]
            types += [(c.type_oid, c.typmod) for c in extra]
            rarg = searchcycle.recursive_term(rarg, name, spec)
        frame[name] = Cte(cte_id, name, None, names, types)
        rec = self.plan_select(rarg, Scope(self.qc.state, scope, opaque=True))
        rec_node = rec.node
        if [c.type_oid for c in rec.columns] != [t for t, _ in types]:
            exprs = tuple(coerce(Var(i, c.type_oid, c.typmod), types[i][0], -1, "assignment", self.qc.params)
                          for i, c in enumerate(rec.columns))
            rec_node = Project(rec_node, exprs, len(exprs))
        if spec is not None:
            rec_node = searchcycle.recursive_projection(spec, rec_node, types, self.qc)
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
                from pgaurora.planner.ddl import first_location

                start = first_location(body["subquery"])
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
        if kind == "RangeTableSample":
            return self._table_sample(body, scope, pos), []
        raise FeatureNotSupported(f"{kind} in FROM is not supported", position=pos)

    def _table_sample(self, body: dict[str, Any], scope: Scope, pos: int | None) -> PlanNode:
        """rel TABLESAMPLE method (percent) [REPEATABLE (seed)] (executor.sample)."""
        import dataclasses

        from pgaurora.errors import TableSampleArgument

        method = names_of(body["method"])[-1]
        if method not in ("system", "bernoulli"):
            raise UndefinedObject(f"tablesample method {method} does not exist", position=pos)
        args = body.get("args", [])
        if len(args) != 1:
            raise TableSampleArgument(f"tablesample method {method} requires 1 argument, not {len(args)}",
                                      position=pos)
        relation = body["relation"]["RangeVar"]
        target = self.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
        node = self._range_var(relation, scope, self.qc.position(relation.get("location")))
        if not isinstance(target, Table) or not isinstance(node, SeqScan):
            raise FeatureNotSupported("TABLESAMPLE clause can only be applied to tables and materialized views",
                                      position=self.qc.position(relation.get("location")))
        lv = Level(Scope(self.qc.state, scope, opaque=True), self.qc.params, self.qc.position, self._subquery, None,
                   "TABLESAMPLE")
        percent = coerce(bind(args[0], lv), typeinfo.FLOAT4_OID, -1, "implicit", self.qc.params, pos)
        seed = coerce(bind(body["repeatable"], lv), typeinfo.FLOAT8_OID, -1, "implicit", self.qc.params, pos) \
            if "repeatable" in body else None
        scan = dataclasses.replace(node, with_tid=True, width=node.width + 1)
        return SampleScan(scan, method, percent, seed, node.width)

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
        if schema is None and (tables := TRANSITION_TABLES.get()) is not None and name in tables \
                and self._find_cte(name) is None:
            shape = tables[name]  # a trigger function's transition table (executor.triggers)
            entry = RangeEntry(alias, list(shape[0]), [(t, -1) for t in shape[1]])
            self._rename(entry, colnames)
            self._add_entry(scope, entry, pos)
            return TransitionScan(name, len(shape[0]))
        if schema is None:
            cte = self._find_cte(name)
            if cte is not None:
                if cte.planned is None:
                    assert cte.recursive_types is not None
                    entry = RangeEntry(alias, list(cte.column_names), list(cte.recursive_types))
                    self._rename(entry, colnames)
                    self._add_entry(scope, entry, pos)
                    return WorkTableScan(cte.cte_id, len(cte.column_names))
                if not cte.returning:
                    raise FeatureNotSupported(f'WITH query "{name}" does not have a RETURNING clause', position=pos)
                entry = RangeEntry(alias, list(cte.column_names),
                                   [(c.type_oid, c.typmod) for c in cte.planned.columns])
                self._rename(entry, colnames)
                self._add_entry(scope, entry, pos)
                return cte.planned.node
        rel = self.qc.catalog.relation(name, schema)
        if rel is None and (sysrel := system.lookup_relation(name, schema)) is not None:
            # system relations: see pgaurora/catalog/system
            # rows end with the system column tableoid (attnum -6): `c.tableoid` only, never in `*`
            entry = RangeEntry(alias, [*sysrel.column_names, "tableoid"],
                               [*((c[1], c[2]) for c in sysrel.columns), (26, -1)], table_oid=sysrel.oid,
                               attnums=[*range(1, len(sysrel.columns) + 1), -6])
            entry.using_hidden = {"tableoid"}
            self._rename(entry, colnames)
            self._add_entry(scope, entry, pos)
            return SystemScan(sysrel.schema, sysrel.name, len(sysrel.columns) + 1)
        if rel is None:
            shown = f"{schema}.{name}" if schema else name
            raise UndefinedTable(f'relation "{shown}" does not exist', position=pos)
        if not isinstance(rel, Index):
            if not self.qc.check_as and not self.qc.in_view:  # USAGE on its schema (a view's owner needed
                # it to create the view)
                self.qc.require_usage(rel.schema_oid, name, schema is not None)
            self.qc.require(rel.oid, "r")
        if isinstance(rel, View):
            if not self.qc.system_columns and mentions_system_column(rel.query):
                self.qc.system_columns = True
            tree = self.qc.parse_view(rel.query)
            locks = getattr(self, "_view_locks", {}).pop(alias, None)  # FOR UPDATE of the view (planner.rowmarks)
            if locks and "fromClause" in tree.get("SelectStmt", {}):
                tree = {"SelectStmt": dict(tree["SelectStmt"], lockingClause=locks)}
            if locks:
                self.qc.require(rel.oid, "w")  # locking its rows needs UPDATE on the view
            # the view reads as its owner (security_invoker: as its reader)
            in_view, self.qc.in_view = self.qc.in_view, True
            try:
                with self.qc.checking_as(self.qc.check_as if rel.security_invoker else rel.owner):
                    planned = self.plan_query(tree, Scope(self.qc.state, None))
            finally:
                self.qc.in_view = in_view
            names = list(rel.column_names)
            entry = RangeEntry(alias, names, [(c.type_oid, c.typmod) for c in planned.columns])
            self._rename(entry, colnames)
            self._add_entry(scope, entry, pos)
            self.qc.reads_through(rel.oid, entry)
            return planned.node
        if isinstance(rel, Sequence):
            # SELECT last_value, log_cnt, is_called FROM s (pg_dump): see catalog.system.relations
            entry = RangeEntry(alias, ["last_value", "log_cnt", "is_called", "tableoid"],
                               [(20, -1), (20, -1), (16, -1), (26, -1)], table_oid=rel.oid, attnums=[1, 2, 3, -6])
            entry.using_hidden = {"tableoid"}
            self._rename(entry, colnames)
            self._add_entry(scope, entry, pos)
            self.qc.reads_through(rel.oid, entry)
            return SystemScan(system.SEQUENCE_DATA, str(rel.oid), 4)
        if isinstance(rel, Index):
            raise WrongObjectType(f'"{name}" is not a table', position=pos)
        assert isinstance(rel, Table)
        if not rel.populated:
            raise ObjectNotInPrerequisiteState(f'materialized view "{rel.name}" has not been populated',
                                               hint="Use the REFRESH MATERIALIZED VIEW command.")
        cols = rel.columns
        entry = RangeEntry(alias, [c.name if not c.dropped else f"........pg.dropped.{c.attnum}........" for c in cols],
                           [(c.type_oid, c.typmod) for c in cols], table_oid=rel.oid,
                           attnums=[c.attnum for c in cols])
        entry.using_hidden = {f"........pg.dropped.{c.attnum}........" for c in cols if c.dropped}
        self._rename(entry, colnames)
        system_columns = self.qc.system_columns
        if system_columns:
            add_system_columns(entry)
        self._add_entry(scope, entry, pos)
        self.qc.reads_through(rel.oid, entry)
        scan: PlanNode
        if rel.kind == "p":
            from pgaurora.planner.partition import append_scan

            scan = append_scan(self.qc.catalog, rel, len(cols), system_columns)
        elif system_columns:
            scan = system_columns_scan(rel.oid, rel.name, len(cols))
        else:
            scan = SeqScan(rel.oid, rel.name, len(cols))
        if rel.row_security:  # its policies' USING, decided for the statement's role as it runs
            from pgaurora.planner.rowsecurity import row_filter

            qual = row_filter(self.qc, rel, "r", self._subquery)
            if qual is not None:
                scan = Filter(scan, qual, scan.width)
        return scan

    def _rename(self, entry: RangeEntry, colnames: list[str]) -> None:
        for i, c in enumerate(colnames):
            entry.columns[i] = c

    def _range_function(self, body: dict[str, Any], scope: Scope, pos: int | None) -> PlanNode:
        from pgaurora.catalog import builtins

        funcs = body["functions"]
        if len(funcs) == 1 and not body.get("is_rowsfrom"):
            funcs = _split_unnest(funcs)  # unnest(a, b) in FROM is ROWS FROM (unnest(a), unnest(b))
        if len(funcs) > 1:
            return self._rows_from(body, funcs, scope, pos)
        items = funcs[0]["List"]["items"]
        call = items[0]["FuncCall"]
        if pos is None:
            pos = self.qc.position(call.get("location"))
        if len(items) > 1 and items[1] and "coldeflist" not in body:  # ROWS FROM (f() AS (a int))
            body = {**body, "coldeflist": items[1]["List"]["items"]}
        parts = names_of(call["funcname"])
        name = parts[-1]
        schema = parts[-2] if len(parts) > 1 else None
        # arguments may read earlier FROM items (implicit LATERAL): those become ExecParams set by the
        # nested loop above; with no earlier items, outer references belong to this level itself
        arg_scope = Scope(self.qc.state, scope) if scope.entries else scope
        lv = Level(arg_scope, self.qc.params, self.qc.position, self._subquery, None, "functions in FROM")
        args = [bind(a, lv) for a in positional_arguments(call, lv)]
        if name in POPULATE_FUNCTIONS and len(args) == 2 and composites.attributes(args[0].type_oid) is not None:
            return self._populate_scan(body, scope, pos, name, args, arg_scope)
        srf = builtins.resolve_set_function(name, tuple(a.type_oid for a in args)) \
            if schema in (None, "pg_catalog") else None
        if srf is None and schema != "pg_catalog":
            user = resolve.user_function(self.qc.catalog, name, schema, tuple(a.type_oid for a in args), pos)
            if user is not None:
                return self._user_function_scan(body, scope, pos, name, args, user, arg_scope)
        if srf is None:
            shown = ", ".join(resolve.type_name(a.type_oid) for a in args)
            raise resolve.UndefinedFunction(f"function {name}({shown}) does not exist", position=pos,
                                            hint="No function matches the given name and argument types. "
                                                 "You might need to add explicit type casts.")
        args = [coerce(a, t, -1, "implicit", self.qc.params, pos)
                if t not in typeinfo.POLYMORPHIC_OIDS and t != typeinfo.ANY_OID else a
                for a, t in zip(args, srf.arg_oids, strict=False)]
        result_types = list(srf.result_types(tuple(a.type_oid for a in args)))
        alias = body.get("alias", {})
        # a single OUT parameter names the column (pg_partition_ancestors: relid), else the alias
        names = list(srf.column_names) if len(result_types) > 1 or srf.column_names else [alias.get("aliasname", name)]
        fn = srf.fn
        types = [(t, -1) for t in result_types]
        coldefs = body.get("coldeflist")
        if name in RECORD_FUNCTIONS:  # json_to_record(...) AS x(a int, ...): the definitions are its columns
            if not coldefs:
                raise SyntaxError_('a column definition list is required for functions returning "record"',
                                   position=self.qc.position(call.get("location")))
            names = [cd["ColumnDef"]["colname"] for cd in coldefs]
            types = [type_from_name(cd["ColumnDef"]["typeName"], self.qc.position) for cd in coldefs]
            fn = record_rows(name, tuple(names), tuple(types))
        elif coldefs:
            raise SyntaxError_('a column definition list is only allowed for functions returning "record"',
                               position=self.qc.position(coldefs[0]["ColumnDef"].get("location")))
        if body.get("ordinality"):
            names.append("ordinality")
            types.append((INT8_OID, -1))
        entry = RangeEntry(alias.get("aliasname", name), names, types,
                           scalar=len(types) == 1 and name not in RECORD_FUNCTIONS)
        self._rename(entry, [c["String"]["sval"] for c in alias.get("colnames", ())])
        self._add_entry(scope, entry, pos)
        fscan = FunctionScan(name, fn, tuple(args), len(names), bool(body.get("ordinality")),
                             getattr(srf, "needs_context", False))
        if arg_scope is not scope:
            self._note_lateral(fscan, arg_scope)
        return fscan

    def _rows_from(self, body: dict[str, Any], funcs: list[dict[str, Any]], scope: Scope,
                   pos: int | None) -> PlanNode:
        """ROWS FROM (f(...), g(...)) [WITH ORDINALITY]: the functions' rows side by side, the
        shorter ones padded with NULLs; each planned as a function in FROM of its own."""
        if body.get("coldeflist"):
            raise SyntaxError_("ROWS FROM() with multiple functions cannot have a column definition list",
                               hint="Put a separate column definition list for each function inside ROWS FROM().",
                               position=self.qc.position(body["coldeflist"][0]["ColumnDef"].get("location")))
        start, offset = len(scope.entries), scope.width
        scans = []
        first = ""
        for f in funcs:
            at = self.qc.position(f["List"]["items"][0]["FuncCall"].get("location"))
            scans.append(self._range_function({"functions": [f], "is_rowsfrom": True}, scope, at))
            first = first or scope.entries[-1].alias
            scope.entries[-1].alias = ""  # (two functions of one name are no duplicate FROM items)
        entries = scope.entries[start:]
        del scope.entries[start:]
        scope.width = offset
        names = [c for e in entries for c in e.columns]
        types = [t for e in entries for t in e.types]
        slots: list[int] = []
        exprs: list[Expr] = []
        for scan in scans:
            lateral = self._lateral.pop(id(scan), None)
            if lateral is not None:
                slots += lateral[0]
                exprs += lateral[1]
        if body.get("ordinality"):
            names.append("ordinality")
            types.append((INT8_OID, -1))
        alias = body.get("alias", {})
        entry = RangeEntry(alias.get("aliasname", first), names, types)
        self._rename(entry, [c["String"]["sval"] for c in alias.get("colnames", ())])
        self._add_entry(scope, entry, pos)
        node = RowsFromScan(tuple(scans), len(names), bool(body.get("ordinality")))
        if slots:
            self._lateral[id(node)] = (tuple(slots), tuple(exprs))
            self._keep_alive.append(node)
        return node

    def _populate_scan(self, body: dict[str, Any], scope: Scope, pos: int | None, name: str, args: list[Expr],
                       arg_scope: Scope) -> PlanNode:
        """json[b]_populate_record[set](base, doc) in FROM: the base argument's composite type's
        fields are its columns."""
        attributes = composites.attributes(args[0].type_oid) or ()
        names = [n for n, _, _ in attributes]
        types = [(t, m) for _, t, m in attributes]
        doc = coerce(args[1], typeinfo.JSON_OID if name.startswith("json_") else typeinfo.JSONB_OID, -1, "implicit",
                     self.qc.params, pos)
        fn = populate_rows(name, tuple(names), tuple(types))
        fn.strict = False  # type: ignore[attr-defined]  # (a NULL base is the usual one)
        if body.get("ordinality"):
            names.append("ordinality")
            types.append((INT8_OID, -1))
        alias = body.get("alias", {})
        entry = RangeEntry(alias.get("aliasname", name), names, types)
        self._rename(entry, [c["String"]["sval"] for c in alias.get("colnames", ())])
        self._add_entry(scope, entry, pos)
        fscan = FunctionScan(name, fn, (args[0], doc), len(names), bool(body.get("ordinality")), False)
        if arg_scope is not scope:
            self._note_lateral(fscan, arg_scope)
        return fscan

    def _user_function_scan(self, body: dict[str, Any], scope: Scope, pos: int | None, name: str, args: list[Expr],
                            user: Any, arg_scope: Scope) -> PlanNode:
        """A function CREATE FUNCTION made, in FROM: its rows (or its one value, as one row), the
        columns its OUT / TABLE parameters or its table name, else one named after it."""
        fn = self.qc.catalog.function(user.oid)
        assert fn is not None
        args = [coerce(a, t, -1, "implicit", self.qc.params, pos) for a, t in zip(args, user.arg_oids, strict=True)]
        alias = body.get("alias", {})
        columns = self.qc.catalog.result_columns(fn)
        coldefs = body.get("coldeflist")
        impl = user.fn
        if fn.return_type == RECORD_OID and not columns:  # RETURNS [SETOF] record: the call says its columns
            if not coldefs:
                call = body["functions"][0]["List"]["items"][0]["FuncCall"]
                raise SyntaxError_('a column definition list is required for functions returning "record"',
                                   position=self.qc.position(call.get("location")))
            names = [cd["ColumnDef"]["colname"] for cd in coldefs]
            types = [type_from_name(cd["ColumnDef"]["typeName"], self.qc.position) for cd in coldefs]
            impl = resolve.record_call(fn, tuple(zip(names, (t for t, _ in types), strict=True)))
        elif coldefs:
            raise SyntaxError_('a column definition list is only allowed for functions returning "record"',
                               position=pos)
        elif columns:
            names = [n for n, _ in columns]
            types = [(t, -1) for _, t in columns]
        else:  # (a single OUT parameter names the column)
            outs = fn.out_columns()
            names = [outs[0][0] if outs and outs[0][0] else alias.get("aliasname", name)]
            types = [(user.return_oid, -1)]
        if body.get("ordinality"):
            names.append("ordinality")
            types.append((INT8_OID, -1))
        entry = RangeEntry(alias.get("aliasname", name), names, types,
                           scalar=len(types) == 1 and not columns and not coldefs)
        self._rename(entry, [c["String"]["sval"] for c in alias.get("colnames", ())])
        self._add_entry(scope, entry, pos)
        fscan = FunctionScan(name, impl, tuple(args), len(names), bool(body.get("ordinality")), True,
                             retset=fn.retset)
        if arg_scope is not scope:
            self._note_lateral(fscan, arg_scope)
        return fscan

    def _join(self, body: dict[str, Any], scope: Scope) -> tuple[PlanNode, list[Expr]]:
        jt = {"JOIN_INNER": JoinType.INNER, "JOIN_LEFT": JoinType.LEFT, "JOIN_RIGHT": JoinType.RIGHT,
              "JOIN_FULL": JoinType.FULL}[body["jointype"]]
        base = scope.width  # earlier FROM items' columns precede this join's row (psql's catalog queries; see pgaurora/catalog/system)
        before = len(scope.entries)
        left, left_quals = self._from_item(body["larg"], scope)
        left_entries = list(scope.entries)
        right, right_quals = self._from_item(body["rarg"], scope)
        lateral = self._lateral.pop(id(right), None)
        right_entries = scope.entries[len(left_entries):]
        nullable = getattr(self, "_nullable", None)  # FOR UPDATE refuses these (planner.select)
        if nullable is not None:
            if jt in (JoinType.LEFT, JoinType.FULL):
                nullable.update(id(e) for e in right_entries)
            if jt in (JoinType.RIGHT, JoinType.FULL):
                nullable.update(id(e) for e in left_entries[before:])
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


def _split_unnest(funcs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """unnest with several array arguments, written in FROM: one unnest per array (PostgreSQL's
    parser does the same)."""
    items = funcs[0]["List"]["items"]
    call = items[0]["FuncCall"]
    parts = names_of(call["funcname"])
    args = call.get("args", [])
    if parts[-1] != "unnest" or parts[:-1] not in ([], ["pg_catalog"]) or len(args) < 2 or any(items[1:]) \
            or call.get("func_variadic") or any("NamedArgExpr" in a for a in args):
        return funcs
    return [{"List": {"items": [{"FuncCall": {**call, "args": [a]}}, {}]}} for a in args]
