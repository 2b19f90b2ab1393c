"""CREATE DOMAIN and DROP DOMAIN: domains in the catalog.

Owns the plan nodes of those statements and running them: the catalog.model.Domain rows (the
domain's and each CHECK constraint's oids) with PostgreSQL's checks and messages (42710 for a
taken type name, 2BP01 for a domain columns use). Not reading the statements nor a domain's
constraints where values are made (planner.domains).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pgaurora.catalog.model import Domain
from pgaurora.errors import DependentObjectsStillExist, DuplicateObject, FeatureNotSupported, UndefinedObject
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
