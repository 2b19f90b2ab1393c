"""INSERT / UPDATE / DELETE on a view that has INSTEAD OF triggers for it: the rows to give them.

Owns planning such a statement as executor.triggers.InsteadOf over a query of the view: for
INSERT the new rows in the view's column layout (columns left out are NULL); for UPDATE each
matching view row followed by its new values (SET over the old row, FROM joined in); for DELETE
each matching row; RETURNING over the row the triggers leave. The triggers run instead of any
write (PostgreSQL's rewriter does the same, the view's own updatability aside). Not the firing
(executor.triggers) nor views without such triggers (planner.views).
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import View
from pgaurora.datatypes.typeinfo import TEXT_OID
from pgaurora.errors import FeatureNotSupported, SyntaxError_, UndefinedColumn
from pgaurora.executor.expr import Const, Expr, Var
from pgaurora.executor.plannodes import Project
from pgaurora.executor.triggers import InsteadOf
from pgaurora.planner.querycontext import Planned
from pgaurora.planner.resolve import coerce
from pgaurora.planner.scope import RangeEntry, Scope

_EVENTS = {"InsertStmt": "insert", "UpdateStmt": "update", "DeleteStmt": "delete"}
_LETTERS = {"insert": "a", "update": "w", "delete": "d"}


def instead_of_target(mp: Any, kind: str, body: dict[str, Any]) -> View | None:
    """The view a statement writes when it has INSTEAD OF triggers for the statement's event."""
    relation = body["relation"]
    rel = mp.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
    if not isinstance(rel, View):
        return None
    event = _EVENTS[kind]
    if any(t.timing == "instead" and event in t.events for t in mp.qc.catalog.triggers.get(rel.oid, ())):
        return rel
    return None


def _column(name: str, alias: str) -> dict[str, Any]:
    return {"ColumnRef": {"fields": [{"String": {"sval": alias}}, {"String": {"sval": name}}]}}


def plan_instead_of(mp: Any, kind: str, body: dict[str, Any], view: View) -> Planned:
    event = _EVENTS[kind]
    relation = body["relation"]
    alias = relation.get("alias", {}).get("aliasname", view.name)
    mp.qc.require_usage(view.schema_oid, relation["relname"], relation.get("schemaname") is not None)
    mp.qc.require(view.oid, _LETTERS[event])
    range_var = {"RangeVar": {k: v for k, v in relation.items() if k != "alias"} | {"alias": {"aliasname": alias}}}
    shape = mp.select.plan_select({"targetList": [{"ResTarget": {"val": {"ColumnRef": {"fields": [{"A_Star": {}}]}}}}],
                                   "fromClause": [range_var], "op": "SETOP_NONE"}, Scope(mp.qc.state))
    names = tuple(c.name for c in shape.columns)
    types = [(c.type_oid, c.typmod) for c in shape.columns]
    width = len(names)
    if event == "insert":
        source = _insert_rows(mp, body, view, names, types)
    else:
        targets = [{"ResTarget": {"val": _column(n, alias)}} for n in names]
        new_values: dict[str, Any] = {}
        if event == "update":
            for item in body.get("targetList", ()):
                rt = item["ResTarget"]
                if rt.get("indirection") or "MultiAssignRef" in rt.get("val", {}):
                    raise FeatureNotSupported("UPDATE of a view through INSTEAD OF triggers with multiple-column "
                                              "or subscripted assignments is not supported")
                if rt["name"] not in names:
                    raise UndefinedColumn(f'column "{rt["name"]}" of relation "{view.name}" does not exist',
                                          position=mp.qc.position(rt.get("location")))
                new_values[rt["name"]] = rt["val"]
            targets += [{"ResTarget": {"val": new_values.get(n, _column(n, alias))}} for n in names]
        select: dict[str, Any] = {"targetList": targets, "op": "SETOP_NONE",
                                  "fromClause": [range_var, *body.get("fromClause", body.get("usingClause", ()))]}
        if body.get("whereClause") is not None:
            select["whereClause"] = body["whereClause"]
        planned = mp.select.plan_select(select, Scope(mp.qc.state))
        exprs: list[Expr] = []
        for k, column in enumerate(planned.columns):
            oid, typmod = types[k % width]
            exprs.append(coerce(Var(k, column.type_oid, column.typmod), oid, typmod, "assignment", mp.qc.params,
                                None, names[k % width]))
        source = Project(planned.node, tuple(exprs), len(exprs))
    returning = None
    columns: list[Any] = []
    if "returningList" in body:
        scope = Scope(mp.qc.state)
        scope.add(RangeEntry(alias, list(names), types))
        returning, columns = mp._returning(body["returningList"], scope)
    node = InsteadOf(view.oid, event, source, names, tuple(t for t, _ in types), returning,
                     len(returning) if returning else 0)
    return Planned(node, columns)


def _insert_rows(mp: Any, body: dict[str, Any], view: View, names: tuple[str, ...],
                 types: list[tuple[int, int]]) -> Any:
    """INSERT's rows in the view's column layout: the listed columns given, the others NULL."""
    if "cols" in body:
        targets = []
        for item in body["cols"]:
            rt = item["ResTarget"]
            if rt["name"] not in names:
                raise UndefinedColumn(f'column "{rt["name"]}" of relation "{view.name}" does not exist',
                                      position=mp.qc.position(rt.get("location")))
            targets.append(names.index(rt["name"]))
    else:
        targets = list(range(len(names)))
    sel = body.get("selectStmt", {}).get("SelectStmt")
    if sel is None:  # DEFAULT VALUES
        return Project(_one_row(mp), tuple(Const(None, t, m) for t, m in types), len(names))
    planned = mp.select.plan_select(sel, Scope(mp.qc.state))
    if len(planned.columns) > len(targets):
        raise SyntaxError_("INSERT has more expressions than target columns")
    targets = targets[:len(planned.columns)]
    unknown = _unknown_columns(sel)
    exprs: list[Expr] = [Const(None, t, m) for t, m in types]
    for k, i in enumerate(targets):
        column = planned.columns[k]
        oid, typmod = types[i]
        how = "explicit" if k in unknown and column.type_oid == TEXT_OID else "assignment"
        exprs[i] = coerce(Var(k, column.type_oid, column.typmod), oid, typmod, how, mp.qc.params, None, names[i])
    return Project(planned.node, tuple(exprs), len(names))


def _unknown_columns(sel: dict[str, Any]) -> set[int]:
    """Positions holding only string literals and NULLs (unknown-typed constants: they take the
    column's type), in a VALUES list or a simple SELECT's list."""
    if "valuesLists" in sel:
        rows = [item["List"]["items"] for item in sel["valuesLists"]]
        width = len(rows[0]) if rows else 0
        return {k for k in range(width)
                if all(_unknown(row[k]) for row in rows if k < len(row))}
    from pgaurora.planner.modify import _unknown_literals

    return _unknown_literals(sel)


def _unknown(node: dict[str, Any]) -> bool:
    const = node.get("A_Const")
    return const is not None and ("sval" in const or bool(const.get("isnull")))


def _one_row(mp: Any) -> Any:
    from pgaurora.executor.plannodes import ValuesScan

    return ValuesScan(((),), 0)
