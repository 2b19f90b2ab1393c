"""json and jsonb operators and functions: -> ->> #> #>> @> <@ ? ?| ?& || - #-, navigation, inspection.

Owns PostgreSQL's JSON semantics: json operators return the original text of the selected
element (whitespace kept), jsonb ones the normalised value; negative array indexes count from
the end; containment treats a scalar as contained in an array holding it. to_json and the
build functions live in json_building, aggregates in aggregates, parsing and jsonb output in
datatypes.jsonvalues.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from pgaurora.catalog.builtins.registry import function, operator
from pgaurora.datatypes import casts, jsonvalues, text_decoder
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.values import Jsonb
from pgaurora.errors import InvalidParameterValue

# Record-returning functions: their only use is in FROM with a column definition list, as
# PostgreSQL requires (the planner runs record_rows, below, with it)
RECORD_FUNCTIONS = frozenset({"json_to_record", "jsonb_to_record", "json_to_recordset", "jsonb_to_recordset"})

J, JB, T, I4, B = t.JSON_OID, t.JSONB_OID, t.TEXT_OID, t.INT4_OID, t.BOOL_OID
TEXT_ARRAY = t.TEXT_ARRAY_OID
_WS = " \t\n\r"


# --- json text navigation (keeps the original text of elements) ---------------------------------

def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _scan_value(text: str, pos: int) -> int:
    """The end position of the JSON value starting at text[pos] (input is known to be valid)."""
    ch = text[pos]
    if ch == '"':
        pos += 1
        while text[pos] != '"':
            pos += 2 if text[pos] == "\\" else 1
        return pos + 1
    if ch in "[{":
        close = "]" if ch == "[" else "}"
        pos = _skip_ws(text, pos + 1)
        if text[pos] == close:
            return pos + 1
        while True:
            pos = _scan_value(text, pos)
            pos = _skip_ws(text, pos)
            if ch == "{":
                pos = _skip_ws(text, pos + 1)  # past ':'
                pos = _scan_value(text, pos)
                pos = _skip_ws(text, pos)
            if text[pos] == close:
                return pos + 1
            pos = _skip_ws(text, pos + 1)  # past ','
    while pos < len(text) and text[pos] not in _WS + ",]}:":
        pos += 1
    return pos


def _json_items(text: str) -> tuple[str, list[tuple[str | None, str]]]:
    """('object'|'array'|'scalar', [(key or None, element text)]) for a json document."""
    pos = _skip_ws(text, 0)
    ch = text[pos]
    if ch not in "[{":
        return "scalar", []
    items: list[tuple[str | None, str]] = []
    close = "]" if ch == "[" else "}"
    pos = _skip_ws(text, pos + 1)
    if text[pos] == close:
        return ("array" if ch == "[" else "object"), items
    while True:
        key: str | None = None
        if ch == "{":
            end = _scan_value(text, pos)
            key = json.loads(text[pos:end])
            pos = _skip_ws(text, _skip_ws(text, end) + 1)
        end = _scan_value(text, pos)
        items.append((key, text[pos:end]))
        pos = _skip_ws(text, end)
        if text[pos] == close:
            break
        pos = _skip_ws(text, pos + 1)
    return ("array" if ch == "[" else "object"), items


def json_get(text: str, key: str | int) -> str | None:
    kind, items = _json_items(text)
    if isinstance(key, int):
        if kind != "array":
            return None
        index = key if key >= 0 else len(items) + key
        return items[index][1] if 0 <= index < len(items) else None
    if kind != "object":
        return None
    found = None
    for k, v in items:
        if k == key:
            found = v
    return found


def _json_scalar_text(element: str | None) -> str | None:
    if element is None:
        return None
    stripped = element.strip()
    if stripped == "null":
        return None
    if stripped.startswith('"'):
        return json.loads(stripped)
    return stripped


def json_get_path(text: str, path: list[str | None]) -> str | None:
    current: str | None = text
    for step in path:
        if current is None or step is None:
            return None
        kind, _ = _json_items(current)
        if kind == "array":
            try:
                index = int(step)
            except ValueError:
                return None
            current = json_get(current, index)
        else:
            current = json_get(current, step)
    return current


# --- jsonb navigation ------------------------------------------------------------------------------

def jsonb_get(doc: Jsonb, key: str | int) -> Jsonb | None:
    value = doc.value
    if isinstance(key, int):
        if not isinstance(value, list):
            return None
        index = key if key >= 0 else len(value) + key
        return Jsonb(value[index]) if 0 <= index < len(value) else None
    if isinstance(value, dict) and key in value:
        return Jsonb(value[key])
    return None


def jsonb_text(doc: Jsonb | None) -> str | None:
    """->> semantics: strings unquoted, null -> SQL NULL, the rest as jsonb text."""
    if doc is None or doc.value is None:
        return None
    if isinstance(doc.value, str):
        return doc.value
    return jsonvalues.format_jsonb(doc)


def jsonb_get_path(doc: Jsonb, path: list[str | None]) -> Jsonb | None:
    value = doc.value
    for step in path:
        if step is None:
            return None
        if isinstance(value, dict):
            if step not in value:
                return None
            value = value[step]
        elif isinstance(value, list):
            try:
                index = int(step)
            except ValueError:
                return None
            index = index if index >= 0 else len(value) + index
            if not 0 <= index < len(value):
                return None
            value = value[index]
        else:
            return None
    return Jsonb(value)


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return type(a) is type(b) and a == b or (isinstance(a, int | Decimal) and isinstance(b, int | Decimal)
                                             and not isinstance(a, bool) and a == b)


def jsonb_contains(a: Any, b: Any) -> bool:
    """@>: every part of b appears in a (arrays: as elements; a scalar array contains its scalar)."""
    if isinstance(b, dict):
        return isinstance(a, dict) and all(k in a and jsonb_contains(a[k], v) for k, v in b.items())
    if isinstance(b, list):
        if not isinstance(a, list):
            return False
        return all(any(jsonb_contains(x, y) for x in a) for y in b)
    if isinstance(a, list):
        return any(_json_equal(x, b) for x in a if not isinstance(x, list | dict))
    return _json_equal(a, b)


def _contains_op(a: Jsonb, b: Jsonb) -> bool:
    if isinstance(a.value, list) and not isinstance(b.value, list | dict):
        return any(_json_equal(x, b.value) for x in a.value)
    return jsonb_contains(a.value, b.value)


def _exists(doc: Jsonb, key: str) -> bool:
    value = doc.value
    if isinstance(value, dict):
        return key in value
    if isinstance(value, list):
        return any(isinstance(x, str) and x == key for x in value)
    return isinstance(value, str) and value == key


def jsonb_concat(a: Jsonb, b: Jsonb) -> Jsonb:
    x, y = a.value, b.value
    if isinstance(x, dict) and isinstance(y, dict):
        merged = dict(x)
        merged.update(y)
        return Jsonb(jsonvalues.normalize_json_value(merged))
    left = x if isinstance(x, list) else [x]
    right = y if isinstance(y, list) else [y]
    return Jsonb(left + right)


def jsonb_delete(doc: Jsonb, key: str | int) -> Jsonb:
    value = doc.value
    if isinstance(key, int):
        if not isinstance(value, list):
            raise InvalidParameterValue("cannot delete from scalar" if not isinstance(value, dict)
                                        else "cannot delete from object using integer index")
        index = key if key >= 0 else len(value) + key
        return Jsonb([v for i, v in enumerate(value) if i != index])
    if isinstance(value, dict):
        return Jsonb({k: v for k, v in value.items() if k != key})
    if isinstance(value, list):
        return Jsonb([v for v in value if not (isinstance(v, str) and v == key)])
    raise InvalidParameterValue("cannot delete from scalar")


def jsonb_set(doc: Jsonb, path: list[str | None], new: Jsonb, create: bool = True) -> Jsonb:
    def assign(value: Any, depth: int) -> Any:
        step = path[depth]
        if step is None:
            raise InvalidParameterValue(f"path element at position {depth + 1} is null")
        last = depth == len(path) - 1
        if isinstance(value, dict):
            if step not in value:
                if not (last and create):
                    return value
                updated = dict(value)
                updated[step] = new.value
                return jsonvalues.normalize_json_value(updated)
            updated = dict(value)
            updated[step] = new.value if last else assign(value[step], depth + 1)
            return updated
        if isinstance(value, list):
            try:
                index = int(step)
            except ValueError:
                raise InvalidParameterValue(
                    f"path element at position {depth + 1} is not an integer: \"{step}\"") from None
            if index < 0:
                index += len(value)
            items = list(value)
            if 0 <= index < len(items):
                items[index] = new.value if last else assign(items[index], depth + 1)
            elif last and create:
                if index < 0:
                    items.insert(0, new.value)
                else:
                    items.append(new.value)
            return items
        return value

    if not path:
        return doc
    if not isinstance(doc.value, dict | list):
        raise InvalidParameterValue("cannot set path in scalar")
    return Jsonb(assign(doc.value, 0))


def jsonb_strip_nulls(doc: Jsonb) -> Jsonb:
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return Jsonb(strip(doc.value))


def pretty(value: Any, indent: int = 0) -> str:
    """jsonb_pretty(): four-space indents; empty containers still break the line."""
    pad = "    " * (indent + 1)
    if isinstance(value, dict):
        body = ",\n".join(f"{pad}{jsonvalues.quote_json_string(k)}: {pretty(v, indent + 1)}" for k, v in value.items())
        return "{\n" + (body + "\n" if body else "") + "    " * indent + "}"
    if isinstance(value, list):
        body = ",\n".join(pad + pretty(v, indent + 1) for v in value)
        return "[\n" + (body + "\n" if body else "") + "    " * indent + "]"
    return jsonvalues.format_json_value(value)


def jsonb_typeof(doc: Jsonb) -> str:
    # the same classification the jsonb casts name in their errors, which call a number "numeric"
    kind = casts._jsonb_type(doc.value)
    return "number" if kind == "numeric" else kind


def jsonb_array_length(doc: Jsonb) -> int:
    if isinstance(doc.value, list):
        return len(doc.value)
    raise InvalidParameterValue("cannot get array length of a scalar" if not isinstance(doc.value, dict)
                                else "cannot get array length of a non-array")


def jsonb_each(doc: Jsonb) -> Iterator[tuple[str, Jsonb]]:
    if not isinstance(doc.value, dict):
        raise InvalidParameterValue("cannot call jsonb_each on a non-object")
    for k, v in doc.value.items():
        yield (k, Jsonb(v))


def jsonb_each_text(doc: Jsonb) -> Iterator[tuple[str, str | None]]:
    if not isinstance(doc.value, dict):
        raise InvalidParameterValue("cannot call jsonb_each_text on a non-object")
    for k, v in doc.value.items():
        yield (k, jsonb_text(Jsonb(v)))


def jsonb_object_keys(doc: Jsonb) -> Iterator[str]:
    if not isinstance(doc.value, dict):
        raise InvalidParameterValue(f"cannot call jsonb_object_keys on {'an array' if isinstance(doc.value, list) else 'a scalar'}")
    yield from doc.value


def jsonb_array_elements(doc: Jsonb) -> Iterator[Jsonb]:
    if not isinstance(doc.value, list):
        raise InvalidParameterValue("cannot extract elements from " + ("an object" if isinstance(doc.value, dict)
                                                                        else "a scalar"))
    for v in doc.value:
        yield Jsonb(v)


def _register() -> None:
    # the same six accessors for jsonb and json: -> and ->> by key or index, #> and #>> by path
    accessors: tuple[tuple[int, Any, Any, Any], ...] = (
        (JB, jsonb_get, jsonb_get_path, jsonb_text), (J, json_get, json_get_path, _json_scalar_text))
    for doc, get, get_path, as_text in accessors:
        for key in (T, I4):
            operator("->", doc, key, doc, get)
            operator("->>", doc, key, T, lambda d, k, get=get, as_text=as_text: as_text(get(d, k)))
        operator("#>", doc, TEXT_ARRAY, doc, get_path)
        operator("#>>", doc, TEXT_ARRAY, T, lambda d, p, get_path=get_path, as_text=as_text: as_text(get_path(d, p)))
    operator("@>", JB, JB, B, _contains_op, commutator="<@")
    operator("<@", JB, JB, B, lambda a, b: _contains_op(b, a), commutator="@>")
    operator("?", JB, T, B, _exists)
    operator("?|", JB, TEXT_ARRAY, B, lambda d, keys: any(k is not None and _exists(d, k) for k in keys))
    operator("?&", JB, TEXT_ARRAY, B, lambda d, keys: all(k is not None and _exists(d, k) for k in keys))
    operator("||", JB, JB, JB, jsonb_concat)
    operator("-", JB, T, JB, jsonb_delete)
    operator("-", JB, I4, JB, jsonb_delete)
    operator("-", JB, TEXT_ARRAY, JB, lambda d, keys: _delete_many(d, keys))
    operator("#-", JB, TEXT_ARRAY, JB, _delete_path)
    function("jsonb_typeof", (JB,), T, jsonb_typeof)
    function("json_typeof", (J,), T, lambda s: jsonb_typeof(jsonvalues.parse_jsonb(s)))
    function("jsonb_array_length", (JB,), I4, jsonb_array_length)
    function("json_array_length", (J,), I4, lambda s: jsonb_array_length(jsonvalues.parse_jsonb(s)))
    function("jsonb_each", (JB,), t.RECORD_OID, jsonb_each, retset=True, column_names=("key", "value"),
             column_oids=(T, JB))
    function("jsonb_each_text", (JB,), t.RECORD_OID, jsonb_each_text, retset=True, column_names=("key", "value"),
             column_oids=(T, T))
    function("json_each", (J,), t.RECORD_OID, lambda s: ((k, v) for k, v in _json_items(s)[1]), retset=True,
             column_names=("key", "value"), column_oids=(T, J))
    function("json_each_text", (J,), t.RECORD_OID, lambda s: ((k, _json_scalar_text(v)) for k, v in _json_items(s)[1]),
             retset=True, column_names=("key", "value"), column_oids=(T, T))
    function("jsonb_object_keys", (JB,), T, jsonb_object_keys, retset=True)
    function("json_object_keys", (J,), T, lambda s: (k for k, _ in _json_items(s)[1]), retset=True)
    # (their OUT parameter is "value": the column's name in FROM)
    function("jsonb_array_elements", (JB,), JB, jsonb_array_elements, retset=True, column_names=("value",))
    function("jsonb_array_elements_text", (JB,), T, lambda d: (jsonb_text(x) for x in jsonb_array_elements(d)),
             retset=True, column_names=("value",))
    function("json_array_elements", (J,), J, lambda s: (v for _, v in _json_items(s)[1]), retset=True,
             column_names=("value",))
    function("json_array_elements_text", (J,), T, lambda s: (_json_scalar_text(v) for _, v in _json_items(s)[1]),
             retset=True, column_names=("value",))
    function("jsonb_set", (JB, TEXT_ARRAY, JB), JB, jsonb_set)
    function("jsonb_set", (JB, TEXT_ARRAY, JB, B), JB, jsonb_set)
    function("jsonb_pretty", (JB,), T, lambda d: pretty(d.value))
    function("jsonb_strip_nulls", (JB,), JB, jsonb_strip_nulls)
    function("jsonb_extract_path", (JB, TEXT_ARRAY), JB, lambda d, *p: jsonb_get_path(d, list(p)), variadic_oid=T)
    function("jsonb_extract_path_text", (JB, TEXT_ARRAY), T, lambda d, *p: jsonb_text(jsonb_get_path(d, list(p))),
             variadic_oid=T)
    function("json_extract_path", (J, TEXT_ARRAY), J, lambda d, *p: json_get_path(d, list(p)), variadic_oid=T)
    function("json_extract_path_text", (J, TEXT_ARRAY), T,
             lambda d, *p: _json_scalar_text(json_get_path(d, list(p))), variadic_oid=T)


def _delete_many(doc: Jsonb, keys: list[str | None]) -> Jsonb:
    for key in keys:
        if key is not None:
            doc = jsonb_delete(doc, key)
    return doc


def _delete_path(doc: Jsonb, path: list[str | None]) -> Jsonb:
    if not path:
        return doc
    parent = jsonb_get_path(doc, path[:-1]) if len(path) > 1 else doc
    if parent is None:
        return doc
    last = path[-1]
    if last is None:
        return doc
    if isinstance(parent.value, list):
        try:
            updated = jsonb_delete(parent, int(last))
        except ValueError:
            return doc
    else:
        updated = jsonb_delete(parent, last)
    if len(path) == 1:
        return updated
    return jsonb_set(doc, path[:-1], updated, False)


_register()


# --- json[b]_to_record[set](doc) AS x(column type, ...) ----------------------------------------
_MISSING = object()


def record_rows(function_name: str, names: tuple[str, ...],
                types: tuple[tuple[int, int], ...]) -> Callable[[Any], Iterator[tuple[Any, ...]]]:
    """The rows of json[b]_to_record[set](doc) AS x(names types): each object's keys by column
    name, missing keys and JSON nulls NULL, values through their column type's input (PostgreSQL's
    populate_record: strings unquoted, arrays element by element, json / jsonb columns the value)."""
    from_json = function_name.startswith("json_")
    many = function_name.endswith("recordset")
    convert = [_populate(oid, typmod, from_json) for oid, typmod in types]

    def rows(doc: Any) -> Iterator[tuple[Any, ...]]:
        for obj in (_json_objects if from_json else _jsonb_objects)(doc, function_name, many):
            yield tuple(c(obj.get(n, _MISSING)) for n, c in zip(names, convert, strict=True))

    return rows


POPULATE_FUNCTIONS = frozenset({"json_populate_record", "jsonb_populate_record", "json_populate_recordset",
                                "jsonb_populate_recordset"})


def populate_rows(function_name: str, names: tuple[str, ...],
                  types: tuple[tuple[int, int], ...]) -> Callable[[Any, Any], Iterator[tuple[Any, ...]]]:
    """The rows of json[b]_populate_record[set](base, doc) for a composite type of those fields:
    as record_rows, except that a key the object lacks takes the base value's field (NULL when
    the base is NULL)."""
    from_json = function_name.startswith("json_")
    many = function_name.endswith("recordset")
    convert = [_populate(oid, typmod, from_json) for oid, typmod in types]

    def rows(base: Any, doc: Any) -> Iterator[tuple[Any, ...]]:
        if doc is None:
            if not many:
                yield tuple(base) if base is not None else tuple(None for _ in names)
            return
        for obj in (_json_objects if from_json else _jsonb_objects)(doc, function_name, many):
            yield tuple(c(obj[n]) if n in obj else (base[i] if base is not None else None)
                        for i, (n, c) in enumerate(zip(names, convert, strict=True)))

    return rows


def _json_objects(text: str, name: str, many: bool) -> Iterator[dict[str, Any]]:
    """A json document's object(s): key -> the value's JSON text, as written."""
    kind, items = _json_items(text)
    shape = _json_shape(text, kind)
    if not many:
        if shape != "object":
            raise InvalidParameterValue(f"cannot call populate_composite on {_an(shape)}")
        yield {k: v for k, v in items if k is not None}
        return
    if shape != "array":
        raise InvalidParameterValue(f"cannot call {name} on {_an(shape)}")
    for _, element in items:
        inner_kind, inner = _json_items(element)
        if _json_shape(element, inner_kind) != "object":
            raise InvalidParameterValue(f"argument of {name} must be an array of objects")
        yield {k: v for k, v in inner if k is not None}


def _json_shape(text: str, kind: str) -> str:
    if kind == "scalar":
        return "scalar"
    return "array" if text.lstrip().startswith("[") else "object"


def _an(shape: str) -> str:
    return f"an {shape}" if shape in ("object", "array") else f"a {shape}"


def _jsonb_objects(doc: Jsonb, name: str, many: bool) -> Iterator[dict[str, Any]]:
    value = doc.value
    if not many:
        if not isinstance(value, dict):
            raise InvalidParameterValue(
                f"cannot call populate_composite on {_an('array' if isinstance(value, list) else 'scalar')}")
        yield value
        return
    if not isinstance(value, list):
        raise InvalidParameterValue(f"cannot call {name} on a non-array")
    for element in value:
        if not isinstance(element, dict):
            raise InvalidParameterValue(f"argument of {name} must be an array of objects")
        yield element


def _populate(oid: int, typmod: int, from_json: bool) -> Callable[[Any], Any]:
    """One column's value from its JSON value (JSON text from json, a Python value from jsonb):
    NULL for a missing key or a JSON null, whatever the column's type."""
    value_of: Callable[[Any], Any]
    if oid == t.JSON_OID:
        value_of = str.strip if from_json else jsonvalues.format_json_value
    elif oid == t.JSONB_OID:
        value_of = jsonvalues.parse_jsonb if from_json else Jsonb
    else:
        value_of = _through_input(oid, typmod, from_json)
    return lambda raw: None if _is_null(raw, from_json) else value_of(raw)


def _through_input(oid: int, typmod: int, from_json: bool) -> Callable[[Any], Any]:
    """A column of another type: a JSON string's text (or any other value's JSON text) through
    the type's input; an array column takes a JSON array element by element."""
    element = t.element_of(oid)
    decode = text_decoder(element or oid, typmod)
    array_decode = text_decoder(oid, typmod) if element else None

    def scalar(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            return decode(value)
        if isinstance(value, list) and element:
            return [scalar(v) for v in value]
        return decode(jsonvalues.format_json_value(value))

    def convert(raw: Any) -> Any:
        value = jsonvalues.parse_jsonb(raw).value if from_json else raw
        if array_decode is not None and isinstance(value, str):
            return array_decode(value)
        return scalar(value)

    return convert


def _is_null(raw: Any, from_json: bool) -> bool:
    """A missing key or a JSON null."""
    return raw is _MISSING or raw is None or (from_json and raw.strip() == "null")


def _needs_column_definitions(name: str) -> Callable[..., Any]:
    def refuse(*_: Any) -> Any:
        from pgaurora.errors import FeatureNotSupported

        raise FeatureNotSupported(f"could not determine row type for result of {name}",
                                  hint="Provide a non-null record argument, or call the function in the FROM "
                                       "clause using a column definition list.")

    return refuse


for _name in sorted(RECORD_FUNCTIONS):  # (the planner runs record_rows with the column definitions)
    function(_name, (t.JSON_OID if _name.startswith("json_") else t.JSONB_OID,), t.RECORD_OID,
             _needs_column_definitions(_name), retset=True)

