"""Row locking for SELECT ... FOR UPDATE / FOR SHARE (the LockRows node).

Owns taking each output row's tuple lock through access.Heap.lock with the statement's wait
policy. Not lock tables or deadlock detection (txn.manager) and not the concurrent-update
rules (access.heap). Known gap: in READ COMMITTED a row updated concurrently is locked in its
newest version but the WHERE clause is not re-evaluated against it (no EvalPlanQual here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pgaurora.executor.context import Env
from pgaurora.executor.nodes import Batch, run_node, runner
from pgaurora.executor.plannodes import LockRows


@runner(LockRows)
async def run_lock_rows(node: LockRows, env: Env) -> AsyncIterator[Batch]:
    state = env.ctx.extra["catalog_state"]
    table = state.table(node.table_oid)
    heap = env.ctx.storage.heap(table.rel_id)
    txn = env.ctx.txn
    i = node.tid_index
    async for batch in run_node(node.input, env):
        for row in batch:
            locked = await heap.lock(txn, env.snapshot, row[i], node.mode, wait=node.wait)
            if locked is not None:
                # one row at a time: a LIMIT above stops pulling before more rows get locked
                yield [row]
