"""Access control lists: what PostgreSQL keeps in relacl / nspacl / datacl, and what a role may do.

Owns the ACL value (a tuple of AclItem: grantee, grantor, privileges, grant options; privilege
letters as aclitem shows them, in acl.c's bit order), an object's default ACL (acldefault), the
aclitem text form, merging a GRANT / REVOKE into an ACL (aclupdate, with the dependent grant
options REVOKE ... CASCADE removes), replacing an owner (aclnewowner), and aclmask: the
privileges a role holds on an object through itself, PUBLIC and every role whose privileges it
has (catalog.roles), pg_database_owner standing for the database's owner as in PostgreSQL 15.
A superuser holds every privilege. Not the statements (executor.grants) nor where the checks
are made (executor.privileges, planner.privileges).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pgaurora.catalog.model import (
    BOOTSTRAP_SUPERUSER_OID,
    PUBLIC_SCHEMA_OID,
    Database,
    DefaultAcl,
    EnumType,
    Function,
    Schema,
    Sequence,
    Table,
    View,
)
from pgaurora.catalog.roles import PREDEFINED_ROLES, role_by_oid, roles_of
from pgaurora.catalog.state import CatalogState

PUBLIC = 0  # ACL_ID_PUBLIC: the grantee of "=r/owner"
DATABASE_OWNER_OID = 6171  # pg_database_owner: a member of it is whoever owns the database
ORDER = "arwdDxtXUCTcsA"  # ACL_INSERT .. ACL_ALTER_SYSTEM: aclitem's letter order

# (grantee, grantor, privileges, grant options): letters in ORDER, options a subset of privileges
AclItem = tuple[int, int, str, str]
Acl = tuple[AclItem, ...]

# acldefault(): (PUBLIC's privileges, the owner's) per object type letter
DEFAULTS: dict[str, tuple[str, str]] = {
    "c": ("", ""), "r": ("", "arwdDxt"), "s": ("", "rwU"), "d": ("Tc", "CTc"), "f": ("X", "X"),
    "l": ("U", "U"), "L": ("", "rw"), "n": ("", "UC"), "t": ("", "C"), "F": ("", "U"), "S": ("", "U"),
    "T": ("U", "U"), "p": ("", "sA"),
}
# GRANT's privilege words; TEMP is TEMPORARY
WORDS = {"select": "r", "update": "w", "insert": "a", "delete": "d", "truncate": "D", "references": "x",
         "trigger": "t", "execute": "X", "usage": "U", "create": "C", "temporary": "T", "temp": "T",
         "connect": "c", "set": "s", "alter system": "A"}
NAMES = {"r": "SELECT", "w": "UPDATE", "a": "INSERT", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
         "t": "TRIGGER", "X": "EXECUTE", "U": "USAGE", "C": "CREATE", "c": "CONNECT", "T": "TEMPORARY",
         "s": "SET", "A": "ALTER SYSTEM"}


def letters(chars: str | set[str]) -> str:
    """`chars` without repeats, in aclitem order."""
    return "".join(c for c in ORDER if c in chars)


def objtype_of(obj: Any) -> str:
    """acldefault's object type letter for a definition."""
    if isinstance(obj, Sequence):
        return "s"
    if isinstance(obj, Schema):
        return "n"
    if isinstance(obj, Database):
        return "d"
    if isinstance(obj, EnumType):
        return "T"
    if isinstance(obj, Function):
        return "f"
    return "r"


def acl_owner(obj: Any) -> int:
    """The owner an ACL names: PostgreSQL 15's public schema belongs to pg_database_owner
    (pgaurora keeps the bootstrap superuser as its owner until ALTER SCHEMA ... OWNER TO)."""
    if isinstance(obj, Schema) and obj.oid == PUBLIC_SCHEMA_OID and obj.owner == BOOTSTRAP_SUPERUSER_OID:
        return DATABASE_OWNER_OID
    return int(obj.owner)


def default_acl(objtype: str, owner: int) -> Acl:
    """acldefault(objtype, owner): PUBLIC's item first, then the owner's."""
    public, mine = DEFAULTS[objtype]
    items: list[AclItem] = []
    if public:
        items.append((PUBLIC, owner, public, ""))
    if mine:
        items.append((owner, owner, mine, ""))
    return tuple(items)


def effective_acl(obj: Any) -> Acl:
    """The object's ACL, or what a NULL one means; the public schema's is PostgreSQL 15's
    {pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}."""
    acl = getattr(obj, "acl", None)
    if acl is not None:
        return tuple(acl)
    owner = acl_owner(obj)
    if owner == DATABASE_OWNER_OID:
        return ((DATABASE_OWNER_OID, owner, "UC", ""), (PUBLIC, owner, "U", ""))
    return default_acl(objtype_of(obj), owner)


def all_privileges(obj: Any) -> str:
    """ALL [PRIVILEGES] of the object's kind (ACL_ALL_RIGHTS_*)."""
    return DEFAULTS[objtype_of(obj)][1]


# ---- text -------------------------------------------------------------------------------------
def _role_text(state: CatalogState, oid: int) -> str:
    role = role_by_oid(state, oid)
    if role is None:
        return PREDEFINED_ROLES.get(oid, str(oid))
    name = role.name
    if name and all(c.isalnum() or c == "_" for c in name):
        return name
    return '"' + name.replace('"', '""') + '"'


def item_text(state: CatalogState, item: AclItem) -> str:
    """aclitemout: grantee=privileges/grantor, '*' after a privilege held WITH GRANT OPTION."""
    grantee, grantor, privileges, options = item
    shown = "".join(c + ("*" if c in options else "") for c in privileges)
    who = "" if grantee == PUBLIC else _role_text(state, grantee)
    return f"{who}={shown}/{_role_text(state, grantor)}"


def acl_text(state: CatalogState, acl: Acl | None) -> list[str] | None:
    return None if acl is None else [item_text(state, item) for item in acl]


# ---- what a role holds ------------------------------------------------------------------------
def _database_owner(state: CatalogState) -> int:
    for db in state.databases.values():
        if db.name == "postgres":
            return int(db.owner)
    return BOOTSTRAP_SUPERUSER_OID


def holders(state: CatalogState, role_oid: int) -> set[int]:
    """The grantees whose items apply to `role_oid`: PUBLIC, itself, every role it has the
    privileges of, and pg_database_owner when it has the database owner's."""
    found = roles_of(state, role_oid, inherit=True)
    found.add(PUBLIC)
    if _database_owner(state) in found:
        found.add(DATABASE_OWNER_OID)
    return found


def is_superuser(state: CatalogState, role_oid: int) -> bool:
    role = role_by_oid(state, role_oid)
    return role is not None and role.superuser


def privileges_of(state: CatalogState, role_oid: int, obj: Any) -> tuple[str, str]:
    """aclmask: (privileges, grant options) `role_oid` holds on `obj`; a superuser all of
    them, and whoever has the owner's privileges every grant option (the owner's implicit
    ones), as PostgreSQL."""
    if is_superuser(state, role_oid):
        everything = all_privileges(obj)
        return everything, everything
    mine = holders(state, role_oid)
    privileges: set[str] = set()
    options: set[str] = set()
    for grantee, _, held, grantable in effective_acl(obj):
        if grantee in mine:
            privileges.update(held)
            options.update(grantable)
    privileges.update(_predefined(obj, mine))
    owner = acl_owner(obj)
    if owner in mine:
        options.update(all_privileges(obj))
    return letters(privileges), letters(options)


READ_ALL_DATA_OID, WRITE_ALL_DATA_OID = 6181, 6182


def _predefined(obj: Any, mine: set[int]) -> str:
    """pg_read_all_data: SELECT on every table, view and sequence and USAGE on every schema;
    pg_write_all_data: INSERT, UPDATE and DELETE, and USAGE on every schema (PostgreSQL 14+)."""
    found = ""
    if READ_ALL_DATA_OID in mine:
        found += "U" if isinstance(obj, Schema) else "r" if isinstance(obj, Table | View | Sequence) else ""
    if WRITE_ALL_DATA_OID in mine:
        found += "U" if isinstance(obj, Schema) else "awd" if isinstance(obj, Table | View | Sequence) else ""
    return found


def has_privilege(state: CatalogState, role_oid: int, obj: Any, wanted: str, *, any_of: bool = False) -> bool:
    """Does `role_oid` hold every privilege letter of `wanted` on `obj` (with `any_of`, one)?"""
    if is_superuser(state, role_oid):
        return True
    held = privileges_of(state, role_oid, obj)[0]
    if any_of:
        return any(c in held for c in wanted)
    return all(c in held for c in wanted)


# ---- GRANT / REVOKE ---------------------------------------------------------------------------
def grant(acl: Acl, grantee: int, grantor: int, privileges: str, options: str) -> Acl:
    """aclupdate ACL_MODECHG_ADD: the (grantee, grantor) item gains the privileges (and grant
    options); a new pair goes last."""
    items = list(acl)
    for i, (who, by, held, grantable) in enumerate(items):
        if who == grantee and by == grantor:
            items[i] = (who, by, letters(set(held) | set(privileges)), letters(set(grantable) | set(options)))
            return tuple(items)
    items.append((grantee, grantor, letters(privileges), letters(options)))
    return tuple(items)


def revoke(acl: Acl, grantee: int, grantor: int, privileges: str, *, options_only: bool) -> Acl:
    """aclupdate ACL_MODECHG_DEL: the (grantee, grantor) item loses the privileges (with
    `options_only` only their grant options); an item left with none is removed."""
    items: list[AclItem] = []
    for who, by, held, grantable in acl:
        if who == grantee and by == grantor:
            grantable = letters(set(grantable) - set(privileges))
            if not options_only:
                held = letters(set(held) - set(privileges))
            if not held:
                continue
        items.append((who, by, held, grantable))
    return tuple(items)


def dependent_grants(state: CatalogState, acl: Acl, owner: int) -> set[tuple[int, str]]:
    """(grantor, privilege) pairs some item was granted under that its grantor no longer holds
    WITH GRANT OPTION (check_acl's "dependent privileges"): what REVOKE ... CASCADE takes away
    with the grant options it revokes (recursive_revoke)."""
    found: set[tuple[int, str]] = set()
    for _, grantor, held, _ in acl:
        if grantor == owner or grantor == DATABASE_OWNER_OID:
            continue
        if is_superuser(state, grantor):
            continue
        mine = holders(state, grantor)
        if owner in mine:
            continue
        options: set[str] = set()
        for who, _, _, grantable in acl:
            if who in mine:
                options.update(grantable)
        for c in held:
            if c not in options:
                found.add((grantor, c))
    return found


def without_dependents(state: CatalogState, acl: Acl, owner: int) -> Acl:
    """REVOKE ... CASCADE: until none is left, the privileges granted under a grant option the
    grantor no longer has are revoked (from that grantee, and so on down)."""
    for _ in range(1000):
        lost = dependent_grants(state, acl, owner)
        if not lost:
            return acl
        items: list[AclItem] = []
        for who, by, held, grantable in acl:
            gone = {c for g, c in lost if g == by}
            if gone:
                held = letters(set(held) - gone)
                grantable = letters(set(grantable) - gone)
                if not held:
                    continue
            items.append((who, by, held, grantable))
        acl = tuple(items)
    return acl


# What a plan needs (Plan.permissions): object oid, privilege letters, the role to check them for
# (0: the current one), for a schema reached through search_path the relation name looked up
# there (else ""), and the columns (attnums) SELECT ('r'), INSERT ('a') and UPDATE ('w') touch
Permission = tuple[int, str, int, str, tuple[tuple[str, tuple[int, ...]], ...]]
COLUMN_PRIVILEGES = "arwx"  # ACL_ALL_RIGHTS_COLUMN


def column_acl(obj: Any, attnum: int) -> Acl:
    """attacl of column `attnum` (a view's by position), () when it has none."""
    if isinstance(obj, Table):
        for c in obj.columns:
            if c.attnum == attnum and not c.dropped:
                return tuple(c.acl or ())
        return ()
    if isinstance(obj, View | Sequence):
        return tuple(dict(obj.column_acls).get(attnum, ()))
    return ()


def with_column_acl(obj: Any, attnum: int, acl: Acl) -> Any:
    """`obj` with column `attnum`'s ACL replaced (None when empty, as attacl)."""
    kept = acl or None
    if isinstance(obj, Table):
        return replace(obj, columns=tuple(replace(c, acl=kept) if c.attnum == attnum else c for c in obj.columns))
    others = tuple((n, a) for n, a in obj.column_acls if n != attnum)
    return replace(obj, column_acls=tuple(sorted(others + (((attnum, acl),) if acl else ()))))


def live_columns(obj: Any) -> list[tuple[int, str]]:
    """(attnum, name) of a table's or view's columns."""
    if isinstance(obj, Table):
        return [(c.attnum, c.name) for c in obj.columns if not c.dropped]
    if isinstance(obj, View):
        return list(enumerate(obj.column_names, 1))
    if isinstance(obj, Sequence):
        return [(1, "last_value"), (2, "log_cnt"), (3, "is_called")]
    return []


def column_privileges_of(state: CatalogState, role_oid: int, obj: Any, attnum: int) -> tuple[str, str]:
    """(privileges, grant options) `role_oid` holds on one column through the column's own ACL."""
    mine = holders(state, role_oid)
    privileges: set[str] = set()
    options: set[str] = set()
    for grantee, _, held, grantable in column_acl(obj, attnum):
        if grantee in mine:
            privileges.update(held)
            options.update(grantable)
    return letters(privileges), letters(options)


def holds_columns(state: CatalogState, role_oid: int, obj: Any, letter: str, attnums: tuple[int, ...]) -> bool:
    """Column-level `letter` on every column of `attnums`, or with none on at least one column
    (ExecCheckRTEPerms once the table-level privilege is missing)."""
    if attnums:
        return all(letter in column_privileges_of(state, role_oid, obj, n)[0] for n in attnums)
    return any(letter in column_privileges_of(state, role_oid, obj, n)[0] for n, _ in live_columns(obj))


def has_permission(state: CatalogState, role_oid: int, obj: Any, wanted: str,
                   columns: tuple[tuple[str, tuple[int, ...]], ...] = ()) -> bool:
    """`wanted` on `obj`: at table level, or for SELECT / INSERT / UPDATE / REFERENCES on the
    columns used."""
    if is_superuser(state, role_oid):
        return True
    held = privileges_of(state, role_oid, obj)[0]
    missing = [c for c in wanted if c not in held]
    if not missing:
        return True
    if any(c not in "rawx" for c in missing) or not isinstance(obj, Table | View | Sequence):
        return False
    used = dict(columns)
    return all(holds_columns(state, role_oid, obj, c, used.get(c, ())) for c in missing)


def permitted(permissions: tuple[Permission, ...], role_oid: int, state: CatalogState) -> bool:
    """Does `role_oid` hold everything a plan needs? (Remembered per catalog version: a plan
    runs many times, and grants change the version.)"""
    key = (permissions, role_oid)
    known = state.permitted.get(key)
    if known is None:
        known = state.permitted[key] = all(
            obj is None or has_permission(state, as_role or role_oid, obj, wanted, columns)
            for oid, wanted, as_role, _, columns in permissions for obj in (state.by_oid.get(oid),))
        if len(state.permitted) > 4096:
            state.permitted.clear()
    return known


def new_owner(acl: Acl | None, old: int, new: int) -> Acl | None:
    """aclnewowner: the old owner's items, as grantee or as grantor, become the new owner's
    (merged with items the new owner already had)."""
    if acl is None:
        return None
    merged: Acl = ()
    for who, by, held, grantable in acl:
        merged = grant(merged, new if who == old else who, new if by == old else by, held, grantable)
    return merged


def with_owner(obj: Any, owner: int) -> Any:
    """`obj` owned by `owner`, its ACL's (and its columns' ACLs') items of the old owner now the
    new one's (aclnewowner)."""
    old = acl_owner(obj)
    changed = replace(obj, owner=owner, acl=new_owner(getattr(obj, "acl", None), old, owner))
    for attnum, _ in live_columns(obj):
        column = column_acl(obj, attnum)
        if column:
            changed = with_column_acl(changed, attnum, new_owner(column, old, owner) or ())
    return changed


def column_mentions(obj: Any, role_oid: int) -> list[tuple[int, str]]:
    """(attnum, name) of the columns whose ACL names `role_oid`."""
    return [(attnum, name) for attnum, name in live_columns(obj) if mentions(column_acl(obj, attnum), role_oid)]


def without_role_anywhere(obj: Any, role_oid: int) -> Any:
    """DROP OWNED: `obj` with `role_oid` out of its ACL and its columns' ACLs."""
    changed = replace(obj, acl=without_role(getattr(obj, "acl", None), role_oid))
    for attnum, _ in column_mentions(obj, role_oid):
        changed = with_column_acl(changed, attnum, without_role(column_acl(obj, attnum), role_oid) or ())
    return changed


def without_role(acl: Acl | None, role_oid: int) -> Acl | None:
    """DROP OWNED: every privilege granted to `role_oid` revoked (what it granted on stays
    until its grantor goes: PostgreSQL revokes those too, CASCADE; so does this)."""
    if acl is None:
        return None
    return tuple(item for item in acl if item[0] != role_oid and item[1] != role_oid)


def mentions(acl: Acl | None, role_oid: int) -> bool:
    """Is `role_oid` a grantee or grantor in `acl` (a dependency DROP ROLE refuses)?"""
    return acl is not None and any(role_oid in (who, by) for who, by, _, _ in acl)


def grantor_for(state: CatalogState, role_oid: int, obj: Any, wanted: str,
                acl: Acl | None = None) -> tuple[int, str]:
    """select_best_grantor: who a GRANT / REVOKE by `role_oid` acts as, and the grant options
    that grantor holds (in `acl`, by default the object's): the owner (every option) when
    `role_oid` has the owner's privileges or is a superuser; else itself if it holds all of
    `wanted`'s options, else the role it has the privileges of holding the most of them."""
    owner = acl_owner(obj)
    if is_superuser(state, role_oid) or owner in holders(state, role_oid):
        return owner, all_privileges(obj)
    if acl is None:
        acl = effective_acl(obj)

    def options_of(who: int) -> str:
        mine = holders(state, who)
        return letters({c for grantee, _, _, grantable in acl if grantee in mine for c in grantable})

    best, best_options = role_oid, options_of(role_oid)
    if all(c in best_options for c in wanted):
        return best, best_options
    for other in sorted(roles_of(state, role_oid, inherit=True) - {role_oid}):
        found = options_of(other)
        if sum(c in found for c in wanted) > sum(c in best_options for c in wanted):
            best, best_options = other, found
    return best, best_options


# ---- ALTER DEFAULT PRIVILEGES -------------------------------------------------------------------
# pg_default_acl.defaclobjtype -> acldefault's object type, and the word DROP ROLE's DETAIL uses
DEFAULT_ACL_TYPES = {"r": "r", "S": "s", "f": "f", "T": "T", "n": "n"}
DEFAULT_ACL_WORDS = {"r": "relations", "S": "sequences", "f": "functions", "T": "types", "n": "schemas"}


def _sort_key(item: AclItem) -> tuple[int, int, int]:
    """aclitemComparator: grantee, grantor, then the privilege bits (grant options above them)."""
    grantee, grantor, privileges, options = item
    bits = sum(1 << ORDER.index(c) for c in privileges) + sum(1 << (16 + ORDER.index(c)) for c in options)
    return grantee, grantor, bits


def sorted_acl(acl: Acl) -> Acl:
    return tuple(sorted(acl, key=_sort_key))


def initial_acl(state: CatalogState, objtype: str, owner: int, schema_oid: int = 0) -> Acl | None:
    """get_user_default_acl: the ACL of a new object of `objtype` ('r', 'S', 'n') that `owner`
    creates in `schema_oid`: its global default privileges (or the built-in defaults) plus the
    schema's, sorted; None when that is just the built-in default."""
    glob = state.default_acls.get((owner, 0, objtype))
    in_schema = state.default_acls.get((owner, schema_oid, objtype)) if schema_oid else None
    if glob is None and in_schema is None:
        return None
    hard = default_acl(DEFAULT_ACL_TYPES[objtype], owner)
    result = glob.acl if glob is not None else hard
    for who, by, held, grantable in (in_schema.acl if in_schema is not None else ()):
        result = grant(result, who, by, held, grantable)
    result = sorted_acl(result)
    return None if result == sorted_acl(hard) else result


def objects_with_acl(state: CatalogState) -> list[Any]:
    """Tables, views, sequences, schemas, databases whose ACL is not the default (NULL), and
    ALTER DEFAULT PRIVILEGES entries."""
    return [obj for obj in state.by_oid.values()
            if isinstance(obj, Table | View | Sequence | Schema | Database | DefaultAcl | Function)
            and (getattr(obj, "acl", None) is not None or any(column_acl(obj, n) for n, _ in live_columns(obj)))]
