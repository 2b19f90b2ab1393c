"""Array operators and functions (|| @> <@ &&, array_length, array_append, unnest, ...) and generate_series.

Owns PostgreSQL's array semantics on Python lists (always lower bound 1): concatenation of
arrays of equal or adjacent dimensionality (22202E "cannot concatenate incompatible arrays"
otherwise), containment ignoring duplicates, element search with IS NOT DISTINCT FROM, and
subscripting/slicing helpers for the executor. Also the series generators for int, numeric
and timestamps. Comparisons of arrays live in comparison.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pgaurora.catalog.builtins.datetime_operators import timestamp_plus_interval, timestamptz_plus_interval
from pgaurora.catalog.builtins.registry import function, operator
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.arrays import array_dimensions
from pgaurora.datatypes.values import Interval
from pgaurora.errors import ArraySubscriptError, InvalidParameterValue

A, E, I4, I8, B, T = t.ANYARRAY_OID, t.ANYELEMENT_OID, t.INT4_OID, t.INT8_OID, t.BOOL_OID, t.TEXT_OID
CA, CE = t.ANYCOMPATIBLEARRAY_OID, t.ANYCOMPATIBLE_OID


def _ndims(value: list[Any]) -> int:
    return len(array_dimensions(value))


def _flat(value: list[Any]) -> list[Any]:
    if value and isinstance(value[0], list):
        out: list[Any] = []
        for sub in value:
            out.extend(_flat(sub))
        return out
    return value


def array_cat(a: list[Any] | None, b: list[Any] | None) -> list[Any] | None:
    if a is None:
        return b
    if b is None:
        return a
    if not a:
        return b
    if not b:
        return a
    da, db = array_dimensions(a), array_dimensions(b)
    if len(da) == len(db):
        if da[1:] != db[1:]:
            raise ArraySubscriptError("cannot concatenate incompatible arrays",
                                      detail="Arrays with differing element dimensions are not compatible for concatenation.")
        return a + b
    if len(da) == len(db) + 1:
        if da[1:] != db:
            raise ArraySubscriptError("cannot concatenate incompatible arrays",
                                      detail="Arrays with differing dimensions are not compatible for concatenation.")
        return a + [b]
    if len(db) == len(da) + 1:
        if db[1:] != da:
            raise ArraySubscriptError("cannot concatenate incompatible arrays",
                                      detail="Arrays with differing dimensions are not compatible for concatenation.")
        return [a] + b
    raise ArraySubscriptError("cannot concatenate incompatible arrays",
                              detail=f"Arrays of {len(da)} and {len(db)} dimensions are not compatible for concatenation.")


def array_append(a: list[Any] | None, e: Any) -> list[Any]:
    if a is None:
        return [e]
    if a and isinstance(a[0], list):
        raise ArraySubscriptError("argument must be empty or one-dimensional array")
    return a + [e]


def array_prepend(e: Any, a: list[Any] | None) -> list[Any]:
    if a is None:
        return [e]
    if a and isinstance(a[0], list):
        raise ArraySubscriptError("argument must be empty or one-dimensional array")
    return [e] + a


def array_length(a: list[Any], dim: int) -> int | None:
    dims = array_dimensions(a)
    return dims[dim - 1] if 1 <= dim <= len(dims) else None


def array_lower(a: list[Any], dim: int) -> int | None:
    return 1 if 1 <= dim <= _ndims(a) else None


def array_dims(a: list[Any]) -> str | None:
    dims = array_dimensions(a)
    return "".join(f"[1:{d}]" for d in dims) if dims else None


def array_position(a: list[Any], e: Any, start: int = 1) -> int | None:
    if a and isinstance(a[0], list):
        raise InvalidParameterValue("searching for elements in multidimensional arrays is not supported")
    for i in range(max(start, 1) - 1, len(a)):
        if a[i] == e or (a[i] is None and e is None):
            return i + 1
    return None


def array_positions(a: list[Any], e: Any) -> list[int]:
    if a and isinstance(a[0], list):
        raise InvalidParameterValue("searching for elements in multidimensional arrays is not supported")
    return [i + 1 for i, x in enumerate(a) if x == e or (x is None and e is None)]


def array_remove(a: list[Any] | None, e: Any) -> list[Any] | None:
    if a is None:  # not strict (a NULL element is removable) but NULL array in, NULL out
        return None
    if a and isinstance(a[0], list):
        raise InvalidParameterValue("removing elements from multidimensional arrays is not supported")
    return [x for x in a if not (x == e or (x is None and e is None))]


def array_replace(a: list[Any], old: Any, new: Any) -> list[Any]:
    def replace(v: list[Any]) -> list[Any]:
        return [replace(x) if isinstance(x, list) else (new if x == old or (x is None and old is None) else x)
                for x in v]

    return replace(a)


def contains(a: list[Any], b: list[Any]) -> bool:
    """@>: every non-NULL element of b is in a (a NULL element in b never matches)."""
    pool = _flat(a)
    for x in _flat(b):
        if x is None or x not in pool:
            return False
    return True


def overlaps(a: list[Any], b: list[Any]) -> bool:
    pool = [x for x in _flat(a) if x is not None]
    return any(x is not None and x in pool for x in _flat(b))


def unnest(a: list[Any]) -> Iterator[Any]:
    yield from _flat(a)


def subscript(value: list[Any] | None, *indexes: int | None) -> Any:
    """value[i][j]...: NULL when out of range or any index is NULL."""
    current: Any = value
    for index in indexes:
        if current is None or index is None or not isinstance(current, list):
            return None
        if not 1 <= index <= len(current):
            return None
        current = current[index - 1]
    return current


def slice_array(value: list[Any] | None, lower: int | None, upper: int | None) -> list[Any] | None:
    """value[lower:upper] on the first dimension (omitted bounds are None)."""
    if value is None:
        return None
    lo = 1 if lower is None else max(lower, 1)
    hi = len(value) if upper is None else min(upper, len(value))
    if lo > hi:
        return []
    return value[lo - 1:hi]


def generate_series_int(start: int, stop: int, step: int = 1) -> Iterator[int]:
    if step == 0:
        raise InvalidParameterValue("step size cannot equal zero")
    if step > 0:
        yield from range(start, stop + 1, step)
    else:
        yield from range(start, stop - 1, step)


def generate_series_numeric(start: Decimal, stop: Decimal, step: Decimal = Decimal(1)) -> Iterator[Decimal]:
    for name, v in (("start", start), ("stop", stop), ("step size", step)):
        if v.is_nan():
            raise InvalidParameterValue(f"{name} cannot be NaN")
        if v.is_infinite():
            raise InvalidParameterValue(f"{name} cannot be infinity")
    if step.is_zero():
        raise InvalidParameterValue("step size cannot equal zero")
    scale = max(-start.as_tuple().exponent, -step.as_tuple().exponent, 0)  # type: ignore[operator]
    quantum = Decimal(1).scaleb(-scale)
    current = start.quantize(quantum)
    while (current <= stop) if step > 0 else (current >= stop):
        yield current
        current = (current + step).quantize(quantum)


def generate_series_timestamp(start: datetime.datetime, stop: datetime.datetime, step: Interval
                              ) -> Iterator[datetime.datetime]:
    if step.span() == 0:
        raise InvalidParameterValue("step size cannot equal zero")
    current = start
    forward = step.span() > 0
    while (current <= stop) if forward else (current >= stop):
        yield current
        current = timestamp_plus_interval(current, step)


def _generate_series_timestamptz(ctx: Any, start: datetime.datetime, stop: datetime.datetime,
                                 step: Interval) -> Iterator[datetime.datetime]:
    if step.span() == 0:
        raise InvalidParameterValue("step size cannot equal zero")
    current = start
    forward = step.span() > 0
    while (current <= stop) if forward else (current >= stop):
        yield current
        current = timestamptz_plus_interval(ctx, current, step)


def _register() -> None:
    operator("||", CA, CA, CA, array_cat, strict=False)
    operator("||", CE, CA, CA, array_prepend, strict=False)
    operator("||", CA, CE, CA, array_append, strict=False)
    operator("@>", A, A, B, contains, commutator="<@")
    operator("<@", A, A, B, lambda a, b: contains(b, a), commutator="@>")
    operator("&&", A, A, B, overlaps, commutator="&&")
    function("array_cat", (CA, CA), CA, array_cat, strict=False)
    function("array_append", (CA, CE), CA, array_append, strict=False)
    function("array_prepend", (CE, CA), CA, array_prepend, strict=False)
    function("array_length", (A, I4), I4, array_length)
    function("array_upper", (A, I4), I4, array_length)
    function("array_lower", (A, I4), I4, array_lower)
    function("array_ndims", (A,), I4, lambda a: _ndims(a) or None)
    function("array_dims", (A,), T, array_dims)
    function("cardinality", (A,), I4, lambda a: len(_flat(a)))
    function("array_position", (CA, CE), I4, array_position, strict=False)
    function("array_position", (CA, CE, I4), I4, array_position, strict=False)
    function("array_positions", (CA, CE), t.INT4_ARRAY_OID, array_positions, strict=False)
    function("array_remove", (CA, CE), CA, array_remove, strict=False)
    function("array_replace", (CA, CE, CE), CA, array_replace, strict=False)
    function("trim_array", (A, I4), A, lambda a, n: a[:len(a) - n] if 0 <= n <= len(a) else _trim_error())
    function("unnest", (A,), E, unnest, retset=True)
    function("generate_subscripts", (A, I4), I4, lambda a, d: iter(range(1, (array_length(a, d) or 0) + 1)),
             retset=True)
    function("generate_series", (I4, I4), I4, generate_series_int, retset=True)
    function("generate_series", (I4, I4, I4), I4, generate_series_int, retset=True)
    function("generate_series", (I8, I8), I8, generate_series_int, retset=True)
    function("generate_series", (I8, I8, I8), I8, generate_series_int, retset=True)
    function("generate_series", (t.NUMERIC_OID, t.NUMERIC_OID), t.NUMERIC_OID, generate_series_numeric, retset=True)
    function("generate_series", (t.NUMERIC_OID, t.NUMERIC_OID, t.NUMERIC_OID), t.NUMERIC_OID,
             generate_series_numeric, retset=True)
    function("generate_series", (t.TIMESTAMP_OID, t.TIMESTAMP_OID, t.INTERVAL_OID), t.TIMESTAMP_OID,
             generate_series_timestamp, retset=True)
    function("generate_series", (t.TIMESTAMPTZ_OID, t.TIMESTAMPTZ_OID, t.INTERVAL_OID), t.TIMESTAMPTZ_OID,
             _generate_series_timestamptz, retset=True, needs_context=True, volatility="s")


def _trim_error() -> list[Any]:
    raise ArraySubscriptError("number of elements to trim must be between 0 and 0")


_register()


def array_fill(value: Any, dims: list[int | None]) -> list[Any]:
    if any(d is None for d in dims):
        raise InvalidParameterValue("dimension array or low bound array cannot be null")
    if not dims:
        return []

    def build(level: int) -> list[Any]:
        size = dims[level] or 0
        if level == len(dims) - 1:
            return [value] * size
        return [build(level + 1) for _ in range(size)]

    return build(0)


def string_to_table(text: str, delimiter: str | None, null_string: str | None = None) -> Iterator[str | None]:
    from pgaurora.catalog.builtins.text_functions import string_to_array

    yield from string_to_array(text, delimiter, null_string) or []


function("array_fill", (E, t.INT4_ARRAY_OID), A, array_fill, strict=False)
function("string_to_table", (T, T), T, string_to_table, retset=True, strict=False)
function("string_to_table", (T, T, T), T, string_to_table, retset=True, strict=False)
