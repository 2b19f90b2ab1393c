"""Per-oid codec closures: text and binary encoders/decoders and typmod coercers.

Owns the table that maps each type oid to its typinput/typoutput/typreceive/typsend in
Python, and the builders that hand callers one closure per column (dict lookups happen once,
when a portal or plan is built, never per row):

    enc = text_encoder(INT4_OID, ctx)        # -> str       (int4: plain str())
    dec = text_decoder(NUMERIC_OID, typmod)   # -> Decimal   (applies numeric(p,s))
    send = binary_encoder(TIMESTAMPTZ_OID)    # -> bytes
    recv = binary_decoder(UUID_OID)           # -> uuid.UUID

Arrays are built from their element codecs. Not casts (casts) and not the type registry
(typeinfo).
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pgaurora.datatypes import (
    arrays,
    bitstrings,
    datetimes,
    intervals,
    jsonvalues,
    network,
    numbers,
    ranges,
    records,
    scalars,
    strings,
)
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.values import DEFAULT_CONTEXT, FormatContext
from pgaurora.errors import FeatureNotSupported, InvalidBinaryRepresentation

Encoder = Callable[[Any], str]
Decoder = Callable[[str], Any]
BinaryEncoder = Callable[[Any], bytes]
BinaryDecoder = Callable[[bytes], Any]

_TEXTLIKE = (t.TEXT_OID, t.VARCHAR_OID, t.BPCHAR_OID, t.NAME_OID, t.UNKNOWN_OID, t.PG_NODE_TREE_OID,
             t.REFCURSOR_OID, t.CSTRING_OID, t.ACLITEM_OID, t.JSON_OID)
_OIDLIKE = (t.OID_OID, t.REGPROC_OID, t.REGPROCEDURE_OID, t.REGOPER_OID, t.REGOPERATOR_OID,
            t.REGCLASS_OID, t.REGTYPE_OID, t.REGNAMESPACE_OID, t.REGROLE_OID, 4191, 3734, 3769)


def _identity(value: Any) -> Any:
    return value


def _utf8(value: str) -> bytes:
    return value.encode("utf-8")


def _void_out(value: Any) -> str:
    return ""


def _struct_send(fmt: struct.Struct) -> BinaryEncoder:
    pack = fmt.pack
    return lambda value: pack(value)


def _struct_recv(fmt: struct.Struct, name: str) -> BinaryDecoder:
    unpack = fmt.unpack
    size = fmt.size

    def recv(data: bytes) -> Any:
        if len(data) != size:
            raise InvalidBinaryRepresentation(f"incorrect binary data format in {name}" if len(data) > size
                                              else "insufficient data left in message")
        return unpack(data)[0]

    return recv


def _bool_send(value: bool) -> bytes:
    return b"\x01" if value else b"\x00"


def _bool_recv(data: bytes) -> bool:
    if len(data) != 1:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    return data[0] != 0


def _float4_recv(data: bytes) -> float:
    if len(data) != 4:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    return float(numbers.FLOAT4_STRUCT.unpack(data)[0])


def _vector_send(elem_oid: int, fmt: struct.Struct) -> BinaryEncoder:
    def send(value: list[int]) -> bytes:
        head = struct.pack(">iiIii", 1, 0, elem_oid, len(value), 0)
        return head + b"".join(struct.pack(">i", fmt.size) + fmt.pack(v) for v in value)

    return send


def _vector_recv(elem_recv: BinaryDecoder) -> BinaryDecoder:
    return lambda data: arrays.array_recv(data, 0, elem_recv)


# oid -> (text output builder given ctx, text input given ctx, send, recv)
_TEXT_OUT: dict[int, Callable[[FormatContext], Encoder]] = {
    t.BOOL_OID: lambda ctx: scalars.format_bool,
    t.INT2_OID: lambda ctx: str, t.INT4_OID: lambda ctx: str, t.INT8_OID: lambda ctx: str,
    t.XID_OID: lambda ctx: str, t.CID_OID: lambda ctx: str, t.XID8_OID: lambda ctx: str,
    t.FLOAT4_OID: lambda ctx: (lambda v: numbers.format_float(v, True, ctx.extra_float_digits)),
    t.FLOAT8_OID: lambda ctx: (numbers.format_float8 if ctx.extra_float_digits > 0
                               else (lambda v: numbers.format_float(v, False, ctx.extra_float_digits))),
    t.NUMERIC_OID: lambda ctx: numbers.format_numeric,
    t.CHAR_OID: lambda ctx: strings.format_char,
    t.BYTEA_OID: lambda ctx: (strings.format_bytea_escape if ctx.bytea_output == "escape"
                              else strings.format_bytea_hex),
    t.DATE_OID: datetimes.date_formatter,
    t.TIME_OID: lambda ctx: datetimes.format_time,
    t.TIMETZ_OID: lambda ctx: datetimes.format_timetz,
    t.TIMESTAMP_OID: datetimes.timestamp_formatter,
    t.TIMESTAMPTZ_OID: datetimes.timestamptz_formatter,
    t.INTERVAL_OID: lambda ctx: (lambda v: intervals.format_interval(v, ctx.intervalstyle)),
    t.UUID_OID: lambda ctx: str,
    t.INET_OID: lambda ctx: network.format_inet,
    t.CIDR_OID: lambda ctx: network.format_inet,
    t.JSONB_OID: lambda ctx: jsonvalues.format_jsonb,
    t.TID_OID: lambda ctx: scalars.format_tid,
    t.INT2VECTOR_OID: lambda ctx: scalars.format_vector,
    t.OIDVECTOR_OID: lambda ctx: scalars.format_vector,
    t.PG_LSN_OID: lambda ctx: scalars.format_pg_lsn,
    t.VOID_OID: lambda ctx: _void_out,
}
for _oid in _TEXTLIKE:
    _TEXT_OUT[_oid] = lambda ctx: _identity
for _oid in _OIDLIKE:
    _TEXT_OUT[_oid] = lambda ctx: str

_TEXT_IN: dict[int, Callable[[FormatContext], Decoder]] = {
    t.BOOL_OID: lambda ctx: scalars.parse_bool,
    t.INT2_OID: lambda ctx: numbers.parse_int2,
    t.INT4_OID: lambda ctx: numbers.parse_int4,
    t.INT8_OID: lambda ctx: numbers.parse_int8,
    t.FLOAT4_OID: lambda ctx: numbers.parse_float4,
    t.FLOAT8_OID: lambda ctx: numbers.parse_float8,
    t.NUMERIC_OID: lambda ctx: numbers.parse_numeric,
    t.CHAR_OID: lambda ctx: strings.parse_char,
    t.NAME_OID: lambda ctx: strings.truncate_name,
    t.BYTEA_OID: lambda ctx: strings.parse_bytea,
    t.DATE_OID: lambda ctx: (lambda s: datetimes.parse_date(s, ctx)),
    t.TIME_OID: lambda ctx: (lambda s: datetimes.parse_time(s, ctx)),
    t.TIMETZ_OID: lambda ctx: (lambda s: datetimes.parse_timetz(s, ctx)),
    t.TIMESTAMP_OID: lambda ctx: (lambda s: datetimes.parse_timestamp(s, ctx)),
    t.TIMESTAMPTZ_OID: lambda ctx: (lambda s: datetimes.parse_timestamptz(s, ctx)),
    t.INTERVAL_OID: lambda ctx: intervals.parse_interval,
    t.UUID_OID: lambda ctx: scalars.parse_uuid,
    t.INET_OID: lambda ctx: network.parse_inet,
    t.CIDR_OID: lambda ctx: network.parse_cidr,
    t.JSON_OID: lambda ctx: jsonvalues.parse_json,
    t.JSONB_OID: lambda ctx: jsonvalues.parse_jsonb,
    t.TID_OID: lambda ctx: scalars.parse_tid,
    t.INT2VECTOR_OID: lambda ctx: scalars.vector_parser("smallint", numbers.INT2_MIN, numbers.INT2_MAX),
    t.OIDVECTOR_OID: lambda ctx: scalars.vector_parser("oid", -(2**31), 2**32 - 1, 0xFFFFFFFF),
    t.PG_LSN_OID: lambda ctx: scalars.parse_pg_lsn,
    t.XID_OID: lambda ctx: scalars.unsigned_parser("xid", 32),
    t.CID_OID: lambda ctx: scalars.unsigned_parser("cid", 32),
    t.XID8_OID: lambda ctx: scalars.unsigned_parser("xid8", 64),
}
for _oid in _TEXTLIKE:
    _TEXT_IN.setdefault(_oid, lambda ctx: _identity)
for _oid in _OIDLIKE:
    _TEXT_IN[_oid] = lambda ctx: numbers.parse_oid

_SEND: dict[int, BinaryEncoder] = {
    t.BOOL_OID: _bool_send,
    t.INT2_OID: _struct_send(numbers.INT2_STRUCT),
    t.INT4_OID: _struct_send(numbers.INT4_STRUCT),
    t.INT8_OID: _struct_send(numbers.INT8_STRUCT),
    t.XID_OID: _struct_send(numbers.UINT4_STRUCT),
    t.CID_OID: _struct_send(numbers.UINT4_STRUCT),
    t.XID8_OID: _struct_send(struct.Struct(">Q")),
    t.PG_LSN_OID: _struct_send(struct.Struct(">Q")),
    t.FLOAT4_OID: _struct_send(numbers.FLOAT4_STRUCT),
    t.FLOAT8_OID: _struct_send(numbers.FLOAT8_STRUCT),
    t.NUMERIC_OID: numbers.numeric_send,
    t.CHAR_OID: lambda v: bytes([ord(v) & 0xFF]) if v else b"",
    t.BYTEA_OID: bytes,
    t.DATE_OID: datetimes.date_send,
    t.TIME_OID: datetimes.time_send,
    t.TIMETZ_OID: datetimes.timetz_send,
    t.TIMESTAMP_OID: datetimes.timestamp_send,
    t.TIMESTAMPTZ_OID: datetimes.timestamp_send,
    t.INTERVAL_OID: intervals.interval_send,
    t.UUID_OID: lambda v: v.bytes,
    t.INET_OID: network.inet_send,
    t.CIDR_OID: network.inet_send,
    t.JSONB_OID: jsonvalues.jsonb_send,
    t.TID_OID: scalars.tid_send,
    t.INT2VECTOR_OID: _vector_send(t.INT2_OID, numbers.INT2_STRUCT),
    t.OIDVECTOR_OID: _vector_send(t.OID_OID, numbers.UINT4_STRUCT),
    t.VOID_OID: lambda v: b"",
}
for _oid in _TEXTLIKE:
    _SEND[_oid] = _utf8
for _oid in _OIDLIKE:
    _SEND[_oid] = _struct_send(numbers.UINT4_STRUCT)

_RECV: dict[int, BinaryDecoder] = {
    t.BOOL_OID: _bool_recv,
    t.INT2_OID: _struct_recv(numbers.INT2_STRUCT, "smallint"),
    t.INT4_OID: _struct_recv(numbers.INT4_STRUCT, "integer"),
    t.INT8_OID: _struct_recv(numbers.INT8_STRUCT, "bigint"),
    t.XID_OID: _struct_recv(numbers.UINT4_STRUCT, "xid"),
    t.CID_OID: _struct_recv(numbers.UINT4_STRUCT, "cid"),
    t.XID8_OID: _struct_recv(struct.Struct(">Q"), "xid8"),
    t.PG_LSN_OID: _struct_recv(struct.Struct(">Q"), "pg_lsn"),
    t.FLOAT4_OID: _float4_recv,
    t.FLOAT8_OID: _struct_recv(numbers.FLOAT8_STRUCT, "double precision"),
    t.NUMERIC_OID: numbers.numeric_recv,
    t.CHAR_OID: lambda d: chr(d[0]) if d else "",
    t.BYTEA_OID: bytes,
    t.DATE_OID: datetimes.date_recv,
    t.TIME_OID: datetimes.time_recv,
    t.TIMETZ_OID: datetimes.timetz_recv,
    t.TIMESTAMP_OID: datetimes.timestamp_recv,
    t.TIMESTAMPTZ_OID: datetimes.timestamptz_recv,
    t.INTERVAL_OID: intervals.interval_recv,
    t.UUID_OID: scalars.uuid_recv,
    t.INET_OID: network.inet_recv,
    t.CIDR_OID: lambda d: network.inet_recv(d, True),
    t.JSON_OID: lambda d: jsonvalues.parse_json(strings.decode_utf8(d)),
    t.JSONB_OID: jsonvalues.jsonb_recv,
    t.TID_OID: scalars.tid_recv,
    t.INT2VECTOR_OID: _vector_recv(_struct_recv(numbers.INT2_STRUCT, "smallint")),
    t.OIDVECTOR_OID: _vector_recv(_struct_recv(numbers.UINT4_STRUCT, "oid")),
}
for _oid in _TEXTLIKE:
    _RECV.setdefault(_oid, strings.decode_utf8)
for _oid in _OIDLIKE:
    _RECV[_oid] = _struct_recv(numbers.UINT4_STRUCT, "oid")


def _regtype_out(value: int) -> str:
    """regtypeout for built-in types (user-defined types print as their oid until the catalog
    supplies names)."""
    if value == 0:
        return "-"
    return t.format_type(value) if t.find(value) is not None else str(value)


def _regtype_in(text: str) -> int:
    stripped = text.strip()
    if stripped.isdigit():
        return numbers.parse_oid(stripped)
    if stripped == "-":
        return 0
    return t.lookup_name(stripped.strip('"'), user_types=True).oid


_TEXT_OUT[t.REGTYPE_OID] = lambda ctx: _regtype_out
_TEXT_IN[t.REGTYPE_OID] = lambda ctx: _regtype_in
for _oid in (t.BIT_OID, t.VARBIT_OID):
    _TEXT_OUT[_oid] = lambda ctx: _identity
    _TEXT_IN[_oid] = lambda ctx: bitstrings.parse_bits
    _SEND[_oid] = bitstrings.bit_send
    _RECV[_oid] = bitstrings.bit_recv


def _untyped_field(value: Any) -> str:
    """A field of a record whose types the server did not keep (a built-in's row): its Python text."""
    if isinstance(value, bool):
        return "t" if value else "f"
    return value if isinstance(value, str) else str(value)


_RECORD_ARRAY_OID = 2287


def _record_out(ctx: FormatContext) -> Encoder:
    def record_out(value: Any) -> str:
        if isinstance(value, str):
            return value  # (a record already in its text form)
        types = getattr(value, "types", None)
        if types is None:
            return records.format_record(value, [_untyped_field] * len(value))
        return records.format_record(value, [text_encoder(oid, ctx) for oid in types])
    return record_out


def _record_send(value: Any) -> bytes:
    """record_send: the number of fields, then each field's type oid and its binary value."""
    types = getattr(value, "types", None)
    parts = [struct.pack(">i", len(value))]
    for at, item in enumerate(value):
        oid = types[at] if types is not None else t.TEXT_OID
        if item is None:
            parts.append(struct.pack(">Ii", oid, -1))
            continue
        data = binary_encoder(oid)(item) if types is not None else _untyped_field(item).encode()
        parts.append(struct.pack(">Ii", oid, len(data)))
        parts.append(data)
    return b"".join(parts)


_TEXT_OUT[t.RECORD_OID] = _record_out
_SEND[t.RECORD_OID] = _record_send
# record[] (a pseudo-type's array, which typeinfo does not count as an array type)
_TEXT_OUT[_RECORD_ARRAY_OID] = lambda ctx: (lambda out: lambda value: arrays.format_array(value, out, ","))(
    _record_out(ctx))
_SEND[_RECORD_ARRAY_OID] = lambda value: arrays.array_send(value, t.RECORD_OID, _record_send)


def _register_ranges() -> None:
    """The built-in range types' I/O, from their element types' (datatypes.ranges)."""
    for oid, (element, _) in ranges.RANGE_TYPES.items():
        def text_out(ctx: FormatContext, element: int = element) -> Encoder:
            out = text_encoder(element, ctx)
            return lambda value: ranges.format_range(value, out)

        def text_in(ctx: FormatContext, element: int = element, oid: int = oid) -> Decoder:
            parse = text_decoder(element, -1, ctx)
            return lambda text: ranges.parse_range(text, oid, parse)

        send = binary_encoder(element)
        recv = binary_decoder(element)
        _TEXT_OUT[oid] = text_out
        _TEXT_IN[oid] = text_in
        _SEND[oid] = lambda value, send=send: ranges.range_send(value, send)  # type: ignore[misc]
        _RECV[oid] = lambda data, oid=oid, recv=recv: ranges.range_recv(data, oid, recv)  # type: ignore[misc]


def _unsupported(oid: int, what: str) -> FeatureNotSupported:
    return FeatureNotSupported(f"no {what} function available for type {t.format_type(oid)}")


def text_encoder(oid: int, ctx: FormatContext | None = None) -> Encoder:
    """The typoutput closure for `oid` under the session settings in `ctx`."""
    ctx = ctx or DEFAULT_CONTEXT
    builder = _TEXT_OUT.get(oid)
    if builder is not None:
        return builder(ctx)
    elem = t.element_of(oid)
    if elem:
        elem_out = text_encoder(elem, ctx)
        delimiter = t.lookup(elem).delimiter
        return lambda value: arrays.format_array(value, elem_out, delimiter)
    raise _unsupported(oid, "output")


def text_decoder(oid: int, typmod: int = -1, ctx: FormatContext | None = None) -> Decoder:
    """The typinput closure for `oid`, applying `typmod` (varchar(n), numeric(p,s), timestamp(p))."""
    ctx = ctx or DEFAULT_CONTEXT
    builder = _TEXT_IN.get(oid)
    if builder is not None:
        parse = builder(ctx)
        coerce = typmod_coercer(oid, typmod)
        if coerce is None:
            return parse
        return lambda text: coerce(parse(text))
    elem = t.element_of(oid)
    if elem:
        elem_in = text_decoder(elem, typmod, ctx)
        delimiter = t.lookup(elem).delimiter
        return lambda text: arrays.parse_array(text, elem_in, delimiter)
    raise _unsupported(oid, "input")


def binary_encoder(oid: int) -> BinaryEncoder:
    """The typsend closure for `oid`."""
    send = _SEND.get(oid)
    if send is not None:
        return send
    elem = t.element_of(oid)
    if elem:
        elem_send = binary_encoder(elem)
        return lambda value: arrays.array_send(value, elem, elem_send)
    raise _unsupported(oid, "binary output")


def binary_decoder(oid: int, typmod: int = -1) -> BinaryDecoder:
    """The typreceive closure for `oid` (22P03 on malformed data), applying `typmod`."""
    recv = _RECV.get(oid)
    if recv is not None:
        coerce = typmod_coercer(oid, typmod)
        if coerce is None:
            return recv
        return lambda data: coerce(recv(data))
    elem = t.element_of(oid)
    if elem:
        elem_recv = binary_decoder(elem, typmod)
        return lambda data: arrays.array_recv(data, elem, elem_recv)
    raise _unsupported(oid, "binary input")


def typmod_coercer(oid: int, typmod: int, explicit: bool = False) -> Callable[[Any], Any] | None:
    """The length-coercion function for (oid, typmod): varchar(n), bpchar(n), numeric(p,s)...

    `explicit` is PostgreSQL's isExplicit: an explicit cast truncates strings instead of failing.
    Returns None when the typmod changes nothing.
    """
    if typmod < 0:
        return None
    if oid == t.VARCHAR_OID:
        return lambda v: strings.varchar_length_check(v, typmod, explicit)
    if oid == t.BPCHAR_OID:
        return lambda v: strings.bpchar_length_check(v, typmod, explicit)
    if oid == t.NUMERIC_OID:
        return lambda v: numbers.apply_numeric_typmod(v, typmod)
    if oid in (t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID):
        return lambda v: datetimes.timestamp_apply_typmod(v, typmod)
    if oid in (t.TIME_OID, t.TIMETZ_OID):
        return lambda v: datetimes.time_apply_typmod(v, typmod)
    if oid == t.INTERVAL_OID:
        return lambda v: intervals.interval_apply_typmod(v, typmod)
    if oid == t.BIT_OID:
        return lambda v: bitstrings.bit_typmod(v, typmod, explicit)
    if oid == t.VARBIT_OID:
        return lambda v: bitstrings.varbit_typmod(v, typmod, explicit)
    elem = t.element_of(oid)
    if elem:
        inner = typmod_coercer(elem, typmod, explicit)
        if inner is None:
            return None
        return lambda v: _map_array(v, inner)
    return None


def _map_array(value: list[Any], fn: Callable[[Any], Any]) -> list[Any]:
    return [None if x is None else (_map_array(x, fn) if isinstance(x, list) else fn(x)) for x in value]


def format_value(value: Any, oid: int, ctx: FormatContext | None = None) -> str | None:
    """One-off text output (not for hot paths: use text_encoder)."""
    if value is None:
        return None
    return text_encoder(oid, ctx)(value)


def parse_value(text: str | None, oid: int, typmod: int = -1, ctx: FormatContext | None = None) -> Any:
    """One-off text input (not for hot paths: use text_decoder)."""
    if text is None:
        return None
    return text_decoder(oid, typmod, ctx)(text)


# The Python classes a value of each oid has (used by tests and by debugging assertions).
PYTHON_TYPES: dict[int, type | tuple[type, ...]] = {
    t.BOOL_OID: bool, t.INT2_OID: int, t.INT4_OID: int, t.INT8_OID: int, t.OID_OID: int,
    t.FLOAT4_OID: float, t.FLOAT8_OID: float, t.NUMERIC_OID: Decimal, t.TEXT_OID: str,
    t.DATE_OID: datetime.date, t.TIMESTAMP_OID: datetime.datetime, t.TIMESTAMPTZ_OID: datetime.datetime,
}


def register_codecs(oid: int, text_out: Callable[[FormatContext], Encoder], text_in: Callable[[FormatContext], Decoder],
                    send: BinaryEncoder, recv: BinaryDecoder) -> None:
    """The I/O of a type the catalog defines (datatypes.enums)."""
    _TEXT_OUT[oid] = text_out
    _TEXT_IN[oid] = text_in
    _SEND[oid] = send
    _RECV[oid] = recv


_register_ranges()

