"""Who acts: the current role, and PostgreSQL's ownership checks for DDL.

Owns reading current_user's Role from a statement's context, whether it is a superuser or may
create roles, and `require_owner` (42501 "must be owner of ...": the owner, a role with its
privileges through membership (catalog.roles) or a superuser; for DROP also the schema's
owner). Not role DDL itself (executor.roledefs) nor privileges on data (pgaurora has no GRANT
on objects yet: docs/architecture/not-built-yet.md).
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import (
    BOOTSTRAP_SUPERUSER_OID,
    Database,
    Domain,
    EnumType,
    Function,
    Index,
    Role,
    Schema,
    Sequence,
    Table,
    View,
)
from pgaurora.catalog.roles import has_privileges_of
from pgaurora.errors import InsufficientPrivilege, UndefinedObject


def current_role(ctx: Any) -> Role | None:
    """current_user's Role. None for a context with no role catalog (the checks below pass);
    a role that no longer exists under that name (dropped or renamed by another session since
    this one took it) stands for none: no superuser, no CREATEROLE, owns nothing."""
    if not hasattr(ctx.catalog, "get_role"):
        return None
    name = getattr(ctx, "user", "")
    role = ctx.catalog.get_role(name, ctx.txn)
    return role if role is not None else Role(0, name, login=False)


def named_role(ctx: Any, name: str | None) -> Role:
    """The role a statement names (planner.ddl.role_spec_name: "" for CURRENT_USER, None for
    SESSION_USER, as the statement runs); 42704 when there is none."""
    if not name:
        name = getattr(ctx, "user" if name == "" else "session_user", "")
    role = ctx.catalog.get_role(name, ctx.txn)
    if role is None:
        raise UndefinedObject(f'role "{name}" does not exist')
    return role


def current_role_oid(ctx: Any) -> int:
    """The oid of current_user (SET ROLE's role, else the session user): the owner of what a
    statement creates; the bootstrap superuser's for a context without a known role."""
    role = current_role(ctx)
    return role.oid if role is not None else BOOTSTRAP_SUPERUSER_OID


def is_superuser(ctx: Any) -> bool:
    role = current_role(ctx)
    return role is None or role.superuser


def has_createrole(ctx: Any) -> bool:
    role = current_role(ctx)
    return role is None or role.superuser or role.createrole


def object_word(obj: Any) -> str:
    """What PostgreSQL calls `obj` in "must be owner of ..." (aclcheck_error)."""
    if isinstance(obj, Database):
        return "database"
    if isinstance(obj, Index):
        return "index"
    if isinstance(obj, Schema):
        return "schema"
    if isinstance(obj, Sequence):
        return "sequence"
    if isinstance(obj, View):
        return "view"
    if isinstance(obj, EnumType | Domain):
        return "type"
    if isinstance(obj, Function):
        return "procedure" if obj.kind == "p" else "function"
    return {"v": "view", "m": "materialized view"}.get(getattr(obj, "kind", "r"), "table")


def require_owner(ctx: Any, obj: Any, word: str | None = None, *, or_schema_owner: bool = False) -> None:
    """42501 "must be owner of <word> <name>" unless current_user has the privileges of the role
    owning `obj` (an index: its table; catalog.roles: itself or a role it inherits), is a
    superuser, or, with `or_schema_owner` (DROP), owns the schema holding it: PostgreSQL's
    ownership checks for DDL."""
    current = current_role(ctx)
    if current is None or current.superuser:
        return
    state = ctx.catalog.state_for(ctx.txn)
    owner = getattr(obj, "owner", None)
    if isinstance(obj, Index):
        table = state.table(obj.table_oid)
        owner = table.owner if table is not None else None
    if owner is not None and has_privileges_of(state, current.oid, owner):
        return
    if or_schema_owner:
        schema = next((s for s in state.schemas.values() if s.oid == getattr(obj, "schema_oid", None)), None)
        if schema is not None and has_privileges_of(state, current.oid, schema.owner):
            return
    raise InsufficientPrivilege(f"must be owner of {word or object_word(obj)} {obj.name}")


def owned_objects(state: Any, role_oid: int) -> list[Any]:
    """The tables, views, sequences, types and schemas `role_oid` owns (what pg_shdepend's owner
    rows would list), a table's own sequences before it, else in creation order."""
    found = [obj for obj in state.by_oid.values()
             if isinstance(obj, Table | View | Sequence | Schema | EnumType | Function | Domain)
             and getattr(obj, "owner", None) == role_oid]

    def order(obj: Any) -> tuple[int, int]:
        if isinstance(obj, Sequence) and obj.owned_by[0]:
            return obj.owned_by[0], 0
        return obj.oid, 1

    return sorted(found, key=order)
