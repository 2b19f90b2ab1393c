"""Range types (int4range, int8range, numrange, tsrange, tstzrange, daterange): values and I/O.

Owns Range (a value: lower and upper bound, each inclusive or not, None for an infinite one,
or empty), PostgreSQL's canonical form of the discrete ones (int4range, int8range, daterange:
`[a,b)`, so `[1,3]` is `[1,4)` and `(1,2)` is empty), their order (empty first, then by lower
bound, then by upper bound), the text form (`[1,4)`, `empty`, `(,"2020-01-01 00:00:00")`) and
the binary one (a flags byte, then each finite bound as a length and its element's binary
value). Not the functions and operators over them (catalog.builtins.range_functions).

    parse_range("[1,3]", int, discrete)  -> Range(1, 4, True, False)
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable
from typing import Any

from pgaurora.datatypes.records import read_element
from pgaurora.errors import InvalidBinaryRepresentation, InvalidTextRepresentation, PgError

# range oid -> (element oid, discrete step: the next value of the element type, or None)
RANGE_TYPES: dict[int, tuple[int, Callable[[Any], Any] | None]] = {
    3904: (23, lambda v: v + 1),
    3926: (20, lambda v: v + 1),
    3906: (1700, None),
    3908: (1114, None),
    3910: (1184, None),
    3912: (1082, lambda v: v + datetime.timedelta(days=1)),
}
ELEMENT_TO_RANGE = {element: oid for oid, (element, _) in RANGE_TYPES.items()}

_EMPTY, _LB_INC, _UB_INC, _LB_INF, _UB_INF = 0x01, 0x02, 0x04, 0x08, 0x10
_SPECIAL = frozenset('"\\()[],') | frozenset(" \t\n\r\v\f")


class Range:
    """A range value; `lower` / `upper` None is an infinite bound (never inclusive)."""

    __slots__ = ("lower", "upper", "lower_inc", "upper_inc", "empty")

    def __init__(self, lower: Any, upper: Any, lower_inc: bool = True, upper_inc: bool = False,
                 empty: bool = False) -> None:
        self.lower = None if empty else lower
        self.upper = None if empty else upper
        self.lower_inc = not empty and lower is not None and lower_inc
        self.upper_inc = not empty and upper is not None and upper_inc
        self.empty = empty

    def key(self) -> tuple[Any, ...]:
        """The order PostgreSQL's range_cmp gives: empty first, then lower bound, then upper."""
        if self.empty:
            return (0,)
        low = (0,) if self.lower is None else (1, self.lower, 0 if self.lower_inc else 1)
        high = (2,) if self.upper is None else (1, self.upper, 1 if self.upper_inc else 0)
        return (1, low, high)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Range) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented  # (an index scan's bound sentinel compares itself)
        return self.key() < other.key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented  # (an index scan's bound sentinel compares itself)
        return self.key() <= other.key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented  # (an index scan's bound sentinel compares itself)
        return self.key() > other.key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented  # (an index scan's bound sentinel compares itself)
        return self.key() >= other.key()

    def __repr__(self) -> str:
        if self.empty:
            return "Range(empty)"
        return f"Range({self.lower!r}, {self.upper!r}, {self.lower_inc}, {self.upper_inc})"


def make_range(range_oid: int, lower: Any, upper: Any, bounds: str = "[)") -> Range:
    """range constructors (int4range(1, 5, '[]')) and range input: checked and canonical."""
    if bounds not in ("[)", "[]", "(]", "()"):
        raise PgError("invalid range bound flags", sqlstate="42601", hint='Valid values are "[]", "[)", "(]", and "()".')
    lower_inc, upper_inc = bounds[0] == "[", bounds[1] == "]"
    if lower is not None and upper is not None and lower > upper:
        raise PgError("range lower bound must be less than or equal to range upper bound", sqlstate="22000")
    return canonical(range_oid, Range(lower, upper, lower_inc, upper_inc))


def canonical(range_oid: int, value: Range) -> Range:
    """A discrete range as `[a,b)`; a range with no values as empty."""
    if value.empty:
        return value
    step = RANGE_TYPES[range_oid][1]
    lower, upper, lower_inc, upper_inc = value.lower, value.upper, value.lower_inc, value.upper_inc
    if step is not None:
        if lower is not None and not lower_inc:
            lower, lower_inc = _next(step, lower), True
        if upper is not None and upper_inc:
            upper, upper_inc = _next(step, upper), False
    if lower is not None and upper is not None and (lower > upper or (lower == upper and not (lower_inc and upper_inc))):
        return Range(None, None, empty=True)
    return Range(lower, upper, lower_inc, upper_inc)


def _next(step: Callable[[Any], Any], value: Any) -> Any:
    try:
        return step(value)
    except (OverflowError, ValueError):
        raise PgError("integer out of range" if isinstance(value, int) else "date out of range",
                      sqlstate="22003" if isinstance(value, int) else "22008") from None


def format_range(value: Range, element_out: Callable[[Any], str]) -> str:
    """range_out: `[1,4)`, `empty`, an element quoted when it holds a special character."""
    if value.empty:
        return "empty"

    def bound(v: Any) -> str:
        if v is None:
            return ""
        text = element_out(v)
        if text == "" or any(ch in _SPECIAL for ch in text):
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return text

    return ("[" if value.lower_inc else "(") + bound(value.lower) + "," + bound(value.upper) + \
        ("]" if value.upper_inc else ")")


def parse_range(text: str, range_oid: int, element_in: Callable[[str], Any]) -> Range:
    """range_in, with PostgreSQL's messages (22P02)."""
    def malformed(detail: str) -> InvalidTextRepresentation:
        return InvalidTextRepresentation(f'malformed range literal: "{text}"', detail=detail)

    body = text.strip()
    if body.lower() == "empty":
        return Range(None, None, empty=True)
    if not body or body[0] not in "[(":
        raise malformed('Missing left parenthesis or bracket.')
    pos = 1

    def element(pos: int) -> tuple[str | None, int]:
        text, pos, seen = read_element(body, pos, ",)]")
        return (text if seen else None), pos

    low_text, pos = element(pos)
    if pos >= len(body) or body[pos] != ",":
        raise malformed("Missing comma after lower bound.")
    high_text, pos = element(pos + 1)
    if pos >= len(body):
        raise malformed("Unexpected end of input.")
    if body[pos] not in ")]":
        raise malformed("Too many commas." if body[pos] == "," else "Missing right parenthesis or bracket.")
    if body[pos + 1:].strip():
        raise malformed("Junk after right parenthesis or bracket.")
    lower = element_in(low_text) if low_text is not None else None
    upper = element_in(high_text) if high_text is not None else None
    return make_range(range_oid, lower, upper, body[0] + body[pos])


def range_send(value: Range, element_send: Callable[[Any], bytes]) -> bytes:
    if value.empty:
        return bytes((_EMPTY,))
    flags = (_LB_INC if value.lower_inc else 0) | (_UB_INC if value.upper_inc else 0) | \
        (_LB_INF if value.lower is None else 0) | (_UB_INF if value.upper is None else 0)
    parts = [bytes((flags,))]
    for bound in (value.lower, value.upper):
        if bound is not None:
            data = element_send(bound)
            parts.append(struct.pack(">i", len(data)))
            parts.append(data)
    return b"".join(parts)


def range_recv(data: bytes, range_oid: int, element_recv: Callable[[bytes], Any]) -> Range:
    view = memoryview(data)
    if not view:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    flags = view[0]
    if flags & _EMPTY:
        return Range(None, None, empty=True)
    at = 1
    bounds: list[Any] = []
    for infinite in (flags & _LB_INF, flags & _UB_INF):
        if infinite:
            bounds.append(None)
            continue
        try:
            (length,) = struct.unpack_from(">i", view, at)
        except struct.error:
            raise InvalidBinaryRepresentation("insufficient data left in message") from None
        bounds.append(element_recv(bytes(view[at + 4:at + 4 + length])))
        at += 4 + length
    return make_range(range_oid, bounds[0], bounds[1],
                      ("[" if flags & _LB_INC else "(") + ("]" if flags & _UB_INC else ")"))


__all__ = ["RANGE_TYPES", "ELEMENT_TO_RANGE", "Range", "make_range", "canonical", "format_range", "parse_range",
           "range_send", "range_recv"]
