"""What PostgreSQL's anyenum operators, aggregates and functions are for one enum type.

Owns, per enum type (datatypes.enums), the comparison operators (=, <>, <, <=, >, >=: a value
with another of its type, or with a literal taken as one), min / max, and enum_first,
enum_last, enum_range: resolution (catalog.builtins.resolution) asks here when no built-in
matches. Values compare by their labels' sort order (EnumValue), so these are Python's
comparisons.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from pgaurora.catalog.builtins.registry import AggregateDef, FunctionDef, OperatorDef
from pgaurora.datatypes import enums
from pgaurora.datatypes import typeinfo as t

_COMPARISONS: dict[str, tuple[Callable[[Any, Any], bool], str, str]] = {
    "=": (operator.eq, "=", "<>"), "<>": (operator.ne, "<>", "="), "<": (operator.lt, ">", ">="),
    "<=": (operator.le, ">=", ">"), ">": (operator.gt, "<", "<="), ">=": (operator.ge, "<=", "<"),
}
_MADE: dict[tuple[str, str, int], Any] = {}  # (kind, name, type oid) -> its definition, made once


def _enum_of(inputs: tuple[int, ...]) -> int | None:
    """The one enum type of `inputs` (unknown literals taking it), or None."""
    known = {oid for oid in inputs if oid != t.UNKNOWN_OID}
    if len(known) != 1:
        return None
    oid = known.pop()
    return oid if enums.is_enum(oid) else None


def enum_operator(name: str, inputs: tuple[int, ...]) -> OperatorDef | None:
    if name not in _COMPARISONS or len(inputs) != 2 or (oid := _enum_of(inputs)) is None:
        return None
    key = ("operator", name, oid)
    if key not in _MADE:
        fn, commutator, negator = _COMPARISONS[name]
        _MADE[key] = OperatorDef(name, oid, oid, t.BOOL_OID, fn, commutator=commutator, negator=negator)
    return _MADE[key]  # type: ignore[no-any-return]


def enum_aggregate(name: str, inputs: tuple[int, ...]) -> AggregateDef | None:
    if name not in ("min", "max") or len(inputs) != 1 or (oid := _enum_of(inputs)) is None:
        return None
    key = ("aggregate", name, oid)
    if key not in _MADE:
        keep = operator.lt if name == "min" else operator.gt

        def step(state: Any, value: Any) -> Any:
            return value if state is None or keep(value, state) else state

        _MADE[key] = AggregateDef(name, (oid,), oid, lambda: None, step, lambda state: state)
    return _MADE[key]  # type: ignore[no-any-return]


def _labels(oid: int) -> list[Any]:
    cls = enums.enum_class(oid)
    return [cls(label) for label in sorted(cls.orders, key=cls.orders.__getitem__)]


def enum_function(name: str, inputs: tuple[int, ...]) -> FunctionDef | None:
    """enum_first(anyenum), enum_last(anyenum), enum_range(anyenum), enum_range(anyenum, anyenum):
    of the argument's type (its value does not matter, except as range bounds)."""
    if name not in ("enum_first", "enum_last", "enum_range") or (oid := _enum_of(inputs)) is None:
        return None
    if len(inputs) not in ((1, 2) if name == "enum_range" else (1,)):
        return None
    key = ("function", f"{name}/{len(inputs)}", oid)
    if key not in _MADE:
        impl: Callable[..., Any]
        if name == "enum_first":
            impl = lambda _value: _labels(oid)[0]  # noqa: E731
        elif name == "enum_last":
            impl = lambda _value: _labels(oid)[-1]  # noqa: E731
        elif len(inputs) == 1:
            impl = lambda _value: _labels(oid)  # noqa: E731
        else:
            def impl(low: Any, high: Any) -> list[Any]:
                return [v for v in _labels(oid) if (low is None or v >= low) and (high is None or v <= high)]
        info = t.lookup(oid)
        result = info.array_oid if name == "enum_range" else oid
        _MADE[key] = FunctionDef(name, tuple(oid for _ in inputs), result, impl, strict=False, volatility="s")
    return _MADE[key]  # type: ignore[no-any-return]


__all__ = ["enum_aggregate", "enum_function", "enum_operator"]
