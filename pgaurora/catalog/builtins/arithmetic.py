"""Arithmetic operators on int2/int4/int8, float4/float8 and numeric (+ - * / % ^ unary - + @ and bitwise).

Owns the operator rows PostgreSQL defines for numbers, including the cross-width integer
ones (int24pl, int48mul, ...) and float48, with PostgreSQL's overflow and division errors:

    int4 2147483647 + 1        -> 22003 integer out of range
    7 / 0, 7 % 0               -> 22012 division by zero
    float8 1e308 * 10          -> 22003 value out of range: overflow
    -7 / 2 = -3, -7 % 2 = -1   (C truncation)

Not comparisons (comparison) and not numeric's scale rules (numeric_math).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from pgaurora.catalog.builtins import numeric_math
from pgaurora.catalog.builtins.registry import operator
from pgaurora.datatypes import numbers
from pgaurora.datatypes.typeinfo import FLOAT4_OID, FLOAT8_OID, INT2_OID, INT4_OID, INT8_OID, NUMERIC_OID
from pgaurora.errors import DivisionByZero, InvalidArgumentForPowerFunction, NumericValueOutOfRange

_RANGE = {INT2_OID: (numbers.INT2_MIN, numbers.INT2_MAX, "smallint out of range"),
          INT4_OID: (numbers.INT4_MIN, numbers.INT4_MAX, "integer out of range"),
          INT8_OID: (numbers.INT8_MIN, numbers.INT8_MAX, "bigint out of range")}
_WIDTH = {INT2_OID: 2, INT4_OID: 4, INT8_OID: 8}


def int_operators(result: int) -> dict[str, Callable[[int, int], int]]:
    """+ - * / % for integers whose result type is `result` (range checked)."""
    lo, hi, message = _RANGE[result]

    def add(a: int, b: int) -> int:
        r = a + b
        if r < lo or r > hi:
            raise NumericValueOutOfRange(message)
        return r

    def sub(a: int, b: int) -> int:
        r = a - b
        if r < lo or r > hi:
            raise NumericValueOutOfRange(message)
        return r

    def mul(a: int, b: int) -> int:
        r = a * b
        if r < lo or r > hi:
            raise NumericValueOutOfRange(message)
        return r

    def div(a: int, b: int) -> int:
        if b == 0:
            raise DivisionByZero("division by zero")
        q = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            q = -q
        if q < lo or q > hi:
            raise NumericValueOutOfRange(message)
        return q

    def mod(a: int, b: int) -> int:
        if b == 0:
            raise DivisionByZero("division by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r

    return {"+": add, "-": sub, "*": mul, "/": div, "%": mod}


def _check_float(single: bool) -> Callable[[float, bool, bool], float]:
    def check(value: float, inf_ok: bool, zero_ok: bool) -> float:
        if single:
            value = numbers.to_float4(value)
        if math.isinf(value) and not inf_ok:
            raise NumericValueOutOfRange("value out of range: overflow")
        if value == 0.0 and not zero_ok:
            raise NumericValueOutOfRange("value out of range: underflow")
        return value

    return check


def float_operators(single: bool) -> dict[str, Callable[[float, float], float]]:
    check = _check_float(single)
    isinf = math.isinf

    def add(a: float, b: float) -> float:
        return check(a + b, isinf(a) or isinf(b), True)

    def sub(a: float, b: float) -> float:
        return check(a - b, isinf(a) or isinf(b), True)

    def mul(a: float, b: float) -> float:
        return check(a * b, isinf(a) or isinf(b), a == 0.0 or b == 0.0)

    def div(a: float, b: float) -> float:
        if b == 0.0 and not math.isnan(a):
            raise DivisionByZero("division by zero")
        if b == 0.0:
            return math.nan
        return check(a / b, isinf(a) or isinf(b), a == 0.0 or isinf(b))

    return {"+": add, "-": sub, "*": mul, "/": div}


def float_power(a: float, b: float) -> float:
    """dpow(): PostgreSQL's special cases, then pow() with overflow/underflow checks."""
    if math.isnan(a):
        return 1.0 if b == 0.0 else math.nan
    if math.isnan(b):
        return 1.0 if a == 1.0 else math.nan
    if a == 0.0 and b < 0.0:
        raise InvalidArgumentForPowerFunction("zero raised to a negative power is undefined")
    if a < 0.0 and math.floor(b) != b and not math.isinf(b):
        raise InvalidArgumentForPowerFunction("a negative number raised to a non-integer power yields a complex result")
    try:
        result = math.pow(a, b)
    except OverflowError:
        raise NumericValueOutOfRange("value out of range: overflow") from None
    except ValueError:
        return math.nan
    if math.isinf(result) and not (math.isinf(a) or math.isinf(b)):
        raise NumericValueOutOfRange("value out of range: overflow")
    if result == 0.0 and a != 0.0 and not math.isinf(b) and abs(a) != math.inf:
        raise NumericValueOutOfRange("value out of range: underflow")
    return result


def _negate(result: int) -> Callable[[int], int]:
    lo, hi, message = _RANGE[result]

    def negate(a: int) -> int:
        if -a > hi:
            raise NumericValueOutOfRange(message)
        return -a

    return negate


def _int_abs(result: int) -> Callable[[int], int]:
    lo, hi, message = _RANGE[result]

    def absolute(a: int) -> int:
        if -a > hi:
            raise NumericValueOutOfRange(message)
        return abs(a)

    return absolute


def _wrap(bits: int) -> Callable[[int], int]:
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)
    return lambda v: ((v & mask) ^ sign) - sign


def _register_integers() -> None:
    ints = (INT2_OID, INT4_OID, INT8_OID)
    for left in ints:
        for right in ints:
            result = left if _WIDTH[left] >= _WIDTH[right] else right
            if left != right and result == INT2_OID:
                continue
            ops = int_operators(result)
            for name in ("+", "-", "*", "/"):
                operator(name, left, right, result, ops[name])
            if left == right:
                operator("%", left, right, result, ops["%"])
    for oid in ints:
        bits = _WIDTH[oid] * 8
        wrap = _wrap(bits)
        operator("-", None, oid, oid, _negate(oid))
        operator("+", None, oid, oid, lambda a: a)
        operator("@", None, oid, oid, _int_abs(oid))
        operator("&", oid, oid, oid, lambda a, b: a & b)
        operator("|", oid, oid, oid, lambda a, b: a | b)
        operator("#", oid, oid, oid, lambda a, b: a ^ b)
        operator("~", None, oid, oid, lambda a: ~a)
        operator("<<", oid, INT4_OID, oid, lambda a, b, w=wrap, n=bits: w(a << (b % n)))
        operator(">>", oid, INT4_OID, oid, lambda a, b, n=bits: a >> (b % n))


def _register_floats() -> None:
    for left, right in ((FLOAT4_OID, FLOAT4_OID), (FLOAT8_OID, FLOAT8_OID), (FLOAT4_OID, FLOAT8_OID),
                        (FLOAT8_OID, FLOAT4_OID)):
        single = left == right == FLOAT4_OID
        result = FLOAT4_OID if single else FLOAT8_OID
        ops = float_operators(single)
        for name in ("+", "-", "*", "/"):
            operator(name, left, right, result, ops[name])
    for oid in (FLOAT4_OID, FLOAT8_OID):
        operator("-", None, oid, oid, lambda a: -a)
        operator("+", None, oid, oid, lambda a: a)
        operator("@", None, oid, oid, abs)
    operator("^", FLOAT8_OID, FLOAT8_OID, FLOAT8_OID, float_power)
    operator("|/", None, FLOAT8_OID, FLOAT8_OID, _float_sqrt)
    operator("||/", None, FLOAT8_OID, FLOAT8_OID, _float_cbrt)


def _float_sqrt(a: float) -> float:
    if a < 0:
        raise InvalidArgumentForPowerFunction("cannot take square root of a negative number")
    return math.sqrt(a)


def _float_cbrt(a: float) -> float:
    return math.copysign(abs(a) ** (1.0 / 3.0), a) if not math.isinf(a) else a


def _numeric_negate(a: Decimal) -> Decimal:
    if a.is_nan() or a.is_zero():
        return a
    return a.copy_negate()


def _register_numeric() -> None:
    n = NUMERIC_OID
    operator("+", n, n, n, numeric_math.add)
    operator("-", n, n, n, numeric_math.subtract)
    operator("*", n, n, n, numeric_math.multiply)
    operator("/", n, n, n, numeric_math.divide)
    operator("%", n, n, n, numeric_math.modulo)
    operator("^", n, n, n, numeric_math.power)
    operator("-", None, n, n, _numeric_negate)
    operator("+", None, n, n, lambda a: a)
    operator("@", None, n, n, lambda a: a.copy_abs())


_register_integers()
_register_floats()
_register_numeric()
