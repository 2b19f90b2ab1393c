"""Automatically updatable views: INSERT / UPDATE / DELETE on a simple view become the same
statement on its base table (PostgreSQL's rewriteTargetView).

Owns deciding whether a view is updatable (one table in FROM; no DISTINCT, GROUP BY, HAVING,
LIMIT, set operations, WITH or aggregates) and rewriting the statement's parse tree: the view's
columns are renamed to the base table's, and the view's WHERE clause is ANDed into the
statement's. Not the views themselves (catalog) and not planning the result (planner.modify).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from pglast import parser as pg_parser

from pgaurora.catalog.model import View
from pgaurora.errors import FeatureNotSupported, ObjectNotInPrerequisiteState

_GERUNDS = {"delete from": "deleting from", "insert into": "inserting into", "update": "updating"}


def _not_updatable(view: View, verb: str, detail: str) -> ObjectNotInPrerequisiteState:
    return ObjectNotInPrerequisiteState(
        f'cannot {verb} view "{view.name}"', detail=detail,
        hint=f"To enable {_GERUNDS.get(verb, verb + 'ing')} the view, provide an INSTEAD OF "
             f"{verb.split()[0].upper()} trigger or an unconditional ON {verb.split()[0].upper()} DO INSTEAD rule.")


def _rename_columns(node: Any, mapping: dict[str, str | None], view: View) -> Any:
    """A copy of `node` with column references to view columns renamed to base columns."""
    if isinstance(node, dict):
        if "ColumnRef" in node and len(node) == 1:
            fields = node["ColumnRef"]["fields"]
            names = [f["String"]["sval"] for f in fields if "String" in f]
            if names and names[-1] in mapping and (len(names) == 1 or names[-2] == view.name):
                base = mapping[names[-1]]
                if base is None:
                    raise FeatureNotSupported(f'column "{names[-1]}" of view "{view.name}" is not updatable')
                return {"ColumnRef": {**node["ColumnRef"], "fields": [{"String": {"sval": base}}]}}
            return node
        return {k: _rename_columns(v, mapping, view) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_columns(v, mapping, view) for v in node]
    return node


def _strip_qualifiers(node: Any) -> Any:
    if isinstance(node, dict):
        if "ColumnRef" in node and len(node) == 1:
            fields = node["ColumnRef"]["fields"]
            return {"ColumnRef": {**node["ColumnRef"], "fields": fields[-1:]}}
        return {k: _strip_qualifiers(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_strip_qualifiers(v) for v in node]
    return node


def not_updatable_reason(select: dict[str, Any]) -> str | None:
    """Why a view's SELECT (a SelectStmt body) is not automatically updatable, or None if it is."""
    for key, what in (("distinctClause", "DISTINCT"), ("groupClause", "GROUP BY"), ("havingClause", "HAVING"),
                      ("limitCount", "LIMIT or OFFSET"), ("limitOffset", "LIMIT or OFFSET"), ("withClause", "WITH")):
        if select.get(key):
            return f"Views containing {what} are not automatically updatable."
    if select.get("op", "SETOP_NONE") != "SETOP_NONE":
        return "Views containing UNION, INTERSECT, or EXCEPT are not automatically updatable."
    from_items = select.get("fromClause", ())
    if len(from_items) != 1 or "RangeVar" not in from_items[0]:
        return "Views that do not select from a single table or view are not automatically updatable."
    if '"FuncCall"' in json.dumps(select.get("targetList", ())) and any(
            "FuncCall" in t["ResTarget"]["val"] and t["ResTarget"]["val"]["FuncCall"].get("agg_star") is not None
            for t in select["targetList"]):
        return "Views that return aggregate functions are not automatically updatable."
    return None


def rewrite(kind: str, body: dict[str, Any], view: View,
            columns_of: Callable[[dict[str, Any]], list[str]] | None = None) -> dict[str, Any]:
    """The statement body (InsertStmt / UpdateStmt / DeleteStmt) rewritten onto the view's base
    table. The check options on the way ride along as `_view_checks` [(view name, condition over
    the base table's columns)], innermost view first, as PostgreSQL's WITH CHECK OPTIONs (a
    CASCADED one makes every view below it checked too: `_cascaded`)."""
    verb = {"InsertStmt": "insert into", "UpdateStmt": "update", "DeleteStmt": "delete from"}[kind]
    query = json.loads(pg_parser.parse_sql_json(view.query))["stmts"][0]["stmt"]
    select = query.get("SelectStmt", {})
    from_items = select.get("fromClause", ())
    reason = not_updatable_reason(select)
    if reason is not None:
        raise _not_updatable(view, verb, reason)
    base = from_items[0]["RangeVar"]
    mapping: dict[str, str | None] = {}
    bases: list[str | None] = []  # per view column: the base column it is, or None (an expression)
    for target in select.get("targetList", ()):
        val = target["ResTarget"]["val"]
        if "ColumnRef" in val and "A_Star" in val["ColumnRef"]["fields"][-1]:
            bases.extend(columns_of(base) if columns_of is not None else [])  # SELECT *: every base column
        elif "ColumnRef" in val and "String" in val["ColumnRef"]["fields"][-1]:
            bases.append(val["ColumnRef"]["fields"][-1]["String"]["sval"])
        else:
            bases.append(None)
    for name, base_column in zip(view.column_names, bases, strict=False):
        mapping[name] = base_column
    new = copy.deepcopy(body)
    alias = body["relation"].get("alias", {}).get("aliasname")
    relation = {k: v for k, v in base.items() if k != "alias"}
    relation["alias"] = {"aliasname": alias or view.name}
    relation["location"] = body["relation"].get("location", -1)
    for key in ("targetList", "whereClause", "returningList", "onConflictClause"):
        if key in new and not (kind == "UpdateStmt" and key == "targetList"):
            new[key] = _rename_columns(new[key], mapping, view)
    if kind == "UpdateStmt":
        for item in new["targetList"]:
            rt = item["ResTarget"]
            if rt["name"] in mapping:
                if mapping[rt["name"]] is None:
                    raise FeatureNotSupported(
                        f'cannot update column "{rt["name"]}" of view "{view.name}"',
                        detail="View columns that are not columns of their base relation are not updatable.")
                rt["name"] = mapping[rt["name"]]
            rt["val"] = _rename_columns(rt["val"], mapping, view)
    if kind == "InsertStmt":
        cols = [c["ResTarget"]["name"] for c in body.get("cols", ())] or list(view.column_names)
        new_cols = []
        for c in cols:
            target = mapping.get(c)
            if target is None:
                raise FeatureNotSupported(
                    f'cannot insert into column "{c}" of view "{view.name}"',
                    detail="View columns that are not columns of their base relation are not updatable.")
            new_cols.append({"ResTarget": {"name": target, "location": -1}})
        new["cols"] = new_cols
    new["relation"] = relation
    option = view.check_option
    cascaded = bool(body.get("_cascaded")) or option == "cascaded"
    checks = [(name, _rename_columns(cond, mapping, view)) for name, cond in body.get("_view_checks", ())]
    if (option or body.get("_cascaded")) and kind != "DeleteStmt" and select.get("whereClause") is not None:
        checks.insert(0, (view.name, _strip_qualifiers(select["whereClause"])))
    new["_view_checks"] = checks
    new["_cascaded"] = cascaded
    view_where = select.get("whereClause")
    if view_where is not None and kind != "InsertStmt":
        view_where = _strip_qualifiers(view_where)
        where = new.get("whereClause")
        new["whereClause"] = view_where if where is None else {
            "BoolExpr": {"boolop": "AND_EXPR", "args": [view_where, where], "location": -1}}
    return new
