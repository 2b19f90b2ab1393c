"""A window's frame clause as PostgreSQL's transformFrameOffset and transformWindowDefinitions
check it: ROWS and GROUPS offsets are bigint counts, a RANGE offset is a distance in the one
ORDER BY column's values (a number of its type, an interval for dates and times), and the
executor gets the `+` / `-` it measures with (executor.window's in-range bounds).

    frame = (options, start offset, end offset, value + offset, value - offset)

the last two over a row (value, offset), or None where the frame has no RANGE offset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgaurora.datatypes import typeinfo
from pgaurora.errors import FeatureNotSupported, WindowingError
from pgaurora.executor.expr import Expr, Var
from pgaurora.executor.plannodes import SortKey
from pgaurora.planner import resolve

RANGE = 0x2
GROUPS = 0x8
OFFSETS = 0x800 | 0x1000 | 0x2000 | 0x4000  # START / END OFFSET PRECEDING / FOLLOWING

_NUMERIC = {typeinfo.INT2_OID, typeinfo.INT4_OID, typeinfo.INT8_OID, typeinfo.FLOAT4_OID, typeinfo.FLOAT8_OID,
            typeinfo.NUMERIC_OID}
_DATETIME = {typeinfo.DATE_OID, typeinfo.TIME_OID, typeinfo.TIMETZ_OID, typeinfo.TIMESTAMP_OID,
             typeinfo.TIMESTAMPTZ_OID, typeinfo.INTERVAL_OID}


def window_frame(over: dict[str, Any], order: tuple[SortKey, ...], bind_offset: Callable[[dict[str, Any]], Expr],
                 params: Any, position: Callable[[int | None], int | None]) -> tuple[Any, ...]:
    """The frame of a window definition `over` (a WindowDef) ordered by `order`."""
    options = over.get("frameOptions", 0)
    at = position(over.get("location"))
    if options & GROUPS and not order:
        raise WindowingError("GROUPS mode requires an ORDER BY clause", position=at)
    ranged = bool(options & RANGE and options & OFFSETS)
    if ranged and len(order) != 1:
        raise WindowingError("RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column", position=at)
    key_type = order[0].expr.type_oid if ranged else 0
    if ranged:
        offset_type = key_type if key_type in _NUMERIC else typeinfo.INTERVAL_OID
    else:
        offset_type = typeinfo.INT8_OID
    offsets: list[Expr | None] = []
    for field in ("startOffset", "endOffset"):
        node = over.get(field)
        if node is None:
            offsets.append(None)
            continue
        if ranged and key_type not in _NUMERIC and key_type not in _DATETIME:
            raise FeatureNotSupported(
                f"RANGE with offset PRECEDING/FOLLOWING is not supported for column type "
                f"{resolve.type_name(key_type)}", position=position(_location(node)))
        offsets.append(resolve.coerce(bind_offset(node), offset_type, -1, "implicit", params,
                                      position(_location(node))))
    if not ranged:
        return (options, offsets[0], offsets[1], None, None)
    value, distance = Var(0, key_type), Var(1, offset_type)
    plus = resolve.make_operator("+", value, distance, params, None)
    minus = resolve.make_operator("-", value, distance, params, None)
    return (options, offsets[0], offsets[1], plus, minus)


def _location(node: dict[str, Any]) -> int | None:
    body = next(iter(node.values()), None)
    return body.get("location") if isinstance(body, dict) else None
