"""Evaluate built-in calls the way the planner/executor will, and the same calls on PostgreSQL.

`ours(call)` resolves the function/operator with pgaurora's rules, coerces the arguments with
implicit casts, calls the implementation and formats the result with the type's output
function; `theirs(conn, call)` runs the equivalent SQL on the oracle and returns its text.
A call is (name, args, kind) with args as (sql type or None for an untyped literal, text or None).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import psycopg

from pgaurora import datatypes
from pgaurora.catalog import builtins
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.casts import CastContext
from pgaurora.datatypes.values import FormatContext
from tests.pgoracle import pg_text

Arg = tuple[str | None, str | None]


@dataclass
class FakeExecContext:
    """The attributes built-ins read from the executor's ExecContext."""

    format_context: FormatContext = field(default_factory=FormatContext)
    statement_start: datetime.datetime = field(
        default_factory=lambda: datetime.datetime(2024, 5, 17, 13, 14, 15, 123456, tzinfo=datetime.UTC))
    transaction_start: datetime.datetime | None = None


def _type(sql_type: str | None) -> tuple[int, int]:
    if sql_type is None:
        return t.UNKNOWN_OID, -1
    if sql_type == '"char"':
        return t.CHAR_OID, -1
    base, _, mod = sql_type.partition("(")
    if mod:
        args = [int(x) for x in mod.rstrip(")").split(",")]
        name = base.strip()
        if name == "numeric":
            return t.NUMERIC_OID, ((args[0] << 16) | ((args[1] if len(args) > 1 else 0) & 0x7FF)) + 4
        if name in ("varchar", "char"):
            return (t.VARCHAR_OID if name == "varchar" else t.BPCHAR_OID), args[0] + 4
        if name in ("bit", "varbit"):
            return (t.BIT_OID if name == "bit" else t.VARBIT_OID), args[0]
    return datatypes.lookup_name(sql_type).oid, -1


def _values(args: list[Arg], ctx: FakeExecContext) -> tuple[list[int], list[Any]]:
    oids, values = [], []
    for sql_type, text in args:
        oid, typmod = _type(sql_type)
        oids.append(oid)
        values.append(None if text is None else
                      (text if oid == t.UNKNOWN_OID else datatypes.text_decoder(oid, typmod, ctx.format_context)(text)))
    return oids, values


def _coerce(values: list[Any], oids: list[int], declared: tuple[int, ...], ctx: FakeExecContext) -> list[Any]:
    out = []
    for value, source, target in zip(values, oids, declared, strict=True):
        if value is None or source == target:
            out.append(value)
            continue
        fn = datatypes.cast_function(source, target, CastContext.IMPLICIT, -1, ctx.format_context)
        assert fn is not None, (source, target)
        out.append(fn(value))
    return out


def ours(name: str, args: list[Arg], kind: str = "function", ctx: FakeExecContext | None = None) -> str | None:
    ctx = ctx or FakeExecContext()
    oids, values = _values(args, ctx)
    if kind == "operator":
        left = oids[0] if len(oids) == 2 else None
        op = builtins.resolve_operator(name, left, oids[-1], missing_ok=False)
        assert op is not None
        declared, result_oid, impl = op.arg_oids, op.result_oid, op.impl
        strict, needs_context, retset = op.strict, op.needs_context, False
    else:
        fn = builtins.resolve_function(name, oids, missing_ok=False)
        assert fn is not None
        declared, result_oid, impl = fn.arg_oids, fn.return_oid, fn.impl
        strict, needs_context, retset = fn.strict, fn.needs_context, fn.retset
    coerced = _coerce(values, oids, declared, ctx)
    if strict and any(v is None for v in coerced):
        return None
    result = impl(ctx, *coerced) if needs_context else impl(*coerced)
    encode = datatypes.text_encoder(result_oid, ctx.format_context)
    if retset:
        return "\n".join(encode(r) for r in result if r is not None)
    return None if result is None else encode(result)


def ours_aggregate(name: str, arg_type: str | None, rows: list[tuple[str | None, ...]],
                   extra_types: tuple[str | None, ...] = ()) -> str | None:
    types = (arg_type, *extra_types)
    oids = [_type(x)[0] for x in types]
    agg = builtins.resolve_aggregate(name, [o if o != t.UNKNOWN_OID else t.TEXT_OID for o in oids], missing_ok=False)
    assert agg is not None
    ctx = FakeExecContext()
    state = agg.make()
    for row in rows:
        _, values = _values(list(zip(types, row, strict=True)), ctx)
        state.step(*_coerce(values, [o if o != t.UNKNOWN_OID else t.TEXT_OID for o in oids],
                            agg.arg_oids, ctx))
    result = state.final()
    return None if result is None else datatypes.text_encoder(agg.return_oid)(result)


def _literal(sql_type: str | None, text: str | None) -> str:
    if text is None:
        return f"NULL::{sql_type}" if sql_type else "NULL"
    quoted = "'" + text.replace("'", "''") + "'"
    return f"{quoted}::{sql_type}" if sql_type else quoted


def sql_for(name: str, args: list[Arg], kind: str = "function") -> str:
    parts = [_literal(*a) for a in args]
    if kind == "operator":
        if len(parts) == 1:
            return f"SELECT {name} ({parts[0]})"
        return f"SELECT ({parts[0]}) {name} ({parts[1]})"
    if kind == "srf":
        return f"SELECT string_agg(x::text, E'\\n') FROM {name}({', '.join(parts)}) x"
    qualified = f"pg_catalog.{name}" if name in ("position", "extract", "overlay", "substring", "trim") else name
    return f"SELECT {qualified}({', '.join(parts)})"


def theirs(conn: psycopg.Connection, name: str, args: list[Arg], kind: str = "function") -> str | None:
    return pg_text(conn, sql_for(name, args, kind))


def theirs_type(conn: psycopg.Connection, name: str, args: list[Arg], kind: str = "function") -> str | None:
    return pg_text(conn, sql_for(name, args, kind).replace("SELECT ", "SELECT pg_typeof(", 1) + ")")


def ours_type(name: str, args: list[Arg], kind: str = "function") -> str:
    oids = [_type(a[0])[0] for a in args]
    if kind == "operator":
        op = builtins.resolve_operator(name, oids[0] if len(oids) == 2 else None, oids[-1], missing_ok=False)
        assert op is not None
        return t.format_type(op.result_oid)
    fn = builtins.resolve_function(name, oids, missing_ok=False)
    assert fn is not None
    return t.format_type(fn.return_oid)


def pg_aggregate(conn: psycopg.Connection, name: str, arg_type: str | None, rows: list[tuple[str | None, ...]],
                 extra_types: tuple[str | None, ...] = ()) -> str | None:
    types = (arg_type, *extra_types)
    values = ", ".join("(" + ", ".join(_literal(ty or "text", v) for ty, v in zip(types, row, strict=True)) + ")"
                       for row in rows)
    cols = ", ".join(f"c{i}" for i in range(len(types)))
    return pg_text(conn, f"SELECT {name}({cols}) FROM (VALUES {values}) v({cols})")
