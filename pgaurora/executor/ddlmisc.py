"""Executing ALTER ... OWNER TO, ALTER ... SET SCHEMA, COMMENT ON and LOCK TABLE (planned by
planner.ownership).

Owns the owner change of a schema, table, view or sequence (a new catalog version of the object,
transactional like any DDL), comments (catalog.model.Comment definitions: pg_description) and
LOCK TABLE: the named mode in the relation lock table (txn.rellocks), where every statement
takes its own modes (session.locking), held until the transaction ends; waits are
deadlock-checked and bounded by lock_timeout; NOWAIT raises 55P03 as PostgreSQL does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog import acl
from pgaurora.catalog.model import Sequence
from pgaurora.catalog.roles import is_member, role_by_oid
from pgaurora.errors import (
    DuplicateObject,
    DuplicateSchema,
    FeatureNotSupported,
    InsufficientPrivilege,
    ReservedName,
    UndefinedObject,
)
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.ownership import (
    current_role,
    current_role_oid,
    has_createrole,
    is_superuser,
    require_owner,
)
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.privileges import require_lock

# A role named by CURRENT_USER / CURRENT_ROLE or SESSION_USER: known when the statement runs.
CURRENT_ROLE = -1
SESSION_ROLE = -2


def resolve_role(ctx: Any, oid: int) -> int:
    """A role oid a plan holds -> the role's oid (CURRENT_ROLE / SESSION_ROLE as of now)."""
    if oid == CURRENT_ROLE:
        return current_role_oid(ctx)
    if oid == SESSION_ROLE:
        role = ctx.catalog.get_role(getattr(ctx, "session_user", ""), ctx.txn)
        return role.oid if role is not None else current_role_oid(ctx)
    return oid


@dataclass(frozen=True, slots=True)
class ChangeOwner(PlanNode):
    oid: int         # the schema, table, view or sequence
    owner: int       # the new owner's role oid, or CURRENT_ROLE / SESSION_ROLE
    tag: str = "ALTER TABLE"
    width: int = 0


@dataclass(frozen=True, slots=True)
class LockRelations(PlanNode):
    relations: tuple[tuple[int, str], ...]  # (oid, name as written)
    shared: bool
    nowait: bool
    width: int = 0
    mode: int = 8  # LOCK TABLE's mode as lockdefs.h numbers it (1 AccessShareLock ... 8 AccessExclusiveLock)


@dataclass(frozen=True, slots=True)
class SetComment(PlanNode):
    key: tuple[int, int, int]  # (classoid, objoid, objsubid) as pg_description / pg_shdescription
    text: str | None           # None (or '') removes the comment
    width: int = 0
    missing: str = ""          # COMMENT ON DATABASE of a database that does not exist (a WARNING)


@ddl_runner(SetComment)
async def run_comment(node: SetComment, env: Env) -> None:
    from pgaurora.catalog.model import Comment

    ctx = env.ctx
    _tag(env, "COMMENT")
    state = _state(ctx)
    classoid, objoid, objsubid = node.key
    if node.missing:
        from pgaurora.errors import PgError

        ctx.notice(PgError(f'database "{node.missing}" does not exist', sqlstate="3D000"), "WARNING")
        return
    obj = state.by_oid.get(objoid)
    if classoid == 1260:  # a role: CREATEROLE (PostgreSQL 15's check_object_ownership)
        if not has_createrole(ctx):
            raise InsufficientPrivilege("must have CREATEROLE privilege")
        obj = None
    if obj is None and classoid == 2606:  # a table constraint: its table's owner
        obj = next((t for t in state.tables() if any(c.oid == objoid for c in t.constraints)), None)
        objsubid = 1
    if obj is not None and hasattr(obj, "name"):
        require_owner(ctx, obj, "relation" if objsubid else None)
    existing = state.comments.get(node.key)
    if node.text is None:
        if existing is not None:
            await ctx.catalog.remove(ctx.txn, existing.oid)
    elif existing is not None:
        await ctx.catalog.replace(ctx.txn, replace(existing, description=node.text))
    else:
        classoid, objoid, objsubid = node.key
        await ctx.catalog.create(ctx.txn, Comment(ctx.catalog.allocate_oid(), f"{classoid}/{objoid}/{objsubid}",
                                                  classoid, objoid, objsubid, node.text))


@dataclass(frozen=True, slots=True)
class SetSchema(PlanNode):
    """ALTER TABLE / VIEW / MATERIALIZED VIEW / SEQUENCE ... SET SCHEMA schema."""

    oid: int
    schema: str
    tag: str = "ALTER TABLE"
    width: int = 0


@ddl_runner(SetSchema)
async def run_set_schema(node: SetSchema, env: Env) -> None:
    """PostgreSQL's AlterTableNamespace: the owner (42501), CREATE on the new schema, no relation
    of that name there (42P07), no owned sequence alone (0A000); a table takes its indexes and
    owned sequences along (their defaults' nextval follows); views naming it follow
    (executor.viewdeps)."""
    from pgaurora.catalog.model import Table
    from pgaurora.catalog.state import TEMP_SCHEMA_BASE
    from pgaurora.errors import DuplicateTable
    from pgaurora.executor.ddl import _qualify
    from pgaurora.executor.privileges import require_create_in
    from pgaurora.executor.viewdeps import follow_relation

    ctx = env.ctx
    _tag(env, node.tag)
    state = _state(ctx)
    obj = state.by_oid.get(node.oid)
    schema = state.schemas.get(node.schema)
    if schema is None:
        raise UndefinedObject(f'schema "{node.schema}" does not exist', sqlstate="3F000")
    if obj is None or schema.oid == obj.schema_oid:
        return
    require_owner(ctx, obj)
    if schema.oid >= TEMP_SCHEMA_BASE or obj.schema_oid >= TEMP_SCHEMA_BASE:
        raise FeatureNotSupported("cannot move objects into or out of temporary schemas")
    require_create_in(ctx, schema.oid)
    if isinstance(obj, Sequence) and obj.owned_by[0]:
        owner = state.table(obj.owned_by[0])
        raise FeatureNotSupported("cannot move an owned sequence into another schema",
                                  detail=f'Sequence "{obj.name}" is linked to table "{owner.name if owner else "?"}".')
    old_schema = next((s.name for s in state.schemas.values() if s.oid == obj.schema_oid), "public")
    moving = [obj]
    if isinstance(obj, Table):
        moving += list(state.indexes(obj.oid))
        moving += state.owned_sequences(obj.oid)
    for item in moving:
        if state.name_in_use(schema.oid, item.name):
            raise DuplicateTable(f'relation "{item.name}" already exists in schema "{schema.name}"')
    changed = []
    for item in moving:
        item = replace(item, schema_oid=schema.oid)
        if isinstance(item, Table):  # serial / identity defaults name their sequence qualified
            renames = {f"nextval('{_qualify(old_schema, s.name)}'::regclass)":
                       f"nextval('{_qualify(schema.name, s.name)}'::regclass)" for s in moving if isinstance(s, Sequence)}
            item = replace(item, columns=tuple(replace(c, default=renames.get(c.default, c.default))
                                               if c.default else c for c in item.columns))
        changed.append(item)
    await ctx.catalog.replace(ctx.txn, *changed)
    await follow_relation(ctx, state, obj.oid, obj.name, schema.name)


@ddl_runner(ChangeOwner)
async def run_change_owner(node: ChangeOwner, env: Env) -> None:
    ctx = env.ctx
    state = _state(ctx)
    obj = state.by_oid.get(node.oid)
    if obj is None:
        raise UndefinedObject(f"cache lookup failed for relation {node.oid}", sqlstate="XX000")
    _tag(env, node.tag)
    if not hasattr(obj, "owner"):  # a catalog without owners for this kind: nothing to record
        return
    owner = resolve_role(ctx, node.owner)
    if getattr(obj, "owner", None) == owner:
        return
    # PostgreSQL's checks (ATExecChangeOwner, AlterSchemaOwner): a superuser may give anything
    # to anyone; anyone else must own the object and be a member of the new owner
    current = current_role(ctx)
    if current is not None and not current.superuser:
        require_owner(ctx, obj)
        if not is_member(state, current.oid, owner):
            new = role_by_oid(state, owner)
            raise InsufficientPrivilege(f'must be member of role "{new.name if new is not None else owner}"')
        schema = state.by_oid.get(getattr(obj, "schema_oid", -1))
        if schema is not None and not acl.has_privilege(state, owner, schema, "C"):  # the new owner creates there
            raise InsufficientPrivilege(f"permission denied for schema {schema.name}")
    # a table's owned sequences (serial, identity) follow it, as PostgreSQL's do
    sequences = state.owned_sequences(obj.oid)
    await ctx.catalog.replace(ctx.txn, *(acl.with_owner(o, owner) for o in (obj, *sequences)))



@dataclass(frozen=True, slots=True)
class RenameObject(PlanNode):
    """ALTER SCHEMA / ROLE name RENAME TO new_name."""

    kind: str  # "schema" | "role"
    name: str
    new_name: str
    width: int = 0


@ddl_runner(RenameObject)
async def run_rename(node: RenameObject, env: Env) -> None:
    """PostgreSQL 15's RenameSchema and RenameRole checks: the schema's owner (42501), a name
    not taken (42P06 / 42710), not a reserved pg_ role name (42939); neither the session nor
    the current user, a superuser for a superuser, CREATEROLE for others; a renamed role loses
    an MD5 password, which hashed its old name (SCRAM verifiers do not)."""
    ctx = env.ctx
    catalog = ctx.catalog
    state = _state(ctx)
    if node.kind == "schema":
        _tag(env, "ALTER SCHEMA")
        schema = state.schemas.get(node.name)
        if schema is None:
            raise UndefinedObject(f'schema "{node.name}" does not exist', sqlstate="3F000")
        if node.new_name in state.schemas:
            raise DuplicateSchema(f'schema "{node.new_name}" already exists')
        require_owner(ctx, schema)
        await catalog.replace(ctx.txn, replace(schema, name=node.new_name))
        return
    _tag(env, "ALTER ROLE")
    role = catalog.get_role(node.name, ctx.txn)
    if role is None:
        raise UndefinedObject(f'role "{node.name}" does not exist')
    if node.name == getattr(ctx, "session_user", None):
        raise FeatureNotSupported("session user cannot be renamed")
    if node.name == getattr(ctx, "user", None):
        raise FeatureNotSupported("current user cannot be renamed")
    if catalog.get_role(node.new_name, ctx.txn) is not None:
        raise DuplicateObject(f'role "{node.new_name}" already exists')
    if node.new_name.startswith("pg_"):
        raise ReservedName(f'role name "{node.new_name}" is reserved',
                           detail='Role names starting with "pg_" are reserved.')
    if role.superuser:
        if not is_superuser(ctx):
            raise InsufficientPrivilege("must be superuser to rename superusers")
    elif not has_createrole(ctx):
        raise InsufficientPrivilege("permission denied to rename role")
    password = role.password
    if password is not None and password.startswith("md5"):
        ctx.notice("MD5 password cleared because of role rename")
        password = None
    await catalog.alter_role(ctx.txn, replace(role, name=node.new_name, password=password))


@ddl_runner(LockRelations)
async def run_lock(node: LockRelations, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "LOCK TABLE")
    txn = ctx.txn
    table = txn.manager.relation_locks
    state = _state(ctx)
    for oid, _ in node.relations:  # LockTableAclCheck, before any lock is taken
        obj = state.by_oid.get(oid)
        if obj is not None:
            require_lock(ctx, obj, node.mode)
    for oid, name in node.relations:
        await table.lock(txn, oid, node.mode - 1, nowait=node.nowait, name=name)
