"""Enum types (CREATE TYPE ... AS ENUM): their values, order, I/O, and their place in the registry.

Owns EnumValue (a value of an enum type: its label, as a str, ordered by the label's sort order
in its type, not alphabetically) and `register`, which the catalog calls for every enum type it
knows: a TypeInfo for the type and its array type in datatypes.typeinfo, and their text and
binary I/O in datatypes.codecs. Not the catalog definitions (catalog.model.EnumType) nor DDL.

Each enum type has its own EnumValue subclass whose `orders` map label -> sort order; values of
one type compare by it (so sorting, B-tree keys, min / max follow the type's order), and print,
hash and equal as their labels. The registry only grows (an oid is never reused): a dropped
type's entry stays, unreachable by name.

    register(oid, array_oid, "mood", {"sad": 1.0, "ok": 2.0, "happy": 3.0})
    enum_class(oid)("ok") < enum_class(oid)("happy")     # True: 2.0 < 3.0
"""

from __future__ import annotations

from typing import Any, ClassVar

from pgaurora.errors import InvalidTextRepresentation


class EnumValue(str):
    """A value of an enum type (see the module docstring)."""

    __slots__ = ()
    type_oid: ClassVar[int] = 0
    type_name: ClassVar[str] = ""
    orders: ClassVar[dict[str, float]] = {}

    def _order(self) -> float:
        return self.orders[self]

    def __lt__(self, other: Any) -> bool:
        if isinstance(other, EnumValue):
            return self._order() < other._order()
        return NotImplemented

    def __le__(self, other: Any) -> bool:
        if isinstance(other, EnumValue):
            return self._order() <= other._order()
        return NotImplemented

    def __gt__(self, other: Any) -> bool:
        if isinstance(other, EnumValue):
            return self._order() > other._order()
        return NotImplemented

    def __ge__(self, other: Any) -> bool:
        if isinstance(other, EnumValue):
            return self._order() >= other._order()
        return NotImplemented

    __eq__ = str.__eq__
    __hash__ = str.__hash__


_CLASSES: dict[int, type[EnumValue]] = {}


def enum_class(oid: int) -> type[EnumValue]:
    """The EnumValue subclass of enum type `oid` (made on first use: a row may be read before
    the catalog that names its type)."""
    cls = _CLASSES.get(oid)
    if cls is None:
        cls = _CLASSES[oid] = type(f"EnumValue_{oid}", (EnumValue,), {"__slots__": (), "type_oid": oid,
                                                                      "orders": {}})
    return cls


def is_enum(oid: int) -> bool:
    return oid in _CLASSES and bool(_CLASSES[oid].type_name)


def register(oid: int, array_oid: int, name: str, orders: dict[str, float]) -> None:
    """Makes enum type `oid` (and its array type) known to the type registry and codecs, with
    its labels' sort orders (the catalog calls it again when they change)."""
    from pgaurora.datatypes import codecs, typeinfo

    cls = enum_class(oid)
    cls.type_name = name
    cls.orders.clear()
    cls.orders.update(orders)
    typeinfo.register_dynamic(typeinfo.TypeInfo(
        oid, name, 4, True, "E", False, ",", 0, array_oid, "enum_in", "enum_out", "enum_recv", "enum_send",
        "e", "i", "p", "-", "-"))
    typeinfo.register_dynamic(typeinfo.TypeInfo(
        array_oid, "_" + name, -1, False, "A", False, ",", oid, 0, "array_in", "array_out", "array_recv",
        "array_send", "b", "i", "x", "-", "-"))
    parse = decoder(oid)
    codecs.register_codecs(oid, lambda ctx: str, lambda ctx: parse, lambda value: str(value).encode(),
                           lambda data: parse(bytes(data).decode()))


def decoder(oid: int) -> Any:
    """enum_in: a label of the type, else 22P02."""
    cls = enum_class(oid)

    def parse(text: str) -> EnumValue:
        if text not in cls.orders:
            raise InvalidTextRepresentation(f'invalid input value for enum {cls.type_name}: "{text}"')
        return cls(text)

    return parse


__all__ = ["EnumValue", "decoder", "enum_class", "is_enum", "register"]
