"""CREATE INDEX's bottom-up build (access.btreebuild) sorts in runs with turns of the event loop in
between: runs that follow each other are joined, others merged; either way the tree holds every
entry in order, a duplicate in two different runs is still found, and a concurrent task runs
while a big build is in progress."""

from __future__ import annotations

import asyncio
import random

import pytest

from pgaurora.access import UniqueCheck, btreebuild
from pgaurora.access.btreekey import normalize
from pgaurora.errors import UniqueViolation
from tests.pagecache.harness import Engine

RUN = 256  # entries per sorted run in these tests (SORT_RUN is much larger)


async def _load(engine: Engine, values: list[int | None], unique: bool = False) -> tuple[object, list[object]]:
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    txn = txns.begin()
    tids = await heap.insert_many(txn, [(v,) for v in values])
    tree = storage.btree(await storage.create_btree(1))
    check = UniqueCheck(txn, heap, "t_key", ("id",)) if unique else None
    try:
        await tree.bulk_load([((v,), tid) for v, tid in zip(values, tids, strict=True)], check)
    finally:
        await txn.commit()
    expect = sorted((((v,), tid) for v, tid in zip(values, tids, strict=True)), key=lambda e: (normalize(e[0]), e[1]))
    return tree, expect


@pytest.mark.parametrize("order", ["ascending", "descending", "random"])
async def test_runs_joined_or_merged_keep_index_order(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                                      order: str) -> None:
    monkeypatch.setattr(btreebuild, "SORT_RUN", RUN)
    values: list[int | None] = list(range(RUN * 9 + 17))
    if order == "descending":
        values.reverse()
    elif order == "random":
        random.Random(5).shuffle(values)
        values[::50] = [None] * len(values[::50])
    tree, expect = await _load(engine, values)
    assert await tree.entries() == expect  # type: ignore[attr-defined]
    assert await tree.lookup((RUN * 4 + 1,)) == [tid for key, tid in expect if key == (RUN * 4 + 1,)]  # type: ignore[attr-defined]


async def test_duplicate_in_different_runs_is_found(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(btreebuild, "SORT_RUN", RUN)
    values: list[int | None] = [*range(RUN * 3), RUN + 7]  # the duplicate lands in the last run
    random.Random(9).shuffle(values)
    with pytest.raises(UniqueViolation, match="t_key"):
        await _load(engine, values, unique=True)


async def test_other_tasks_run_during_a_big_build(engine: Engine) -> None:
    turns = 0
    stop = asyncio.Event()

    async def other_session() -> None:
        nonlocal turns
        for _ in range(1_000_000):  # bounded; ends when the build does
            if stop.is_set():
                return
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other_session())
    values: list[int | None] = list(range(btreebuild.SORT_RUN * 2 + 5))
    random.Random(1).shuffle(values)
    try:
        tree, expect = await _load(engine, values)
    finally:
        stop.set()
        await task
    assert await tree.entries() == expect  # type: ignore[attr-defined]
    # at least a turn per sorted run and per YIELD_EVERY merged entries
    assert turns >= 3 + len(values) // btreebuild.YIELD_EVERY
