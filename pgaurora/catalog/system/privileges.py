"""Access privilege lists and option lists as the catalogs expose them: acldefault(),
aclexplode(), pg_options_to_table().

has_table_privilege, has_sequence_privilege, has_schema_privilege, has_database_privilege,
has_column_privilege, has_any_column_privilege, has_function_privilege.

Owns these functions over catalog.acl: the default privileges of each object kind (acl.c's
acldefault; an object whose acl column is NULL has them, and pg_dump compares against them),
aclexplode, the privilege checks of the has_*_privilege family (a list of privilege words, any
of which will do, each optionally WITH GRANT OPTION; PostgreSQL's errors for unknown words,
roles and objects, NULL for an oid naming nothing), and the decomposition of `name=value`
option arrays. Not the catalogs' rows (class_rows, object_rows), not the checks statements
make (executor.privileges).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgaurora.catalog import acl
from pgaurora.catalog.builtins.registry import function
from pgaurora.catalog.model import Sequence, Table, View
from pgaurora.catalog.roles import PREDEFINED_BY_NAME, role_by_oid
from pgaurora.catalog.system import visibility
from pgaurora.catalog.system.regtypes import relation_oid, state_of
from pgaurora.catalog.system.relations import BY_OID
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import (
    InternalError,
    InvalidParameterValue,
    UndefinedColumn,
    UndefinedObject,
    WrongObjectType,
)

ACLITEM_ARRAY_OID = 1034

DEFAULTS = acl.DEFAULTS  # acldefault(objtype, owner): (privileges of PUBLIC, privileges of the owner)
_PRIVILEGE_NAMES = acl.NAMES


def acl_default(ctx: Any, objtype: str, owner: int) -> list[str]:
    """acldefault('r', owner) -> {owner=arwdDxt/owner}: the privileges an object has with a NULL
    acl, its role names written as every aclitem's (catalog.acl.item_text)."""
    if str(objtype) not in DEFAULTS:
        raise InternalError(f"unrecognized objtype abbreviation: {objtype}")
    return acl.acl_text(state_of(ctx), acl.default_acl(str(objtype), int(owner))) or []


def acl_explode(ctx: Any, acl: list[str]) -> Iterator[tuple[Any, ...]]:
    """aclexplode(aclitem[]) -> (grantor, grantee, privilege_type, is_grantable) per privilege."""
    state = state_of(ctx)
    by_name = {**PREDEFINED_BY_NAME, **{r.name: r.oid for r in state.roles.values()}}
    for item in acl:
        if item is None:
            continue
        grantee, _, rest = str(item).partition("=")
        privileges, _, grantor = rest.partition("/")
        grantee_oid = by_name.get(grantee.strip('"'), 0) if grantee else 0
        grantor_oid = by_name.get(grantor.strip('"'), 0)
        i = 0
        while i < len(privileges):
            letter = privileges[i]
            grantable = i + 1 < len(privileges) and privileges[i + 1] == "*"
            i += 2 if grantable else 1
            if letter in _PRIVILEGE_NAMES:
                yield (grantor_oid, grantee_oid, _PRIVILEGE_NAMES[letter], grantable)


def options_to_table(options: list[str]) -> Iterator[tuple[str, str | None]]:
    """pg_options_to_table(text[]): 'name=value' -> (name, value); a bare 'name' has value NULL."""
    for item in options:
        if item is None:
            continue
        name, sep, value = str(item).partition("=")
        yield (name, value if sep else None)


function("acldefault", (t.CHAR_OID, t.OID_OID), ACLITEM_ARRAY_OID, acl_default, needs_context=True, volatility="i")
function("aclexplode", (ACLITEM_ARRAY_OID,), t.OID_OID, acl_explode, needs_context=True, retset=True,
         volatility="s", column_names=("grantor", "grantee", "privilege_type", "is_grantable"),
         column_oids=(t.OID_OID, t.OID_OID, t.TEXT_OID, t.BOOL_OID))
function("pg_options_to_table", (t.array_of(t.TEXT_OID),), t.TEXT_OID, options_to_table, retset=True,
         volatility="s", column_names=("option_name", "option_value"), column_oids=(t.TEXT_OID, t.TEXT_OID))


# ---- has_*_privilege ----------------------------------------------------------------------------
# the words each function accepts (convert_*_priv_string), as catalog.acl letters
_ACCEPTED = {
    "table": {"select": "r", "insert": "a", "update": "w", "delete": "d", "truncate": "D", "references": "x",
              "trigger": "t"},
    "sequence": {"usage": "U", "select": "r", "update": "w"},
    "schema": {"create": "C", "usage": "U"},
    "database": {"create": "C", "connect": "c", "temporary": "T", "temp": "T"},
    "column": {"select": "r", "insert": "a", "update": "w", "references": "x"},
    "function": {"execute": "X"},
}


def _wanted(kind: str, text: str) -> list[tuple[str, bool]]:
    """convert_any_priv_string: comma-separated words, each maybe WITH GRANT OPTION."""
    out = []
    for chunk in str(text).split(","):
        words = " ".join(chunk.lower().split())
        grantable = words.endswith(" with grant option")
        word = words.removesuffix(" with grant option")
        letter = _ACCEPTED[kind].get(word)
        if letter is None:
            raise InvalidParameterValue(f'unrecognized privilege type: "{chunk.strip()}"')
        out.append((letter, grantable))
    return out


def _holds(state: Any, role_oid: int, obj: Any, wanted: list[tuple[str, bool]]) -> bool:
    privileges, options = acl.privileges_of(state, role_oid, obj)
    return any((c in options) if grantable else (c in privileges) for c, grantable in wanted)


def _who(state: Any, ctx: Any, args: tuple[Any, ...], arity: int) -> tuple[int | None, tuple[Any, ...]]:
    """(role oid or None for an oid naming no role, the remaining arguments)."""
    if len(args) == arity:
        current = state.roles.get(getattr(ctx, "user", ""))
        return (current.oid if current is not None else 0), args
    who, rest = args[0], args[1:]
    if isinstance(who, int):
        return (who if role_by_oid(state, who) is not None else None), rest
    role = state.roles.get(str(who))
    if role is None:
        raise UndefinedObject(f'role "{who}" does not exist')
    return role.oid, rest


def _relation(state: Any, target: Any) -> Any:
    """(the relation: a definition, or a system relation as visibility.SystemObject, or None;
    its oid)."""
    oid = relation_oid(state, target) if isinstance(target, str) else int(target)
    obj = state.by_oid.get(oid)
    if obj is None and oid in BY_OID:
        return visibility.system_relation(BY_OID[oid]), oid
    return obj, oid


def _relation_privilege(kind: str) -> Any:
    def check(ctx: Any, *args: Any) -> bool | None:
        state = state_of(ctx)
        role_oid, (target, text) = _who(state, ctx, args, 2)
        obj, oid = _relation(state, target)
        if kind == "sequence" and isinstance(target, str) and not isinstance(obj, Sequence):
            raise WrongObjectType(f'"{target}" is not a sequence')
        wanted = _wanted(kind if kind == "sequence" else "table", text)
        if role_oid is None or obj is None:
            return None
        if kind == "sequence" and not isinstance(obj, Sequence):
            raise WrongObjectType(f'"{obj.name}" is not a sequence')
        if isinstance(obj, Table | View | Sequence | visibility.SystemObject):
            return _holds(state, role_oid, obj, wanted)
        return None
    return check


def _on_column(state: Any, role_oid: int, obj: Any, attnum: int, wanted: list[tuple[str, bool]]) -> bool:
    """One of `wanted` through the column's own ACL (attacl)."""
    mine = acl.holders(state, role_oid)
    privileges = {c for grantee, _, held, _ in visibility.column_acl(obj, attnum) if grantee in mine for c in held}
    options = {c for grantee, _, _, grantable in visibility.column_acl(obj, attnum) if grantee in mine
               for c in grantable}
    return any((c in options) if grantable else (c in privileges) for c, grantable in wanted)


def _column_privilege(ctx: Any, *args: Any) -> bool | None:
    state = state_of(ctx)
    role_oid, (target, column, text) = _who(state, ctx, args, 3)
    obj, _ = _relation(state, target)
    wanted = _wanted("column", text)
    if obj is None:
        return None
    columns = visibility.relation_columns(obj)
    if isinstance(column, str):
        attnum = next((n for n, name in columns if name == column), None)
        if attnum is None and column not in ("ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"):
            raise UndefinedColumn(f'column "{column}" of relation "{obj.name}" does not exist')
    else:
        attnum = int(column)
        if attnum > 0 and attnum not in {n for n, _ in columns}:
            return None
    if role_oid is None:
        return None
    return _holds(state, role_oid, obj, wanted) or (attnum is not None and _on_column(state, role_oid, obj, attnum, wanted))


def _any_column_privilege(ctx: Any, *args: Any) -> bool | None:
    state = state_of(ctx)
    role_oid, (target, text) = _who(state, ctx, args, 2)
    obj, _ = _relation(state, target)
    wanted = _wanted("column", text)
    if role_oid is None or obj is None:
        return None
    return _holds(state, role_oid, obj, wanted) or any(
        _on_column(state, role_oid, obj, attnum, wanted) for attnum, _ in visibility.relation_columns(obj))


def _schema_privilege(ctx: Any, *args: Any) -> bool | None:
    state = state_of(ctx)
    role_oid, (target, text) = _who(state, ctx, args, 2)
    wanted = _wanted("schema", text)
    if isinstance(target, str):
        schema = visibility.schema_object(state, target)
        if schema is None:
            raise UndefinedObject(f'schema "{target}" does not exist', sqlstate="3F000")
    else:
        name = next((s.name for s in state.schemas.values() if s.oid == int(target)), None)
        name = name or next((n for n, oid in visibility.SYSTEM_SCHEMAS.items() if oid == int(target)), None)
        schema = visibility.schema_object(state, name) if name is not None else None
        if schema is None:
            return None
    if role_oid is None:
        return None
    return _holds(state, role_oid, schema, wanted)


def _database_privilege(ctx: Any, *args: Any) -> bool | None:
    state = state_of(ctx)
    role_oid, (target, text) = _who(state, ctx, args, 2)
    wanted = _wanted("database", text)
    if isinstance(target, str):
        db = state.databases.get(target)
        if db is None:
            raise UndefinedObject(f'database "{target}" does not exist', sqlstate="3D000")
    else:
        db = next((d for d in state.databases.values() if d.oid == int(target)), None)
        if db is None:
            return None
    if role_oid is None:
        return None
    return _holds(state, role_oid, db, wanted)


def _function_privilege(ctx: Any, *args: Any) -> bool | None:
    """EXECUTE on functions: PUBLIC holds it on every built-in; a user function's ACL says."""
    state = state_of(ctx)
    role_oid, (target, text) = _who(state, ctx, args, 2)
    wanted = _wanted("function", text)
    if role_oid is None:
        return None
    user = None
    if isinstance(target, int):
        user = state.function(int(target))
    else:
        from pgaurora.catalog.system.regtypes import proc_oid

        user = state.function(proc_oid(state, str(target)))
    if user is not None:
        return _holds(state, role_oid, user, wanted)
    return all(not grantable for _, grantable in wanted) or acl.is_superuser(state, role_oid)


_T, _OID, _NAME, _INT2 = t.TEXT_OID, t.OID_OID, t.NAME_OID, t.INT2_OID
for _name, _impl in (("table", _relation_privilege("table")), ("sequence", _relation_privilege("sequence")),
                     ("schema", _schema_privilege), ("database", _database_privilege),
                     ("function", _function_privilege), ("any_column", _any_column_privilege)):
    for _target in (_T, _OID):
        function(f"has_{_name}_privilege", (_target, _T), t.BOOL_OID, _impl, needs_context=True, volatility="s")
        for _user in (_NAME, _OID):
            function(f"has_{_name}_privilege", (_user, _target, _T), t.BOOL_OID, _impl, needs_context=True,
                     volatility="s")
for _target in (_T, _OID):
    for _column in (_T, _INT2):
        function("has_column_privilege", (_target, _column, _T), t.BOOL_OID, _column_privilege,
                 needs_context=True, volatility="s")
        for _user in (_NAME, _OID):
            function("has_column_privilege", (_user, _target, _column, _T), t.BOOL_OID, _column_privilege,
                     needs_context=True, volatility="s")
