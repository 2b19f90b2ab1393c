"""Start-up packets: the untyped messages a connection begins with (postmaster.c).

Owns reading one start-up packet: SSLRequest, GSSENCRequest, CancelRequest or a
StartupMessage, with PostgreSQL's checks (packet length, protocol version, the layout of the
parameter list, a user name present). Not the phases around it (wire.decoder).
"""

from __future__ import annotations

import struct
from typing import Final

from pgaurora.errors import (
    FatalError,
    FeatureNotSupportedFatal,
    InvalidAuthorizationSpecification,
    ProtocolViolation,
)
from pgaurora.wire import messages as m

_INT32: Final = struct.Struct("!i")
_TWO_INT32: Final = struct.Struct("!ii")
MIN_STARTUP_PACKET_LENGTH: Final = 8
MAX_STARTUP_PACKET_LENGTH: Final = 10000
NAMEDATALEN: Final = 64  # user and database names are cut to NAMEDATALEN - 1 bytes

_BOOL_WORDS: Final = {"true": True, "yes": True, "on": True, "1": True,
                      "false": False, "no": False, "off": False, "0": False}


def parse_bool(text: str) -> bool | None:
    """PostgreSQL's parse_bool: the words above, any unique prefix of them, or None."""
    word = text.strip().lower()
    if not word:
        return None
    found = {value for name, value in _BOOL_WORDS.items() if name.startswith(word)}
    return found.pop() if len(found) == 1 else None


def _truncate_name(name: str) -> str:
    raw = name.encode()
    return name if len(raw) < NAMEDATALEN else raw[: NAMEDATALEN - 1].decode(errors="ignore")


def packet_length(buf: bytes, pos: int) -> int:
    """The length word of the packet at buf[pos] (4 bytes must be there), checked."""
    length: int = _INT32.unpack_from(buf, pos)[0]
    # postmaster.c limits the length without its own 4 bytes
    if length < MIN_STARTUP_PACKET_LENGTH or length - 4 > MAX_STARTUP_PACKET_LENGTH:
        raise ProtocolViolation("invalid length of startup packet")
    return length


def startup_packet(packet: bytes, ssl_done: bool, gss_done: bool) -> m.FrontendMessage:
    """One complete packet (length word included) -> its message. A second SSLRequest (or
    GSSENCRequest) is read as a protocol version, as PostgreSQL reads it, and refused."""
    code = _INT32.unpack_from(packet, 4)[0]
    if code == m.CANCEL_REQUEST_CODE:
        if len(packet) != 16:
            raise ProtocolViolation("invalid length of startup packet")
        pid, secret = _TWO_INT32.unpack_from(packet, 8)
        return m.CancelRequest(pid, secret)
    if code == m.SSL_REQUEST_CODE and not ssl_done:
        return m.SSL_REQUEST
    if code == m.GSSENC_REQUEST_CODE and not gss_done:
        return m.GSSENC_REQUEST
    major, minor = (code >> 16) & 0xFFFF, code & 0xFFFF
    if major != 3:
        raise FeatureNotSupportedFatal(
            f"unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0"
        )
    params, options = startup_params(packet[8:])
    return m.StartupMessage(code, params, options)


def startup_params(body: bytes) -> tuple[dict[str, str], tuple[str, ...]]:
    """name\\0value\\0...\\0, walked exactly as postmaster.c's ProcessStartupPacket walks it."""
    params: dict[str, str] = {}
    options: list[str] = []
    size = len(body)
    offset = 0
    while offset < size:
        if body[offset] == 0:
            break
        name_end = body.find(b"\0", offset)
        if name_end < 0:
            break
        value_at = name_end + 1
        if value_at >= size:
            break
        value_end = body.find(b"\0", value_at)
        if value_end < 0:
            value_end = size
        name = body[offset:name_end].decode(errors="replace")
        value = body[value_at:value_end].decode(errors="replace")
        if name.startswith("_pq_."):
            options.append(name)
        else:
            params[name] = value
        offset = value_end + 1
    if offset != size - 1:
        raise ProtocolViolation("invalid startup packet layout: expected terminator as last byte")
    replication = params.get("replication")
    if replication is not None and replication != "database" and parse_bool(replication) is None:
        raise FatalError(
            f'invalid value for parameter "replication": "{replication}"', sqlstate="22023",
            hint='Valid values are: "false", 0, "true", 1, "database".',
        )
    if not params.get("user"):
        raise InvalidAuthorizationSpecification("no PostgreSQL user name specified in startup packet")
    params["user"] = _truncate_name(params["user"])
    if "database" in params:
        params["database"] = _truncate_name(params["database"])
    return params, tuple(options)

