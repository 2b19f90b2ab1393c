"""The built-in function, operator, aggregate and window-function definitions and their lookups.

Owns FunctionDef / OperatorDef / AggregateDef / WindowDef (what pg_proc, pg_operator and
pg_aggregate say about each built-in, plus the Python callable that implements it) and the
name-indexed registry that resolution searches. Not overload resolution (resolution) and not
the implementations (the family modules register them here at import time).

Calling conventions, fixed for the executor:
- `impl(*args)`; with `needs_context=True`, `impl(ctx, *args)` where ctx is the executor's
  ExecContext (read: `transaction_start`, `statement_start`, `format_context`, `settings`).
- strict functions are never called with a None argument (the caller returns NULL instead).
- retset functions return an iterable of rows (tuples, or scalars for one column).
- aggregates: `agg.make()` returns a state with `step(*args)` per row and `final()`.
- a function that may have to wait (a held advisory lock, pg_sleep) has a WaitingFunction as
  its impl: the executor awaits its `wait(ctx, *args)` before the row's expressions are
  evaluated, as it runs their subqueries (executor.compile); where it cannot (inside CASE, AND,
  OR, COALESCE...), the impl is called synchronously and does what it can without waiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pgaurora.catalog.builtins.proctable import OPERATOR_OIDS, PROC_OIDS

Impl = Callable[..., Any]


class WaitingFunction:
    """The impl of a built-in that may wait: `now(ctx, *args)`, the synchronous form (called as
    the impl is), and `wait(ctx, *args)`, a coroutine function with the full behaviour."""

    __slots__ = ("now", "wait")

    def __init__(self, now: Impl, wait: Callable[..., Awaitable[Any]]) -> None:
        self.now = now
        self.wait = wait

    def __call__(self, *args: Any) -> Any:
        return self.now(*args)


@dataclass(frozen=True, slots=True)
class FunctionDef:
    """One pg_proc row with its implementation.

    `binder`, when set, specialises the implementation for the actual argument types (for
    "any"-typed or polymorphic functions such as concat or to_json): resolution calls
    binder(actual_arg_oids) once and puts the result in `impl`.
    """

    name: str
    arg_oids: tuple[int, ...]
    return_oid: int
    impl: Impl
    strict: bool = True
    volatility: str = "i"
    variadic_oid: int | None = None
    retset: bool = False
    oid: int = 0
    needs_context: bool = False
    binder: Callable[[tuple[int, ...]], Impl] | None = field(default=None, compare=False)
    column_names: tuple[str, ...] = ()
    column_oids: tuple[int, ...] = ()

    @property
    def fn(self) -> Impl:
        return self.impl

    @property
    def result_oid(self) -> int:
        return self.return_oid

    @property
    def volatile(self) -> bool:
        return self.volatility != "i"

    def result_types(self, arg_oids: tuple[int, ...] = ()) -> tuple[int, ...]:
        """Column types of a set-returning function's rows."""
        return self.column_oids or (self.return_oid,)


@dataclass(frozen=True, slots=True)
class OperatorDef:
    """One pg_operator row with its implementation. `left_oid` is None for prefix operators."""

    name: str
    left_oid: int | None
    right_oid: int
    result_oid: int
    impl: Impl
    commutator: str | None = None
    negator: str | None = None
    oid: int = 0
    needs_context: bool = False
    strict: bool = True
    volatility: str = "i"
    binder: Callable[[tuple[int, ...]], Impl] | None = field(default=None, compare=False)

    @property
    def fn(self) -> Impl:
        return self.impl

    @property
    def return_oid(self) -> int:
        return self.result_oid

    @property
    def volatile(self) -> bool:
        return self.volatility != "i"

    @property
    def arg_oids(self) -> tuple[int, ...]:
        return (self.right_oid,) if self.left_oid is None else (self.left_oid, self.right_oid)


class AggregateState:
    """A running aggregate: transition per row, final at the end (PostgreSQL's agg state)."""

    __slots__ = ("value", "_transition", "_final", "_strict")

    def __init__(self, value: Any, transition: Impl, final: Callable[[Any], Any], strict: bool) -> None:
        self.value = value
        self._transition = transition
        self._final = final
        self._strict = strict

    def step(self, *args: Any) -> None:
        if self._strict and None in args:
            return
        self.value = self._transition(self.value, *args)

    def final(self) -> Any:
        return self._final(self.value)


@dataclass(frozen=True, slots=True)
class AggregateDef:
    """One pg_aggregate row: init() -> state, transition(state, *args) -> state, final(state)."""

    name: str
    arg_oids: tuple[int, ...]
    return_oid: int
    init: Callable[[], Any]
    transition: Impl
    final: Callable[[Any], Any]
    combine: Callable[[Any, Any], Any] | None = None
    strict: bool = True
    oid: int = 0
    binder: Callable[[tuple[int, ...]], AggregateDef] | None = field(default=None, compare=False)

    @property
    def result_oid(self) -> int:
        return self.return_oid

    def make(self) -> AggregateState:
        return AggregateState(self.init(), self.transition, self.final, self.strict)


@dataclass(frozen=True, slots=True)
class WindowDef:
    """A window function. `make` is None for the ranking/value functions the executor computes
    itself (row_number, rank, lag...); for an aggregate used as a window function it is the
    aggregate's make()."""

    name: str
    arg_oids: tuple[int, ...]
    result_oid: int
    make: Callable[[], AggregateState] | None = None


class Registry:
    """Built-ins by name. Names are stored lower-case, as PostgreSQL folds unquoted names."""

    def __init__(self) -> None:
        self.functions: dict[str, list[FunctionDef]] = {}
        self.operators: dict[str, list[OperatorDef]] = {}
        self.aggregates: dict[str, list[AggregateDef]] = {}

    def add_function(self, fdef: FunctionDef) -> None:
        self.functions.setdefault(fdef.name, []).append(fdef)
        _clear_resolution_caches()

    def add_operator(self, odef: OperatorDef) -> None:
        self.operators.setdefault(odef.name, []).append(odef)
        _clear_resolution_caches()

    def add_aggregate(self, adef: AggregateDef) -> None:
        self.aggregates.setdefault(adef.name, []).append(adef)


def _clear_resolution_caches() -> None:
    """Registering after a lookup (e.g. the catalog adding functions) must not serve stale answers."""
    import sys

    resolution = sys.modules.get("pgaurora.catalog.builtins.resolution")
    if resolution is not None:
        resolution._function_for.cache_clear()
        resolution._operator_for.cache_clear()


REGISTRY = Registry()


def function(name: str, arg_oids: Iterable[int], return_oid: int, impl: Impl, **options: Any) -> FunctionDef:
    """Register a built-in function (options: strict, volatility, variadic_oid, retset, oid, ...)."""
    args = tuple(arg_oids)
    options.setdefault("oid", PROC_OIDS.get((name, args), 0))
    fdef = FunctionDef(name, args, return_oid, impl, **options)
    REGISTRY.add_function(fdef)
    return fdef


def operator(name: str, left_oid: int | None, right_oid: int, result_oid: int, impl: Impl,
             **options: Any) -> OperatorDef:
    """Register a built-in operator."""
    options.setdefault("oid", OPERATOR_OIDS.get((name, left_oid, right_oid), 0))
    odef = OperatorDef(name, left_oid, right_oid, result_oid, impl, **options)
    REGISTRY.add_operator(odef)
    return odef


def aggregate(name: str, arg_oids: Iterable[int], return_oid: int, init: Callable[[], Any], transition: Impl,
              final: Callable[[Any], Any], **options: Any) -> AggregateDef:
    """Register a built-in aggregate."""
    args = tuple(arg_oids)
    options.setdefault("oid", PROC_OIDS.get((name, args), 0))
    adef = AggregateDef(name, args, return_oid, init, transition, final, **options)
    REGISTRY.add_aggregate(adef)
    return adef


def functions_named(name: str) -> list[FunctionDef]:
    """Every built-in function called `name` (all overloads), as pg_proc lists them."""
    return list(REGISTRY.functions.get(name.lower(), ()))


def operators_named(name: str) -> list[OperatorDef]:
    return list(REGISTRY.operators.get(name, ()))


def aggregates_named(name: str) -> list[AggregateDef]:
    return list(REGISTRY.aggregates.get(name.lower(), ()))


def is_aggregate(name: str) -> bool:
    return name.lower() in REGISTRY.aggregates


def all_functions() -> list[FunctionDef]:
    return [f for defs in REGISTRY.functions.values() for f in defs]


def all_operators() -> list[OperatorDef]:
    return [o for defs in REGISTRY.operators.values() for o in defs]


def all_aggregates() -> list[AggregateDef]:
    return [a for defs in REGISTRY.aggregates.values() for a in defs]
