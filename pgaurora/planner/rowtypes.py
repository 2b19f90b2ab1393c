"""Whole-row references and record values: SELECT t FROM t, row_to_json(t), t::text, t IS NULL.

Owns binding a table (or FROM item) name used as a value into a RowExpr of its visible columns,
with their names (so row_to_json(t) writes {"id":1,"name":"x"}; an anonymous ROW(...) has
f1, f2, ...), and the record functions that need the field types, which only the planner
knows: row_to_json / to_json / to_jsonb of a record and the cast of a record to text
(record_out: '(1,"a b",)'). In a statement's result (`records_as_text`) an anonymous ROW(...)
or a function's row of OUT parameters is a column of type record (2249) whose values carry
their fields' types (datatypes.records.TypedRecord: record_out, record_send); a whole-row
reference is sent in its text form, its column described as text, not as the table's row type,
because pgaurora has no composite types in pg_type.
    Not ROW comparisons (planner.exprbind) and not jsonb functions (catalog.builtins).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pgaurora.catalog.builtins.json_building import json_converter, json_text
from pgaurora.catalog.builtins.output import context_of
from pgaurora.datatypes import composites, jsonvalues, text_encoder
from pgaurora.datatypes.records import CompositeValue, TypedRecord, format_record
from pgaurora.datatypes.typeinfo import JSON_OID, JSONB_OID, RECORD_OID, TEXT_OID, UNKNOWN_OID, format_type
from pgaurora.datatypes.values import Jsonb
from pgaurora.executor.expr import Expr, FuncExpr, RowExpr
from pgaurora.executor.plannodes import Limit, PlanNode, Project, ResultColumn, Sort, Unique
from pgaurora.planner.scope import RangeEntry, Scope

_TEXT_TYPES = frozenset((TEXT_OID, 1043, 1042))


def _entry_of(scope: Scope, alias: str) -> tuple[Scope, RangeEntry] | None:
    level: Scope | None = scope
    while level is not None:
        for e in level.entries:
            if e.alias == alias and e.alias != "":
                return level, e
        level = level.parent
    return None


def whole_row(scope: Scope, alias: str, position: int | None, state: Any = None) -> Expr | None:
    """`t` as a value: the row of FROM item `t` (None when no FROM item is called that); for a
    function of a base type, as PostgreSQL, that value itself (`x` in `FROM
    jsonb_array_elements(...) x`, whose column is named value)."""
    if _entry_of(scope, alias) is None:
        return None
    _level, entry = _entry_of(scope, alias)  # type: ignore[misc]
    names = [c for c in entry.columns
             if not c.startswith("........pg.dropped.") and c not in entry.using_hidden]
    fields = tuple(scope.resolve([alias, c], position)[0] for c in names)
    if entry.scalar:
        return fields[0]
    table = state.table(entry.table_oid) if state is not None and entry.table_oid else None
    if table is not None and table.row_type and len(names) == len(table.live_columns()):
        return RowExpr(fields, type_oid=table.row_type, names=tuple(names))  # (a value of the table's row type)
    return RowExpr(fields, names=tuple(names))


def _field_type(field: Expr) -> int:
    """The type a record field prints as: a literal's (or the plan cache's parameter for one, not
    typed yet) is text, as unknownout prints it."""
    return TEXT_OID if field.type_oid in (UNKNOWN_OID, 0) else field.type_oid


def _field_names(row: RowExpr) -> tuple[str, ...]:
    return row.names or tuple(f"f{i + 1}" for i in range(len(row.fields)))


def _json_value(row: RowExpr) -> Callable[[Any, Any], Any]:
    """fn(format context, record) -> dict of JSON values (nested records included)."""
    names = _field_names(row)
    converters: list[Callable[[Any, Any], Any]] = []
    for f in row.fields:
        if isinstance(f, RowExpr):
            converters.append(_json_value(f))
        else:
            oid = _field_type(f)

            def convert(fmt: Any, v: Any, oid: int = oid) -> Any:
                return json_converter(oid, fmt)(v)

            converters.append(convert)

    def value(fmt: Any, record: Any) -> Any:
        return {n: (None if v is None else c(fmt, v)) for n, c, v in zip(names, converters, record, strict=True)}

    return value


def record_function(name: str, args: list[Expr]) -> Expr | None:
    """row_to_json / to_json / to_jsonb of a record (None: not such a call)."""
    if name not in ("row_to_json", "to_json", "to_jsonb") or len(args) != 1 or not isinstance(args[0], RowExpr):
        return None
    convert = _json_value(args[0])
    if name == "to_jsonb":
        def to_jsonb(ctx: Any, record: Any) -> Any:
            return Jsonb(jsonvalues.normalize_json_value(convert(context_of(ctx), record)))

        return FuncExpr(name, to_jsonb, (args[0],), JSONB_OID, needs_context=True)

    def to_json(ctx: Any, record: Any) -> Any:
        return json_text(convert(context_of(ctx), record))

    return FuncExpr(name, to_json, (args[0],), JSON_OID, needs_context=True)


def record_to_text(row: RowExpr) -> FuncExpr:
    """record_out with each field written by its own type's output function."""
    parts: list[Callable[[Any, Any], str]] = []
    for f in row.fields:
        if isinstance(f, RowExpr):
            inner = record_to_text(f).fn
            parts.append(lambda ctx, v, inner=inner: inner(ctx, v))  # type: ignore[misc]
        else:
            oid = _field_type(f)
            parts.append(lambda ctx, v, oid=oid: text_encoder(oid, context_of(ctx))(v))  # type: ignore[misc]

    def record_out(ctx: Any, record: Any) -> str:
        return format_record(record, [lambda v, p=p: p(ctx, v) for p in parts])  # type: ignore[misc]

    return FuncExpr("record_out", record_out, (row,), TEXT_OID, needs_context=True)


def call_record_to_text(call: FuncExpr) -> FuncExpr:
    """record_out of a user function's row (FuncExpr.columns): each field by its type's output."""
    types = [TEXT_OID if t in (UNKNOWN_OID, 0) else t for _, t in call.columns]

    def record_out(ctx: Any, record: Any) -> str:
        fmt = context_of(ctx)
        return format_record(record, [lambda v, oid=oid: text_encoder(oid, fmt)(v) for oid in types])  # type: ignore[misc]

    return FuncExpr("record_out", record_out, (call,), TEXT_OID, needs_context=True)


def field_of(call: FuncExpr, name: str, position: int | None) -> Expr:
    """(f(x)).name: one field of a user function's row."""
    from pgaurora.errors import UndefinedColumn

    names = [n for n, _ in call.columns]
    if name not in names:
        raise UndefinedColumn(f'could not identify column "{name}" in record data type', position=position)
    at = names.index(name)

    def field(record: Any) -> Any:
        return record[at]

    return FuncExpr("field_select", field, (call,), call.columns[at][1])


def row_field(row: RowExpr, name: str, position: int | None) -> Expr:
    """(ROW(...)).f2, (t).column: one field of a row (an anonymous one's are f1, f2, ...)."""
    from pgaurora.errors import UndefinedColumn

    names = row.names or tuple(f"f{i + 1}" for i in range(len(row.fields)))
    if name not in names:
        raise UndefinedColumn(f'could not identify column "{name}" in record data type', position=position)
    return row.fields[names.index(name)]


def composite_field(value: Expr, name: str, position: int | None) -> Expr:
    """(x).name of a value of a composite type (CREATE TYPE ... AS)."""
    from pgaurora.errors import UndefinedColumn

    attributes = composites.attributes(value.type_oid) or ()
    at = next((i for i, (n, _, _) in enumerate(attributes) if n == name), None)
    if at is None:
        raise UndefinedColumn(f'column "{name}" not found in data type {format_type(value.type_oid)}',
                              position=position)
    if isinstance(value, RowExpr):
        return value.fields[at]

    def field(record: Any) -> Any:
        return record[at] if at < len(record) else None  # (a value from before ADD ATTRIBUTE)

    _, oid, typmod = attributes[at]
    return FuncExpr("field_select", field, (value,), oid, typmod)


def star_fields(value: Expr, position: int | None) -> list[tuple[Expr, str]]:
    """(value).*: each field of a row-valued expression with its name."""
    from pgaurora.errors import FeatureNotSupported

    if isinstance(value, FuncExpr) and value.columns:
        return [(field_of(value, name, position), name) for name, _ in value.columns]
    if isinstance(value, RowExpr):
        names = value.names or tuple(f"f{i + 1}" for i in range(len(value.fields)))
        return list(zip(value.fields, names, strict=True))
    attributes = composites.attributes(value.type_oid)
    if attributes is not None:
        return [(composite_field(value, name, position), name) for name, _, _ in attributes]
    raise FeatureNotSupported("(expression).* of this expression is not supported", position=position)


def populate_call(name: str, args: list[Expr], params: Any, position: int | None) -> FuncExpr:
    """json[b]_populate_record[set](base, doc) of a composite type in a select list: a value (or,
    for the set, values) of the base argument's type."""
    from pgaurora.catalog.builtins.json_functions import populate_rows
    from pgaurora.planner.resolve import coerce

    composite = args[0].type_oid
    attributes = composites.attributes(composite) or ()
    rows = populate_rows(name, tuple(n for n, _, _ in attributes), tuple((t, m) for _, t, m in attributes))
    doc = coerce(args[1], JSON_OID if name.startswith("json_") else JSONB_OID, -1, "implicit", params, position)
    columns = tuple((n, t) for n, t, _ in attributes)
    if name.endswith("recordset"):
        def many(base: Any, value: Any) -> Any:
            return [CompositeValue(row) for row in rows(base, value)]

        return FuncExpr(name, many, (args[0], doc), composite, strict=False, retset=True, columns=columns)

    def one(base: Any, value: Any) -> Any:
        return next((CompositeValue(row) for row in rows(base, value)), None)

    return FuncExpr(name, one, (args[0], doc), composite, strict=False, columns=columns)


def cast_record(arg: Expr, target: int) -> Expr | None:
    """record::text (None when this is not a cast of a known record to a string type)."""
    if isinstance(arg, RowExpr) and target in _TEXT_TYPES:
        return record_to_text(arg)
    if isinstance(arg, FuncExpr) and arg.columns and target in _TEXT_TYPES:
        return call_record_to_text(arg)
    return None


def typed_call_record(call: FuncExpr) -> FuncExpr:
    """A user function's row of OUT parameters as a record that knows its fields' types (its
    `columns` kept: (f(x)).a selects from it)."""
    types = tuple(TEXT_OID if t in (UNKNOWN_OID, 0) else t for _, t in call.columns)

    def make(value: Any) -> Any:
        return None if value is None else TypedRecord.of(value, types)

    return FuncExpr("record", make, (call,), RECORD_OID, columns=call.columns)


def records_as_text(node: PlanNode, columns: list[ResultColumn]) -> tuple[PlanNode, list[ResultColumn]]:
    """A statement's whole-row references in their text form (see the module docstring)."""
    if not any(c.type_oid == RECORD_OID for c in columns):
        return node, columns
    chain: list[PlanNode] = []
    current = node
    while isinstance(current, Sort | Limit | Unique):
        chain.append(current)
        current = current.input
    if not isinstance(current, Project):
        return node, columns
    exprs = list(current.exprs)
    out = list(columns)
    for i, c in enumerate(columns):
        expr = exprs[i] if i < len(exprs) else None
        if c.type_oid != RECORD_OID:
            continue
        if isinstance(expr, RowExpr) and expr.names:
            exprs[i] = record_to_text(expr)
            out[i] = dataclasses.replace(c, type_oid=TEXT_OID, typmod=-1)
    rebuilt: PlanNode = dataclasses.replace(current, exprs=tuple(exprs))
    for parent in reversed(chain):
        rebuilt = dataclasses.replace(parent, input=rebuilt)  # type: ignore[type-var]
    return rebuilt, out


__all__ = ["whole_row", "record_function", "record_to_text", "call_record_to_text", "field_of", "cast_record",
           "records_as_text", "typed_call_record", "row_field", "star_fields", "composite_field",
           "populate_call"]
