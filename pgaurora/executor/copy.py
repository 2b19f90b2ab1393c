"""COPY support: rows that come from outside the plan (COPY FROM's data), decoded per column.

Owns the ExternalRows node: the session puts an async iterator of batches of text rows (lists
of fields, None for NULL) into `ctx.extra["copy_batches"]` (or of single rows into
`ctx.extra["copy_rows"]`); the node decodes each field with the column
type's input function and yields batches for the Insert above it, which applies defaults and
constraint checks. Between two batches it hands the event loop back: a client sends its rows
faster than they are inserted, so they pile up in the connection's buffer and reading them
never waits; without a turn of the loop a million-row COPY would hold every other session
(and the supervisor's health probes) for its whole run. Not the COPY text/CSV framing
(session) and not planning (planner.copy).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pgaurora import datatypes
from pgaurora.errors import BadCopyFileFormat, PgError
from pgaurora.executor.context import Env
from pgaurora.executor.nodes import BATCH_SIZE, Batch, runner
from pgaurora.executor.plannodes import PlanNode


@dataclass(frozen=True, slots=True)
class ExternalRows(PlanNode):
    """Decoded COPY FROM rows: one column per (type oid, typmod) in `types`."""

    types: tuple[tuple[int, int], ...]
    width: int
    binary: bool = False


@runner(ExternalRows)
async def run_external_rows(node: ExternalRows, env: Env) -> AsyncIterator[Batch]:
    extra = env.ctx.extra
    source = extra.get("copy_batches")
    if source is None:
        rows = extra.get("copy_rows")
        if rows is None:
            return
        source = _single_rows(rows)
    fmt = env.ctx.format_context
    decoders: list[Any]
    if node.binary:
        decoders = [datatypes.binary_decoder(oid, typmod) for oid, typmod in node.types]
    else:
        decoders = [datatypes.text_decoder(oid, typmod, fmt) for oid, typmod in node.types]
    width = node.width
    out: Batch = []
    line = 0
    async for batch in source:
        for fields in batch:
            line += 1
            if len(fields) != width:
                if len(fields) < width:
                    raise BadCopyFileFormat("missing data for column", where=f"COPY, line {line}")
                raise BadCopyFileFormat("extra data after last expected column", where=f"COPY, line {line}")
            try:
                out.append(tuple([None if f is None else d(f) for d, f in zip(decoders, fields, strict=False)]))
            except PgError as exc:
                exc.where = exc.where or f"COPY, line {line}"
                raise
            if len(out) >= BATCH_SIZE:
                env.ctx.check_cancel()
                yield out
                out = []
                await asyncio.sleep(0)  # the batch is inserted: let the other sessions' queries in
    if out:
        yield out


async def _single_rows(rows: AsyncIterator[list[Any]]) -> AsyncIterator[list[list[Any]]]:
    """`ctx.extra["copy_rows"]` (one row at a time) as batches of one row."""
    async for fields in rows:
        yield [fields]


__all__ = ["ExternalRows", "Any"]
