"""Turning values of "any" type into text inside built-ins (concat, format, array_to_string, to_json...).

Owns the cached per-(types, settings) output closures those functions use, and the two
conversions PostgreSQL distinguishes: the type's output function (concat: true -> 't') and a
cast to text (text || anynonarray: true -> 'true'). Not the codecs themselves (datatypes).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pgaurora import datatypes
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.values import DEFAULT_CONTEXT, FormatContext


def context_of(ctx: Any) -> FormatContext:
    """The FormatContext of an executor context (or the default when there is none)."""
    fmt = getattr(ctx, "format_context", None)
    return fmt if isinstance(fmt, FormatContext) else DEFAULT_CONTEXT


@lru_cache(maxsize=512)
def output_function(oid: int, fmt: FormatContext = DEFAULT_CONTEXT) -> Callable[[Any], str]:
    """The typoutput closure (records and unknowns fall back to str())."""
    if oid in (t.UNKNOWN_OID, 0):
        return _plain
    try:
        return datatypes.text_encoder(oid, fmt)
    except Exception:  # noqa: BLE001 - a type without output function prints as Python text
        return _plain


@lru_cache(maxsize=512)
def text_cast(oid: int, fmt: FormatContext = DEFAULT_CONTEXT) -> Callable[[Any], str]:
    """The cast oid -> text (differs from output for bool: 'true'/'false', bpchar: trimmed)."""
    if oid in (t.TEXT_OID, t.VARCHAR_OID, t.UNKNOWN_OID, t.NAME_OID):
        return _plain
    fn = datatypes.cast_function(oid, t.TEXT_OID, datatypes.CastContext.EXPLICIT, -1, fmt)
    return fn if fn is not None else output_function(oid, fmt)


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
