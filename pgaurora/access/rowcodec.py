"""Row and key values as bytes: msgpack (msgspec) with extensions for SQL types msgpack lacks.

Owns the byte form of a row (a tuple of datatypes values, see contracts.md) inside heap tuples
and B-tree entries. Not the tuple header (access.heaptuple) and not type semantics (datatypes).

Decoding is the scan hot path, so rows whose values are all int/str/float/bool/None/bytes are
encoded and decoded entirely in C; other values go through one msgpack extension each:

    ext 1 Decimal (text)      ext 2 date (ISO)      ext 3 datetime (ISO, naive or aware)
    ext 4 time (ISO)          ext 5 UUID (16 bytes) ext 6 Interval (<iiq months, days, usecs)
    ext 7 Jsonb (msgpack of its value)              ext 8 int beyond 64 bits (text)
    ext 9 list with values needing extensions (msgpack of the converted list)
    ext 10 'infinity' / '-infinity' of date, timestamp, timestamptz (one byte: which sentinel)
    ext 11 a value of an enum type (msgpack [type oid, label]: datatypes.enums)
    ext 12 a value of a composite type (datatypes.records.CompositeValue: msgpack of the converted
           list); another tuple (a tid) is stored as a list
    ext 13 a range (datatypes.ranges.Range: msgpack [empty, lower_inc, upper_inc, lower, upper])
"""

from __future__ import annotations

import datetime
import struct
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from pgaurora.datatypes import datetimes, network
from pgaurora.datatypes.enums import EnumValue, enum_class
from pgaurora.datatypes.network import Inet
from pgaurora.datatypes.ranges import Range
from pgaurora.datatypes.records import CompositeValue
from pgaurora.datatypes.values import Interval, Jsonb
from pgaurora.errors import DataCorrupted

_Ext = msgspec.msgpack.Ext
_INTERVAL = struct.Struct("<iiq")
_SIMPLE = frozenset((int, str, float, bool, type(None), bytes))
_INT64_MIN = -(1 << 63)
_UINT64_MAX = (1 << 64) - 1

_encode = msgspec.msgpack.Encoder().encode


def _convert_list(values: list[Any]) -> Any:
    if all(type(v) in _SIMPLE for v in values):
        return values
    return _Ext(9, _encode([_to_wire(v) for v in values]))


def _convert_int(v: int) -> Any:
    if _INT64_MIN <= v <= _UINT64_MAX:
        return v
    return _Ext(8, str(v).encode())


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    Decimal: lambda v: _Ext(1, str(v).encode()),
    datetime.date: lambda v: _Ext(2, v.isoformat().encode()),
    datetime.datetime: lambda v: _Ext(3, v.isoformat().encode()),
    datetime.time: lambda v: _Ext(4, v.isoformat().encode()),
    uuid.UUID: lambda v: _Ext(5, v.bytes),
    Inet: lambda v: _Ext(14, _encode(list(network.pack(v)))),
    Interval: lambda v: _Ext(6, _INTERVAL.pack(v.months, v.days, v.microseconds)),
    Jsonb: lambda v: _Ext(7, _encode(_to_wire(v.value))),
    list: _convert_list,
    int: _convert_int,
    dict: lambda v: {k: _to_wire(x) for k, x in v.items()},
    tuple: lambda v: [_to_wire(x) for x in v],
    CompositeValue: lambda v: _Ext(12, _encode([_to_wire(x) for x in v])),
    Range: lambda v: _Ext(13, _encode([v.empty, v.lower_inc, v.upper_inc, _to_wire(v.lower), _to_wire(v.upper)])),
}


_INFINITIES = (
    datetimes.DATE_INFINITY,
    datetimes.DATE_NINFINITY,
    datetimes.TIMESTAMP_INFINITY,
    datetimes.TIMESTAMP_NINFINITY,
    datetimes.TIMESTAMPTZ_INFINITY,
    datetimes.TIMESTAMPTZ_NINFINITY,
)


def _convert_infinity(v: Any) -> Any:
    for code, sentinel in enumerate(_INFINITIES):
        if v == sentinel and (getattr(v, "tzinfo", None) is None) == (getattr(sentinel, "tzinfo", None) is None):
            return _Ext(10, bytes((code,)))
    raise TypeError(f"cannot store {v!r}")


for _sentinel in _INFINITIES:
    _CONVERTERS[type(_sentinel)] = _convert_infinity


def _to_wire(v: Any) -> Any:
    t = type(v)
    if t in _SIMPLE and t is not int:
        return v
    conv = _CONVERTERS.get(t)
    if conv is None:
        if isinstance(v, EnumValue):
            return _Ext(11, _encode((v.type_oid, str(v))))
        for base, fn in _CONVERTERS.items():
            if isinstance(v, base):
                return fn(v)
        raise TypeError(f"cannot store a value of type {t.__name__}")
    return conv(v)


def encode_row(row: tuple[Any, ...] | list[Any]) -> bytes:
    """The bytes of a row (or key)."""
    for v in row:
        if type(v) not in _SIMPLE:
            break
    else:
        try:
            return _encode(row)
        except OverflowError:
            pass
    return _encode([_to_wire(v) for v in row])


def _from_ext(code: int, data: memoryview) -> Any:
    if code == 1:
        return Decimal(bytes(data).decode())
    if code == 2:
        return datetime.date.fromisoformat(bytes(data).decode())
    if code == 3:
        return datetime.datetime.fromisoformat(bytes(data).decode())
    if code == 4:
        return datetime.time.fromisoformat(bytes(data).decode())
    if code == 5:
        return uuid.UUID(bytes=bytes(data))
    if code == 6:
        return Interval(*_INTERVAL.unpack(data))
    if code == 7:
        return Jsonb(_decode_any(data))
    if code == 8:
        return int(bytes(data).decode())
    if code == 9:
        return _decode_any(data)
    if code == 10:
        return _INFINITIES[data[0]]
    if code == 11:
        oid, label = _decode_any(data)
        return enum_class(oid)(label)
    if code == 12:
        return CompositeValue(_decode_any(data))
    if code == 13:
        empty, lower_inc, upper_inc, lower, upper = _decode_any(data)
        return Range(lower, upper, lower_inc, upper_inc, empty)
    if code == 14:
        packed, prefix, is_cidr = _decode_any(data)
        return network.unpack(packed, prefix, is_cidr)
    raise DataCorrupted(f"unknown value extension {code} in a stored row")


_decode_any = msgspec.msgpack.Decoder(ext_hook=_from_ext).decode
_decode_tuple = msgspec.msgpack.Decoder(tuple, ext_hook=_from_ext).decode


def decode_row(data: bytes | memoryview) -> tuple[Any, ...]:
    """The row encoded by encode_row, as a tuple."""
    return _decode_tuple(data)


decode_value = _decode_any
