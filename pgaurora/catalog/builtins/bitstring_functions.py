"""Bit string operators and functions: & | # ~ << >> ||, comparisons, length, get_bit, set_bit.

Owns PostgreSQL's semantics on bit/varbit values (str of '0'/'1'): the binary operators need
equal lengths (22026 "cannot AND bit strings of different sizes"), shifts keep the length and
fill with zeros. Not bit string I/O (datatypes.bitstrings).
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable

from pgaurora.catalog.builtins.registry import function, operator
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import ArraySubscriptError, InvalidParameterValue, StringDataLengthMismatch

B, I4 = t.BOOL_OID, t.INT4_OID


def _bit_binary(name: str, combine: str) -> Callable[[str, str], str]:
    def apply(a: str, b: str) -> str:
        if len(a) != len(b):
            raise StringDataLengthMismatch(f"cannot {name} bit strings of different sizes")
        if combine == "&":
            return "".join("1" if x == "1" and y == "1" else "0" for x, y in zip(a, b, strict=True))
        if combine == "|":
            return "".join("1" if x == "1" or y == "1" else "0" for x, y in zip(a, b, strict=True))
        return "".join("1" if x != y else "0" for x, y in zip(a, b, strict=True))

    return apply


def _bit_shift_left(value: str, n: int) -> str:
    if n < 0:
        return _bit_shift_right(value, -n)
    n = min(n, len(value))
    return value[n:] + "0" * n


def _bit_shift_right(value: str, n: int) -> str:
    if n < 0:
        return _bit_shift_left(value, -n)
    n = min(n, len(value))
    return "0" * n + value[:len(value) - n]


def _get_bit(value: str, n: int) -> int:
    if not 0 <= n < len(value):
        raise ArraySubscriptError(f"bit index {n} out of valid range (0..{len(value) - 1})")
    return int(value[n])


def _set_bit(value: str, n: int, bit: int) -> str:
    if not 0 <= n < len(value):
        raise ArraySubscriptError(f"bit index {n} out of valid range (0..{len(value) - 1})")
    if bit not in (0, 1):
        raise InvalidParameterValue("new bit must be 0 or 1")
    return value[:n] + str(bit) + value[n + 1:]


def _register_bits() -> None:
    BIT, VARBIT = t.BIT_OID, t.VARBIT_OID
    for oid in (BIT, VARBIT):
        for name, fn in (("=", op.eq), ("<>", op.ne), ("<", op.lt), ("<=", op.le), (">", op.gt), (">=", op.ge)):
            operator(name, oid, oid, B, fn)
    # varbit reaches these through its binary-coercible cast to bit, as in PostgreSQL
    function("length", (BIT,), I4, len)
    function("bit_length", (BIT,), I4, len)
    function("octet_length", (BIT,), I4, lambda v: (len(v) + 7) // 8)
    function("get_bit", (BIT, I4), I4, _get_bit)
    function("set_bit", (BIT, I4, I4), BIT, _set_bit)
    operator("&", BIT, BIT, BIT, _bit_binary("AND", "&"))
    operator("|", BIT, BIT, BIT, _bit_binary("OR", "|"))
    operator("#", BIT, BIT, BIT, _bit_binary("XOR", "#"))
    operator("~", None, BIT, BIT, lambda v: "".join("0" if c == "1" else "1" for c in v))
    operator("<<", BIT, I4, BIT, _bit_shift_left)
    operator(">>", BIT, I4, BIT, _bit_shift_right)
    operator("||", VARBIT, VARBIT, VARBIT, lambda a, b: a + b)


_register_bits()
