"""VACUUM and ANALYZE: a real vacuum, with index cleanup, and statistics from a row sample.

Owns the Vacuum and Analyze plan nodes, their runners, and `index_resolver` (every index over a
heap, as the catalog knows them, for autovacuum). Not deciding which tuple versions are dead or
reclaiming their space (access.vacuum), not the statistics arithmetic (catalog.statistics), not
parsing the statement's options (planner.maintenance).

    ANALYZE [ table [ (column, ...) ] [, ...] ]   (also VACUUM ANALYZE)
      each table is read once; a reservoir sample of catalog.statistics.SAMPLE_ROWS visible rows
      (in physical order) becomes a catalog.model.Statistic row written in the statement's
      transaction: reltuples = the live rows counted, relpages = the heap's pages.

    VACUUM [ (options) | VERBOSE | FULL | ANALYZE ... ] [ table [, ...] ]
      each table (a partitioned table: its partitions; a materialized view: its heap) gets
      Storage.vacuum(heap, every index, all_indexes=True): dead versions removed, their index
      entries removed, emptied slots reusable by later inserts.

A pass needs *every* index of the heap: those of the committed catalog and those a running
transaction is creating (Catalog.pending), or a reused slot could be reached through an index
entry that still points at it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog import statistics
from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.ownership import current_role
from pgaurora.executor.plannodes import PlanNode

_HEAP_KINDS = ("r", "m")
YIELD_PAGES = 32  # heap pages ANALYZE reads between two turns of the event loop


@dataclass(frozen=True, slots=True)
class Vacuum(PlanNode):
    """VACUUM of the given tables (oids), or of every table of the database."""

    table_oids: tuple[int, ...] = ()
    all_tables: bool = False
    width: int = 0
    analyze: bool = False  # VACUUM ANALYZE: statistics afterwards


@dataclass(frozen=True, slots=True)
class Analyze(PlanNode):
    """ANALYZE of the given tables (oid, attnums or () for every column), or of every table."""

    tables: tuple[tuple[int, tuple[int, ...]], ...] = ()
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


def _may_maintain(ctx: Any, state: Any, table: Any, verb: str, named: bool) -> bool:
    """May current_user vacuum / analyze `table`? Its owner, the database's owner or a superuser
    may; anyone else gets PostgreSQL's WARNING for a table it named, and the table is skipped."""
    current = current_role(ctx)
    database = state.databases.get(getattr(ctx, "database", "")) if hasattr(state, "databases") else None
    if current is None or current.superuser or current.oid in (table.owner, getattr(database, "owner", None)):
        return True
    if named:
        ctx.notice(f'skipping "{table.name}" --- only table or database owner can {verb} it', "WARNING")
    return False


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
    sizes: list[Any] = []
    allowed = [t for t in tables if t is None or _may_maintain(ctx, state, t, "vacuum", not node.all_tables)]
    for table in allowed:
        if table is None or table.kind not in _HEAP_KINDS or not table.rel_id or table.rel_id in done:
            continue
        done.add(table.rel_id)
        ctx.check_cancel()
        index_rels = indexes_of_heap(ctx.catalog, table.rel_id) or ()
        result = await ctx.storage.vacuum(table.rel_id, index_rels, all_indexes=True)
        kept, pages = getattr(result, "kept_tuples", None), getattr(result, "pages", None)
        if not node.analyze and isinstance(kept, int) and isinstance(pages, int):
            sizes.append(_with_size(ctx, state, table, float(kept), pages))
    if sizes:  # vac_update_relstats: pg_class.reltuples / relpages of every table vacuumed
        await _store(ctx, state, sizes)
    if node.analyze:
        await run_analyze(Analyze(tuple((t.oid, ()) for t in allowed if t is not None), node.all_tables), env)
        _tag(env, "VACUUM")


@ddl_runner(Analyze)
async def run_analyze(node: Analyze, env: Any) -> None:
    ctx = env.ctx
    _tag(env, "ANALYZE")
    state = _state(ctx)
    targets: list[tuple[int, tuple[int, ...]]] = list(node.tables)
    if node.all_tables:
        targets = [(t.oid, ()) for t in sorted(state.tables(), key=lambda t: t.oid)
                   if t.kind in _HEAP_KINDS and t.rel_id]
    made = []
    for oid, attnums in targets:
        table = state.table(oid)
        if table is None or table.kind not in _HEAP_KINDS or not table.rel_id:
            continue
        if not _may_maintain(ctx, state, table, "analyze", not node.all_tables):
            continue
        ctx.check_cancel()
        made.append(await analyze_table(ctx, state, table, attnums))
    if made:
        await _store(ctx, state, made)
    orphans = [s.oid for s in state.statistics.values() if state.table(s.table_oid) is None]
    if node.all_tables and orphans and not getattr(ctx.txn, "read_only", False):
        await ctx.catalog.remove(ctx.txn, *orphans)  # statistics of dropped tables


def _with_size(ctx: Any, state: Any, table: Any, reltuples: float, relpages: int) -> Any:
    """The table's Statistic with new reltuples/relpages (column statistics kept)."""
    from pgaurora.catalog.model import Statistic

    previous = state.statistics.get(table.oid)
    if previous is not None:
        return replace(previous, reltuples=reltuples, relpages=relpages)
    return Statistic(ctx.catalog.allocate_oid(), f"statistic/{table.oid}", table.oid, reltuples, relpages, (),
                     table.schema_oid)


async def _store(ctx: Any, state: Any, stats: list[Any]) -> None:
    """Writes Statistic rows in the statement's transaction (new ones created, others replaced);
    PostgreSQL lets a READ ONLY transaction run ANALYZE, so there they are written and committed
    by a transaction of their own."""
    txn = ctx.txn
    own = None
    if getattr(txn, "read_only", False):
        own = txn = ctx.catalog.txns.begin()
        state = ctx.catalog.state_for(own)
    try:
        old = [replace(s, oid=state.statistics[s.table_oid].oid) for s in stats if s.table_oid in state.statistics]
        fresh = [s for s in stats if s.table_oid not in state.statistics]
        if old:
            await ctx.catalog.replace(txn, *old)
        if fresh:
            await ctx.catalog.create(txn, *fresh)
        if own is not None:
            await own.commit()
    except BaseException:
        if own is not None:
            await own.abort()
        raise


async def analyze_table(ctx: Any, state: Any, table: Any, attnums: tuple[int, ...]) -> Any:
    """A Statistic for `table` from a reservoir sample of its visible rows (PostgreSQL's
    acquire_sample_rows reads blocks; this reads every page, which also counts the rows exactly)."""
    from pgaurora.catalog.builtins import sort_key
    from pgaurora.datatypes import lookup, text_encoder

    heap = ctx.storage.heap(table.rel_id)
    snapshot = ctx.take_snapshot()
    rng = random.Random(table.oid)  # the same sample for the same rows: plans are repeatable
    limit = statistics.SAMPLE_ROWS
    sample: list[tuple[Any, Any]] = []
    seen = 0
    pages_read = 0
    async for batch in heap.scan(ctx.txn, snapshot, counted=False):  # PostgreSQL counts no scan for ANALYZE
        for tid, row in batch:
            if seen < limit:
                sample.append((tid, row))
            else:
                j = rng.randrange(seen + 1)
                if j < limit:
                    sample[j] = (tid, row)
            seen += 1
        pages_read += 1
        if pages_read % YIELD_PAGES == 0:
            await asyncio.sleep(0)  # a scan of a big heap lets the other sessions' queries in
        ctx.check_cancel()
    sample.sort(key=lambda item: item[0])
    heap.activity.analyzed(heap, seen)  # pg_stat_user_tables: n_live_tup, analyze_count
    pages = await heap.count_pages()
    columns = [c for c in table.columns if not c.dropped and (not attnums or c.attnum in attnums)]

    def key_for(oid: int) -> Any:
        try:
            return sort_key(oid)
        except Exception:  # a type without a btree order: no MCVs or histogram
            return None

    previous = state.statistics.get(table.oid)
    oid = previous.oid if previous is not None else ctx.catalog.allocate_oid()
    rows = [row for _, row in sample]
    # one column at a time, each step keeping the columns before it: a wide sample's sorts take
    # a while, and the other sessions' queries run in between
    stat = kept = previous if attnums else None
    for column in columns or [None]:
        stat = statistics.build_statistic(
            oid, table, [column] if column is not None else [], rows, float(seen), pages, text_encoder, key_for,
            lambda oid: lookup(oid).typlen, kept)
        kept = stat
        await asyncio.sleep(0)
    assert stat is not None
    return replace(stat, schema_oid=table.schema_oid)


@dataclass(frozen=True, slots=True)
class Reindex(PlanNode):
    """REINDEX: each (table oid, index oid, IndexKeySpec or None) gets a new B-tree built from the
    table's rows (planner.maintenance chose them)."""

    indexes: tuple[tuple[int, int, Any], ...]
    width: int = 0


@ddl_runner(Reindex)
async def run_reindex(node: Reindex, env: Any) -> None:
    from pgaurora.executor.ddl import _build_index
    from pgaurora.executor.ownership import require_owner

    ctx = env.ctx
    _tag(env, "REINDEX")
    state = _state(ctx)
    for table_oid, index_oid, spec in node.indexes:
        table = state.table(table_oid)
        index = state.by_oid.get(index_oid)
        if table is None or index is None:
            continue
        require_owner(ctx, table)
        rebuilt = replace(index, rel_id=await ctx.storage.create_btree(len(index.columns)))
        await _build_index(env, table, rebuilt, spec)
        await ctx.catalog.replace(ctx.txn, rebuilt)

