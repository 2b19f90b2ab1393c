"""Data-modifying statements in WITH: WITH x AS (INSERT / UPDATE / DELETE ... RETURNING) main query.

Owns the ModifyingCtes node and its runner. Each data-modifying CTE runs exactly once, to
completion, before the main query reads anything, whether or not the main query reads it (its
RETURNING rows are kept in `env.cte_rows` for the CteScans that do). Everything runs in one
command with one snapshot, so, as in PostgreSQL, neither the main query nor the other CTEs see
the rows a CTE wrote, only its RETURNING output.

    ModifyingCtes(ctes=[CteScan(Insert ... RETURNING)])
      └─ main query (reads CteScan(cte_id) from the kept rows)

Not planning (planner.fromclause, planner.planner) and not the INSERT/UPDATE/DELETE nodes
(executor.modify).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from pgaurora.executor.context import Env
from pgaurora.executor.nodes import Batch, run_node, runner
from pgaurora.executor.plannodes import CteScan, PlanNode


@dataclass(frozen=True, slots=True)
class ModifyingCtes(PlanNode):
    input: PlanNode
    ctes: tuple[CteScan, ...]
    width: int


@runner(ModifyingCtes)
async def run_modifying_ctes(node: ModifyingCtes, env: Env) -> AsyncIterator[Batch]:
    for cte in node.ctes:
        if cte.cte_id in env.cte_rows:
            continue
        async for _batch in run_node(cte, env):  # the CteScan keeps the rows for later readers
            pass
    # the command tag counts the main statement's rows, not the CTEs'; "modified" stays set so
    # that the next statement of the transaction sees these writes
    env.row_counts.pop("rows", None)
    env.row_counts["modified"] = 1
    async for batch in run_node(node.input, env):
        yield batch


__all__ = ["ModifyingCtes"]
