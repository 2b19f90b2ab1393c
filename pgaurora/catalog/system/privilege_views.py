"""Rows of information_schema's privilege views: table_privileges, role_table_grants,
column_privileges, role_column_grants, usage_privileges, role_usage_grants, enabled_roles,
applicable_roles, administrable_role_authorizations.

Owns these views as PostgreSQL 15's information_schema.sql computes them: every item of each
object's ACL (aclexplode(coalesce(relacl, acldefault('r', relowner))): the owner's implicit
privileges when the ACL is the default; a sequence's default then holds no USAGE), one row per
privilege with the grantor's and grantee's names ('PUBLIC' for PUBLIC), is_grantable YES when
held WITH GRANT OPTION or when the grantee has the owner's privileges, with_hierarchy YES for
SELECT; a column's privileges are its table's and those of its own ACL (attacl); a row is shown when
current_user has the grantor's or the grantee's privileges or the grantee is PUBLIC
(catalog.system.visibility), the role_* views only those whose grantor or grantee is one of
enabled_roles. Not the other information_schema views (information_schema), not the ACLs
themselves (catalog.acl).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgaurora.catalog import acl
from pgaurora.catalog.model import BOOTSTRAP_SUPERUSER_OID, Sequence, Table, View
from pgaurora.catalog.system import describe
from pgaurora.catalog.system.object_rows import pg_auth_members, pg_collation
from pgaurora.catalog.system.relations import RELATIONS, SystemContext, producer
from pgaurora.catalog.system.visibility import (
    Viewer,
    column_acl,
    has_privileges_of,
    relation_columns,
    role_names,
    system_relation,
)

_SCHEMA = "information_schema"
_TABLE = "arwdDxt"  # INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
_COLUMN = "arwx"  # INSERT, SELECT, UPDATE, REFERENCES
_DATABASE_ENCODING = 6  # UTF8


def _relations(sc: SystemContext) -> Iterator[tuple[str, Any, list[tuple[int, str]]]]:
    """(schema, object, its columns' (attnum, name)) of each relation of relkind r, v, f or p."""
    for obj in sc.state.by_oid.values():
        if isinstance(obj, View) or (isinstance(obj, Table) and obj.kind != "m"):
            yield describe.schema_name(sc.state, obj.schema_oid), obj, relation_columns(obj)
    for rel in RELATIONS.values():
        sysrel = system_relation(rel)
        yield rel.schema, sysrel, relation_columns(sysrel)


class _Grants:
    """The grants of one statement's rows: current_user, the role names, and which grantees
    have an owner's privileges (computed once per grantee)."""

    def __init__(self, sc: SystemContext, role_view: bool) -> None:
        self.state = sc.state
        self.viewer = Viewer.of(sc)
        self.names = role_names(sc)
        self.role_view = role_view
        self.holders: dict[int, set[int]] = {}

    def of(self, obj: Any, items: acl.Acl, wanted: str) -> Iterator[tuple[str, str, str, str, bool]]:
        """(grantor, grantee, privilege, is_grantable, held WITH GRANT OPTION) of each privilege
        in `wanted` an item of `items` grants that the view shows current_user."""
        viewer, names = self.viewer, self.names
        owner = int(obj.owner)
        for grantee, grantor, privileges, options in items:
            grantor_name, grantee_name = names.get(grantor), names.get(grantee)
            if grantor_name is None or grantee_name is None or not viewer.sees_grant(grantor, grantee):
                continue
            if self.role_view and not (viewer.enabled(grantor) or viewer.enabled(grantee)):
                continue
            owners = has_privileges_of(self.state, grantee, owner, self.holders)
            for c in privileges:
                if c in wanted:
                    option = c in options
                    yield grantor_name, grantee_name, acl.NAMES[c], "YES" if owners or option else "NO", option


def _table_privileges(sc: SystemContext, role_view: bool) -> Iterator[dict[str, Any]]:
    grants = _Grants(sc, role_view)
    for schema, obj, _ in _relations(sc):
        for grantor, grantee, privilege, grantable, _ in grants.of(obj, acl.effective_acl(obj), _TABLE):
            yield {"grantor": grantor, "grantee": grantee, "table_catalog": sc.database, "table_schema": schema,
                   "table_name": obj.name, "privilege_type": privilege, "is_grantable": grantable,
                   "with_hierarchy": "YES" if privilege == "SELECT" else "NO"}


def _column_privileges(sc: SystemContext, role_view: bool) -> Iterator[dict[str, Any]]:
    grants = _Grants(sc, role_view)
    for schema, obj, columns in _relations(sc):
        found = list(grants.of(obj, acl.effective_acl(obj), _COLUMN))
        for attnum, column in columns:
            rows = found
            own = column_acl(obj, attnum)
            if own:  # and the column's own ACL's (a UNION: a privilege both grant alike shows once)
                rows = list(dict.fromkeys(found + list(grants.of(obj, own, _COLUMN))))
            for grantor, grantee, privilege, grantable, _ in rows:
                yield {"grantor": grantor, "grantee": grantee, "table_catalog": sc.database, "table_schema": schema,
                       "table_name": obj.name, "column_name": column, "privilege_type": privilege,
                       "is_grantable": grantable}


def _usage_privileges(sc: SystemContext, role_view: bool) -> Iterator[dict[str, Any]]:
    """Collations (no privileges of their own: PUBLIC's USAGE, granted by the owner, on each
    one of the database's encoding) and sequences' USAGE; pgaurora has no domains, foreign-data
    wrappers or foreign servers."""
    grants = _Grants(sc, role_view)
    viewer, names = grants.viewer, grants.names
    base = {"object_catalog": sc.database, "privilege_type": "USAGE"}
    for coll in pg_collation(sc):
        owner = names.get(coll["collowner"])
        if owner is not None and coll["collencoding"] in (-1, _DATABASE_ENCODING) \
                and (not role_view or viewer.enabled(coll["collowner"])):
            yield dict(base, grantor=owner, grantee="PUBLIC", object_schema=describe.schema_name(
                sc.state, coll["collnamespace"]), object_name=coll["collname"], object_type="COLLATION",
                is_grantable="NO")
    for obj in sc.state.by_oid.values():
        if not isinstance(obj, Sequence):
            continue
        items = obj.acl if obj.acl is not None else acl.default_acl("r", obj.owner)  # acldefault('r', relowner)
        schema = describe.schema_name(sc.state, obj.schema_oid)
        for grantor, grantee, _, grantable, _ in grants.of(obj, items, "U"):
            yield dict(base, grantor=grantor, grantee=grantee, object_schema=schema, object_name=obj.name,
                       object_type="SEQUENCE", is_grantable=grantable)


@producer("table_privileges", schema=_SCHEMA)
def table_privileges(sc: SystemContext) -> Iterator[dict[str, Any]]:
    return _table_privileges(sc, False)


@producer("role_table_grants", schema=_SCHEMA)
def role_table_grants(sc: SystemContext) -> Iterator[dict[str, Any]]:
    return _table_privileges(sc, True)


@producer("column_privileges", schema=_SCHEMA)
def column_privileges(sc: SystemContext) -> Iterator[dict[str, Any]]:
    return _column_privileges(sc, False)


@producer("role_column_grants", schema=_SCHEMA)
def role_column_grants(sc: SystemContext) -> Iterator[dict[str, Any]]:
    return _column_privileges(sc, True)


@producer("usage_privileges", schema=_SCHEMA)
def usage_privileges(sc: SystemContext) -> Iterator[dict[str, Any]]:
    return _usage_privileges(sc, False)


@producer("role_usage_grants", schema=_SCHEMA)
def role_usage_grants(sc: SystemContext) -> Iterator[dict[str, Any]]:
    return _usage_privileges(sc, True)


@producer("enabled_roles", schema=_SCHEMA)
def enabled_roles(sc: SystemContext) -> Iterator[dict[str, Any]]:
    viewer = Viewer.of(sc)
    for oid, name in role_names(sc).items():
        if oid != acl.PUBLIC and viewer.has_role(oid):
            yield {"role_name": name}


def _applicable_roles(sc: SystemContext, administrable: bool) -> Iterator[dict[str, Any]]:
    """Each membership (pg_auth_members, and the database's owner in pg_database_owner) of a
    role current_user has the privileges of; administrable_role_authorizations: those WITH
    ADMIN OPTION."""
    viewer = Viewer.of(sc)
    names = role_names(sc)
    memberships = {(m["member"], m["roleid"], bool(m["admin_option"])) for m in pg_auth_members(sc)}
    db = sc.state.databases.get(sc.database)
    memberships.add((int(db.owner) if db is not None else BOOTSTRAP_SUPERUSER_OID, acl.DATABASE_OWNER_OID, False))
    for member, role, admin in sorted(memberships):
        if member in names and role in names and member != acl.PUBLIC and viewer.has_role(member) \
                and (admin or not administrable):
            yield {"grantee": names[member], "role_name": names[role], "is_grantable": "YES" if admin else "NO"}


@producer("applicable_roles", schema=_SCHEMA)
def applicable_roles(sc: SystemContext) -> Iterator[dict[str, Any]]:
    return _applicable_roles(sc, False)


@producer("administrable_role_authorizations", schema=_SCHEMA)
def administrable_role_authorizations(sc: SystemContext) -> Iterator[dict[str, Any]]:
    return _applicable_roles(sc, True)
