"""Row locking for SELECT ... FOR UPDATE / FOR SHARE (the LockRows node), with EvalPlanQual.

Owns taking each output row's tuple lock through access.Heap.lock with the statement's wait
policy, and READ COMMITTED's re-check of a row that a concurrent transaction updated (PostgreSQL's
EvalPlanQual). Not lock tables or deadlock detection (txn.manager) and not the concurrent-update
rules themselves (access.heapversions).

    Heap.lock waits for the other writer, then locks the newest version of the row
      same tid          -> the row is unchanged: emit it as read
      newer tid         -> re-run the input plan with a fresh snapshot, its scan of the locked
                           table reduced to that one version (EpqScan): WHERE, joins and target
                           expressions see the new values; no row out = it no longer qualifies
      None              -> deleted meanwhile (or locked, with SKIP LOCKED): skipped

As in PostgreSQL, a version that fails the re-check stays locked until the transaction ends.
REPEATABLE READ / SERIALIZABLE never get here with a newer version: Heap.lock raises 40001.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from pgaurora.executor.context import Env
from pgaurora.executor.nodes import Batch, compiled, run_node, runner
from pgaurora.executor.plannodes import IndexScan, LockRows, PlanNode, SeqScan


@dataclasses.dataclass(frozen=True, slots=True)
class EpqScan(PlanNode):
    """The locked table's scan during a re-check: `scan`'s rows (its quals and index conditions
    still apply) reduced to the version whose tid is `ctx.extra[f'epq:{key}']`."""

    scan: PlanNode
    key: int
    width: int


@runner(EpqScan)
async def run_epq_scan(node: EpqScan, env: Env) -> AsyncIterator[Batch]:
    target = env.ctx.extra.get(f"epq:{node.key}")
    async for batch in run_node(node.scan, env):
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
    """`source`'s rows for the version of `table_oid` at `tid`, seen by a fresh snapshot (what
    PostgreSQL's EvalPlanQual computes); None when the plan has no scan to reduce."""
    plan = epq_plan(owner, source, table_oid)
    if plan is None:
        return None
    txn = env.ctx.txn
    extra = env.ctx.extra
    key = f"epq:{id(owner)}"
    saved_snapshot, saved_target = env.snapshot, extra.get(key)
    env.snapshot = txn.manager.take_snapshot(txn)
    extra[key] = tid
    try:
        rows: Batch = []
        async for batch in run_node(plan, env):
            rows.extend(batch)
        return rows
    finally:
        env.snapshot = saved_snapshot
        extra[key] = saved_target


@runner(LockRows)
async def run_lock_rows(node: LockRows, env: Env) -> AsyncIterator[Batch]:
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
