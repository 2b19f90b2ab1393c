"""Rows of the SQL-standard information_schema views: schemata, tables, columns, views,
sequences, table_constraints, key_column_usage, referential_constraints,
constraint_column_usage, check_constraints.

Owns these views' rows as PostgreSQL 15's information_schema.sql computes them (data_type
spelling, numeric_precision/radix, YES/NO columns, the implicit NOT NULL check constraints),
each view keeping the rows its WHERE clause shows current_user: those of objects whose owner's
privileges it has or on which it holds the privileges that view asks for (catalog.system.
visibility; a superuser sees all). Not the pg_catalog relations (class_rows, object_rows,
view_rows), not the privilege views (privilege_views).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pgaurora.catalog.model import Column, Constraint, Sequence, Table, View
from pgaurora.catalog.system import describe
from pgaurora.catalog.system.relations import RELATIONS, SystemContext, producer, view_columns
from pgaurora.catalog.system.visibility import (
    SYSTEM_SCHEMAS,
    Viewer,
    role_names,
    schema_object,
    schema_owner,
    system_relation,
)
from pgaurora.datatypes import typeinfo

_SCHEMA = "information_schema"
_INTEGER_PRECISION = {21: 16, 23: 32, 20: 64, 700: 24, 701: 53}
_DATETIME = {1082, 1083, 1266, 1114, 1184, 1186}
_RULES = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
# the privileges each view's WHERE clause asks for (any one will do), as catalog.acl letters
_ANY_TABLE = "arwdDxt"  # SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
_ANY_COLUMN = "arwx"  # SELECT, INSERT, UPDATE, REFERENCES
_NOT_SELECT = "awdDxt"  # "SELECT privilege omitted, per SQL standard"
_NOT_SELECT_COLUMN = "awx"


def _yes(flag: bool) -> str:
    return "YES" if flag else "NO"


def data_type(type_oid: int) -> str:
    if typeinfo.element_of(type_oid):
        return "ARRAY"
    info = typeinfo.find(type_oid)
    if info is None or info.typtype == "e":
        return "USER-DEFINED"
    return typeinfo.format_type(type_oid, -1)


def _udt_schema(sc: SystemContext, type_oid: int) -> str:
    """The schema of a column's type: pg_catalog, or an enum type's (or its array type's) own."""
    known = sc.state.enum_type_of(type_oid)
    return describe.schema_name(sc.state, known[0].schema_oid) if known is not None else "pg_catalog"


def numeric_facts(type_oid: int, typmod: int) -> tuple[int | None, int | None, int | None]:
    """(numeric_precision, numeric_precision_radix, numeric_scale)."""
    if type_oid in _INTEGER_PRECISION:
        return _INTEGER_PRECISION[type_oid], 2, 0 if type_oid in (20, 21, 23) else None
    if type_oid == typeinfo.NUMERIC_OID:
        if typmod < 4:
            return None, 10, None
        return ((typmod - 4) >> 16) & 0xFFFF, 10, (typmod - 4) & 0xFFFF
    return None, None, None


def character_facts(type_oid: int, typmod: int) -> tuple[int | None, int | None]:
    """(character_maximum_length, character_octet_length)."""
    if type_oid in (typeinfo.VARCHAR_OID, typeinfo.BPCHAR_OID):
        if typmod < 4:
            return None, 1073741824
        return typmod - 4, (typmod - 4) * 4
    if type_oid == typeinfo.TEXT_OID:
        return None, 1073741824
    return None, None


def datetime_precision(type_oid: int, typmod: int) -> int | None:
    if type_oid not in _DATETIME:
        return None
    if type_oid == 1082:
        return 0
    if type_oid == 1186:
        return 6 if typmod < 0 else typmod & 0xFFFF
    return 6 if typmod < 0 else typmod


@producer("schemata", schema=_SCHEMA)
def schemata(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """Schemas whose owner's privileges current_user has or on which it holds CREATE or USAGE."""
    viewer = Viewer.of(sc)
    owners = role_names(sc)
    names = [s.name for s in sc.state.schemas.values()]
    names.extend(name for name in SYSTEM_SCHEMAS if name not in names)
    for name in names:
        schema = schema_object(sc.state, name)
        if viewer.owns_or_holds(schema, "CU"):
            yield {"catalog_name": sc.database, "schema_name": name, "schema_owner": owners.get(schema_owner(schema))}


def _tables(sc: SystemContext, shown: Callable[[Table | View], bool]) -> Iterator[tuple[str, Table | View]]:
    """Tables and views (information_schema leaves out materialized views) `shown` keeps."""
    for obj in sc.state.by_oid.values():
        if (isinstance(obj, View) or (isinstance(obj, Table) and obj.kind != "m")) and shown(obj):
            yield describe.schema_name(sc.state, obj.schema_oid), obj


def _visible_tables(sc: SystemContext) -> Iterator[tuple[str, Table | View]]:
    """Tables and views whose owner's privileges current_user has or on which (or on one of
    whose columns) it holds a privilege."""
    viewer = Viewer.of(sc)
    return _tables(sc, lambda obj: viewer.owns_or_holds(obj, _ANY_TABLE, _ANY_COLUMN))


@producer("tables", schema=_SCHEMA)
def tables(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for schema, obj in _visible_tables(sc):
        is_view = isinstance(obj, View) or (isinstance(obj, Table) and obj.kind == "v")
        yield {"table_catalog": sc.database, "table_schema": schema, "table_name": obj.name,
               "table_type": "VIEW" if is_view else "BASE TABLE", "is_insertable_into": "YES", "is_typed": "NO"}
    viewer = Viewer.of(sc)
    for rel in RELATIONS.values():
        if viewer.owns_or_holds(system_relation(rel), _ANY_TABLE, _ANY_COLUMN):
            yield {"table_catalog": sc.database, "table_schema": rel.schema, "table_name": rel.name,
                   "table_type": "VIEW" if rel.relkind == "v" else "BASE TABLE",
                   "is_insertable_into": _yes(rel.relkind == "r"), "is_typed": "NO"}


def _column_row(sc: SystemContext, schema: str, table: str, c: Column, position: int) -> dict[str, Any]:
    precision, radix, scale = numeric_facts(c.type_oid, c.typmod)
    max_length, octet_length = character_facts(c.type_oid, c.typmod)
    info = typeinfo.find(c.type_oid)
    default = describe.qualify_regclass_literals(sc.state, describe.default_text(c.default, c.type_oid, sc.state)) \
        if c.default is not None and not c.identity else None
    return {"table_catalog": sc.database, "table_schema": schema, "table_name": table, "column_name": c.name,
            "ordinal_position": position, "column_default": default, "is_nullable": _yes(not c.not_null),
            "data_type": data_type(c.type_oid), "character_maximum_length": max_length,
            "character_octet_length": octet_length, "numeric_precision": precision,
            "numeric_precision_radix": radix, "numeric_scale": scale,
            "datetime_precision": datetime_precision(c.type_oid, c.typmod),
            "udt_catalog": sc.database, "udt_schema": _udt_schema(sc, c.type_oid),
            "udt_name": info.name if info else None,
            "dtd_identifier": str(position), "is_self_referencing": "NO", "is_identity": _yes(bool(c.identity)),
            "identity_generation": {"a": "ALWAYS", "d": "BY DEFAULT"}.get(c.identity),
            "identity_cycle": "NO", "is_generated": "NEVER" if c.generated is None else "ALWAYS",
            "generation_expression": None if c.generated is None else describe.generation_text(c.generated),
            "is_updatable": "YES",
            "collation_catalog": None, **_identity_facts(sc, schema, table, c)}


def _identity_facts(sc: SystemContext, schema: str, table: str, c: Column) -> dict[str, Any]:
    """identity_start / increment / maximum / minimum / cycle from the identity's sequence."""
    if not c.identity:
        return {}
    rel = sc.state.relation(table, schema)
    for seq in sc.state.by_oid.values():
        if isinstance(seq, Sequence) and rel is not None and seq.owned_by == (rel.oid, c.attnum):
            return {"identity_start": str(seq.start), "identity_increment": str(seq.increment),
                    "identity_maximum": str(seq.max_value), "identity_minimum": str(seq.min_value),
                    "identity_cycle": _yes(seq.cycle)}
    return {}


@producer("columns", schema=_SCHEMA)
def columns(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """The columns of tables and views whose owner's privileges current_user has, or on which
    it holds SELECT, INSERT, UPDATE or REFERENCES (on the table or the column)."""
    viewer = Viewer.of(sc)
    for schema, obj in _tables(sc, lambda obj: True):
        owner = viewer.owns(obj)
        if isinstance(obj, Table):
            for c in obj.columns:
                if not c.dropped and (owner or viewer.holds_column(obj, _ANY_COLUMN, c.attnum)):
                    yield _column_row(sc, schema, obj.name, c, c.attnum)
        else:
            shown = {i for i in range(1, len(obj.column_names) + 1) if owner or viewer.holds_column(obj, _ANY_COLUMN, i)}
            if not shown:
                continue
            types = view_columns(sc, obj.oid, obj.query, len(obj.column_names))
            for i, name in enumerate(obj.column_names, 1):
                if i not in shown:
                    continue
                type_oid, typmod = types[i - 1] if i <= len(types) else (typeinfo.TEXT_OID, -1)
                yield _column_row(sc, schema, obj.name, Column(name, type_oid, typmod, attnum=i), i)


@producer("views", schema=_SCHEMA)
def views(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """Views current_user owns (with their definitions) or holds a privilege on (without)."""
    viewer = Viewer.of(sc)
    for schema, obj in _visible_tables(sc):
        if isinstance(obj, View):
            definition = describe.view_definition(obj.query, obj.column_names) if viewer.owns(obj) else None
            yield {"table_catalog": sc.database, "table_schema": schema, "table_name": obj.name,
                   "view_definition": definition,
                   "check_option": obj.check_option.upper() or "NONE",
                   "is_updatable": "NO", "is_insertable_into": "NO", "is_trigger_updatable": "NO",
                   "is_trigger_deletable": "NO", "is_trigger_insertable_into": "NO"}


def _identity_sequences(sc: SystemContext) -> set[int]:
    """The sequences of identity columns (an internal dependency on their column)."""
    found: set[int] = set()
    for obj in sc.state.by_oid.values():
        if isinstance(obj, Sequence) and obj.owned_by[0]:
            table = sc.state.table(obj.owned_by[0])
            column = next((c for c in table.columns if c.attnum == obj.owned_by[1]), None) if table else None
            if column is not None and column.identity:
                found.add(obj.oid)
    return found


@producer("sequences", schema=_SCHEMA)
def sequences(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """Sequences but identity columns', whose owner's privileges current_user has or on which it
    holds SELECT, UPDATE or USAGE."""
    viewer = Viewer.of(sc)
    identity = _identity_sequences(sc)
    for obj in sc.state.by_oid.values():
        if isinstance(obj, Sequence) and obj.oid not in identity and viewer.owns_or_holds(obj, "rwU"):
            precision, radix, scale = numeric_facts(obj.type_oid, -1)
            yield {"sequence_catalog": sc.database, "sequence_schema": describe.schema_name(sc.state, obj.schema_oid),
                   "sequence_name": obj.name, "data_type": data_type(obj.type_oid), "numeric_precision": precision,
                   "numeric_precision_radix": radix, "numeric_scale": scale, "start_value": str(obj.start),
                   "minimum_value": str(obj.min_value), "maximum_value": str(obj.max_value),
                   "increment": str(obj.increment), "cycle_option": _yes(obj.cycle)}


def _base_tables(sc: SystemContext) -> list[Table]:
    """Tables of relkind r or p."""
    return [t for t in sc.state.tables() if t.kind in ("r", "p")]


def _constraints(sc: SystemContext, shown: Callable[[Table], bool]) -> Iterator[tuple[str, Table, Constraint]]:
    for table in _base_tables(sc):
        if shown(table):
            schema = describe.schema_name(sc.state, table.schema_oid)
            for con in table.constraints:
                yield schema, table, con


_CONSTRAINT_TYPES = {"p": "PRIMARY KEY", "u": "UNIQUE", "f": "FOREIGN KEY", "c": "CHECK"}


@producer("table_constraints", schema=_SCHEMA)
def table_constraints(sc: SystemContext) -> Iterator[dict[str, Any]]:
    base = {"constraint_catalog": sc.database, "table_catalog": sc.database, "is_deferrable": "NO",
            "initially_deferred": "NO", "enforced": "YES"}
    viewer = Viewer.of(sc)

    def shown(table: Table) -> bool:
        return viewer.owns_or_holds(table, _NOT_SELECT, _NOT_SELECT_COLUMN)

    for schema, table, con in _constraints(sc, shown):
        if con.kind in _CONSTRAINT_TYPES:
            yield dict(base, constraint_schema=schema, constraint_name=con.name, table_schema=schema,
                       table_name=table.name, constraint_type=_CONSTRAINT_TYPES[con.kind],
                       nulls_distinct="YES" if con.kind == "u" else None,
                       is_deferrable="YES" if con.deferrable else "NO",
                       initially_deferred="YES" if con.deferred else "NO")
    for table in _base_tables(sc):
        if not shown(table):
            continue
        schema = describe.schema_name(sc.state, table.schema_oid)
        for c in table.columns:
            if c.not_null and not c.dropped:
                yield dict(base, constraint_schema=schema,
                           constraint_name=f"{table.schema_oid}_{table.oid}_{c.attnum}_not_null",
                           table_schema=schema, table_name=table.name, constraint_type="CHECK")


@producer("key_column_usage", schema=_SCHEMA)
def key_column_usage(sc: SystemContext) -> Iterator[dict[str, Any]]:
    viewer = Viewer.of(sc)
    for schema, table, con in _constraints(sc, lambda table: True):
        if con.kind not in ("p", "u", "f"):
            continue
        owner = viewer.owns(table)
        for i, attnum in enumerate(con.columns, 1):
            if not owner and not viewer.holds_column(table, _ANY_COLUMN, attnum):
                continue
            position_in_unique = None
            if con.kind == "f":
                ref = sc.state.table(con.ref_table)
                unique = _unique_constraint(ref, con.ref_columns)
                if unique is not None and i <= len(con.ref_columns):
                    ref_attnum = con.ref_columns[i - 1]
                    position_in_unique = unique.columns.index(ref_attnum) + 1 if ref_attnum in unique.columns else None
            yield {"constraint_catalog": sc.database, "constraint_schema": schema, "constraint_name": con.name,
                   "table_catalog": sc.database, "table_schema": schema, "table_name": table.name,
                   "column_name": describe.column_name(table, attnum), "ordinal_position": i,
                   "position_in_unique_constraint": position_in_unique}


def _unique_constraint(table: Table | None, attnums: tuple[int, ...]) -> Constraint | None:
    if table is None:
        return None
    for con in table.constraints:
        if con.kind in ("p", "u") and set(con.columns) == set(attnums):
            return con
    return None


@producer("referential_constraints", schema=_SCHEMA)
def referential_constraints(sc: SystemContext) -> Iterator[dict[str, Any]]:
    viewer = Viewer.of(sc)
    for schema, _table, con in _constraints(sc, lambda table: viewer.owns_or_holds(table, _NOT_SELECT,
                                                                                   _NOT_SELECT_COLUMN)):
        if con.kind != "f":
            continue
        ref = sc.state.table(con.ref_table)
        unique = _unique_constraint(ref, con.ref_columns)
        yield {"constraint_catalog": sc.database, "constraint_schema": schema, "constraint_name": con.name,
               "unique_constraint_catalog": sc.database,
               "unique_constraint_schema": describe.schema_name(sc.state, ref.schema_oid) if ref else None,
               "unique_constraint_name": unique.name if unique else None, "match_option": "FULL" if con.match_full else "NONE",
               "update_rule": _RULES.get(con.on_update, "NO ACTION"),
               "delete_rule": _RULES.get(con.on_delete, "NO ACTION")}


@producer("constraint_column_usage", schema=_SCHEMA)
def constraint_column_usage(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """The columns each constraint uses (a foreign key: the referenced ones), shown when
    current_user has the privileges of the owner of the table they belong to."""
    viewer = Viewer.of(sc)
    for schema, table, con in _constraints(sc, lambda table: True):
        if con.kind == "f":
            ref = sc.state.table(con.ref_table)
            target, attnums = ref, con.ref_columns
        else:
            target, attnums = table, describe.check_columns(table, con)
        if target is None or target.kind not in ("r", "p") or not viewer.owns(target):
            continue
        target_schema = describe.schema_name(sc.state, target.schema_oid)
        for attnum in attnums:
            yield {"table_catalog": sc.database, "table_schema": target_schema, "table_name": target.name,
                   "column_name": describe.column_name(target, attnum), "constraint_catalog": sc.database,
                   "constraint_schema": schema, "constraint_name": con.name}


@producer("check_constraints", schema=_SCHEMA)
def check_constraints(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """CHECK constraints and the implicit NOT NULL ones of the tables whose owner's privileges
    current_user has."""
    viewer = Viewer.of(sc)
    for schema, table, con in _constraints(sc, viewer.owns):
        if con.kind == "c":
            yield {"constraint_catalog": sc.database, "constraint_schema": schema, "constraint_name": con.name,
                   "check_clause": describe.constraint_definition(sc.state, table, con, False)[6:]}
    for table in _base_tables(sc):
        if viewer.owns(table):
            schema = describe.schema_name(sc.state, table.schema_oid)
            for c in table.columns:
                if c.not_null and not c.dropped:
                    yield {"constraint_catalog": sc.database, "constraint_schema": schema,
                           "constraint_name": f"{table.schema_oid}_{table.oid}_{c.attnum}_not_null",
                           "check_clause": f"{c.name} IS NOT NULL"}
