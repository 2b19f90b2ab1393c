"""Message bodies: the bytes after the type byte and length, parsed as PostgreSQL parses them.

Owns one function per regular-phase message type, (buffer, body start, body end) -> message,
with pqformat.c's checks and messages: "insufficient data left in message", "invalid string
in message", "invalid message format" (bytes left over), "no data left in message", and
UTF-8 verification of every string (22021 "invalid byte sequence for encoding ..."). All of
these are ERRORs for the one message (ProtocolViolationError), never FATAL.
Not framing or phases (wire.decoder), not start-up packets (wire.startup).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from pgaurora.errors import CharacterNotInRepertoire, ProtocolViolationError
from pgaurora.wire import messages as m

_INT32: Final = struct.Struct("!i")
_UINT16: Final = struct.Struct("!H")
_INT16: Final = struct.Struct("!h")

_INSUFFICIENT: Final = "insufficient data left in message"


def invalid_utf8(data: bytes, start: int) -> CharacterNotInRepertoire:
    """PostgreSQL's error for a bad UTF-8 sequence starting at data[start] (mbutils.c)."""
    first = data[start]
    if first & 0x80 == 0:
        width = 1
    elif first & 0xE0 == 0xC0:
        width = 2
    elif first & 0xF0 == 0xE0:
        width = 3
    elif first & 0xF8 == 0xF0:
        width = 4
    else:
        width = 1
    shown = " ".join(f"0x{b:02x}" for b in data[start : start + width])
    return CharacterNotInRepertoire(f'invalid byte sequence for encoding "UTF8": {shown}')


def decode_text(data: bytes) -> str:
    """Client text -> str, verified as PostgreSQL verifies UTF-8 (NUL bytes are invalid too)."""
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        raise invalid_utf8(data, exc.start) from None
    if "\0" in text:
        raise invalid_utf8(data, data.index(0))
    return text


def _string(buf: bytes, pos: int, end: int) -> tuple[str, int]:
    """A NUL-terminated string at buf[pos:end] and the offset after its NUL."""
    nul = buf.find(b"\0", pos, end)
    if nul < 0:
        raise ProtocolViolationError("invalid string in message")
    try:
        return buf[pos:nul].decode(), nul + 1
    except UnicodeDecodeError as exc:
        raise invalid_utf8(buf[pos:nul], exc.start) from None


def _count(buf: bytes, pos: int, end: int) -> int:
    if pos + 2 > end:
        raise ProtocolViolationError(_INSUFFICIENT)
    return int(_UINT16.unpack_from(buf, pos)[0])


def _int16s(buf: bytes, pos: int, end: int, count: int) -> tuple[int, ...]:
    if pos + 2 * count > end:
        raise ProtocolViolationError(_INSUFFICIENT)
    return struct.unpack_from(f"!{count}h", buf, pos) if count else ()


def _values(buf: bytes, pos: int, end: int, count: int) -> tuple[tuple[bytes | None, ...], int]:
    """`count` length-prefixed values (length -1 = NULL)."""
    values: list[bytes | None] = []
    append = values.append
    unpack = _INT32.unpack_from
    for _ in range(count):
        if pos + 4 > end:
            raise ProtocolViolationError(_INSUFFICIENT)
        length = unpack(buf, pos)[0]
        pos += 4
        if length == -1:
            append(None)
            continue
        if length < 0 or pos + length > end:
            raise ProtocolViolationError(_INSUFFICIENT)
        append(buf[pos : pos + length])
        pos += length
    return tuple(values), pos


def _end(pos: int, end: int) -> None:
    if pos != end:
        raise ProtocolViolationError("invalid message format")


# --- one function per message type: (buffer, body start, body end) -> message -----------------


def _query(buf: bytes, pos: int, end: int) -> m.Query:
    sql, pos = _string(buf, pos, end)
    _end(pos, end)
    return m.Query(sql)


def _parse(buf: bytes, pos: int, end: int) -> m.Parse:
    name, pos = _string(buf, pos, end)
    query, pos = _string(buf, pos, end)
    count = _count(buf, pos, end)
    pos += 2
    if pos + 4 * count > end:
        raise ProtocolViolationError(_INSUFFICIENT)
    oids = struct.unpack_from(f"!{count}I", buf, pos) if count else ()
    _end(pos + 4 * count, end)
    return m.Parse(name, query, oids)


BindFields = tuple[str, str, tuple[int, ...], tuple[bytes | None, ...], tuple[int, ...]]


def bind_fields(buf: bytes, pos: int, end: int) -> BindFields:
    """A Bind body as (portal, statement, param_formats, params, result_formats): the fields of
    m.Bind, for the decoder's fused round trip, which needs no message object."""
    # the hottest message (a pgbench or asyncpg round trip): names decoded inline, and the
    # usual shapes (no or one format code) read without helper calls
    find = buf.find
    nul = find(b"\0", pos, end)
    nul2 = find(b"\0", nul + 1, end) if nul >= 0 else -1
    if nul2 < 0:
        raise ProtocolViolationError("invalid string in message")
    try:
        portal = buf[pos:nul].decode() if nul > pos else ""
        statement = buf[nul + 1 : nul2].decode() if nul2 > nul + 1 else ""
    except UnicodeDecodeError:
        portal, _ = _string(buf, pos, end)  # raises the exact error for the bad name
        statement, _ = _string(buf, nul + 1, end)
    pos = nul2 + 1
    if pos + 4 <= end and buf[pos] == 0 and buf[pos + 1] <= 1:
        # no or one parameter format code (a 1-tuple straight from struct), then the count
        format_count = buf[pos + 1]
        if format_count == 0:
            param_formats: tuple[int, ...] = ()
        else:
            param_formats = _INT16.unpack_from(buf, pos + 2)
        pos += 2 + 2 * format_count
    else:
        format_count = _count(buf, pos, end)
        param_formats = _int16s(buf, pos + 2, end, format_count)
        pos += 2 + 2 * format_count
    if pos + 2 > end:
        raise ProtocolViolationError(_INSUFFICIENT)
    param_count = buf[pos] << 8 | buf[pos + 1]
    if format_count > 1 and format_count != param_count:
        raise ProtocolViolationError(
            f"bind message has {format_count} parameter formats but {param_count} parameters"
        )
    pos += 2
    if param_count == 1 and pos + 4 <= end:  # one value (a key): read in line
        length = _INT32.unpack_from(buf, pos)[0]
        pos += 4
        if length == -1:
            params: tuple[bytes | None, ...] = (None,)
        elif 0 <= length <= end - pos:
            params = (buf[pos : pos + length],)
            pos += length
        else:
            raise ProtocolViolationError(_INSUFFICIENT)
    elif param_count:
        params, pos = _values(buf, pos, end, param_count)
    else:
        params = ()
    if pos + 2 == end and buf[pos] == 0 and buf[pos + 1] == 0:  # no result format code
        return portal, statement, param_formats, params, ()
    if pos + 4 == end and buf[pos] == 0 and buf[pos + 1] == 1:  # one result format code
        return portal, statement, param_formats, params, _INT16.unpack_from(buf, pos + 2)
    result_count = _count(buf, pos, end)
    result_formats = _int16s(buf, pos + 2, end, result_count) if result_count else ()
    _end(pos + 2 + 2 * result_count, end)
    return portal, statement, param_formats, params, result_formats


def _bind(buf: bytes, pos: int, end: int) -> m.Bind:
    return m.Bind(*bind_fields(buf, pos, end))


def _kind(buf: bytes, pos: int, end: int) -> tuple[int, str, int]:
    if pos >= end:
        raise ProtocolViolationError("no data left in message")
    kind = buf[pos]
    name, pos = _string(buf, pos + 1, end)
    _end(pos, end)
    return kind, name, pos


def _describe(buf: bytes, pos: int, end: int) -> m.Describe:
    kind, name, pos = _kind(buf, pos, end)
    if kind not in b"SP":
        raise ProtocolViolationError(f"invalid DESCRIBE message subtype {kind}")
    return m.Describe(chr(kind), name)


def _close(buf: bytes, pos: int, end: int) -> m.Close:
    kind, name, pos = _kind(buf, pos, end)
    if kind not in b"SP":
        raise ProtocolViolationError(f"invalid CLOSE message subtype {kind}")
    return m.Close(chr(kind), name)


def _execute(buf: bytes, pos: int, end: int) -> m.Execute:
    portal, pos = _string(buf, pos, end)
    if pos + 4 > end:
        raise ProtocolViolationError(_INSUFFICIENT)
    _end(pos + 4, end)
    return m.Execute(portal, _INT32.unpack_from(buf, pos)[0])


def _sync(buf: bytes, pos: int, end: int) -> m.Sync:
    _end(pos, end)
    return m.SYNC


def _flush(buf: bytes, pos: int, end: int) -> m.Flush:
    _end(pos, end)
    return m.FLUSH


def _terminate(buf: bytes, pos: int, end: int) -> m.Terminate:
    return m.TERMINATE  # postgres.c does not check a Terminate's body


def _copy_data(buf: bytes, pos: int, end: int) -> m.CopyData:
    return m.CopyData(buf[pos:end])


def _copy_done(buf: bytes, pos: int, end: int) -> m.CopyDone:
    return m.COPY_DONE


def _copy_fail(buf: bytes, pos: int, end: int) -> m.CopyFail:
    return m.CopyFail(_string(buf, pos, end)[0])


def _password(buf: bytes, pos: int, end: int) -> m.PasswordMessage:
    return m.PasswordMessage(buf[pos:end])


def _function_call(buf: bytes, pos: int, end: int) -> m.FunctionCall:
    if pos + 4 > end:
        raise ProtocolViolationError(_INSUFFICIENT)
    oid = _INT32.unpack_from(buf, pos)[0] & 0xFFFFFFFF
    format_count = _count(buf, pos + 4, end)
    arg_formats = _int16s(buf, pos + 6, end, format_count)
    pos += 6 + 2 * format_count
    arg_count = _count(buf, pos, end)
    args, pos = _values(buf, pos + 2, end, arg_count)
    if pos + 2 > end:
        raise ProtocolViolationError(_INSUFFICIENT)
    result_format = _INT16.unpack_from(buf, pos)[0]
    _end(pos + 2, end)
    return m.FunctionCall(oid, arg_formats, args, result_format)


BODY_DECODERS: Final[dict[int, Callable[[bytes, int, int], m.FrontendMessage]]] = {
    ord("Q"): _query,
    ord("P"): _parse,
    ord("B"): _bind,
    ord("D"): _describe,
    ord("E"): _execute,
    ord("C"): _close,
    ord("S"): _sync,
    ord("H"): _flush,
    ord("X"): _terminate,
    ord("d"): _copy_data,
    ord("c"): _copy_done,
    ord("f"): _copy_fail,
    ord("p"): _password,
    ord("F"): _function_call,
}

