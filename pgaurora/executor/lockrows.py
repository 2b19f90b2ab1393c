"""Row locking for SELECT ... FOR UPDATE / FOR SHARE (the LockRows node), with EvalPlanQual.

Owns taking each output row's tuple lock through access.Heap.lock with the statement's wait
policy, and READ COMMITTED's re-check of a row that a concurrent transaction updated (PostgreSQL's
EvalPlanQual). Not lock tables or deadlock detection (txn.manager) and not the concurrent-update
rules themselves (access.heapversions).

    Heap.lock waits for the other writer, then locks the newest version of the row
      same tid          -> the row is unchanged: emit it as read
      newer tid         -> re-run the input plan, its scan of the locked table reduced to that
                           one version read with a fresh snapshot (EpqScan; other tables and
                           subqueries read as the statement read them): WHERE, joins and target
                           expressions see the new values; no row out = it no longer qualifies
      None              -> deleted meanwhile (or locked, with SKIP LOCKED): skipped

As in PostgreSQL, a version that fails the re-check stays locked until the transaction ends.
REPEATABLE READ / SERIALIZABLE never get here with a newer version: Heap.lock raises 40001.

Joins and partitioned tables (LockRows.marks): each output row locks the row of every marked
table (its tid and table oid are columns of the row: a partition's oid for a partitioned table).
When any of them has a newer version, the input plan is re-run with every marked table's scan
reduced to the locked versions, read with a fresh snapshot (EpqMarkScan): the joined row is re-formed
from exactly those versions and all quals are evaluated again; the first re-formed row that
consists of the locked versions replaces the original (none: the row no longer qualifies).
Tables that are not locked (FOR UPDATE OF a) are read again with the statement's snapshot, where
PostgreSQL reuses the row it had read (the same row, unless a volatile qual decides otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from pgaurora.executor.context import Env
from pgaurora.executor.nodes import Batch, compiled, run_node, runner
from pgaurora.executor.plannodes import IndexScan, LockRows, PlanNode, RowMark, SeqScan


@dataclasses.dataclass(frozen=True, slots=True)
class EpqScan(PlanNode):
    """The locked table's scan during a re-check: `scan`'s rows (its quals and index conditions
    still apply) reduced to the version whose tid is `ctx.extra[f'epq:{key}']`."""

    scan: PlanNode
    key: int
    width: int


async def _scan_with_snapshot(scan: PlanNode, env: Env, snapshot: Any) -> AsyncIterator[Batch]:
    """`scan`'s batches read with `snapshot` while the rest of the plan keeps the statement's: a
    re-check sees the newest version of a locked row and everything else as the statement did
    (PostgreSQL's EvalPlanQual: other tables' rows and subquery values as first read)."""
    batches = run_node(scan, env)
    while True:
        saved, env.snapshot = env.snapshot, snapshot
        try:
            batch = await batches.__anext__()
        except StopAsyncIteration:
            return
        finally:
            env.snapshot = saved
        yield batch


@runner(EpqScan)
async def run_epq_scan(node: EpqScan, env: Env) -> AsyncIterator[Batch]:
    target = env.ctx.extra.get(f"epq:{node.key}")
    snapshot = env.ctx.extra.get(f"epq:{node.key}:snapshot") or env.snapshot
    async for batch in _scan_with_snapshot(node.scan, env, snapshot):
        out = [row for row in batch if row[-1] == target]
        if out:
            yield out


def _with_epq_scan(node: Any, table_oid: int, key: int, found: list[bool]) -> Any:
    """`node` with the first tid-yielding scan of `table_oid` wrapped in an EpqScan."""
    if found[0] or not isinstance(node, PlanNode) or not dataclasses.is_dataclass(node):
        return node
    if isinstance(node, SeqScan | IndexScan) and node.table_oid == table_oid and node.with_tid:
        found[0] = True
        return EpqScan(node, key, node.width)
    changes = {}
    for f in dataclasses.fields(node):
        child = getattr(node, f.name)
        if isinstance(child, PlanNode):
            new = _with_epq_scan(child, table_oid, key, found)
            if new is not child:
                changes[f.name] = new
        elif isinstance(child, tuple) and child and all(isinstance(c, PlanNode) for c in child):
            new_children = tuple(_with_epq_scan(c, table_oid, key, found) for c in child)
            if any(a is not b for a, b in zip(new_children, child, strict=True)):
                changes[f.name] = new_children
    return dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]


def epq_plan(owner: Any, source: PlanNode, table_oid: int) -> PlanNode | None:
    """`source` prepared for re-checks of `table_oid`'s rows (once per plan node `owner`), or None
    if no scan of that table yields tids."""

    def build() -> PlanNode | None:
        found = [False]
        plan = _with_epq_scan(source, table_oid, id(owner), found)
        return plan if found[0] else None

    return compiled(owner, "epq", build)  # type: ignore[no-any-return]


async def recheck_rows(owner: Any, source: PlanNode, table_oid: int, env: Env, tid: Any) -> Batch | None:
    """`source`'s rows for the version of `table_oid` at `tid` (read with a fresh snapshot): what
    PostgreSQL's EvalPlanQual computes; None when the plan has no scan to reduce."""
    plan = epq_plan(owner, source, table_oid)
    if plan is None:
        return None
    txn = env.ctx.txn
    extra = env.ctx.extra
    key = f"epq:{id(owner)}"
    saved_target, saved_snapshot = extra.get(key), extra.get(f"{key}:snapshot")
    extra[key] = tid
    extra[f"{key}:snapshot"] = txn.manager.take_snapshot(txn)
    try:
        rows: Batch = []
        async for batch in run_node(plan, env):
            rows.extend(batch)
        return rows
    finally:
        extra[key] = saved_target
        extra[f"{key}:snapshot"] = saved_snapshot


@dataclasses.dataclass(frozen=True, slots=True)
class EpqMarkScan(PlanNode):
    """A marked table's scan during a join re-check: `scan`'s rows reduced to the versions locked
    for it (`ctx.extra[f'epq-marks:{key}'][table oid]`, a set of tids)."""

    scan: PlanNode
    key: int
    table_oid: int
    width: int


@runner(EpqMarkScan)
async def run_epq_mark_scan(node: EpqMarkScan, env: Env) -> AsyncIterator[Batch]:
    targets = env.ctx.extra.get(f"epq-marks:{node.key}", {}).get(node.table_oid, ())
    snapshot = env.ctx.extra.get(f"epq-marks:{node.key}:snapshot") or env.snapshot
    async for batch in _scan_with_snapshot(node.scan, env, snapshot):
        out = [row for row in batch if row[-1] in targets]
        if out:
            yield out


def _with_mark_scans(node: Any, table_oids: frozenset[int], key: int) -> Any:
    """`node` with every tid-yielding scan of one of `table_oids` wrapped in an EpqMarkScan."""
    if not isinstance(node, PlanNode) or not dataclasses.is_dataclass(node):
        return node
    if isinstance(node, SeqScan | IndexScan):
        if node.table_oid in table_oids and node.with_tid:
            return EpqMarkScan(node, key, node.table_oid, node.width)
        return node
    changes = {}
    for f in dataclasses.fields(node):
        child = getattr(node, f.name)
        if isinstance(child, PlanNode):
            new = _with_mark_scans(child, table_oids, key)
            if new is not child:
                changes[f.name] = new
        elif isinstance(child, tuple) and child and all(isinstance(c, PlanNode) for c in child):
            new_children = tuple(_with_mark_scans(c, table_oids, key) for c in child)
            if any(a is not b for a, b in zip(new_children, child, strict=True)):
                changes[f.name] = new_children
    return dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]


async def _recheck_marks(node: LockRows, env: Env, locked: list[tuple[int, Any]]) -> tuple[Any, ...] | None:
    """The input row re-formed from the locked versions (table oid, tid) of every mark, under a
    fresh snapshot for them; None when those versions no longer form a row that qualifies."""
    oids = frozenset(oid for oid, _ in locked)
    plan = compiled(node, f"epq-marks:{sorted(oids)}", lambda: _with_mark_scans(node.input, oids, id(node)))
    targets: dict[int, set[Any]] = {}
    for oid, tid in locked:
        targets.setdefault(oid, set()).add(tid)
    txn = env.ctx.txn
    extra = env.ctx.extra
    key = f"epq-marks:{id(node)}"
    saved_targets, saved_snapshot = extra.get(key), extra.get(f"{key}:snapshot")
    extra[key] = targets
    extra[f"{key}:snapshot"] = txn.manager.take_snapshot(txn)
    try:
        async for batch in run_node(plan, env):
            for row in batch:
                if all((row[m.tableoid_index], row[m.tid_index]) == want
                       for m, want in zip(node.marks, locked, strict=True)):
                    return row
        return None
    finally:
        extra[key] = saved_targets
        extra[f"{key}:snapshot"] = saved_snapshot


async def _lock_marks(node: LockRows, env: Env) -> AsyncIterator[Batch]:
    state = env.ctx.extra["catalog_state"]
    storage = env.ctx.storage
    txn = env.ctx.txn
    heaps: dict[int, Any] = {}
    marks: tuple[RowMark, ...] = node.marks
    async for batch in run_node(node.input, env):
        for row in batch:
            locked: list[tuple[int, Any]] = []
            changed = False
            for m in marks:
                table_oid, tid = row[m.tableoid_index], row[m.tid_index]
                heap = heaps.get(table_oid)
                if heap is None:
                    table = state.table(table_oid)
                    heap = heaps[table_oid] = storage.heap(table.rel_id)
                    if not heap.name:
                        heap.name = table.name  # for 'could not obtain lock on row in relation "t"'
                new_tid = await heap.lock(txn, env.snapshot, tid, m.mode, wait=m.wait)
                if new_tid is None:
                    break
                changed = changed or new_tid != tid
                locked.append((table_oid, new_tid))
            else:
                if changed:
                    rechecked = await _recheck_marks(node, env, locked)
                    if rechecked is not None:
                        yield [rechecked]
                    continue
                yield [row]  # one row at a time: a LIMIT above stops pulling before more rows get locked


@runner(LockRows)
async def run_lock_rows(node: LockRows, env: Env) -> AsyncIterator[Batch]:
    if node.marks:
        async for batch in _lock_marks(node, env):
            yield batch
        return
    state = env.ctx.extra["catalog_state"]
    table = state.table(node.table_oid)
    heap = env.ctx.storage.heap(table.rel_id)
    if not heap.name:
        heap.name = table.name  # for 'could not obtain lock on row in relation "t"'
    txn = env.ctx.txn
    i = node.tid_index
    async for batch in run_node(node.input, env):
        for row in batch:
            tid = row[i]
            locked = await heap.lock(txn, env.snapshot, tid, node.mode, wait=node.wait)
            if locked is None:
                continue
            if locked != tid:
                rechecked = await recheck_rows(node, node.input, node.table_oid, env, locked)
                if rechecked is not None:
                    for new_row in rechecked:
                        yield [new_row]
                    continue
            # one row at a time: a LIMIT above stops pulling before more rows get locked
            yield [row]
