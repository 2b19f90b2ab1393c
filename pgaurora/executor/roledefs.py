"""Role DDL: CREATE / ALTER / DROP's checks and GRANT / REVOKE of role membership.

Owns running CreateRole, AlterRole and GrantRoles with PostgreSQL 15's permission checks and
messages (superuser for superuser, replication and bypassrls roles; CREATEROLE for the rest;
a role's own password for anyone; the admin option for granting a role) and what pg_authid
keeps for a password. Not the plan nodes (executor.ddl) nor the membership walks
(catalog.roles); DROP ROLE runs with the other drops (executor.ddlchange).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pgaurora.catalog.model import BOOTSTRAP_SUPERUSER_OID, Role
from pgaurora.catalog.roles import PREDEFINED_BY_NAME, has_admin_option, roles_of
from pgaurora.errors import DuplicateObject, InsufficientPrivilege, InvalidGrantOperation
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import AlterRole, CreateRole, GrantRoles, _state, _tag, ddl_runner
from pgaurora.executor.ownership import current_role, has_createrole, is_superuser, named_role


def _stored_password(role_name: str, password: str | None, ctx: Any) -> str | None:
    """What pg_authid keeps for PASSWORD 'x': a SCRAM verifier (or an md5 hash when
    password_encryption says so), never the password itself."""
    if password is None or password == "":
        return None  # PostgreSQL: an empty password is stored as NULL (no password)
    from pgaurora.security.password import encrypt_password

    method = "scram-sha-256"
    settings = getattr(ctx, "settings", None)
    if settings is not None:
        try:
            method = settings.get("password_encryption") or method
        except Exception:  # an ExecContext without that setting: the default
            method = "scram-sha-256"
    return encrypt_password(password, role_name, method)


@ddl_runner(CreateRole)
async def run_create_role(node: CreateRole, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "CREATE ROLE")
    # PostgreSQL 15's CreateRole checks, in its order
    if node.role.superuser:
        if not is_superuser(ctx):
            raise InsufficientPrivilege("must be superuser to create superusers")
    elif node.role.replication:
        if not is_superuser(ctx):
            raise InsufficientPrivilege("must be superuser to create replication users")
    elif node.bypassrls:
        if not is_superuser(ctx):
            raise InsufficientPrivilege("must be superuser to create bypassrls users")
    elif not has_createrole(ctx):
        raise InsufficientPrivilege("permission denied to create role")
    if ctx.catalog.get_role(node.role.name, ctx.txn) is not None:
        raise DuplicateObject(f'role "{node.role.name}" already exists')
    role = node.role
    if role.password is not None:
        role = replace(role, password=_stored_password(role.name, role.password, ctx))
    await ctx.catalog.create_role(ctx.txn, role)
    # IN ROLE / ROLE / ADMIN: the memberships GRANT would make, with its checks (AddRoleMems)
    if node.in_roles:
        await run_grant_roles(GrantRoles(node.in_roles, (role.name,), True, False), env)
    if node.members:
        await run_grant_roles(GrantRoles((role.name,), node.members, True, False), env)
    if node.admins:
        await run_grant_roles(GrantRoles((role.name,), node.admins, True, True), env)
    _tag(env, "CREATE ROLE")


@ddl_runner(GrantRoles)
async def run_grant_roles(node: GrantRoles, env: Env) -> None:
    """PostgreSQL 15's AddRoleMems / DelRoleMems: who may grant a role (a superuser for a
    superuser role; else CREATEROLE or the admin option on it), no cycles (0LP01), a NOTICE for
    a member already there, a WARNING for one that is not."""
    ctx = env.ctx
    catalog = ctx.catalog
    _tag(env, "GRANT ROLE" if node.grant else "REVOKE ROLE")
    current = current_role(ctx)
    members = [named_role(ctx, m) for m in node.members]
    for role_name in node.roles:
        role = _granted_role(ctx, role_name)
        if role.superuser:
            if not is_superuser(ctx):
                raise InsufficientPrivilege("must be superuser to alter superusers")
        elif not has_createrole(ctx) and not (current is not None and has_admin_option(_state(ctx), current.oid, role.oid)):
            raise InsufficientPrivilege(f'must have admin option on role "{role.name}"')
        for member in members:
            member = catalog.get_role(member.name, ctx.txn) or member  # this statement may have changed it
            entry = next((m for m in member.member_of if m[0] == role.oid), None)
            if node.grant:
                if member.oid == role.oid or member.oid in roles_of(_state(ctx), role.oid, inherit=False):
                    raise InvalidGrantOperation(f'role "{role.name}" is a member of role "{member.name}"')
                if entry is not None and (entry[2] or not node.admin):
                    ctx.notice(f'role "{member.name}" is already a member of role "{role.name}"')
                    continue
                grantor = current.oid if current is not None else BOOTSTRAP_SUPERUSER_OID
                kept = tuple(m for m in member.member_of if m[0] != role.oid)
                await catalog.alter_role(ctx.txn, replace(member, member_of=kept + ((role.oid, grantor, node.admin),)))
                continue
            if entry is None:
                ctx.notice(f'role "{member.name}" is not a member of role "{role.name}"', "WARNING")
                continue
            if node.admin:  # REVOKE ADMIN OPTION FOR: the membership stays
                changed = tuple((r, g, False) if r == role.oid else (r, g, a) for r, g, a in member.member_of)
            else:
                changed = tuple(m for m in member.member_of if m[0] != role.oid)
            await catalog.alter_role(ctx.txn, replace(member, member_of=changed))


def _granted_role(ctx: Any, name: str | None) -> Role:
    """The role GRANT / REVOKE role names: a catalog role, or one of PostgreSQL 15's predefined
    roles (pg_read_all_data, pg_signal_backend, ...: catalog.roles.PREDEFINED_ROLES)."""
    if name in PREDEFINED_BY_NAME and name != "pg_database_owner" and ctx.catalog.get_role(name, ctx.txn) is None:
        return Role(PREDEFINED_BY_NAME[name], name, login=False)
    return named_role(ctx, name)


@ddl_runner(AlterRole)
async def run_alter_role(node: AlterRole, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER ROLE")
    role = named_role(ctx, node.name)
    changes = dict(node.changes)
    # PostgreSQL 15's AlterRole checks: superuser and replication roles and attributes are a
    # superuser's to change; without CREATEROLE a role may change its own password, nothing else
    if role.superuser or "superuser" in changes:
        if not is_superuser(ctx):
            raise InsufficientPrivilege("must be superuser to alter superuser roles or change superuser attribute")
    elif role.replication or "replication" in changes:
        if not is_superuser(ctx):
            raise InsufficientPrivilege("must be superuser to alter replication roles or change replication attribute")
    elif node.bypassrls:
        if not is_superuser(ctx):
            raise InsufficientPrivilege("must be superuser to change bypassrls attribute")
    elif not has_createrole(ctx):
        current = current_role(ctx)
        if set(changes) != {"password"} or current is None or current.oid != role.oid:
            raise InsufficientPrivilege("permission denied")
    if "password" in changes:
        changes["password"] = _stored_password(role.name, changes["password"], ctx)
    await ctx.catalog.alter_role(ctx.txn, replace(role, **changes))


