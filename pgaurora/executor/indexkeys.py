"""Keys of expression and partial indexes: which rows an index holds, under which key.

Owns IndexKeySpec (what the planner binds from an index's stored expression and predicate
texts: key expressions over the table row, the WHERE predicate) and turning it into a key
function once per plan node. A plain index needs none of this: its key is the row's columns at
fixed positions (executor.modify keeps that fast path). Used when rows are written
(executor.modify's Writer, ON CONFLICT) and when an index is built (executor.ddl).

    CREATE UNIQUE INDEX ON t (lower(email)) WHERE active
        key(row) = (lower(row[email]),)   if row[active] is true
                   None                    otherwise: the row has no entry in this index
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgaurora.datatypes import format_value
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.expr import Expr

KeyFunction = Callable[[tuple[Any, ...], Any], tuple[Any, ...] | None]


@dataclass(frozen=True, slots=True)
class IndexKeySpec:
    """How rows map to entries of one expression or partial index."""

    index_oid: int
    keys: tuple[Expr, ...]  # over the table row: Var for a plain column, any expression otherwise
    predicate: Expr | None  # a partial index holds only rows where this is true
    key_names: tuple[str, ...]  # as messages show them: 'lower(email)', 'id'


def key_function(spec: IndexKeySpec) -> KeyFunction:
    """`fn(row, env) -> key tuple`, or None for a row the (partial) index does not hold."""
    keys, _ = compile_exprs(spec.keys)
    if spec.predicate is None:
        return keys
    predicate = compile_expr(spec.predicate).fn

    def key(row: tuple[Any, ...], env: Any) -> tuple[Any, ...] | None:
        if predicate(row, env) is not True:
            return None
        return keys(row, env)  # type: ignore[no-any-return]

    return key


def describe_key(spec: IndexKeySpec) -> Callable[[tuple[Any, ...]], str]:
    """The DETAIL of a unique violation: 'Key (lower(email))=(a@b) already exists.'"""
    names = ", ".join(spec.key_names)
    types = tuple(k.type_oid for k in spec.keys)

    def describe(key: tuple[Any, ...]) -> str:
        values = ", ".join("null" if v is None else str(format_value(v, t)) for v, t in zip(key, types, strict=True))
        return f"Key ({names})=({values}) already exists."

    return describe


__all__ = ["IndexKeySpec", "KeyFunction", "key_function", "describe_key"]
