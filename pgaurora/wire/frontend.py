"""Frontend messages as bytes: the client side of the encoding, for tests, fuzzers and probes.

Owns turning a wire.messages value back into the bytes a client sends (the inverse of
wire.decoder), so that round trips can be checked and a fuzzer can start from valid traffic.
Not used on the server's path; not a client library.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from pgaurora.wire import messages as m

_INT32: Final = struct.Struct("!i")


def _cstring(text: str) -> bytes:
    return text.encode() + b"\0"


def _typed(type_byte: bytes, body: bytes) -> bytes:
    return type_byte + _INT32.pack(len(body) + 4) + body


def _values(values: Sequence[bytes | None]) -> bytes:
    out = bytearray(struct.pack("!H", len(values)))
    for value in values:
        if value is None:
            out += _INT32.pack(-1)
        else:
            out += _INT32.pack(len(value)) + value
    return bytes(out)


def _int16s(codes: Sequence[int]) -> bytes:
    return struct.pack(f"!H{len(codes)}h", len(codes), *codes)


def startup_packet(code: int, body: bytes = b"") -> bytes:
    return _INT32.pack(len(body) + 8) + _INT32.pack(code) + body


def sasl_initial_response(mechanism: str, data: bytes | None) -> bytes:
    """The payload of a SASLInitialResponse PasswordMessage."""
    length = _INT32.pack(-1 if data is None else len(data))
    return _cstring(mechanism) + length + (data or b"")


def encode(message: m.FrontendMessage) -> bytes:
    """The bytes a client sends for `message`."""
    if isinstance(message, m.StartupMessage):
        body = b"".join(_cstring(k) + _cstring(v) for k, v in message.params.items())
        body += b"".join(_cstring(o) + b"\0" for o in message.protocol_options)
        return startup_packet(message.protocol, body + b"\0")
    if isinstance(message, m.SSLRequest):
        return startup_packet(m.SSL_REQUEST_CODE)
    if isinstance(message, m.GSSENCRequest):
        return startup_packet(m.GSSENC_REQUEST_CODE)
    if isinstance(message, m.CancelRequest):
        return startup_packet(m.CANCEL_REQUEST_CODE, struct.pack("!ii", message.pid, message.secret))
    type_byte = m.TYPE_BYTES[type(message)]
    if isinstance(message, m.Query):
        body = _cstring(message.sql)
    elif isinstance(message, m.Parse):
        oids = struct.pack(f"!H{len(message.param_oids)}I", len(message.param_oids), *message.param_oids)
        body = _cstring(message.name) + _cstring(message.query) + oids
    elif isinstance(message, m.Bind):
        body = (_cstring(message.portal) + _cstring(message.statement) + _int16s(message.param_formats)
                + _values(message.params) + _int16s(message.result_formats))
    elif isinstance(message, m.Describe | m.Close):
        body = message.kind.encode() + _cstring(message.name)
    elif isinstance(message, m.Execute):
        body = _cstring(message.portal) + _INT32.pack(message.max_rows)
    elif isinstance(message, m.CopyData | m.PasswordMessage):
        body = message.data
    elif isinstance(message, m.CopyFail):
        body = _cstring(message.message)
    elif isinstance(message, m.FunctionCall):
        body = (struct.pack("!I", message.function_oid) + _int16s(message.arg_formats) + _values(message.args)
                + struct.pack("!h", message.result_format))
    else:  # Sync, Flush, Terminate, CopyDone
        body = b""
    return _typed(type_byte, body)
