"""CREATE DOMAIN and DROP DOMAIN: domains in the catalog.

Owns the plan nodes of those statements and running them: the catalog.model.Domain rows (the
domain's and each CHECK constraint's oids) with PostgreSQL's checks and messages (42710 for a
taken type name, 2BP01 for a domain columns use). Not reading the statements nor a domain's
constraints where values are made (planner.domains).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog.model import Domain
from pgaurora.errors import (
    CheckViolation,
    DependentObjectsStillExist,
    DuplicateObject,
    FeatureNotSupported,
    NotNullViolation,
    UndefinedObject,
)
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.ownership import current_role_oid, require_owner
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.privileges import describe, require_create_in


@dataclass(frozen=True, slots=True)
class CreateDomain(PlanNode):
    schema_oid: int
    name: str
    base_type: int
    base_typmod: int
    not_null: bool
    default: str | None
    checks: tuple[tuple[str, str], ...]  # (constraint name, CHECK text over VALUE)
    width: int = 0


@dataclass(frozen=True, slots=True)
class DropDomains(PlanNode):
    names: tuple[tuple[str | None, str], ...]
    missing_ok: bool = False
    cascade: bool = False
    width: int = 0


@dataclass(frozen=True, slots=True)
class AlterDomain(PlanNode):
    """ALTER DOMAIN: `action` set default / drop default / set not null / drop not null / add
    constraint / drop constraint / rename / rename constraint."""

    schema: str | None
    name: str
    action: str
    default: str | None = None
    constraint: str | None = None
    check: str | None = None
    new_name: str | None = None
    missing_ok: bool = False
    width: int = 0


def check_name(domain: str, taken: set[str]) -> str:
    """The name PostgreSQL gives a domain's unnamed CHECK constraint: domain_check, then
    domain_check1, domain_check2, ... past the names `taken`."""
    name = f"{domain}_check"
    n = 0
    while name in taken:
        n += 1
        name = f"{domain}_check{n}"
    return name


@ddl_runner(CreateDomain)
async def run_create_domain(node: CreateDomain, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "CREATE DOMAIN")
    state = _state(ctx)
    require_create_in(ctx, node.schema_oid)
    key = (node.schema_oid, node.name)
    if key in state.domains or key in state.types or key in state.relations:
        raise DuplicateObject(f'type "{node.name}" already exists')
    catalog = ctx.catalog
    checks = tuple((name, text, catalog.allocate_oid()) for name, text in node.checks)
    await catalog.create(ctx.txn, Domain(catalog.allocate_oid(), node.name, node.schema_oid, current_role_oid(ctx),
                                         node.base_type, node.base_typmod, node.not_null, node.default, checks))


def columns_using(state: Any, domain: Domain) -> list[tuple[Any, Any]]:
    """(table, column) of each live column of the domain."""
    return [(table, column) for table in state.tables() for column in table.columns
            if column.domain == domain.oid and not column.dropped]


@ddl_runner(DropDomains)
async def run_drop_domains(node: DropDomains, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "DROP DOMAIN")
    for schema, name in node.names:
        state = _state(ctx)
        if schema is not None and state.schema_oid(schema) is None:
            raise UndefinedObject(f'schema "{schema}" does not exist', sqlstate="3F000")
        domain = state.user_domain(name, schema)
        shown = f"{schema}.{name}" if schema else name
        if domain is None:
            if node.missing_ok:
                ctx.notice(f'type "{shown}" does not exist, skipping')
                continue
            raise UndefinedObject(f'type "{shown}" does not exist')
        require_owner(ctx, domain, "type", or_schema_owner=True)
        users = columns_using(state, domain)
        if users:
            if node.cascade:
                raise FeatureNotSupported("DROP DOMAIN ... CASCADE of a domain columns use is not supported")
            shown = describe(state, domain)  # ("type s.d" where the search path does not find it)
            raise DependentObjectsStillExist(
                f"cannot drop {shown} because other objects depend on it",
                detail="\n".join(f"column {c.name} of {describe(state, t)} depends on {shown}" for t, c in users),
                hint="Use DROP ... CASCADE to drop the dependent objects too.")
        await ctx.catalog.remove(ctx.txn, domain.oid)


@ddl_runner(AlterDomain)
async def run_alter_domain(node: AlterDomain, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER DOMAIN")
    state = _state(ctx)
    if node.schema is not None and state.schema_oid(node.schema) is None:
        raise UndefinedObject(f'schema "{node.schema}" does not exist', sqlstate="3F000")
    domain = state.user_domain(node.name, node.schema)
    if domain is None:
        shown = f"{node.schema}.{node.name}" if node.schema else node.name
        raise UndefinedObject(f'type "{shown}" does not exist')
    require_owner(ctx, domain, "type")
    action = node.action
    changed: Domain
    if action == "set default":
        changed = replace(domain, default=node.default)
    elif action == "drop default":
        changed = replace(domain, default=None)
    elif action == "drop not null":
        changed = replace(domain, not_null=False)
    elif action == "set not null":
        for table, column in columns_using(state, domain):
            if await _any_row(ctx, table, f"{_ident(column.name)} IS NULL"):
                raise NotNullViolation(f'column "{column.name}" of table "{table.name}" contains null values',
                                       table=table.name, column=column.name)
        changed = replace(domain, not_null=True)
    elif action == "add constraint":
        taken = {name for name, _, _ in domain.checks}
        name = node.constraint
        if name is None:
            name = check_name(domain.name, taken)
        elif name in taken:
            raise DuplicateObject(f'constraint "{name}" for domain "{domain.name}" already exists')
        for table, column in columns_using(state, domain):
            session = ctx.extra.get("session")
            test = session.routines.substitute(node.check, {"value": _ident(column.name)}) if session else None
            if test is not None and await _any_row(ctx, table, f"NOT ({test})"):
                raise CheckViolation(f'column "{column.name}" of table "{table.name}" contains values that violate '
                                     "the new constraint", table=table.name, column=column.name)
        changed = replace(domain, checks=(*domain.checks, (name, node.check or "", ctx.catalog.allocate_oid())))
    elif action == "drop constraint":
        if not any(name == node.constraint for name, _, _ in domain.checks):
            if node.missing_ok:
                ctx.notice(f'constraint "{node.constraint}" of domain "{domain.name}" does not exist, skipping')
                return
            raise UndefinedObject(f'constraint "{node.constraint}" of domain "{domain.name}" does not exist')
        changed = replace(domain, checks=tuple(c for c in domain.checks if c[0] != node.constraint))
    elif action == "rename":
        new = node.new_name or domain.name
        if (domain.schema_oid, new) in state.domains or (domain.schema_oid, new) in state.types:
            raise DuplicateObject(f'type "{new}" already exists')
        changed = replace(domain, name=new)
    else:  # rename constraint
        if not any(name == node.constraint for name, _, _ in domain.checks):
            raise UndefinedObject(f'constraint "{node.constraint}" for domain "{domain.name}" does not exist')
        if any(name == node.new_name for name, _, _ in domain.checks):
            raise DuplicateObject(f'constraint "{node.new_name}" for domain "{domain.name}" already exists')
        changed = replace(domain, checks=tuple((node.new_name or name, text, oid) if name == node.constraint
                                               else (name, text, oid) for name, text, oid in domain.checks))
    await ctx.catalog.replace(ctx.txn, changed)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _any_row(ctx: Any, table: Any, condition: str) -> bool:
    """Whether a row of `table` meets `condition` (SQL over its columns), read as the table's
    owner would in this transaction (ALTER DOMAIN's check of the values already stored)."""
    session = ctx.extra.get("session")
    if session is None:
        raise FeatureNotSupported("ALTER DOMAIN cannot check stored values here")
    schema = next((s.name for s in _state(ctx).schemas.values() if s.oid == table.schema_oid), "public")
    result = await session.routines.query(f"SELECT 1 FROM {_ident(schema)}.{_ident(table.name)} WHERE {condition} "
                                          "LIMIT 1", (), (), ctx)
    return bool(result.rows)
