"""The object identifier types that name catalog objects: regclass, regnamespace, regrole (and
regproc/regprocedure by name): input by lookup, output by name.

Owns the casts text -> reg* (a lookup in the statement's catalog: 42P01 'relation "x" does not
exist', 3F000 / 42704 for schemas and roles), oid -> reg* and reg* -> text / oid. A reg* value
is a `RegName`: an int (the oid, for comparisons, joins and binary output) that remembers the
name its text output shows, since the datatypes layer below the catalog cannot look names up.
The planner turns these casts into context-needing function calls (planner.resolve.coerce).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgaurora.catalog import builtins
from pgaurora.catalog.model import Index, Role, Schema, Sequence, Table, View
from pgaurora.catalog.state import CatalogState, parse_search_path
from pgaurora.catalog.system import describe
from pgaurora.catalog.system.relations import BY_OID, lookup_relation
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import InvalidSchemaName, UndefinedFunction, UndefinedObject, UndefinedTable

REG_OIDS = frozenset({t.REGCLASS_OID, t.REGNAMESPACE_OID, t.REGROLE_OID, t.REGPROC_OID, t.REGPROCEDURE_OID})
_NUMERIC = frozenset({t.OID_OID, t.INT4_OID, t.INT8_OID, t.INT2_OID})
_TEXTUAL = frozenset({t.TEXT_OID, t.VARCHAR_OID, t.BPCHAR_OID, t.NAME_OID, t.UNKNOWN_OID})
VISIBLE_SCHEMAS = frozenset({2200, 11})
_VECTORS = {(t.INT2VECTOR_OID, t.array_of(t.INT2_OID)), (t.OIDVECTOR_OID, t.array_of(t.OID_OID))}
CAST_OIDS = REG_OIDS | {t.INT2VECTOR_OID, t.OIDVECTOR_OID}  # the casts reg_cast may provide


class RegName(int):
    """An oid that prints as the name of the object it identifies."""

    name: str

    def __new__(cls, oid: int, name: str) -> RegName:
        obj = super().__new__(cls, oid)
        obj.name = name
        return obj

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"RegName({int(self)}, {self.name!r})"


def split_name(text: str) -> list[str]:
    """An identifier chain as SQL reads it: 'Public."My T"' -> ['public', 'My T']."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            buf = []
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            parts.append("".join(buf))
            i = j + 1
        else:
            j = i
            while j < n and text[j] != ".":
                j += 1
            parts.append(text[i:j].strip().lower())
            i = j
        if i < n and text[i] == ".":
            i += 1
    return parts


def state_of(ctx: Any) -> CatalogState:
    """The statement's catalog as its session's search_path sees it (regclass input and output
    resolve and qualify names along it, as pg_dump's `set_config('search_path', '', false)` needs)."""
    extra = ctx.extra
    state: CatalogState = extra["catalog_state"]
    settings = getattr(ctx, "settings", None)
    if settings is None:
        return state
    raw = settings.get("search_path", missing_ok=True)
    user = getattr(ctx, "user", None)
    cached = extra.get("catalog_state_path")
    if cached is not None and cached[0] is state and cached[1] == (raw, user):
        return cached[2]  # type: ignore[no-any-return]
    seen = state.with_search_path(parse_search_path(raw), user) if raw is not None else state
    extra["catalog_state_path"] = (state, (raw, user), seen)
    return seen


def user_type_display(state: CatalogState, oid: int) -> str | None:
    """format_type of an enum or composite type (or its array type), or of a domain: its name, schema-qualified unless the
    search path finds it by that name (format_type_extended); None for other oids."""
    from pgaurora.catalog.system.describe import qualified_name, quote_ident

    domain = state.domain(oid) if hasattr(state, "domain") else None
    if domain is not None:  # a domain, as well
        return quote_ident(domain.name) if state.user_domain(domain.name) is domain else \
            qualified_name(state, domain.schema_oid, domain.name)
    known = state.enum_type_of(oid)
    if known is not None:
        enum_type, array = known
        shown = quote_ident(enum_type.name) if state.user_type(enum_type.name) is enum_type else \
            qualified_name(state, enum_type.schema_oid, enum_type.name)
        return shown + ("[]" if array else "")
    composite = state.composite_of(oid)
    element = composite or next((ty for ty in (*state.composites.values(), *state.row_types.values())
                                 if ty.array_oid == oid), None)
    if element is None:
        return None
    visible = state.user_composite(element.name) or state.row_type(element.name)
    shown = quote_ident(element.name) if visible is element else \
        qualified_name(state, element.schema_oid, element.name)
    return shown + ("" if composite is not None else "[]")


def visible_schema(state: CatalogState, schema_oid: int) -> bool:
    """Whether unqualified names find objects of this schema (pg_catalog always)."""
    return schema_oid == 11 or schema_oid in state.search_path_oids()


def relation_oid(state: CatalogState, text: str) -> int:
    """regclassin: a relation name (optionally qualified) or a numeric oid."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    parts = split_name(stripped)
    name = parts[-1]
    schema = parts[-2] if len(parts) > 1 else None
    if schema is not None and schema not in state.schemas and schema not in ("pg_catalog", "information_schema"):
        raise InvalidSchemaName(f'schema "{schema}" does not exist')
    rel = state.relation(name, schema)
    if rel is not None:
        return rel.oid
    sysrel = lookup_relation(name, schema)
    if sysrel is not None:
        return sysrel.oid
    raise UndefinedTable(f'relation "{stripped}" does not exist')


def relation_name(state: CatalogState, oid: int) -> str:
    """regclassout: the name, schema-qualified when its schema is not on the search path."""
    obj = state.by_oid.get(oid)
    if isinstance(obj, Table | Index | Sequence | View):
        name = describe.quote_ident(obj.name)
        if visible_schema(state, obj.schema_oid) and state.relation(obj.name) is obj:
            return name
        return f"{describe.quote_ident(describe.schema_name(state, obj.schema_oid))}.{name}"
    rel = BY_OID.get(oid)
    if rel is not None:
        return rel.name if rel.schema == "pg_catalog" else f"{rel.schema}.{rel.name}"
    return str(oid)


def namespace_oid(state: CatalogState, text: str) -> int:
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    name = split_name(stripped)[-1]
    schema = state.schemas.get(name)
    if schema is not None:
        return schema.oid
    if name == "information_schema":
        return 13207
    if name == "pg_toast":
        return 99
    raise InvalidSchemaName(f'schema "{stripped}" does not exist')


def namespace_name(state: CatalogState, oid: int) -> str:
    obj = state.by_oid.get(oid)
    if isinstance(obj, Schema):
        return describe.quote_ident(obj.name)
    name = describe.schema_name(state, oid)
    return name


def role_oid(state: CatalogState, text: str) -> int:
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    name = split_name(stripped)[-1]
    role = state.roles.get(name)
    if role is None:
        raise UndefinedObject(f'role "{stripped}" does not exist')
    return role.oid


def role_name(state: CatalogState, oid: int) -> str:
    obj = state.by_oid.get(oid)
    if isinstance(obj, Role):
        return describe.quote_ident(obj.name)
    return str(oid)


def proc_oid(state: CatalogState, text: str) -> int:
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    head, paren, rest = stripped.partition("(")
    parts = split_name(head)
    name, schema = parts[-1], (parts[-2] if len(parts) > 1 else None)
    user = list(state.user_functions(name, schema)) if hasattr(state, "user_functions") else []
    if user and paren:  # regprocedure: name(argument types)
        try:
            wanted = tuple(t.lookup_name(a.strip().strip('"').removeprefix("pg_catalog."), user_types=True).oid
                           for a in rest.rstrip().removesuffix(")").split(",") if a.strip())
        except UndefinedObject:
            wanted = None
        user = [f for f in user if f.arg_types == wanted]
    if len(user) > 1:
        from pgaurora.errors import AmbiguousFunction

        raise AmbiguousFunction(f'more than one function named "{head}"')
    if user:
        return int(user[0].oid)
    found = builtins.functions_named(name) if schema in (None, "pg_catalog") else []
    if not found:
        raise UndefinedFunction(f'function "{stripped}" does not exist')
    return found[0].oid


def proc_name(state: CatalogState, oid: int) -> str:
    user = state.function(oid) if hasattr(state, "function") else None
    if user is not None:
        return str(user.name)
    for f in builtins.all_functions():
        if f.oid == oid:
            return f.name
    return "-" if oid == 0 else str(oid)


def procedure_name(state: CatalogState, oid: int) -> str:
    """regprocedure output: a user function's name with its argument types."""
    user = state.function(oid) if hasattr(state, "function") else None
    if user is not None:
        return f"{user.name}({','.join(t.format_type(a) for a in user.arg_types)})"
    return proc_name(state, oid)


_INPUT: dict[int, Callable[[CatalogState, str], int]] = {
    t.REGCLASS_OID: relation_oid, t.REGNAMESPACE_OID: namespace_oid, t.REGROLE_OID: role_oid,
    t.REGPROC_OID: proc_oid, t.REGPROCEDURE_OID: proc_oid,
}
_OUTPUT: dict[int, Callable[[CatalogState, int], str]] = {
    t.REGCLASS_OID: relation_name, t.REGNAMESPACE_OID: namespace_name, t.REGROLE_OID: role_name,
    t.REGPROC_OID: proc_name, t.REGPROCEDURE_OID: procedure_name,
}


def reg_cast(source: int, target: int) -> Callable[[Any, Any], Any] | None:
    """A cast involving a reg* type, as impl(ctx, value); None when no special handling is needed."""
    if target in REG_OIDS:
        output = _OUTPUT[target]
        if source in _TEXTUAL:
            parse = _INPUT[target]

            def from_text(ctx: Any, value: Any) -> Any:
                state = state_of(ctx)
                oid = parse(state, str(value))
                return RegName(oid, output(state, oid))
            return from_text
        if source in _NUMERIC or source in REG_OIDS:
            def from_oid(ctx: Any, value: Any) -> Any:
                oid = int(value)
                return RegName(oid, output(state_of(ctx), oid) if oid else "-")
            return from_oid
        return None
    if (source, target) in _VECTORS:
        return lambda ctx, value: list(value)  # binary-coercible in PostgreSQL
    if source in REG_OIDS:
        if target in _NUMERIC:
            return lambda ctx, value: int(value)
        if target in _TEXTUAL:
            out = _OUTPUT[source]
            return lambda ctx, value: value.name if isinstance(value, RegName) else out(state_of(ctx), int(value))
    return None
