"""COPY support: rows that come from outside the plan (COPY FROM's data), decoded per column.

Owns the ExternalRows node: the session puts an async iterator of text rows (lists of fields,
None for NULL) into `ctx.extra["copy_rows"]`; the node decodes each field with the column
type's input function and yields batches for the Insert above it, which applies defaults and
constraint checks. Not the COPY text/CSV framing (session) and not planning (planner.copy).
"""

from __future__ import annotations

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
    source = env.ctx.extra.get("copy_rows")
    if source is None:
        return
    fmt = env.ctx.format_context
    decoders: list[Any]
    if node.binary:
        decoders = [datatypes.binary_decoder(oid, typmod) for oid, typmod in node.types]
    else:
        decoders = [datatypes.text_decoder(oid, typmod, fmt) for oid, typmod in node.types]
    width = node.width
    out: Batch = []
    line = 0
    async for fields in source:
        line += 1
        if len(fields) != width:
            if len(fields) < width:
                raise BadCopyFileFormat("missing data for column", where=f"COPY, line {line}")
            raise BadCopyFileFormat("extra data after last expected column", where=f"COPY, line {line}")
        try:
            out.append(tuple(None if f is None else d(f) for d, f in zip(decoders, fields, strict=True)))
        except PgError as exc:
            exc.where = exc.where or f"COPY, line {line}"
            raise
        if len(out) >= BATCH_SIZE:
            env.ctx.check_cancel()
            yield out
            out = []
    if out:
        yield out


__all__ = ["ExternalRows", "Any"]
