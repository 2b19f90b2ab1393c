"""Numeric types: int2/int4/int8/oid, float4/float8 and numeric — text and binary I/O, typmods.

Owns the input rules (what int4in/float8in/numeric_in accept and their error texts), the output
formats (float shortest round-trip as PostgreSQL 12+ prints it, numeric keeping its scale) and
numeric's base-10000 binary format. Not arithmetic (catalog.builtins), not casts (casts).

    numeric binary:  int16 ndigits | int16 weight | uint16 sign | uint16 dscale | int16 digit[ndigits]
                     value = sum(digit[i] * 10000 ** (weight - i)), shown with dscale decimals
"""

from __future__ import annotations

import decimal
import math
import re
import struct
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from pgaurora.errors import InvalidBinaryRepresentation, InvalidTextRepresentation, NumericValueOutOfRange

INT2_MIN, INT2_MAX = -(2**15), 2**15 - 1
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT8_MIN, INT8_MAX = -(2**63), 2**63 - 1
FLT_MAX = 3.4028234663852886e38

# Numeric arithmetic needs far more digits than decimal's default 28.
NUMERIC_CONTEXT = decimal.Context(prec=1000, rounding=decimal.ROUND_HALF_UP, Emax=999999, Emin=-999999,
                                  traps=[decimal.InvalidOperation, decimal.DivisionByZero])
NUMERIC_MAX_DISPLAY_SCALE = 1000
NUMERIC_MAX_WEIGHT_DIGITS = 131072  # digits before the decimal point PostgreSQL's numeric holds
NUMERIC_MAX_DSCALE = 16383  # ... and after it
_EXPONENT_LIMIT = 2**31 // 2 - 1  # numeric_in refuses an exponent this big (INT_MAX / 2)
# Exact scaling and rescaling of any value numeric holds (binary I/O): NUMERIC_CONTEXT's 1000
# digits would refuse '1e1000'. Never used to divide (that would compute this many digits).
_EXACT_CONTEXT = decimal.Context(prec=NUMERIC_MAX_WEIGHT_DIGITS + NUMERIC_MAX_DSCALE + 1, Emax=999999,
                                 Emin=-999999, traps=[decimal.InvalidOperation])

_WHITESPACE = " \t\n\r\v\f"

_INT_NAMES = {2: "smallint", 4: "integer", 8: "bigint"}
_INT_RANGES = {2: (INT2_MIN, INT2_MAX), 4: (INT4_MIN, INT4_MAX), 8: (INT8_MIN, INT8_MAX)}
_INT_RE = re.compile(r"[ \t\n\r\v\f]*[+-]?[0-9]+[ \t\n\r\v\f]*\Z")


def int_parser(size: int) -> Callable[[str], int]:
    """int2in / int4in / int8in: decimal digits with optional sign and surrounding whitespace."""
    lo, hi = _INT_RANGES[size]
    name = _INT_NAMES[size]
    match = _INT_RE.match

    def parse(text: str) -> int:
        if not (text.isdigit() and text.isascii()):  # the common case needs no regex
            if match(text) is None:
                raise InvalidTextRepresentation(f'invalid input syntax for type {name}: "{text}"')
        value = int(text)
        if value < lo or value > hi:
            raise NumericValueOutOfRange(f'value "{text}" is out of range for type {name}')
        return value

    return parse


parse_int2 = int_parser(2)
parse_int4 = int_parser(4)
parse_int8 = int_parser(8)
# parser -> its largest value: for a caller that converts plain ASCII digits itself (a key
# parameter on the fused read path) and hands anything else to the parser
INT_PARSER_MAX: dict[Callable[[str], int], int] = {parse_int2: INT2_MAX, parse_int4: INT4_MAX, parse_int8: INT8_MAX}


def parse_oid(text: str) -> int:
    """oidin: like int4 but unsigned; negative input wraps as PostgreSQL's strtoul does."""
    if _INT_RE.match(text) is None:
        raise InvalidTextRepresentation(f'invalid input syntax for type oid: "{text}"')
    value = int(text)
    if value < -(2**31) or value > 2**32 - 1:
        raise NumericValueOutOfRange(f'value "{text}" is out of range for type oid')
    return value & 0xFFFFFFFF


def check_int(value: int, size: int) -> int:
    """Raise 22003 "<type> out of range" if value does not fit (PostgreSQL's arithmetic wording)."""
    lo, hi = _INT_RANGES[size]
    if value < lo or value > hi:
        raise NumericValueOutOfRange(f"{_INT_NAMES[size]} out of range")
    return value


# --- float4 / float8 ---------------------------------------------------------------------------

_FLOAT_RE = re.compile(
    r"[ \t\n\r\v\f]*([+-]?)(?:([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(inf|infinity|nan))[ \t\n\r\v\f]*\Z",
    re.IGNORECASE,
)
_PACK_F = struct.Struct(">f")
_PACK_D = struct.Struct(">d")


def to_float4(value: float) -> float:
    """Round a double to the nearest float4 (inf when out of range)."""
    try:
        return float(_PACK_F.unpack(_PACK_F.pack(value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


_EXOTIC_SPACE = re.compile(r"[\x1c-\x1f]")


def _nonzero_mantissa(text: str) -> bool:
    mantissa = text.lower().partition("e")[0]
    return any(c in "123456789" for c in mantissa)


def _float_parser(type_name: str, single: bool) -> Callable[[str], float]:
    match = _FLOAT_RE.match

    def parse(text: str) -> float:
        if text.isascii() and "_" not in text and not _EXOTIC_SPACE.search(text):
            # fast path: Python's float() accepts exactly PostgreSQL's forms for ASCII input
            try:
                value = float(text)
            except ValueError:
                try:  # strtod also reads C99 hexadecimal floats such as 0x1p3
                    value = float.fromhex(text.strip(" \t\n\r\v\f")) if "x" in text.lower() else math.nan
                except (ValueError, OverflowError):
                    value = math.nan
                if value != value:
                    raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"') from None
            if single:
                rounded = to_float4(value)
                if (math.isinf(rounded) and "n" not in text.lower()) or (rounded == 0.0 and _nonzero_mantissa(text)):
                    raise NumericValueOutOfRange(f'"{text}" is out of range for type {type_name}')
                return rounded
            if (math.isinf(value) and "n" not in text.lower()) or (value == 0.0 and _nonzero_mantissa(text)):
                raise NumericValueOutOfRange(f'"{text}" is out of range for type {type_name}')
            return value
        m = match(text)
        if m is None:
            raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"')
        if m.group(4):
            return float(m.group(1) + m.group(4))
        value = float(m.group(1) + m.group(2) + (m.group(3) or ""))
        nonzero = any(c in "123456789" for c in m.group(2))
        if single:
            rounded = to_float4(value)
            if math.isinf(rounded) or (rounded == 0.0 and nonzero):
                raise NumericValueOutOfRange(f'"{text}" is out of range for type {type_name}')
            return rounded
        if math.isinf(value) or (value == 0.0 and nonzero):
            raise NumericValueOutOfRange(f'"{text}" is out of range for type {type_name}')
        return value

    return parse


parse_float4 = _float_parser("real", True)
parse_float8 = _float_parser("double precision", False)


def _shortest_digits(value: float, single: bool) -> tuple[str, int]:
    """The shortest digit string that reads back as `value`, and its decimal exponent."""
    if single:
        exponent2 = max(math.frexp(value)[1], -125)
        ulp = Fraction(2) ** (exponent2 - 24)
        low_gap = ulp / 4 if math.frexp(value)[0] == 0.5 and exponent2 > -125 else ulp / 2
        exact = Fraction(value)
        for precision in range(1, 10):
            text = f"{value:.{precision - 1}e}"
            if to_float4(float(text)) == value:
                diff = Fraction(Decimal(text)) - exact
                if (diff >= 0 and diff < ulp / 2) or (diff < 0 and -diff < low_gap):
                    break
    else:
        text = repr(value)
        if _may_be_on_boundary(text, value):
            text = _strictly_inside(text, value)
    mantissa, _, exponent = text.partition("e")
    exp10 = int(exponent) if exponent else 0
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    exp10 += len(whole) - 1 - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    return digits, exp10


def _may_be_on_boundary(text: str, value: float) -> bool:
    """Cheap test: could repr's digits sit exactly half an ulp away from `value`?

    Python's repr accepts such a decimal (it reads back by round-half-even) but PostgreSQL's
    Ryu does not accept interval bounds and prints one more digit. A decimal equals a
    midpoint only if its number of decimal places matches the midpoint's binary places.
    """
    mantissa, _, exponent = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    frac = frac.rstrip("0")
    last_exp = (int(exponent) if exponent else 0) - len(frac)
    if last_exp >= 0 or not frac and whole.endswith("0"):
        return math.frexp(math.ulp(value))[1] - 2 >= 0 or value >= 2**52
    places = -last_exp
    ulp_exp = math.frexp(math.ulp(value))[1] - 1
    return places in (1 - ulp_exp, 2 - ulp_exp)


def _strictly_inside(text: str, value: float) -> str:
    """The shortest correctly rounded digits strictly inside value's rounding interval."""
    exact = Fraction(value)
    ulp = Fraction(math.ulp(value))
    low_gap = ulp / 4 if math.frexp(value)[0] == 0.5 else ulp / 2
    shortest = len(text.partition("e")[0].replace(".", "").replace("-", "").strip("0"))
    candidate = text
    for precision in range(max(shortest, 1), 18):
        if precision > shortest:
            candidate = f"{value:.{precision - 1}e}"
        diff = Fraction(Decimal(candidate)) - exact
        if (diff >= 0 and diff < ulp / 2) or (diff < 0 and -diff < low_gap):
            return candidate
    return f"{value:.16e}"


def format_float(value: float, single: bool = False, extra_float_digits: int = 1) -> str:
    """float4out / float8out: shortest round-trip digits, exponent style outside [1e-4, 1e15)."""
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    if extra_float_digits <= 0:
        return f"{value:.{max(1, (6 if single else 15) + extra_float_digits)}g}"
    if value == 0.0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, exp10 = _shortest_digits(abs(value), single)
    if exp10 < -4 or exp10 >= (6 if single else 15):
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if exp10 < 0:
        return f"{sign}0.{'0' * (-exp10 - 1)}{digits}"
    if len(digits) <= exp10 + 1:
        return sign + digits + "0" * (exp10 + 1 - len(digits))
    return f"{sign}{digits[:exp10 + 1]}.{digits[exp10 + 1:]}"


def format_float8(value: float) -> str:
    return format_float(value, False, 1)


def format_float4(value: float) -> str:
    return format_float(value, True, 1)


# --- numeric -----------------------------------------------------------------------------------

_NUMERIC_RE = re.compile(
    r"[ \t\n\r\v\f]*([+-]?)(?:([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(nan|inf|infinity))[ \t\n\r\v\f]*\Z",
    re.IGNORECASE,
)
NUMERIC_NAN = Decimal("NaN")
NUMERIC_INF = Decimal("Infinity")
NUMERIC_NINF = Decimal("-Infinity")


def normalize_numeric(value: Decimal) -> Decimal:
    """Give a Decimal numeric's shape: no positive exponent, no negative zero."""
    if not value.is_finite():
        return NUMERIC_NAN if value.is_nan() else value
    sign, digits, exponent = value.as_tuple()
    if isinstance(exponent, int) and (exponent > 0 or exponent < -NUMERIC_MAX_DSCALE):
        # PostgreSQL's limits: 131072 digits before the point, 16383 after it (a zero: any
        # exponent below INT_MAX / 2)
        if (exponent < -NUMERIC_MAX_DSCALE or exponent >= _EXPONENT_LIMIT
                or (value and len(digits) + exponent > NUMERIC_MAX_WEIGHT_DIGITS)):
            raise NumericValueOutOfRange("value overflows numeric format")
        if not value:
            return Decimal(0)
        value = Decimal((sign, digits + (0,) * exponent, 0))  # exact: '1e1000' has 1001 digits
    if value.is_zero() and value.is_signed():
        value = value.copy_abs()
    return value


def parse_numeric(text: str) -> Decimal:
    """numeric_in: decimal with optional exponent, or NaN / Infinity / -Infinity."""
    m = _NUMERIC_RE.match(text)
    if m is None:
        raise InvalidTextRepresentation(f'invalid input syntax for type numeric: "{text}"')
    special = m.group(4)
    if special:
        if special.lower() == "nan":
            if m.group(1):
                raise InvalidTextRepresentation(f'invalid input syntax for type numeric: "{text}"')
            return NUMERIC_NAN
        return NUMERIC_NINF if m.group(1) == "-" else NUMERIC_INF
    if m.group(3) is None:  # plain digits: the exponent is never positive, skip normalize's as_tuple()
        value = Decimal(m.group(1) + m.group(2))
        return value.copy_abs() if m.group(1) == "-" and value.is_zero() else value
    return normalize_numeric(Decimal(m.group(1) + m.group(2) + m.group(3)))


def format_numeric(value: Decimal) -> str:
    """numeric_out: plain notation keeping the scale ('1.50'); 'NaN', 'Infinity', '-Infinity'."""
    if value.is_finite():
        return format(value, "f")
    if value.is_nan():
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def numeric_scale(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def numeric_typmod(precision: int, scale: int) -> int:
    return ((precision << 16) | (scale & 0x7FF)) + 4


def numeric_typmod_parts(typmod: int) -> tuple[int, int]:
    """(precision, scale) of a numeric typmod (scale may be negative since PostgreSQL 15)."""
    bits = typmod - 4
    return (bits >> 16) & 0xFFFF, ((bits & 0x7FF) ^ 1024) - 1024


def apply_numeric_typmod(value: Decimal, typmod: int) -> Decimal:
    """Round to the typmod's scale (half away from zero) and check the precision: 22003 if too big."""
    if typmod < 4 or value.is_nan():
        return value
    precision, scale = numeric_typmod_parts(typmod)
    if value.is_infinite():
        raise NumericValueOutOfRange(
            "numeric field overflow",
            detail=f"A field with precision {precision}, scale {scale} cannot hold an infinite value.",
        )
    rounded = value.quantize(Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP, context=NUMERIC_CONTEXT)
    if scale < 0:
        rounded = rounded.quantize(Decimal(1), context=NUMERIC_CONTEXT)
    max_digits = precision - scale
    if not rounded.is_zero() and rounded.adjusted() + 1 > max_digits:
        raise NumericValueOutOfRange(
            "numeric field overflow",
            detail=(f"A field with precision {precision}, scale {scale} must round to an absolute value "
                    f"less than {'10^' + str(max_digits) if max_digits else '1'}."),
        )
    if rounded.is_zero() and rounded.is_signed():
        rounded = rounded.copy_abs()
    return rounded


_NUMERIC_POS, _NUMERIC_NEG, _NUMERIC_NAN_SIGN = 0x0000, 0x4000, 0xC000
_NUMERIC_PINF, _NUMERIC_NINF = 0xD000, 0xF000
_HEADER = struct.Struct(">hhHH")


def numeric_send(value: Decimal) -> bytes:
    """numeric_send: the base-10000 digit format."""
    if not value.is_finite():
        if value.is_nan():
            return _HEADER.pack(0, 0, _NUMERIC_NAN_SIGN, 0)
        # PostgreSQL 15 sends dscale 32 for infinities (bits of its short header leak through)
        return _HEADER.pack(0, 0, _NUMERIC_PINF if value > 0 else _NUMERIC_NINF, 0x20)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    dscale = -exponent if exponent < 0 else 0
    fraction_groups = (dscale + 3) // 4
    # exact: scaling a Decimal by a power of ten only moves its exponent
    scaled = int(value.copy_abs().scaleb(4 * fraction_groups, context=_EXACT_CONTEXT))
    if scaled == 0:
        return _HEADER.pack(0, 0, _NUMERIC_POS, dscale)
    groups = []
    while scaled:
        scaled, group = divmod(scaled, 10000)
        groups.append(group)
    groups.reverse()
    weight = len(groups) - fraction_groups - 1
    while groups[-1] == 0:
        groups.pop()
    sign = _NUMERIC_NEG if value.is_signed() else _NUMERIC_POS
    return _HEADER.pack(len(groups), weight, sign, dscale) + struct.pack(f">{len(groups)}h", *groups)


def numeric_recv(data: bytes) -> Decimal:
    """numeric_recv: the inverse of numeric_send (22P03 on malformed input)."""
    if len(data) < 8:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    ndigits, weight, sign, dscale = _HEADER.unpack_from(data)
    if len(data) != 8 + 2 * ndigits:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    if sign == _NUMERIC_NAN_SIGN:
        return NUMERIC_NAN
    if sign == _NUMERIC_PINF:
        return NUMERIC_INF
    if sign == _NUMERIC_NINF:
        return NUMERIC_NINF
    if sign not in (_NUMERIC_POS, _NUMERIC_NEG):
        raise InvalidBinaryRepresentation("invalid sign in external \"numeric\" value")
    accumulated = 0
    for group in struct.unpack_from(f">{ndigits}h", data, 8):
        if group < 0 or group >= 10000:
            raise InvalidBinaryRepresentation("invalid digit in external \"numeric\" value")
        accumulated = accumulated * 10000 + group
    if sign == _NUMERIC_NEG:
        accumulated = -accumulated
    if dscale > NUMERIC_MAX_DSCALE:
        raise InvalidBinaryRepresentation("invalid scale in external \"numeric\" value")
    try:
        value = Decimal(accumulated).scaleb((weight - ndigits + 1) * 4, context=_EXACT_CONTEXT)
        result = value.quantize(Decimal(1).scaleb(-dscale), context=_EXACT_CONTEXT)
    except decimal.InvalidOperation:
        raise NumericValueOutOfRange("value overflows numeric format") from None
    return result.copy_abs() if result.is_zero() else result


INT2_STRUCT = struct.Struct(">h")
INT4_STRUCT = struct.Struct(">i")
INT8_STRUCT = struct.Struct(">q")
UINT4_STRUCT = struct.Struct(">I")
FLOAT4_STRUCT = _PACK_F
FLOAT8_STRUCT = _PACK_D
