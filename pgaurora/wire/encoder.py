"""Backend messages as bytes: one function per message of the v3 protocol, server -> client.

Owns the byte layout of everything the server sends, including how a PgError becomes an
ErrorResponse or NoticeResponse (the only place that happens). Not the per-column value
encoding (wire.formats builds DataRow encoders), not when to send what (server, session).

Every function returns complete messages (type byte + int32 length + body) ready to write.
Messages without a body are module-level constants (PARSE_COMPLETE, BIND_COMPLETE, ...).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Final

from pgaurora.errors import PgError
from pgaurora.security import authenticator as auth

_INT32: Final = struct.Struct("!i")
_HEADER: Final = struct.Struct("!ci")
_INT16: Final = struct.Struct("!h")
_FIELD: Final = struct.Struct("!ihihih")  # RowDescription: table oid .. format
_NULL: Final = b"\xff\xff\xff\xff"


def _message(type_byte: bytes, body: bytes) -> bytes:
    return _HEADER.pack(type_byte, len(body) + 4) + body


def _cstring(text: str) -> bytes:
    # A NUL inside would end the string early on the client: PostgreSQL cannot hold one either.
    return text.replace("\0", "").encode() + b"\0"


# --- start-up and authentication ---------------------------------------------------------

SSL_ACCEPTED: Final = b"S"  # answers to SSLRequest / GSSENCRequest: one byte, no framing
SSL_REFUSED: Final = b"N"
GSSENC_REFUSED: Final = b"N"

AUTHENTICATION_OK: Final = _message(b"R", _INT32.pack(0))
AUTHENTICATION_CLEARTEXT_PASSWORD: Final = _message(b"R", _INT32.pack(3))


def authentication_ok() -> bytes:
    return AUTHENTICATION_OK


def authentication_cleartext_password() -> bytes:
    return AUTHENTICATION_CLEARTEXT_PASSWORD


def authentication_md5_password(salt: bytes) -> bytes:
    if len(salt) != 4:
        raise ValueError("an MD5 salt is 4 bytes")
    return _message(b"R", _INT32.pack(5) + salt)


def authentication_sasl(mechanisms: Iterable[str]) -> bytes:
    return _message(b"R", _INT32.pack(10) + b"".join(_cstring(m) for m in mechanisms) + b"\0")


def authentication_sasl_continue(data: bytes) -> bytes:
    return _message(b"R", _INT32.pack(11) + data)


def authentication_sasl_final(data: bytes) -> bytes:
    return _message(b"R", _INT32.pack(12) + data)


def authentication_request(request: auth.AuthRequest) -> bytes:
    """The message for one of security.Authenticator's request events."""
    if isinstance(request, auth.AuthenticationOk):
        return AUTHENTICATION_OK
    if isinstance(request, auth.AuthenticationCleartextPassword):
        return AUTHENTICATION_CLEARTEXT_PASSWORD
    if isinstance(request, auth.AuthenticationMD5Password):
        return authentication_md5_password(request.salt)
    if isinstance(request, auth.AuthenticationSASL):
        return authentication_sasl(request.mechanisms)
    if isinstance(request, auth.AuthenticationSASLContinue):
        return authentication_sasl_continue(request.data)
    return authentication_sasl_final(request.data)


def parameter_status(name: str, value: str) -> bytes:
    return _message(b"S", _cstring(name) + _cstring(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return _message(b"K", struct.pack("!ii", pid, secret))


def negotiate_protocol_version(newest_minor: int, unrecognized_options: Sequence[str]) -> bytes:
    body = struct.pack("!ii", newest_minor, len(unrecognized_options))
    return _message(b"v", body + b"".join(_cstring(o) for o in unrecognized_options))


_READY: Final = {s: _message(b"Z", s.encode()) for s in "ITE"}


def ready_for_query(status: str) -> bytes:
    """status: 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block."""
    return _READY[status]


# --- query results -----------------------------------------------------------------------

PARSE_COMPLETE: Final = _message(b"1", b"")
BIND_COMPLETE: Final = _message(b"2", b"")
CLOSE_COMPLETE: Final = _message(b"3", b"")
NO_DATA: Final = _message(b"n", b"")
PORTAL_SUSPENDED: Final = _message(b"s", b"")
EMPTY_QUERY_RESPONSE: Final = _message(b"I", b"")
COPY_DONE: Final = _message(b"c", b"")


def row_description(fields: Sequence[tuple[str, int, int, int, int, int, int]]) -> bytes:
    """fields: (name, table_oid, attnum, type_oid, typlen, typmod, format) per column."""
    parts = [_INT16.pack(len(fields))]
    for name, table_oid, attnum, type_oid, typlen, typmod, fmt in fields:
        parts.append(_cstring(name))
        # table and type oids are unsigned on the wire; pack them as their int32 bit pattern
        parts.append(_FIELD.pack(_signed(table_oid), attnum, _signed(type_oid), typlen, typmod, fmt))
    return _message(b"T", b"".join(parts))


def _signed(oid: int) -> int:
    return oid - 0x100000000 if oid > 0x7FFFFFFF else oid


def parameter_description(type_oids: Sequence[int]) -> bytes:
    body = struct.pack(f"!h{len(type_oids)}I", len(type_oids), *type_oids)
    return _message(b"t", body)


def data_row(values: Sequence[bytes | None]) -> bytes:
    """One DataRow from values already in wire form (None = NULL). The hot path uses
    wire.formats.RowEncoder instead, which skips this function's generality."""
    parts = [_INT16.pack(len(values))]
    for value in values:
        if value is None:
            parts.append(_NULL)
        else:
            parts.append(_INT32.pack(len(value)))
            parts.append(value)
    return _message(b"D", b"".join(parts))


def command_complete(tag: str) -> bytes:
    return _message(b"C", _cstring(tag))


def empty_query_response() -> bytes:
    return EMPTY_QUERY_RESPONSE


# --- errors and notices ------------------------------------------------------------------

# PgError attribute -> ErrorResponse field code, in the order PostgreSQL sends them.
_ERROR_FIELDS: Final = (
    ("detail", b"D"),
    ("hint", b"H"),
    ("position", b"P"),
    ("internal_position", b"p"),  # (set on errors of a statement a function ran: session.routines)
    ("internal_query", b"q"),
    ("where", b"W"),
    ("schema", b"s"),
    ("table", b"t"),
    ("column", b"c"),
    ("datatype", b"d"),
    ("constraint", b"n"),
    ("routine", b"R"),
)


def _error_body(err: PgError, severity: str) -> bytes:
    parts = [
        b"S" + _cstring(severity),
        b"V" + _cstring(severity),
        b"C" + _cstring(err.sqlstate),
        b"M" + _cstring(err.message),
    ]
    for attribute, code in _ERROR_FIELDS:
        value = getattr(err, attribute, None)
        if value is not None:
            parts.append(code + _cstring(str(value)))
    parts.append(b"\0")
    return b"".join(parts)


def error_response(err: PgError, severity: str | None = None) -> bytes:
    """ErrorResponse for `err`; severity defaults to the error's ('ERROR', 'FATAL', 'PANIC')."""
    return _message(b"E", _error_body(err, severity or err.severity))


def notice_response(err: PgError, severity: str = "NOTICE") -> bytes:
    """NoticeResponse: severity 'NOTICE', 'WARNING', 'INFO', 'LOG' or 'DEBUG'; sqlstate from
    `err` (use sqlstate='00000' for a plain notice, '01000' for a plain warning)."""
    return _message(b"N", _error_body(err, severity))


def notice(message: str, severity: str = "NOTICE", sqlstate: str | None = None, **fields: object) -> bytes:
    """A NoticeResponse built from parts (PostgreSQL's 00000 / 01000 defaults)."""
    if sqlstate is None:
        sqlstate = "01000" if severity == "WARNING" else "00000"
    err = PgError(message, sqlstate=sqlstate, **fields)  # type: ignore[arg-type]
    return notice_response(err, severity)


# --- COPY and notifications --------------------------------------------------------------


def _copy_response(type_byte: bytes, overall_format: int, column_formats: Sequence[int]) -> bytes:
    body = struct.pack(f"!bh{len(column_formats)}h", overall_format, len(column_formats), *column_formats)
    return _message(type_byte, body)


def copy_in_response(overall_format: int, column_formats: Sequence[int]) -> bytes:
    """overall_format 0 text/CSV, 1 binary; one format code per column (all equal to it)."""
    return _copy_response(b"G", overall_format, column_formats)


def copy_out_response(overall_format: int, column_formats: Sequence[int]) -> bytes:
    return _copy_response(b"H", overall_format, column_formats)


def copy_data(data: bytes) -> bytes:
    return _HEADER.pack(b"d", len(data) + 4) + data


def copy_done() -> bytes:
    return COPY_DONE


def notification_response(pid: int, channel: str, payload: str) -> bytes:
    return _message(b"A", _INT32.pack(pid) + _cstring(channel) + _cstring(payload))
