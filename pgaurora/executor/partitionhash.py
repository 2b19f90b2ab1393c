"""PostgreSQL's hash partitioning hash: which HASH partition a key belongs to, bit for bit.

Owns `row_hash(values, type_oids)`: PostgreSQL's compute_partition_hash_value — each non-NULL key
column hashed by its type's extended hash function with HASH_PARTITION_SEED, combined with
hash_combine64 — so that a row lands in the same partition (rowHash % modulus == remainder) as it
would in PostgreSQL, and a dump moves between the two unchanged. The hash functions are
Bob Jenkins' lookup3 as PostgreSQL's hashfn.c has them (hash_bytes_uint32_extended and
hash_bytes_extended), for the integer types and the string types (C collation: the bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgaurora.errors import FeatureNotSupported

HASH_PARTITION_SEED = 0x7A5B22367996DCFD
_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    a = (a - c) & _M32; a ^= _rot(c, 4); c = (c + b) & _M32  # noqa: E702
    b = (b - a) & _M32; b ^= _rot(a, 6); a = (a + c) & _M32  # noqa: E702
    c = (c - b) & _M32; c ^= _rot(b, 8); b = (b + a) & _M32  # noqa: E702
    a = (a - c) & _M32; a ^= _rot(c, 16); c = (c + b) & _M32  # noqa: E702
    b = (b - a) & _M32; b ^= _rot(a, 19); a = (a + c) & _M32  # noqa: E702
    c = (c - b) & _M32; c ^= _rot(b, 4); b = (b + a) & _M32  # noqa: E702
    return a, b, c


def _final(a: int, b: int, c: int) -> tuple[int, int, int]:
    c ^= b; c = (c - _rot(b, 14)) & _M32  # noqa: E702
    a ^= c; a = (a - _rot(c, 11)) & _M32  # noqa: E702
    b ^= a; b = (b - _rot(a, 25)) & _M32  # noqa: E702
    c ^= b; c = (c - _rot(b, 16)) & _M32  # noqa: E702
    a ^= c; a = (a - _rot(c, 4)) & _M32  # noqa: E702
    b ^= a; b = (b - _rot(a, 14)) & _M32  # noqa: E702
    c ^= b; c = (c - _rot(b, 24)) & _M32  # noqa: E702
    return a, b, c


def hash_uint32_extended(k: int, seed: int) -> int:
    a = b = c = (0x9E3779B9 + 4 + 3923095) & _M32
    if seed:
        a = (a + (seed >> 32)) & _M32
        b = (b + (seed & _M32)) & _M32
        a, b, c = _mix(a, b, c)
    a = (a + (k & _M32)) & _M32
    a, b, c = _final(a, b, c)
    return (b << 32) | c


def hash_bytes_extended(data: bytes, seed: int) -> int:
    """hash_bytes_extended on a little-endian machine (words read as little-endian uint32)."""
    length = len(data)
    a = b = c = (0x9E3779B9 + length + 3923095) & _M32
    if seed:
        a = (a + (seed >> 32)) & _M32
        b = (b + (seed & _M32)) & _M32
        a, b, c = _mix(a, b, c)
    pos = 0
    while length - pos >= 12:
        a = (a + int.from_bytes(data[pos:pos + 4], "little")) & _M32
        b = (b + int.from_bytes(data[pos + 4:pos + 8], "little")) & _M32
        c = (c + int.from_bytes(data[pos + 8:pos + 12], "little")) & _M32
        a, b, c = _mix(a, b, c)
        pos += 12
    rest = data[pos:]
    n = len(rest)
    # the switch of hashfn.c: the last byte slot of c is reserved for the length (added above)
    if n >= 9:
        c = (c + (int.from_bytes(rest[8:n], "little") << 8)) & _M32
    if n >= 5:
        b = (b + int.from_bytes(rest[4:min(n, 8)], "little")) & _M32
    if n >= 1:
        a = (a + int.from_bytes(rest[0:min(n, 4)], "little")) & _M32
    a, b, c = _final(a, b, c)
    return (b << 32) | c


def _hash_int4(value: int, seed: int) -> int:
    return hash_uint32_extended(value & _M32, seed)


def _hash_int8(value: int, seed: int) -> int:
    lohalf = value & _M32
    hihalf = (value >> 32) & _M32
    lohalf ^= hihalf if value >= 0 else (~hihalf & _M32)
    return hash_uint32_extended(lohalf, seed)


def _hash_text(value: str, seed: int) -> int:
    return hash_bytes_extended(value.encode("utf-8"), seed)


_HASHERS: dict[int, Callable[[Any, int], int]] = {21: _hash_int4, 23: _hash_int4, 20: _hash_int8,
                                                   25: _hash_text, 1043: _hash_text}


def check_hashable(type_oid: int, type_name: str) -> None:
    if type_oid not in _HASHERS:
        raise FeatureNotSupported(f"hash partitioning on type {type_name} is not supported")


def row_hash(values: tuple[Any, ...], type_oids: tuple[int, ...]) -> int:
    """compute_partition_hash_value: NULL columns add nothing."""
    row = 0
    for value, oid in zip(values, type_oids, strict=True):
        if value is None:
            continue
        h = _HASHERS[oid](value, HASH_PARTITION_SEED)
        row = (row ^ ((h + 0x49A0F4DD15E5A8E3 + (row << 54) + (row >> 7)) & _M64)) & _M64
    return row


__all__ = ["row_hash", "check_hashable", "hash_uint32_extended", "hash_bytes_extended", "HASH_PARTITION_SEED"]
