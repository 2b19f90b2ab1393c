"""Small fixed-format types: bool, uuid, tid, oidvector/int2vector, pg_lsn, xid/cid/xid8.

Owns their text input rules (bool's 't'/'yes'/'on'/unique prefixes, uuid's optional hyphens
and braces) and output formats. Not the registry of codecs (codecs).
"""

from __future__ import annotations

import re
import struct
import uuid

from pgaurora.errors import InvalidBinaryRepresentation, InvalidTextRepresentation, NumericValueOutOfRange

_TRUE_WORDS = ("true", "yes", "on")
_FALSE_WORDS = ("false", "no", "off")


def parse_bool(text: str) -> bool:
    """boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, case-insensitive, unique prefixes."""
    word = text.strip().lower()
    if word:
        if word in ("t", "1", "y") or (len(word) >= 1 and word in ("tr", "tru", "true", "ye", "yes", "on")):
            return True
        if word in ("f", "0", "n") or word in ("fa", "fal", "fals", "false", "no", "of", "off"):
            return False
    raise InvalidTextRepresentation(f'invalid input syntax for type boolean: "{text}"')


def format_bool(value: bool) -> str:
    return "t" if value else "f"


_UUID_RE = re.compile(r"(\{)?(?:[0-9a-fA-F]{4}-?){7}[0-9a-fA-F]{4}(?(1)\})\Z")


def parse_uuid(text: str) -> uuid.UUID:
    """uuid_in: 32 hex digits, optional '-' after any group of four, optional braces."""
    if _UUID_RE.match(text) is None:
        raise InvalidTextRepresentation(f'invalid input syntax for type uuid: "{text}"')
    return uuid.UUID(text.strip("{}").replace("-", ""))


def uuid_recv(data: bytes) -> uuid.UUID:
    if len(data) != 16:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    return uuid.UUID(bytes=data)


_TID_RE = re.compile(r"\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*\Z")
_TID = struct.Struct(">IH")


def parse_tid(text: str) -> tuple[int, int]:
    m = _TID_RE.match(text)
    if m is None or int(m.group(1)) > 0xFFFFFFFF or int(m.group(2)) > 0xFFFF:
        raise InvalidTextRepresentation(f'invalid input syntax for type tid: "{text}"')
    return (int(m.group(1)), int(m.group(2)))


def format_tid(value: tuple[int, int]) -> str:
    return f"({value[0]},{value[1]})"


def tid_send(value: tuple[int, int]) -> bytes:
    return _TID.pack(value[0], value[1])


def tid_recv(data: bytes) -> tuple[int, int]:
    if len(data) != 6:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    block, offset = _TID.unpack(data)
    return (block, offset)


def vector_parser(type_name: str, lo: int, hi: int, wrap: int = 0):  # type: ignore[no-untyped-def]
    """oidvectorin / int2vectorin: space-separated integers."""

    def parse(text: str) -> list[int]:
        values = []
        for word in text.split():
            try:
                value = int(word)
            except ValueError:
                raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{word}"') from None
            if value < lo or value > hi:
                raise NumericValueOutOfRange(f'value "{word}" is out of range for type {type_name}')
            values.append(value & wrap if wrap else value)
        return values

    return parse


def format_vector(value: list[int]) -> str:
    return " ".join(str(v) for v in value)


_LSN_RE = re.compile(r"([0-9a-fA-F]{1,8})/([0-9a-fA-F]{1,8})\Z")


def parse_pg_lsn(text: str) -> int:
    m = _LSN_RE.match(text.strip())
    if m is None:
        raise InvalidTextRepresentation(f'invalid input syntax for type pg_lsn: "{text}"')
    return (int(m.group(1), 16) << 32) | int(m.group(2), 16)


def format_pg_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def unsigned_parser(type_name: str, bits: int):  # type: ignore[no-untyped-def]
    """xidin / cidin / xid8in: unsigned integers (wrapping like strtoul)."""
    mask = (1 << bits) - 1

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"') from None
        return value & mask

    return parse
