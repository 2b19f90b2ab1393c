"""Composite types (CREATE TYPE name AS (attributes)): their place in the registry and their I/O.

Owns `register`, which the catalog calls for every composite type it knows: a TypeInfo for the
type (typtype 'c', typcategory 'C') and its array type in datatypes.typeinfo, and the text and
binary I/O in datatypes.codecs: record_out / record_in of the attributes' own types (the
'(1,"a b",)' format of datatypes.records) and record_send / record_recv (the number of fields,
then each field's type oid and binary value). A value is a tuple of the attributes' values in
order (datatypes.records.CompositeValue, which orders as PostgreSQL orders composites). Each
attribute's codec is looked up when a value is converted, so an attribute of another
composite type registered later works. Not the catalog definitions (catalog.model.CompositeType)
nor DDL (executor.enumtypes).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from pgaurora.datatypes.records import CompositeValue
from pgaurora.datatypes.values import FormatContext
from pgaurora.errors import InvalidBinaryRepresentation

Attributes = tuple[tuple[str, int, int], ...]  # (name, type oid, typmod)
_ATTRIBUTES: dict[int, Attributes] = {}


def attributes(oid: int) -> Attributes | None:
    """The attributes of composite type `oid` (None if it is none)."""
    return _ATTRIBUTES.get(oid)


def register(oid: int, array_oid: int, name: str, attrs: Attributes) -> None:
    """Makes composite type `oid` (and its array type) known to the type registry and codecs."""
    from pgaurora.datatypes import codecs, typeinfo

    _ATTRIBUTES[oid] = attrs
    known = typeinfo.find(oid)
    if known is not None and known.name != name:  # (renamed: the old name no longer finds it)
        typeinfo.unregister_name(known.name, oid)
        typeinfo.unregister_name("_" + known.name, array_oid)
    typeinfo.register_dynamic(typeinfo.TypeInfo(
        oid, name, -1, False, "C", False, ",", 0, array_oid, "record_in", "record_out", "record_recv",
        "record_send", "c", "d", "x", "-", "-"))
    typeinfo.register_dynamic(typeinfo.TypeInfo(
        array_oid, "_" + name, -1, False, "A", False, ",", oid, 0, "array_in", "array_out", "array_recv",
        "array_send", "b", "d", "x", "-", "-"))
    codecs.register_codecs(oid, lambda ctx: _text_out(oid, ctx), lambda ctx: _text_in(oid, ctx),
                           lambda value: _send(oid, value), lambda data: _recv(oid, data))


def _padded(value: Any, width: int) -> Any:
    """A stored value from before ALTER TYPE ... ADD ATTRIBUTE: its new fields NULL."""
    return value if len(value) >= width else (*value, *(None,) * (width - len(value)))


def _text_out(oid: int, ctx: FormatContext) -> Callable[[Any], str]:
    from pgaurora.datatypes import codecs, records

    def record_out(value: Any) -> str:
        encoders = [codecs.text_encoder(t, ctx) for _, t, _ in _ATTRIBUTES[oid]]
        return records.format_record(_padded(value, len(encoders)), encoders)
    return record_out


def _text_in(oid: int, ctx: FormatContext) -> Callable[[str], Any]:
    from pgaurora.datatypes import codecs, records

    def record_in(text: str) -> Any:
        decoders = [codecs.text_decoder(t, typmod, ctx) for _, t, typmod in _ATTRIBUTES[oid]]
        return records.CompositeValue(records.parse_record(text, decoders))
    return record_in


def _send(oid: int, value: Any) -> bytes:
    from pgaurora.datatypes import codecs

    attrs = _ATTRIBUTES[oid]
    parts = [struct.pack(">i", len(attrs))]
    for (_, type_oid, _), item in zip(attrs, _padded(value, len(attrs)), strict=True):
        if item is None:
            parts.append(struct.pack(">Ii", type_oid, -1))
            continue
        data = codecs.binary_encoder(type_oid)(item)
        parts.append(struct.pack(">Ii", type_oid, len(data)))
        parts.append(data)
    return b"".join(parts)


def _recv(oid: int, data: bytes) -> Any:
    from pgaurora.datatypes import codecs

    attrs = _ATTRIBUTES[oid]
    view = memoryview(data)
    try:
        (count,) = struct.unpack_from(">i", view, 0)
        if count != len(attrs):
            raise InvalidBinaryRepresentation(f"wrong number of columns: {count}, expected {len(attrs)}")
        at = 4
        values: list[Any] = []
        for _, type_oid, typmod in attrs:
            sent, length = struct.unpack_from(">Ii", view, at)
            at += 8
            if sent != type_oid:
                raise InvalidBinaryRepresentation(
                    f"binary data has type {sent} ({codecs.t.format_type(sent)}) instead of expected "
                    f"{type_oid} ({codecs.t.format_type(type_oid)}) in record column {len(values) + 1}")
            if length < 0:
                values.append(None)
                continue
            values.append(codecs.binary_decoder(type_oid, typmod)(bytes(view[at:at + length])))
            at += length
    except struct.error:
        raise InvalidBinaryRepresentation("insufficient data left in message") from None
    return CompositeValue(values)


__all__ = ["attributes", "register"]
