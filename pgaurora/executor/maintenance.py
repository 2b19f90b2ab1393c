"""VACUUM: running a real vacuum, with index cleanup, over the named or all tables.

Owns the Vacuum plan node, its runner, and `index_resolver` (every index over a heap, as the
catalog knows them, for autovacuum). Not deciding which tuple versions are dead or reclaiming
their space (access.vacuum), not parsing the statement's options (planner.maintenance).

    VACUUM [ (options) | VERBOSE | FULL | ANALYZE ... ] [ table [, ...] ]
      each table (a partitioned table: its partitions; a materialized view: its heap) gets
      Storage.vacuum(heap, every index, all_indexes=True): dead versions removed, their index
      entries removed, emptied slots reusable by later inserts.

A pass needs *every* index of the heap: those of the committed catalog and those a running
transaction is creating (Catalog.pending), or a reused slot could be reached through an index
entry that still points at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.plannodes import PlanNode

_HEAP_KINDS = ("r", "m")


@dataclass(frozen=True, slots=True)
class Vacuum(PlanNode):
    """VACUUM of the given tables (oids), or of every table of the database."""

    table_oids: tuple[int, ...] = ()
    all_tables: bool = False
    width: int = 0


def indexes_of_heap(catalog: Any, heap_rel: int) -> tuple[int, ...] | None:
    """The rel ids of every index over heap `heap_rel` in the committed catalog or any running
    transaction's view of it; None when no table there has that heap."""
    states = [catalog.current(), *list(catalog.pending.values())]
    found = False
    rels: set[int] = set()
    for state in states:
        for table in state.tables():
            if table.rel_id == heap_rel and table.kind in _HEAP_KINDS:
                found = True
                rels.update(ix.rel_id for ix in state.indexes(table.oid))
    return tuple(sorted(rels)) if found else None


def index_resolver(catalog: Any) -> Callable[[int], tuple[int, ...] | None]:
    """Storage.index_resolver for autovacuum: `indexes_of_heap` over this catalog."""
    return lambda heap_rel: indexes_of_heap(catalog, heap_rel)


@ddl_runner(Vacuum)
async def run_vacuum(node: Vacuum, env: Any) -> None:
    ctx = env.ctx
    _tag(env, "VACUUM")
    state = _state(ctx)
    if node.all_tables:
        tables = [t for t in state.tables() if t.kind in _HEAP_KINDS and t.rel_id]
    else:
        tables = [state.table(oid) for oid in node.table_oids]
    done: set[int] = set()
    for table in tables:
        if table is None or table.kind not in _HEAP_KINDS or not table.rel_id or table.rel_id in done:
            continue
        done.add(table.rel_id)
        ctx.check_cancel()
        index_rels = indexes_of_heap(ctx.catalog, table.rel_id) or ()
        await ctx.storage.vacuum(table.rel_id, index_rels, all_indexes=True)
