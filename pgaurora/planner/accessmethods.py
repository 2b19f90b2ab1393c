"""CREATE INDEX ... USING method: which index access methods exist, and what each accepts
(PostgreSQL's errors). btree and hash are built (a hash index is one key column looked up by
equality, never used for order or ranges); gist, gin, spgist and brin are refused, not built as
something else."""

from __future__ import annotations

from typing import Any

from pgaurora.errors import (
    FeatureNotSupported,
    ObjectNotInPrerequisiteState,
    UndefinedObject,
    WrongObjectType,
)

BUILT = ("btree", "hash")
NOT_BUILT = ("gist", "gin", "spgist", "brin")


def index_method(body: dict[str, Any]) -> str:
    """The access method an IndexStmt names (btree when none), checked against its options."""
    method = str(body.get("accessMethod") or "btree")
    if method == "heap":
        raise WrongObjectType(f'access method "{method}" is not of type INDEX')
    if method in NOT_BUILT:
        raise FeatureNotSupported(f'index access method "{method}" is not supported')
    if method not in BUILT:
        raise UndefinedObject(f'access method "{method}" does not exist')
    if method == "hash":
        params = body.get("indexParams", [])
        if body.get("unique"):
            raise FeatureNotSupported('access method "hash" does not support unique indexes')
        if body.get("indexIncludingParams"):
            raise FeatureNotSupported('access method "hash" does not support included columns')
        if len(params) > 1:
            raise FeatureNotSupported('access method "hash" does not support multicolumn indexes')
        for p in params:
            elem = p.get("IndexElem", {})
            if elem.get("ordering", "SORTBY_DEFAULT") != "SORTBY_DEFAULT":
                raise FeatureNotSupported('access method "hash" does not support ASC/DESC options')
            if elem.get("nulls_ordering", "SORTBY_NULLS_DEFAULT") != "SORTBY_NULLS_DEFAULT":
                raise FeatureNotSupported('access method "hash" does not support NULLS FIRST/LAST options')
    return method


def key_options(body: dict[str, Any]) -> tuple[tuple[bool, ...], tuple[bool, ...]]:
    """Each key column's DESC and NULLS FIRST as an IndexStmt writes them (IndexDef's fields;
    NULLS FIRST is DESC's default, NULLS LAST ASC's)."""
    descending: list[bool] = []
    nulls_first: list[bool] = []
    for p in body.get("indexParams", []):
        elem = p.get("IndexElem", {})
        desc = elem.get("ordering") == "SORTBY_DESC"
        nulls = elem.get("nulls_ordering", "SORTBY_NULLS_DEFAULT")
        descending.append(desc)
        nulls_first.append(desc if nulls == "SORTBY_NULLS_DEFAULT" else nulls == "SORTBY_NULLS_FIRST")
    if not any(descending) and not any(nulls_first):
        return (), ()
    return tuple(descending), tuple(nulls_first)


def included_columns(items: Any, table: Any) -> tuple[str, ...]:
    """INCLUDE (columns) of an index (IndexElems) or of a UNIQUE / PRIMARY KEY constraint
    (Strings), checked against `table` (a Table, or a CREATE TABLE's columns by name)."""
    out: list[str] = []
    for item in items:
        message = 'column "{}" named in key does not exist'
        if "String" in item:
            name = item["String"]["sval"]
        else:
            message = 'column "{}" does not exist'
            elem = item["IndexElem"]
            if "name" not in elem:
                raise FeatureNotSupported("expressions are not supported in included columns")
            name = elem["name"]
        known = name in table if isinstance(table, dict) else table.column(name) is not None
        if not known:
            raise UndefinedObject(message.format(name), sqlstate="42703")
        out.append(name)
    return tuple(out)


def table_method(method: str | None) -> None:
    """CREATE TABLE ... USING method: heap, the one table access method there is."""
    if method is None or method == "heap":
        return
    if method in BUILT or method in NOT_BUILT:
        raise ObjectNotInPrerequisiteState(f'access method "{method}" is not of type TABLE')
    raise UndefinedObject(f'access method "{method}" does not exist')


PATTERN_OPS = ("text_pattern_ops", "varchar_pattern_ops", "bpchar_pattern_ops")
_GENERIC_OPS = ("enum_ops", "array_ops", "record_ops", "range_ops", "multirange_ops")


def operator_classes(body: dict[str, Any], key_types: list[int], method: str) -> tuple[str, ...]:
    """Each key column's operator class as written (IndexElem.opclass): '' for the type's default
    (also when named: int4_ops, text_ops), else a pattern class (text_pattern_ops and kin, which
    the B-tree serves as it serves the default: pgaurora compares text by code point anyway);
    42704 for a class that does not exist, 42804 for one of another type."""
    from pgaurora.datatypes import typeinfo

    out: list[str] = []
    for k, p in enumerate(body.get("indexParams", ())):
        names = [n["String"]["sval"] for n in p.get("IndexElem", {}).get("opclass", ())]
        if not names:
            out.append("")
            continue
        name = names[-1]
        type_oid = key_types[k] if k < len(key_types) else 0
        if name in PATTERN_OPS:
            if type_oid not in (typeinfo.TEXT_OID, typeinfo.VARCHAR_OID, typeinfo.BPCHAR_OID):
                from pgaurora.errors import DatatypeMismatch

                raise DatatypeMismatch(f'operator class "{name}" does not accept data type '
                                       f"{typeinfo.format_type(type_oid)}")
            out.append(name)
            continue
        base = name.removesuffix("_ops")
        known = name in _GENERIC_OPS or (name.endswith("_ops") and _is_type_name(base))
        if not known:
            raise UndefinedObject(f'operator class "{name}" does not exist for access method "{method}"')
        out.append("")
    return tuple(out) if any(out) else ()


def _is_type_name(name: str) -> bool:
    from pgaurora.datatypes import typeinfo
    from pgaurora.errors import PgError

    try:
        typeinfo.lookup_name(name)
    except PgError:
        return False
    return True
