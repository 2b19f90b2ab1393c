"""Typing: operator and function resolution, implicit casts and PostgreSQL's unknown-literal rules.

Owns turning (name, argument expressions) into typed FuncExpr nodes, coercing expressions to a
target type (inserting casts from datatypes/catalog.builtins), literal typing and
select_common_type (CASE, COALESCE, UNION, VALUES). Not the registry of functions and their
overload rules (catalog.builtins) nor the cast implementations (datatypes casts).

Unknown-type literals ('abc') stay unknown until context types them: an operator's other
argument, an INSERT target column, a cast; what is still unknown at the end becomes text.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pgaurora import datatypes
from pgaurora.catalog import builtins, system  # system: see pgaurora/catalog/system
from pgaurora.datatypes import arrays, composites, numbers, typeinfo
from pgaurora.datatypes.records import CompositeValue, record_key
from pgaurora.datatypes.typeinfo import (
    BOOL_OID,
    INT4_OID,
    INT8_OID,
    NUMERIC_OID,
    TEXT_OID,
    UNKNOWN_OID,
)
from pgaurora.errors import (
    CannotCoerce,
    DatatypeMismatch,
    FeatureNotSupported,
    PgError,
    UndefinedFunction,
    WrongObjectType,
)
from pgaurora.executor.expr import Const, Expr, FuncExpr, Param, RowExpr

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT8_MIN, INT8_MAX = -(2**63), 2**63 - 1


def integer_literal(value: int) -> Const:
    if INT4_MIN <= value <= INT4_MAX:
        return Const(value, INT4_OID)
    if INT8_MIN <= value <= INT8_MAX:
        return Const(value, INT8_OID)
    return Const(Decimal(value), NUMERIC_OID)


def float_literal(text: str) -> Const:
    """PostgreSQL's FCONST typing: integer-looking text -> int8 if it fits, else numeric."""
    if text.isdigit():
        value = int(text)
        if value <= INT8_MAX:
            return Const(value, INT8_OID)
        return Const(Decimal(value), NUMERIC_OID)
    return Const(Decimal(text), NUMERIC_OID)


class ParamTypes:
    """The statement's $n types: given by the client (0 = infer) and filled in by context."""

    def __init__(self, given: tuple[int, ...] | list[int]) -> None:
        self.types: list[int] = list(given)

    def get(self, index: int) -> int:
        while len(self.types) <= index:
            self.types.append(0)
        return self.types[index]

    def infer(self, index: int, oid: int) -> None:
        self.get(index)
        if self.types[index] in (0, UNKNOWN_OID):
            self.types[index] = oid


def type_name(oid: int, typmod: int = -1) -> str:
    return typeinfo.format_type(oid, typmod)


_CONTEXTS = {"implicit": datatypes.CastContext.IMPLICIT, "assignment": datatypes.CastContext.ASSIGNMENT,
             "explicit": datatypes.CastContext.EXPLICIT}


def make_typmod(oid: int, mods: list[int]) -> int:
    """The typmod for type modifiers as written: varchar(3) -> 7, numeric(10,2) -> 655366."""
    if oid in (typeinfo.VARCHAR_OID, typeinfo.BPCHAR_OID):
        return mods[0] + 4
    if oid == NUMERIC_OID:
        return numbers.numeric_typmod(mods[0], mods[1] if len(mods) > 1 else 0)
    if oid in (typeinfo.TIMESTAMP_OID, typeinfo.TIMESTAMPTZ_OID, typeinfo.TIME_OID, typeinfo.TIMETZ_OID):
        return mods[0]
    if oid in (typeinfo.BIT_OID, typeinfo.VARBIT_OID):  # bit(n) / bit varying(n): typmod n
        return mods[0]
    return -1


def _row_to_composite(row: RowExpr, target: int, params: ParamTypes, position: int | None) -> Expr:
    """ROW(...)::composite: each field coerced to its attribute's type (42846 when the counts
    differ), a row of the composite type."""
    attributes = composites.attributes(target) or ()
    if len(row.fields) != len(attributes):
        word = "many" if len(row.fields) > len(attributes) else "few"
        raise CannotCoerce(f"cannot cast type record to {type_name(target)}", detail=f"Input has too {word} columns.",
                           position=position)
    fields = tuple(coerce(f, oid, mod, "assignment", params, position) for f, (_, oid, mod) in
                   zip(row.fields, attributes, strict=True))
    return RowExpr(fields, type_oid=target, names=tuple(name for name, _, _ in attributes))


def coerce(expr: Expr, target: int, typmod: int, context: str, params: ParamTypes,
           position: int | None = None, what: str | None = None) -> Expr:
    """`expr` converted to `target` (context: 'implicit', 'assignment' or 'explicit')."""
    source = expr.type_oid
    if isinstance(expr, Param) and source in (0, UNKNOWN_OID) and target in system.REG_OIDS:
        # system relations: see pgaurora/catalog/system ('t'::regclass is looked up by name when run)
        params.infer(expr.index, TEXT_OID)
        expr, source = Param(expr.index, TEXT_OID), TEXT_OID
    if isinstance(expr, Param) and source in (0, UNKNOWN_OID):
        params.infer(expr.index, target)
        param = Param(expr.index, target, typmod)
        fix = datatypes.typmod_coercer(target, typmod, context == "explicit")
        return param if fix is None else FuncExpr(type_name(target, typmod), fix, (param,), target, typmod)
    if source == target and (typmod < 0 or typmod == expr.typmod):
        return expr
    if target in typeinfo.POLYMORPHIC_OIDS or target == typeinfo.ANY_OID:
        return expr
    if isinstance(expr, Const) and expr.value is None:
        return Const(None, target, typmod)
    if isinstance(expr, RowExpr) and composites.attributes(target) is not None:
        return _row_to_composite(expr, target, params, position)
    if (target in system.CAST_OIDS or source in system.CAST_OIDS) and (reg := system.reg_cast(source, target)):
        # system relations: see pgaurora/catalog/system (reg* casts look names up in the catalog)
        return FuncExpr(type_name(target), reg, (expr,), target, -1, True, True, False, True)
    fn = datatypes.cast_function(source, target, _CONTEXTS[context], typmod)
    if fn is None:
        if context == "explicit":
            raise CannotCoerce(f"cannot cast type {type_name(source)} to {type_name(target, typmod)}", position=position)
        if what is not None:
            raise DatatypeMismatch(
                f'column "{what}" is of type {type_name(target, typmod)} but expression is of type {type_name(source)}',
                hint="You will need to rewrite or cast the expression.", position=position)
        raise DatatypeMismatch(
            f"argument of type {type_name(source)} cannot be cast to {type_name(target)}", position=position)
    if isinstance(expr, Const):
        try:
            return Const(fn(expr.value), target, typmod)
        except PgError as exc:
            if exc.position is None and position is not None and source == UNKNOWN_OID and exc.sqlstate != "22001":
                exc.position = position
            raise
    return FuncExpr(type_name(target, typmod), fn, (expr,), target, typmod)


def make_operator(name: str, left: Expr | None, right: Expr, params: ParamTypes, position: int | None) -> Expr:
    """A binary (or prefix, left=None) operator call with PostgreSQL's resolution rules."""
    left_oid = left.type_oid if left is not None else 0
    right_oid = right.type_oid
    # an untyped $n next to a typed argument takes that argument's type (PostgreSQL's heuristic)
    if left is not None and left_oid == 0 and right_oid not in (0, UNKNOWN_OID):
        left_oid = right_oid
    if left is not None and right_oid == 0 and left_oid not in (0, UNKNOWN_OID):
        right_oid = left_oid
    op = builtins.resolve_operator(name, left_oid if left is not None else 0, right_oid)
    if op is None and left is not None and name in RECORD_COMPARISONS \
            and left_oid == right_oid == typeinfo.RECORD_OID:
        return _composite_comparison(name, left, right)  # anonymous records compare field by field too
    if op is None and left is not None and name in RECORD_COMPARISONS:
        composite = left_oid if composites.attributes(left_oid) is not None else right_oid
        if composites.attributes(composite) is not None:  # composite values compare field by field
            return _composite_comparison(name, coerce(left, composite, -1, "implicit", params, position),
                                         coerce(right, composite, -1, "implicit", params, position))
    if op is None:
        raise _no_operator(name, left, right, position)
    args: list[Expr] = []
    if left is not None:
        args.append(coerce(left, op.left_oid or left.type_oid, -1, "implicit", params, position))
    args.append(coerce(right, op.right_oid, -1, "implicit", params, position))
    return _call(op, name, tuple(args), True)


RECORD_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge,
}


def _composite_value(value: Any) -> Any:
    return None if value is None else CompositeValue(value)


def record_comparison(name: str) -> Callable[[Any, Any], bool]:
    """A record comparison operator's function: field by field (record_eq, record_lt, ...)."""
    compare = RECORD_COMPARISONS[name]

    def record_compare(a: Any, b: Any) -> bool:
        return compare(record_key(a), record_key(b))

    return record_compare


def _composite_comparison(name: str, left: Expr, right: Expr) -> Expr:
    return FuncExpr(f"record_{name}", record_comparison(name), (left, right), typeinfo.BOOL_OID)


def _no_operator(name: str, left: Expr | None, right: Expr, position: int | None) -> PgError:
    if left is None:
        return UndefinedFunction(f"operator does not exist: {name} {type_name(right.type_oid)}",
                                 hint="No operator matches the given name and argument type. "
                                      "You might need to add an explicit type cast.", position=position)
    return UndefinedFunction(
        f"operator does not exist: {type_name(left.type_oid)} {name} {type_name(right.type_oid)}",
        hint="No operator matches the given name and argument types. You might need to add explicit type casts.",
        position=position)


def make_function(name: str, args: list[Expr], params: ParamTypes, position: int | None,
                  schema: str | None = None, state: Any = None, variadic_call: bool = False) -> Expr:
    """A call `name(args)` (`variadic_call`: its last argument written VARIADIC array)."""
    oids = tuple(a.type_oid for a in args)
    columns: tuple[tuple[str, int], ...] = ()
    if variadic_call and oids and oids[-1] not in (0, UNKNOWN_OID) and not typeinfo.element_of(oids[-1]) \
            and schema in (None, "pg_catalog") \
            and any(d.variadic_oid == typeinfo.ANY_OID for d in builtins.functions_named(name)):
        raise DatatypeMismatch("VARIADIC argument must be an array", position=position)  # (of a VARIADIC "any")
    if variadic_call:
        fn = _variadic_builtin(name, oids) if schema in (None, "pg_catalog") else None
    else:
        fn = builtins.resolve_function(name, oids) if schema in (None, "pg_catalog") else None
    if fn is None and state is not None and state.extensions and not variadic_call:
        fn = extension_function(state, name, schema, oids)
    if fn is None and state is not None and schema != "pg_catalog":
        fn = user_function(state, name, schema, oids, position, variadic_call)
        defined = state.function(fn.oid) if fn is not None else None
        columns = tuple(state.result_columns(defined)) if defined is not None else ()
    if fn is None:
        shown = ", ".join(type_name(o) for o in oids)
        written = f"{schema}.{name}" if schema is not None else name
        raise UndefinedFunction(
            f"function {written}({shown}) does not exist",
            hint="No function matches the given name and argument types. You might need to add explicit type casts.",
            position=position)
    coerced = tuple(coerce(a, t, -1, "implicit", params, position) if t not in typeinfo.POLYMORPHIC_OIDS
                    and t != typeinfo.ANY_OID else a for a, t in zip(args, fn.arg_oids, strict=False))
    call = _call(fn, name, coerced, False)
    if columns and isinstance(call, FuncExpr):  # a row: (f(x)).a selects a field; a result sends it as
        # a record that knows its fields' types, or (a table's rows, of no row type here) as text
        from pgaurora.planner.rowtypes import call_record_to_text, typed_call_record

        if composites.attributes(call.type_oid) is not None:  # RETURNS a composite type: a value of it
            return FuncExpr("composite", _composite_value, (call,), call.type_oid, columns=tuple(columns))
        row = dataclasses.replace(call, type_oid=typeinfo.RECORD_OID, columns=tuple(columns))
        if row.retset and state.function(fn.oid).out_table:
            return call_record_to_text(row)
        return typed_call_record(row)
    return call


def _variadic_builtin(name: str, oids: tuple[int, ...]) -> Any:
    """A built-in VARIADIC function called with its array (`f(x, VARIADIC arr)`): the function
    taking the array whole, its elements spread into the call; None if no built-in of that name
    has an array-typed VARIADIC parameter."""
    from pgaurora.catalog.builtins.resolution import choose

    defs = []
    for d in builtins.functions_named(name):
        if d.variadic_oid == typeinfo.ANY_OID and d.binder is not None:  # concat, format...: "any" elements
            defs.append(_spread_any(d))
            continue
        if d.variadic_oid is None or d.binder is not None or not typeinfo.element_of(d.arg_oids[-1]):
            continue
        impl = d.impl

        def spread(*args: Any, impl: Any = impl) -> Any:
            return impl(*args[:-1], *(args[-1] or ()))

        defs.append(dataclasses.replace(d, variadic_oid=None, impl=spread))
    return choose(defs, tuple(UNKNOWN_OID if o == 0 else o for o in oids), "function", name) if defs else None


def _spread_any(d: Any) -> Any:
    """A VARIADIC "any" built-in (concat, concat_ws, format) called with VARIADIC array: its
    implementation for the array's elements, bound when the array's length is known (a NULL
    array: concat's NULL; format's no arguments)."""
    fixed = len(d.arg_oids) - 1
    binder = d.binder

    def bind(actual: tuple[int, ...]) -> Any:
        element = typeinfo.element_of(actual[-1]) or typeinfo.TEXT_OID

        def spread(ctx: Any, *args: Any) -> Any:
            array = args[-1]
            if array is None and d.name != "format":
                return None
            items = arrays.elements(array) if array is not None else []
            impl = binder((*actual[:fixed], *(element,) * len(items)))
            return impl(ctx, *args[:-1], *items)
        return spread

    return dataclasses.replace(d, arg_oids=(*d.arg_oids[:fixed], typeinfo.ANYARRAY_OID), variadic_oid=None,
                               binder=bind, needs_context=True, strict=False)


def extension_function(state: Any, name: str, schema: str | None, oids: tuple[int, ...]) -> Any:
    """A function of an installed extension (uuid_generate_v4, digest...): where its extension's
    schema is the one named, or (unqualified) one of the search path's."""
    from pgaurora.catalog.builtins.extensions import extension_functions
    from pgaurora.catalog.builtins.resolution import choose

    path = state.search_path_oids()
    names = [ext.name for ext in state.extensions.values()
             if (state.schema_oid(schema) == ext.schema_oid if schema is not None else ext.schema_oid in path)]
    defs = extension_functions(names, name.lower()) if names else []
    if not defs:
        return None
    return choose(defs, tuple(UNKNOWN_OID if o == 0 else o for o in oids), "function", name)


def user_function(state: Any, name: str, schema: str | None, oids: tuple[int, ...],
                  position: int | None = None, variadic_call: bool = False) -> Any:
    """The function CREATE FUNCTION made that a call `name(args)` means, as a FunctionDef whose
    implementation hands the call to the session running it (session.routines); None if none."""
    defined = [fn for fn in state.user_functions(name, schema) if fn.kind != "a"]  # (aggregates: exprbind)
    if not defined:
        return None
    from pgaurora.catalog.builtins.resolution import choose

    defs = [d for fn in defined for d in _user_defs(fn, variadic_call)]
    chosen = choose(defs, tuple(UNKNOWN_OID if o == 0 else o for o in oids), "function", name)
    if chosen is not None and any(fn.oid == chosen.oid and fn.kind == "p" for fn in defined):
        shown = ", ".join(type_name(o) for o in chosen.arg_oids)
        raise WrongObjectType(f"{name}({shown}) is a procedure", hint="To call a procedure, use CALL.",
                              position=position)
    if chosen is not None and chosen.return_oid == typeinfo.TRIGGER_OID:
        raise FeatureNotSupported("trigger functions can only be called as triggers")
    return chosen


def record_call(fn: Any, expected: tuple[tuple[str, int], ...]) -> Any:
    """The implementation of a call of a function returning record with a column definition
    list (`FROM f(x) AS t(a int, b text)`): the session checks its rows against `expected`."""
    from pgaurora.catalog.builtins.registry import WaitingFunction

    def now(ctx: Any, *args: Any) -> Any:
        coro = ctx.extra["session"].routines.call(fn, args, ctx, expected)
        return ctx.extra["session"].routines.run_now(coro, fn)

    async def wait(ctx: Any, *args: Any) -> Any:
        return await ctx.extra["session"].routines.call(fn, args, ctx, expected)

    return WaitingFunction(now, wait)


_USER_DEFS: dict[Any, Any] = {}


def _user_defs(fn: Any, variadic_call: bool = False) -> list[Any]:
    """FunctionDefs of a user function: one per number of arguments its defaults allow. A
    VARIADIC function takes its last parameter's elements one by one (packed into its array
    for the call), or, for a call that says VARIADIC, the array itself."""
    known = _USER_DEFS.get((fn, variadic_call))
    if known is not None:
        return known  # type: ignore[no-any-return]
    from pgaurora.catalog.builtins.registry import FunctionDef, WaitingFunction

    def now(ctx: Any, *args: Any) -> Any:
        return ctx.extra["session"].routines.call_now(fn, args, ctx)

    async def wait(ctx: Any, *args: Any) -> Any:
        return await ctx.extra["session"].routines.call(fn, args, ctx)

    impl = WaitingFunction(now, wait)
    optional = sum(1 for d in fn.arg_defaults if d is not None)
    # (strictness is the session's to apply: a call that left out defaulted arguments has fewer)
    made = [FunctionDef(fn.name, fn.arg_types[:n], fn.return_type, impl, strict=False, volatility=fn.volatility,
                        oid=fn.oid, needs_context=True, retset=fn.retset)
            for n in range(len(fn.arg_types) - optional, len(fn.arg_types) + 1)]
    variadic = "v" in fn.param_modes
    if variadic and variadic_call:
        made = made[-1:]
    elif variadic:
        last = len(fn.arg_types) - 1

        def packed(args: tuple[Any, ...]) -> tuple[Any, ...]:
            return (*args[:last], list(args[last:]))

        def now_v(ctx: Any, *args: Any) -> Any:
            return ctx.extra["session"].routines.call_now(fn, packed(args), ctx)

        async def wait_v(ctx: Any, *args: Any) -> Any:
            return await ctx.extra["session"].routines.call(fn, packed(args), ctx)

        made = [*made[:-1], FunctionDef(fn.name, fn.arg_types, fn.return_type, WaitingFunction(now_v, wait_v),
                                        strict=False, volatility=fn.volatility, oid=fn.oid, needs_context=True,
                                        retset=fn.retset, variadic_oid=typeinfo.element_of(fn.arg_types[-1]))]
    elif variadic_call:
        made = []
    if len(_USER_DEFS) > 1024:
        _USER_DEFS.clear()
    _USER_DEFS[(fn, variadic_call)] = made
    return made


def _call(resolved: Any, name: str, args: tuple[Expr, ...], is_operator: bool) -> Expr:
    node = FuncExpr(name, resolved.fn, args, resolved.result_oid, -1, resolved.strict,
                    resolved.volatile, is_operator, getattr(resolved, "needs_context", False),
                    getattr(resolved, "retset", False))
    if not node.volatile and not node.needs_context and not node.retset and all(isinstance(a, Const) for a in args):
        values = [a.value for a in args if isinstance(a, Const)]
        if node.strict and None in values:
            return Const(None, node.type_oid)
        return Const(node.fn(*values), node.type_oid)
    return node


def finalize_unknown(expr: Expr, params: ParamTypes) -> Expr:
    """An expression whose type is still unknown at the top level is text."""
    if expr.type_oid == UNKNOWN_OID and isinstance(expr, Const):
        return Const(expr.value, TEXT_OID)
    if isinstance(expr, Param) and expr.type_oid in (0, UNKNOWN_OID):
        params.infer(expr.index, TEXT_OID)
        return Param(expr.index, TEXT_OID)
    return expr


def common_type(exprs: list[Expr], construct: str, position: int | None = None) -> int:
    """PostgreSQL's select_common_type: the preferred/known type every input can convert to."""
    known = [e.type_oid for e in exprs if e.type_oid not in (0, UNKNOWN_OID)]
    if not known:
        return TEXT_OID
    result = known[0]
    category = datatypes.type_category(result)
    for oid in known[1:]:
        if oid == result:
            continue
        if datatypes.type_category(oid) != category:
            raise DatatypeMismatch(f"{construct} types {type_name(result)} and {type_name(oid)} cannot be matched",
                                   position=position)
        if datatypes.is_preferred(result):
            continue
        if datatypes.can_coerce(result, oid) and not datatypes.can_coerce(oid, result):
            result = oid
        elif datatypes.is_preferred(oid) and datatypes.can_coerce(result, oid):
            result = oid
    for oid in known:
        if oid != result and not datatypes.can_coerce(oid, result):
            raise DatatypeMismatch(f"{construct} could not convert type {type_name(oid)} to {type_name(result)}",
                                   position=position)
    return result


def to_boolean(expr: Expr, construct: str, params: ParamTypes, position: int | None) -> Expr:
    if expr.type_oid == BOOL_OID:
        return expr
    if expr.type_oid in (0, UNKNOWN_OID):
        return coerce(expr, BOOL_OID, -1, "implicit", params, position)
    raise DatatypeMismatch(f"argument of {construct} must be type boolean, not type {type_name(expr.type_oid)}",
                           position=position)
