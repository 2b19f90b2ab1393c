"""Expression -> closure compilation: done once per plan, so rows are never walked as trees.

Owns turning executor.expr nodes into Python closures `f(row, env) -> value` with SQL
semantics (strict functions, three-valued AND/OR, CASE, IN lists). Not the nodes that call
them (the per-family node modules) and not the functions themselves (catalog.builtins).

Subqueries cannot run inside a synchronous closure (scans are async), so a SubPlanExpr compiles
to a read of `env.subplan_values[k]`; the node that evaluates the expression first awaits
`CompiledExpr.prepare(row, env)`, which runs the row's subplans (once per execution for
uncorrelated ones).

A function that may wait (catalog.builtins.registry.WaitingFunction: pg_advisory_lock on a held
lock, pg_sleep) goes the same way when every evaluation of the expression calls it (it is
reached through function arguments, ROW/ARRAY constructors and IS [NOT] NULL/TRUE tests only):
a WaitCall in the subplan list, awaited by prepare for each row, and a closure that reads its
result. Below CASE, AND, OR, COALESCE and the like, PostgreSQL may not call it at all, so it is
called there synchronously (WaitingFunction.now), as is any call a node evaluates without
preparing the row first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from pgaurora.catalog.builtins.registry import WaitingFunction
from pgaurora.datatypes import typeinfo
from pgaurora.datatypes.records import CompositeValue, TypedRecord
from pgaurora.executor.expr import (
    ArrayExpr,
    BooleanTest,
    BoolExpr,
    BoolOp,
    CaseExpr,
    CoalesceExpr,
    Const,
    ContextValue,
    ExecParam,
    Expr,
    FuncExpr,
    MinMaxExpr,
    NullTest,
    Param,
    RowExpr,
    ScalarArrayOp,
    SubPlanExpr,
    Var,
)

Closure = Callable[[Any, Any], Any]
_subplan_ids = itertools.count()
_NOT_WAITED = object()
# ids of the WaitingFunction calls of the expressions being compiled that every evaluation makes
_every_time: frozenset[int] = frozenset()


class WaitCall:
    """A WaitingFunction call taken out of its expression: `run(row, env)` awaits it (prepare)."""

    __slots__ = ("wait", "args", "strict")

    def __init__(self, wait: Callable[..., Any], args: list[Closure], strict: bool) -> None:
        self.wait = wait
        self.args = args
        self.strict = strict

    async def run(self, row: Any, env: Any) -> Any:
        values = [a(row, env) for a in self.args]
        if self.strict and None in values:
            return None
        return await self.wait(env.ctx, *values)


def _waiting_calls(expr: Expr, found: set[int]) -> None:
    """Adds the ids of the WaitingFunction calls of `expr` that every evaluation of it makes."""
    if isinstance(expr, FuncExpr):
        for arg in expr.args:
            _waiting_calls(arg, found)
        if type(expr.fn) is WaitingFunction:
            found.add(id(expr))
    elif isinstance(expr, NullTest | BooleanTest):
        _waiting_calls(expr.arg, found)
    elif isinstance(expr, ArrayExpr):
        for element in expr.elements:
            _waiting_calls(element, found)
    elif isinstance(expr, RowExpr):
        for column in expr.fields:
            _waiting_calls(column, found)


def _hoisting(exprs: tuple[Expr, ...] | list[Expr]) -> frozenset[int]:
    found: set[int] = set()
    for expr in exprs:
        _waiting_calls(expr, found)
    return frozenset(found)


class CompiledExpr:
    """A compiled expression: `fn(row, env)` plus the subplans to run before calling it."""

    __slots__ = ("fn", "subplans")

    def __init__(self, fn: Closure, subplans: list[tuple[int, SubPlanExpr, list[Closure]]]) -> None:
        self.fn = fn
        self.subplans = subplans

    async def prepare(self, row: Any, env: Any) -> None:
        for key, sub, arg_fns in self.subplans:
            if type(sub) is WaitCall:
                env.subplan_values[key] = await sub.run(row, env)
                continue
            if not sub.outer_slots:
                if key in env.subplan_values:
                    continue
            else:
                for slot, arg_fn in zip(sub.outer_slots, arg_fns, strict=True):
                    env.exec_params[slot] = arg_fn(row, env)
            env.subplan_values[key] = await env.eval_subplan(sub, row)


def compile_expr(expr: Expr) -> CompiledExpr:
    global _every_time
    saved, _every_time = _every_time, _hoisting((expr,))
    try:
        subplans: list[tuple[int, SubPlanExpr, list[Closure]]] = []
        fn = _compile(expr, subplans)
    finally:
        _every_time = saved
    return CompiledExpr(fn, subplans)


def compile_exprs(exprs: tuple[Expr, ...] | list[Expr]) -> tuple[Closure, list[tuple[int, SubPlanExpr, list[Closure]]]]:
    """A closure building the tuple of all `exprs` for a row, and the subplans they need."""
    global _every_time
    subplans: list[tuple[int, SubPlanExpr, list[Closure]]] = []
    saved, _every_time = _every_time, _hoisting(exprs)
    try:
        fns = [_compile(e, subplans) for e in exprs]
    finally:
        _every_time = saved
    if all(isinstance(e, Var) for e in exprs):
        indexes = [e.index for e in exprs if isinstance(e, Var)]
        if len(indexes) == 1:
            i0 = indexes[0]
            return (lambda row, env: (row[i0],)), subplans
        src = "def project(row, env):\n    return (" + "".join(f"row[{i}], " for i in indexes) + ")\n"
        namespace: dict[str, Any] = {}
        exec(src, namespace)  # noqa: S102 - generated projection, no user input in the source
        return namespace["project"], subplans
    names = {f"f{i}": f for i, f in enumerate(fns)}
    src = "def project(row, env):\n    return (" + "".join(f"f{i}(row, env), " for i in range(len(fns))) + ")\n"
    exec(src, names)  # noqa: S102
    return names["project"], subplans


def _compile(expr: Expr, subplans: list[tuple[int, SubPlanExpr, list[Closure]]]) -> Closure:
    if isinstance(expr, Var):
        i = expr.index
        return lambda row, env: row[i]
    if isinstance(expr, Const):
        value = expr.value
        return lambda row, env: value
    if isinstance(expr, Param):
        p = expr.index
        return lambda row, env: env.params[p]
    if isinstance(expr, ExecParam):
        slot = expr.slot
        return lambda row, env: env.exec_params[slot]
    if isinstance(expr, ContextValue):
        name = expr.name
        return lambda row, env: env.context_value(name)
    if isinstance(expr, FuncExpr):
        return _compile_func(expr, subplans)
    if isinstance(expr, BoolExpr):
        return _compile_bool(expr, subplans)
    if isinstance(expr, NullTest):
        arg = _compile(expr.arg, subplans)
        if isinstance(expr.arg, RowExpr):
            if expr.arg.null:
                return lambda row, env: not expr.is_not
            if expr.is_not:
                return lambda row, env: all(v is not None for v in arg(row, env))
            return lambda row, env: all(v is None for v in arg(row, env))
        if expr.is_not:
            return lambda row, env: arg(row, env) is not None
        return lambda row, env: arg(row, env) is None
    if isinstance(expr, BooleanTest):
        arg = _compile(expr.arg, subplans)
        wanted = {"IS_TRUE": (True, False), "IS_NOT_TRUE": (True, True), "IS_FALSE": (False, False),
                  "IS_NOT_FALSE": (False, True), "IS_UNKNOWN": (None, False),
                  "IS_NOT_UNKNOWN": (None, True)}[expr.test]
        target, negate = wanted
        return lambda row, env: (arg(row, env) is target) != negate
    if isinstance(expr, CaseExpr):
        whens = [(_compile(c, subplans), _compile(r, subplans)) for c, r in expr.whens]
        default = _compile(expr.default, subplans) if expr.default is not None else (lambda row, env: None)

        def case(row: Any, env: Any) -> Any:
            for cond, result in whens:
                if cond(row, env) is True:
                    return result(row, env)
            return default(row, env)

        return case
    if isinstance(expr, CoalesceExpr):
        args = [_compile(a, subplans) for a in expr.args]

        def coalesce(row: Any, env: Any) -> Any:
            for a in args:
                v = a(row, env)
                if v is not None:
                    return v
            return None

        return coalesce
    if isinstance(expr, MinMaxExpr):
        args = [_compile(a, subplans) for a in expr.args]
        better = expr.compare
        greatest = expr.is_greatest

        def minmax(row: Any, env: Any) -> Any:
            best = None
            for a in args:
                v = a(row, env)
                if v is None:
                    continue
                if best is None or (better(v, best) if greatest else better(best, v)):
                    best = v
            return best

        return minmax
    if isinstance(expr, ScalarArrayOp):
        return _compile_scalar_array(expr, subplans)
    if isinstance(expr, ArrayExpr):
        elems = [_compile(e, subplans) for e in expr.elements]
        return lambda row, env: [e(row, env) for e in elems]
    if isinstance(expr, RowExpr):
        if expr.null:
            return lambda row, env: None
        fields = [_compile(e, subplans) for e in expr.fields]
        if expr.type_oid != typeinfo.RECORD_OID:  # ROW(...)::composite: a value of that type
            return lambda row, env: CompositeValue([f(row, env) for f in fields])
        if not expr.names:  # an anonymous ROW(...): a record that knows its fields' types (record_send)
            types = tuple(typeinfo.TEXT_OID if e.type_oid == 0 else e.type_oid for e in expr.fields)
            return lambda row, env: TypedRecord.of([f(row, env) for f in fields], types)
        return lambda row, env: tuple(f(row, env) for f in fields)
    if isinstance(expr, SubPlanExpr):
        key = next(_subplan_ids)
        arg_fns = [_compile(a, subplans) for a in expr.outer_args]
        subplans.append((key, expr, arg_fns))
        if expr.left is not None:
            left = _compile(expr.left, subplans)
            compare = expr.compare
            assert compare is not None
            use_or = expr.kind.value == "ANY"
            if use_or and expr.op_name == "=":
                # x IN (subquery): probe a set built once per subquery result (NULLs keep SQL semantics)
                set_key = -key - 1

                def in_subquery(row: Any, env: Any) -> Any:
                    items = env.subplan_values[key]
                    cached = env.subplan_values.get(set_key)
                    if cached is None or cached[0] is not items:
                        try:
                            members: Any = frozenset(i for i in items if i is not None)
                        except TypeError:
                            members = None
                        cached = env.subplan_values[set_key] = (items, members, None in items)
                    v = left(row, env)
                    if v is None:
                        return None if items else False
                    members = cached[1]
                    if members is None:
                        return _any_all(v, items, compare, True)
                    if v in members:
                        return True
                    return None if cached[2] else False

                return in_subquery

            def quantified(row: Any, env: Any) -> Any:
                return _any_all(left(row, env), env.subplan_values[key], compare, use_or)

            return quantified
        return lambda row, env: env.subplan_values[key]
    raise TypeError(f"cannot compile {type(expr).__name__}")


def _any_all(value: Any, items: list[Any], compare: Callable[[Any, Any], Any], use_or: bool) -> Any:
    """SQL's ANY (use_or) / ALL over `items` with three-valued logic: ANY stops at the first
    true comparison and ALL at the first false one; a NULL met on the way makes the
    undecided result NULL."""
    decisive = use_or
    if not items:
        return not decisive
    if value is None:
        return None
    saw_null = False
    for item in items:
        if item is None:
            saw_null = True
            continue
        result = compare(value, item)
        if result is decisive:
            return decisive
        if result is None:
            saw_null = True
    return None if saw_null else not decisive


def _compile_func(expr: FuncExpr, subplans: list[tuple[int, SubPlanExpr, list[Closure]]]) -> Closure:
    fn = expr.fn
    args = [_compile(a, subplans) for a in expr.args]
    if type(fn) is WaitingFunction and id(expr) in _every_time:
        return _compile_waiting(expr, fn, args, subplans)
    if expr.needs_context:
        if expr.strict:
            def ctx_strict(row: Any, env: Any) -> Any:
                values = [a(row, env) for a in args]
                if None in values:
                    return None
                return fn(env.ctx, *values)

            return ctx_strict
        return lambda row, env: fn(env.ctx, *[a(row, env) for a in args])
    if not expr.strict:
        if len(args) == 1:
            a0 = args[0]
            return lambda row, env: fn(a0(row, env))
        return lambda row, env: fn(*[a(row, env) for a in args])
    if len(args) == 0:
        return lambda row, env: fn()
    if len(args) == 1:
        a0 = args[0]

        def strict1(row: Any, env: Any) -> Any:
            v = a0(row, env)
            return None if v is None else fn(v)

        return strict1
    if len(args) == 2:
        a0, a1 = args
        if isinstance(expr.args[0], Var) and isinstance(expr.args[1], Const | Param):
            i = expr.args[0].index
            if isinstance(expr.args[1], Const):
                c = expr.args[1].value
                if c is None:
                    return lambda row, env: None

                def var_const(row: Any, env: Any) -> Any:
                    v = row[i]
                    return None if v is None else fn(v, c)

                return var_const
            p = expr.args[1].index

            def var_param(row: Any, env: Any) -> Any:
                v = row[i]
                w = env.params[p]
                return None if v is None or w is None else fn(v, w)

            return var_param

        def strict2(row: Any, env: Any) -> Any:
            # both arguments are evaluated before the NULL test, as PostgreSQL does (errors included)
            v = a0(row, env)
            w = a1(row, env)
            return None if v is None or w is None else fn(v, w)

        return strict2

    def strict_n(row: Any, env: Any) -> Any:
        values = [a(row, env) for a in args]
        if None in values:
            return None
        return fn(*values)

    return strict_n


def _compile_waiting(expr: FuncExpr, fn: WaitingFunction, args: list[Closure],
                     subplans: list[Any]) -> Closure:
    """A call awaited by prepare (a WaitCall after its arguments' subplans); the closure reads
    its result, or calls the function's synchronous form where the row was not prepared."""
    key = next(_subplan_ids)
    strict = expr.strict
    subplans.append((key, WaitCall(fn.wait, args, strict), args))

    def waited(row: Any, env: Any) -> Any:
        value = env.subplan_values.pop(key, _NOT_WAITED)
        if value is not _NOT_WAITED:
            return value
        values = [a(row, env) for a in args]
        if strict and None in values:
            return None
        return fn.now(env.ctx, *values)

    return waited


def _compile_bool(expr: BoolExpr, subplans: list[tuple[int, SubPlanExpr, list[Closure]]]) -> Closure:
    args = [_compile(a, subplans) for a in expr.args]
    if expr.op is BoolOp.NOT:
        a0 = args[0]

        def not_(row: Any, env: Any) -> Any:
            v = a0(row, env)
            return None if v is None else not v

        return not_
    if expr.op is BoolOp.AND:
        if len(args) == 2:
            a0, a1 = args

            def and2(row: Any, env: Any) -> Any:
                v = a0(row, env)
                if v is False:
                    return False
                w = a1(row, env)
                if w is False:
                    return False
                return None if v is None or w is None else True

            return and2

        def and_(row: Any, env: Any) -> Any:
            saw_null = False
            for a in args:
                v = a(row, env)
                if v is False:
                    return False
                if v is None:
                    saw_null = True
            return None if saw_null else True

        return and_

    def or_(row: Any, env: Any) -> Any:
        saw_null = False
        for a in args:
            v = a(row, env)
            if v is True:
                return True
            if v is None:
                saw_null = True
        return None if saw_null else False

    return or_


def _compile_scalar_array(expr: ScalarArrayOp, subplans: list[tuple[int, SubPlanExpr, list[Closure]]]) -> Closure:
    left = _compile(expr.left, subplans)
    compare = expr.fn
    use_or = expr.use_or
    if isinstance(expr.right, ArrayExpr) and all(isinstance(e, Const) for e in expr.right.elements) and expr.name == "=":
        consts = [e.value for e in expr.right.elements if isinstance(e, Const)]
        if None not in consts and use_or:
            try:
                members = frozenset(consts)
            except TypeError:
                members = None
            if members is not None:
                def in_set(row: Any, env: Any) -> Any:
                    v = left(row, env)
                    if v is None:
                        return None
                    return v in members

                return in_set
    right = _compile(expr.right, subplans)
    return lambda row, env: _scalar_array(left(row, env), right(row, env), compare, use_or)


def _scalar_array(value: Any, items: Any, compare: Callable[[Any, Any], Any], use_or: bool) -> Any:
    if items is None:
        return None
    flat = items
    while flat and isinstance(flat[0], list):
        flat = [x for sub in flat for x in sub]
    return _any_all(value, flat, compare, use_or)
