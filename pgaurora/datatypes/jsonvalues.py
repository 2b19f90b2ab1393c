"""json and jsonb: validation, jsonb's normalised form and its text output.

Owns json_in (validated, kept verbatim), jsonb_in (parsed: object keys ordered shorter-first
then bytewise, duplicate keys resolved last-wins, numbers as int or Decimal like numeric),
jsonb_out ('{"a": 1, "b": [1, 2]}'), and jsonb's binary format (version byte 1 + text).
Not the json operators and functions (catalog.builtins.json_functions).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pgaurora.datatypes.numbers import format_float8, format_numeric, normalize_numeric
from pgaurora.datatypes.values import Jsonb
from pgaurora.errors import InvalidBinaryRepresentation, InvalidTextRepresentation, UntranslatableCharacter


def _reject_constant(name: str) -> Any:
    raise ValueError(f'Token "{name}" is invalid.')


def _parse_number(text: str) -> Any:
    return normalize_numeric(Decimal(text))


def jsonb_key_order(key: str) -> tuple[int, bytes]:
    encoded = key.encode("utf-8")
    return (len(encoded), encoded)


def _object_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key, value in pairs:
        merged[key] = value
    return {k: merged[k] for k in sorted(merged, key=jsonb_key_order)}


def _decode_error(text: str, exc: Exception, type_name: str) -> InvalidTextRepresentation:
    detail = str(exc)
    if isinstance(exc, json.JSONDecodeError):
        if exc.msg.startswith("Expecting value") and exc.pos >= len(text.rstrip()):
            detail = "The input string ended unexpectedly."
        else:
            token = text[exc.pos:].split(None, 1)[0] if text[exc.pos:].strip() else ""
            detail = f'Token "{token}" is invalid.' if token else "The input string ended unexpectedly."
    return InvalidTextRepresentation(f"invalid input syntax for type {type_name}", detail=detail)


def parse_json(text: str) -> str:
    """json_in: the text itself once it is valid JSON."""
    try:
        json.loads(text, parse_float=Decimal, parse_int=int, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _decode_error(text, exc, "json") from None
    return text


def _check_no_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise UntranslatableCharacter("unsupported Unicode escape sequence",
                                          detail="\\u0000 cannot be converted to text.")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_no_nul(k)
            _check_no_nul(v)
    elif isinstance(value, list):
        for v in value:
            _check_no_nul(v)


def parse_jsonb(text: str) -> Jsonb:
    """jsonb_in."""
    try:
        value = json.loads(text, parse_float=_parse_number, parse_int=int,
                           parse_constant=_reject_constant, object_pairs_hook=_object_hook)
    except (ValueError, RecursionError) as exc:
        raise _decode_error(text, exc, "json") from None
    if "\\u0000" in text:
        _check_no_nul(value)
    return Jsonb(value)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_json_string(value: str) -> str:
    """escape_json(): the same escapes PostgreSQL writes."""
    out = ['"']
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_json_value(value: Any, pretty: bool = False, indent: int = 0) -> str:
    """jsonb_out for a parsed value (also used by to_json for scalars and by jsonb_pretty)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return quote_json_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format_numeric(value)
    if isinstance(value, float):
        return format_float8(value)
    if isinstance(value, Jsonb):
        return format_json_value(value.value, pretty, indent)
    if isinstance(value, dict):
        if not value:
            return "{}"
        if pretty:
            pad = "    " * (indent + 1)
            items = ",\n".join(f"{pad}{quote_json_string(k)}: {format_json_value(v, True, indent + 1)}"
                               for k, v in value.items())
            return "{\n" + items + "\n" + "    " * indent + "}"
        return "{" + ", ".join(f"{quote_json_string(k)}: {format_json_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if pretty:
            pad = "    " * (indent + 1)
            items = ",\n".join(pad + format_json_value(v, True, indent + 1) for v in value)
            return "[\n" + items + "\n" + "    " * indent + "]"
        return "[" + ", ".join(format_json_value(v) for v in value) + "]"
    raise TypeError(f"not a jsonb value: {value!r}")


def format_jsonb(value: Jsonb) -> str:
    return format_json_value(value.value)


def normalize_json_value(value: Any) -> Any:
    """Bring a Python value built by functions into jsonb's normalised form (sorted keys, Decimal)."""
    if isinstance(value, Jsonb):
        return value.value
    if isinstance(value, dict):
        return {k: normalize_json_value(value[k]) for k in sorted(value, key=jsonb_key_order)}
    if isinstance(value, list | tuple):
        return [normalize_json_value(v) for v in value]
    if isinstance(value, float):
        return value
    return value


def _jsonb_rank(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return 1
    if isinstance(value, bool):
        return 3
    if isinstance(value, int | float | Decimal):
        return 2
    if isinstance(value, list):
        return 4
    return 5


def jsonb_value_cmp(a: Any, b: Any, top: bool = True) -> int:
    """jsonb ordering: object > array > boolean > number > string > null, except that an empty
    top-level array sorts before everything; then by content."""
    ra, rb = _jsonb_rank(a), _jsonb_rank(b)
    if top and (a == [] or b == []) and isinstance(a, list) != isinstance(b, list) or (
            top and isinstance(a, list) and isinstance(b, list) and (not a) != (not b)):
        return -1 if a == [] else 1
    if ra != rb:
        return (ra > rb) - (ra < rb)
    if ra == 5:
        if len(a) != len(b):
            return (len(a) > len(b)) - (len(a) < len(b))
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
            key = (len(ka.encode()), ka.encode()) > (len(kb.encode()), kb.encode())
            if ka != kb:
                return 1 if key else -1
            c = jsonb_value_cmp(va, vb, False)
            if c:
                return c
        return 0
    if ra == 4:
        if len(a) != len(b):
            return (len(a) > len(b)) - (len(a) < len(b))
        for x, y in zip(a, b, strict=True):
            c = jsonb_value_cmp(x, y, False)
            if c:
                return c
        return 0
    if ra == 2:
        da, db = Decimal(a) if isinstance(a, float) else a, Decimal(b) if isinstance(b, float) else b
        return (da > db) - (da < db)
    if ra == 1:
        ea, eb = a.encode(), b.encode()
        return (ea > eb) - (ea < eb)
    return (a > b) - (a < b)


def jsonb_send(value: Jsonb) -> bytes:
    return b"\x01" + format_jsonb(value).encode("utf-8")


def jsonb_recv(data: bytes) -> Jsonb:
    if not data or data[0] != 1:
        raise InvalidBinaryRepresentation(f"unsupported jsonb version number {data[0] if data else 0}")
    from pgaurora.datatypes.strings import decode_utf8

    return parse_jsonb(decode_utf8(data[1:]))
