"""Comparison operators (= <> < <= > >=) for every ordered type, and per-type sort keys.

Owns PostgreSQL's ordering rules where Python's differ: float and numeric NaN equals NaN and
sorts above everything; character(n) ignores trailing blanks; text sorts bytewise (C
collation = code point order); arrays compare element-wise with NULL elements after all
values; date/timestamp/timestamptz compare across types (timestamp vs timestamptz in the
session TimeZone); jsonb orders object > array > boolean > number > string > null.

    sort_key(oid) -> key function for sorted()/btree keys, comparator(oid) -> cmp(a, b)
Not the index structures (access.btree).
"""

from __future__ import annotations

import datetime
import operator as op
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pgaurora.catalog.builtins.registry import operator
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.jsonvalues import jsonb_value_cmp
from pgaurora.datatypes.values import DEFAULT_CONTEXT, Jsonb

_PY_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": op.eq, "<>": op.ne, "<": op.lt, "<=": op.le, ">": op.gt, ">=": op.ge,
}
_NEGATORS = {"=": "<>", "<>": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_COMMUTATORS = {"=": "=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _from_cmp(cmp: Callable[[Any, Any], int]) -> dict[str, Callable[[Any, Any], bool]]:
    return {
        "=": lambda a, b: cmp(a, b) == 0, "<>": lambda a, b: cmp(a, b) != 0,
        "<": lambda a, b: cmp(a, b) < 0, "<=": lambda a, b: cmp(a, b) <= 0,
        ">": lambda a, b: cmp(a, b) > 0, ">=": lambda a, b: cmp(a, b) >= 0,
    }


def float_cmp(a: float, b: float) -> int:
    if a != a:
        return 0 if b != b else 1
    if b != b:
        return -1
    return (a > b) - (a < b)


def numeric_cmp(a: Decimal, b: Decimal) -> int:
    if a.is_nan():
        return 0 if b.is_nan() else 1
    if b.is_nan():
        return -1
    return (a > b) - (a < b)


def _float_ops() -> dict[str, Callable[[float, float], bool]]:
    def eq(a: float, b: float) -> bool:
        return a == b or (a != a and b != b)

    def ne(a: float, b: float) -> bool:
        return not (a == b or (a != a and b != b))

    def lt(a: float, b: float) -> bool:
        return a < b or (b != b and a == a)

    def le(a: float, b: float) -> bool:
        return a <= b or b != b

    def gt(a: float, b: float) -> bool:
        return a > b or (a != a and b == b)

    def ge(a: float, b: float) -> bool:
        return a >= b or a != a

    return {"=": eq, "<>": ne, "<": lt, "<=": le, ">": gt, ">=": ge}


def bpchar_cmp(a: str, b: str) -> int:
    a, b = a.rstrip(" "), b.rstrip(" ")
    return (a > b) - (a < b)


def jsonb_cmp(a: Jsonb, b: Jsonb) -> int:
    return jsonb_value_cmp(a.value, b.value)


def _plain_cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def array_cmp_factory(elem_cmp: Callable[[Any, Any], int]) -> Callable[[list[Any], list[Any]], int]:
    """array_cmp(): element by element (NULL above any value), then by length/dimensions."""

    def flat(value: list[Any]) -> list[Any]:
        if value and isinstance(value[0], list):
            out: list[Any] = []
            for sub in value:
                out.extend(flat(sub))
            return out
        return value

    def cmp(a: list[Any], b: list[Any]) -> int:
        fa, fb = flat(a), flat(b)
        for x, y in zip(fa, fb, strict=False):
            if x is None or y is None:
                if x is None and y is None:
                    continue
                return 1 if x is None else -1
            c = elem_cmp(x, y)
            if c:
                return c
        return (len(fa) > len(fb)) - (len(fa) < len(fb))

    return cmp


def comparator(oid: int) -> Callable[[Any, Any], int]:
    """A three-way comparison function for non-NULL values of `oid`."""
    if oid in (t.FLOAT4_OID, t.FLOAT8_OID):
        return float_cmp
    if oid == t.NUMERIC_OID:
        return numeric_cmp
    if oid == t.BPCHAR_OID:
        return bpchar_cmp
    if oid == t.JSONB_OID:
        return jsonb_cmp
    elem = t.element_of(oid)
    if elem:
        return array_cmp_factory(comparator(elem))
    return _plain_cmp


def sort_key(oid: int) -> Callable[[Any], Any]:
    """A key function for non-NULL values of `oid` that orders as PostgreSQL's btree does and is
    hashable with PostgreSQL's equality (so it also serves GROUP BY / DISTINCT / hash joins):
    NaN equals NaN and sorts last, character(n) ignores trailing blanks, arrays compare element-wise."""
    if oid in (t.FLOAT4_OID, t.FLOAT8_OID):
        return _float_key
    if oid == t.NUMERIC_OID:
        return _numeric_key
    if oid == t.BPCHAR_OID:
        return _bpchar_key
    if oid == t.TIMETZ_OID:
        return _timetz_key
    elem = t.element_of(oid)
    if elem:
        inner = sort_key(elem)

        def array_key(value: list[Any]) -> tuple[Any, ...]:
            flat = _flatten(value)
            return tuple((1,) if x is None else (0, inner(x)) for x in flat)

        return array_key
    return _identity


def _float_key(value: float) -> tuple[bool, float]:
    return (value != value, 0.0 if value != value else value)


def _numeric_key(value: Decimal) -> tuple[bool, Decimal]:
    return (True, Decimal(0)) if value.is_nan() else (False, value)


def _bpchar_key(value: str) -> str:
    return value.rstrip(" ")


def _timetz_key(value: datetime.time) -> tuple[int, float]:
    offset = value.utcoffset() or datetime.timedelta(0)
    micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    return (micros - int(offset.total_seconds()) * 1_000_000, -offset.total_seconds())


def _flatten(value: list[Any]) -> list[Any]:
    if value and isinstance(value[0], list):
        out: list[Any] = []
        for sub in value:
            out.extend(_flatten(sub))
        return out
    return value


def _identity(value: Any) -> Any:
    return value


def _register(oids: tuple[int, ...] | list[int], ops: dict[str, Callable[[Any, Any], bool]],
              left: int | None = None, right: int | None = None, needs_context: bool = False) -> None:
    for oid in oids:
        lt = left if left is not None else oid
        rt = right if right is not None else oid
        for name, fn in ops.items():
            operator(name, lt, rt, t.BOOL_OID, fn, commutator=_COMMUTATORS[name], negator=_NEGATORS[name],
                     needs_context=needs_context)


def _datetime_cross() -> None:
    def midnight(d: datetime.date) -> datetime.datetime:
        return datetime.datetime(d.year, d.month, d.day)

    def as_utc(ctx: Any, value: datetime.datetime) -> datetime.datetime:
        fmt = getattr(ctx, "format_context", None) or DEFAULT_CONTEXT
        return value.replace(tzinfo=fmt.tzinfo)

    def date_utc(ctx: Any, value: datetime.date) -> datetime.datetime:
        return as_utc(ctx, midnight(value))

    for name, cmp in _PY_OPS.items():
        kw = {"commutator": _COMMUTATORS[name], "negator": _NEGATORS[name]}
        operator(name, t.DATE_OID, t.TIMESTAMP_OID, t.BOOL_OID, lambda a, b, c=cmp: c(midnight(a), b), **kw)
        operator(name, t.TIMESTAMP_OID, t.DATE_OID, t.BOOL_OID, lambda a, b, c=cmp: c(a, midnight(b)), **kw)
        operator(name, t.DATE_OID, t.TIMESTAMPTZ_OID, t.BOOL_OID,
                 lambda ctx, a, b, c=cmp: c(date_utc(ctx, a), b), needs_context=True, volatility="s", **kw)
        operator(name, t.TIMESTAMPTZ_OID, t.DATE_OID, t.BOOL_OID,
                 lambda ctx, a, b, c=cmp: c(a, date_utc(ctx, b)), needs_context=True, volatility="s", **kw)
        operator(name, t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID, t.BOOL_OID,
                 lambda ctx, a, b, c=cmp: c(as_utc(ctx, a), b), needs_context=True, volatility="s", **kw)
        operator(name, t.TIMESTAMPTZ_OID, t.TIMESTAMP_OID, t.BOOL_OID,
                 lambda ctx, a, b, c=cmp: c(a, as_utc(ctx, b)), needs_context=True, volatility="s", **kw)


def _register_all() -> None:
    ints = (t.INT2_OID, t.INT4_OID, t.INT8_OID)
    for left in ints:
        for right in ints:
            _register([left], _PY_OPS, left, right)
    floats = _float_ops()
    for left in (t.FLOAT4_OID, t.FLOAT8_OID):
        for right in (t.FLOAT4_OID, t.FLOAT8_OID):
            _register([left], floats, left, right)
    _register([t.NUMERIC_OID], _from_cmp(numeric_cmp))
    _register([t.BPCHAR_OID], _from_cmp(bpchar_cmp))
    _register([t.TEXT_OID, t.NAME_OID, t.BOOL_OID, t.BYTEA_OID, t.CHAR_OID, t.OID_OID, t.DATE_OID, t.TIME_OID,
               t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID, t.INTERVAL_OID, t.UUID_OID, t.PG_LSN_OID, t.TID_OID,
               t.XID8_OID, t.OIDVECTOR_OID, t.INET_OID], _PY_OPS)
    _register([t.NAME_OID], _PY_OPS, t.NAME_OID, t.TEXT_OID)
    _register([t.TEXT_OID], _PY_OPS, t.TEXT_OID, t.NAME_OID)
    _register([t.TIMETZ_OID], _from_cmp(_timetz_cmp))
    for name in ("=", "<>"):
        operator(name, t.XID_OID, t.XID_OID, t.BOOL_OID, _PY_OPS[name])
        operator(name, t.XID_OID, t.INT4_OID, t.BOOL_OID, _PY_OPS[name])
    operator("=", t.CID_OID, t.CID_OID, t.BOOL_OID, op.eq)
    _register([t.JSONB_OID], _from_cmp(jsonb_cmp))
    _register([t.ANYARRAY_OID], _from_cmp(_array_cmp_generic))
    _datetime_cross()


def _timetz_cmp(a: datetime.time, b: datetime.time) -> int:
    """timetz_cmp: by UTC-adjusted time, then by zone (more westerly... ties broken by offset)."""
    def utc_micros(v: datetime.time) -> int:
        offset = v.utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        return ((v.hour * 60 + v.minute) * 60 + v.second - seconds) * 1_000_000 + v.microsecond

    ua, ub = utc_micros(a), utc_micros(b)
    if ua != ub:
        return (ua > ub) - (ua < ub)
    oa = a.utcoffset() or datetime.timedelta(0)
    ob = b.utcoffset() or datetime.timedelta(0)
    return (oa < ob) - (oa > ob)


def _generic_elem_cmp(a: Any, b: Any) -> int:
    if isinstance(a, float) or isinstance(b, float):
        return float_cmp(float(a), float(b))
    if isinstance(a, Decimal):
        return numeric_cmp(a, b if isinstance(b, Decimal) else Decimal(b))
    if isinstance(a, Jsonb):
        return jsonb_cmp(a, b)
    if isinstance(a, list):
        return _array_cmp_generic(a, b)
    return (a > b) - (a < b)


_array_cmp_generic = array_cmp_factory(_generic_elem_cmp)

_register_all()
