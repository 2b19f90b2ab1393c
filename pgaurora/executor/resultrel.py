"""The target table of an INSERT / UPDATE / DELETE as one plan sees it (PostgreSQL's ResultRelInfo).

Owns what a write statement needs to know about its table that does not change between
executions of one plan under one catalog state: the table, its indexes with their column
positions, which columns decide HOT and the row-lock strength, the compiled CHECK constraints
and expression-index keys, and the unique constraints' message parts. Built once per (plan
node, catalog state) instead of once per execution. Not the writes themselves (executor.modify's
Writer), not the heap and B-tree objects (per execution, from the instance's storage).

    Update plan node ─┐
    CatalogState  ────┴─► ResultRelation: table, indexes (ix, positions), key_positions,
                          indexed_positions, special_indexes, check_fns, unique specs
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgaurora.errors import InternalError
from pgaurora.executor.compile import compile_expr
from pgaurora.executor.foreignkeys import key_text
from pgaurora.executor.indexkeys import KeyFunction, describe_key, key_function
from pgaurora.executor.nodes import compiled

UniqueSpec = tuple[str, tuple[str, ...], Callable[[Any], str], bool]  # constraint, columns, DETAIL, NULLS NOT DISTINCT


class ResultRelation:
    """The per-plan, per-catalog-state facts about one target table (see the module docstring)."""

    __slots__ = ("state", "table", "indexes", "special_keys", "check_fns", "key_positions", "key_always",
                 "indexed_positions", "special_indexes", "unique_specs", "deferrable_unique",
                 "view_check_fns")

    def __init__(self, node: Any, checks: Any, state: Any) -> None:
        self.state = state
        table = state.table(checks.table_oid)
        self.table = table
        positions_of = {c.attnum: i for i, c in enumerate(table.columns)}

        def position(attnum: int) -> int:
            return positions_of.get(attnum, attnum - 1)

        self.indexes: tuple[tuple[Any, tuple[int, ...]], ...] = tuple(
            (ix, tuple(position(a) for a in ix.columns)) for ix in state.indexes(table.oid))
        # expression / partial indexes: index oid -> key function (None: the row has no entry)
        self.special_keys: dict[int, KeyFunction] = compiled(
            node, "index_keys", lambda: {s.index_oid: key_function(s) for s in checks.index_keys})
        for ix, _positions in self.indexes:
            if (ix.expressions or ix.predicate) and ix.oid not in self.special_keys:
                raise InternalError(f'no key expressions planned for index "{ix.name}"')
        self.check_fns = compiled(node, "checks", lambda: [(c.name, compile_expr(c.expr).fn, c.policy, c.domain)
                                                           for c in checks.checks if not c.view])
        self.view_check_fns = compiled(node, "view_checks", lambda: [(c.name, compile_expr(c.expr).fn)
                                                                     for c in checks.checks if c.view])
        special = self.special_keys
        self.key_positions = tuple(sorted({p for ix, positions in self.indexes if ix.unique for p in positions}))
        # a unique expression index: any change may change its key
        self.key_always = any(ix.unique and ix.oid in special for ix, _p in self.indexes)
        # HOT: the columns of plain indexes, and the expression / partial indexes whose keys to compare
        self.indexed_positions = tuple(sorted({p for ix, positions in self.indexes
                                               if ix.oid not in special for p in positions}))
        self.special_indexes = tuple((ix, positions) for ix, positions in self.indexes if ix.oid in special)
        specs = {s.index_oid: s for s in checks.index_keys}
        unique: list[UniqueSpec | None] = []
        for ix, positions in self.indexes:
            if not ix.unique:
                unique.append(None)
            elif ix.oid in specs:
                spec = specs[ix.oid]
                unique.append((ix.name, tuple(spec.key_names), describe_key(spec), ix.nulls_not_distinct))
            else:
                unique.append((ix.name, tuple(checks.column_names[p] for p in positions),
                               _describe(checks, positions), ix.nulls_not_distinct))
        self.unique_specs = tuple(unique)
        # per index: (constraint oid, INITIALLY DEFERRED) of a DEFERRABLE unique / primary key
        # constraint, whose check waits for the statement's end or COMMIT (executor.writer)
        deferrable = {c.index_oid: c for c in table.constraints if c.kind in ("p", "u") and c.deferrable}
        self.deferrable_unique: tuple[tuple[int, bool] | None, ...] = tuple(
            (deferrable[ix.oid].oid, deferrable[ix.oid].deferred) if ix.oid in deferrable else None
            for ix, _positions in self.indexes)


def _describe(checks: Any, positions: tuple[int, ...]) -> Callable[[Any], str]:
    names = ", ".join(checks.column_names[p] for p in positions)
    types = tuple(checks.column_types[p] for p in positions)
    return lambda key: f"Key ({names})=({key_text(tuple(key), types)}) already exists."


def result_relation(node: Any, checks: Any, state: Any) -> ResultRelation:
    """The ResultRelation of `node` (whose TableChecks are `checks`) under catalog `state`, built
    once per pair (DDL makes a new state, so a change between two executions is seen)."""
    holder: list[Any] = compiled(node, "result_relation", lambda: [None])
    rel = holder[0]
    if rel is None or rel.state is not state:
        rel = holder[0] = ResultRelation(node, checks, state)
    return rel  # type: ignore[no-any-return]
