"""TABLESAMPLE: SampleScan keeps each page (SYSTEM) or row (BERNOULLI) of its SeqScan with
probability percent / 100. Which ones is a hash of the seed and the page (and slot): REPEATABLE
(seed) draws the same sample of unchanged data every time; without it each execution draws
afresh. PostgreSQL's own samples of the same seed are different ones (its generator is not
reproduced), with the same distribution."""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import AsyncIterator

from pgaurora.errors import PgError
from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.nodes import Batch, compiled, run_node, runner
from pgaurora.executor.plannodes import SampleScan

_PACK = struct.Struct("<dqq")


class TableSampleError(PgError):
    sqlstate = "2202H"


class RepeatableNull(PgError):
    sqlstate = "2202G"


def _draw(seed: float, page: int, slot: int) -> float:
    digest = hashlib.blake2b(_PACK.pack(seed, page, slot), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2 ** 64


@runner(SampleScan)
async def run_sample_scan(node: SampleScan, env: Env) -> AsyncIterator[Batch]:
    exprs = (node.percent,) if node.seed is None else (node.percent, node.seed)
    values = compiled(node, "sample", lambda: compile_exprs(exprs))[0]((), env)
    percent = values[0]
    if percent is None:
        raise TableSampleError("TABLESAMPLE parameter cannot be null")
    if node.seed is not None and values[1] is None:
        raise RepeatableNull("TABLESAMPLE REPEATABLE parameter cannot be null")
    if not 0 <= percent <= 100:
        raise TableSampleError("sample percentage must be between 0 and 100")
    fraction = percent / 100
    seed = float(values[1]) if node.seed is not None else random.random()
    by_page = node.method == "system"
    tid_index = node.input.width - 1
    async for batch in run_node(node.input, env):
        out: Batch = []
        for row in batch:
            page, slot = row[tid_index]
            if _draw(seed, page, 0 if by_page else slot + 1) < fraction:
                out.append(row[:tid_index])
        if out:
            yield out
