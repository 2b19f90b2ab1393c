"""Calls of aggregates CREATE AGGREGATE made: choosing one for the arguments, and its state.

Owns turning a user aggregate (catalog.model.Function of kind 'a': its transition function's
name, state type, final function's name and initial state) and a call's argument types into an
AggregateDef the executor runs like a built-in's: the state starts as the initial condition (its
text read by the state type's input), each row's values go through the transition function (a
built-in or a user function, found by name for the state type and the arguments' types), the
final function (if any) makes the result. As in PostgreSQL, a strict transition function skips
rows with a NULL argument, and with no initial condition the first row's value becomes the state
(when it is of the state's type). Polymorphic aggregates (first(anyelement) with a transition
function over anyelement) take their types from the call. Not the DDL (planner.routines) and
not built-in aggregates (catalog.builtins.aggregates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgaurora import datatypes
from pgaurora.catalog.builtins.registry import AggregateState, FunctionDef
from pgaurora.datatypes import typeinfo
from pgaurora.errors import UndefinedFunction

_ELEMENT_LIKE = (typeinfo.ANYELEMENT_OID, typeinfo.ANYNONARRAY_OID)


@dataclass(frozen=True, slots=True)
class UserAggregate:
    """What planner.exprbind needs of an aggregate: its resolved argument and result types and
    `make()`, a fresh state (bound, when the executor makes it, to the statement's context)."""

    name: str
    arg_oids: tuple[int, ...]
    return_oid: int
    make: Callable[[], AggregateState]

    @property
    def result_oid(self) -> int:
        return self.return_oid


def user_aggregate(state: Any, name: str, schema: str | None, arg_oids: tuple[int, ...],
                   position: int | None) -> UserAggregate | None:
    """The AggregateDef of the user aggregate `name(arg types)` means, or None if none is named so."""
    from pgaurora.catalog.builtins.resolution import choose
    from pgaurora.planner.routines import aggregate_function

    if state is None:
        return None
    aggregates = [fn for fn in state.user_functions(name, schema) if fn.kind == "a"]
    if not aggregates:
        return None
    defs = [FunctionDef(fn.name, fn.arg_types, fn.return_type, fn, strict=False) for fn in aggregates]
    chosen = choose(defs, tuple(typeinfo.UNKNOWN_OID if o == 0 else o for o in arg_oids), "function", name)
    if chosen is None:
        return None
    fn: Any = chosen.impl
    args = chosen.arg_oids
    stype = _concrete(fn.agg_stype, fn.arg_types, args)
    transition = aggregate_function(state, fn.agg_sfunc, (stype, *args))
    if transition is None:
        shown = ", ".join(typeinfo.format_type(t) for t in (stype, *args))
        raise UndefinedFunction(f"function {fn.agg_sfunc}({shown}) does not exist", position=position)
    final = aggregate_function(state, fn.agg_finalfunc, (stype,)) if fn.agg_finalfunc else None
    result = final.return_oid if final is not None else stype
    initial = datatypes.parse_value(fn.agg_initcond, stype) if fn.agg_initcond is not None else None
    strict = _strict(state, transition)
    final_strict = final is not None and _strict(state, final)
    first_is_state = fn.agg_initcond is None and strict and len(args) == 1 and args[0] == stype

    def make() -> AggregateState:
        from pgaurora.executor.aggregate import MAKING_ENV

        env = MAKING_ENV.get()
        ctx = env.ctx if env is not None else None
        step = _caller(transition, ctx)
        finish = _caller(final, ctx) if final is not None else None

        def advance(value: Any, *row: Any) -> Any:
            if strict and any(v is None for v in row):
                return value
            if strict and value is None:
                if first_is_state:
                    return row[0]  # (no initial condition: the first value is the state)
                if fn.agg_initcond is None:
                    return None
            return step(value, *row)

        def done(value: Any) -> Any:
            if finish is None:
                return value
            if value is None and final_strict:
                return None
            return finish(value)

        return AggregateState(initial, advance, done, False)

    return UserAggregate(name, args, result, make)


def _strict(state: Any, fdef: FunctionDef) -> bool:
    """Is the function strict (a user function's STRICT is its catalog row's; a built-in's its own)?"""
    defined = state.function(fdef.oid) if fdef.oid else None
    return bool(defined.strict) if defined is not None else fdef.strict


def _caller(fdef: FunctionDef, ctx: Any) -> Any:
    """A plain callable of a resolved function's implementation (a context given to those that
    take one: user functions, and built-ins that read settings)."""
    impl = fdef.impl
    if fdef.needs_context:
        return lambda *args: impl(ctx, *args)
    return impl


def _concrete(declared: int, declared_args: tuple[int, ...], actual_args: tuple[int, ...]) -> int:
    """A polymorphic state type as this call's argument types make it."""
    if declared not in typeinfo.POLYMORPHIC_OIDS:
        return declared
    element = 0
    for want, have in zip(declared_args, actual_args, strict=False):
        if want in _ELEMENT_LIKE:
            element = have
        elif want == typeinfo.ANYARRAY_OID:
            element = typeinfo.element_of(have)
    if declared in _ELEMENT_LIKE:
        return element
    if declared == typeinfo.ANYARRAY_OID and element:
        return typeinfo.array_of(element)
    return declared


__all__ = ["UserAggregate", "user_aggregate"]
