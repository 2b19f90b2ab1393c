"""COPY planning for the session: COPY FROM as an Insert over external rows, COPY TO as a query.

Owns `plan_copy(stmt, catalog, txn) -> CopyPlan`: the direction, the options (format, delimiter,
null string, header, quote, escape, freeze), the columns, and the Plan to run. COPY FROM reuses
the INSERT machinery, so defaults, NOT NULL, CHECK, UNIQUE and FOREIGN KEY hold for copied
rows; the session feeds the data rows through `ctx.extra["copy_batches"]` (an async iterator of
lists of field lists). Not the data framing (session) and not execution (executor).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pgaurora.catalog.model import Table
from pgaurora.errors import (
    FeatureNotSupported,
    InvalidColumnReference,
    SyntaxError_,
    UndefinedColumn,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.copy import ExternalRows
from pgaurora.executor.expr import Const, Expr, Var
from pgaurora.executor.modify import Insert
from pgaurora.executor.plannodes import Filter, Plan, Project, ResultColumn
from pgaurora.planner.generated import with_generated
from pgaurora.planner.modify import ModifyPlanner
from pgaurora.planner.parse import ParsedStatement
from pgaurora.planner.partition import route_insert
from pgaurora.planner.planner import catalog_state, plan
from pgaurora.planner.querycontext import QueryContext
from pgaurora.planner.resolve import ParamTypes
from pgaurora.planner.scope import StatementState


@dataclass(frozen=True, slots=True)
class CopyPlan:
    is_from: bool
    plan: Plan
    columns: tuple[ResultColumn, ...]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def format(self) -> str:
        return str(self.options.get("format", "text"))


def _options(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for o in body.get("options", ()):
        d = o["DefElem"]
        arg = d.get("arg")
        if arg is None:
            value: Any = True
        elif "String" in arg:
            value = arg["String"].get("sval", "")
        elif "Integer" in arg:
            value = arg["Integer"].get("ival", 0)
        elif "Boolean" in arg:
            value = arg["Boolean"].get("boolval", False)
        elif "List" in arg:
            value = [i["String"]["sval"] for i in arg["List"]["items"]]
        else:
            value = True
        if isinstance(value, str) and d["defname"] in ("header", "freeze") and value.lower() in (
                "true", "on", "1", "false", "off", "0"):
            value = value.lower() in ("true", "on", "1")
        out[d["defname"]] = value
    fmt = out.get("format", "text")
    if fmt not in ("text", "csv", "binary"):
        raise FeatureNotSupported(f'COPY format "{fmt}" not recognized', sqlstate="22023")
    if fmt == "binary":  # (ProcessCopyOptions' checks)
        if "delimiter" in out:
            raise SyntaxError_("cannot specify DELIMITER in BINARY mode")
        if "null" in out:
            raise SyntaxError_("cannot specify NULL in BINARY mode")
        if out.get("header") not in (None, False):
            raise FeatureNotSupported("cannot specify HEADER in BINARY mode")
    return out


def _copy_condition(qc: QueryContext, rel: Table, where: dict[str, Any]) -> Expr:
    from pgaurora.executor.expr import walk
    from pgaurora.planner.exprbind import Level, bind
    from pgaurora.planner.modify import table_entry
    from pgaurora.planner.resolve import to_boolean
    from pgaurora.planner.scope import Scope

    def no_subquery(node: Any, *_args: Any) -> Any:
        location = node.get("location") if isinstance(node, dict) else None
        raise FeatureNotSupported("cannot use subquery in COPY FROM WHERE condition", position=qc.position(location))

    scope = Scope(qc.state)
    scope.add(table_entry(rel))
    lv = Level(scope, qc.params, qc.position, no_subquery, None, "COPY FROM WHERE condition")
    condition = to_boolean(bind(where, lv), "WHERE", qc.params, None)
    for node in walk(condition):
        if isinstance(node, Var) and rel.columns[node.index].generated is not None:
            raise InvalidColumnReference("generated columns are not supported in COPY FROM WHERE conditions",
                                         detail=f'Column "{rel.columns[node.index].name}" is a generated column.')
    return condition


def plan_copy(stmt: ParsedStatement, catalog: Any, txn: Any = None,
              search_path: tuple[str, ...] | None = None, backend_pid: int | None = None,
              search_role: str | None = None) -> CopyPlan:
    body = stmt.tree
    options = _options(body)
    if backend_pid is None:
        backend_pid = int(getattr(txn, "pid", 0) or 0)
    state = catalog_state(catalog, txn).for_backend(backend_pid).with_search_path(search_path, search_role)
    if "query" in body:
        kind, inner = next(iter(body["query"].items()))
        if body.get("is_from"):
            raise FeatureNotSupported("COPY FROM a query is not supported")
        query_plan = replace(plan(ParsedStatement(kind, inner, stmt.text, stmt.offset, stmt.query), catalog, (), txn=txn,
                                  search_path=search_path, backend_pid=backend_pid, search_role=search_role),
                             command="COPY")
        return CopyPlan(False, query_plan, query_plan.columns or (), options)
    relation = body["relation"]
    rel = state.relation(relation["relname"], relation.get("schemaname"))
    if rel is None:
        raise UndefinedTable(f'relation "{relation["relname"]}" does not exist')
    if not isinstance(rel, Table):
        raise WrongObjectType(f'cannot copy from non-table relation "{relation["relname"]}"')
    live = [i for i, c in enumerate(rel.columns) if not c.dropped]
    names = [a["String"]["sval"] for a in body.get("attlist", ())]
    if names:
        targets = []
        for n in names:
            idx = next((i for i in live if rel.columns[i].name == n), None)
            if idx is None:
                raise UndefinedColumn(f'column "{n}" of relation "{rel.name}" does not exist')
            if rel.columns[idx].generated is not None:
                raise InvalidColumnReference(f'column "{n}" is a generated column',
                                             detail="Generated columns cannot be used in COPY.")
            targets.append(idx)
    else:
        targets = [i for i in live if rel.columns[i].generated is None]
    columns = tuple(ResultColumn(rel.columns[i].name, rel.columns[i].type_oid, rel.columns[i].typmod, rel.oid,
                                 rel.columns[i].attnum) for i in targets)
    if not body.get("is_from"):
        select = ParsedStatement("SelectStmt", {
            "targetList": [{"ResTarget": {"val": {"ColumnRef": {"fields": [{"String": {"sval": rel.columns[i].name}}]}}}}
                           for i in targets],
            "fromClause": [{"RangeVar": {"relname": rel.name, "inh": True,
                                         **({"schemaname": relation["schemaname"]} if relation.get("schemaname") else {})}}],
            "op": "SETOP_NONE"}, stmt.text, stmt.offset, stmt.query)
        return CopyPlan(False, replace(plan(select, catalog, (), txn=txn, search_path=search_path,
                                            backend_pid=backend_pid, search_role=search_role), command="COPY"),
                        columns, options)
    qc = QueryContext(state, ParamTypes(()), StatementState(state), stmt.char_position, lambda text: {})
    mp = ModifyPlanner(qc)
    width = len(rel.columns)
    exprs: list[Expr] = [Const(None, 0)] * width
    for i in range(width):
        if i not in targets:
            exprs[i] = mp.default_expr(rel, i)
    for k, i in enumerate(targets):
        col = rel.columns[i]
        exprs[i] = Var(k, col.type_oid, col.typmod)
    source = ExternalRows(tuple((rel.columns[i].type_oid, rel.columns[i].typmod) for i in targets), len(targets),
                          options.get("format") == "binary")
    rows = with_generated(qc, rel.name, rel.columns, Project(source, tuple(exprs), width))
    if "whereClause" in body:  # COPY FROM ... WHERE condition: only the rows it holds for go in
        rows = Filter(rows, _copy_condition(qc, rel, body["whereClause"]), width)
    checks = mp.table_checks(rel)
    if rel.row_security:  # refused as it runs when the table's policies apply to the role
        from pgaurora.executor.modify import CheckSpec
        from pgaurora.planner.rowsecurity import bind_policy_text

        refuse = bind_policy_text(qc, rel, f"pg_catalog._pg_rls_copy_from({rel.oid}::oid)", "POLICY", None)
        checks = replace(checks, checks=(CheckSpec("", refuse, policy=True), *checks.checks))
    node = route_insert(state, rel, Insert(rel.oid, rows, checks, None, 0), mp.table_checks)
    # USAGE on its schema, INSERT on the columns it fills
    inserted = tuple(rel.columns[i].attnum for i in targets)
    permissions = ((rel.schema_oid, "U", 0, "", ()), (rel.oid, "a", 0, "", (("a", inserted),)))
    return CopyPlan(True, Plan("COPY", node, None, (), state.version, qc.state.exec_params, stmt.text, permissions),
                    columns, options)
