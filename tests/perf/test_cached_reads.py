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


def _check_int_keys(engine: Engine) -> int:
    """Every decoded node's array of first values (Node.int_keys) equals its entries' first
    values; returns how many nodes had one."""
    from pgaurora.access.btreekey import Node

    checked = 0
    for form in engine.cache.derived.values():
        if type(form) is Node and form.keys is not None and form.keys is not False:
            first = [e[0] if e else None for e in form.entries]
            if form.level:
                first = first[1:]
                assert list(form.keys)[1:] == first  # type: ignore[arg-type]
            else:
                assert list(form.keys) == first  # type: ignore[arg-type]
            checked += 1
    return checked


async def test_int_keys_follow_inserts_deletes_and_vacuum(engine: Engine) -> None:
    """The nodes' arrays of integer keys, built by the first lookups, stay equal to the entries
    as inserts (splits among them), deletes and vacuum's removals change the nodes in place,
    and lookup_cached keeps agreeing with lookup."""
    storage = engine.storage
    tree = storage.btree(await storage.create_btree(1))
    heap = storage.heap(await storage.create_heap())
    rng = random.Random(11)
    keys = [rng.randrange(-2**63, 2**63) if i % 97 == 0 else rng.randrange(-500, 2500) for i in range(3000)]
    keys += [-2**63, 2**63 - 1]
    txn = engine.txns.begin()
    tids = await heap.insert_many(txn, [(k,) for k in keys])
    await txn.commit()
    live: dict[int, list] = {}
    for i, (k, tid) in enumerate(zip(keys, tids, strict=True)):
        await tree.insert((k,), tid)
        live.setdefault(k, []).append(tid)
        if i % 40 == 0:  # lookups build the arrays early, so later changes must keep them current
            probe = keys[rng.randrange(i + 1)]
            assert sorted(tree.lookup_cached((probe,)) or []) == sorted(await tree.lookup((probe,)))
    for k in rng.sample(sorted(live), 300):
        tid = live[k].pop()
        assert await tree.delete((k,), tid)
    dead = {t for k in rng.sample(sorted(live), 300) for t in live[k][:1]}
    assert await tree.remove_tids(dead) == len(dead)
    assert _check_int_keys(engine) >= 2
    for k in [*live, -2**63, 2**63 - 1, -501, 2501, 2**64, -2**64]:
        expected = sorted(await tree.lookup((k,)))
        cached = tree.lookup_cached((k,))
        assert cached is not None and sorted(cached) == expected, k
    from pgaurora.access.btreekey import Node

    nodes = sum(type(form) is Node for form in engine.cache.derived.values())
    assert tree.level >= 1 and _check_int_keys(engine) == nodes  # every node's, by now


async def test_int_keys_not_used_for_other_values(engine: Engine) -> None:
    """A node whose first values are not all int64 integers (numeric, text, NULL, a bigger int)
    is searched by its tuples: lookups of integers still find the right entries."""
    from pgaurora.access.btreekey import Node

    storage = engine.storage
    heap = storage.heap(await storage.create_heap())
    values = [[Decimal(i) / 4 for i in range(400)], [None, *range(300)], [2**70, *range(300)],
              [f"k{i}" for i in range(300)]]
    for vals in values:
        tree = storage.btree(await storage.create_btree(1))
        txn = engine.txns.begin()
        tids = await heap.insert_many(txn, [(0,)] * len(vals))
        await txn.commit()
        for v, tid in zip(vals, tids, strict=True):
            await tree.insert((v,), tid)
        for probe in (0, 1, 5, 299, 2**70, 12345):
            if isinstance(vals[-1], str):
                break
            expected = sorted(await tree.lookup((probe,)))
            assert sorted(tree.lookup_cached((probe,)) or []) == expected
        assert _check_int_keys(engine) >= 0
        leaf_forms = [f for f in engine.cache.derived.values() if type(f) is Node and f.level == 0
                      and any(not isinstance(e[0], int) or abs(e[0]) >= 2**63 for e in f.entries)]
        assert all(f.keys is None or f.keys is False for f in leaf_forms)
