"""Hash keys for SQL values: arrays (lists) and jsonb documents (dicts) become hashable tuples.

Owns `freeze(value)`: what hash joins, hash aggregation, set operations and DISTINCT use as a
dict/set key for a value that Python cannot hash as it is. Equal SQL values give equal keys.
Not the values themselves (datatypes) and not comparison semantics (catalog.builtins).
"""

from __future__ import annotations

from typing import Any


def freeze(value: Any) -> Any:
    """A hashable stand-in for `value` (lists -> tuples, dicts -> sorted item tuples, recursively)."""
    if isinstance(value, list):
        return ("\x00array", tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("\x00object", tuple(sorted((k, freeze(v)) for k, v in value.items())))
    if isinstance(value, tuple):
        return tuple(freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        inner = getattr(value, "value", None)  # e.g. a jsonb wrapper around a dict or list
        if inner is not None and inner is not value:
            return ("\x00wrapped", freeze(inner))
        return ("\x00repr", repr(value))
    return value


def freeze_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """`row` itself when it is hashable (the common case), else its frozen form."""
    try:
        hash(row)
    except TypeError:
        return tuple(freeze(v) for v in row)
    return row
