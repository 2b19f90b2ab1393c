"""COPY FROM STDIN / COPY TO STDOUT as a statement of a session.

Owns running a COPY plan with its rows travelling through the ResultSink's COPY sub-protocol:
FROM feeds the client's rows (split and decoded by the server with wire's COPY codecs), in
batches, to the plan's ExternalRows node via `ctx.extra["copy_batches"]`; TO hands each batch of the plan's rows
to the sink, which formats them. An error or a disconnect before CopyDone fails the
statement, so its transaction aborts and no partial rows remain. Not the formats (wire), not
the plans (planner / executor.copy).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pgaurora.errors import FeatureNotSupported

if TYPE_CHECKING:
    from pgaurora.session.session import Session

FETCH_BATCH = 1000


def copy_column_names(session: Session, tree: dict[str, Any]) -> list[str]:
    """The columns COPY FROM fills: its column list, else the table's columns in order."""
    if tree.get("attlist"):
        return [a["String"]["sval"] for a in tree["attlist"]]
    relation = tree.get("relation", {})
    state = session.engine.catalog.state_for(session.block.txn)
    table = state.relation(relation.get("relname", ""), relation.get("schemaname"))
    if table is None or not hasattr(table, "live_columns"):
        return []
    return [c.name for c in table.live_columns()]


async def run_copy(session: Session, stmt: Any, plan: Any, params: tuple[Any, ...], sink: Any) -> str:
    """Runs one COPY statement; returns its CommandComplete tag ("COPY n")."""
    tree = stmt.tree
    if "filename" in tree or tree.get("is_program"):
        raise FeatureNotSupported("COPY to or from a file is not supported",
                                  hint="Use COPY FROM STDIN or COPY TO STDOUT.")
    session.block.start_implicit()
    if tree.get("is_from"):
        names = copy_column_names(session, tree)
        batches = sink.copy_in_rows(tree, names, tree.get("relation", {}).get("relname", ""))
        cursor = await session._start(plan, params, {"copy_batches": batches})
        while await cursor.fetch(FETCH_BATCH):
            pass
    else:
        sink.copy_out_begin(tree, plan.columns or ())
        cursor = await session._start(plan, params)
        while True:
            batch = await cursor.fetch(FETCH_BATCH)
            if not batch:
                break
            sink.copy_out_rows(batch)
            await asyncio.sleep(0)   # let the other sessions (and cancels) run
        sink.copy_out_end()
    tag = cursor.tag or "COPY 0"
    return tag if tag.startswith("COPY") else "COPY " + tag.rsplit(" ", 1)[-1]
