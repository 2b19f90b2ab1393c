"""Mathematical functions: abs, round, trunc, ceil, floor, sign, sqrt, cbrt, exp, ln, log, power, mod, div...

Owns the pg_proc rows of PostgreSQL's "Mathematical Functions" table for int, float8 and
numeric arguments, with PostgreSQL's rounding (float round() is rint: half to even; numeric
round() is half away from zero) and error texts. Not the operators (arithmetic).
"""

from __future__ import annotations

import math
import random as _random
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from pgaurora.catalog.builtins import numeric_math
from pgaurora.catalog.builtins.arithmetic import _int_abs, float_power, int_operators
from pgaurora.catalog.builtins.registry import function
from pgaurora.datatypes.numbers import NUMERIC_CONTEXT, numeric_scale
from pgaurora.datatypes.typeinfo import FLOAT8_OID, INT2_OID, INT4_OID, INT8_OID, NUMERIC_OID
from pgaurora.errors import (
    InvalidArgumentForLogarithm,
    InvalidArgumentForPowerFunction,
    NumericValueOutOfRange,
)

F8, N = FLOAT8_OID, NUMERIC_OID
_INTS = (INT2_OID, INT4_OID, INT8_OID)


def _float_ln(value: float) -> float:
    if value == 0.0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of zero")
    if value < 0.0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of a negative number")
    return math.log(value) if not math.isinf(value) else value


def _float_log10(value: float) -> float:
    if value == 0.0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of zero")
    if value < 0.0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of a negative number")
    return math.log10(value) if not math.isinf(value) else value


def _float_sqrt(value: float) -> float:
    if value < 0.0:
        raise InvalidArgumentForPowerFunction("cannot take square root of a negative number")
    return math.sqrt(value)


def _float_exp(value: float) -> float:
    try:
        result = math.exp(value)
    except OverflowError:
        raise NumericValueOutOfRange("value out of range: overflow") from None
    if result == 0.0 and not math.isinf(value):
        raise NumericValueOutOfRange("value out of range: underflow")
    return result


def _float_sign(value: float) -> float:
    if value > 0:
        return 1.0
    if value < 0:
        return -1.0
    return 0.0 if value == 0 else value


def _numeric_round(value: Decimal, scale: int = 0) -> Decimal:
    if not value.is_finite():
        return value
    return numeric_math.quantize(value, scale)


def _numeric_trunc(value: Decimal, scale: int = 0) -> Decimal:
    if not value.is_finite():
        return value
    result = value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_DOWN, context=NUMERIC_CONTEXT)
    if scale < 0:
        result = result.quantize(Decimal(1), context=NUMERIC_CONTEXT)
    return result.copy_abs() if result.is_zero() else result


def _numeric_ceil(value: Decimal) -> Decimal:
    if not value.is_finite():
        return value
    result = value.quantize(Decimal(1), rounding=ROUND_CEILING, context=NUMERIC_CONTEXT)
    return result.copy_abs() if result.is_zero() else result


def _numeric_floor(value: Decimal) -> Decimal:
    if not value.is_finite():
        return value
    return value.quantize(Decimal(1), rounding=ROUND_FLOOR, context=NUMERIC_CONTEXT)


def _numeric_sign(value: Decimal) -> Decimal:
    if value.is_nan():
        return value
    return Decimal(1) if value > 0 else Decimal(-1) if value < 0 else Decimal(0)


def _numeric_abs(value: Decimal) -> Decimal:
    return value.copy_abs() if not value.is_nan() else value


def _numeric_log10(value: Decimal) -> Decimal:
    return numeric_math.log(Decimal(10), value)


def _float_round(value: float) -> float:
    if math.isinf(value) or math.isnan(value):
        return value
    return math.copysign(float(round(value)), value)  # rint keeps the sign of zero


def _float_trunc(value: float) -> float:
    if math.isinf(value) or math.isnan(value):
        return value
    return math.copysign(float(math.trunc(value)), value)


def _float_ceil(value: float) -> float:
    if math.isinf(value) or math.isnan(value):
        return value
    return math.copysign(float(math.ceil(value)), value)


def _float_floor(value: float) -> float:
    if math.isinf(value) or math.isnan(value):
        return value
    return math.copysign(float(math.floor(value)), value)


def _gcd(a: int, b: int) -> int:
    return math.gcd(a, b)


def _lcm(a: int, b: int) -> int:
    return math.lcm(a, b)


def _numeric_gcd(a: Decimal, b: Decimal) -> Decimal:
    scale = max(numeric_scale(a), numeric_scale(b))
    ia, ib = int(a.scaleb(scale)), int(b.scaleb(scale))
    return Decimal(math.gcd(ia, ib)).scaleb(-scale)


def _width_bucket(operand: float, low: float, high: float, count: int) -> int:
    from pgaurora.errors import InvalidParameterValue
    if count <= 0:
        raise InvalidParameterValue("count must be greater than zero")
    if low == high:
        raise InvalidParameterValue("lower bound cannot equal upper bound")
    if low < high:
        if operand < low:
            return 0
        if operand >= high:
            return count + 1
        return int((operand - low) / (high - low) * count) + 1
    if operand > low:
        return 0
    if operand <= high:
        return count + 1
    return int((low - operand) / (low - high) * count) + 1


def _random_value() -> float:
    return _random.random()


def _register() -> None:
    for oid in _INTS:
        function("abs", (oid,), oid, _int_abs(oid))
    function("abs", (F8,), F8, abs)
    function("abs", (N,), N, _numeric_abs)
    for oid in (INT2_OID, INT4_OID, INT8_OID):
        function("mod", (oid, oid), oid, int_operators(oid)["%"])
    function("mod", (N, N), N, numeric_math.modulo)
    function("div", (N, N), N, numeric_math.integer_divide)
    function("round", (F8,), F8, _float_round)
    function("round", (N,), N, _numeric_round)
    function("round", (N, INT4_OID), N, _numeric_round)
    function("trunc", (F8,), F8, _float_trunc)
    function("trunc", (N,), N, _numeric_trunc)
    function("trunc", (N, INT4_OID), N, _numeric_trunc)
    for name in ("ceil", "ceiling"):
        function(name, (F8,), F8, _float_ceil)
        function(name, (N,), N, _numeric_ceil)
    function("floor", (F8,), F8, _float_floor)
    function("floor", (N,), N, _numeric_floor)
    function("sign", (F8,), F8, _float_sign)
    function("sign", (N,), N, _numeric_sign)
    function("sqrt", (F8,), F8, _float_sqrt)
    function("sqrt", (N,), N, numeric_math.sqrt)
    function("cbrt", (F8,), F8, math.cbrt)
    function("exp", (F8,), F8, _float_exp)
    function("exp", (N,), N, numeric_math.exp)
    function("ln", (F8,), F8, _float_ln)
    function("ln", (N,), N, numeric_math.ln)
    function("log", (F8,), F8, _float_log10)
    function("log10", (F8,), F8, _float_log10)
    function("log", (N,), N, _numeric_log10)
    function("log10", (N,), N, _numeric_log10)
    function("log", (N, N), N, numeric_math.log)
    for name in ("power", "pow"):
        function(name, (F8, F8), F8, float_power)
        function(name, (N, N), N, numeric_math.power)
    function("pi", (), F8, lambda: math.pi)
    function("degrees", (F8,), F8, math.degrees)
    function("radians", (F8,), F8, math.radians)
    for name, fn in (("sin", math.sin), ("cos", math.cos), ("tan", math.tan), ("asin", math.asin),
                     ("acos", math.acos), ("atan", math.atan), ("sinh", math.sinh), ("cosh", math.cosh),
                     ("tanh", math.tanh)):
        function(name, (F8,), F8, fn)
    function("atan2", (F8, F8), F8, math.atan2)
    function("random", (), F8, _random_value, volatility="v")
    for oid in (INT4_OID, INT8_OID):
        function("gcd", (oid, oid), oid, _gcd)
        function("lcm", (oid, oid), oid, _lcm)
    function("gcd", (N, N), N, _numeric_gcd)
    function("factorial", (INT8_OID,), N, _factorial)
    function("scale", (N,), INT4_OID, lambda v: numeric_scale(v) if v.is_finite() else None)
    function("min_scale", (N,), INT4_OID, lambda v: numeric_scale(v.normalize(NUMERIC_CONTEXT)) if v.is_finite() else None)
    function("trim_scale", (N,), N, _trim_scale)
    function("width_bucket", (F8, F8, F8, INT4_OID), INT4_OID, _width_bucket)
    function("width_bucket", (N, N, N, INT4_OID), INT4_OID,
             lambda o, lo, hi, c: _width_bucket(float(o), float(lo), float(hi), c))


def _factorial(n: int) -> Decimal:
    """numeric_fac, with PostgreSQL's errors."""
    if n < 0:
        raise NumericValueOutOfRange("factorial of a negative number is undefined")
    if n > 32177:
        raise NumericValueOutOfRange("value overflows numeric format")
    return Decimal(math.factorial(n))


def _trim_scale(value: Decimal) -> Decimal:
    if not value.is_finite():
        return value
    normalized = value.normalize(NUMERIC_CONTEXT)
    if numeric_scale(normalized) == 0:
        return normalized.quantize(Decimal(1), context=NUMERIC_CONTEXT)
    return normalized


_register()
