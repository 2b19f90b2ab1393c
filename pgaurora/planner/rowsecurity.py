"""Row security policies in plans, and their DDL's analysis (CREATE / ALTER / DROP POLICY,
ALTER TABLE ... ENABLE / DISABLE / FORCE / NO FORCE ROW LEVEL SECURITY).

Owns turning a table's policies into one boolean expression over its row that decides, as the
statement runs, for its role (catalog.system.rowsecurity's run-time tests), so that one plan
serves every role:

    CASE WHEN NOT _pg_rls_active(table, role) THEN true            -- owner, superuser, BYPASSRLS...
         ELSE ((_pg_rls_policy(p1, role) AND coalesce((using1), false)) OR ...)     -- permissive
              AND (NOT _pg_rls_policy(r1, role) OR coalesce((using_r1), false)) ... -- restrictive
    END

(no permissive policy that applies: no row). Reads (FROM, and an UPDATE / DELETE that reads the
target's columns) filter with the SELECT (and ALL) policies' USING; UPDATE and DELETE with their
own; INSERT and UPDATE check new rows against WITH CHECK (else USING) and fail with 42501. Not
whether they apply (catalog.rowsecurity) nor running the DDL (executor.policies).
"""

from __future__ import annotations

from typing import Any

from pglast import parser as pg_parser

from pgaurora.catalog.model import Policy, Table
from pgaurora.catalog.rowsecurity import policies_for
from pgaurora.datatypes.typeinfo import BOOL_OID
from pgaurora.errors import FeatureNotSupported, SyntaxError_, UndefinedTable, WrongObjectType
from pgaurora.executor.expr import Expr
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.policies import AlterPolicy, CreatePolicy, DropPolicy, SetRowSecurity
from pgaurora.planner import resolve
from pgaurora.planner.ddl import DdlPlanner, role_spec_name
from pgaurora.planner.exprbind import Level, bind
from pgaurora.planner.querycontext import QueryContext
from pgaurora.planner.scope import RangeEntry, Scope

_COMMANDS = {"all": "*", "select": "r", "insert": "a", "update": "w", "delete": "d"}


def _table_entry(table: Table) -> RangeEntry:
    return RangeEntry(table.name,
                      [c.name if not c.dropped else f"........pg.dropped.{c.attnum}........" for c in table.columns],
                      [(c.type_oid, c.typmod) for c in table.columns], table_oid=table.oid,
                      attnums=[c.attnum for c in table.columns])


def _expression(text: str) -> dict[str, Any]:
    import json

    tree = json.loads(pg_parser.parse_sql_json(f"SELECT {text}"))
    return tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]["val"]  # type: ignore[no-any-return]


def bind_policy_text(qc: QueryContext, table: Table, text: str, construct: str, subquery: Any) -> Expr:
    """A policy's expression (or the combined one) over `table`'s row at offset 0."""
    scope = Scope(qc.state)
    scope.add(_table_entry(table))
    lv = Level(scope, qc.params, lambda loc: None, subquery, None, construct)
    return resolve.to_boolean(bind(_expression(text), lv), construct, qc.params, None)


def _quals(policies: list[Policy], use_check: bool) -> list[tuple[Policy, str]]:
    out = []
    for p in policies:
        text = (p.check or p.using) if use_check else p.using
        out.append((p, text if text is not None else "false"))
    return out


def combined_text(table: Table, policies: list[Policy], use_check: bool, as_role: int) -> str:
    """The SQL of the module docstring's expression for these policies."""
    permissive = [f"(pg_catalog._pg_rls_policy({p.oid}::oid, {as_role}::oid) AND coalesce(({text}), false))"
                  for p, text in _quals([p for p in policies if p.permissive], use_check)]
    restrictive = [f"(NOT pg_catalog._pg_rls_policy({p.oid}::oid, {as_role}::oid) OR coalesce(({text}), false))"
                   for p, text in _quals([p for p in policies if not p.permissive], use_check)]
    body = "(" + (" OR ".join(permissive) if permissive else "false") + ")"
    if restrictive:
        body += " AND " + " AND ".join(restrictive)
    return f"CASE WHEN NOT pg_catalog._pg_rls_active({table.oid}::oid, {as_role}::oid) THEN true ELSE {body} END"


def row_filter(qc: QueryContext, table: Table, commands: str, subquery: Any, rows_of: Table | None = None) -> Expr | None:
    """The expression rows of `table` read by a statement must pass: for each command letter of
    `commands` ('r' reads, 'w' UPDATE, 'd' DELETE) its policies' USING, all of them (None: the
    table has no row security). `rows_of`: a partition of `table` whose rows they are."""
    if not table.row_security:
        return None
    parts = [combined_text(table, policies_for(qc.catalog, table.oid, c), False, qc.check_as) for c in commands]
    return bind_policy_text(qc, rows_of or table, " AND ".join(f"({p})" for p in parts), "POLICY USING", subquery)


def row_check(qc: QueryContext, table: Table, command: str, returning: bool, subquery: Any,
              rows_of: Table | None = None) -> Expr | None:
    """What a new row of an INSERT ('a') or UPDATE ('w') must pass: that command's policies'
    WITH CHECK (else USING), and with RETURNING the SELECT policies' USING too (`rows_of`: a
    partition of `table` that holds the row)."""
    if not table.row_security:
        return None
    parts = [combined_text(table, policies_for(qc.catalog, table.oid, command), True, qc.check_as)]
    if returning:
        parts.append(combined_text(table, policies_for(qc.catalog, table.oid, "r"), False, qc.check_as))
    return bind_policy_text(qc, rows_of or table, " AND ".join(f"({p})" for p in parts), "POLICY WITH CHECK",
                            subquery)


# ---- DDL --------------------------------------------------------------------------------------
def _policy_table(ddl: DdlPlanner, relation: dict[str, Any]) -> Table:
    name = relation["relname"]
    rel = ddl.qc.catalog.relation(name, relation.get("schemaname"))
    if rel is None:
        shown = f'{relation["schemaname"]}.{name}' if relation.get("schemaname") else name
        raise UndefinedTable(f'relation "{shown}" does not exist')
    if not isinstance(rel, Table) or rel.kind not in ("r", "p"):
        raise WrongObjectType(f'"{name}" is not a table')
    return rel


def _roles(body: dict[str, Any]) -> tuple[str | None, ...] | None:
    """TO roles as role_spec_name keeps them, "public" (unquoted PUBLIC) as None's stand-in."""
    specs = body.get("roles")
    if not specs:
        return None
    out: list[str | None] = []
    for spec in specs:
        role = spec.get("RoleSpec", spec)
        out.append("\0public" if role.get("roletype") == "ROLESPEC_PUBLIC" else role_spec_name(role))
    return tuple(out)


def _expr_text(ddl: DdlPlanner, body: dict[str, Any], key: str, keyword: str) -> str | None:
    node = body.get(key)
    if node is None:
        return None
    near = _first_location(node)
    return ddl.text.after_keyword(keyword, near, False)


def _first_location(node: Any) -> int:
    found: list[int] = []
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if isinstance(item.get("location"), int) and item["location"] >= 0:
                found.append(item["location"])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return min(found) if found else 0


def _validate(ddl: DdlPlanner, table: Table, using: str | None, check: str | None) -> None:
    from pgaurora.planner.select import SelectPlanner

    sp = SelectPlanner(ddl.qc)
    for text in (using, check):
        if text is not None:
            bind_policy_text(ddl.qc, table, text, "POLICY", sp._subquery)


def plan_create_policy(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    table = _policy_table(ddl, body["table"])
    command = _COMMANDS[body.get("cmd_name", "all")]
    using = _expr_text(ddl, body, "qual", "USING")
    check = _expr_text(ddl, body, "with_check", "CHECK")
    if command in ("r", "d") and check is not None:
        raise SyntaxError_("WITH CHECK cannot be applied to SELECT or DELETE")
    if command == "a" and using is not None:
        raise SyntaxError_("only WITH CHECK expression allowed for INSERT")
    _validate(ddl, table, using, check)
    return CreatePolicy(table.oid, body["policy_name"], command, bool(body.get("permissive", False)),
                        _roles(body) or ("\0public",), using, check)


def plan_alter_policy(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    table = _policy_table(ddl, body["table"])
    using = _expr_text(ddl, body, "qual", "USING")
    check = _expr_text(ddl, body, "with_check", "CHECK")
    _validate(ddl, table, using, check)
    return AlterPolicy(table.oid, body["policy_name"], _roles(body), using, check)


def plan_rename_policy(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    table = _policy_table(ddl, body["relation"])
    return AlterPolicy(table.oid, body["subname"], None, None, None, new_name=body["newname"])


def plan_drop_policy(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    targets = []
    for item in body["objects"]:
        names = [n["String"]["sval"] for n in item["List"]["items"]]
        relation = {"relname": names[-2], **({"schemaname": names[-3]} if len(names) > 2 else {})}
        rel = ddl.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
        if rel is None and body.get("missing_ok"):
            targets.append((0, names[-1], names[-2]))
            continue
        targets.append((_policy_table(ddl, relation).oid, names[-1], names[-2]))
    return DropPolicy(tuple(targets), bool(body.get("missing_ok")))


_TOGGLES = {"AT_EnableRowSecurity": ("row_security", True), "AT_DisableRowSecurity": ("row_security", False),
            "AT_ForceRowSecurity": ("force_row_security", True),
            "AT_NoForceRowSecurity": ("force_row_security", False)}


def plan_row_security_toggles(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode | None:
    """ALTER TABLE t ENABLE / DISABLE / [NO] FORCE ROW LEVEL SECURITY (None: other commands)."""
    cmds = [c["AlterTableCmd"]["subtype"] for c in body.get("cmds", ())]
    if not cmds or not all(c in _TOGGLES for c in cmds):
        if any(c in _TOGGLES for c in cmds):
            raise FeatureNotSupported("ROW LEVEL SECURITY with other ALTER TABLE commands is not supported")
        return None
    table = ddl._table(body["relation"])
    changes = dict(_TOGGLES[c] for c in cmds)
    return SetRowSecurity(table.oid, tuple(changes.items()))


__all__ = ["row_filter", "row_check", "BOOL_OID"]
