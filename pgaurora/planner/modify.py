"""DML planning: INSERT (VALUES / SELECT / DEFAULT VALUES, ON CONFLICT), UPDATE [FROM], DELETE [USING],
RETURNING, and the constraint expressions the executor checks.

Owns target-column resolution, assignment coercion (PostgreSQL's 'column "x" is of type integer
but expression is of type text'), defaults (parsed from the catalog's expression text), identity
and serial columns, and building executor.modify nodes. Not running them (executor.modify).
"""

from __future__ import annotations

import json
from typing import Any

from pglast import parser as pg_parser

from pgaurora.catalog.model import Table, View
from pgaurora.datatypes.typeinfo import TEXT_OID, UNKNOWN_OID
from pgaurora.errors import (
    DuplicateColumn,
    FeatureNotSupported,
    GeneratedAlways,
    InvalidColumnReference,
    ObjectNotInPrerequisiteState,
    SyntaxError_,
    UndefinedColumn,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.expr import Const, Expr, FuncExpr, RowExpr, SubLinkKind, SubPlanExpr, Var
from pgaurora.executor.modify import (
    CheckSpec,
    Delete,
    ForeignKeySpec,
    Insert,
    OnConflict,
    ReferencedBySpec,
    TableChecks,
    Update,
)
from pgaurora.executor.partition import MultiModify
from pgaurora.executor.plannodes import Filter, PlanNode, Project, ResultColumn, SeqScan, ValuesScan
from pgaurora.planner import partition, resolve, srf, views
from pgaurora.planner.exprbind import Level, bind, leftmost_location, names_of
from pgaurora.planner.generated import substitute_generated, with_generated
from pgaurora.planner.indexexpr import index_key_spec, key_specs, predicate_implied
from pgaurora.planner.insteadof import instead_of_target, plan_instead_of
from pgaurora.planner.querycontext import Planned, QueryContext, and_all, conjuncts
from pgaurora.planner.resolve import coerce
from pgaurora.planner.scope import RangeEntry, Scope
from pgaurora.planner.select import SelectPlanner, derive_name


def parse_expression(text: str) -> dict[str, Any]:
    """The parse tree of a stored SQL expression (defaults, CHECK constraints)."""
    tree = json.loads(pg_parser.parse_sql_json(f"SELECT {text}"))
    return tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]["val"]  # type: ignore[no-any-return]


def _item_position(qc: Any, sel: dict[str, Any], k: int) -> int | None:
    """Where a SELECT's k-th output expression starts (for INSERT ... SELECT's coercion errors)."""
    if sel.get("op", "SETOP_NONE") != "SETOP_NONE":
        return _item_position(qc, sel.get("larg", {}), k)
    items = sel.get("targetList", ())
    if k >= len(items):
        return None
    val = items[k].get("ResTarget", {}).get("val", {})
    return qc.position(leftmost_location(val)) if val else None


def _unknown_literals(sel: dict[str, Any]) -> set[int]:
    """Positions in a simple SELECT's list (no set operation, DISTINCT or VALUES) of string
    literals and NULLs: constants of unknown type in PostgreSQL."""
    if sel.get("op", "SETOP_NONE") != "SETOP_NONE" or sel.get("distinctClause") or "valuesLists" in sel:
        return set()
    found = set()
    for k, item in enumerate(sel.get("targetList", ())):
        val = item.get("ResTarget", {}).get("val", {})
        const = val.get("A_Const")
        if const is not None and ("sval" in const or const.get("isnull")):
            found.add(k)
    return found


def _generated_insert(name: str) -> GeneratedAlways:
    return GeneratedAlways(f'cannot insert a non-DEFAULT value into column "{name}"',
                           detail=f'Column "{name}" is a generated column.')


_LETTERS = {"InsertStmt": "a", "UpdateStmt": "w", "DeleteStmt": "d"}  # catalog.acl: INSERT, UPDATE, DELETE


def table_entry(table: Table, alias: str | None = None) -> RangeEntry:
    return RangeEntry(alias or table.name,
                      [c.name if not c.dropped else f"........pg.dropped.{c.attnum}........" for c in table.columns],
                      [(c.type_oid, c.typmod) for c in table.columns], table_oid=table.oid,
                      attnums=[c.attnum for c in table.columns])


class ModifyPlanner:
    def __init__(self, qc: QueryContext) -> None:
        self.qc = qc
        self.select = SelectPlanner(qc)
        self._multi_columns: dict[int, Any] = {}  # id of a multiple-assignment subquery -> its columns
        # privileges (executor.privileges): the statement's target (oid, role that needs them:
        # a view's owner for its base table), the entries whose column reads need SELECT on it,
        # and whether a partition is being planned (PostgreSQL checks only the table named)
        self._target: tuple[int, int] | None = None
        self._target_as = 0
        self._target_entries: list[RangeEntry] = []
        self._target_reads = False
        self._in_partitions = False
        self._views: list[tuple[int, int]] = []  # (oid, role) of views the target is reached through
        self._view_checks: list[tuple[str, Any]] = []  # (view, condition): WITH CHECK OPTIONs (planner.views)
        self._rls_parent: Table | None = None  # the partitioned table whose partitions are being planned
        # the target's columns an INSERT fills, an UPDATE sets, an ON CONFLICT arbiter reads
        self._inserted: set[int] = set()
        self._updated: set[int] = set()
        self._arbiter_columns: set[int] = set()

    def _table(self, relation: dict[str, Any]) -> Table:
        name = relation["relname"]
        schema = relation.get("schemaname")
        rel = self.qc.catalog.relation(name, schema)
        pos = self.qc.position(relation.get("location"))
        if rel is None:
            raise UndefinedTable(f'relation "{name}" does not exist', position=pos)
        if not isinstance(rel, Table):
            raise WrongObjectType(f'cannot change relation "{name}"', position=pos)
        if rel.kind == "m":
            raise WrongObjectType(f'cannot change materialized view "{name}"', position=pos)
        if self._target is None and not self._in_partitions:
            self._target = (rel.oid, self._target_as)
            if not self._target_as:  # (a view's owner needed USAGE to create the view)
                self.qc.require_usage(rel.schema_oid, name, schema is not None)
        return rel

    def plan_statement(self, kind: str, body: dict[str, Any]) -> Planned:
        """INSERT / UPDATE / DELETE (`kind`: InsertStmt, ...), with the privileges its target needs."""
        planned = {"InsertStmt": self.plan_insert, "UpdateStmt": self.plan_update,
                   "DeleteStmt": self.plan_delete}[kind](body)
        on_conflict_update = body.get("onConflictClause", {}).get("action") == "ONCONFLICT_UPDATE"
        self.require_target(_LETTERS[kind] + ("w" if on_conflict_update else ""))
        return planned

    def _partition_checks(self, table: Table, command: str, returning: bool) -> Any:
        """`part -> TableChecks` for rows a statement on partitioned `table` writes into its
        partitions: with `table`'s row security policies for `command` when it has them."""
        if not (table.row_security and table.kind == "p"):
            return self.table_checks

        def checks_for(part: Table) -> TableChecks:
            inside, self._in_partitions, self._rls_parent = self._in_partitions, True, table
            try:
                return self._policy_checks(part, command, returning)
            finally:
                self._in_partitions = inside
        return checks_for

    def _conflict_policies(self, table: Table, conflict: OnConflict, returning: bool) -> OnConflict:
        """ON CONFLICT DO UPDATE under row security: the existing row must pass the UPDATE and
        SELECT policies' USING, the updated row the UPDATE policies' WITH CHECK (PostgreSQL's
        WCO_RLS_CONFLICT_CHECK and WCO_RLS_UPDATE_CHECK)."""
        from dataclasses import replace

        from pgaurora.planner.rowsecurity import row_check, row_filter

        governing = self._policy_table(table)
        assert governing is not None
        with self.qc.checking_as(self._target_as):
            existing = row_filter(self.qc, governing, "wr", self.select._subquery, table)
            updated = row_check(self.qc, governing, "w", returning, self.select._subquery, table)
        return replace(conflict, existing_check=existing, update_check=updated, policy_table=governing.name)

    def _policy_table(self, table: Table) -> Table | None:
        """Whose row security policies govern `table`'s rows here: its own, or while a
        partitioned table's partitions are planned, the partitioned table's (None: none)."""
        owner = self._rls_parent if self._in_partitions else table
        return owner if owner is not None and owner.row_security else None

    def _policy_checks(self, table: Table, command: str, returning: bool) -> TableChecks:
        """The table's checks, with its row security policies' WITH CHECK for `command` first and
        the check options of the views written through last."""
        checks = self.table_checks(table)
        if self._view_checks:
            from dataclasses import replace

            scope = Scope(self.qc.state)
            scope.add(table_entry(table))
            lv = Level(scope, self.qc.params, lambda loc: None, self.select._subquery, None, "check options")
            checks = replace(checks, checks=(*checks.checks, *(
                CheckSpec(name, resolve.to_boolean(bind(cond, lv), "WHERE", self.qc.params, None), view=True)
                for name, cond in self._view_checks)))
        governing = self._policy_table(table)
        if governing is None:
            return checks
        from dataclasses import replace

        from pgaurora.planner.rowsecurity import row_check

        with self.qc.checking_as(self._target_as):
            expr = row_check(self.qc, governing, command, returning, self.select._subquery, table)
        if expr is None:
            return checks
        return replace(checks, checks=(CheckSpec(governing.name, expr, policy=True), *checks.checks))

    def _policy_filter(self, table: Table, command: str) -> Expr | None:
        """The USING the target's rows must pass (and the SELECT policies' when the statement
        reads the target's columns)."""
        governing = self._policy_table(table)
        if governing is None:
            return None
        from pgaurora.planner.rowsecurity import row_filter

        reads = any(e.read for e in self._target_entries)
        with self.qc.checking_as(self._target_as):
            return row_filter(self.qc, governing, command + ("r" if reads else ""), self.select._subquery, table)

    def target_entry(self, table: Table, alias: str | None = None) -> RangeEntry:
        """The target's FROM entry: the statement's reads of its columns need SELECT on it."""
        entry = table_entry(table, alias)
        self._target_entries.append(entry)
        return entry

    def require_target(self, letters: str) -> None:
        """After planning: the target needs `letters` (and SELECT if the statement read one of
        its columns), checked before any other relation, as PostgreSQL's range table orders them."""
        if self._target is None:
            return
        oid, as_role = self._target
        if self._target_reads or any(e.read for e in self._target_entries):
            letters += "r"
            for view in self._views:  # a view's columns read through it: SELECT on the view too
                self.qc.permissions[view] += "" if "r" in self.qc.permissions[view] else "r"
            self.qc.uses_columns(self._target, "r", self._arbiter_columns.union(
                *(e.read_cols for e in self._target_entries)))
        self.qc.uses_columns(self._target, "a", self._inserted)
        self.qc.uses_columns(self._target, "w", self._updated)
        rest = dict(self.qc.permissions)
        self.qc.permissions.clear()
        self.qc.permissions[(oid, as_role)] = letters
        for key, held in rest.items():
            if key == (oid, as_role):
                self.qc.permissions[key] = letters + "".join(c for c in held if c not in letters)
            else:
                self.qc.permissions[key] = held

    def _relation_columns(self, relation: dict[str, Any]) -> list[str]:
        """The column names of a view's base relation (a table's live columns, a view's own)."""
        rel = self.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
        if isinstance(rel, View):
            return list(rel.column_names)
        if isinstance(rel, Table):
            return [c.name for c in rel.columns if not c.dropped]
        return []

    def _through_views(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """DML on a simple view becomes DML on its base table (planner.views)."""
        for _ in range(16):
            relation = body["relation"]
            rel = self.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
            if not isinstance(rel, View):
                return body
            if self._target is None and not self._in_partitions:  # the view, as the user; its table as its owner
                with self.qc.checking_as(self._target_as):
                    if not self._target_as:
                        self.qc.require_usage(rel.schema_oid, relation["relname"],
                                              relation.get("schemaname") is not None)
                    self.qc.require(rel.oid, _LETTERS[kind])
                self._views.append((rel.oid, self._target_as))
                self._target_as = rel.owner
            body = views.rewrite(kind, body, rel, self._relation_columns)
            self._view_checks = list(body.get("_view_checks", ()))
        return body

    # ---- constraints ------------------------------------------------------------------------------
    def table_checks(self, table: Table) -> TableChecks:
        cat = self.qc.catalog
        scope = Scope(self.qc.state)
        scope.add(table_entry(table))
        lv = Level(scope, self.qc.params, lambda loc: None, self.select._subquery, None, "check constraints")
        checks = []
        fks = []
        positions = {c.attnum: i for i, c in enumerate(table.columns)}
        from pgaurora.executor.foreignkeys import foreign_keys_of, referencing_of

        for con in [c for c in table.constraints if c.kind != "f"] + foreign_keys_of(cat, table):
            if con.kind == "c" and con.check:
                checks.append(CheckSpec(con.name, bind(parse_expression(con.check), lv)))
            elif con.kind == "f":
                ref = cat.table(con.ref_table)
                if ref is None:
                    continue
                index_oid = 0
                for ix in cat.indexes(ref.oid):
                    if ix.unique and ix.predicate is None and set(ix.columns) == set(con.ref_columns) \
                            and (not index_oid or tuple(ix.columns) == tuple(con.ref_columns)):
                        index_oid = ix.oid  # the same columns in another order: the key is reordered
                fks.append(ForeignKeySpec(con.name, tuple(positions[a] for a in con.columns), ref.oid, ref.name,
                                          index_oid, tuple(table.columns[positions[a]].name for a in con.columns),
                                          con.oid, con.deferrable, con.deferred, con.match_full))
        referenced = []
        for other, ref_con in referencing_of(cat, table):
            con = ref_con
            other_pos = {c.attnum: i for i, c in enumerate(other.columns)}
            referenced.append(ReferencedBySpec(
                con.name, other.oid, other.name, tuple(other_pos[a] for a in con.columns),  # type: ignore[attr-defined]
                tuple(positions[a] for a in con.ref_columns), con.on_delete,  # type: ignore[attr-defined]
                tuple(table.columns[positions[a]].name for a in con.ref_columns),  # type: ignore[attr-defined]
                con.on_update, con.oid, con.deferrable, con.deferred))  # type: ignore[attr-defined]
        if any(c.domain for c in table.columns):
            from pgaurora.planner.domains import column_checks

            checks = [*column_checks(cat, table.columns, lambda: lv), *checks]
        return TableChecks(table.oid, table.name, tuple(c.name for c in table.columns),
                           tuple(c.type_oid for c in table.columns),
                           tuple(i for i, c in enumerate(table.columns) if c.not_null and not c.dropped),
                           tuple(checks), tuple(fks), tuple(referenced), key_specs(cat, table),
                           partition.bound_check(cat, table),
                           tuple(i for i, c in enumerate(table.columns) if c.dropped))

    def default_expr(self, table: Table, index: int) -> Expr:
        col = table.columns[index]
        text = col.default
        if text is None and col.domain and col.generated is None:  # the column's domain's DEFAULT
            domain = self.qc.catalog.domain(col.domain)
            text = domain.default if domain is not None else None
        if text is None:  # generated columns too: computed over the row by with_generated
            return Const(None, col.type_oid, col.typmod)
        lv = Level(Scope(self.qc.state), self.qc.params, lambda loc: None, self.select._subquery, None, "DEFAULT expressions")
        expr = bind(parse_expression(text), lv)
        return coerce(expr, col.type_oid, col.typmod, "assignment", self.qc.params)

    # ---- RETURNING --------------------------------------------------------------------------------
    def _returning(self, items: list[dict[str, Any]], scope: Scope) -> tuple[tuple[Expr, ...], list[ResultColumn]]:
        lv = Level(scope, self.qc.params, self.qc.position, self.select._subquery, None, "RETURNING")
        exprs: list[Expr] = []
        cols: list[ResultColumn] = []
        for item in items:
            rt = item["ResTarget"]
            val = rt["val"]
            if "ColumnRef" in val and "A_Star" in val["ColumnRef"]["fields"][-1]:
                fields = val["ColumnRef"]["fields"]
                table = names_of(fields)[-1] if len(fields) > 1 else None
                for expr, name, entry, idx in scope.star(table, None):
                    if entry.hidden:
                        continue
                    exprs.append(expr)
                    cols.append(ResultColumn(name, expr.type_oid, expr.typmod, entry.table_oid,
                                             entry.attnums[idx] if entry.attnums else 0))
                continue
            expr = resolve.finalize_unknown(bind(val, lv), self.qc.params)
            exprs.append(expr)
            cols.append(self.select._result_column(rt, val, expr, scope))
        return tuple(exprs), cols

    # ---- INSERT -----------------------------------------------------------------------------------
    def plan_insert(self, body: dict[str, Any]) -> Planned:
        if (view := instead_of_target(self, "InsertStmt", body)) is not None and self._target is None:
            return plan_instead_of(self, "InsertStmt", body, view)
        body = self._through_views("InsertStmt", body)
        table = self._table(body["relation"])
        alias = body["relation"].get("alias", {}).get("aliasname")
        width = len(table.columns)
        live = [i for i, c in enumerate(table.columns) if not c.dropped]
        if "cols" in body:
            targets = []
            for item in body["cols"]:
                rt = item["ResTarget"]
                name = rt["name"]
                idx = next((i for i in live if table.columns[i].name == name), None)
                if idx is None:
                    raise UndefinedColumn(f'column "{name}" of relation "{table.name}" does not exist',
                                          position=self.qc.position(rt.get("location")))
                if idx in targets:
                    raise DuplicateColumn(f'column "{name}" specified more than once',
                                          position=self.qc.position(rt.get("location")))
                if "indirection" in rt:
                    raise FeatureNotSupported("INSERT into array elements or fields is not supported")
                targets.append(idx)
        else:
            targets = list(live)
        overriding = body.get("override") == "OVERRIDING_SYSTEM_VALUE"
        # OVERRIDING USER VALUE: values given for identity columns are ignored (their sequences' are used)
        user_value = body.get("override") == "OVERRIDING_USER_VALUE"
        sel = body.get("selectStmt", {}).get("SelectStmt")
        plain_values = sel is not None and "valuesLists" in sel and sel.get("op", "SETOP_NONE") == "SETOP_NONE" \
            and "sortClause" not in sel and "limitCount" not in sel and "withClause" not in sel
        for i in targets:
            col = table.columns[i]
            if col.identity == "a" and not overriding and not user_value and "selectStmt" in body \
                    and not plain_values:
                raise GeneratedAlways(f'cannot insert a non-DEFAULT value into column "{col.name}"',
                                      detail=f'Column "{col.name}" is an identity column defined as GENERATED ALWAYS.',
                                      hint="Use OVERRIDING SYSTEM VALUE to override.")
            if col.generated is not None and sel is not None and not plain_values:
                raise _generated_insert(col.name)
        defaults = {i: self.default_expr(table, i) for i in range(width) if i not in targets}
        source: PlanNode
        if sel is None:
            # DEFAULT VALUES: every column takes its default
            source = ValuesScan((tuple(defaults[i] if i in defaults else self.default_expr(table, i)
                                       for i in range(width)),), width)
        elif plain_values:
            rows = []
            # a single VALUES row may call set-returning functions (PostgreSQL's EXPR_KIND_VALUES_SINGLE)
            lv = Level(Scope(self.qc.state), self.qc.params, self.qc.position, self.select._subquery, None, "VALUES",
                       srf_clause="" if len(sel["valuesLists"]) == 1 else None)
            for item in sel["valuesLists"]:
                values = item["List"]["items"]
                if len(values) > len(targets):
                    raise SyntaxError_("INSERT has more expressions than target columns",
                                       position=self.qc.position(next(iter(values[len(targets)].values())).get("location")))
                if len(values) < len(targets) and "cols" not in body:
                    for i in targets[len(values):]:
                        defaults[i] = self.default_expr(table, i)
                    targets = targets[:len(values)]
                if len(values) < len(targets):
                    raise SyntaxError_("INSERT has more target columns than expressions",
                                       position=self.qc.position(body["cols"][len(values)]["ResTarget"].get("location"))
                                       if "cols" in body else None)
                row: list[Expr] = [Const(None, 0)] * width
                for i, e in defaults.items():
                    row[i] = e
                for idx, v in zip(targets, values, strict=True):
                    col = table.columns[idx]
                    if "SetToDefault" in v or (user_value and col.identity):
                        row[idx] = self.default_expr(table, idx)
                        continue
                    if col.identity == "a" and not overriding:
                        raise GeneratedAlways(f'cannot insert a non-DEFAULT value into column "{col.name}"',
                                              detail=f'Column "{col.name}" is an identity column defined as GENERATED ALWAYS.',
                                              hint="Use OVERRIDING SYSTEM VALUE to override.")
                    if col.generated is not None:
                        raise _generated_insert(col.name)
                    expr = bind(v, lv)
                    pos = self.qc.position(next(iter(v.values())).get("location"))
                    row[idx] = coerce(expr, col.type_oid, col.typmod, "assignment", self.qc.params, pos, col.name)
                rows.append(tuple(row))
            source = ValuesScan(tuple(rows), width)
            if len(rows) == 1 and any(srf.contains_srf(e) for e in rows[0]):
                source = srf.project_targets(ValuesScan(((),), 0), rows[0])
        else:
            planned = self.select.plan_select(sel, Scope(self.qc.state))
            if len(planned.columns) > len(targets):
                raise SyntaxError_("INSERT has more expressions than target columns")
            if len(planned.columns) < len(targets) and "cols" not in body:
                for i in targets[len(planned.columns):]:
                    defaults[i] = self.default_expr(table, i)
                targets = targets[:len(planned.columns)]
            if len(planned.columns) < len(targets):
                raise SyntaxError_("INSERT has more target columns than expressions")
            exprs: list[Expr] = [Const(None, 0)] * width
            for i, e in defaults.items():
                exprs[i] = e
            unknown = _unknown_literals(sel)
            for k, idx in enumerate(targets):
                col = table.columns[idx]
                rc = planned.columns[k]
                # a string literal or NULL in a simple SELECT's list takes the column's type, as an
                # unknown-typed constant does in PostgreSQL (it was typed text to be planned)
                how = "explicit" if k in unknown and rc.type_oid == TEXT_OID else "assignment"
                exprs[idx] = coerce(Var(k, rc.type_oid, rc.typmod), col.type_oid, col.typmod, how,
                                    self.qc.params, _item_position(self.qc, sel, k), col.name)
                if user_value and col.identity:
                    exprs[idx] = self.default_expr(table, idx)
            source = Project(planned.node, tuple(exprs), width)
        if sel is not None and not self._in_partitions:
            self._inserted.update(table.columns[i].attnum for i in targets)
        source = with_generated(self.qc, table.name, table.columns, source)
        scope = Scope(self.qc.state)
        scope.add(self.target_entry(table, alias))
        if self.qc.system_columns:
            from pgaurora.planner.syscolumns import add_system_columns, updated_system_columns

            add_system_columns(scope.entries[-1])
        returning, columns = (self._returning(body["returningList"], scope) if "returningList" in body else (None, []))
        if returning and self.qc.system_columns:
            returning = tuple(updated_system_columns(e, table, width, inserted=True) for e in returning)
        on_conflict = None
        if "onConflictClause" in body:
            on_conflict = self._on_conflict(body["onConflictClause"], table, alias)
        if on_conflict is not None and on_conflict.set_exprs is not None and self._policy_table(table) is not None:
            on_conflict = self._conflict_policies(table, on_conflict, bool(returning))
        node = Insert(table.oid, source, self._policy_checks(table, "a", bool(returning)), returning,
                      len(returning) if returning else 0, on_conflict)
        return Planned(partition.route_insert(self.qc.catalog, table, node,
                                              self._partition_checks(table, "a", bool(returning))), columns)

    def _over_partitions(self, table: Table, body: dict[str, Any], plan_one: Any) -> Planned | None:
        """UPDATE / DELETE of a partitioned table: one statement per partition (planner.partition)."""
        if table.kind != "p" or not self.qc.catalog.partitions(table.oid):
            return None
        key_names = {c.name for c in table.columns if c.attnum in table.partition_key}
        moves = any(t["ResTarget"].get("name") in key_names for t in body.get("targetList", ()))
        from pgaurora.planner import rules

        inside, self._in_partitions = self._in_partitions, True
        self._rls_parent = table
        try:
            parts = [plan_one(b) for b in partition.partition_bodies(self.qc.catalog, table, body)]
        finally:
            self._in_partitions = inside
        planned: list[PlanNode] = []
        for part, p in zip(self.qc.catalog.partitions(table.oid), parts, strict=True):
            if moves:
                planned.extend(partition.row_movement(self.qc.catalog, table, part, p.node,
                                                      self._partition_checks(table, "w", False)))
            else:
                planned.append(p.node)
        nodes = tuple(rules.optimize(n, self.qc.catalog, self.qc.state.new_slot) for n in planned)
        return Planned(MultiModify(nodes, nodes[0].width), parts[0].columns)

    def _on_conflict(self, clause: dict[str, Any], table: Table, alias: str | None) -> OnConflict:
        arbiters: tuple[int, ...] = ()
        infer = clause.get("infer")
        if infer is not None:
            self._target_reads = True  # the arbiter's columns are read (SELECT on them)
            if "conname" in infer:
                name = infer["conname"]
                con = next((c for c in table.constraints if c.name == name), None)
                if con is None:
                    raise UndefinedColumn(f'constraint "{name}" for table "{table.name}" does not exist',
                                          sqlstate="42704")
                arbiters = (con.index_oid,)
            else:
                arbiters = self._arbiters(infer, table)
                if not arbiters:
                    raise InvalidColumnReference(
                        "there is no unique or exclusion constraint matching the ON CONFLICT specification")
        deferrable = {c.index_oid: c for c in table.constraints if c.kind in ("p", "u") and c.deferrable}
        for index_oid in arbiters or [ix.oid for ix in self.qc.catalog.indexes(table.oid) if ix.unique]:
            if index_oid in deferrable:
                raise ObjectNotInPrerequisiteState(
                    "ON CONFLICT does not support deferrable unique constraints/exclusion constraints as arbiters",
                    table=table.name, constraint=deferrable[index_oid].name)
        for index_oid in arbiters:  # the arbiter's columns are read
            index = self.qc.catalog.by_oid.get(index_oid)
            self._arbiter_columns.update(a for a in getattr(index, "columns", ()) if a > 0)
        if clause["action"] == "ONCONFLICT_NOTHING":
            return OnConflict(arbiters)
        if infer is None:
            raise SyntaxError_("ON CONFLICT DO UPDATE requires inference specification or constraint name",
                               hint="For example, ON CONFLICT (column_name).")
        scope = Scope(self.qc.state)
        scope.add(self.target_entry(table, alias))
        excluded = table_entry(table, "excluded")
        excluded.table_oid = 0
        scope.add(excluded)
        lv = Level(scope, self.qc.params, self.qc.position, self.select._subquery, None, "UPDATE")
        new_row: list[Expr] = [Var(i, c.type_oid, c.typmod) for i, c in enumerate(table.columns)]
        self._assignments(clause.get("targetList", ()), table, lv, new_row)
        substitute_generated(self.qc, table.name, table.columns, new_row)
        where = None
        if "whereClause" in clause:
            where = resolve.to_boolean(bind(clause["whereClause"], lv), "WHERE", self.qc.params, None)
        return OnConflict(arbiters, tuple(new_row), where)

    def _arbiters(self, infer: dict[str, Any], table: Table) -> tuple[int, ...]:
        """ON CONFLICT (columns or expressions) [WHERE predicate]: the unique indexes whose keys are
        exactly those (in any order) and whose predicate, if any, the WHERE implies."""
        scope = Scope(self.qc.state)
        scope.add(table_entry(table))
        lv = Level(scope, self.qc.params, self.qc.position, self.select._subquery, None, "index expressions")
        wanted: list[Expr] = []
        for e in infer.get("indexElems", ()):
            elem = e["IndexElem"]
            if "name" in elem:
                idx = next((i for i, c in enumerate(table.columns) if c.name == elem["name"] and not c.dropped), None)
                if idx is None:
                    raise UndefinedColumn(f'column "{elem["name"]}" does not exist')
                col = table.columns[idx]
                wanted.append(Var(idx, col.type_oid, col.typmod))
            else:
                wanted.append(bind(elem["expr"], lv))
        where = conjuncts(bind(infer["whereClause"], lv)) if "whereClause" in infer else []
        found = []
        for ix in self.qc.catalog.indexes(table.oid):
            if not ix.unique:
                continue
            spec = index_key_spec(self.qc.catalog, table, ix)
            positions = {c.attnum: i for i, c in enumerate(table.columns)}
            keys = list(spec.keys) if spec is not None else [
                Var(positions[a], table.columns[positions[a]].type_oid, table.columns[positions[a]].typmod)
                for a in ix.columns]
            if len(keys) == len(wanted) and all(any(k == w for w in wanted) for k in keys) \
                    and predicate_implied(spec.predicate if spec is not None else None, where):
                found.append(ix.oid)
        return tuple(found)

    def _assignments(self, items: list[dict[str, Any]] | tuple[()], table: Table, lv: Level, new_row: list[Expr]) -> None:
        assigned: set[Any] = set()
        subqueries: dict[int, SubPlanExpr] = {}
        for item in items:
            rt = item["ResTarget"]
            name = rt["name"]
            # (several parts of one column may be assigned: SET a[1] = x, a[2] = y)
            key = name if not rt.get("indirection") else (name, "part")
            if name in assigned or (key == name and (name, "part") in assigned):
                raise SyntaxError_(f'multiple assignments to same column "{name}"')
            assigned.add(key)
            idx = next((i for i, c in enumerate(table.columns) if c.name == name and not c.dropped), None)
            pos = self.qc.position(rt.get("location"))
            if idx is None:
                raise UndefinedColumn(f'column "{name}" of relation "{table.name}" does not exist', position=pos)
            col = table.columns[idx]
            if not self._in_partitions:
                self._updated.add(col.attnum)
            val = rt["val"]
            if "SetToDefault" in val:
                new_row[idx] = self.default_expr(table, idx)
                continue
            if col.identity == "a":
                raise GeneratedAlways(f'column "{col.name}" can only be updated to DEFAULT',
                                      detail=f'Column "{col.name}" is an identity column defined as GENERATED ALWAYS.')
            if col.generated is not None:
                raise GeneratedAlways(f'column "{col.name}" can only be updated to DEFAULT',
                                      detail=f'Column "{col.name}" is a generated column.')
            if "MultiAssignRef" in val:
                mar = val["MultiAssignRef"]
                source = mar["source"]
                if "SubLink" in source:
                    expr = self._multi_assign_column(source["SubLink"], mar, lv, subqueries)
                    new_row[idx] = coerce(expr, col.type_oid, col.typmod, "assignment", self.qc.params,
                                          self.qc.position(rt.get("location")), col.name)
                    continue
                if "RowExpr" not in source:
                    raise FeatureNotSupported("multiple-column UPDATE from this source is not supported")
                if len(source["RowExpr"].get("args", ())) != mar["ncolumns"]:
                    raise SyntaxError_("number of columns does not match number of values",
                                       position=self.qc.position(source["RowExpr"].get("location")))
                val = source["RowExpr"]["args"][mar["colno"] - 1]
            expr = bind(val, lv)
            if rt.get("indirection"):  # SET a[i] = v, SET p.x = v: the column's value with that part changed
                new_row[idx] = _assign_part(new_row[idx], col, rt["indirection"], expr, lv, self.qc.params, pos)
                continue
            new_row[idx] = coerce(expr, col.type_oid, col.typmod, "assignment", self.qc.params,
                                  self.qc.position(next(iter(val.values())).get("location")), col.name)

    def _multi_assign_column(self, sublink: dict[str, Any], mar: dict[str, Any], lv: Level,
                             subqueries: dict[int, SubPlanExpr]) -> Expr:
        """Column `colno` of UPDATE SET (a, b) = (SELECT x, y ...): a field of one row-valued subquery.

        The subquery is planned once per statement; it yields its row as one record, and each target
        column takes its field (all NULL when the subquery finds no row, 21000 for more than one).
        """
        key = int(sublink.get("location", 0))
        sub_expr = subqueries.get(key)
        pos = self.qc.position(sublink.get("location"))
        if sub_expr is None:
            if sublink["subLinkType"] != "EXPR_SUBLINK":
                raise SyntaxError_("source for a multiple-column UPDATE item must be a sub-SELECT or ROW() expression",
                                   position=pos)
            sub_scope = Scope(lv.scope.state, lv.scope)
            sub = self.select._subquery(sublink["subselect"], sub_scope)
            if len(sub.columns) != mar["ncolumns"]:
                raise SyntaxError_("number of columns does not match number of values", position=pos)
            as_record = Project(sub.node, (RowExpr(tuple(Var(i, c.type_oid, c.typmod)
                                                         for i, c in enumerate(sub.columns))),), 1)
            sub_expr = SubPlanExpr(SubLinkKind.EXPR, as_record, tuple(slot for slot, _ in sub_scope.outer_refs),
                                   tuple(e for _, e in sub_scope.outer_refs), None, None, RowExpr((),).type_oid)
            subqueries[key] = sub_expr
            self._multi_columns[id(sub_expr)] = sub.columns
        column = self._multi_columns[id(sub_expr)][mar["colno"] - 1]
        k = mar["colno"] - 1
        return FuncExpr("record_field", lambda record: record[k], (sub_expr,), column.type_oid, column.typmod)

    # ---- UPDATE / DELETE --------------------------------------------------------------------------
    def _source(self, body: dict[str, Any], table: Table, from_key: str) -> tuple[Scope, PlanNode, Expr | None, bool]:
        alias = body["relation"].get("alias", {}).get("aliasname")
        scope = Scope(self.qc.state)
        width = len(table.columns)
        node: PlanNode
        if self.qc.system_columns:
            # the table row, its tid, then its system columns (as the FROM list's first columns)
            from pgaurora.planner.syscolumns import target_system_columns

            entry, node = target_system_columns(self.target_entry(table, alias), table)
            scope.add(entry)
        else:
            scope.add(self.target_entry(table, alias))
            scope.add(RangeEntry("", ["ctid"], [(27, -1)], hidden=True))
            node = SeqScan(table.oid, table.name, width + 1, None, True)  # + the tid column
        has_from = bool(body.get(from_key))
        if has_from:
            from_node, from_quals = self.select._from(body[from_key], scope)
            from pgaurora.executor.plannodes import Filter, JoinType, NestLoop

            node = NestLoop(JoinType.INNER, node, from_node, None, node.width + from_node.width)
            if from_quals:
                node = Filter(node, and_all(from_quals) or Const(True, 16), node.width)
        where = None
        if "whereClause" in body:
            lv = Level(scope, self.qc.params, self.qc.position, self.select._subquery, None, "WHERE")
            where = resolve.to_boolean(bind(body["whereClause"], lv), "WHERE", self.qc.params,
                                       self.qc.position(next(iter(body["whereClause"].values())).get("location")))
            from pgaurora.executor.plannodes import Filter

            node = Filter(node, where, node.width)
        # with system columns the executor's READ COMMITTED re-check re-runs the source (EvalPlanQual)
        # so that they are those of the newest version (WHERE xmin = ...)
        return scope, node, where, has_from or self.qc.system_columns

    def plan_update(self, body: dict[str, Any]) -> Planned:
        if (view := instead_of_target(self, "UpdateStmt", body)) is not None and self._target is None:
            return plan_instead_of(self, "UpdateStmt", body, view)
        body = self._through_views("UpdateStmt", body)
        table = self._table(body["relation"])
        if (over := self._over_partitions(table, body, self.plan_update)) is not None:
            return over
        scope, source, where, has_from = self._source(body, table, "fromClause")
        lv = Level(scope, self.qc.params, self.qc.position, self.select._subquery, None, "UPDATE")
        new_row: list[Expr] = [Var(i, c.type_oid, c.typmod) for i, c in enumerate(table.columns)]
        self._assignments(body["targetList"], table, lv, new_row)
        substitute_generated(self.qc, table.name, table.columns, new_row)
        returning, columns = (self._returning(body["returningList"], scope) if "returningList" in body else (None, []))
        if returning and self.qc.system_columns:
            from pgaurora.planner.syscolumns import updated_system_columns

            returning = tuple(updated_system_columns(e, table, len(table.columns) + 1) for e in returning)
        policy = self._policy_filter(table, "w")
        if policy is not None:
            source = Filter(source, policy, source.width)
            where = and_all([policy, *conjuncts(where)])
        node = Update(table.oid, source, len(table.columns), tuple(new_row), where if not has_from else None,
                      self._policy_checks(table, "w", bool(returning)), returning, len(returning) if returning else 0)
        return Planned(node, columns)

    def plan_delete(self, body: dict[str, Any]) -> Planned:
        if (view := instead_of_target(self, "DeleteStmt", body)) is not None and self._target is None:
            return plan_instead_of(self, "DeleteStmt", body, view)
        body = self._through_views("DeleteStmt", body)
        table = self._table(body["relation"])
        if (over := self._over_partitions(table, body, self.plan_delete)) is not None:
            return over
        scope, source, where, has_from = self._source(body, table, "usingClause")
        returning, columns = (self._returning(body["returningList"], scope) if "returningList" in body else (None, []))
        policy = self._policy_filter(table, "d")
        if policy is not None:
            source = Filter(source, policy, source.width)
            where = and_all([policy, *conjuncts(where)])
        node = Delete(table.oid, source, len(table.columns), where if not has_from else None,
                      self.table_checks(table), returning, len(returning) if returning else 0)
        return Planned(node, columns)


__all__ = ["ModifyPlanner", "parse_expression", "table_entry", "derive_name", "UNKNOWN_OID"]


def _assign_part(current: Expr, col: Any, indirection: list[dict[str, Any]], value: Expr, lv: Level,
                 params: Any, position: int | None) -> Expr:
    """UPDATE ... SET a[i][j] = v (an element of an array column; a one-dimensional array grows,
    NULLs filling the gap) or SET p.x = v (a field of a composite column): the new column value."""
    from pgaurora.datatypes import composites, typeinfo
    from pgaurora.datatypes.records import CompositeValue
    from pgaurora.errors import ArraySubscriptError

    if all("String" in step for step in indirection) and len(indirection) == 1 \
            and composites.attributes(col.type_oid) is not None:
        attributes = composites.attributes(col.type_oid) or ()
        name = indirection[0]["String"]["sval"]
        at = next((i for i, (n, _, _) in enumerate(attributes) if n == name), None)
        if at is None:
            raise UndefinedColumn(f'cannot assign to field "{name}" of column "{col.name}" because there is no such '
                                  f"column in data type {typeinfo.format_type(col.type_oid)}", position=position)
        field = coerce(value, attributes[at][1], attributes[at][2], "assignment", params, position)
        width = len(attributes)

        def set_field(record: Any, item: Any) -> Any:
            fields = list(record) if record is not None else [None] * width
            fields[at] = item
            return CompositeValue(fields)
        return FuncExpr("field_assign", set_field, (current, field), col.type_oid, strict=False)
    element = typeinfo.element_of(col.type_oid)
    if not element or not all("A_Indices" in step and not step["A_Indices"].get("is_slice") for step in indirection):
        raise FeatureNotSupported("assignment to this part of a column is not supported", position=position)
    subscripts = tuple(coerce(bind(step["A_Indices"]["uidx"], lv), typeinfo.INT4_OID, -1, "implicit", params, position)
                       for step in indirection)
    item = coerce(value, element, col.typmod, "assignment", params, position)

    def set_element(array: Any, item: Any, *at: Any) -> Any:
        if any(i is None for i in at):
            raise ArraySubscriptError("array subscript in assignment must not be null", sqlstate="22004")
        items = list(getattr(array, "elements", array) or [])
        if len(at) == 1:
            i = at[0]
            if i < 1 or (not items and i != 1):
                raise FeatureNotSupported("array elements below 1 or past a NULL array's first are not supported "
                                          "(pgaurora's arrays start at 1)")
            while len(items) < i:
                items.append(None)
            items[i - 1] = item
            return items
        level: Any = items
        for depth, i in enumerate(at):
            if not isinstance(level, list) or not 1 <= i <= len(level):
                raise ArraySubscriptError("array subscript out of range")
            if depth == len(at) - 1:
                level[i - 1] = item
            else:
                level[i - 1] = list(level[i - 1])
                level = level[i - 1]
        return items
    return FuncExpr("array_assign", set_element, (current, item, *subscripts), col.type_oid, strict=False)

