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


@dataclass(frozen=True, slots=True)
class MergeCount(PlanNode):
    """MERGE (planner.merge): runs the statement MERGE became, whose one row says how many rows it
    changed and how many target rows two source rows would change; reports `MERGE n`."""

    input: PlanNode
    width: int = 0


@runner(MergeCount)
async def run_merge_count(node: MergeCount, env: Env) -> AsyncIterator[Batch]:
    from pgaurora.errors import CardinalityViolation

    rows = [row for batch in [b async for b in run_node(node.input, env)] for row in batch]
    merged, twice = rows[0] if rows else (0, 0)
    if twice:
        raise CardinalityViolation("MERGE command cannot affect row a second time",
                                   hint="Ensure that not more than one source row matches any one target row.")
    env.row_counts["tag"] = 1
    env.row_counts["tag_text"] = f"MERGE {merged}"  # type: ignore[assignment]
    if False:  # pragma: no cover - an async generator that yields nothing
        yield []

