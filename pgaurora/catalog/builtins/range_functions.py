"""The built-in range types' functions and operators, as PostgreSQL 15 has them.

Owns, for each of int4range, int8range, numrange, tsrange, tstzrange and daterange: the
constructors (int4range(1, 5), int4range(1, 5, '[]')), lower / upper / isempty / lower_inc /
upper_inc / lower_inf / upper_inf / range_merge, comparison (=, <>, <, <=, >, >=: range_cmp's
order), containment (@>, <@ of a range or an element), && (overlap), << / >> (strictly left /
right), &< / &> (does not extend right / left), -|- (adjacent), + (union), * (intersection) and
- (difference), with PostgreSQL's errors (22000 for a union or difference that would not be
one range). Values: datatypes.ranges.Range. Not multiranges, range_agg, or GiST indexes.

PostgreSQL declares these over anyrange; here each concrete range type has its own, kept out of
the built-in registry (so pg_proc / pg_operator list none of them) and found by resolution
through `range_function` / `range_operator` when a call's arguments include a range.
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable
from typing import Any

from pgaurora.catalog.builtins.registry import FunctionDef, OperatorDef
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.ranges import RANGE_TYPES, Range, canonical, make_range
from pgaurora.errors import PgError

_NAMES = {3904: "int4range", 3926: "int8range", 3906: "numrange", 3908: "tsrange", 3910: "tstzrange",
          3912: "daterange"}


def _lower_key(r: Range) -> tuple[Any, ...]:
    return (0,) if r.lower is None else (1, r.lower, 0 if r.lower_inc else 1)


def _upper_key(r: Range) -> tuple[Any, ...]:
    return (2,) if r.upper is None else (1, r.upper, 1 if r.upper_inc else 0)


def _lower_not_after_upper(low: Range, high: Range) -> bool:
    """Is `low`'s lower bound at or before `high`'s upper bound (some value in both sides' reach)?"""
    if low.lower is None or high.upper is None:
        return True
    if low.lower != high.upper:
        return bool(low.lower < high.upper)
    return low.lower_inc and high.upper_inc


def contains_element(r: Range, value: Any) -> bool:
    if r.empty:
        return False
    if r.lower is not None and (value < r.lower or (value == r.lower and not r.lower_inc)):
        return False
    return not (r.upper is not None and (value > r.upper or (value == r.upper and not r.upper_inc)))


def contains_range(a: Range, b: Range) -> bool:
    if b.empty:
        return True
    if a.empty:
        return False
    return _lower_key(a) <= _lower_key(b) and _upper_key(b) <= _upper_key(a)


def overlaps(a: Range, b: Range) -> bool:
    if a.empty or b.empty:
        return False
    return _lower_not_after_upper(a, b) and _lower_not_after_upper(b, a)


def left_of(a: Range, b: Range) -> bool:
    """a << b: every value of a is below every value of b."""
    return not (a.empty or b.empty) and not _lower_not_after_upper(b, a)


def adjacent(a: Range, b: Range) -> bool:
    if a.empty or b.empty:
        return False

    def touch(first: Range, second: Range) -> bool:
        return first.upper is not None and second.lower is not None and first.upper == second.lower \
            and first.upper_inc != second.lower_inc
    return touch(a, b) or touch(b, a)


def _bounds(oid: int, low: Range, high: Range) -> Range:
    """The range from `low`'s lower bound to `high`'s upper bound."""
    return canonical(oid, Range(low.lower, high.upper, low.lower_inc, high.upper_inc))


def _union(oid: int) -> Callable[[Range, Range], Range]:
    def union(a: Range, b: Range) -> Range:
        if a.empty:
            return b
        if b.empty:
            return a
        if not overlaps(a, b) and not adjacent(a, b):
            raise PgError("result of range union would not be contiguous", sqlstate="22000")
        return _merge(oid)(a, b)
    return union


def _merge(oid: int) -> Callable[[Range, Range], Range]:
    def merge(a: Range, b: Range) -> Range:
        if a.empty:
            return b
        if b.empty:
            return a
        low = a if _lower_key(a) <= _lower_key(b) else b
        high = a if _upper_key(a) >= _upper_key(b) else b
        return _bounds(oid, low, high)
    return merge


def _intersection(oid: int) -> Callable[[Range, Range], Range]:
    def intersection(a: Range, b: Range) -> Range:
        if a.empty or b.empty or not overlaps(a, b):
            return Range(None, None, empty=True)
        low = a if _lower_key(a) >= _lower_key(b) else b
        high = a if _upper_key(a) <= _upper_key(b) else b
        return _bounds(oid, low, high)
    return intersection


def _difference(oid: int) -> Callable[[Range, Range], Range]:
    def difference(a: Range, b: Range) -> Range:
        if a.empty or b.empty or not overlaps(a, b):
            return a
        starts_before = _lower_key(a) < _lower_key(b)
        ends_after = _upper_key(a) > _upper_key(b)
        if starts_before and ends_after:
            raise PgError("result of range difference would not be contiguous", sqlstate="22000")
        if starts_before:  # a's part below b
            return canonical(oid, Range(a.lower, b.lower, a.lower_inc, not b.lower_inc))
        if ends_after:  # a's part above b
            return canonical(oid, Range(b.upper, a.upper, not b.upper_inc, a.upper_inc))
        return Range(None, None, empty=True)
    return difference


_FUNCTIONS: dict[str, list[FunctionDef]] = {}
_OPERATORS: dict[str, list[OperatorDef]] = {}


def function(name: str, args: tuple[int, ...], result: int, impl: Any, **options: Any) -> None:
    _FUNCTIONS.setdefault(name, []).append(FunctionDef(name, args, result, impl, **options))


def operator(name: str, left: int, right: int, result: int, impl: Any, **options: Any) -> None:
    _OPERATORS.setdefault(name, []).append(OperatorDef(name, left, right, result, impl, **options))


def _with_range(inputs: tuple[int, ...]) -> bool:
    return any(oid in RANGE_TYPES for oid in inputs)


def range_function(name: str, inputs: tuple[int, ...]) -> FunctionDef | None:
    """The range function a call means (None when it is no call of one)."""
    defs = _FUNCTIONS.get(name)
    if defs is None or not (_with_range(inputs) or name in _NAMES.values()):
        return None
    from pgaurora.catalog.builtins.resolution import _choose

    return _choose(defs, inputs, "function", name)


def range_operator(name: str, inputs: tuple[int, ...]) -> OperatorDef | None:
    """The range operator `left name right` means (None when neither side is a range)."""
    defs = _OPERATORS.get(name)
    if defs is None or not _with_range(inputs):
        return None
    from pgaurora.catalog.builtins.resolution import _choose

    return _choose(defs, inputs, "operator", name)


def _register() -> None:
    B = t.BOOL_OID
    comparisons = {"=": op.eq, "<>": op.ne, "<": op.lt, "<=": op.le, ">": op.gt, ">=": op.ge}
    negators = {"=": "<>", "<>": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
    commutators = {"=": "=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
    for oid, (element, _) in RANGE_TYPES.items():
        name = _NAMES[oid]
        function(name, (element, element), oid,
                 lambda a, b, oid=oid: make_range(oid, a, b), strict=False)
        function(name, (element, element, t.TEXT_OID), oid,
                 lambda a, b, flags, oid=oid: make_range(oid, a, b, flags), strict=False)
        function("lower", (oid,), element, lambda r: r.lower)
        function("upper", (oid,), element, lambda r: r.upper)
        function("isempty", (oid,), B, lambda r: r.empty)
        function("lower_inc", (oid,), B, lambda r: r.lower_inc)
        function("upper_inc", (oid,), B, lambda r: r.upper_inc)
        function("lower_inf", (oid,), B, lambda r: not r.empty and r.lower is None)
        function("upper_inf", (oid,), B, lambda r: not r.empty and r.upper is None)
        function("range_merge", (oid, oid), oid, _merge(oid))
        for word, fn in comparisons.items():
            operator(word, oid, oid, B, fn, commutator=commutators[word], negator=negators[word])
        operator("@>", oid, oid, B, contains_range, commutator="<@")
        operator("<@", oid, oid, B, lambda a, b: contains_range(b, a), commutator="@>")
        operator("@>", oid, element, B, contains_element, commutator="<@")
        operator("<@", element, oid, B, lambda v, r: contains_element(r, v), commutator="@>")
        operator("&&", oid, oid, B, overlaps, commutator="&&")
        operator("<<", oid, oid, B, left_of, commutator=">>")
        operator(">>", oid, oid, B, lambda a, b: left_of(b, a), commutator="<<")
        operator("&<", oid, oid, B, lambda a, b: not (a.empty or b.empty) and _upper_key(a) <= _upper_key(b))
        operator("&>", oid, oid, B, lambda a, b: not (a.empty or b.empty) and _lower_key(a) >= _lower_key(b))
        operator("-|-", oid, oid, B, adjacent, commutator="-|-")
        operator("+", oid, oid, oid, _union(oid), commutator="+")
        operator("*", oid, oid, oid, _intersection(oid), commutator="*")
        operator("-", oid, oid, oid, _difference(oid))


_register()

__all__ = ["contains_element", "contains_range", "overlaps", "left_of", "adjacent", "range_function",
           "range_operator"]
