"""Row security: whether a table's policies apply to a role, and which of them.

Owns PostgreSQL 15's check_enable_rls and the policy-role test: a table's policies apply once
ALTER TABLE ... ENABLE ROW LEVEL SECURITY is set, except to superusers, BYPASSRLS roles and
(unless FORCE ROW LEVEL SECURITY) whoever has the owner's privileges; a policy applies to a role
that has the privileges of one of its roles (or to everyone: PUBLIC). Not the policies'
expressions nor where they are applied (planner.rowsecurity), nor their DDL (executor.policies).
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import Policy, Table
from pgaurora.catalog.roles import has_privileges_of, role_by_oid
from pgaurora.catalog.state import CatalogState

PUBLIC = 0
COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


def subject_to_policies(state: CatalogState, table: Any, role_oid: int) -> bool:
    """Do `table`'s policies apply to `role_oid` (check_enable_rls's RLS_ENABLED)?"""
    if not isinstance(table, Table) or not table.row_security:
        return False
    role = role_by_oid(state, role_oid)
    if role is not None and (role.superuser or role.bypassrls):
        return False
    return table.force_row_security or not has_privileges_of(state, role_oid, table.owner)


def policy_applies(state: CatalogState, policy: Policy, role_oid: int) -> bool:
    """check_role_for_policy: PUBLIC's, or one of a role `role_oid` has the privileges of."""
    return any(r == PUBLIC or has_privileges_of(state, role_oid, r) for r in policy.roles)


def policies_for(state: CatalogState, table_oid: int, command: str) -> list[Policy]:
    """The table's policies for `command` ('r', 'a', 'w', 'd'): its own and FOR ALL ones, by name."""
    return [p for p in state.policies.get(table_oid, ()) if p.command in ("*", command)]
