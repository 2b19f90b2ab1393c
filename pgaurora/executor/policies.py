"""Executing CREATE / ALTER / DROP POLICY and ALTER TABLE ... ROW LEVEL SECURITY.

Owns these statements' checks (only the table's owner, 42501 "must be owner of table t"; a
policy name once per table, 42710; a missing policy 42704, or a NOTICE with IF EXISTS; TO
PUBLIC among other roles keeps PUBLIC alone, with PostgreSQL's WARNING) and the catalog
versions they write (catalog.model.Policy; Table.row_security / force_row_security). Not the
policies' meaning (catalog.rowsecurity, planner.rowsecurity).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog.model import Policy
from pgaurora.errors import DuplicateObject, PgError, UndefinedObject
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.ownership import named_role, require_owner
from pgaurora.executor.plannodes import PlanNode

PUBLIC_NAME = "\0public"  # TO PUBLIC, as planner.rowsecurity keeps it


@dataclass(frozen=True, slots=True)
class CreatePolicy(PlanNode):
    table_oid: int
    name: str
    command: str
    permissive: bool
    roles: tuple[str | None, ...]
    using: str | None
    check: str | None
    width: int = 0


@dataclass(frozen=True, slots=True)
class AlterPolicy(PlanNode):
    """ALTER POLICY name ON table [TO roles] [USING] [WITH CHECK] / RENAME TO new_name (None:
    unchanged)."""

    table_oid: int
    name: str
    roles: tuple[str | None, ...] | None
    using: str | None
    check: str | None
    width: int = 0
    new_name: str | None = None


@dataclass(frozen=True, slots=True)
class DropPolicy(PlanNode):
    targets: tuple[tuple[int, str, str], ...]  # (table oid or 0 when missing, policy name, table name)
    missing_ok: bool
    width: int = 0


@dataclass(frozen=True, slots=True)
class SetRowSecurity(PlanNode):
    table_oid: int
    changes: tuple[tuple[str, bool], ...]  # ("row_security" | "force_row_security", value)
    width: int = 0


def _role_oids(ctx: Any, names: tuple[str | None, ...]) -> tuple[int, ...]:
    if PUBLIC_NAME in names:
        if len(names) > 1:
            ctx.notice(PgError("ignoring specified roles other than PUBLIC", sqlstate="01000",
                               hint="All roles are members of the PUBLIC role."), "WARNING")
        return (0,)
    return tuple(named_role(ctx, name).oid for name in names)


def _find(ctx: Any, table_oid: int, name: str) -> Policy | None:
    return next((p for p in _state(ctx).policies.get(table_oid, ()) if p.policy_name == name), None)


@ddl_runner(CreatePolicy)
async def run_create_policy(node: CreatePolicy, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "CREATE POLICY")
    table = _state(ctx).table(node.table_oid)
    require_owner(ctx, table)
    roles = _role_oids(ctx, node.roles)
    if _find(ctx, node.table_oid, node.name) is not None:
        raise DuplicateObject(f'policy "{node.name}" for table "{table.name}" already exists')
    await ctx.catalog.create(ctx.txn, Policy(ctx.catalog.allocate_oid(), f"policy/{table.oid}/{node.name}", table.oid,
                                             node.name, node.command, node.permissive, roles, node.using, node.check))


@ddl_runner(AlterPolicy)
async def run_alter_policy(node: AlterPolicy, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER POLICY")
    table = _state(ctx).table(node.table_oid)
    require_owner(ctx, table)
    policy = _find(ctx, node.table_oid, node.name)
    if policy is None:
        raise UndefinedObject(f'policy "{node.name}" for table "{table.name}" does not exist')
    if node.new_name is not None:
        if _find(ctx, node.table_oid, node.new_name) is not None:
            raise DuplicateObject(f'policy "{node.new_name}" for table "{table.name}" already exists')
        policy = replace(policy, policy_name=node.new_name, name=f"policy/{table.oid}/{node.new_name}")
    if node.roles is not None:
        policy = replace(policy, roles=_role_oids(ctx, node.roles))
    if node.using is not None:
        if policy.command == "a":
            from pgaurora.errors import SyntaxError_

            raise SyntaxError_("only WITH CHECK expression allowed for INSERT")
        policy = replace(policy, using=node.using)
    if node.check is not None:
        if policy.command in ("r", "d"):
            from pgaurora.errors import SyntaxError_

            raise SyntaxError_("WITH CHECK cannot be applied to SELECT or DELETE")
        policy = replace(policy, check=node.check)
    await ctx.catalog.replace(ctx.txn, policy)


@ddl_runner(DropPolicy)
async def run_drop_policy(node: DropPolicy, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "DROP POLICY")
    for table_oid, name, table_name in node.targets:
        policy = _find(ctx, table_oid, name) if table_oid else None
        if policy is None:
            if node.missing_ok:
                ctx.notice(f'policy "{name}" for relation "{table_name}" does not exist, skipping')
                continue
            raise UndefinedObject(f'policy "{name}" for table "{table_name}" does not exist')
        require_owner(ctx, _state(ctx).table(table_oid), "relation")
        await ctx.catalog.remove(ctx.txn, policy.oid)


@ddl_runner(SetRowSecurity)
async def run_set_row_security(node: SetRowSecurity, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER TABLE")
    table = _state(ctx).table(node.table_oid)
    require_owner(ctx, table)
    await ctx.catalog.replace(ctx.txn, replace(table, **dict(node.changes)))
