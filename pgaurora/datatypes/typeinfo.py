"""The type registry: TypeInfo for every type oid pgaurora knows, lookups by oid and by name.

Owns TypeInfo, the oid constants, SQL-name aliases ("integer", "double precision") and
format_type() (PostgreSQL's display names with typmods, used in error messages). Not the I/O
functions (codecs) and not casts (casts).
"""

from __future__ import annotations

from dataclasses import dataclass

from pgaurora.datatypes.typetable import PG_TYPE_ROWS
from pgaurora.errors import UndefinedObject

BOOL_OID = 16
BYTEA_OID = 17
CHAR_OID = 18
NAME_OID = 19
INT8_OID = 20
INT2_OID = 21
INT2VECTOR_OID = 22
INT4_OID = 23
REGPROC_OID = 24
TEXT_OID = 25
OID_OID = 26
TID_OID = 27
XID_OID = 28
CID_OID = 29
OIDVECTOR_OID = 30
JSON_OID = 114
PG_NODE_TREE_OID = 194
FLOAT4_OID = 700
FLOAT8_OID = 701
UNKNOWN_OID = 705
ACLITEM_OID = 1033
BPCHAR_OID = 1042
VARCHAR_OID = 1043
DATE_OID = 1082
TIME_OID = 1083
TIMESTAMP_OID = 1114
TIMESTAMPTZ_OID = 1184
INTERVAL_OID = 1186
TIMETZ_OID = 1266
BIT_OID = 1560
VARBIT_OID = 1562
NUMERIC_OID = 1700
REFCURSOR_OID = 1790
REGPROCEDURE_OID = 2202
REGOPER_OID = 2203
REGOPERATOR_OID = 2204
REGCLASS_OID = 2205
REGTYPE_OID = 2206
RECORD_OID = 2249
CSTRING_OID = 2275
ANY_OID = 2276
ANYARRAY_OID = 2277
VOID_OID = 2278
TRIGGER_OID = 2279
INTERNAL_OID = 2281
ANYELEMENT_OID = 2283
ANYNONARRAY_OID = 2776
UUID_OID = 2950
CIDR_OID = 650
INET_OID = 869
PG_LSN_OID = 3220
ANYENUM_OID = 3500
JSONB_OID = 3802
ANYRANGE_OID = 3831
REGNAMESPACE_OID = 4089
REGROLE_OID = 4096
XID8_OID = 5069
ANYCOMPATIBLE_OID = 5077
ANYCOMPATIBLEARRAY_OID = 5078
ANYCOMPATIBLENONARRAY_OID = 5079

TEXT_ARRAY_OID = 1009
INT4_ARRAY_OID = 1007
RECORD_ARRAY_OID = 2287

# Polymorphic pseudo-types that match "any element" / "any array" in function signatures.
POLYMORPHIC_OIDS = frozenset(
    {ANYELEMENT_OID, ANYARRAY_OID, ANYNONARRAY_OID, ANYENUM_OID, ANYRANGE_OID,
     ANYCOMPATIBLE_OID, ANYCOMPATIBLEARRAY_OID, ANYCOMPATIBLENONARRAY_OID}
)


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """One pg_type row."""

    oid: int
    name: str
    typlen: int
    byval: bool
    category: str
    preferred: bool
    delimiter: str
    elem_oid: int
    array_oid: int
    input: str
    output: str
    receive: str
    send: str
    typtype: str
    align: str
    storage: str
    modin: str
    modout: str

    @property
    def is_array(self) -> bool:
        """True for true array types (typcategory 'A' with typlen -1, not int2vector/oidvector;
        and record[], a pseudo-type's array)."""
        return self.elem_oid != 0 and self.typlen == -1 and (self.category == "A" or self.oid == 2287) \
            and self.oid not in (22, 30)

    @property
    def is_pseudo(self) -> bool:
        return self.typtype == "p"


_BY_OID: dict[int, TypeInfo] = {}
_BY_NAME: dict[str, TypeInfo] = {}
for _row in PG_TYPE_ROWS:
    _info = TypeInfo(*_row)
    _BY_OID[_info.oid] = _info
    _BY_NAME[_info.name] = _info

# SQL-standard spellings and common aliases -> pg_type names.
ALIASES: dict[str, str] = {
    "int": "int4", "integer": "int4", "smallint": "int2", "bigint": "int8",
    "real": "float4", "float": "float8", "double precision": "float8", "double": "float8",
    "boolean": "bool", "decimal": "numeric", "dec": "numeric",
    "character varying": "varchar", "char varying": "varchar", "character": "bpchar",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
    "time without time zone": "time", "time with time zone": "timetz",
    "serial": "int4", "bigserial": "int8", "smallserial": "int2",
    "serial4": "int4", "serial8": "int8", "serial2": "int2", "bit varying": "varbit",
}

# format_type() display names for types whose SQL name differs from typname.
_DISPLAY: dict[int, str] = {
    BOOL_OID: "boolean", INT2_OID: "smallint", INT4_OID: "integer", INT8_OID: "bigint",
    FLOAT4_OID: "real", FLOAT8_OID: "double precision", BPCHAR_OID: "character",
    VARCHAR_OID: "character varying", TIMESTAMP_OID: "timestamp without time zone",
    TIMESTAMPTZ_OID: "timestamp with time zone", TIME_OID: "time without time zone",
    TIMETZ_OID: "time with time zone", CHAR_OID: '"char"', VARBIT_OID: "bit varying",
}


# intervaltypmodout(): the field-range bits of an interval typmod (PostgreSQL's datetime.h).
_YEAR, _MONTH, _DAY, _HOUR, _MINUTE, _SECOND = 1 << 2, 1 << 1, 1 << 3, 1 << 10, 1 << 11, 1 << 12
_INTERVAL_FIELDS = {
    _YEAR: " year", _MONTH: " month", _DAY: " day", _HOUR: " hour", _MINUTE: " minute", _SECOND: " second",
    _YEAR | _MONTH: " year to month", _DAY | _HOUR: " day to hour", _DAY | _HOUR | _MINUTE: " day to minute",
    _DAY | _HOUR | _MINUTE | _SECOND: " day to second", _HOUR | _MINUTE: " hour to minute",
    _HOUR | _MINUTE | _SECOND: " hour to second", _MINUTE | _SECOND: " minute to second", 0x7FFF: "",
}


def register_dynamic(info: TypeInfo) -> None:
    """A type the catalog defines (an enum type and its array type: datatypes.enums), found by
    oid like the built-in ones from now on (by name only through the catalog, which knows its
    schema)."""
    _BY_OID[info.oid] = info
    _DYNAMIC.add(info.oid)
    _DYNAMIC_NAMES[info.name] = info


def unregister_name(name: str, oid: int) -> None:
    """A dropped type's name no longer finds it (lookup_name)."""
    found = _DYNAMIC_NAMES.get(name)
    if found is not None and found.oid == oid:
        del _DYNAMIC_NAMES[name]


# by name, as regtype input finds them (lookup_name(user_types=True): whatever their schema, as
# the newest catalog built has them)
_DYNAMIC_NAMES: dict[str, TypeInfo] = {}


_DYNAMIC: set[int] = set()  # register_dynamic's oids: the catalog lists them (pg_type), not all_types


def lookup(oid: int) -> TypeInfo:
    """The TypeInfo for `oid`; 42704 if the type is unknown."""
    info = _BY_OID.get(oid)
    if info is None:
        raise UndefinedObject(f"type with OID {oid} does not exist")
    return info


def find(oid: int) -> TypeInfo | None:
    """Like lookup() but returns None for an unknown oid."""
    return _BY_OID.get(oid)


def lookup_name(name: str, *, user_types: bool = False) -> TypeInfo:
    """The TypeInfo for a built-in type name: a typname ('int4', '_int4'), an alias ('integer'),
    or 'x[]'. With `user_types`, an enum type's name too, whatever its schema (for regtype
    input, which has no catalog at hand; the planner finds those through the catalog)."""
    key = " ".join(name.strip().lower().split())
    if key.startswith("pg_catalog."):
        key = key[len("pg_catalog."):]
    if key.endswith("[]"):
        elem = lookup_name(key[:-2], user_types=user_types)
        if not elem.array_oid:
            raise UndefinedObject(f'type "{name}" does not exist')
        return _BY_OID[elem.array_oid]
    info = _BY_NAME.get(ALIASES.get(key, key)) or (_DYNAMIC_NAMES.get(name.strip().strip('"')) if user_types else None)
    if info is None:
        raise UndefinedObject(f'type "{name}" does not exist')
    return info


def all_types() -> tuple[TypeInfo, ...]:
    """Every built-in type, ordered by oid (for filling pg_type; the catalog adds its own)."""
    return tuple(sorted((t for t in _BY_OID.values() if t.oid not in _DYNAMIC), key=lambda t: t.oid))


def array_of(elem_oid: int) -> int:
    """The array type oid of an element type, or 0."""
    info = _BY_OID.get(elem_oid)
    return info.array_oid if info is not None else 0


def element_of(array_oid: int) -> int:
    """The element type oid of an array type, or 0 if `array_oid` is not an array."""
    info = _BY_OID.get(array_oid)
    if info is None or not info.is_array:
        return 0
    return info.elem_oid


def format_type(oid: int, typmod: int = -1) -> str:
    """PostgreSQL's format_type(oid, typmod): 'character varying(3)', 'numeric(10,2)', 'integer[]'."""
    info = _BY_OID.get(oid)
    if info is None:
        return "???"
    if info.is_array:
        return format_type(info.elem_oid, typmod) + "[]"
    base = _DISPLAY.get(oid, info.name)
    if typmod < 0:
        return base
    if oid in (VARCHAR_OID, BPCHAR_OID):
        return f"{base}({typmod - 4})"
    if oid == NUMERIC_OID:
        precision = ((typmod - 4) >> 16) & 0xFFFF
        scale = (((typmod - 4) & 0x7FF) ^ 1024) - 1024
        return f"numeric({precision},{scale})"
    if oid in (TIMESTAMP_OID, TIMESTAMPTZ_OID):
        return f"timestamp({typmod}) {'with' if oid == TIMESTAMPTZ_OID else 'without'} time zone"
    if oid in (TIME_OID, TIMETZ_OID):
        return f"time({typmod}) {'with' if oid == TIMETZ_OID else 'without'} time zone"
    if oid == INTERVAL_OID:
        fields = _INTERVAL_FIELDS.get((typmod >> 16) & 0x7FFF, "")
        precision = typmod & 0xFFFF
        return f"interval{fields}({precision})" if precision != 0xFFFF else f"interval{fields}"
    if oid in (BIT_OID, VARBIT_OID):
        return f"{base}({typmod})"
    return base
