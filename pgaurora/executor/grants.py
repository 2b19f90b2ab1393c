"""Executing GRANT / REVOKE of privileges on tables, views, sequences, schemas and the database.

Owns PostgreSQL 15's ExecuteGrantStmt for these objects and their columns, and ALTER DEFAULT
PRIVILEGES (SetDefaultACLsInSchemas): the grantor (the owner for whoever has
the owner's privileges, else the role holding the grant options: catalog.acl.grantor_for), its
checks and warnings (42501 for a grantor holding nothing at all; 01007 / 01006 "no privileges
were granted" / "not all privileges could be revoked"), the sequence and invalid-privilege
rules, GRANTED BY, WITH GRANT OPTION, REVOKE GRANT OPTION FOR and CASCADE (2BP01 "dependent
privileges exist" without it). Each changed object is a new catalog version with its `acl`.
Not the ACL arithmetic (catalog.acl), not the checks made when data is read or written
(executor.privileges).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog import acl as aclmod
from pgaurora.catalog.model import DefaultAcl, Function, Sequence, Table, View
from pgaurora.catalog.roles import PREDEFINED_BY_NAME, is_member
from pgaurora.errors import (
    DependentObjectsStillExist,
    FeatureNotSupported,
    InsufficientPrivilege,
    InvalidGrantOperation,
    PgError,
    UndefinedColumn,
    UndefinedObject,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.ownership import current_role, named_role
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.privileges import denied

PUBLIC_GRANTEE = ("public", None)


@dataclass(frozen=True, slots=True)
class GrantPrivileges(PlanNode):
    """GRANT privileges ON objects TO grantees / REVOKE ... FROM grantees.

    `objtype`: "table" (tables, views, materialized views and sequences), "sequence", "schema"
    or "database"; `objects`: (schema, name) as written, or with `in_schemas` the schemas whose
    every table (or sequence) is meant; `privileges`: GRANT's words, () for ALL; grantees and
    `grantor` as planner.ddl.role_spec_name keeps role names, ("public", None) for PUBLIC."""

    grant: bool
    objtype: str
    objects: tuple[tuple[str | None, str], ...]
    privileges: tuple[str, ...]
    grantees: tuple[tuple[str, str | None], ...]
    grant_option: bool = False
    # column privileges: (privilege word or "all", column names), as GRANT SELECT (a, b) ON t
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()
    grantor: str | None = None
    has_grantor: bool = False
    cascade: bool = False
    in_schemas: bool = False
    # FUNCTION / PROCEDURE / ROUTINE: (schema, name, argument types or None) as written
    functions: tuple[tuple[str | None, str, tuple[int, ...] | None], ...] = ()
    width: int = 0


_SEQUENCE_PRIVILEGES = "rwU"


_ROUTINE_KINDS = {"function": ("f",), "procedure": ("p",), "routine": ("f", "p")}


def _targets(node: GrantPrivileges, ctx: Any) -> list[Any]:
    state = _state(ctx)
    found: list[Any] = []
    if node.in_schemas:
        for _, name in node.objects:
            schema = state.schemas.get(name)
            if schema is None:
                raise UndefinedObject(f'schema "{name}" does not exist', sqlstate="3F000")
            for obj in sorted(state.by_oid.values(), key=lambda o: getattr(o, "oid", 0)):
                if getattr(obj, "schema_oid", None) != schema.oid:
                    continue
                if node.objtype in _ROUTINE_KINDS:
                    if isinstance(obj, Function) and obj.kind in _ROUTINE_KINDS[node.objtype]:
                        found.append(obj)
                elif isinstance(obj, Sequence if node.objtype == "sequence" else Table | View):
                    found.append(obj)
        return found
    if node.objtype in _ROUTINE_KINDS:
        from pgaurora.executor.routines import one_function

        return [one_function(state, schema_name, name, types, node.objtype)
                for schema_name, name, types in node.functions]
    for schema_name, name in node.objects:
        if node.objtype == "schema":
            schema = state.schemas.get(name)
            if schema is None:
                raise UndefinedObject(f'schema "{name}" does not exist', sqlstate="3F000")
            found.append(schema)
            continue
        if node.objtype == "database":
            db = state.databases.get(name)
            if db is None:
                raise UndefinedObject(f'database "{name}" does not exist', sqlstate="3D000")
            found.append(db)
            continue
        rel = state.relation(name, schema_name)
        shown = f"{schema_name}.{name}" if schema_name else name
        if rel is None or not isinstance(rel, Table | View | Sequence):
            if rel is not None:
                raise WrongObjectType(f'"{name}" is not a table, view, materialized view, sequence, or foreign table')
            raise UndefinedTable(f'relation "{shown}" does not exist')
        if node.objtype == "sequence" and not isinstance(rel, Sequence):
            raise WrongObjectType(f'"{name}" is not a sequence')
        found.append(rel)
    return found


def _wanted(node: GrantPrivileges, obj: Any, ctx: Any) -> tuple[str, bool]:
    """The privilege letters the statement means for `obj`, and whether it said ALL."""
    all_rights = aclmod.all_privileges(obj)
    if not node.privileges:
        return ("", False) if node.columns else (all_rights, True)
    letters = set()
    for word in node.privileges:
        letter = aclmod.WORDS.get(word)
        if letter is None:
            raise FeatureNotSupported(f'unrecognized privilege type "{word}"')  # pragma: no cover - grammar
        letters.add(letter)
    wanted = aclmod.letters(letters)
    if node.objtype == "table" and isinstance(obj, Sequence):
        if any(c not in _SEQUENCE_PRIVILEGES for c in wanted):
            _warn(ctx, f'sequence "{obj.name}" only supports USAGE, SELECT, and UPDATE privileges', "0LP01")
        return aclmod.letters({c for c in wanted if c in _SEQUENCE_PRIVILEGES}), False
    for c in wanted:
        if c not in all_rights:
            raise InvalidGrantOperation(f"invalid privilege type {aclmod.NAMES[c]} for {node.objtype}")
    return wanted, False


def _warn(ctx: Any, message: str, sqlstate: str) -> None:
    ctx.notice(PgError(message, sqlstate=sqlstate), "WARNING")


def _grantee_oids(node: GrantPrivileges, ctx: Any) -> list[int]:
    oids = []
    for kind, name in node.grantees:
        if kind == "public":
            oids.append(aclmod.PUBLIC)
        elif name in PREDEFINED_BY_NAME and ctx.catalog.get_role(name, ctx.txn) is None:
            oids.append(PREDEFINED_BY_NAME[name])  # pg_database_owner, pg_read_all_data, ...
        else:
            oids.append(named_role(ctx, name).oid)
    return oids


@ddl_runner(GrantPrivileges)
async def run_grant_privileges(node: GrantPrivileges, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "GRANT" if node.grant else "REVOKE")
    if node.objtype == "database":  # database names before roles, as PostgreSQL
        _targets(node, ctx)
    grantees = _grantee_oids(node, ctx)
    current = current_role(ctx)
    acting = current.oid if current is not None else aclmod.BOOTSTRAP_SUPERUSER_OID
    if node.has_grantor:
        named = named_role(ctx, node.grantor)
        if named.oid != acting:  # PostgreSQL 15 accepts only the current role
            raise FeatureNotSupported("grantor must be current user")
    for obj in _targets(node, ctx):
        obj = _state(ctx).by_oid.get(obj.oid, obj)  # as this statement left it (one target twice)
        wanted, all_privileges = _wanted(node, obj, ctx)
        old_acl = aclmod.effective_acl(obj)
        if wanted:
            await _relation_level(node, env, obj, wanted, all_privileges, grantees, acting)
        columns = _column_privileges(node, obj, wanted, ctx)
        for attnum, name in _all_columns(obj):
            if columns.get(attnum):
                await _column_level(node, env, obj, attnum, name, columns[attnum], all_privileges, grantees,
                                    acting, old_acl)


async def _relation_level(node: GrantPrivileges, env: Env, obj: Any, wanted: str, all_privileges: bool,
                          grantees: list[int], acting: int) -> None:
    ctx = env.ctx
    state = _state(ctx)
    grantor, options = aclmod.grantor_for(state, acting, obj, wanted)
    if not options:
        held, _ = aclmod.privileges_of(state, grantor, obj)
        if not held:
            raise denied(obj)
    granted = aclmod.letters({c for c in wanted if c in options})
    _restricted(ctx, node.grant, granted, wanted, all_privileges, f'"{obj.name}"')
    if not granted:
        return
    acl = _merged(node, state, aclmod.effective_acl(obj), grantees, grantor, granted, aclmod.acl_owner(obj))
    if acl != aclmod.effective_acl(obj) or getattr(obj, "acl", None) is None:
        await ctx.catalog.replace(ctx.txn, replace(obj, acl=acl))


async def _column_level(node: GrantPrivileges, env: Env, obj: Any, attnum: int, name: str, wanted: str,
                        all_privileges: bool, grantees: list[int], acting: int, rel_acl: aclmod.Acl) -> None:
    """ExecGrant_Attribute: the grantor's options come from the table's ACL (as the statement
    found it) and the column's; the column's ACL changes (attacl, NULL when empty)."""
    ctx = env.ctx
    state = _state(ctx)
    obj = state.by_oid.get(obj.oid, obj)
    column = aclmod.column_acl(obj, attnum)
    grantor, options = aclmod.grantor_for(state, acting, obj, wanted, rel_acl + column)
    if not options:
        held = aclmod.privileges_of(state, grantor, obj)[0] + aclmod.column_privileges_of(state, grantor, obj, attnum)[0]
        if not held:
            raise InsufficientPrivilege(f'permission denied for column "{name}" of relation "{obj.name}"')
    granted = aclmod.letters({c for c in wanted if c in options})
    _restricted(ctx, node.grant, granted, wanted, all_privileges, f'column "{name}" of relation "{obj.name}"')
    if not granted:
        return
    acl = _merged(node, state, column, grantees, grantor, granted, aclmod.acl_owner(obj))
    if acl != column and attnum > 0:  # (system columns keep no ACL here)
        await ctx.catalog.replace(ctx.txn, aclmod.with_column_acl(obj, attnum, acl))


def _restricted(ctx: Any, grant: bool, granted: str, wanted: str, all_privileges: bool, what: str) -> None:
    """restrict_and_check_grant's warnings: none, or not all, of the privileges asked for."""
    if grant:
        if not granted:
            _warn(ctx, f"no privileges were granted for {what}", "01007")
        elif not all_privileges and granted != wanted:
            _warn(ctx, f"not all privileges were granted for {what}", "01007")
    elif not granted:
        _warn(ctx, f"no privileges could be revoked for {what}", "01006")
    elif not all_privileges and granted != wanted:
        _warn(ctx, f"not all privileges could be revoked for {what}", "01006")


def _merged(node: GrantPrivileges, state: Any, acl: aclmod.Acl, grantees: list[int], grantor: int,
            granted: str, owner: int) -> aclmod.Acl:
    """merge_acl_with_grant: each grantee's item from `grantor` gains or loses `granted`; a
    REVOKE takes the grants that depended on a revoked grant option too (CASCADE, else 2BP01)."""
    for grantee in grantees:
        if node.grant:
            if node.grant_option and grantee == aclmod.PUBLIC:
                raise InvalidGrantOperation("grant options can only be granted to roles")
            if node.grant_option and _grants_back(state, acl, grantee, grantor, granted):
                raise InvalidGrantOperation("grant options cannot be granted back to your own grantor")
            acl = aclmod.grant(acl, grantee, grantor, granted, granted if node.grant_option else "")
        else:
            acl = aclmod.revoke(acl, grantee, grantor, granted, options_only=node.grant_option)
    if not node.grant:
        cascaded = aclmod.without_dependents(state, acl, owner)
        if cascaded != acl and not node.cascade:
            raise DependentObjectsStillExist("dependent privileges exist", hint="Use CASCADE to revoke them too.")
        acl = cascaded
    return acl


_SYSTEM_COLUMNS = ((-6, "tableoid"), (-5, "cmax"), (-4, "xmax"), (-3, "cmin"), (-2, "xmin"), (-1, "ctid"))


def _all_columns(obj: Any) -> list[tuple[int, str]]:
    """(attnum, name) of every column, system columns first (a view has none)."""
    if isinstance(obj, Table | Sequence):
        return [*_SYSTEM_COLUMNS, *aclmod.live_columns(obj)]
    return aclmod.live_columns(obj)


def _column_privileges(node: GrantPrivileges, obj: Any, wanted: str, ctx: Any) -> dict[int, str]:
    """attnum -> the column privileges the statement changes: those it names per column, and for
    a REVOKE of table-level SELECT, INSERT, UPDATE or REFERENCES those on every column
    (expand_all_col_privileges)."""
    out: dict[int, set[str]] = {}
    implied = {c for c in wanted if c in aclmod.COLUMN_PRIVILEGES}
    if not node.grant and implied and not isinstance(obj, Sequence):
        for attnum, _ in _all_columns(obj):
            out.setdefault(attnum, set()).update(implied)
    names = {name: attnum for attnum, name in _all_columns(obj)}
    for word, columns in node.columns:
        letters = set(aclmod.COLUMN_PRIVILEGES) if word == "all" else {aclmod.WORDS.get(word, "?")}
        bad = letters - set(aclmod.COLUMN_PRIVILEGES)
        if bad:
            raise InvalidGrantOperation(f"invalid privilege type {aclmod.NAMES.get(bad.pop(), word.upper())} for column")
        if isinstance(obj, Sequence) and letters - {"r"}:
            _warn(ctx, f'sequence "{obj.name}" only supports SELECT column privileges', "0LP01")
            letters &= {"r"}
        for column in columns:
            found = names.get(column)
            if found is None:
                raise UndefinedColumn(f'column "{column}" of relation "{obj.name}" does not exist')
            out.setdefault(found, set()).update(letters)
    return {attnum: aclmod.letters(found) for attnum, found in out.items()}


def _grants_back(state: Any, acl: aclmod.Acl, grantee: int, grantor: int, privileges: str) -> bool:
    """check_circularity: would `grantee` get a grant option that `grantor` holds only through
    `grantee`'s grants?"""
    for who, by, _, grantable in acl:
        if who == grantor and by == grantee and any(c in grantable for c in privileges):
            return True
    return False


@dataclass(frozen=True, slots=True)
class AlterDefaultPrivileges(PlanNode):
    """ALTER DEFAULT PRIVILEGES [FOR ROLE roles] [IN SCHEMA schemas] GRANT / REVOKE ... ON
    TABLES | SEQUENCES | FUNCTIONS | TYPES | SCHEMAS: `action` says what (its objtype a
    pg_default_acl letter), no `roles` the current one, no `schemas` everywhere."""

    action: GrantPrivileges
    roles: tuple[str | None, ...] = ()
    schemas: tuple[str, ...] = ()
    width: int = 0


_DEFAULT_KINDS = {"r": "relation", "S": "sequence", "f": "function", "T": "type", "n": "schema"}


@ddl_runner(AlterDefaultPrivileges)
async def run_alter_default_privileges(node: AlterDefaultPrivileges, env: Env) -> None:
    """SetDefaultACLsInSchemas: each (role, schema or none, kind) entry is the ACL the GRANT /
    REVOKE leaves, granted by that role; an entry equal to the built-in default (for a schema:
    empty) is removed. Only a member of a role may change its defaults (42501)."""
    ctx = env.ctx
    catalog = ctx.catalog
    action = node.action
    objtype = action.objtype
    _tag(env, "ALTER DEFAULT PRIVILEGES")
    if node.schemas and objtype == "n":
        raise InvalidGrantOperation("cannot use IN SCHEMA clause when using GRANT/REVOKE ON SCHEMAS")
    state = _state(ctx)
    current = current_role(ctx)
    roles = [named_role(ctx, name) for name in node.roles] or ([current] if current is not None else [])
    for role in roles:
        if current is not None and not is_member(state, current.oid, role.oid):
            raise InsufficientPrivilege(f'must be member of role "{role.name}"')
    schema_oids = []
    for name in node.schemas:
        schema = state.schemas.get(name)
        if schema is None:
            raise UndefinedObject(f'schema "{name}" does not exist', sqlstate="3F000")
        schema_oids.append(schema.oid)
    everything = aclmod.DEFAULTS[aclmod.DEFAULT_ACL_TYPES[objtype]][1]
    letters = set()
    for word in action.privileges:
        letter = aclmod.WORDS.get(word, "?")
        if letter not in everything:
            raise InvalidGrantOperation(f"invalid privilege type {word.upper()} for {_DEFAULT_KINDS[objtype]}")
        letters.add(letter)
    wanted = aclmod.letters(letters) if action.privileges else everything
    grantees = _grantee_oids(action, ctx)
    if action.grant and action.grant_option and aclmod.PUBLIC in grantees:
        raise InvalidGrantOperation("grant options can only be granted to roles")
    for role in roles:
        for schema_oid in schema_oids or [0]:
            existing = _state(ctx).default_acls.get((role.oid, schema_oid, objtype))
            base = aclmod.default_acl(aclmod.DEFAULT_ACL_TYPES[objtype], role.oid) if not schema_oid else ()
            acl = existing.acl if existing is not None else base
            for grantee in grantees:
                if action.grant:
                    acl = aclmod.grant(acl, grantee, role.oid, wanted, wanted if action.grant_option else "")
                else:
                    acl = aclmod.revoke(acl, grantee, role.oid, wanted, options_only=action.grant_option)
            acl = aclmod.sorted_acl(acl)
            if acl == aclmod.sorted_acl(base):
                if existing is not None:
                    await catalog.remove(ctx.txn, existing.oid)
            elif existing is not None:
                await catalog.replace(ctx.txn, replace(existing, acl=acl))
            else:
                await catalog.create(ctx.txn, DefaultAcl(catalog.allocate_oid(), f"defacl/{role.oid}/{schema_oid}/{objtype}",
                                                         role.oid, schema_oid, objtype, acl))


__all__ = ["GrantPrivileges", "AlterDefaultPrivileges", "PUBLIC_GRANTEE"]
