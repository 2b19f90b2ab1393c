"""Value formats on the wire: DataRow encoders for results, decoders for Bind parameters.

Owns PostgreSQL's format-code rules (0 text, 1 binary; no codes = all text, one code = for
every column, else one per column) and the glue from a portal's column types to one closure
per column built from pgaurora.datatypes codecs, once per portal. Not the codecs themselves
(datatypes), not message framing (wire.encoder).

    encode = RowEncoder((23, 25), result_formats(bind.result_formats, 2), ctx)
    out = encode.rows(batch)          # many DataRow messages as one bytes object
    values = decode_params(oids, bind.param_formats, bind.params, portal="")
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, Final

from pgaurora.datatypes.codecs import binary_decoder, binary_encoder, text_decoder, text_encoder
from pgaurora.datatypes.numbers import INT_PARSER_MAX
from pgaurora.datatypes.typeinfo import find
from pgaurora.datatypes.values import FormatContext
from pgaurora.errors import (
    InvalidBinaryRepresentation,
    InvalidParameterValue,
    PgError,
    ProtocolViolationError,
)
from pgaurora.wire.bodies import decode_text

TEXT: Final = 0
BINARY: Final = 1

ValueEncoder = Callable[[Any], bytes]
ValueDecoder = Callable[[bytes], Any]

_INT32: Final = struct.Struct("!i")
_NULL: Final = b"\xff\xff\xff\xff"

_INTEGER_OIDS: Final = frozenset((20, 21, 23, 26))
_TEXT_OIDS: Final = frozenset((25, 1043, 1042, 19, 705))


def check_format(code: int) -> int:
    if code != TEXT and code != BINARY:
        raise InvalidParameterValue(f"unsupported format code: {code}")
    return code


def param_formats(codes: Sequence[int], count: int) -> tuple[int, ...]:
    """One format code per parameter (the decoder has already checked the counts)."""
    if not codes:
        return (TEXT,) * count
    if len(codes) == 1:
        return (codes[0],) * count
    if len(codes) != count:
        raise ProtocolViolationError(f"bind message has {len(codes)} parameter formats but {count} parameters")
    return tuple(codes)


def result_formats(codes: Sequence[int], column_count: int) -> tuple[int, ...]:
    """One format code per result column, as PortalSetResultFormat expands them (the codes
    themselves are checked when the row encoder is built, as printtup does)."""
    if not codes:
        return (TEXT,) * column_count
    if len(codes) == 1:
        return (codes[0],) * column_count
    if len(codes) != column_count:
        raise ProtocolViolationError(
            f"bind message has {len(codes)} result formats but query has {column_count} columns"
        )
    return tuple(codes)


# --- result values -------------------------------------------------------------------------


# int2out / int4out / int8out / oidout: the bound C method, so a value costs no Python frame
_integer_text: Final[Callable[[int], bytes]] = b"%d".__mod__


def value_encoder(type_oid: int, fmt: int, ctx: FormatContext | None = None) -> ValueEncoder:
    """value -> its bytes on the wire (never called with None)."""
    if check_format(fmt) == BINARY:
        return binary_encoder(type_oid)
    if type_oid in _INTEGER_OIDS:
        return _integer_text
    if type_oid in _TEXT_OIDS:
        return str.encode
    to_text = text_encoder(type_oid, ctx)
    return lambda value: to_text(value).encode()


class RowEncoder:
    """Tuples of Python values -> DataRow messages, for one portal's columns and formats.

    The per-row loop is generated once for the column count (no zip, no per-column call
    through a list), since this is the hottest loop in the server's output path.
    """

    __slots__ = ("column_count", "rows")

    def __init__(
        self,
        type_oids: Sequence[int],
        formats: Sequence[int] | None = None,
        ctx: FormatContext | None = None,
        encoders: Sequence[ValueEncoder] | None = None,
    ) -> None:
        if encoders is None:
            fmts = formats if formats is not None else (TEXT,) * len(type_oids)
            encoders = [value_encoder(oid, fmt, ctx) for oid, fmt in zip(type_oids, fmts, strict=True)]
        self.column_count = len(encoders)
        self.rows: Callable[[Sequence[Sequence[Any]]], bytes] = _compile_rows(tuple(encoders))

    def row(self, values: Sequence[Any]) -> bytes:
        """One DataRow message."""
        return self.rows((values,))


def _compile_rows(encoders: tuple[ValueEncoder, ...]) -> Callable[[Sequence[Sequence[Any]]], bytes]:
    count = len(encoders)
    names = [f"v{i}" for i in range(count)]
    unpack = ", ".join(names) + ("," if count == 1 else "")
    lines = ["def rows(batch):"]
    # one row (a point lookup's answer): its fields joined as bytes, no buffer to grow
    lines += ["    if len(batch) == 1:"]
    if count:
        lines.append(f"        {unpack} = batch[0]")
    for i, name in enumerate(names):
        lines += [
            f"        if {name} is None:",
            f"            f{i} = NULL",
            "        else:",
            f"            b = e{i}({name})",
            f"            f{i} = pack(len(b)) + b",
        ]
    body = " + ".join(f"f{i}" for i in range(count)) or 'b""'
    lines += [
        f"        body = {body}",
        "        return b'D' + pack(len(body) + 6) + count_bytes + body",
    ]
    lines += [
        "    out = bytearray()",
        "    for row in batch:",
        "        start = len(out)",
        "        out += head",
    ]
    if count:
        lines.append(f"        {unpack} = row")
    for i, name in enumerate(names):
        lines += [
            f"        if {name} is None:",
            "            out += NULL",
            "        else:",
            f"            b = e{i}({name})",
            "            out += pack(len(b))",
            "            out += b",
        ]
    lines += [
        "        pack_into(out, start + 1, len(out) - start - 1)",
        "    return bytes(out)",
    ]
    scope: dict[str, Any] = {
        "head": b"D\0\0\0\0" + struct.pack("!h", count),
        "count_bytes": struct.pack("!h", count),
        "NULL": _NULL,
        "pack": _INT32.pack,
        "pack_into": _INT32.pack_into,
        **{f"e{i}": encoder for i, encoder in enumerate(encoders)},
    }
    exec("\n".join(lines), scope)  # noqa: S102 - code built above from column positions only
    rows: Callable[[Sequence[Sequence[Any]]], bytes] = scope["rows"]
    return rows


# --- Bind parameters -----------------------------------------------------------------------


def _portal_label(portal: str) -> str:
    return f'portal "{portal}"' if portal else "unnamed portal"


def param_decoders(type_oids: Sequence[int], formats: Sequence[int], typmods: Sequence[int] | None = None,
                   ctx: FormatContext | None = None) -> list[Callable[[Any], Any] | None]:
    """One decoder per parameter, built once per prepared statement and format set: text
    ones take the raw bytes (verified as UTF-8 first); None marks a bad format code, which is
    raised only when a value is decoded, as exec_bind_message does."""
    decoders: list[Callable[[Any], Any] | None] = []
    for i, (oid, fmt) in enumerate(zip(type_oids, formats, strict=True)):
        typmod = typmods[i] if typmods else -1
        if fmt == TEXT:
            decoders.append(text_decoder(oid, typmod, ctx))
        elif fmt == BINARY:
            info = find(oid)
            decoders.append(_binary_param(binary_decoder(oid, typmod), _fixed_width(info), i + 1))
        else:
            decoders.append(None)
    return decoders


def values_decoder(decoders: Sequence[Callable[[Any], Any] | None],
                   formats: Sequence[int]) -> Callable[[Sequence[bytes | None]], tuple[Any, ...]] | None:
    """params -> values in one call, for a caller that hands any error to the ordinary path
    (decode_params gives it PostgreSQL's context): text values are checked as decode_text
    checks them and a failure raises any exception. None when a format code is bad (that
    Bind must fail the ordinary way). Built once per statement and format codes."""
    if None in decoders:
        return None
    if len(decoders) == 1:  # the usual prepared statement: one key value
        decode = decoders[0]
        assert decode is not None
        if formats[0] == BINARY:
            return lambda params: (None if params[0] is None else decode(params[0]),)

        def one_text(params: Sequence[bytes | None]) -> tuple[Any, ...]:
            data = params[0]
            if data is None:
                return (None,)
            text = data.decode()
            if "\0" in text:
                raise ValueError("NUL in a text parameter")
            return (decode(text),)

        int_max = INT_PARSER_MAX.get(decode)
        if int_max is None:
            return one_text

        def one_int(params: Sequence[bytes | None]) -> tuple[Any, ...]:
            # an integer key in plain ASCII digits (pgbench, most drivers) is converted here;
            # NULL, signs, spaces and errors take the input function's way
            data = params[0]
            if data is not None and data.isdigit():
                value = int(data)
                if value <= int_max:
                    return (value,)
            return one_text(params)

        return one_int
    steps = tuple((decode, fmt == TEXT) for decode, fmt in zip(decoders, formats, strict=True))

    def many(params: Sequence[bytes | None]) -> tuple[Any, ...]:
        values: list[Any] = []
        for (decode, text), data in zip(steps, params, strict=True):
            if data is None:
                values.append(None)
            elif text:
                value = data.decode()
                if "\0" in value:
                    raise ValueError("NUL in a text parameter")
                values.append(decode(value))  # type: ignore[misc]
            else:
                values.append(decode(data))  # type: ignore[misc]
        return tuple(values)

    return many


def _fixed_width(info: Any) -> int:
    """The byte count a binary parameter must have, or -1. `name` has typlen 64 on disk but
    namerecv reads a variable-length string, so only by-value types and uuid are fixed here (an
    enum's typlen 4 is its stored oid; enum_recv reads the label)."""
    if info is None or info.typlen <= 0 or info.oid == 19 or info.typtype == "e":
        return -1
    return int(info.typlen)


def _binary_param(recv: ValueDecoder, typlen: int, number: int) -> ValueDecoder:
    def decode(data: bytes) -> Any:
        if typlen > 0 and len(data) != typlen:
            if len(data) < typlen:
                raise ProtocolViolationError("insufficient data left in message")
            raise InvalidBinaryRepresentation(f"incorrect binary data format in bind parameter {number}")
        return recv(data)

    return decode


def decode_params(
    type_oids: Sequence[int],
    formats: Sequence[int],
    params: Sequence[bytes | None],
    portal: str = "",
    typmods: Sequence[int] | None = None,
    ctx: FormatContext | None = None,
    decoders: Sequence[Callable[[Any], Any] | None] | None = None,
) -> tuple[Any, ...]:
    """Bind parameter bytes -> Python values, with PostgreSQL's errors and error context
    ('unnamed portal parameter $1', and for a text value the input function rejected,
    'portal "p" parameter $2 = \'...\''). Pass `decoders` (from param_decoders) to reuse them."""
    expanded = param_formats(formats, len(params))
    if decoders is None:
        decoders = param_decoders(type_oids, expanded, typmods, ctx)
    values: list[Any] = []
    append = values.append
    for i, data in enumerate(params):
        decode = decoders[i]
        shown = ""
        try:
            if decode is None:
                raise InvalidParameterValue(f"unsupported format code: {expanded[i]}")
            if data is None:
                append(None)
            elif expanded[i] == TEXT:
                text = decode_text(data)
                shown = " = '...'"
                append(decode(text))
            else:
                append(decode(data))
        except PgError as err:
            if err.where is None:
                err.where = f"{_portal_label(portal)} parameter ${i + 1}{shown}"
            raise
    return tuple(values)
