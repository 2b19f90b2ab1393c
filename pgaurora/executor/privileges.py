"""The privilege checks a statement makes on what it reads and writes (ExecCheckRTPerms).

Owns checking a plan's permissions (Plan.permissions: object oid, the privilege letters it
needs, and the role to check them for: 0 for current_user, a view's owner for what the view
reads) against catalog.acl, with PostgreSQL's 42501 "permission denied for table t" (view,
materialized view, sequence, schema, database); the sequence functions' checks; and LOCK
TABLE's and TRUNCATE's. Plans are checked each time they run (the role may have changed since
they were planned); a superuser skips them all. Not the ACLs (catalog.acl) nor GRANT
(executor.grants); planner.querycontext collects what each plan needs.
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog import acl
from pgaurora.catalog.acl import Permission
from pgaurora.catalog.model import (
    BOOTSTRAP_SUPERUSER_OID,
    Database,
    DefaultAcl,
    EnumType,
    Function,
    Schema,
    Sequence,
)
from pgaurora.catalog.roles import role_by_oid
from pgaurora.catalog.state import TEMP_SCHEMA_BASE
from pgaurora.datatypes.typeinfo import format_type
from pgaurora.errors import InsufficientPrivilege, UndefinedTable
from pgaurora.executor.ownership import object_word


def denied(obj: Any) -> InsufficientPrivilege:
    return InsufficientPrivilege(f"permission denied for {object_word(obj)} {obj.name}")


def acting_role(ctx: Any, state: Any) -> tuple[int, bool]:
    """(current_user's oid, whether it is a superuser); a context with no role catalog acts as
    the bootstrap superuser, a role gone since it was taken as nobody."""
    if not hasattr(ctx.catalog, "get_role"):
        return BOOTSTRAP_SUPERUSER_OID, True
    role = state.roles.get(getattr(ctx, "user", ""))
    if role is None:
        return 0, False
    return role.oid, role.superuser


def check(permissions: tuple[Permission, ...], ctx: Any, state: Any) -> None:
    """Raises 42501 for the first permission current_user (or a view's owner) lacks
    (catalog.acl.Permission: at table level, or on the columns a statement uses)."""
    current, superuser = acting_role(ctx, state)
    if superuser or acl.permitted(permissions, current, state):  # (the usual answer, remembered)
        return
    for oid, wanted, as_role, unqualified, columns in permissions:  # which one fails, and how
        obj = state.by_oid.get(oid)
        if obj is None:
            continue
        who = as_role or current
        if not acl.has_permission(state, who, obj, wanted, columns):
            if unqualified:  # search_path skips a schema it may not use
                raise UndefinedTable(f'relation "{unqualified}" does not exist')
            raise denied(obj)


def require(ctx: Any, obj: Any, wanted: str, *, any_of: bool = False,
            columns: tuple[tuple[str, tuple[int, ...]], ...] = ()) -> None:
    """42501 unless current_user holds `wanted` on `obj` (with `any_of`, one of its letters;
    with `columns`, at table level or on those columns: catalog.acl.has_permission)."""
    state = _state_of(ctx)
    if state is None:
        return
    current, superuser = acting_role(ctx, state)
    if superuser or acl.has_privilege(state, current, obj, wanted, any_of=any_of):
        return
    if columns and acl.has_permission(state, current, obj, wanted, columns):
        return
    raise denied(obj)


def require_sequence(ctx: Any, seq: Sequence, wanted: str) -> None:
    """nextval needs USAGE or UPDATE ("U" / "w"), currval and lastval USAGE or SELECT, setval
    UPDATE: 42501 "permission denied for sequence s" otherwise."""
    require(ctx, seq, wanted, any_of=True)


def require_create_in(ctx: Any, schema_oid: int) -> None:
    """CREATE of a table, view, sequence or index in a schema needs CREATE on it; in the
    session's temporary schema, TEMPORARY on the database (42501 either way)."""
    state = _state_of(ctx)
    if state is None:
        return
    if schema_oid >= TEMP_SCHEMA_BASE:
        database = _database(state)
        if database is not None and not _holds(ctx, state, database, "T"):
            raise InsufficientPrivilege(f'permission denied to create temporary tables in database "{database.name}"')
        return
    schema = state.by_oid.get(schema_oid)
    if isinstance(schema, Schema) and not _holds(ctx, state, schema, "C"):
        raise denied(schema)


def require_database(ctx: Any, wanted: str) -> None:
    """CREATE SCHEMA needs CREATE on the database: 42501 "permission denied for database d"."""
    state = _state_of(ctx)
    database = _database(state) if state is not None else None
    if database is not None and not _holds(ctx, state, database, wanted):
        raise denied(database)


def _state_of(ctx: Any) -> Any:
    """The catalog the statement runs against (None: a context with no catalog state)."""
    state = ctx.extra.get("catalog_state")
    if state is None and hasattr(ctx.catalog, "state_for"):
        state = ctx.catalog.state_for(ctx.txn)
    return state


def _database(state: Any) -> Database | None:
    return state.databases.get("postgres")  # type: ignore[no-any-return]


def _holds(ctx: Any, state: Any, obj: Any, wanted: str) -> bool:
    current, superuser = acting_role(ctx, state)
    return superuser or acl.has_privilege(state, current, obj, wanted)


# LOCK TABLE (LockTableAclCheck): ACCESS SHARE needs SELECT, ROW EXCLUSIVE INSERT, UPDATE,
# DELETE or TRUNCATE, any other mode UPDATE, DELETE or TRUNCATE
LOCK_PRIVILEGES = {1: "r", 3: "awdD"}


def require_lock(ctx: Any, obj: Any, mode: int) -> None:
    require(ctx, obj, LOCK_PRIVILEGES.get(mode, "wdD"), any_of=True)


def privileges_of_role(state: Any, role_oid: int) -> list[tuple[str, Any]]:
    """(what PostgreSQL's DROP ROLE DETAIL calls it, object) for each object whose ACL names
    `role_oid` as grantee or grantor (pg_shdepend's ACL rows: what DROP ROLE refuses and DROP
    OWNED revokes), the database first, then in oid order."""
    found = sorted((obj for obj in acl.objects_with_acl(state)
                    if (acl.mentions(obj.acl, role_oid) or acl.column_mentions(obj, role_oid))
                    and (getattr(obj, "owner", None) != role_oid or isinstance(obj, Database))),
                   key=lambda obj: (not isinstance(obj, Database), obj.oid))
    out = []
    for obj in found:
        if acl.mentions(obj.acl, role_oid):
            out.append((describe(state, obj), obj))
        out.extend((f"column {name} of {describe(state, obj)}", obj) for _, name in acl.column_mentions(obj, role_oid))
    return out


def describe(state: Any, obj: Any) -> str:
    """getObjectDescription: "table t" ("table s.t" outside the search path), "database d",
    "default privileges on new relations belonging to role r in schema s"."""
    if isinstance(obj, Database):
        return f"database {obj.name}"
    if isinstance(obj, DefaultAcl):
        role = role_by_oid(state, obj.role)
        text = f"default privileges on new {acl.DEFAULT_ACL_WORDS[obj.objtype]} belonging to role " \
               f"{role.name if role is not None else obj.role}"
        schema = state.by_oid.get(obj.schema_oid)
        return text + (f" in schema {schema.name}" if schema is not None else "")
    if isinstance(obj, Schema):
        return f"schema {obj.name}"
    name = obj.name
    schema = state.by_oid.get(getattr(obj, "schema_oid", 0))
    if isinstance(obj, Function):
        visible = any(f is obj for f in state.user_functions(obj.name))
        shown = obj.name if visible or schema is None else f"{schema.name}.{obj.name}"
        args = ", ".join(format_type(t) for t in obj.arg_types)
        return f"function {shown}({args})"  # (getObjectDescription says function for procedures too)
    found = state.user_type(obj.name) if isinstance(obj, EnumType) else (
        state.user_domain(obj.name) if type(obj).__name__ == "Domain" else state.relation(obj.name))
    if schema is not None and found is not obj:
        name = f"{schema.name}.{obj.name}"
    return f"{object_word(obj)} {name}"
