"""plan(stmt, catalog, param_types) -> Plan: the planner's entry point.

Owns dispatching a parsed statement to the SELECT / DML / DDL planners, running the optimizer
rules, and packaging the result as an executor Plan (command, result columns, parameter
types). Not parsing (planner.parse) and not caching (planner.plancache).
"""

from __future__ import annotations

import json
from typing import Any

from pglast import parser as pg_parser

from pgaurora.catalog.state import CatalogState
from pgaurora.catalog.system import relations as system_relations  # system relations: pg_attribute of views
from pgaurora.datatypes.typeinfo import TEXT_OID, UNKNOWN_OID
from pgaurora.errors import FeatureNotSupported, IndeterminateDatatype, UndefinedObject
from pgaurora.executor.plannodes import Plan, ResultColumn
from pgaurora.planner import estimate, rules
from pgaurora.planner.ddl import DdlPlanner
from pgaurora.planner.exprbind import CATALOG_TYPES
from pgaurora.planner.modify import ModifyPlanner
from pgaurora.planner.parse import ParsedStatement, parse_one
from pgaurora.planner.querycontext import QueryContext
from pgaurora.planner.resolve import ParamTypes
from pgaurora.planner.rowtypes import records_as_text
from pgaurora.planner.scope import Scope, StatementState, mentions_system_column
from pgaurora.planner.select import SelectPlanner


def _parse_view(text: str) -> dict[str, Any]:
    tree = json.loads(pg_parser.parse_sql_json(text))
    return tree["stmts"][0]["stmt"]  # type: ignore[no-any-return]


def catalog_state(catalog: Any, txn: Any = None) -> CatalogState:
    if isinstance(catalog, CatalogState):
        return catalog
    return catalog.state_for(txn)  # type: ignore[no-any-return]


def plan(stmt: ParsedStatement, catalog: Any, param_types: tuple[int, ...] | list[int] = (), *,
         txn: Any = None, unknown_params_as_text: bool = False,
         search_path: tuple[str, ...] | None = None, backend_pid: int | None = None,
         search_role: str | None = None) -> Plan:
    """Plans one statement. `catalog` is a Catalog (with `txn` for its uncommitted DDL) or a CatalogState;
    `backend_pid` is the session's (its temporary tables), by default the one `txn` carries;
    `search_path` and `search_role` (current_user) resolve unqualified names (CatalogState.search_path_oids)."""
    storage = getattr(catalog, "storage", None)
    if backend_pid is None:
        backend_pid = int(getattr(txn, "pid", 0) or 0)
    if storage is None or estimate.HEAP_PAGES.get() is not None:
        return _plan(stmt, catalog, param_types, txn, unknown_params_as_text, search_path, backend_pid, search_role)
    # row estimates read the heaps' current page counts (planner.estimate), EXPLAIN's inner plan too
    token = estimate.HEAP_PAGES.set(estimate.heap_pages_of(storage))
    try:
        return _plan(stmt, catalog, param_types, txn, unknown_params_as_text, search_path, backend_pid, search_role)
    finally:
        estimate.HEAP_PAGES.reset(token)


def _plan(stmt: ParsedStatement, catalog: Any, param_types: tuple[int, ...] | list[int], txn: Any,
          unknown_params_as_text: bool, search_path: tuple[str, ...] | None, pid: int,
          search_role: str | None) -> Plan:
    state = catalog_state(catalog, txn).for_backend(pid).with_search_path(search_path, search_role)
    types_token = CATALOG_TYPES.set(state)
    try:
        if stmt.node_type == "CopyStmt":  # (its columns' defaults may name types, functions...)
            from pgaurora.planner.copy import plan_copy

            return plan_copy(stmt, catalog, txn, search_path, pid, search_role).plan
        return _plan_in(stmt, state, param_types, txn, unknown_params_as_text, pid)
    finally:
        CATALOG_TYPES.reset(types_token)


def _plan_in(stmt: ParsedStatement, state: CatalogState, param_types: tuple[int, ...] | list[int], txn: Any,
             unknown_params_as_text: bool, pid: int) -> Plan:
    params = ParamTypes(param_types)
    qc = QueryContext(state, params, StatementState(state), stmt.char_position, _parse_view, backend_pid=pid,
                      system_columns=mentions_system_column(stmt.text))
    kind = stmt.node_type
    body = stmt.tree
    command = stmt.command
    columns: list[ResultColumn] | None = None
    merging = kind == "MergeStmt"
    if merging:  # (planner.merge: the statement MERGE becomes, planned as any other)
        from pgaurora.planner.merge import merge_sql

        def columns_of(schema: str | None, name: str) -> list[str] | None:
            rel: Any = state.relation(name, schema)
            return [c.name for c in rel.live_columns()] if hasattr(rel, "live_columns") else None

        rewritten = parse_one(merge_sql(stmt.text, columns_of))
        qc = QueryContext(state, params, StatementState(state), lambda _location: None, _parse_view,
                          backend_pid=pid, system_columns=True)
        kind, body = rewritten.node_type, rewritten.tree
    if kind == "SelectStmt":
        if "intoClause" in body:
            raise FeatureNotSupported("SELECT INTO is not supported")
        planned = SelectPlanner(qc).plan_select(body, Scope(qc.state))
        node, columns = records_as_text(planned.node, planned.columns)
    elif kind in ("InsertStmt", "UpdateStmt", "DeleteStmt"):
        if "withClause" in body:
            sp = SelectPlanner(qc)
            sp._push_ctes(body["withClause"], Scope(qc.state))
        mp = ModifyPlanner(qc)
        planned = mp.plan_statement(kind, body)
        node = planned.node
        columns = planned.columns if "returningList" in body else None
    elif kind == "ExplainStmt":
        from pgaurora.planner.explain import plan_explain

        def inner(inner_stmt: ParsedStatement) -> Any:
            planned = plan(inner_stmt, state, params.types, txn=txn)
            for oid, letters, as_role, unqualified, columns in planned.permissions:  # EXPLAIN checks them too
                qc.check_as = as_role
                if unqualified:
                    qc.require_usage(oid, unqualified, False)
                else:
                    qc.require(oid, letters)
                for letter, attnums in columns:
                    qc.uses_columns((oid, as_role), letter, set(attnums))
            qc.check_as = 0
            return planned.node

        planned = plan_explain(qc, stmt, inner)
        node = planned.node
        columns = planned.columns
    else:
        node, command = _utility(qc, stmt)
        _schema_usage(qc, kind, body)
        if kind == "CallStmt" and node.columns:  # a procedure's OUT / INOUT parameters: one row
            columns = [ResultColumn(n, t) for n, t in node.columns]
    node = rules.optimize(node, state, qc.state.new_slot)
    if qc.modifying_ctes:
        from pgaurora.executor.withmodify import ModifyingCtes

        ctes = tuple(rules.optimize(c, state, qc.state.new_slot) for c in qc.modifying_ctes)
        node = ModifyingCtes(node, ctes, node.width)
    if merging:
        from pgaurora.executor.withmodify import MergeCount

        node, columns = MergeCount(node), None
    types = []
    for i, t in enumerate(params.types):
        if t in (0, UNKNOWN_OID):
            if unknown_params_as_text:
                types.append(TEXT_OID)
                continue
            if i < len(param_types) and param_types[i] == UNKNOWN_OID:
                types.append(UNKNOWN_OID)
                continue
            raise IndeterminateDatatype(f"could not determine data type of parameter ${i + 1}")
        types.append(t)
    return Plan(command, node, tuple(columns) if columns is not None else None, tuple(types),
                state.version, qc.state.exec_params, stmt.text, qc.permission_list())


# utility statements that are one DdlPlanner method each: statement kind -> (method, command tag)
_SIMPLE_UTILITY = {
    "CreateStmt": ("create_table", "CREATE TABLE"),
    "IndexStmt": ("create_index", "CREATE INDEX"),
    "CreateSeqStmt": ("create_sequence", "CREATE SEQUENCE"),
    "AlterSeqStmt": ("alter_sequence", "ALTER SEQUENCE"),
    "ViewStmt": ("create_view", "CREATE VIEW"),
    "TruncateStmt": ("truncate", "TRUNCATE TABLE"),
    "CreateRoleStmt": ("create_role", "CREATE ROLE"),
    "AlterRoleStmt": ("alter_role", "ALTER ROLE"),
    "DropRoleStmt": ("drop_role", "DROP ROLE"),
    "GrantRoleStmt": ("grant_role", "GRANT ROLE"),
    "ReassignOwnedStmt": ("reassign_owned", "REASSIGN OWNED"),
    "DropOwnedStmt": ("drop_owned", "DROP OWNED"),
    "CreateSchemaStmt": ("create_schema", "CREATE SCHEMA"),
}


def _utility(qc: QueryContext, stmt: ParsedStatement) -> tuple[Any, str]:
    body = stmt.tree
    kind = stmt.node_type
    ddl = DdlPlanner(qc, stmt)
    from pgaurora.planner.ownership import plan_misc  # OWNER TO, LOCK TABLE

    if (misc := plan_misc(ddl, kind, body)) is not None:
        return misc
    if (policy := _policy_statement(ddl, kind, body)) is not None:
        return policy
    simple = _SIMPLE_UTILITY.get(kind)
    if simple is not None:
        method, tag = simple
        return getattr(ddl, method)(body), tag
    if kind == "CreateTableAsStmt":
        if body.get("objtype") == "OBJECT_MATVIEW":
            from pgaurora.planner.matview import create_matview

            return create_matview(ddl, body)
        return ddl.create_table_as(body)[0], "CREATE TABLE AS"
    if kind == "RefreshMatViewStmt":
        from pgaurora.planner.matview import refresh_matview

        return refresh_matview(ddl, body), "REFRESH MATERIALIZED VIEW"
    from pgaurora.planner.routines import plan_routine_statement

    if (routine := plan_routine_statement(ddl, kind, body)) is not None:
        return routine
    from pgaurora.planner.domains import plan_domain_statement

    if (domain := plan_domain_statement(ddl, kind, body)) is not None:
        return domain
    if (user_type := _type_statement(ddl, kind, body)) is not None:
        return user_type
    if kind == "DropStmt":
        drop = ddl.drop(body)
        return drop, f"DROP {drop.kind.upper()}"
    if kind in ("AlterTableStmt", "RenameStmt"):
        from pgaurora.planner.alter import plan_alter

        return plan_alter(ddl, kind, body), stmt.command
    if kind == "ReindexStmt":
        from pgaurora.planner.maintenance import plan_reindex

        return plan_reindex(ddl, body), "REINDEX"
    if kind == "VacuumStmt":
        if body.get("is_vacuumcmd"):
            from pgaurora.planner.maintenance import plan_vacuum

            return plan_vacuum(ddl, body), "VACUUM"
        from pgaurora.planner.maintenance import plan_analyze

        return plan_analyze(ddl, body), "ANALYZE"
    if kind == "CheckPointStmt":
        return ddl.noop("CHECKPOINT"), "CHECKPOINT"
    if kind == "GrantStmt":
        from pgaurora.planner.grants import plan_grant

        return plan_grant(body), "GRANT" if body.get("is_grant") else "REVOKE"
    if kind == "AlterDefaultPrivilegesStmt":
        from pgaurora.planner.grants import plan_default_privileges

        return plan_default_privileges(body), "ALTER DEFAULT PRIVILEGES"
    raise FeatureNotSupported(f"{stmt.command} is not supported")


def _type_statement(ddl: DdlPlanner, kind: str, body: dict[str, Any]) -> tuple[Any, str] | None:
    """CREATE TYPE ... AS ENUM / AS (attributes), ALTER TYPE ... ADD VALUE, DROP TYPE (executor.enumtypes)."""
    from pgaurora.executor.enumtypes import (
        AddEnumValue,
        AlterUserType,
        CreateComposite,
        CreateEnum,
        DropTypes,
    )
    from pgaurora.planner.exprbind import schema_and_name, type_from_name

    if kind == "CreateEnumStmt":
        labels = tuple(v["String"]["sval"] for v in body.get("vals", ()))
        schema, name = schema_and_name(body["typeName"])
        if schema == "pg_temp":  # (no temporary types: their session's end would not drop them)
            raise UndefinedObject('schema "pg_temp" does not exist', sqlstate="3F000")
        return CreateEnum(ddl.schema_oid({"schemaname": schema} if schema else {}), name, labels), "CREATE TYPE"
    if kind == "CompositeTypeStmt":
        var = body["typevar"]
        schema = var.get("schemaname")
        if schema == "pg_temp":
            raise UndefinedObject('schema "pg_temp" does not exist', sqlstate="3F000")
        attributes = []
        for item in body.get("coldeflist", ()):
            column = item["ColumnDef"]
            oid, typmod = type_from_name(column["typeName"], ddl.pos)
            attributes.append((column["colname"], oid, typmod))
        return CreateComposite(ddl.schema_oid({"schemaname": schema} if schema else {}), var["relname"],
                               tuple(attributes)), "CREATE TYPE"
    if kind == "AlterEnumStmt":
        if body.get("oldVal") is not None:
            raise FeatureNotSupported("ALTER TYPE ... RENAME VALUE is not supported")
        return AddEnumValue(*schema_and_name(body["typeName"]), body["newVal"], body.get("newValNeighbor"),
                            bool(body.get("newValIsAfter")), bool(body.get("skipIfNewValExists"))), "ALTER TYPE"
    if kind == "RenameStmt" and body.get("renameType") == "OBJECT_TYPE":
        schema, name = schema_and_name(body["object"]["List"]["items"])
        return AlterUserType(schema, name, (("rename", body["newname"]),)), "ALTER TYPE"
    if kind == "RenameStmt" and body.get("renameType") == "OBJECT_ATTRIBUTE":
        rel = body["relation"]
        return (AlterUserType(rel.get("schemaname"), rel["relname"], (("rename_attribute", body["subname"],
                                                                       body["newname"]),)), "ALTER TYPE")
    if kind == "AlterTableStmt" and body.get("objtype") == "OBJECT_TYPE":  # ALTER TYPE composite ... ATTRIBUTE
        rel = body["relation"]
        changes: list[tuple[Any, ...]] = []
        for item in body.get("cmds", ()):
            cmd = item["AlterTableCmd"]
            sub = cmd["subtype"]
            if sub == "AT_AddColumn":
                column = cmd["def"]["ColumnDef"]
                oid, typmod = type_from_name(column["typeName"], ddl.pos)
                changes.append(("add_attribute", column["colname"], oid, typmod))
            elif sub == "AT_DropColumn":
                changes.append(("drop_attribute", cmd["name"], bool(cmd.get("missing_ok"))))
            elif sub == "AT_AlterColumnType":
                oid, typmod = type_from_name(cmd["def"]["ColumnDef"]["typeName"], ddl.pos)
                changes.append(("alter_attribute", cmd["name"], oid, typmod))
            else:
                raise FeatureNotSupported(f"ALTER TYPE {sub.removeprefix('AT_')} is not supported")
        return AlterUserType(rel.get("schemaname"), rel["relname"], tuple(changes)), "ALTER TYPE"
    if kind == "DropStmt" and body.get("removeType") == "OBJECT_TYPE":
        targets = tuple(schema_and_name(obj["TypeName"]["names"]) for obj in body.get("objects", ()))
        return DropTypes(targets, bool(body.get("missing_ok")), body.get("behavior") == "DROP_CASCADE"), "DROP TYPE"
    return None


def _policy_statement(ddl: DdlPlanner, kind: str, body: dict[str, Any]) -> tuple[Any, str] | None:
    """CREATE / ALTER / DROP POLICY, ALTER POLICY ... RENAME, ALTER TABLE ... ROW LEVEL SECURITY."""
    from pgaurora.planner import rowsecurity

    if kind == "CreatePolicyStmt":
        return rowsecurity.plan_create_policy(ddl, body), "CREATE POLICY"
    if kind == "AlterPolicyStmt":
        return rowsecurity.plan_alter_policy(ddl, body), "ALTER POLICY"
    if kind == "RenameStmt" and body.get("renameType") == "OBJECT_POLICY":
        return rowsecurity.plan_rename_policy(ddl, body), "ALTER POLICY"
    if kind == "DropStmt" and body.get("removeType") == "OBJECT_POLICY":
        return rowsecurity.plan_drop_policy(ddl, body), "DROP POLICY"
    if kind == "AlterTableStmt" and (toggles := rowsecurity.plan_row_security_toggles(ddl, body)) is not None:
        return toggles, "ALTER TABLE"
    return None


# the relation a statement creates: CREATE on its schema is checked as it runs, not USAGE
_CREATED = {"CreateStmt": "relation", "ViewStmt": "view", "CreateSeqStmt": "sequence",
            "CreateTableAsStmt": "into"}


_RELATION_OBJECTS = {"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_SEQUENCE", "OBJECT_INDEX", "OBJECT_MATVIEW"}


def _schema_usage(qc: QueryContext, kind: str, body: dict[str, Any]) -> None:
    """A utility statement naming `schema.relation` needs USAGE on the schema (PostgreSQL's
    LookupExplicitNamespace), the relation it creates excepted."""
    created = body.get(_CREATED.get(kind, ""))
    if kind == "CreateTableAsStmt" and isinstance(created, dict):
        created = created.get("rel")
    if kind in ("DropStmt", "CommentStmt") and body.get("removeType", body.get("objtype")) in _RELATION_OBJECTS:
        for item in body.get("objects", [body.get("object")]):
            names = [n["String"]["sval"] for n in (item or {}).get("List", {}).get("items", ()) if "String" in n]
            schema = qc.catalog.schemas.get(names[-2]) if len(names) > 1 else None
            if schema is not None:
                qc.require(schema.oid, "U")
    pending: list[Any] = [body]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if "relname" in item and "relpersistence" in item and item.get("schemaname") and item is not created:
                schema = qc.catalog.schemas.get(item["schemaname"])
                if schema is not None:
                    qc.require(schema.oid, "U")
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _view_columns(state: CatalogState, query: str) -> list[tuple[int, int]]:
    """(type oid, typmod) of a view's columns. # system relations: see pgaurora/catalog/system"""
    qc = QueryContext(state, ParamTypes(()), StatementState(state), lambda loc: None, _parse_view,
                      system_columns=mentions_system_column(query))
    planned = SelectPlanner(qc).plan_query(_parse_view(query), Scope(qc.state))
    return [(c.type_oid, c.typmod) for c in planned.columns]


system_relations.VIEW_PLANNERS.append(_view_columns)  # system relations: see pgaurora/catalog/system
