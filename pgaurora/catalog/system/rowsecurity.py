"""Row security in the catalogs: pg_policy, pg_policies, row_security_active(), and the two
functions the planner's policy expressions call as they run.

Owns these rows (catalog.model.Policy: the expressions as their SQL text, which pg_get_expr
returns), `row_security_active(table)`, and `pg_catalog._pg_rls_active(table, role)` /
`_pg_rls_policy(policy, role)`: whether the policies of a table, and one policy, apply to the
statement's role (0: current_user; a view's owner for what a view reads), asked as the statement
runs so that one plan serves every role (planner.rowsecurity). With row_security off, a query a
policy would affect fails (42501) as in PostgreSQL. Not the decision itself (catalog.rowsecurity).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.builtins.registry import function
from pgaurora.catalog.rowsecurity import COMMANDS, PUBLIC, policy_applies, subject_to_policies
from pgaurora.catalog.system import describe
from pgaurora.catalog.system.regtypes import relation_oid, state_of
from pgaurora.catalog.system.relations import SystemContext, producer
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import FeatureNotSupported, InsufficientPrivilege

_POLCMD = {"*": "*", "r": "r", "a": "a", "w": "w", "d": "d"}


def _role(ctx: Any, state: Any, as_role: int) -> int:
    if as_role:
        return as_role
    role = state.roles.get(getattr(ctx, "user", ""))
    return role.oid if role is not None else -1


def rls_active(ctx: Any, table_oid: int, as_role: int) -> bool:
    state = ctx.extra["catalog_state"]
    table = state.by_oid.get(int(table_oid))
    active = subject_to_policies(state, table, _role(ctx, state, int(as_role)))
    if active:
        settings = getattr(ctx, "settings", None)
        value = settings.get("row_security", missing_ok=True) if settings is not None else "on"
        if str(value).lower() in ("off", "false", "0", "no"):
            raise InsufficientPrivilege(f'query would be affected by row-level security policy for table "{table.name}"')
    return active


def rls_policy(ctx: Any, policy_oid: int, as_role: int) -> bool:
    state = ctx.extra["catalog_state"]
    policy = state.by_oid.get(int(policy_oid))
    return policy is not None and policy_applies(state, policy, _role(ctx, state, int(as_role)))


def row_security_active(ctx: Any, target: Any) -> bool:
    state = state_of(ctx)
    oid = relation_oid(state, target) if isinstance(target, str) else int(target)
    role = state.roles.get(getattr(ctx, "user", ""))
    return subject_to_policies(state, state.by_oid.get(oid), role.oid if role is not None else -1)


def rls_copy_from(ctx: Any, table_oid: int) -> bool:
    """COPY FROM into a table whose policies apply to the role: 0A000, as PostgreSQL."""
    if rls_active(ctx, table_oid, 0):
        raise FeatureNotSupported("COPY FROM not supported with row-level security",
                                  hint="Use INSERT statements instead.")
    return True


function("_pg_rls_copy_from", (t.OID_OID,), t.BOOL_OID, rls_copy_from, needs_context=True, volatility="s")
function("_pg_rls_active", (t.OID_OID, t.OID_OID), t.BOOL_OID, rls_active, needs_context=True, volatility="s")
function("_pg_rls_policy", (t.OID_OID, t.OID_OID), t.BOOL_OID, rls_policy, needs_context=True, volatility="s")
function("row_security_active", (t.TEXT_OID,), t.BOOL_OID, row_security_active, needs_context=True, volatility="s")
function("row_security_active", (t.OID_OID,), t.BOOL_OID, row_security_active, needs_context=True, volatility="s")


def _policies(sc: SystemContext) -> Iterator[Any]:
    for table_oid in sorted(sc.state.policies):
        yield from sc.state.policies[table_oid]


@producer("pg_policy")
def pg_policy(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for p in _policies(sc):
        yield {"oid": p.oid, "polname": p.policy_name, "polrelid": p.table_oid, "polcmd": _POLCMD[p.command],
               "polpermissive": p.permissive, "polroles": list(p.roles), "polqual": p.using, "polwithcheck": p.check}


@producer("pg_policies")
def pg_policies(sc: SystemContext) -> Iterator[dict[str, Any]]:
    names = {r.oid: r.name for r in sc.state.roles.values()}
    for p in _policies(sc):
        table = sc.state.table(p.table_oid)
        if table is None:
            continue
        roles = ["public"] if p.roles == (PUBLIC,) else sorted(names.get(r, str(r)) for r in p.roles)
        yield {"schemaname": describe.schema_name(sc.state, table.schema_oid), "tablename": table.name,
               "policyname": p.policy_name, "permissive": "PERMISSIVE" if p.permissive else "RESTRICTIVE",
               "roles": roles, "cmd": COMMANDS[p.command], "qual": p.using, "with_check": p.check}
