"""The no-await reads of the point fast path agree with the ordinary ones: BTree.lookup_cached
with lookup (duplicates, many versions, keys across leaves) and Heap.fetch_cached with fetch
(visibility, deleted rows); both say "not cached" instead of reading a page."""

from __future__ import annotations

import pathlib
import random
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tests.pagecache.harness import Engine


@pytest.fixture
async def engine(tmp_path: pathlib.Path) -> AsyncIterator[Engine]:
    e = await Engine.start(tmp_path)
    yield e
    await e.stop()


async def test_lookup_cached_matches_lookup(engine: Engine) -> None:
    storage = engine.storage
    tree = storage.btree(await storage.create_btree(1))
    heap = storage.heap(await storage.create_heap())
    rng = random.Random(7)
    keys = [rng.randrange(3000) for _ in range(4000)] + [77] * 20 + [1500] * 40
    txn = engine.txns.begin()
    tids = await heap.insert_many(txn, [(k,) for k in keys])  # real tids: lookups follow HOT chains
    await txn.commit()
    for k, tid in zip(keys, tids, strict=True):
        await tree.insert((k,), tid)
    for k in [*range(0, 3000, 7), 77, 1500, -1, 5000, 1500.0, Decimal(77)]:
        expected = sorted(await tree.lookup((k,)))
        cached = tree.lookup_cached((k,))
        if cached is None:  # only for a key with more versions than a lookup leaves uncleaned
            assert len(expected) > 32
        else:
            assert sorted(cached) == expected
    engine.cache.evict_all()
    assert tree.lookup_cached((77,)) is None
    await tree.lookup((77,))
    assert tree.lookup_cached((77,)) == await tree.lookup((77,))


async def test_fetch_cached_matches_fetch(engine: Engine) -> None:
    storage = engine.storage
    heap = storage.heap(await storage.create_heap())
    txns = engine.txns
    txn = txns.begin()
    tids = await heap.insert_many(txn, [(i, f"row {i}") for i in range(300)])
    await txn.commit()
    deleter = txns.begin()
    assert await heap.delete(deleter, deleter.snapshot(), tids[5])
    reader = txns.begin()
    snapshot = reader.snapshot()
    for tid in tids[:50]:
        assert heap.fetch_cached(snapshot, tid) == await heap.fetch(reader, snapshot, tid)
    await deleter.commit()
    later = txns.begin()
    fresh = later.snapshot()
    assert heap.fetch_cached(fresh, tids[5]) is None and await heap.fetch(later, fresh, tids[5]) is None
    assert heap.fetch_cached(snapshot, tids[5]) == (5, "row 5")  # the older snapshot still sees it
    assert heap.fetch_cached(fresh, (tids[0][0], 10_000)) is None
    engine.cache.evict_all()
    assert heap.fetch_cached(fresh, tids[0]) is False
    assert await heap.fetch(later, fresh, tids[0]) == (0, "row 0")
    assert heap.fetch_cached(fresh, tids[0]) == (0, "row 0")
    await reader.commit()
    await later.commit()
