"""numeric arithmetic with PostgreSQL's result scales (select_div_scale, sqrt/ln/exp/power rules).

Owns the exact numeric operations whose result scale PostgreSQL chooses itself: division
(at least 16 significant digits, never fewer decimals than either input), sqrt, ln, log,
exp, power; plus NaN/Infinity rules for + - * / %. Results are rounded half away from zero.
Not float math (math_functions) and not the operator registrations (arithmetic).

    rscale(a / b) = max(16 - 4 * qweight, dscale(a), dscale(b), 0), capped at 1000
    where qweight estimates the base-10000 weight of the quotient.
"""

from __future__ import annotations

import decimal
import math
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from pgaurora.datatypes.numbers import NUMERIC_CONTEXT, NUMERIC_INF, NUMERIC_NAN, NUMERIC_NINF, numeric_scale
from pgaurora.errors import (
    DivisionByZero,
    InvalidArgumentForLogarithm,
    InvalidArgumentForPowerFunction,
    NumericValueOutOfRange,
)

MIN_SIG_DIGITS = 16
MAX_DISPLAY_SCALE = 1000
_TRUNCATING = decimal.Context(prec=1100, rounding=ROUND_DOWN, Emax=999999, Emin=-999999,
                              traps=[decimal.InvalidOperation, decimal.DivisionByZero])
_WORKING = decimal.Context(prec=1100, rounding=ROUND_HALF_UP, Emax=999999, Emin=-999999,
                           traps=[decimal.InvalidOperation, decimal.DivisionByZero])
_ONE = Decimal(1)


def quantize(value: Decimal, scale: int) -> Decimal:
    """Round half away from zero to `scale` decimals (scale may be negative: round(1234, -2))."""
    result = value.quantize(_ONE.scaleb(-scale), rounding=ROUND_HALF_UP, context=_WORKING)
    if scale < 0:
        result = result.quantize(_ONE, context=_WORKING)
    if result.is_zero() and result.is_signed():
        result = result.copy_abs()
    return result


def nbase_digits(value: Decimal) -> tuple[int, list[int]]:
    """(weight, base-10000 digits) of a finite value with zero groups stripped, as NumericVar has."""
    _sign, digit_tuple, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return 0, []
    point = len(digits) + exponent
    left_pad = (-point) % 4
    digits = "0" * left_pad + digits
    point += left_pad
    digits += "0" * ((-len(digits)) % 4)
    groups = [int(digits[i:i + 4]) for i in range(0, len(digits), 4)]
    weight = point // 4 - 1
    while groups and groups[-1] == 0:
        groups.pop()
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    return weight, groups


def _weight_and_first(value: Decimal) -> tuple[int, int]:
    weight, groups = nbase_digits(value)
    return weight, groups[0] if groups else 0


def select_div_scale(a: Decimal, b: Decimal) -> int:
    weight1, first1 = _weight_and_first(a) if not a.is_zero() else (0, 0)
    weight2, first2 = _weight_and_first(b) if not b.is_zero() else (0, 0)
    qweight = weight1 - weight2
    if first1 <= first2:
        qweight -= 1
    rscale = MIN_SIG_DIGITS - qweight * 4
    rscale = max(rscale, numeric_scale(a), numeric_scale(b), 0)
    return min(rscale, MAX_DISPLAY_SCALE)


def divide(a: Decimal, b: Decimal, rscale: int | None = None) -> Decimal:
    """numeric / numeric."""
    if a.is_nan() or b.is_nan():
        return NUMERIC_NAN
    if b.is_zero():
        raise DivisionByZero("division by zero")
    if a.is_infinite():
        if b.is_infinite():
            return NUMERIC_NAN
        return NUMERIC_INF if (a > 0) == (b > 0) else NUMERIC_NINF
    if b.is_infinite():
        return Decimal(0)
    if rscale is None:
        rscale = select_div_scale(a, b)
    return quantize(_TRUNCATING.divide(a, b), rscale)


def add(a: Decimal, b: Decimal) -> Decimal:
    if a.is_finite() and b.is_finite():
        return _clean(NUMERIC_CONTEXT.add(a, b))
    if a.is_nan() or b.is_nan():
        return NUMERIC_NAN
    if a.is_infinite() and b.is_infinite() and a != b:
        return NUMERIC_NAN
    return a if a.is_infinite() else b


def subtract(a: Decimal, b: Decimal) -> Decimal:
    return add(a, b.copy_negate() if not b.is_nan() else b)


def multiply(a: Decimal, b: Decimal) -> Decimal:
    if a.is_finite() and b.is_finite():
        return _clean(NUMERIC_CONTEXT.multiply(a, b))
    if a.is_nan() or b.is_nan():
        return NUMERIC_NAN
    if (a.is_infinite() and b.is_zero()) or (b.is_infinite() and a.is_zero()):
        return NUMERIC_NAN
    negative = (a < 0) != (b < 0)
    return NUMERIC_NINF if negative else NUMERIC_INF


def modulo(a: Decimal, b: Decimal) -> Decimal:
    """numeric % numeric: the remainder has the dividend's sign (truncating division)."""
    if a.is_nan() or b.is_nan():
        return NUMERIC_NAN
    if b.is_zero():
        raise DivisionByZero("division by zero")
    if a.is_infinite():
        return NUMERIC_NAN
    if b.is_infinite():
        return a
    return _clean(NUMERIC_CONTEXT.remainder(a, b))


def integer_divide(a: Decimal, b: Decimal) -> Decimal:
    """div(numeric, numeric): truncated quotient, scale 0."""
    if a.is_nan() or b.is_nan():
        return NUMERIC_NAN
    if b.is_zero():
        raise DivisionByZero("division by zero")
    if a.is_infinite():
        if b.is_infinite():
            return NUMERIC_NAN
        return NUMERIC_INF if (a > 0) == (b > 0) else NUMERIC_NINF
    if b.is_infinite():
        return Decimal(0)
    return _clean(NUMERIC_CONTEXT.divide_int(a, b))


def _clean(value: Decimal) -> Decimal:
    if value.is_zero() and value.is_signed():
        return value.copy_abs()
    return value


def sqrt(value: Decimal) -> Decimal:
    if value.is_nan():
        return NUMERIC_NAN
    if value < 0:
        from pgaurora.errors import InvalidArgumentForPowerFunction as Err
        raise Err("cannot take square root of a negative number")
    if value.is_infinite():
        return NUMERIC_INF
    if value.is_zero():
        weight = 0
    else:
        weight, _ = _weight_and_first(value)
    sweight = (weight + 1) * 2 - 1
    rscale = MIN_SIG_DIGITS - sweight
    rscale = min(max(rscale, numeric_scale(value), 0), MAX_DISPLAY_SCALE)
    return quantize(_WORKING.sqrt(value), rscale)


def estimate_ln_dweight(value: Decimal) -> int:
    if value <= 0:
        return 0
    if Decimal("0.9") <= value <= Decimal("1.1"):
        x = value - 1
        return 0 if x.is_zero() else x.adjusted()
    weight, groups = nbase_digits(value)
    digits = groups[0]
    dweight = weight * 4
    if len(groups) > 1:
        digits = digits * 10000 + groups[1]
        dweight -= 4
    ln_var = math.log(digits) + dweight * 2.302585092994046
    return int(math.log10(abs(ln_var))) if ln_var != 0 else 0


def _ln_checked(value: Decimal) -> None:
    if value.is_zero():
        raise InvalidArgumentForLogarithm("cannot take logarithm of zero")
    if value < 0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of a negative number")


def ln(value: Decimal) -> Decimal:
    if value.is_nan():
        return NUMERIC_NAN
    _ln_checked(value)
    if value.is_infinite():
        return NUMERIC_INF
    rscale = MIN_SIG_DIGITS - estimate_ln_dweight(value)
    rscale = min(max(rscale, numeric_scale(value), 0), MAX_DISPLAY_SCALE)
    return quantize(_WORKING.ln(value), rscale)


def log(base: Decimal, value: Decimal) -> Decimal:
    """log(base, x) for numerics."""
    if base.is_nan() or value.is_nan():
        return NUMERIC_NAN
    _ln_checked(base)
    _ln_checked(value)
    if base == 1:
        raise DivisionByZero("division by zero")
    result_dweight = estimate_ln_dweight(value) - estimate_ln_dweight(base)
    rscale = MIN_SIG_DIGITS - result_dweight
    rscale = min(max(rscale, numeric_scale(base), numeric_scale(value), 0), MAX_DISPLAY_SCALE)
    return quantize(_WORKING.divide(_WORKING.ln(value), _WORKING.ln(base)), rscale)


def exp(value: Decimal) -> Decimal:
    if value.is_nan():
        return NUMERIC_NAN
    if value.is_infinite():
        return NUMERIC_INF if value > 0 else Decimal(0)
    estimate = float(value) * 0.434294481903252
    estimate = max(min(estimate, 2000.0), -2000.0)
    if estimate > 131072:
        raise NumericValueOutOfRange("value overflows numeric format")
    rscale = MIN_SIG_DIGITS - int(estimate)
    rscale = min(max(rscale, numeric_scale(value), 0), MAX_DISPLAY_SCALE)
    return quantize(_WORKING.exp(value), rscale)


def power(base: Decimal, exponent: Decimal) -> Decimal:
    """numeric ^ numeric (PostgreSQL 15 scale rules)."""
    if base.is_nan() or exponent.is_nan():
        if base == 1 and not base.is_nan() or exponent.is_zero():
            return Decimal(1)
        return NUMERIC_NAN
    if base.is_zero() and exponent < 0:
        raise InvalidArgumentForPowerFunction("zero raised to a negative power is undefined")
    is_integer = exponent.is_finite() and exponent == exponent.to_integral_value()
    if base < 0 and not is_integer:
        raise InvalidArgumentForPowerFunction(
            "a negative number raised to a non-integer power yields a complex result")
    if base.is_infinite() or exponent.is_infinite():
        return Decimal(float(base) ** float(exponent)) if not (base.is_zero()) else Decimal(0)
    if is_integer and abs(exponent) < 2**31:
        rscale = min(max(MIN_SIG_DIGITS, numeric_scale(base), 0), MAX_DISPLAY_SCALE)
        if base.is_zero():
            return quantize(Decimal(1) if exponent.is_zero() else Decimal(0), rscale)
        exact = _WORKING.power(base, int(exponent))
        return quantize(exact, rscale)
    if base.is_zero():
        return quantize(Decimal(0), min(max(MIN_SIG_DIGITS, numeric_scale(base), numeric_scale(exponent)),
                                        MAX_DISPLAY_SCALE))
    ln_base = _WORKING.ln(base)
    estimate = float(ln_base * exponent) * 0.434294481903252
    rscale = MIN_SIG_DIGITS - int(estimate)
    rscale = min(max(rscale, numeric_scale(base), numeric_scale(exponent), 0), MAX_DISPLAY_SCALE)
    return quantize(_WORKING.exp(_WORKING.multiply(ln_base, exponent)), rscale)
