"""Access privilege lists and option lists as the catalogs expose them: acldefault(),
aclexplode(), pg_options_to_table().

Owns the built-in default privileges of each object kind (acl.c's acldefault) and the
decomposition of `name=value` option arrays. pgaurora has no GRANT/REVOKE: every object's
acl column (relacl, nspacl, ...) is NULL, which PostgreSQL reads as "the defaults" — so pg_dump
compares NULL against acldefault() and writes no GRANT statements. Not the catalogs' rows
(class_rows, object_rows), not privilege checks (has_*_privilege in functions).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.builtins.registry import function
from pgaurora.catalog.model import Role
from pgaurora.catalog.system.describe import quote_ident
from pgaurora.catalog.system.regtypes import state_of
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import InternalError

ACLITEM_ARRAY_OID = 1034

# acldefault(objtype, owner): (privileges of PUBLIC, privileges of the owner); '' = none.
# ACL_ALL_RIGHTS_* of acl.h and the PUBLIC grants of acldefault() (functions: EXECUTE; languages
# and types: USAGE; databases: TEMP and CONNECT).
DEFAULTS: dict[str, tuple[str, str]] = {
    "c": ("", ""), "r": ("", "arwdDxt"), "s": ("", "rwU"), "d": ("Tc", "CTc"), "f": ("X", "X"),
    "l": ("U", "U"), "L": ("", "rw"), "n": ("", "UC"), "t": ("", "C"), "F": ("", "U"), "S": ("", "U"),
    "T": ("U", "U"), "p": ("", "sA"),
}
_PRIVILEGE_NAMES = {"r": "SELECT", "w": "UPDATE", "a": "INSERT", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
                    "t": "TRIGGER", "X": "EXECUTE", "U": "USAGE", "C": "CREATE", "c": "CONNECT", "T": "TEMPORARY",
                    "s": "SET", "A": "ALTER SYSTEM"}


def _role_name(ctx: Any, oid: int) -> str:
    for role in state_of(ctx).roles.values():
        if isinstance(role, Role) and role.oid == oid:
            return quote_ident(role.name)
    return str(oid)


def acl_default(ctx: Any, objtype: str, owner: int) -> list[str]:
    """acldefault('r', owner) -> {owner=arwdDxt/owner}: the privileges an object has with a NULL acl."""
    found = DEFAULTS.get(str(objtype))
    if found is None:
        raise InternalError(f"unrecognized objtype abbreviation: {objtype}")
    public, mine = found
    name = _role_name(ctx, int(owner))
    items = []
    if public:
        items.append(f"={public}/{name}")
    if mine:
        items.append(f"{name}={mine}/{name}")
    return items


def acl_explode(ctx: Any, acl: list[str]) -> Iterator[tuple[Any, ...]]:
    """aclexplode(aclitem[]) -> (grantor, grantee, privilege_type, is_grantable) per privilege."""
    state = state_of(ctx)
    by_name = {r.name: r.oid for r in state.roles.values()}
    for item in acl:
        if item is None:
            continue
        grantee, _, rest = str(item).partition("=")
        privileges, _, grantor = rest.partition("/")
        grantee_oid = by_name.get(grantee.strip('"'), 0) if grantee else 0
        grantor_oid = by_name.get(grantor.strip('"'), 0)
        i = 0
        while i < len(privileges):
            letter = privileges[i]
            grantable = i + 1 < len(privileges) and privileges[i + 1] == "*"
            i += 2 if grantable else 1
            if letter in _PRIVILEGE_NAMES:
                yield (grantor_oid, grantee_oid, _PRIVILEGE_NAMES[letter], grantable)


def options_to_table(options: list[str]) -> Iterator[tuple[str, str | None]]:
    """pg_options_to_table(text[]): 'name=value' -> (name, value); a bare 'name' has value NULL."""
    for item in options:
        if item is None:
            continue
        name, sep, value = str(item).partition("=")
        yield (name, value if sep else None)


function("acldefault", (t.CHAR_OID, t.OID_OID), ACLITEM_ARRAY_OID, acl_default, needs_context=True, volatility="i")
function("aclexplode", (ACLITEM_ARRAY_OID,), t.OID_OID, acl_explode, needs_context=True, retset=True,
         volatility="s", column_names=("grantor", "grantee", "privilege_type", "is_grantable"),
         column_oids=(t.OID_OID, t.OID_OID, t.TEXT_OID, t.BOOL_OID))
function("pg_options_to_table", (t.array_of(t.TEXT_OID),), t.TEXT_OID, options_to_table, retset=True,
         volatility="s", column_names=("option_name", "option_value"), column_oids=(t.TEXT_OID, t.TEXT_OID))
