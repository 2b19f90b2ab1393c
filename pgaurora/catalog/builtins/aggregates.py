"""Aggregates: count, sum, avg, min, max, bool_and/bool_or/every, string_agg, array_agg, variance and
standard deviation, json_agg/jsonb_agg/json_object_agg.

Owns the transition/final functions with PostgreSQL's result types and rounding: sum(int4)
is int8, sum(int8) and avg(int) are numeric (avg divides with select_div_scale), float
variance uses the Youngs-Cramer accumulation of float8_accum, numeric variance follows
numeric_stddev_internal (exact sums, then one rounded division). Empty input gives NULL
(count gives 0). Not grouping or DISTINCT/ORDER BY handling (executor.aggregate).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pgaurora.catalog.builtins import numeric_math
from pgaurora.catalog.builtins.arithmetic import float_operators
from pgaurora.catalog.builtins.comparison import comparator
from pgaurora.catalog.builtins.datetime_operators import interval_divide
from pgaurora.catalog.builtins.json_building import json_converter, to_json_text
from pgaurora.catalog.builtins.output import output_function
from pgaurora.catalog.builtins.registry import AggregateDef, aggregate
from pgaurora.datatypes import jsonvalues, numbers
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.values import Interval, Jsonb
from pgaurora.errors import ArraySubscriptError, InvalidParameterValue, NumericValueOutOfRange

I2, I4, I8, F4, F8, N = t.INT2_OID, t.INT4_OID, t.INT8_OID, t.FLOAT4_OID, t.FLOAT8_OID, t.NUMERIC_OID
_NULL_STATE = None


def _identity(value: Any) -> Any:
    return value


def _none() -> Any:
    return None


# --- count / sum / avg -------------------------------------------------------------------------

# A transition may carry `.many(state, values)`: the same result as applying it to each value
# in turn (non-NULL values only for strict aggregates; the rows themselves for count(*)). The
# executor uses it to run a whole batch through C-level builtins instead of a call per row.

def _count_star(state: int) -> int:
    return state + 1


def _count_any(state: int, value: Any) -> int:
    return state + 1


_count_star.many = lambda state, rows: state + len(rows)  # type: ignore[attr-defined]
_count_any.many = lambda state, values: state + len(values)  # type: ignore[attr-defined]


def _int_sum() -> Callable[[Any, int], Any]:
    def add(state: int | None, value: int) -> int:
        total = value if state is None else state + value
        if not numbers.INT8_MIN <= total <= numbers.INT8_MAX:
            raise NumericValueOutOfRange("bigint out of range")
        return total

    def many(state: int | None, values: list[int]) -> int | None:
        if not values:
            return state
        total = sum(values) if state is None else state + sum(values)
        if not numbers.INT8_MIN <= total <= numbers.INT8_MAX:
            raise NumericValueOutOfRange("bigint out of range")
        return total

    add.many = many  # type: ignore[attr-defined]
    return add


def _float_sum(single: bool) -> Callable[[float | None, float], float]:
    add = float_operators(single)["+"]
    return lambda state, value: value if state is None else add(state, value)


def _numeric_sum(state: Decimal | None, value: Decimal) -> Decimal:
    return value if state is None else numeric_math.add(state, value)


def _numeric_sum_final(state: Decimal | None) -> Decimal | None:
    return state


def _avg_step(state: list[Any] | None, value: Any) -> list[Any]:
    if state is None:
        return [Decimal(value) if not isinstance(value, Decimal) else value, 1]
    state[0] = numeric_math.add(state[0], value if isinstance(value, Decimal) else Decimal(value))
    state[1] += 1
    return state


def _int_avg_step(state: list[int] | None, value: int) -> list[int]:
    """avg over integers: an exact Python int sum (no Decimal per row); numeric at the end."""
    if state is None:
        return [value, 1]
    state[0] += value
    state[1] += 1
    return state


def _int_avg_many(state: list[int] | None, values: list[int]) -> list[int] | None:
    if not values:
        return state
    if state is None:
        return [sum(values), len(values)]
    state[0] += sum(values)
    state[1] += len(values)
    return state


_int_avg_step.many = _int_avg_many  # type: ignore[attr-defined]


def _int_avg_final(state: list[int] | None) -> Decimal | None:
    if state is None:
        return None
    return numeric_math.divide(Decimal(state[0]), Decimal(state[1]))


def _int8_sum(state: int | None, value: int) -> int:
    return value if state is None else state + value


_int8_sum.many = lambda state, values: (  # type: ignore[attr-defined]
    state if not values else sum(values) if state is None else state + sum(values))


def _int8_sum_final(state: int | None) -> Decimal | None:
    return None if state is None else Decimal(state)


def _avg_final(state: list[Any] | None) -> Decimal | None:
    if state is None:
        return None
    return numeric_math.divide(state[0], Decimal(state[1]))


def _float_accum(state: list[float] | None, value: float) -> list[float]:
    """float8_accum (Youngs-Cramer): [N, Sx, Sxx]."""
    value = float(value)
    if state is None:  # the state starts at {0, 0, 0}: 0.0 + -0.0 is 0.0
        return [1.0, 0.0 + value, math.nan if math.isnan(value) or math.isinf(value) else 0.0]
    n_old = state[0]
    n = n_old + 1.0
    sx = state[1] + value
    sxx = state[2]
    if n_old > 0.0:
        tmp = value * n - sx
        sxx += tmp * tmp / (n * n_old)
        if math.isinf(sx) or math.isinf(sxx):
            if not math.isinf(state[1]) and not math.isinf(value):
                raise NumericValueOutOfRange("value out of range: overflow")
            sxx = math.nan
    state[0], state[1], state[2] = n, sx, sxx
    return state


def _float_avg_final(state: list[float] | None) -> float | None:
    return None if state is None else state[1] / state[0]


def _float_var(sample: bool, root: bool) -> Callable[[list[float] | None], float | None]:
    def final(state: list[float] | None) -> float | None:
        if state is None:
            return None
        n, _, sxx = state
        if sample and n <= 1.0:
            return None
        value = sxx / (n - 1.0) if sample else sxx / n
        return math.sqrt(value) if root else value

    return final


def _numeric_accum(state: list[Any] | None, value: Any) -> list[Any]:
    """[N, sumX, sumX2, has_nan, has_inf] with exact Decimal sums."""
    x = value if isinstance(value, Decimal) else Decimal(value)
    if state is None:
        state = [0, Decimal(0), Decimal(0), False, False]
    state[0] += 1
    if x.is_nan():
        state[3] = True
    elif x.is_infinite():
        state[4] = True
    else:
        state[1] = numeric_math.add(state[1], x)
        state[2] = numeric_math.add(state[2], numeric_math.multiply(x, x))
    return state


def _numeric_var(sample: bool, root: bool) -> Callable[[list[Any] | None], Decimal | None]:
    def final(state: list[Any] | None) -> Decimal | None:
        if state is None:
            return None
        n, sum_x, sum_x2, has_nan, has_inf = state
        if sample and n <= 1:
            return None
        if has_nan or has_inf:
            return numbers.NUMERIC_NAN
        numerator = numeric_math.subtract(numeric_math.multiply(Decimal(n), sum_x2),
                                          numeric_math.multiply(sum_x, sum_x))
        if numerator <= 0:
            return Decimal(0)
        denominator = Decimal(n * (n - 1) if sample else n * n)
        rscale = numeric_math.select_div_scale(numerator, denominator)
        variance = numeric_math.divide(numerator, denominator, rscale)
        if not root:
            return variance
        return numeric_math.quantize(numeric_math._WORKING.sqrt(variance), rscale)

    return final


def _interval_sum(state: Interval | None, value: Interval) -> Interval:
    if state is None:
        return value
    return Interval(state.months + value.months, state.days + value.days, state.microseconds + value.microseconds)


def _interval_avg_step(state: list[Any] | None, value: Interval) -> list[Any]:
    if state is None:
        return [value, 1]
    state[0] = _interval_sum(state[0], value)
    state[1] += 1
    return state


# --- min / max ---------------------------------------------------------------------------------

def _extreme(oid: int, want: int) -> AggregateDef:
    cmp = comparator(oid)

    def step(state: Any, value: Any) -> Any:
        if state is None or cmp(value, state) == want:
            return value
        return state

    return AggregateDef("max" if want > 0 else "min", (oid,), oid, _none, step, _identity)


# --- collecting aggregates ---------------------------------------------------------------------

def _collect(state: list[Any] | None, value: Any) -> list[Any]:
    if state is None:
        return [value]
    state.append(value)
    return state


def _collect_pair(state: list[Any] | None, *pair: Any) -> list[Any]:
    if state is None:
        return [pair]
    state.append(pair)
    return state


def _string_agg_step(state: list[Any] | None, value: Any, delimiter: Any) -> list[Any] | None:
    if value is None:
        return state
    if state is None:
        return [value]
    state.append(delimiter if delimiter is not None else value[:0])
    state.append(value)
    return state


def _string_agg_final(state: list[Any] | None) -> Any:
    if state is None:
        return None
    return state[0][:0].join(state)


def _array_agg_final(state: list[Any] | None) -> list[Any] | None:
    return state


def _array_agg_arrays_step(state: list[Any] | None, value: list[Any] | None) -> list[Any]:
    if value is None:
        raise InvalidParameterValue("cannot accumulate null arrays")
    if not value:
        raise ArraySubscriptError("cannot accumulate empty arrays")
    if state is None:
        return [value]
    from pgaurora.datatypes.arrays import array_dimensions
    if array_dimensions(state[0]) != array_dimensions(value):
        raise ArraySubscriptError("cannot accumulate arrays of different dimensionality")
    state.append(value)
    return state


def _json_agg_binder(jsonb: bool) -> Callable[[tuple[int, ...]], AggregateDef]:
    def bind(arg_oids: tuple[int, ...]) -> AggregateDef:
        oid = arg_oids[0]
        if jsonb:
            convert = json_converter(oid)

            def final(state: list[Any] | None) -> Jsonb | None:
                if state is None:
                    return None
                return Jsonb([None if v is None else jsonvalues.normalize_json_value(convert(v)) for v in state])

            return AggregateDef("jsonb_agg", arg_oids, t.JSONB_OID, _none, _collect, final, strict=False)

        separator = ", \n " if t.element_of(oid) or oid == t.RECORD_OID else ", "  # (arrays, rows: a newline)

        def json_final(state: list[Any] | None) -> str | None:
            if state is None:
                return None
            from pgaurora.datatypes.values import DEFAULT_CONTEXT
            return "[" + separator.join(to_json_text(oid, v, DEFAULT_CONTEXT) for v in state) + "]"

        return AggregateDef("json_agg", arg_oids, t.JSON_OID, _none, _collect, json_final, strict=False)

    return bind


def _json_object_agg_binder(jsonb: bool) -> Callable[[tuple[int, ...]], AggregateDef]:
    def bind(arg_oids: tuple[int, ...]) -> AggregateDef:
        key_out = output_function(arg_oids[0])
        value_oid = arg_oids[1]

        def step(state: list[Any] | None, key: Any, value: Any) -> list[Any]:
            if key is None:
                raise InvalidParameterValue("field name must not be null")
            return _collect_pair(state, key_out(key), value)

        if jsonb:
            convert = json_converter(value_oid)

            def final(state: list[Any] | None) -> Jsonb | None:
                if state is None:
                    return None
                obj = {k: (None if v is None else convert(v)) for k, v in state}
                return Jsonb(jsonvalues.normalize_json_value(obj))

            return AggregateDef("jsonb_object_agg", arg_oids, t.JSONB_OID, _none, step, final, strict=False)

        def json_final(state: list[Any] | None) -> str | None:
            if state is None:
                return None
            from pgaurora.datatypes.values import DEFAULT_CONTEXT
            body = ", ".join(f"{jsonvalues.quote_json_string(k)} : {to_json_text(value_oid, v, DEFAULT_CONTEXT)}"
                             for k, v in state)
            return "{ " + body + " }"

        return AggregateDef("json_object_agg", arg_oids, t.JSON_OID, _none, step, json_final, strict=False)

    return bind


_ORDERED_TYPES = (I2, I4, I8, F4, F8, N, t.OID_OID, t.TEXT_OID, t.BPCHAR_OID, t.DATE_OID, t.TIME_OID, t.TIMETZ_OID,
                  t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID, t.INTERVAL_OID, t.ANYARRAY_OID, t.TID_OID, t.PG_LSN_OID,
                  t.XID8_OID, t.INET_OID)


# --- ordered-set aggregates (... WITHIN GROUP (ORDER BY x)) -------------------------------------
# The planner passes (x, direct arguments...) with the WITHIN GROUP clause as the aggregate's
# ORDER BY, so the executor feeds the values sorted; NULL values are skipped (strict), and so is
# every row when a direct argument is NULL (the result is then NULL).

def _ordered_collect(state: list[Any] | None, value: Any, *direct: Any) -> list[Any]:
    if state is None:
        state = [direct, []]
    state[1].append(value)
    return state


def _fraction(value: float) -> float:
    if not 0 <= value <= 1:
        raise NumericValueOutOfRange(f"percentile value {value:g} is not between 0 and 1")
    return value


def _continuous(values: list[Any], fraction: float) -> Any:
    """percentile_cont: the value at `fraction` of the way, interpolated between neighbours."""
    place = _fraction(fraction) * (len(values) - 1)
    first, second = math.floor(place), math.ceil(place)
    low = float(values[first])
    return low if first == second else low + (place - first) * (float(values[second]) - low)


def _discrete(values: list[Any], fraction: float) -> Any:
    """percentile_disc: the first value whose position in the order reaches `fraction`."""
    row = math.ceil(_fraction(fraction) * len(values))
    return values[max(row, 1) - 1]


def _percentile_final(pick: Callable[[list[Any], float], Any], many: bool) -> Callable[[Any], Any]:
    def final(state: list[Any] | None) -> Any:
        if state is None:
            return None
        (fraction,), values = state
        if not many:
            return pick(values, float(fraction))
        return [None if f is None else pick(values, float(f)) for f in fraction]

    return final


def _mode_final(state: list[Any] | None) -> Any:
    """mode(): the most frequent value, the first in the order among equally frequent ones."""
    if state is None:
        return None
    values = state[1]
    best, best_count, run, count = None, 0, None, 0
    for value in values:
        if count and value == run:
            count += 1
        else:
            run, count = value, 1
        if count > best_count:
            best, best_count = run, count
    return best


ORDERED_SET_AGGREGATES = frozenset({"percentile_cont", "percentile_disc", "mode"})
_SORTABLE = (I2, I4, I8, F4, F8, N, t.OID_OID, t.TEXT_OID, t.VARCHAR_OID, t.BPCHAR_OID, t.DATE_OID, t.TIME_OID,
             t.TIMETZ_OID, t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID, t.INTERVAL_OID, t.BOOL_OID, t.UUID_OID)


def _register_ordered_set() -> None:
    f8_array = t.array_of(F8)
    aggregate("percentile_cont", (F8, F8), F8, _none, _ordered_collect, _percentile_final(_continuous, False))
    aggregate("percentile_cont", (F8, f8_array), f8_array, _none, _ordered_collect,
              _percentile_final(_continuous, True))
    for oid in _SORTABLE:
        aggregate("percentile_disc", (oid, F8), oid, _none, _ordered_collect, _percentile_final(_discrete, False))
        aggregate("percentile_disc", (oid, f8_array), t.array_of(oid), _none, _ordered_collect,
                  _percentile_final(_discrete, True))
        aggregate("mode", (oid,), oid, _none, _ordered_collect, _mode_final)


def _register() -> None:
    aggregate("count", (), I8, lambda: 0, _count_star, _identity, strict=False)
    aggregate("count", (t.ANY_OID,), I8, lambda: 0, _count_any, _identity)
    aggregate("sum", (I2,), I8, _none, _int_sum(), _identity)
    aggregate("sum", (I4,), I8, _none, _int_sum(), _identity)
    aggregate("sum", (I8,), N, _none, _int8_sum, _int8_sum_final)
    aggregate("sum", (F4,), F4, _none, _float_sum(True), _identity)
    aggregate("sum", (F8,), F8, _none, _float_sum(False), _identity)
    aggregate("sum", (N,), N, _none, _numeric_sum, _numeric_sum_final)
    aggregate("sum", (t.INTERVAL_OID,), t.INTERVAL_OID, _none, _interval_sum, _identity)
    for oid in (I2, I4, I8):
        aggregate("avg", (oid,), N, _none, _int_avg_step, _int_avg_final)
    aggregate("avg", (N,), N, _none, _avg_step, _avg_final)
    for oid in (F4, F8):
        aggregate("avg", (oid,), F8, _none, _float_accum, _float_avg_final)
    aggregate("avg", (t.INTERVAL_OID,), t.INTERVAL_OID, _none, _interval_avg_step,
              lambda s: None if s is None else interval_divide(s[0], float(s[1])))
    for name, sample, root in (("variance", True, False), ("var_samp", True, False), ("var_pop", False, False),
                               ("stddev", True, True), ("stddev_samp", True, True), ("stddev_pop", False, True)):
        for oid in (I2, I4, I8, N):
            aggregate(name, (oid,), N, _none, _numeric_accum, _numeric_var(sample, root))
        for oid in (F4, F8):
            aggregate(name, (oid,), F8, _none, _float_accum, _float_var(sample, root))
    for oid in _ORDERED_TYPES:
        for name, want in (("min", -1), ("max", 1)):
            template = _extreme(oid, want)
            if oid == t.ANYARRAY_OID:
                aggregate(name, (oid,), oid, _none, template.transition, _identity,
                          binder=lambda oids, w=want: _extreme(oids[0], w))
            else:
                aggregate(name, (oid,), oid, _none, template.transition, _identity)
    for name in ("bool_and", "every"):
        aggregate(name, (t.BOOL_OID,), t.BOOL_OID, _none, lambda s, v: v if s is None else (s and v), _identity)
    aggregate("bool_or", (t.BOOL_OID,), t.BOOL_OID, _none, lambda s, v: v if s is None else (s or v), _identity)
    aggregate("string_agg", (t.TEXT_OID, t.TEXT_OID), t.TEXT_OID, _none, _string_agg_step, _string_agg_final,
              strict=False)
    aggregate("string_agg", (t.BYTEA_OID, t.BYTEA_OID), t.BYTEA_OID, _none, _string_agg_step, _string_agg_final,
              strict=False)
    aggregate("array_agg", (t.ANYNONARRAY_OID,), t.ANYARRAY_OID, _none, _collect, _array_agg_final, strict=False)
    aggregate("array_agg", (t.ANYARRAY_OID,), t.ANYARRAY_OID, _none, _array_agg_arrays_step, _array_agg_final,
              strict=False)
    aggregate("json_agg", (t.ANYELEMENT_OID,), t.JSON_OID, _none, _collect, _identity, strict=False,
              binder=_json_agg_binder(False))
    aggregate("jsonb_agg", (t.ANYELEMENT_OID,), t.JSONB_OID, _none, _collect, _identity, strict=False,
              binder=_json_agg_binder(True))
    aggregate("json_object_agg", (t.ANY_OID, t.ANY_OID), t.JSON_OID, _none, _collect_pair, _identity, strict=False,
              binder=_json_object_agg_binder(False))
    aggregate("jsonb_object_agg", (t.ANY_OID, t.ANY_OID), t.JSONB_OID, _none, _collect_pair, _identity, strict=False,
              binder=_json_object_agg_binder(True))


_register()
_register_ordered_set()


def _register_bitwise() -> None:
    for oid in (I2, I4, I8, t.BIT_OID):
        ops: dict[str, Callable[[Any, Any], Any]]
        if oid == t.BIT_OID:
            from pgaurora.catalog.builtins.bitstring_functions import _bit_binary

            ops = {"and": _bit_binary("AND", "&"), "or": _bit_binary("OR", "|"), "xor": _bit_binary("XOR", "#")}
        else:
            ops = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b}
        for name, fn in ops.items():
            aggregate(f"bit_{name}", (oid,), oid, _none,
                      lambda s, v, f=fn: v if s is None else f(s, v), _identity)


_register_bitwise()
