"""Role membership: who is a member of which role, and whose privileges a role has.

Owns PostgreSQL's two walks over pg_auth_members (each role's Role.member_of): membership
(is_member_of_role: SET ROLE, ALTER ... OWNER TO, pg_has_role MEMBER), which follows every
grant, and privileges (has_privs_of_role: ownership, pg_has_role USAGE), which does not go on
through a NOINHERIT role. A superuser is a member of every role and has every role's
privileges. Not the grants themselves (executor.ddl's GRANT / REVOKE role) nor where the
answers are used.
"""

from __future__ import annotations

from pgaurora.catalog.model import Role
from pgaurora.catalog.state import CatalogState

# PostgreSQL 15's predefined roles (no login; pg_database_owner owns the public schema): shown
# in pg_roles and usable as grantees of privileges, but not (yet) roles anyone can be a member of
PREDEFINED_ROLES = {3373: "pg_monitor", 3374: "pg_read_all_settings", 3375: "pg_read_all_stats",
                    3377: "pg_stat_scan_tables", 4200: "pg_signal_backend", 4544: "pg_checkpoint",
                    4569: "pg_read_server_files", 4570: "pg_write_server_files", 4571: "pg_execute_server_program",
                    6171: "pg_database_owner", 6181: "pg_read_all_data", 6182: "pg_write_all_data"}
PREDEFINED_BY_NAME = {name: oid for oid, name in PREDEFINED_ROLES.items()}


def role_by_oid(state: CatalogState, oid: int) -> Role | None:
    obj = state.by_oid.get(oid)
    return obj if isinstance(obj, Role) else None


def roles_of(state: CatalogState, oid: int, *, inherit: bool) -> set[int]:
    """`oid` and every role it is a member of, directly or not; with `inherit` only through
    roles that inherit (PostgreSQL's roles_is_member_of with ROLERECURSE_PRIVS)."""
    found = {oid}
    pending = [oid]
    while pending:
        role = role_by_oid(state, pending.pop())
        if role is None or (inherit and not role.inherit):
            continue
        for granted, _, _ in role.member_of:
            if granted not in found:
                found.add(granted)
                pending.append(granted)
    return found


def is_member(state: CatalogState, member: int, role: int) -> bool:
    """is_member_of_role: may `member` SET ROLE to `role`?"""
    found = role_by_oid(state, member)
    return (found is not None and found.superuser) or role in roles_of(state, member, inherit=False)


def has_privileges_of(state: CatalogState, member: int, role: int) -> bool:
    """has_privs_of_role: does `member` act with `role`'s privileges (an owner's, say)?"""
    found = role_by_oid(state, member)
    return (found is not None and found.superuser) or role in roles_of(state, member, inherit=True)


def has_admin_option(state: CatalogState, member: int, role: int) -> bool:
    """May `member` grant `role` to others (WITH ADMIN OPTION on it, directly or through a
    role it has the privileges of)? Superusers and CREATEROLE roles are the caller's to check."""
    return any(granted == role and admin
               for holder in roles_of(state, member, inherit=True)
               for granted, _, admin in getattr(role_by_oid(state, holder), "member_of", ()))
