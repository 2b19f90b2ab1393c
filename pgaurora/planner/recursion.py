"""The shape PostgreSQL requires of a recursive query (parse_cte.c checkWellFormedRecursion):
its recursive reference appears once, in the recursive term only, not inside a subquery
expression and not on the nullable side of an outer join (42P19, at the offending reference)."""

from __future__ import annotations

from typing import Any

from pgaurora.errors import InvalidRecursion
from pgaurora.planner.querycontext import QueryContext, select_body


def check_well_formed(qc: QueryContext, qbody: dict[str, Any], name: str) -> None:
    """`qbody` is `non-recursive UNION [ALL] recursive`, recursive in `name`."""
    found = _references(select_body(qbody["larg"]), name, False, False)
    if found:
        raise _error(qc, name, "within its non-recursive term", found[0][0])
    found = _references(select_body(qbody["rarg"]), name, False, False)
    for location, in_sublink, in_outer_join in found:
        if in_sublink:
            raise _error(qc, name, "within a subquery", location)
        if in_outer_join:
            raise _error(qc, name, "within an outer join", location)
    if len(found) > 1:
        raise _error(qc, name, "more than once", found[1][0])


def _error(qc: QueryContext, name: str, where: str, location: int | None) -> InvalidRecursion:
    return InvalidRecursion(f'recursive reference to query "{name}" must not appear {where}',
                            position=qc.position(location))


def _references(node: Any, name: str, in_sublink: bool, in_outer_join: bool) -> list[tuple[int | None, bool, bool]]:
    """Every RangeVar naming `name` under `node`: (location, inside a SubLink, on an outer
    join's nullable side)."""
    out: list[tuple[int | None, bool, bool]] = []
    if isinstance(node, list):
        for item in node:
            out += _references(item, name, in_sublink, in_outer_join)
        return out
    if not isinstance(node, dict):
        return out
    rv = node.get("RangeVar")
    if rv is not None:
        if rv.get("relname") == name and "schemaname" not in rv:
            out.append((rv.get("location"), in_sublink, in_outer_join))
        return out
    join = node.get("JoinExpr")
    if join is not None:
        kind = join.get("jointype", "JOIN_INNER")
        out += _references(join["larg"], name, in_sublink, in_outer_join or kind in ("JOIN_RIGHT", "JOIN_FULL"))
        out += _references(join["rarg"], name, in_sublink, in_outer_join or kind in ("JOIN_LEFT", "JOIN_FULL"))
        out += _references(join.get("quals"), name, in_sublink, in_outer_join)
        return out
    sublink = node.get("SubLink")
    if sublink is not None:
        return _references(sublink, name, True, in_outer_join)
    for value in node.values():
        out += _references(value, name, in_sublink, in_outer_join)
    return out
