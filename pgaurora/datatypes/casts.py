"""Casts: PostgreSQL's pg_cast with behaviour, its contexts, I/O casts, array casts; type categories.

Owns which conversions exist and in which context they apply (the binder coerces implicitly
only with IMPLICIT casts, in INSERT/UPDATE targets with ASSIGNMENT ones, and CAST() with any),
and the conversion closures themselves:

    fn = cast_function(NUMERIC_OID, INT4_OID, CastContext.ASSIGNMENT)   # rounds half away from 0
    fn(Decimal('2.5')) -> 3        cast(2.5, FLOAT8_OID, INT4_OID) -> 2  (rint: half to even)

Besides pg_cast rows: any type casts to text/varchar/bpchar through its output function
(ASSIGNMENT), text-like types cast to any type through its input function (EXPLICIT), an
array casts to another array when its elements do, and unknown (an untyped literal)
coerces implicitly to anything. Not operator resolution (catalog.builtins.resolution).
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from pgaurora.datatypes import (
    bitstrings,
    codecs,
    composites,
    datetimes,
    jsonvalues,
    network,
    numbers,
    strings,
)
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.casttable import PG_CAST_ROWS
from pgaurora.datatypes.values import DEFAULT_CONTEXT, USECS_PER_DAY, FormatContext, Jsonb
from pgaurora.errors import CannotCoerce, FeatureNotSupported, InvalidParameterValue, NumericValueOutOfRange


class CastContext(enum.IntEnum):
    """castcontext, ordered so that a cast usable in a context is usable in every wider one."""

    IMPLICIT = 0
    ASSIGNMENT = 1
    EXPLICIT = 2


_CONTEXT_CODES = {"i": CastContext.IMPLICIT, "a": CastContext.ASSIGNMENT, "e": CastContext.EXPLICIT}
_PG_CAST: dict[tuple[int, int], tuple[CastContext, str, str]] = {
    (src, dst): (_CONTEXT_CODES[ctx], func, method) for src, dst, func, ctx, method in PG_CAST_ROWS
}
STRING_OIDS = frozenset({t.TEXT_OID, t.VARCHAR_OID, t.BPCHAR_OID, t.NAME_OID})
_INT_SIZES = {t.INT2_OID: 2, t.INT4_OID: 4, t.INT8_OID: 8}
_OIDLIKE = frozenset({t.OID_OID, t.REGPROC_OID, t.REGPROCEDURE_OID, t.REGOPER_OID, t.REGOPERATOR_OID,
                      t.REGCLASS_OID, t.REGTYPE_OID, t.REGNAMESPACE_OID, t.REGROLE_OID, 4191, 3734})


def type_category(oid: int) -> str:
    """typcategory ('N' numeric, 'S' string, 'D' datetime, 'T' timespan, 'B' bool, 'A' array, ...)."""
    info = t.find(oid)
    return info.category if info is not None else "U"


def is_preferred(oid: int) -> bool:
    """typispreferred: text, float8, oid, bool, timestamptz, interval, inet... win ties."""
    info = t.find(oid)
    return info.preferred if info is not None else False


@lru_cache(maxsize=4096)
def cast_context(source: int, target: int) -> CastContext | None:
    """The context in which a cast source -> target exists (None: no cast at all)."""
    if source == target:
        return CastContext.IMPLICIT
    if source == t.UNKNOWN_OID:
        return CastContext.IMPLICIT
    row = _PG_CAST.get((source, target))
    if row is not None:
        return row[0]
    source_elem, target_elem = t.element_of(source), t.element_of(target)
    if source_elem and target_elem:
        return cast_context(source_elem, target_elem)
    if target in STRING_OIDS and t.find(source) is not None and source not in (t.RECORD_OID,):
        return CastContext.ASSIGNMENT
    if source in STRING_OIDS and t.find(target) is not None and not t.lookup(target).is_pseudo:
        return CastContext.EXPLICIT
    if source == t.RECORD_OID and target in STRING_OIDS:
        return CastContext.ASSIGNMENT
    if source == t.RECORD_OID and composites.attributes(target) is not None:
        return CastContext.IMPLICIT  # (a ROW(...) to a composite type: planner.resolve coerces it)
    return None


def can_coerce(source: int, target: int, context: CastContext = CastContext.IMPLICIT) -> bool:
    """can_coerce_type() for one argument: is there a cast usable in `context`?"""
    found = cast_context(source, target)
    return found is not None and found <= context


# --- conversion builders -----------------------------------------------------------------------

def _int_narrow(size: int) -> Callable[[int], int]:
    return lambda v: numbers.check_int(v, size)


def _float_to_int(size: int) -> Callable[[float], int]:
    def convert(v: float) -> int:
        if math.isnan(v) or math.isinf(v):
            raise NumericValueOutOfRange(f"{('smallint', 'integer', 'bigint')[(2, 4, 8).index(size)]} out of range")
        return numbers.check_int(round(v), size)

    return convert


def _numeric_to_int(size: int) -> Callable[[Decimal], int]:
    def convert(v: Decimal) -> int:
        if v.is_nan():
            raise FeatureNotSupported("cannot convert NaN to " + ("smallint", "integer", "bigint")[(2, 4, 8).index(size)])
        if v.is_infinite():
            raise FeatureNotSupported("cannot convert infinity to "
                                      + ("smallint", "integer", "bigint")[(2, 4, 8).index(size)])
        return numbers.check_int(int(v.to_integral_value(rounding=ROUND_HALF_UP)), size)

    return convert


def float_to_numeric(value: float, single: bool = False) -> Decimal:
    """float8_numeric / float4_numeric: via %.15g (%.6g for float4), as PostgreSQL does."""
    if math.isnan(value):
        return numbers.NUMERIC_NAN
    if math.isinf(value):
        return numbers.NUMERIC_INF if value > 0 else numbers.NUMERIC_NINF
    return numbers.normalize_numeric(Decimal(f"{value:.{6 if single else 15}g}"))


def numeric_to_float(value: Decimal, single: bool = False) -> float:
    if value.is_nan():
        return math.nan
    if value.is_infinite():
        return math.inf if value > 0 else -math.inf
    parse = numbers.parse_float4 if single else numbers.parse_float8
    return parse(format(value, "e"))


def float8_to_float4(value: float) -> float:
    rounded = numbers.to_float4(value)
    if math.isinf(rounded) and not math.isinf(value):
        raise NumericValueOutOfRange("value out of range: overflow")
    if rounded == 0.0 and value != 0.0:
        raise NumericValueOutOfRange("value out of range: underflow")
    return rounded


def _int_to_char(value: int) -> str:
    if value < -128 or value > 127:
        raise NumericValueOutOfRange('"char" out of range')
    return chr(value & 0xFF) if value else ""


def _char_to_int(value: str) -> int:
    if not value:
        return 0
    code = ord(value) & 0xFF
    return code - 256 if code > 127 else code


def _to_oid(value: int) -> int:
    if value < -(2**31) or value > 2**32 - 1:
        raise NumericValueOutOfRange("OID out of range")
    return value & 0xFFFFFFFF


def _jsonb_to(target_name: str, kind: str, convert: Callable[[Any], Any]) -> Callable[[Jsonb], Any]:
    def cast_jsonb(value: Jsonb) -> Any:
        inner = value.value
        if kind == "boolean":
            ok = isinstance(inner, bool)
        else:
            ok = isinstance(inner, int | Decimal | float) and not isinstance(inner, bool)
        if not ok:
            raise InvalidParameterValue(f"cannot cast jsonb {_jsonb_type(inner)} to type {target_name}")
        return convert(inner)

    return cast_jsonb


def _jsonb_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "numeric"


def _to_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def _interval_to_time(value: Any) -> datetime.time:
    micros = value.microseconds % USECS_PER_DAY
    return datetimes.time_from_micros(micros)


def _time_to_interval(value: datetime.time) -> Any:
    from pgaurora.datatypes.values import Interval
    return Interval(0, 0, datetimes.time_to_micros(value))


def _datetime_casts(ctx: FormatContext) -> dict[tuple[int, int], Callable[[Any], Any]]:
    tz = ctx.tzinfo
    utc = datetime.UTC

    def date_to_ts(v: datetime.date) -> datetime.datetime:
        if v == datetimes.DATE_INFINITY:
            return datetimes.TIMESTAMP_INFINITY
        if v == datetimes.DATE_NINFINITY:
            return datetimes.TIMESTAMP_NINFINITY
        return datetime.datetime(v.year, v.month, v.day)

    def date_to_tstz(v: datetime.date) -> datetime.datetime:
        if v == datetimes.DATE_INFINITY:
            return datetimes.TIMESTAMPTZ_INFINITY
        if v == datetimes.DATE_NINFINITY:
            return datetimes.TIMESTAMPTZ_NINFINITY
        return datetime.datetime(v.year, v.month, v.day, tzinfo=tz).astimezone(utc)

    def ts_to_tstz(v: datetime.datetime) -> datetime.datetime:
        if v == datetimes.TIMESTAMP_INFINITY:
            return datetimes.TIMESTAMPTZ_INFINITY
        if v == datetimes.TIMESTAMP_NINFINITY:
            return datetimes.TIMESTAMPTZ_NINFINITY
        return v.replace(tzinfo=tz).astimezone(utc)

    def tstz_to_ts(v: datetime.datetime) -> datetime.datetime:
        if v == datetimes.TIMESTAMPTZ_INFINITY:
            return datetimes.TIMESTAMP_INFINITY
        if v == datetimes.TIMESTAMPTZ_NINFINITY:
            return datetimes.TIMESTAMP_NINFINITY
        return v.astimezone(tz).replace(tzinfo=None)

    def ts_to_date(v: datetime.datetime) -> datetime.date:
        if v == datetimes.TIMESTAMP_INFINITY:
            return datetimes.DATE_INFINITY
        if v == datetimes.TIMESTAMP_NINFINITY:
            return datetimes.DATE_NINFINITY
        return v.date()

    def tstz_to_timetz(v: datetime.datetime) -> datetime.time:
        local = v.astimezone(tz)
        offset = local.utcoffset() or datetime.timedelta(0)
        return local.time().replace(tzinfo=datetime.timezone(offset))

    def time_to_timetz(v: datetime.time) -> datetime.time:
        offset = datetime.datetime.now(utc).astimezone(tz).utcoffset() or datetime.timedelta(0)
        return v.replace(tzinfo=datetime.timezone(offset))

    return {
        (t.DATE_OID, t.TIMESTAMP_OID): date_to_ts,
        (t.DATE_OID, t.TIMESTAMPTZ_OID): date_to_tstz,
        (t.TIMESTAMP_OID, t.DATE_OID): ts_to_date,
        (t.TIMESTAMP_OID, t.TIME_OID): lambda v: v.time(),
        (t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID): ts_to_tstz,
        (t.TIMESTAMPTZ_OID, t.DATE_OID): lambda v: ts_to_date(tstz_to_ts(v)),
        (t.TIMESTAMPTZ_OID, t.TIME_OID): lambda v: tstz_to_ts(v).time(),
        (t.TIMESTAMPTZ_OID, t.TIMESTAMP_OID): tstz_to_ts,
        (t.TIMESTAMPTZ_OID, t.TIMETZ_OID): tstz_to_timetz,
        (t.TIME_OID, t.INTERVAL_OID): _time_to_interval,
        (t.TIME_OID, t.TIMETZ_OID): time_to_timetz,
        (t.INTERVAL_OID, t.TIME_OID): _interval_to_time,
        (t.TIMETZ_OID, t.TIME_OID): lambda v: v.replace(tzinfo=None),
    }


def _function_cast(source: int, target: int, ctx: FormatContext) -> Callable[[Any], Any] | None:
    """The conversion for a pg_cast row with castmethod 'f' or 'i'."""
    if source in (t.INET_OID, t.CIDR_OID):  # text(inet) shows the mask length; cidr(inet) clears host bits
        return network.to_cidr if target == t.CIDR_OID else network.show
    if source in _INT_SIZES and target in _INT_SIZES:
        return None if _INT_SIZES[target] >= _INT_SIZES[source] else _int_narrow(_INT_SIZES[target])
    if source in _INT_SIZES or source == t.OID_OID or source in _OIDLIKE:
        if target == t.FLOAT8_OID:
            return float
        if target == t.FLOAT4_OID:
            return lambda v: numbers.to_float4(float(v))
        if target == t.NUMERIC_OID:
            return Decimal
        if target == t.BOOL_OID:
            return lambda v: v != 0
        if target == t.CHAR_OID:
            return _int_to_char
        if target in _OIDLIKE:
            return _to_oid
        if target == t.INT8_OID:
            return None
        if target == t.INT4_OID:
            return lambda v: v - 2**32 if v >= 2**31 else v
    if source in (t.FLOAT4_OID, t.FLOAT8_OID):
        single = source == t.FLOAT4_OID
        if target in _INT_SIZES:
            return _float_to_int(_INT_SIZES[target])
        if target == t.NUMERIC_OID:
            return lambda v: float_to_numeric(v, single)
        if target == t.FLOAT8_OID:
            return None
        if target == t.FLOAT4_OID:
            return float8_to_float4
    if source == t.NUMERIC_OID:
        if target in _INT_SIZES:
            return _numeric_to_int(_INT_SIZES[target])
        if target == t.FLOAT8_OID:
            return numeric_to_float
        if target == t.FLOAT4_OID:
            return lambda v: numeric_to_float(v, True)
    if source == t.BOOL_OID and target == t.INT4_OID:
        return int
    if source == t.BOOL_OID and target in STRING_OIDS:
        return lambda v: "true" if v else "false"
    if source == t.CHAR_OID and target == t.INT4_OID:
        return _char_to_int
    if target == t.CHAR_OID and source in STRING_OIDS:
        return lambda v: (v[:1] if source != t.BPCHAR_OID else v.rstrip(" ")[:1])
    if source == t.BPCHAR_OID and target in (t.TEXT_OID, t.VARCHAR_OID, t.NAME_OID):
        return strings.bpchar_trimmed if target != t.NAME_OID else (lambda v: strings.truncate_name(v.rstrip(" ")))
    if target == t.NAME_OID and source in STRING_OIDS:
        return strings.truncate_name
    if source in (t.CHAR_OID, t.NAME_OID) and target in STRING_OIDS:
        return None
    if source == t.JSONB_OID:
        if target == t.BOOL_OID:
            return _jsonb_to("boolean", "boolean", bool)
        if target in _INT_SIZES:
            name = ("smallint", "integer", "bigint")[(2, 4, 8).index(_INT_SIZES[target])]
            to_int = _numeric_to_int(_INT_SIZES[target])
            return _jsonb_to(name, "number", lambda v: to_int(_to_decimal(v)))
        if target == t.NUMERIC_OID:
            return _jsonb_to("numeric", "number", _to_decimal)
        if target == t.FLOAT8_OID:
            return _jsonb_to("double precision", "number", lambda v: numeric_to_float(_to_decimal(v)))
        if target == t.FLOAT4_OID:
            return _jsonb_to("real", "number", lambda v: numeric_to_float(_to_decimal(v), True))
        if target == t.JSON_OID:
            return jsonvalues.format_jsonb
    if source == t.JSON_OID and target == t.JSONB_OID:
        return jsonvalues.parse_jsonb
    if source == t.BIT_OID and target in (t.INT4_OID, t.INT8_OID):
        bits = 32 if target == t.INT4_OID else 64
        return lambda v: bitstrings.bits_to_int(v, bits)
    if source == t.XID8_OID and target == t.XID_OID:
        return lambda v: v & 0xFFFFFFFF
    if source == target:
        return None
    conversion = _datetime_casts(ctx).get((source, target))
    if conversion is not None:
        return conversion
    raise CannotCoerce(f"cannot cast type {t.format_type(source)} to {t.format_type(target)}")


def _io_cast(source: int, target: int, ctx: FormatContext) -> Callable[[Any], Any]:
    """A cast through text: source's output function, then target's input function."""
    if source == t.BPCHAR_OID:
        out: Callable[[Any], str] = strings.bpchar_trimmed
    else:
        out = codecs.text_encoder(source, ctx)
    if target in STRING_OIDS:
        return out if target != t.NAME_OID else (lambda v: strings.truncate_name(out(v)))
    parse = codecs.text_decoder(target, -1, ctx)
    return lambda v: parse(out(v))


def _array_cast(elem_fn: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
    def convert(value: list[Any]) -> list[Any]:
        return [None if x is None else (convert(x) if isinstance(x, list) else elem_fn(x)) for x in value]

    return convert


def cast_function(
    source: int,
    target: int,
    context: CastContext = CastContext.EXPLICIT,
    typmod: int = -1,
    ctx: FormatContext | None = None,
) -> Callable[[Any], Any] | None:
    """A closure converting a non-NULL value of `source` to `target` (then applying `typmod`).

    Returns None if no cast is allowed in `context` (the binder then reports 42846/42883);
    an identity conversion is returned as a function too (never None for an allowed cast).
    """
    found = cast_context(source, target)
    if found is None or found > context:
        return None
    ctx = ctx or DEFAULT_CONTEXT
    if target == t.BIT_OID and source in (t.INT4_OID, t.INT8_OID):
        width = typmod if typmod > 0 else 1  # bitfromint4(value, typmod): the typmod is the width
        return lambda v: bitstrings.bits_from_int(v, width)
    base = _conversion(source, target, ctx)
    coerce = codecs.typmod_coercer(target, typmod, explicit=context == CastContext.EXPLICIT)
    if base is None and coerce is None:
        return _identity
    if base is None:
        return coerce
    if coerce is None:
        return base
    first = base
    return lambda v: coerce(first(v))


def _identity(value: Any) -> Any:
    return value


def _conversion(source: int, target: int, ctx: FormatContext) -> Callable[[Any], Any] | None:
    if source == target:
        return None
    if source == t.UNKNOWN_OID:
        return codecs.text_decoder(target, -1, ctx)
    row = _PG_CAST.get((source, target))
    if row is not None:
        _context, _func, method = row
        if method == "b":
            if source == t.CIDR_OID and target == t.INET_OID:
                return network.to_inet
            if source in (t.TEXT_OID, t.VARCHAR_OID, t.PG_NODE_TREE_OID) or source in _OIDLIKE:
                if target in (t.INT4_OID,) and source in _OIDLIKE:
                    return lambda v: v - 2**32 if v >= 2**31 else v
                if target in _OIDLIKE and source == t.INT4_OID:
                    return _to_oid
                return None
            if source == t.INT4_OID and target in _OIDLIKE:
                return _to_oid
            return None
        if (source, target) in ((t.TEXT_OID, t.REGCLASS_OID), (t.VARCHAR_OID, t.REGCLASS_OID)):
            raise FeatureNotSupported("regclass casts are resolved by the catalog")
        return _function_cast(source, target, ctx)
    source_elem, target_elem = t.element_of(source), t.element_of(target)
    if source_elem and target_elem:
        inner = _conversion(source_elem, target_elem, ctx)
        return None if inner is None else _array_cast(inner)
    return _io_cast(source, target, ctx)


_SESSION_DEPENDENT_OUTPUT = frozenset({t.TIMESTAMPTZ_OID, t.TIMESTAMP_OID, t.DATE_OID, t.INTERVAL_OID, t.FLOAT4_OID,
                                       t.FLOAT8_OID, t.BYTEA_OID, t.TIMETZ_OID})
_SESSION_DEPENDENT_INPUT = frozenset({t.TIMESTAMPTZ_OID, t.TIMESTAMP_OID, t.DATE_OID, t.TIMETZ_OID})


def cast_depends_on_session(source: int, target: int) -> bool:
    """Does the result of this cast depend on TimeZone / DateStyle / IntervalStyle /
    extra_float_digits / bytea_output? Then build the closure with the session's FormatContext
    at execution time (cast_function(..., ctx=...)) rather than once in a cached plan."""
    source_elem, target_elem = t.element_of(source), t.element_of(target)
    if source_elem and target_elem:
        return cast_depends_on_session(source_elem, target_elem)
    if (source, target) in _DATETIME_PAIRS:
        return True
    if source == t.UNKNOWN_OID or source in STRING_OIDS:
        return (target_elem or target) in _SESSION_DEPENDENT_INPUT
    if target in STRING_OIDS:
        return (source_elem or source) in _SESSION_DEPENDENT_OUTPUT
    return False


_DATETIME_PAIRS = frozenset({
    (t.DATE_OID, t.TIMESTAMPTZ_OID), (t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID), (t.TIMESTAMPTZ_OID, t.DATE_OID),
    (t.TIMESTAMPTZ_OID, t.TIME_OID), (t.TIMESTAMPTZ_OID, t.TIMESTAMP_OID), (t.TIMESTAMPTZ_OID, t.TIMETZ_OID),
    (t.TIME_OID, t.TIMETZ_OID),
})


def cast(value: Any, source: int, target: int, typmod: int = -1, explicit: bool = True,
         ctx: FormatContext | None = None) -> Any:
    """Convert one value (None stays None); 42846 if the cast does not exist in that context."""
    if value is None:
        return None
    context = CastContext.EXPLICIT if explicit else CastContext.ASSIGNMENT
    fn = cast_function(source, target, context, typmod, ctx)
    if fn is None:
        raise CannotCoerce(f"cannot cast type {t.format_type(source)} to {t.format_type(target, typmod)}")
    return fn(value)
