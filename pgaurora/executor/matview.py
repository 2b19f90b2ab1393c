"""REFRESH MATERIALIZED VIEW: re-running a materialized view's query into fresh relations.

Owns the RefreshMatView node and its runner. A materialized view is a table (kind 'm') whose
catalog entry keeps its SELECT text; CREATE MATERIALIZED VIEW is CREATE TABLE AS (executor.ddl).
REFRESH is transactional the way TRUNCATE is: the query's rows go into a new heap, each index
is rebuilt into a new B-tree, and the catalog entry is replaced to point at them in the
statement's transaction, so a rollback leaves the old contents (the old pages leak, as dropped
relations' do). WITH NO DATA leaves the new heap empty and marks the view unpopulated: scanning
it then fails with 55000 until the next REFRESH. CONCURRENTLY takes the same path (the result is
the same; PostgreSQL's difference is in the locks it holds). Not planning the query (planner).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pgaurora.executor.context import Env
from pgaurora.executor.ddl import _build_index, _state, _tag, ddl_runner
from pgaurora.executor.nodes import collect
from pgaurora.executor.ownership import require_owner
from pgaurora.executor.plannodes import PlanNode


@dataclass(frozen=True, slots=True)
class RefreshMatView(PlanNode):
    table_oid: int
    query: PlanNode | None  # None: WITH NO DATA
    width: int = 0


@ddl_runner(RefreshMatView)
async def run_refresh(node: RefreshMatView, env: Env) -> None:
    ctx = env.ctx
    storage = ctx.storage
    _tag(env, "REFRESH MATERIALIZED VIEW")
    state = _state(ctx)
    table = state.table(node.table_oid)
    require_owner(ctx, table)
    rows: list[tuple[Any, ...]] = []
    if node.query is not None:
        rows = await collect(node.query, env)
    new_table = replace(table, rel_id=await storage.create_heap(), populated=node.query is not None)
    if rows:
        await storage.heap(new_table.rel_id).insert_many(ctx.txn, rows)
        ctx.txn.next_command()  # the index builds below scan with a snapshot that must see these rows
    indexes = []
    for ix in state.indexes(table.oid):
        new_index = replace(ix, rel_id=await storage.create_btree(len(ix.columns)))
        await _build_index(env, new_table, new_index)
        indexes.append(new_index)
    await ctx.catalog.replace(ctx.txn, new_table, *indexes)


__all__ = ["RefreshMatView"]
