"""Utility statements that dump scripts and tools send about existing objects: ALTER ... OWNER TO,
ALTER ... SET SCHEMA, LOCK TABLE and COMMENT ON.

Owns their analysis into executor.ddlmisc nodes, with PostgreSQL's messages for missing objects
and roles. pg_dump writes `ALTER SCHEMA s OWNER TO r`, `ALTER TABLE s.t OWNER TO r` (also for
views and sequences), `COMMENT ON ...`, and takes `LOCK TABLE s.t IN ACCESS SHARE MODE` on every
table it dumps.
Not executing them (executor.ddlmisc), not the other ALTER TABLE forms (planner.alter).
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import Index, Sequence, Table, View
from pgaurora.errors import FeatureNotSupported, UndefinedObject, UndefinedTable, WrongObjectType
from pgaurora.executor.ddlmisc import (
    CURRENT_ROLE,
    SESSION_ROLE,
    ChangeOwner,
    LockRelations,
    SetComment,
    SetSchema,
)
from pgaurora.executor.plannodes import PlanNode
from pgaurora.planner.ddl import DdlPlanner, role_spec_name

# LOCK TABLE modes (parsenodes.h / lockdefs.h numbering) -> whether the lock is shared
LOCK_MODES = {1: ("ACCESS SHARE", True), 2: ("ROW SHARE", True), 3: ("ROW EXCLUSIVE", True),
              4: ("SHARE UPDATE EXCLUSIVE", False), 5: ("SHARE", False), 6: ("SHARE ROW EXCLUSIVE", False),
              7: ("EXCLUSIVE", False), 8: ("ACCESS EXCLUSIVE", False)}
_OBJECT_KINDS = {"OBJECT_TABLE": "table", "OBJECT_VIEW": "view", "OBJECT_SEQUENCE": "sequence"}


def plan_misc(ddl: DdlPlanner, kind: str, body: dict[str, Any]) -> tuple[PlanNode, str] | None:
    """The plan of one of the statements this module owns, or None for any other statement."""
    if kind == "LockStmt":
        return plan_lock(ddl, body), "LOCK TABLE"
    if kind == "CommentStmt":
        return plan_comment(ddl, body), "COMMENT"
    if kind == "AlterObjectSchemaStmt":
        return plan_set_schema(ddl, body)
    if kind == "AlterOwnerStmt":
        return plan_alter_owner(ddl, body), f"ALTER {body.get('objectType', '').removeprefix('OBJECT_')}"
    if kind == "AlterTableStmt":
        cmds = [item["AlterTableCmd"] for item in body.get("cmds", ())]
        if cmds and all(c.get("subtype") == "AT_ChangeOwner" for c in cmds):
            objtype = body.get("objtype", "OBJECT_TABLE")
            tag = {"OBJECT_VIEW": "ALTER VIEW", "OBJECT_SEQUENCE": "ALTER SEQUENCE"}.get(objtype, "ALTER TABLE")
            return _relation_owner(ddl, body, cmds[-1]["newowner"], tag), tag
    return None


def role_oid(ddl: DdlPlanner, spec: dict[str, Any]) -> int:
    """A RoleSpec: a role name's oid, or CURRENT_ROLE / SESSION_ROLE (resolved as it runs)."""
    name = role_spec_name(spec)
    if name is None:
        return SESSION_ROLE
    if name == "":
        return CURRENT_ROLE  # CURRENT_USER, CURRENT_ROLE
    found = ddl.qc.catalog.roles.get(name)
    if found is None:
        raise UndefinedObject(f'role "{name}" does not exist')
    return found.oid


def _relation_owner(ddl: DdlPlanner, body: dict[str, Any], newowner: dict[str, Any], tag: str) -> PlanNode:
    relation = body["relation"]
    name = relation["relname"]
    rel = ddl.qc.catalog.relation(name, relation.get("schemaname"))
    if rel is None:
        if body.get("missing_ok"):
            from pgaurora.executor.ddl import NoOp

            return NoOp(tag, f'relation "{name}" does not exist, skipping')
        shown = f'{relation["schemaname"]}.{name}' if relation.get("schemaname") else name
        raise UndefinedTable(f'relation "{shown}" does not exist', position=ddl.pos(relation.get("location")))
    objtype = body.get("objtype", "OBJECT_TABLE")
    if objtype == "OBJECT_VIEW" and not isinstance(rel, View):
        raise WrongObjectType(f'"{name}" is not a view')
    if objtype == "OBJECT_SEQUENCE" and not isinstance(rel, Sequence):
        raise WrongObjectType(f'"{name}" is not a sequence')
    if not isinstance(rel, Table | View | Sequence):
        raise WrongObjectType(f'"{name}" is not a table, view, sequence, or foreign table')
    return ChangeOwner(rel.oid, role_oid(ddl, newowner), tag)


_SCHEMA_KINDS: dict[str, tuple[type, str, str]] = {
    "OBJECT_TABLE": (Table, "", "ALTER TABLE"), "OBJECT_VIEW": (View, "a view", "ALTER VIEW"),
    "OBJECT_SEQUENCE": (Sequence, "a sequence", "ALTER SEQUENCE"),
    "OBJECT_MATVIEW": (Table, "a materialized view", "ALTER MATERIALIZED VIEW"),
}


def plan_set_schema(ddl: DdlPlanner, body: dict[str, Any]) -> tuple[PlanNode, str]:
    """ALTER TABLE / VIEW / MATERIALIZED VIEW / SEQUENCE ... SET SCHEMA (executor.ddlmisc)."""
    objtype = body.get("objectType", "")
    if objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"):
        from pgaurora.planner.routines import set_function_schema

        return set_function_schema(ddl, body)
    if objtype not in _SCHEMA_KINDS:
        raise FeatureNotSupported(f"ALTER {objtype.removeprefix('OBJECT_')} SET SCHEMA is not supported")
    cls, what, tag = _SCHEMA_KINDS[objtype]
    relation = body["relation"]
    name = relation["relname"]
    rel = ddl.qc.catalog.relation(name, relation.get("schemaname"))
    if rel is None:
        if body.get("missing_ok"):
            from pgaurora.executor.ddl import NoOp

            return NoOp(tag, f'relation "{name}" does not exist, skipping'), tag
        shown = f'{relation["schemaname"]}.{name}' if relation.get("schemaname") else name
        raise UndefinedTable(f'relation "{shown}" does not exist')
    if objtype == "OBJECT_MATVIEW" and getattr(rel, "kind", "") != "m" or \
            objtype in ("OBJECT_VIEW", "OBJECT_SEQUENCE") and not isinstance(rel, cls):
        raise WrongObjectType(f'"{name}" is not {what}')
    if not isinstance(rel, Table | View | Sequence):
        raise WrongObjectType(f'"{name}" is not a table, view, sequence, or foreign table')
    return SetSchema(rel.oid, body["newschema"], tag), tag


def plan_alter_owner(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    """ALTER SCHEMA s OWNER TO r, ALTER TYPE t OWNER TO r (other object types have no owner to
    change in pgaurora)."""
    objtype = body.get("objectType")
    if objtype == "OBJECT_TYPE":
        from pgaurora.planner.exprbind import schema_and_name

        in_schema, type_name = schema_and_name(body["object"]["List"]["items"])
        found: Any = ddl.qc.catalog.user_type(type_name, in_schema) or ddl.qc.catalog.user_composite(type_name,
                                                                                                   in_schema)
        if found is None:
            raise UndefinedObject(f'type "{f"{in_schema}." if in_schema else ""}{type_name}" does not exist')
        return ChangeOwner(found.oid, role_oid(ddl, body["newowner"]), "ALTER TYPE")
    if objtype == "OBJECT_DOMAIN":
        from pgaurora.planner.exprbind import schema_and_name

        in_schema, domain_name = schema_and_name(body["object"]["List"]["items"])
        domain = ddl.qc.catalog.user_domain(domain_name, in_schema)
        if domain is None:
            raise UndefinedObject(f'type "{f"{in_schema}." if in_schema else ""}{domain_name}" does not exist')
        return ChangeOwner(domain.oid, role_oid(ddl, body["newowner"]), "ALTER DOMAIN")
    if objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE", "OBJECT_AGGREGATE"):
        from pgaurora.planner.routines import function_for

        word = objtype.removeprefix("OBJECT_").lower()
        fn = function_for(ddl, body["object"]["ObjectWithArgs"], word)
        return ChangeOwner(fn.oid, role_oid(ddl, body["newowner"]), f"ALTER {word.upper()}")
    if objtype != "OBJECT_SCHEMA":
        raise FeatureNotSupported(f"ALTER {objtype.removeprefix('OBJECT_') if objtype else ''} OWNER TO is not supported")
    name = body["object"]["String"]["sval"]
    schema = ddl.qc.catalog.schemas.get(name)
    if schema is None:
        raise UndefinedObject(f'schema "{name}" does not exist', sqlstate="3F000")
    return ChangeOwner(schema.oid, role_oid(ddl, body["newowner"]), "ALTER SCHEMA")


def plan_lock(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    mode = int(body.get("mode", 8))
    _, shared = LOCK_MODES.get(mode, ("ACCESS EXCLUSIVE", False))
    targets = []
    for item in body.get("relations", ()):
        relation = item["RangeVar"]
        name = relation["relname"]
        rel = ddl.qc.catalog.relation(name, relation.get("schemaname"))
        if rel is None:
            shown = f'{relation["schemaname"]}.{name}' if relation.get("schemaname") else name
            raise UndefinedTable(f'relation "{shown}" does not exist', position=ddl.pos(relation.get("location")))
        if not isinstance(rel, Table | View):
            raise WrongObjectType(f'cannot lock relation "{name}"',
                                  detail="This operation is not supported for sequences."
                                  if isinstance(rel, Sequence) else "This operation is not supported for indexes.")
        targets.append((rel.oid, name))
        if relation.get("inh") and isinstance(rel, Table):  # not ONLY: its partitions too, as PostgreSQL
            pending = [rel.oid]
            while pending:
                for part in ddl.qc.catalog.partitions(pending.pop()):
                    targets.append((part.oid, part.name))
                    pending.append(part.oid)
    return LockRelations(tuple(targets), shared, bool(body.get("nowait")), mode=mode if mode in LOCK_MODES else 8)


PG_CLASS, PG_NAMESPACE, PG_CONSTRAINT, PG_AUTHID, PG_DATABASE = 1259, 2615, 2606, 1260, 1262
PG_PROC, PG_TRIGGER, PG_TYPE = 1255, 2620, 1247
_RELATION_KINDS: dict[str, tuple[type, str]] = {
    "OBJECT_TABLE": (Table, "a table"), "OBJECT_VIEW": (View, "a view"), "OBJECT_SEQUENCE": (Sequence, "a sequence"),
    "OBJECT_INDEX": (Index, "an index"),
}


def _names(node: dict[str, Any]) -> list[str]:
    if "String" in node:
        return [node["String"]["sval"]]
    return [item["String"]["sval"] for item in node.get("List", {}).get("items", ())]


def _relation(ddl: DdlPlanner, names: list[str]) -> Any:
    name, schema = names[-1], names[-2] if len(names) > 1 else None
    rel = ddl.qc.catalog.relation(name, schema)
    if rel is None:
        raise UndefinedTable(f'relation "{".".join(names)}" does not exist')
    return rel


def plan_comment(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    """COMMENT ON TABLE|VIEW|SEQUENCE|INDEX|COLUMN|SCHEMA|CONSTRAINT ... IS 'text' | NULL."""
    objtype = body.get("objtype", "")
    names = _names(body.get("object", {}))
    text = body.get("comment") or None  # '' drops the comment, as NULL does
    if objtype in _RELATION_KINDS:
        rel = _relation(ddl, names)
        cls, what = _RELATION_KINDS[objtype]
        if not isinstance(rel, cls):
            raise WrongObjectType(f'"{names[-1]}" is not {what}')
        return SetComment((PG_CLASS, int(getattr(rel, "oid", 0)), 0), text)
    if objtype == "OBJECT_COLUMN":
        rel = _relation(ddl, names[:-1])
        column = names[-1]
        if isinstance(rel, Table):
            col = rel.column(column)
            attnum = col.attnum if col is not None else None
        elif isinstance(rel, View):
            attnum = rel.column_names.index(column) + 1 if column in rel.column_names else None
        else:
            raise WrongObjectType(f'cannot set comment on relation "{rel.name}"')
        if attnum is None:
            from pgaurora.errors import UndefinedColumn

            raise UndefinedColumn(f'column "{column}" of relation "{".".join(names[:-1])}" does not exist')
        return SetComment((PG_CLASS, rel.oid, attnum), text)
    if objtype == "OBJECT_SCHEMA":
        schema = ddl.qc.catalog.schemas.get(names[0])
        if schema is None:
            raise UndefinedObject(f'schema "{names[0]}" does not exist', sqlstate="3F000")
        return SetComment((PG_NAMESPACE, schema.oid, 0), text)
    if objtype == "OBJECT_ROLE":
        name = body["object"]["String"]["sval"]
        role = ddl.qc.catalog.roles.get(name)
        if role is None:
            raise UndefinedObject(f'role "{name}" does not exist')
        return SetComment((PG_AUTHID, role.oid, 0), text)
    if objtype == "OBJECT_DATABASE":
        name = body["object"]["String"]["sval"]
        db = ddl.qc.catalog.databases.get(name)
        if db is None:  # a WARNING, as PostgreSQL (pg_dump's COMMENT ON DATABASE of another name)
            return SetComment((PG_DATABASE, 0, 0), text, missing=name)
        return SetComment((PG_DATABASE, db.oid, 0), text)
    if objtype == "OBJECT_TABCONSTRAINT":
        table = _relation(ddl, names[:-1])
        con = next((c for c in getattr(table, "constraints", ()) if c.name == names[-1]), None)
        if con is None:
            raise UndefinedObject(f'constraint "{names[-1]}" for table "{table.name}" does not exist')
        return SetComment((PG_CONSTRAINT, con.oid, 0), text)
    if objtype in ("OBJECT_DOMAIN", "OBJECT_TYPE"):  # (pg_type's rows: an enum, composite or domain type)
        from pgaurora.planner.exprbind import schema_and_name

        in_schema, type_name = schema_and_name(body["object"]["TypeName"]["names"])
        catalog = ddl.qc.catalog
        found: Any = catalog.user_domain(type_name, in_schema)
        if objtype == "OBJECT_TYPE" and found is None:
            found = catalog.user_type(type_name, in_schema) or catalog.user_composite(type_name, in_schema)
        if found is None:
            raise UndefinedObject(f'type "{f"{in_schema}." if in_schema else ""}{type_name}" does not exist')
        return SetComment((PG_TYPE, found.oid, 0), text)
    if objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE", "OBJECT_AGGREGATE"):
        from pgaurora.planner.routines import function_for

        fn = function_for(ddl, body["object"]["ObjectWithArgs"], objtype.removeprefix("OBJECT_").lower())
        return SetComment((PG_PROC, fn.oid, 0), text)
    if objtype == "OBJECT_EXTENSION":
        ext = ddl.qc.catalog.extensions.get(names[0])
        if ext is None:
            raise UndefinedObject(f'extension "{names[0]}" does not exist')
        return SetComment((3079, ext.oid, 0), text)
    if objtype == "OBJECT_TRIGGER":
        table = _relation(ddl, names[:-1])
        trigger = next((t for t in ddl.qc.catalog.triggers.get(getattr(table, "oid", 0), ()) if t.name == names[-1]),
                       None)
        if trigger is None:
            raise UndefinedObject(f'trigger "{names[-1]}" for table "{table.name}" does not exist')
        return SetComment((PG_TRIGGER, trigger.oid, 0), text)
    raise FeatureNotSupported(f"COMMENT ON {objtype.removeprefix('OBJECT_')} is not supported")
