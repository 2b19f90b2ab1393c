"""Anonymous records (composite values): record_out / record_in text format.

Owns the '(1,"a b",)' format: fields separated by commas, NULL written as nothing, a field
quoted when it is empty or contains a comma, parenthesis, quote, backslash or whitespace;
inside quotes '"' and '\\' are doubled. A record value is a tuple; each field is encoded or
decoded by its own type's closure (the executor knows the field types). A record leaving the
server as a result column of type record (2249) is a TypedRecord, which carries its fields' type
oids for record_out and record_send (datatypes.codecs). Not row_to_json.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pgaurora.errors import InvalidTextRepresentation


class TypedRecord(tuple):  # type: ignore[type-arg]
    """A record value with its fields' type oids (`types`), as record_out / record_send need them."""

    types: tuple[int, ...]

    @staticmethod
    def of(values: Sequence[Any], types: tuple[int, ...]) -> TypedRecord:
        record = TypedRecord(values)
        record.types = types
        return record


def record_key(value: Sequence[Any]) -> tuple[Any, ...]:
    """A composite value's sort key: field by field, a NULL field equal to another NULL and after
    any value (PostgreSQL's composite comparison, which sorting and indexes need)."""
    return tuple((1, 0) if v is None else (0, record_key(v) if isinstance(v, tuple) else v) for v in value)


class CompositeValue(tuple):  # type: ignore[type-arg]
    """A value of a composite type (CREATE TYPE ... AS): a tuple of its attributes' values that
    orders as PostgreSQL orders composites (record_key), so ORDER BY, GROUP BY and indexes work
    with NULL fields."""

    __slots__ = ()

    def __lt__(self, other: Any) -> bool:
        return record_key(self) < record_key(other) if isinstance(other, tuple) else NotImplemented

    def __le__(self, other: Any) -> bool:
        return record_key(self) <= record_key(other) if isinstance(other, tuple) else NotImplemented

    def __gt__(self, other: Any) -> bool:
        return record_key(self) > record_key(other) if isinstance(other, tuple) else NotImplemented

    def __ge__(self, other: Any) -> bool:
        return record_key(self) >= record_key(other) if isinstance(other, tuple) else NotImplemented

    __eq__ = tuple.__eq__
    __hash__ = tuple.__hash__


_SPECIAL = frozenset('"\\(),') | frozenset(" \t\n\r\v\f")


def format_record(values: Sequence[Any], encoders: Sequence[Callable[[Any], str]]) -> str:
    """record_out."""
    parts = []
    for value, encode in zip(values, encoders, strict=True):
        if value is None:
            parts.append("")
            continue
        text = encode(value)
        if text == "" or any(ch in _SPECIAL for ch in text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '""') + '"'
        parts.append(text)
    return "(" + ",".join(parts) + ")"


def read_element(body: str, pos: int, stops: str) -> tuple[str, int, bool]:
    """One element of a record or range literal from `pos`: double quotes around any part
    (`""` inside them is a quote), a backslash escaping the next character, up to an unquoted
    character of `stops`. Returns its text, the position after it, and whether anything was
    written there (an empty unquoted element is NULL, or an infinite bound)."""
    chars: list[str] = []
    quoted = False
    seen = False
    n = len(body)
    while pos < n:
        ch = body[pos]
        if ch == '"':
            seen = True
            if quoted and pos + 1 < n and body[pos + 1] == '"':
                chars.append('"')
                pos += 2
                continue
            quoted = not quoted
            pos += 1
            continue
        if ch == "\\" and pos + 1 < n:
            chars.append(body[pos + 1])
            pos += 2
            seen = True
            continue
        if not quoted and ch in stops:
            break
        chars.append(ch)
        seen = True
        pos += 1
    return "".join(chars), pos, seen


def parse_record(text: str, decoders: Sequence[Callable[[str], Any]]) -> tuple[Any, ...]:
    """record_in for a known list of field types."""
    def malformed(detail: str) -> InvalidTextRepresentation:
        return InvalidTextRepresentation(f'malformed record literal: "{text}"', detail=detail)

    body = text.strip()
    if not body.startswith("("):
        raise malformed('Missing left parenthesis.')
    pos, n = 1, len(body)
    values: list[Any] = []
    for index, decode in enumerate(decoders):
        if pos >= n:
            raise malformed("Too few columns.")
        raw, pos, seen = read_element(body, pos, ",)")
        was_empty = not seen
        values.append(None if was_empty else decode(raw))
        if pos >= n:
            raise malformed("Unexpected end of input.")
        if body[pos] == ")":
            if index != len(decoders) - 1:
                raise malformed("Too few columns.")
            pos += 1
            break
        pos += 1
        if index == len(decoders) - 1:
            raise malformed("Too many columns.")
    else:
        if not decoders:
            pos = body.find(")") + 1
    if body[pos:].strip():
        raise malformed("Junk after right parenthesis.")
    return tuple(values)
