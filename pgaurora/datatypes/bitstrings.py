"""bit(n) and bit varying(n): a value is a str of '0'/'1' characters.

Owns bit_in/varbit_in ('0101', or hex 'x1F' / 'X1F'), output, the binary format (int32 bit
count + the bits packed into bytes, zero-padded) and the typmod rules: bit(n) demands exactly
n bits (22026) unless the cast is explicit (then it pads with zeros or truncates); varbit(n)
allows up to n (22001, explicit casts truncate). Not the bit operators (catalog.builtins).
"""

from __future__ import annotations

import struct

from pgaurora.errors import (
    InvalidBinaryRepresentation,
    InvalidTextRepresentation,
    StringDataLengthMismatch,
    StringDataRightTruncation,
)

_LENGTH = struct.Struct(">i")


def parse_bits(text: str) -> str:
    """bit_in / varbit_in (also accepts the B'...' body and x/X hex form)."""
    if text[:1] in ("x", "X"):
        bits = []
        for ch in text[1:]:
            try:
                bits.append(format(int(ch, 16), "04b"))
            except ValueError:
                raise InvalidTextRepresentation(f'"{ch}" is not a valid hexadecimal digit') from None
        return "".join(bits)
    body = text[1:] if text[:1] in ("b", "B") else text
    for ch in body:
        if ch not in "01":
            raise InvalidTextRepresentation(f'"{ch}" is not a valid binary digit')
    return body


def bit_send(value: str) -> bytes:
    padded = value + "0" * (-len(value) % 8)
    return _LENGTH.pack(len(value)) + bytes(int(padded[i:i + 8], 2) for i in range(0, len(padded), 8))


def bit_recv(data: bytes) -> str:
    if len(data) < 4:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    (length,) = _LENGTH.unpack_from(data)
    if length < 0 or len(data) - 4 != (length + 7) // 8:
        raise InvalidBinaryRepresentation("invalid length in external bit string")
    return "".join(format(b, "08b") for b in data[4:])[:length]


def bit_typmod(value: str, typmod: int, explicit: bool = False) -> str:
    """bit(n): exactly n bits."""
    if typmod <= 0 or len(value) == typmod:
        return value
    if explicit:
        return value[:typmod].ljust(typmod, "0")
    raise StringDataLengthMismatch(f"bit string length {len(value)} does not match type bit({typmod})")


def varbit_typmod(value: str, typmod: int, explicit: bool = False) -> str:
    """bit varying(n): at most n bits."""
    if typmod <= 0 or len(value) <= typmod:
        return value
    if explicit:
        return value[:typmod]
    raise StringDataRightTruncation(f"bit string too long for type bit varying({typmod})")


def bits_from_int(value: int, width: int) -> str:
    """int4/int8 -> bit(n): the low n bits of the two's complement value."""
    return format(value & ((1 << width) - 1), f"0{width}b") if width else ""


def bits_to_int(value: str, bits: int) -> int:
    """bit -> int4/int8: the last `bits` bits as a signed integer."""
    from pgaurora.errors import NumericValueOutOfRange

    if len(value) > bits:
        raise NumericValueOutOfRange("integer out of range" if bits == 32 else "bigint out of range")
    number = int(value, 2) if value else 0
    if len(value) == bits and number >= 1 << (bits - 1):
        number -= 1 << bits
    return number
