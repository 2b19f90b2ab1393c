"""Building JSON from SQL values: to_json/to_jsonb, json(b)_build_object, json(b)_build_array.

Owns how each SQL type appears in JSON (numbers as numbers, NaN/Infinity as strings,
timestamps in ISO 8601 such as "2024-01-02T03:04:05+00:00", arrays as nested arrays, json
and jsonb embedded as they are) and PostgreSQL's spacing: json_build_object writes
'{"a" : 1, "b" : [1,2]}', to_json of an array '[1,2]', jsonb normalises. Used by the json
aggregates too. Not json operators (json_functions).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pgaurora.catalog.builtins.output import context_of, output_function
from pgaurora.catalog.builtins.registry import function
from pgaurora.datatypes import jsonvalues
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.datetimes import format_offset
from pgaurora.datatypes.numbers import format_float
from pgaurora.datatypes.values import FormatContext, Jsonb
from pgaurora.errors import InvalidParameterValue

J, JB = t.JSON_OID, t.JSONB_OID


def _iso_timestamp(value: datetime.datetime) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text


def json_converter(oid: int, fmt: FormatContext | None = None) -> Callable[[Any], Any]:
    """SQL value of type oid -> Python JSON value (str/int/Decimal/bool/list/dict/None) as to_jsonb."""
    if oid in (t.INT2_OID, t.INT4_OID, t.INT8_OID, t.OID_OID):
        return int
    if oid == t.NUMERIC_OID:
        return lambda v: v if v.is_finite() else format(v)
    if oid in (t.FLOAT4_OID, t.FLOAT8_OID):
        single = oid == t.FLOAT4_OID
        return lambda v: format_float(v, single) if math.isinf(v) or math.isnan(v) else Decimal(format_float(v, single))
    if oid == t.BOOL_OID:
        return bool
    if oid == JB:
        return lambda v: v.value
    if oid == J:
        return lambda v: jsonvalues.parse_jsonb(v).value
    if oid == t.TIMESTAMP_OID:
        return _iso_timestamp
    if oid == t.TIMESTAMPTZ_OID:
        tz = fmt.tzinfo if fmt else datetime.UTC

        def tstz(v: datetime.datetime) -> str:
            local = v.astimezone(tz)
            offset = int((local.utcoffset() or datetime.timedelta(0)).total_seconds())
            zone_text = format_offset(offset)
            return _iso_timestamp(local.replace(tzinfo=None)) + (zone_text if ":" in zone_text else zone_text + ":00")

        return tstz
    elem = t.element_of(oid)
    if elem:
        inner = json_converter(elem, fmt)

        def convert_array(v: list[Any]) -> list[Any]:
            return [None if x is None else (convert_array(x) if isinstance(x, list) else inner(x)) for x in v]

        return convert_array
    out = output_function(oid, fmt) if fmt else output_function(oid)
    return out


def json_text(value: Any, compact: bool = True) -> str:
    """json (not jsonb) rendering of a converted value: arrays '[1,2]', objects '{"a":1}'."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{jsonvalues.quote_json_string(k)}:{json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    return jsonvalues.format_json_value(value)


def to_json_text(oid: int, value: Any, fmt: FormatContext) -> str:
    if value is None:
        return "null"
    if oid == J:
        return value
    if oid == JB:
        return jsonvalues.format_jsonb(value)
    return json_text(json_converter(oid, fmt)(value))


def _build_object_binder(jsonb: bool) -> Callable[[tuple[int, ...]], Callable[..., Any]]:
    def binder(arg_oids: tuple[int, ...]) -> Callable[..., Any]:
        def build(ctx: Any, *args: Any) -> Any:
            if len(args) % 2:
                raise InvalidParameterValue("argument list must have even number of elements",
                                            hint=f"The arguments of {'jsonb' if jsonb else 'json'}_build_object() "
                                                 "must consist of alternating keys and values.")
            fmt = context_of(ctx)
            pairs = []
            for i in range(0, len(args), 2):
                key = args[i]
                if key is None:
                    raise InvalidParameterValue(f"argument {i + 1}: key must not be null")
                key_text = output_function(arg_oids[i], fmt)(key)
                value = args[i + 1]
                pairs.append((key_text, arg_oids[i + 1], value))
            if jsonb:
                obj = {k: (None if v is None else json_converter(o, fmt)(v)) for k, o, v in pairs}
                return Jsonb(jsonvalues.normalize_json_value(obj))
            return "{" + ", ".join(f"{jsonvalues.quote_json_string(k)} : {to_json_text(o, v, fmt)}"
                                   for k, o, v in pairs) + "}"

        return build

    return binder


def _build_array_binder(jsonb: bool) -> Callable[[tuple[int, ...]], Callable[..., Any]]:
    def binder(arg_oids: tuple[int, ...]) -> Callable[..., Any]:
        def build(ctx: Any, *args: Any) -> Any:
            fmt = context_of(ctx)
            if jsonb:
                return Jsonb([None if v is None else json_converter(o, fmt)(v) for o, v in zip(arg_oids, args, strict=True)])
            return "[" + ", ".join(to_json_text(o, v, fmt) for o, v in zip(arg_oids, args, strict=True)) + "]"

        return build

    return binder


def _to_json_binder(jsonb: bool) -> Callable[[tuple[int, ...]], Callable[..., Any]]:
    def binder(arg_oids: tuple[int, ...]) -> Callable[..., Any]:
        oid = arg_oids[0]

        def convert(ctx: Any, value: Any) -> Any:
            fmt = context_of(ctx)
            if jsonb:
                return Jsonb(jsonvalues.normalize_json_value(json_converter(oid, fmt)(value)))
            return to_json_text(oid, value, fmt)

        return convert

    return binder


def _register() -> None:
    ctx_opts: dict[str, Any] = {"needs_context": True, "volatility": "s"}
    function("jsonb_build_object", (t.ANY_OID,), JB, lambda *a: None, variadic_oid=t.ANY_OID, strict=False,
             binder=_build_object_binder(True), **ctx_opts)
    function("json_build_object", (t.ANY_OID,), J, lambda *a: None, variadic_oid=t.ANY_OID, strict=False,
             binder=_build_object_binder(False), **ctx_opts)
    function("jsonb_build_object", (), JB, lambda: Jsonb({}))
    function("json_build_object", (), J, lambda: "{}")
    function("jsonb_build_array", (t.ANY_OID,), JB, lambda *a: None, variadic_oid=t.ANY_OID, strict=False,
             binder=_build_array_binder(True), **ctx_opts)
    function("json_build_array", (t.ANY_OID,), J, lambda *a: None, variadic_oid=t.ANY_OID, strict=False,
             binder=_build_array_binder(False), **ctx_opts)
    function("jsonb_build_array", (), JB, lambda: Jsonb([]))
    function("json_build_array", (), J, lambda: "[]")
    function("to_jsonb", (t.ANYELEMENT_OID,), JB, lambda *a: None, binder=_to_json_binder(True), **ctx_opts)
    function("to_json", (t.ANYELEMENT_OID,), J, lambda *a: None, binder=_to_json_binder(False), **ctx_opts)


_register()


def _array_to_json_binder(arg_oids: tuple[int, ...]) -> Callable[..., str]:
    oid = arg_oids[0]

    def array_to_json(ctx: Any, value: list[Any], pretty: bool = False) -> str:
        converted = json_converter(oid, context_of(ctx))(value)
        if not pretty:
            return json_text(converted)
        return "[" + ",\n ".join(json_text(item) for item in converted) + "]"

    return array_to_json


function("array_to_json", (t.ANYARRAY_OID,), J, lambda *a: None, binder=_array_to_json_binder,
         needs_context=True, volatility="s")
function("array_to_json", (t.ANYARRAY_OID, t.BOOL_OID), J, lambda *a: None, binder=_array_to_json_binder,
         needs_context=True, volatility="s")
