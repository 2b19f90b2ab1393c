"""What information_schema shows the current user: PostgreSQL 15's information_schema.sql keeps
a row when current_user has the privileges of the object's owner (pg_has_role(owner, 'USAGE'))
or holds a privilege on it or on its columns (has_table_privilege, has_column_privilege,
has_any_column_privilege, has_sequence_privilege, has_schema_privilege); a superuser sees every
row.

Owns `Viewer` (current_user's role, whether it is a superuser, the roles whose privileges it has:
catalog.acl.holders, PUBLIC among them) and its checks, the role names ACLs are shown with, and
the ACLs of what pgaurora keeps no definition for: the system relations (PostgreSQL 15's
relacl: {postgres=arwdDxt/postgres,=r/postgres} but for those PUBLIC may not read) and system
schemas (pg_catalog and information_schema: {postgres=UC/postgres,=U/postgres}; pg_toast: the
owner's). Not the views' rows (information_schema, privilege_views), not the has_*_privilege
functions (privileges).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pgaurora.catalog import acl
from pgaurora.catalog.acl import Acl
from pgaurora.catalog.model import BOOTSTRAP_SUPERUSER_OID, Schema
from pgaurora.catalog.roles import PREDEFINED_ROLES
from pgaurora.catalog.system.relations import (
    INFORMATION_SCHEMA_OID,
    PG_TOAST_OID,
    SystemContext,
    SystemRelation,
)

_OWNER = BOOTSTRAP_SUPERUSER_OID
_READABLE = ((_OWNER, _OWNER, "arwdDxt", ""), (acl.PUBLIC, _OWNER, "r", ""))
_OWNER_ONLY = ((_OWNER, _OWNER, "arwdDxt", ""),)
# PostgreSQL 15's system relations whose relacl is not {postgres=arwdDxt/postgres,=r/postgres}
_SYSTEM_RELATION_ACLS: dict[tuple[str, str], Acl] = {
    **{("pg_catalog", name): _OWNER_ONLY for name in (
        "pg_authid", "pg_config", "pg_file_settings", "pg_hba_file_rules", "pg_ident_file_mappings",
        "pg_largeobject", "pg_replication_origin_status", "pg_shadow", "pg_statistic", "pg_statistic_ext_data",
        "pg_subscription", "pg_user_mapping", "pg_backend_memory_contexts", "pg_shmem_allocations")},
    ("pg_catalog", "pg_settings"): ((_OWNER, _OWNER, "arwdDxt", ""), (acl.PUBLIC, _OWNER, "rw", "")),
}
# and whose columns have ACLs of their own (attacl): (the columns without one, the others' ACL)
_SYSTEM_COLUMN_ACLS: dict[tuple[str, str], tuple[frozenset[str], Acl]] = {
    ("pg_catalog", "pg_subscription"): (frozenset({"subconninfo"}), ((acl.PUBLIC, _OWNER, "r", ""),)),
}
_SYSTEM_SCHEMA_ACL: Acl = ((_OWNER, _OWNER, "UC", ""), (acl.PUBLIC, _OWNER, "U", ""))
SYSTEM_SCHEMAS = {"pg_catalog": 11, "information_schema": INFORMATION_SCHEMA_OID, "pg_toast": PG_TOAST_OID}


@dataclass(frozen=True, slots=True)
class SystemObject:
    """A system relation or schema as catalog.acl reads an object: its owner and ACL (a
    relation's: its columns, and the ACL those but `unlisted` have of their own)."""

    oid: int
    name: str
    owner: int
    acl: Acl
    columns: tuple[str, ...] = ()
    column_acl: Acl = ()
    unlisted: frozenset[str] = frozenset()

    def acl_of_column(self, attnum: int) -> Acl:
        if not self.column_acl or not 0 < attnum <= len(self.columns):
            return ()
        return () if self.columns[attnum - 1] in self.unlisted else self.column_acl


def system_relation(rel: SystemRelation) -> SystemObject:
    unlisted, column_acl = _SYSTEM_COLUMN_ACLS.get((rel.schema, rel.name), (frozenset(), ()))
    return SystemObject(rel.oid, rel.name, _OWNER, _SYSTEM_RELATION_ACLS.get((rel.schema, rel.name), _READABLE),
                        rel.column_names, column_acl, unlisted)


def relation_columns(obj: Any) -> list[tuple[int, str]]:
    """(attnum, name) of a table's, view's or system relation's columns."""
    if isinstance(obj, SystemObject):
        return list(enumerate(obj.columns, 1))
    return acl.live_columns(obj)


def column_acl(obj: Any, attnum: int) -> Acl:
    """The column's own ACL (attacl), () when it has none."""
    if isinstance(obj, SystemObject):
        return obj.acl_of_column(attnum)
    return acl.column_acl(obj, attnum)


def schema_object(state: Any, name: str) -> Any:
    """The schema `name` (a system schema pgaurora keeps no ACL for with PostgreSQL's), or None."""
    schema = state.schemas.get(name)
    system = SYSTEM_SCHEMAS.get(name)
    if system is None:
        return schema
    if schema is not None and schema.acl is not None:
        return schema
    if name == "pg_toast":
        return SystemObject(system, name, _OWNER, acl.default_acl("n", _OWNER))
    return SystemObject(system, name, _OWNER, _SYSTEM_SCHEMA_ACL)


def schema_owner(obj: Any) -> int:
    return acl.acl_owner(obj) if isinstance(obj, Schema) else int(obj.owner)


def role_names(sc: SystemContext) -> dict[int, str]:
    """pg_authid's names by oid (PostgreSQL 15's predefined roles among them), PUBLIC as 0."""
    names: dict[int, str] = {acl.PUBLIC: "PUBLIC", **PREDEFINED_ROLES}
    names.update((role.oid, role.name) for role in sc.state.roles.values())
    return names


@dataclass(slots=True)
class Viewer:
    """current_user as information_schema checks it."""

    state: Any
    oid: int
    superuser: bool
    mine: set[int]  # acl.holders: the roles (and PUBLIC) whose privileges current_user has

    @classmethod
    def of(cls, sc: SystemContext) -> Viewer:
        role = sc.state.roles.get(sc.user)
        if role is None or role.superuser:  # a context with no session role reads as the superuser
            return cls(sc.state, role.oid if role is not None else _OWNER, True, set())
        return cls(sc.state, role.oid, False, acl.holders(sc.state, role.oid))

    def has_role(self, role_oid: int) -> bool:
        """pg_has_role(role_oid, 'USAGE')."""
        return self.superuser or (role_oid != acl.PUBLIC and role_oid in self.mine)

    def owns(self, obj: Any) -> bool:
        """pg_has_role(the object's owner, 'USAGE')."""
        return self.superuser or self.has_role(schema_owner(obj))

    def holds(self, obj: Any, wanted: str) -> bool:
        """has_table_privilege(obj, 'A, B, ...') and the like: does current_user hold one of the
        privilege letters `wanted` on the object itself?"""
        if self.superuser:
            return True
        held = acl.privileges_of(self.state, self.oid, obj)[0]
        return any(c in held for c in wanted)

    def holds_column(self, obj: Any, wanted: str, attnum: int | None = None) -> bool:
        """has_column_privilege(obj, attnum, 'A, B, ...'), with no attnum
        has_any_column_privilege(obj, ...): one of `wanted` on the table or on the column (any
        column) through its own ACL."""
        if self.holds(obj, wanted):
            return True
        attnums = [attnum] if attnum is not None else [n for n, _ in relation_columns(obj)]
        return any(grantee in self.mine and any(c in wanted for c in held)
                   for n in attnums for grantee, _, held, _ in column_acl(obj, n))

    def owns_or_holds(self, obj: Any, wanted: str, on_columns: str = "") -> bool:
        """The usual rule: owner's privileges, one of `wanted` on the object, or one of
        `on_columns` on the table or any of its columns."""
        return self.superuser or self.owns(obj) or self.holds(obj, wanted) \
            or (bool(on_columns) and self.holds_column(obj, on_columns))

    def sees_grant(self, grantor: int, grantee: int) -> bool:
        """The privilege views' rule: pg_has_role(grantor, 'USAGE') OR pg_has_role(grantee,
        'USAGE') OR grantee is PUBLIC."""
        return self.superuser or grantor in self.mine or grantee in self.mine

    def enabled(self, role_oid: int) -> bool:
        """Is `role_oid` one of enabled_roles (the role_*_grants views' test)?"""
        return self.has_role(role_oid)


def has_privileges_of(state: Any, member: int, role: int, cache: dict[int, set[int]]) -> bool:
    """pg_has_role(member, role, 'USAGE') for a grantee (PUBLIC has no role's privileges)."""
    if member == acl.PUBLIC:
        return False
    if member == role or acl.is_superuser(state, member):
        return True
    found = cache.get(member)
    if found is None:
        found = cache[member] = acl.holders(state, member)
    return role in found
