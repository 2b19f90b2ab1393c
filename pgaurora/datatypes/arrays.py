"""Arrays: text literal parsing and output ('{1,2,NULL}', '{{1,2},{3,4}}', '{"a b","x\\"y"}'), binary.

Owns array_in (quoting, backslash escapes, NULL, nested dimensions, an optional '[1:3]='
dimension prefix whose bounds are dropped: Python lists always start at 1), array_out
(PostgreSQL's quoting rules) and array_send/array_recv. A value is a list, nested for several
dimensions; elements are the element type's values. Not array functions (catalog.builtins).

    binary:  int32 ndim | int32 has_null | uint32 elem_oid | (int32 size, int32 lbound) * ndim
             | (int32 length or -1, bytes) per element in row-major order
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from pgaurora.errors import InvalidBinaryRepresentation, InvalidTextRepresentation, ProgramLimitExceeded

MAXDIM = 6
_SPACE = " \t\n\r\v\f"  # array_isspace(): not str.isspace(), which also takes \x1c-\x1f
_I4 = struct.Struct(">i")
_HEADER = struct.Struct(">iiI")
_DIM = struct.Struct(">ii")


def _malformed(text: str, detail: str) -> InvalidTextRepresentation:
    return InvalidTextRepresentation(f'malformed array literal: "{text}"', detail=detail)


def parse_array(text: str, parse_element: Callable[[str], Any], delimiter: str = ",") -> list[Any]:
    """array_in: returns nested lists; elements pass through `parse_element` (NULL -> None)."""
    if (text.startswith("{") and text.endswith("}") and text.count("{") == 1 and text.count("}") == 1
            and '"' not in text and "\\" not in text):
        # one dimension, no quoting: the common shape of array_out's own output
        body = text[1:-1]
        if not body.strip(_SPACE):
            return []
        items = []
        for raw in body.split(delimiter):
            token = raw.strip(_SPACE)
            if not token:
                raise _malformed(text, "Unexpected \"" + delimiter + "\" character." if raw is not None else "")
            items.append(None if token.upper() == "NULL" else parse_element(token))
        return items
    pos = 0
    n = len(text)
    while pos < n and text[pos] in _SPACE:
        pos += 1
    if pos < n and text[pos] == "[":
        end = text.find("=", pos)
        if end < 0:
            raise _malformed(text, 'Missing "=" after array dimensions.')
        pos = end + 1
        while pos < n and text[pos] in _SPACE:
            pos += 1
    if pos >= n or text[pos] != "{":
        raise _malformed(text, 'Array value must start with "{" or dimension information.')
    result, pos, depth = _parse_level(text, pos, parse_element, delimiter, 1)
    while pos < n and text[pos] in _SPACE:
        pos += 1
    if pos != n:
        raise _malformed(text, "Junk after closing right brace.")
    _check_rectangular(text, result, depth)
    return result


def _parse_level(text: str, pos: int, parse_element: Callable[[str], Any], delimiter: str,
                 level: int) -> tuple[list[Any], int, int]:
    """Parse '{...}' starting at text[pos] == '{'. Returns (items, next pos, depth below)."""
    if level > MAXDIM:
        raise ProgramLimitExceeded(f"number of array dimensions ({level}) exceeds the maximum allowed ({MAXDIM})")
    n = len(text)
    pos += 1
    items: list[Any] = []
    depth = 1
    expect_item = True
    saw_delimiter = False
    while True:
        while pos < n and text[pos] in _SPACE:
            pos += 1
        if pos >= n:
            raise _malformed(text, "Unexpected end of input.")
        c = text[pos]
        if c == "}":
            if saw_delimiter and expect_item:
                raise _malformed(text, 'Unexpected "}" character.')
            return items, pos + 1, depth
        if not expect_item:
            if c != delimiter:
                raise _malformed(text, f'Unexpected "{c}" character.')
            pos += 1
            expect_item = True
            saw_delimiter = True
            continue
        if c == "{":
            sub, pos, sub_depth = _parse_level(text, pos, parse_element, delimiter, level + 1)
            if items and not isinstance(items[0], list):
                raise _malformed(text, 'Unexpected "{" character.')
            items.append(sub)
            depth = max(depth, sub_depth + 1)
            expect_item = False
            continue
        if items and isinstance(items[0], list):
            raise _malformed(text, "Unexpected array element.")
        if c == '"':
            pos += 1
            chars = []
            while True:
                if pos >= n:
                    raise _malformed(text, "Unexpected end of input.")
                ch = text[pos]
                if ch == "\\":
                    pos += 1
                    if pos >= n:
                        raise _malformed(text, "Unexpected end of input.")
                    chars.append(text[pos])
                elif ch == '"':
                    pos += 1
                    break
                else:
                    chars.append(ch)
                pos += 1
            items.append(parse_element("".join(chars)))
        else:
            chars = []
            last_significant = 0
            quoted_any = False
            while pos < n:
                ch = text[pos]
                if ch == delimiter or ch == "}":
                    break
                if ch in '{"':
                    raise _malformed(text, f'Unexpected "{ch}" character.')
                if ch == "\\":
                    pos += 1
                    if pos >= n:
                        raise _malformed(text, "Unexpected end of input.")
                    chars.append(text[pos])
                    last_significant = len(chars)
                    quoted_any = True
                else:
                    chars.append(ch)
                    if ch not in _SPACE:
                        last_significant = len(chars)
                pos += 1
            token = "".join(chars[:last_significant])
            if not quoted_any and token.upper() == "NULL":
                items.append(None)
            else:
                items.append(parse_element(token))
        expect_item = False


def _check_rectangular(text: str, value: list[Any], depth: int) -> None:
    def shape(v: Any, level: int) -> tuple[int, ...]:
        if not isinstance(v, list):
            return ()
        if not v:
            return (0,)
        shapes = {shape(x, level + 1) for x in v}
        if len(shapes) != 1:
            raise _malformed(text, "Multidimensional arrays must have sub-arrays with matching dimensions.")
        return (len(v), *shapes.pop())

    shape(value, 1)


def _needs_quotes(text: str, delimiter: str) -> bool:
    if text == "" or text.upper() == "NULL":
        return True
    for ch in text:
        if ch in '{}"\\' or ch == delimiter or ch in " \t\n\r\v\f":
            return True
    return False


def format_array(value: list[Any], format_element: Callable[[Any], str], delimiter: str = ",") -> str:
    """array_out: '{1,2,NULL}', elements quoted when they contain specials or are empty/'NULL'."""
    parts = []
    for item in value:
        if item is None:
            parts.append("NULL")
        elif isinstance(item, list):
            parts.append(format_array(item, format_element, delimiter))
        else:
            text = format_element(item)
            if _needs_quotes(text, delimiter):
                text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(text)
    return "{" + delimiter.join(parts) + "}"


def array_dimensions(value: list[Any]) -> list[int]:
    """Sizes of each dimension ([] for an empty array)."""
    dims: list[int] = []
    level: Any = value
    while isinstance(level, list):
        if not level:
            return dims if dims else []
        dims.append(len(level))
        level = level[0]
    return dims


def _flatten(value: list[Any], out: list[Any]) -> None:
    for item in value:
        if isinstance(item, list):
            _flatten(item, out)
        else:
            out.append(item)


def elements(value: Any) -> list[Any]:
    """Every element of an array value in row-major order (a multidimensional one flattened)."""
    out: list[Any] = []
    _flatten(list(getattr(value, "elements", value)), out)
    return out


def array_send(value: list[Any], elem_oid: int, send_element: Callable[[Any], bytes]) -> bytes:
    dims = array_dimensions(value)
    flat: list[Any] = []
    if dims:
        _flatten(value, flat)
    has_null = any(v is None for v in flat)
    parts = [_HEADER.pack(len(dims), 1 if has_null else 0, elem_oid)]
    for size in dims:
        parts.append(_DIM.pack(size, 1))
    for item in flat:
        if item is None:
            parts.append(_I4.pack(-1))
        else:
            data = send_element(item)
            parts.append(_I4.pack(len(data)))
            parts.append(data)
    return b"".join(parts)


def array_recv(data: bytes, elem_oid: int, recv_element: Callable[[bytes], Any]) -> list[Any]:
    if len(data) < 12:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    ndim, _flags, got_oid = _HEADER.unpack_from(data)
    if ndim < 0 or ndim > MAXDIM:
        raise InvalidBinaryRepresentation(f"invalid number of dimensions: {ndim}")
    if elem_oid and got_oid != elem_oid:
        raise InvalidBinaryRepresentation(
            f"binary data has array element type {got_oid} (unknown) instead of expected {elem_oid}")
    pos = 12
    dims = []
    for _ in range(ndim):
        size, _lbound = _DIM.unpack_from(data, pos)
        dims.append(size)
        pos += 8
    if ndim == 0:
        return []
    total = 1
    for size in dims:
        total *= size
    flat: list[Any] = []
    for _ in range(total):
        (length,) = _I4.unpack_from(data, pos)
        pos += 4
        if length == -1:
            flat.append(None)
        else:
            flat.append(recv_element(data[pos:pos + length]))
            pos += length
    if pos != len(data):
        raise InvalidBinaryRepresentation("incorrect binary data format")
    return _unflatten(flat, dims)


def _unflatten(flat: list[Any], dims: list[int]) -> list[Any]:
    if len(dims) == 1:
        return flat
    step = len(flat) // dims[0] if dims[0] else 0
    return [_unflatten(flat[i * step:(i + 1) * step], dims[1:]) for i in range(dims[0])]
