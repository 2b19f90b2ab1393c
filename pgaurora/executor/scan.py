"""Scan nodes: VALUES, heap sequential scans, B-tree index scans, set-returning functions, CTEs.

Owns producing base rows: a SeqScan reads every visible tuple of a heap (filtering with its
pushed-down qual), an IndexScan finds tids through a B-tree and fetches the visible versions,
and SystemColumns adds a table's system columns (ctid, xmin, cmin, xmax, cmax, tableoid) to
the rows of a scan that yields tids. Not joins or projections (other node modules), not
visibility (txn, via access.Heap).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from pgaurora.access.heaptuple import HEADER_SIZE, unpack_header
from pgaurora.catalog.builtins.registry import WaitingFunction
from pgaurora.errors import InternalError
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.hashing import freeze_row
from pgaurora.executor.nodes import (
    BATCH_SIZE,
    Batch,
    collect,
    compiled,
    compiled_expr,
    prepare_all,
    run_node,
    runner,
)
from pgaurora.executor.plannodes import (
    CteScan,
    FunctionScan,
    IndexKind,
    IndexScan,
    PlanNode,
    RecursiveUnion,
    RowsFromScan,
    SeqScan,
    SystemScan,  # system relations: see pgaurora/catalog/system
    ValuesScan,
    WorkTableScan,
)


def table_and_heap(env: Env, table_oid: int) -> tuple[Any, Any]:
    state = env.ctx.extra["catalog_state"]
    table = state.table(table_oid)
    if table is None:
        raise InternalError(f"table {table_oid} vanished from the catalog")
    return table, env.ctx.storage.heap(table.rel_id)


_ROW = itemgetter(1)  # (tid, row) -> row


def _pad(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    return [r if len(r) == width else r + (None,) * (width - len(r)) for r in rows]


@runner(ValuesScan)
async def run_values(node: ValuesScan, env: Env) -> AsyncIterator[Batch]:
    if node.width == 0 and len(node.rows) == 1:
        yield [()]
        return
    project, subplans = compiled(node, "rows", lambda: [compile_exprs(r) for r in node.rows]), None
    del subplans
    out: Batch = []
    for fn, subs in project:
        if subs:
            await prepare_all(subs, (), env)
        out.append(fn((), env))
    yield out


@runner(SeqScan)
async def run_seqscan(node: SeqScan, env: Env) -> AsyncIterator[Batch]:
    table, heap = table_and_heap(env, node.table_oid)
    snapshot = env.snapshot
    txn = env.ctx.txn
    width = node.width - 1 if node.with_tid else node.width  # stored columns (the tid is appended)
    qual = compiled_expr(node, "qual", node.qual) if node.qual is not None else None
    ctx = env.ctx
    if node.with_tid:
        async for batch in heap.scan(txn, snapshot):
            ctx.check_cancel()
            rows = [(row if len(row) == width else row + (None,) * (width - len(row))) + (tid,) for tid, row in batch]
            if qual is not None:
                if qual.subplans:
                    kept = []
                    for r in rows:
                        await prepare_all(qual.subplans, r, env)
                        if qual.fn(r, env) is True:
                            kept.append(r)
                    rows = kept
                else:
                    fn = qual.fn
                    rows = [r for r in rows if fn(r, env) is True]
            if rows:
                yield rows
        return
    pending: Batch = []
    async for batch in heap.scan(txn, snapshot):
        rows = list(map(_ROW, batch))
        if rows and len(rows[0]) != width or rows and len(rows[-1]) != width:
            rows = _pad(rows, width)
        if qual is not None:
            if qual.subplans:
                kept = []
                for r in rows:
                    await prepare_all(qual.subplans, r, env)
                    if qual.fn(r, env) is True:
                        kept.append(r)
                rows = kept
            else:
                fn = qual.fn
                rows = [r for r in rows if fn(r, env) is True]
        if rows:
            pending.extend(rows)
            if len(pending) >= BATCH_SIZE:
                ctx.check_cancel()
                yield pending
                pending = []
    if pending:
        yield pending


@runner(IndexScan)
async def run_indexscan(node: IndexScan, env: Env) -> AsyncIterator[Batch]:
    table, heap = table_and_heap(env, node.table_oid)
    state = env.ctx.extra["catalog_state"]
    index = state.by_oid.get(node.index_oid)
    if index is None:
        raise InternalError(f"index {node.index_oid} vanished from the catalog")
    btree = env.ctx.storage.btree(index.rel_id)
    snapshot = env.snapshot
    txn = env.ctx.txn
    width = node.width - 1 if node.with_tid else node.width
    keys, qual = compiled(node, "keys+qual", lambda: (
        compile_exprs(node.eq_keys)[0] if node.eq_keys else None,
        compile_expr(node.qual) if node.qual is not None else None))
    prefix: tuple[Any, ...] = keys((), env) if keys is not None else ()
    if None in prefix:
        return
    out: Batch = []
    fetch = heap.fetch
    fetch_cached = heap.fetch_cached  # no coroutine per row while the pages are cached
    if txn is not None:
        txn.note_read(heap.rel_id)
    # rows are fetched as the index gives tids (a range a batch of entries at a time, in key
    # order), so a LIMIT above an ordered scan stops reading the index early
    async for tids in _index_tids(node, env, btree, prefix):
        for tid in tids:
            row = fetch_cached(snapshot, tid)
            if row is False or row is True:
                row = await fetch(txn, snapshot, tid)
            if row is None:
                continue
            btree.tuples_fetched += 1
            if len(row) != width:
                row = row + (None,) * (width - len(row))
            if node.with_tid:
                row = row + (tid,)
            if qual is not None:
                if qual.subplans:
                    await prepare_all(qual.subplans, row, env)
                if qual.fn(row, env) is not True:
                    continue
            out.append(row)
            if len(out) >= BATCH_SIZE:
                yield out
                out = []
    if out:
        yield out


async def _index_tids(node: IndexScan, env: Env, btree: Any, prefix: tuple[Any, ...]) -> AsyncIterator[list[Any]]:
    """The tids an index scan visits, in lists: each entry's HOT chain members, root first.

    Counts pg_stat_user_indexes: each scan begun (a key of an IN list begins one, as in
    PostgreSQL 15) and each index entry it returned (a HOT chain's root once, not per version)."""
    if node.kind is IndexKind.EQ:
        btree.scans += 1
        if len(prefix) == node.key_count:
            found = btree.lookup_entries_cached(prefix)  # no coroutine while the pages are cached
            roots, tids = found if found is not None else await btree.lookup_entries(prefix)
            btree.tuples_read += len(roots)
            yield tids
            return
        entries = (btree.range_back(prefix, prefix, True, True) if node.backward
                   else btree.range(prefix, prefix, True, True, members=False))
        async for batch in entries:
            kept = [entry for entry in batch if entry[0][:len(prefix)] == prefix]
            btree.tuples_read += len(kept)
            yield [tid for _, tid in await btree.expand(kept)]
        return
    if node.kind is IndexKind.IN:
        assert node.in_list is not None
        in_list = node.in_list
        values = compiled(node, "in", lambda: compile_exprs((in_list,)))[0]((), env)[0]
        seen = set()
        tids = []
        for v in sorted({v for v in values if v is not None}):
            btree.scans += 1
            if len(prefix) + 1 != node.key_count:
                continue
            roots, members = await btree.lookup_entries(prefix + (v,))
            btree.tuples_read += len(roots)
            for tid in members:
                if tid not in seen:
                    seen.add(tid)
                    tids.append(tid)
        yield tids
        return
    btree.scans += 1
    bounds = compiled(node, "bounds", lambda: compile_exprs(
        tuple(e for e in (node.lo, node.hi) if e is not None)))[0]((), env)
    lo = hi = None
    i = 0
    if node.lo is not None:
        lo = bounds[i]
        i += 1
        if lo is None:
            return
    if node.hi is not None:
        hi = bounds[i]
        if hi is None:
            return
    # no bound at all: the whole index in key order (a scan that spares an ORDER BY its sort),
    # NULL keys included, last (first backward); a bound excludes them, as its comparison does
    bounded = node.lo is not None or node.hi is not None or not node.nulls
    n = len(prefix)
    lo_key = prefix + ((lo,) if lo is not None else ()) if (lo is not None or prefix) else None
    hi_key = prefix + ((hi,) if hi is not None else ()) if (hi is not None or prefix) else None
    if not node.nulls and lo_key is None:
        lo_key = ()  # any lower bound: the B-tree's range then stops below the NULL keys
    lo_inclusive = node.lo_inclusive if lo is not None else True
    hi_inclusive = node.hi_inclusive if hi is not None else True
    entries = (btree.range_back(lo_key, hi_key, lo_inclusive, hi_inclusive) if node.backward
               else btree.range(lo_key, hi_key, lo_inclusive, hi_inclusive, members=False))
    async for batch in entries:
        kept = []
        for entry in batch:
            key = entry[0]
            if key[:n] != prefix:
                continue
            v = key[n] if len(key) > n else None
            if v is None:
                if bounded:
                    continue
            else:
                if lo is not None and (v < lo or (v == lo and not node.lo_inclusive)):
                    continue
                if hi is not None and (v > hi or (v == hi and not node.hi_inclusive)):
                    continue
            kept.append(entry)
        btree.tuples_read += len(kept)
        if kept:
            yield [tid for _, tid in await btree.expand(kept)]


@dataclass(frozen=True, slots=True)
class SystemColumns(PlanNode):
    """A table's system columns after its stored ones, for a statement that names one.

    `input` is a SeqScan/IndexScan (or a Filter/EpqScan over one) yielding `stored columns +
    (tid,)`; the output is `stored columns + (ctid, xmin, cmin, xmax, cmax, tableoid) + (tid,)`
    (PostgreSQL's attnums -1..-6 in that order). ctid is (block number in the relation, slot + 1)
    as PostgreSQL numbers line pointers; cmin and cmax both show the raw command id of the tuple
    header (cmax once a deleter or updater stamped xmax), as PostgreSQL's single t_cid does.
    """

    input: PlanNode
    table_oid: int
    width: int
    tid_first: bool = False  # stored + (tid,) + system columns: UPDATE / DELETE sources read the tid there


SYSTEM_COLUMN_COUNT = 6


def _block_numbers(env: Env, heap: Any) -> dict[int, int]:
    """page number -> block number of `heap` (cached for the statement; rebuilt when it grows)."""
    key = f"ctid-blocks:{heap.rel_id}"
    blocks: dict[int, int] | None = env.ctx.extra.get(key)
    pages = heap.pagelist.pages
    if blocks is None or len(blocks) != len(pages):
        blocks = {page: i for i, page in enumerate(pages)}
        env.ctx.extra[key] = blocks
    return blocks


@runner(SystemColumns)
async def run_system_columns(node: SystemColumns, env: Env) -> AsyncIterator[Batch]:
    table, heap = table_and_heap(env, node.table_oid)
    if not heap.pagelist.loaded:
        await heap.pagelist.load()
    cache = heap.cache
    table_oid = node.table_oid
    tid_first = node.tid_first
    async for batch in run_node(node.input, env):
        blocks = _block_numbers(env, heap)
        out: Batch = []
        for row in batch:
            tid = row[-1]
            page_no, slot = tid
            page = cache.get(page_no)
            if page is None:
                page = await cache.read_optional(page_no)
            if page is None or slot >= len(page.items) or len(page.items[slot]) < HEADER_SIZE:
                continue  # pruned or vacuumed away since the scan saw it (empty, or an LP_REDIRECT)
            xmin, cmin, xmax, cmax, _, _, _ = unpack_header(page.items[slot], 0)
            block = blocks.get(page_no)
            if block is None:
                blocks = {page: i for i, page in enumerate(heap.pagelist.pages)}
                env.ctx.extra[f"ctid-blocks:{heap.rel_id}"] = blocks
                block = blocks.get(page_no, page_no)
            cid = cmax if xmax else cmin
            if tid_first:
                out.append(row + ((block, slot + 1), xmin, cid, xmax, cid, table_oid))
            else:
                out.append(row[:-1] + ((block, slot + 1), xmin, cid, xmax, cid, table_oid, tid))
        if out:
            yield out


@runner(SystemScan)
async def run_system_scan(node: SystemScan, env: Env) -> AsyncIterator[Batch]:
    # system relations: see pgaurora/catalog/system
    from pgaurora.catalog.system import relation_index, relation_rows

    rows = relation_rows(node.schema, node.name, env.ctx)
    probe = compiled(node, "probe", lambda: _equality_probe(node.qual)) if node.qual is not None else None
    if probe is not None:
        # `column = runtime constant` (often an outer row's value): a per-statement hash lookup
        column, value_fn = probe
        value = value_fn((), env)[0]
        index = relation_index(node.schema, node.name, env.ctx, column)
        if value is None:
            rows = []
        elif index is not None and not isinstance(value, list):
            rows = index.get(value, [])
    if node.qual is not None:
        qual = compiled_expr(node, "qual", node.qual)
        kept = []
        for r in rows:
            if qual.subplans:
                await prepare_all(qual.subplans, r, env)
            if qual.fn(r, env) is True:
                kept.append(r)
        rows = kept
    for i in range(0, len(rows), BATCH_SIZE):
        yield rows[i:i + BATCH_SIZE]


def _equality_probe(qual: Any) -> tuple[int, Any] | None:
    """(column, compiled value) for a `Var = constant/param/outer value` conjunct of a SystemScan qual."""
    from pgaurora.executor.expr import BoolExpr, BoolOp, FuncExpr, Var, walk

    conjuncts = list(qual.args) if isinstance(qual, BoolExpr) and qual.op is BoolOp.AND else [qual]
    for q in conjuncts:
        if isinstance(q, FuncExpr) and q.is_operator and q.name == "=" and len(q.args) == 2 and not q.volatile:
            for var, other in (q.args, q.args[::-1]):
                if isinstance(var, Var) and not any(isinstance(n, Var) for n in walk(other)) \
                        and not any(isinstance(n, FuncExpr) and n.volatile for n in walk(other)):
                    fn, subplans = compile_exprs((other,))
                    if not subplans:
                        return var.index, fn
    return None


@runner(FunctionScan)
async def run_function_scan(node: FunctionScan, env: Env) -> AsyncIterator[Batch]:
    args_fn, subplans = compiled(node, "args", lambda: compile_exprs(node.args))
    if subplans:
        await prepare_all(subplans, (), env)
    args = args_fn((), env)
    if type(node.fn) is WaitingFunction:  # a user function: the session runs it (session.routines)
        result = await node.fn.wait(env.ctx, *args)
        if not node.retset:
            result = [result if result is not None or node.width - node.with_ordinality == 1
                      else (None,) * (node.width - node.with_ordinality)]
    elif node.needs_context:
        result = node.fn(env.ctx, *args)
    else:
        if any(a is None for a in args) and getattr(node.fn, "strict", True):
            return
        result = node.fn(*args)
    out: Batch = []
    n = 0
    for item in result:
        row = item if isinstance(item, tuple) else (item,)
        if node.with_ordinality:
            n += 1
            row = row + (n,)
        out.append(row)
        if len(out) >= BATCH_SIZE:
            env.ctx.check_cancel()
            yield out
            out = []
    if out:
        yield out


@runner(RowsFromScan)
async def run_rows_from(node: RowsFromScan, env: Env) -> AsyncIterator[Batch]:
    results = [await collect(f, env) for f in node.functions]
    nulls = [(None,) * f.width for f in node.functions]
    out: Batch = []
    for n in range(max((len(r) for r in results), default=0)):
        row = tuple(v for rows, pad in zip(results, nulls, strict=True) for v in (rows[n] if n < len(rows) else pad))
        out.append(row + (n + 1,) if node.with_ordinality else row)
        if len(out) >= BATCH_SIZE:
            env.ctx.check_cancel()
            yield out
            out = []
    if out:
        yield out


@runner(CteScan)
async def run_cte_scan(node: CteScan, env: Env) -> AsyncIterator[Batch]:
    rows = env.cte_rows.get(node.cte_id)
    if rows is not None:
        for i in range(0, len(rows), BATCH_SIZE):
            yield rows[i:i + BATCH_SIZE]
        return
    # first reader: stream the CTE while keeping its rows for later readers, so that a LIMIT
    # above an unbounded WITH RECURSIVE stops it (results are cached only once complete)
    kept: Batch = []
    async for batch in run_node(node.plan, env):
        kept.extend(batch)
        yield batch
    env.cte_rows[node.cte_id] = kept


@runner(WorkTableScan)
async def run_worktable(node: WorkTableScan, env: Env) -> AsyncIterator[Batch]:
    rows = env.worktables.get(node.cte_id, [])
    if rows:
        yield list(rows)


MAX_RECURSION_ROWS = 10_000_000


@runner(RecursiveUnion)
async def run_recursive_union(node: RecursiveUnion, env: Env) -> AsyncIterator[Batch]:
    base = await collect(node.non_recursive, env)
    seen: set[tuple[Any, ...]] | None = None if node.all else set()
    if seen is not None:
        unique = []
        for r in base:
            k = freeze_row(r)
            if k not in seen:
                seen.add(k)
                unique.append(r)
        base = unique
    if base:
        yield base
    work = base
    total = len(base)
    while work:
        env.ctx.check_cancel()
        env.worktables[node.cte_id] = work
        produced: Batch = []
        async for batch in run_node(node.recursive, env):
            if seen is None:
                produced.extend(batch)
            else:
                for r in batch:
                    k = freeze_row(r)
                    if k not in seen:
                        seen.add(k)
                        produced.append(r)
        total += len(produced)
        if total > MAX_RECURSION_ROWS:
            raise InternalError("recursive query produced too many rows")
        if produced:
            yield produced
        work = produced
    env.worktables.pop(node.cte_id, None)
