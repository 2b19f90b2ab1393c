"""Character and byte types: text, varchar(n), bpchar(n), name, "char", bytea — I/O and typmods.

Owns the length rules (22001 "value too long for type character varying(3)", blank padding of
character(n), name truncation to 63 bytes) and bytea's hex and escape formats. Not string
functions (catalog.builtins) and not casts between these types (casts).
"""

from __future__ import annotations

import re

from pgaurora.errors import (
    CharacterNotInRepertoire,
    InvalidParameterValue,
    InvalidTextRepresentation,
    StringDataRightTruncation,
)

NAMEDATALEN = 64


def decode_utf8(data: bytes) -> str:
    """UTF-8 bytes from a client -> str; 22021 as PostgreSQL reports an invalid byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 2]
        shown = " ".join(f"0x{b:02x}" for b in bad)
        raise CharacterNotInRepertoire(f'invalid byte sequence for encoding "UTF8": {shown}') from None
    if "\x00" in text:
        raise CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8": 0x00')
    return text


def varchar_length_check(value: str, typmod: int, explicit: bool = False) -> str:
    """varchar(n): too long is 22001 unless only blanks are cut, or the cast is explicit."""
    if typmod < 4:
        return value
    limit = typmod - 4
    if len(value) <= limit:
        return value
    if not explicit and value[limit:].strip(" "):
        raise StringDataRightTruncation(f"value too long for type character varying({limit})")
    return value[:limit]


def bpchar_length_check(value: str, typmod: int, explicit: bool = False) -> str:
    """character(n): pad with blanks to n; too long is 22001 unless only blanks are cut."""
    if typmod < 4:
        return value
    limit = typmod - 4
    if len(value) > limit:
        if not explicit and value[limit:].strip(" "):
            raise StringDataRightTruncation(f"value too long for type character({limit})")
        return value[:limit]
    return value.ljust(limit)


def truncate_name(value: str) -> str:
    """namein: at most NAMEDATALEN-1 bytes, cut on a character boundary."""
    encoded = value.encode("utf-8")
    if len(encoded) < NAMEDATALEN:
        return value
    return encoded[:NAMEDATALEN - 1].decode("utf-8", errors="ignore")


def parse_char(text: str) -> str:
    """charin: the first byte ('' for empty input); '\\ooo' octal escapes as charout writes them."""
    if len(text) == 4 and text[0] == "\\" and all(c in "01234567" for c in text[1:]):
        return chr(int(text[1:], 8))
    return text[:1]


def format_char(value: str) -> str:
    """charout: the byte itself, or '\\ooo' for bytes with the high bit set."""
    if value and ord(value) > 127:
        return "\\%03o" % (ord(value) & 0xFF)
    return value


# --- bytea -------------------------------------------------------------------------------------

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_HEX_TABLE = {c: int(c, 16) for c in "0123456789abcdefABCDEF"}
_ESCAPE_OCTAL = re.compile(r"\\([0-3][0-7][0-7])")


def parse_bytea(text: str) -> bytes:
    """byteain: '\\x' hex (whitespace between bytes allowed) or the traditional escape format."""
    if text.startswith("\\x"):
        body = text[2:]
        try:
            return bytes.fromhex(body)
        except ValueError:
            pass
        out = bytearray()
        i, n = 2, len(text)
        while i < n:
            c = text[i]
            if c in " \t\n\r":
                i += 1
                continue
            if c not in _HEX_DIGITS:
                raise InvalidParameterValue(f'invalid hexadecimal digit: "{c}"')
            if i + 1 >= n:
                raise InvalidParameterValue("invalid hexadecimal data: odd number of digits")
            d = text[i + 1]
            if d not in _HEX_DIGITS:
                raise InvalidParameterValue(f'invalid hexadecimal digit: "{d}"')
            out.append(_HEX_TABLE[c] * 16 + _HEX_TABLE[d])
            i += 2
        return bytes(out)
    if "\\" not in text:
        return text.encode("utf-8")
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        if i + 1 < n and text[i + 1] == "\\":
            out.append(0x5C)
            i += 2
            continue
        if _ESCAPE_OCTAL.match(text, i):
            out.append(int(text[i + 1:i + 4], 8))
            i += 4
            continue
        raise InvalidTextRepresentation("invalid input syntax for type bytea")
    return bytes(out)


def format_bytea_hex(value: bytes) -> str:
    return "\\x" + value.hex()


def format_bytea_escape(value: bytes) -> str:
    """byteaout with bytea_output = escape."""
    parts = []
    for b in value:
        if b == 0x5C:
            parts.append("\\\\")
        elif 0x20 <= b < 0x7F:
            parts.append(chr(b))
        else:
            parts.append(f"\\{b:03o}")
    return "".join(parts)


def bpchar_trimmed(value: str) -> str:
    """character(n) semantics ignore trailing blanks (comparison, length, cast to text)."""
    return value.rstrip(" ")
