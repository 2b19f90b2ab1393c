"""GRANT / REVOKE of privileges (GrantStmt): the statement as executor.grants runs it.

Owns reading pglast's GrantStmt into a GrantPrivileges node: the object type (TABLE, SEQUENCE,
SCHEMA, DATABASE, FUNCTION / PROCEDURE / ROUTINE; ALL TABLES / SEQUENCES / FUNCTIONS /
PROCEDURES / ROUTINES IN SCHEMA), the privilege words, grantees (PUBLIC,
CURRENT_USER, SESSION_USER), GRANTED BY, WITH GRANT OPTION, GRANT OPTION FOR and CASCADE.
Objects and roles are looked up when it runs. Also ALTER DEFAULT PRIVILEGES (FOR ROLE, IN
SCHEMA; on tables, sequences, functions, types and schemas) and column privileges
(GRANT SELECT (a, b) ON t). Not GRANT on types (0A000: docs/architecture/not-built-yet.md).
"""

from __future__ import annotations

from typing import Any

from pgaurora.errors import FeatureNotSupported, InvalidGrantOperation
from pgaurora.executor.grants import PUBLIC_GRANTEE, AlterDefaultPrivileges, GrantPrivileges
from pgaurora.executor.plannodes import PlanNode
from pgaurora.planner.ddl import role_spec_name

_OBJTYPES = {"OBJECT_TABLE": "table", "OBJECT_SEQUENCE": "sequence", "OBJECT_SCHEMA": "schema",
             "OBJECT_DATABASE": "database", "OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "procedure",
             "OBJECT_ROUTINE": "routine"}
_ROUTINES = ("function", "procedure", "routine")
_NAMES = {"OBJECT_FUNCTION": "FUNCTION", "OBJECT_PROCEDURE": "PROCEDURE", "OBJECT_ROUTINE": "ROUTINE",
          "OBJECT_TYPE": "TYPE", "OBJECT_DOMAIN": "DOMAIN", "OBJECT_LANGUAGE": "LANGUAGE",
          "OBJECT_FOREIGN_SERVER": "FOREIGN SERVER", "OBJECT_FDW": "FOREIGN DATA WRAPPER",
          "OBJECT_LARGEOBJECT": "LARGE OBJECT", "OBJECT_TABLESPACE": "TABLESPACE",
          "OBJECT_PARAMETER_ACL": "PARAMETER"}


def plan_grant(body: dict[str, Any]) -> PlanNode:
    objtype = body.get("objtype", "OBJECT_TABLE")
    kind = _OBJTYPES.get(objtype)
    if kind is None:
        raise FeatureNotSupported(f"GRANT and REVOKE on {_NAMES.get(objtype, objtype.removeprefix('OBJECT_'))} "
                                  "are not supported")
    in_schemas = body.get("targtype") == "ACL_TARGET_ALL_IN_SCHEMA"
    objects: list[tuple[str | None, str]] = []
    functions: list[tuple[str | None, str, tuple[int, ...] | None]] = []
    for item in body.get("objects", ()):
        if "ObjectWithArgs" in item:
            from pgaurora.planner.routines import signature_of

            functions.append(signature_of(item["ObjectWithArgs"]))
        elif "RangeVar" in item:
            rv = item["RangeVar"]
            objects.append((rv.get("schemaname"), rv["relname"]))
        else:
            objects.append((None, item["String"]["sval"]))
    privileges: list[str] = []
    columns: list[tuple[str, tuple[str, ...]]] = []
    for item in body.get("privileges") or ():
        priv = item["AccessPriv"]
        word = " ".join(str(priv.get("priv_name", "all")).split())
        if priv.get("cols"):
            if kind not in ("table", "sequence") or kind in _ROUTINES:
                raise InvalidGrantOperation("column privileges are only valid for relations")
            columns.append((word, tuple(c["String"]["sval"] for c in priv["cols"])))
        else:
            privileges.append(word)
    grantees: list[tuple[str, str | None]] = []
    for spec in body.get("grantees", ()):
        role = spec.get("RoleSpec", spec)
        if role.get("roletype") == "ROLESPEC_PUBLIC":
            grantees.append(PUBLIC_GRANTEE)
        else:
            grantees.append(("role", role_spec_name(role)))
    grantor = body.get("grantor")
    return GrantPrivileges(
        grant=bool(body.get("is_grant")), objtype=kind, objects=tuple(objects), privileges=tuple(privileges),
        grantees=tuple(grantees), grant_option=bool(body.get("grant_option")), columns=tuple(columns),
        grantor=role_spec_name(grantor) if grantor else None, has_grantor=grantor is not None,
        cascade=body.get("behavior") == "DROP_CASCADE", in_schemas=in_schemas, functions=tuple(functions))


_DEFAULT_OBJTYPES = {"OBJECT_TABLE": "r", "OBJECT_SEQUENCE": "S", "OBJECT_FUNCTION": "f", "OBJECT_ROUTINE": "f",
                     "OBJECT_PROCEDURE": "f", "OBJECT_TYPE": "T", "OBJECT_SCHEMA": "n"}


def plan_default_privileges(body: dict[str, Any]) -> PlanNode:
    """ALTER DEFAULT PRIVILEGES (AlterDefaultPrivilegesStmt)."""
    roles: tuple[str | None, ...] = ()
    schemas: tuple[str, ...] = ()
    for option in body.get("options", ()):
        d = option["DefElem"]
        items = d.get("arg", {}).get("List", {}).get("items", ())
        if d["defname"] == "schemas":
            schemas = tuple(i["String"]["sval"] for i in items)
        elif d["defname"] == "roles":
            roles = tuple(role_spec_name(i) for i in items)
    action = body["action"]
    objtype = _DEFAULT_OBJTYPES[action.get("objtype", "OBJECT_TABLE")]
    plan = plan_grant(dict(action, objtype="OBJECT_TABLE"))
    assert isinstance(plan, GrantPrivileges)
    from dataclasses import replace

    return AlterDefaultPrivileges(replace(plan, objtype=objtype), roles, schemas)
