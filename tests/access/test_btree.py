"""B-tree over the real in-process volume: splits, order, ranges, deletes, uniqueness."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgaurora.access import UniqueCheck
from pgaurora.access.btreekey import NULL_KEY, normalize
from pgaurora.errors import UniqueViolation
from tests.pagecache.harness import Engine


def model_key(key):
    return normalize(key)


async def all_entries(tree):
    return await tree.entries()


async def test_many_random_keys_split_and_stay_sorted(engine):
    tree = engine.storage.btree(await engine.storage.create_btree(1))
    rng = random.Random(7)
    model = []
    for i in range(5000):
        k = rng.randrange(100_000)
        tid = (1000 + i // 50, i % 50)
        await tree.insert((k,), tid)
        model.append(((k,), tid))
    model.sort(key=lambda e: (model_key(e[0]), e[1]))
    assert await all_entries(tree) == model
    assert tree.level >= 1
    k = model[1234][0]
    assert sorted(await tree.lookup(k)) == sorted(t for key, t in model if key == k)
    got = []
    async for batch in tree.range((20_000,), (30_000,), True, False):
        got.extend(batch)
    assert got == [e for e in model if 20_000 <= e[0][0] < 30_000]
    for key, tid in model[::3]:
        assert await tree.delete(key, tid)
    assert await all_entries(tree) == [e for i, e in enumerate(model) if i % 3]


async def test_nulls_last_nan_and_mixed_numbers(engine):
    tree = engine.storage.btree(await engine.storage.create_btree(1))
    keys = [(None,), (float("nan"),), (Decimal("2.5"),), (1,), (3.0,), (Decimal("NaN"),), (-1,)]
    for i, k in enumerate(keys):
        await tree.insert(k, (10, i))
    got = [k for k, _ in await all_entries(tree)]
    assert got[:4] == [(-1,), (1,), (Decimal("2.5"),), (3.0,)]
    assert got[-1] == (None,)
    assert await tree.lookup((1.0,)) == [(10, 3)]
    assert await tree.lookup((Decimal(3),)) == [(10, 4)]
    above = []
    async for batch in tree.range((2,), None, False, True):
        above.extend(k for k, _ in batch)
    assert (None,) not in above and (3.0,) in above


async def test_text_keys_use_c_collation_and_restart(engine):
    tree = engine.storage.btree(await engine.storage.create_btree(2))
    words = ["b", "B", "a", "é", "Z", "", "ab"]
    for i, w in enumerate(words):
        await tree.insert((w, i), (5, i))
    rel = tree.rel_id
    await engine.cache.sync()
    await engine.crash_writer()
    await engine.reopen()
    tree = engine.storage.btree(rel)
    assert [k[0] for k, _ in await all_entries(tree)] == sorted(words)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.tuples(st.booleans(), st.one_of(st.none(), st.integers(-50, 50)), st.integers(0, 5)),
        min_size=1,
        max_size=300,
    )
)
def test_btree_matches_sorted_list_model(tmp_path_factory, ops):
    async def run():
        engine = await Engine.start(tmp_path_factory.mktemp("bt"))
        try:
            tree = engine.storage.btree(await engine.storage.create_btree(1))
            model: set = set()
            for insert, k, slot in ops:
                tid = (100 + (k or 0) % 7, slot)
                if insert:
                    await tree.insert((k,), tid)
                    model.add(((k,), tid))
                else:
                    assert await tree.delete((k,), tid) == (((k,), tid) in model)
                    model.discard(((k,), tid))
            expect = sorted(model, key=lambda e: (model_key(e[0]), e[1]))
            assert await all_entries(tree) == expect
            for k in {k for _, k, _ in ops}:
                assert sorted(await tree.lookup((k,))) == sorted(t for key, t in model if key == (k,))
        finally:
            await engine.stop()

    asyncio.run(run())


async def test_unique_second_inserter_waits_then_fails_or_succeeds(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    tree = storage.btree(await storage.create_btree(1))

    async def insert(txn, k):
        tid = await heap.insert(txn, (k,))
        await tree.insert((k,), tid, UniqueCheck(txn, heap, "t_pkey", ("id",)))

    a, b = txns.begin(), txns.begin()
    await insert(a, 1)
    second = asyncio.ensure_future(insert(b, 1))
    for _ in range(100):
        if b.owner in txns.graph.edges:
            break
        await asyncio.sleep(0)
    assert not second.done()
    await a.commit()
    with pytest.raises(UniqueViolation) as info:
        await second
    assert info.value.message == 'duplicate key value violates unique constraint "t_pkey"'
    assert info.value.detail == "Key (id)=(1) already exists."
    await b.abort()

    c, d = txns.begin(), txns.begin()
    await insert(c, 2)
    second = asyncio.ensure_future(insert(d, 2))
    for _ in range(100):
        if d.owner in txns.graph.edges:
            break
        await asyncio.sleep(0)
    await c.abort()
    await second  # the first inserter rolled back: no conflict
    await d.commit()
    # a committed delete frees the key
    e = txns.begin()
    (tid,) = await tree.lookup((1,))
    assert await heap.delete(e, e.snapshot(), tid)
    await insert(e, 1)
    await e.commit()


def test_null_key_order_constant():
    assert (1,) < (NULL_KEY,) and ("z",) < (NULL_KEY,)


async def test_range_scan_survives_splits_between_batches(engine):
    tree = engine.storage.btree(await engine.storage.create_btree(1))
    for i in range(0, 4000, 2):
        await tree.insert((i,), (7, i % 100))
    seen = []
    extra = 1
    async for batch in tree.range(None, None, True, True, batch_size=50):
        seen.extend(k[0] for k, _ in batch)
        for _ in range(40):  # odd keys land everywhere, splitting leaves under the scan
            await tree.insert((extra,), (8, 0))
            extra = (extra + 1234) % 4000 | 1
    evens = [k for k in seen if k % 2 == 0]
    assert evens == list(range(0, 4000, 2))  # every entry present at the start seen exactly once
    assert seen == sorted(seen)


async def test_backward_ranges_are_forward_ranges_reversed(engine):
    """range_back: the same entries as range(members=False), highest first, for bounds inside,
    between and beyond the keys, in batches smaller than a leaf; NULL keys first (the highest)."""
    tree = engine.storage.btree(await engine.storage.create_btree(2))
    rng = random.Random(11)
    for i in range(3000):  # duplicate first columns, NULLs in both: several levels of nodes
        a = None if i % 97 == 0 else rng.randrange(400)
        b = None if i % 13 == 0 else rng.randrange(5)
        await tree.insert((a, b), (2000 + i // 40, i % 40))
    bounds = [(None, None, True, True), ((100,), (120,), True, True), ((100,), (120,), False, False),
              ((399,), None, True, True), (None, (0,), True, True), ((150, 2), (150, 4), True, False),
              ((7,), (7,), True, True), ((1000,), None, True, True), (None, (-5,), True, True)]
    for lo, hi, lo_inc, hi_inc in bounds:
        forward = [e async for batch in tree.range(lo, hi, lo_inc, hi_inc, members=False) for e in batch]
        for size in (1, 37, 1024):
            backward = [e async for batch in tree.range_back(lo, hi, lo_inc, hi_inc, batch_size=size) for e in batch]
            assert backward == forward[::-1], (lo, hi, lo_inc, hi_inc, size)
    everything = [e async for batch in tree.range_back() for e in batch]
    assert everything[0][0][0] is None and len(everything) == 3000


async def test_cancelled_wait_leaves_no_edge(engine):
    txns = engine.txns
    heap = engine.storage.heap(await engine.storage.create_heap())
    t = txns.begin()
    (tid,) = await heap.insert_many(t, [(1,)])
    await t.commit()
    a, b = txns.begin(), txns.begin()
    await heap.delete(a, a.snapshot(), tid)
    waiting = asyncio.ensure_future(heap.delete(b, b.snapshot(), tid))
    for _ in range(100):
        if b.owner in txns.graph.edges:
            break
        await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert b.owner not in txns.graph.edges
    await a.abort()
    assert await heap.delete(b, b.snapshot(), tid)
    await b.commit()


async def test_bulk_load_matches_inserts_and_checks_uniqueness(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    t = txns.begin()
    rng = random.Random(3)
    values = [rng.choice([None, rng.randrange(50_000)]) for _ in range(6_000)]
    tids = await heap.insert_many(t, [(v,) for v in values])
    await t.commit()
    built = storage.btree(await storage.create_btree(1))
    await built.bulk_load([((v,), tid) for v, tid in zip(values, tids, strict=True)])
    expect = sorted((((v,), tid) for v, tid in zip(values, tids, strict=True)), key=lambda e: (normalize(e[0]), e[1]))
    assert await built.entries() == expect
    assert built.level >= 1
    for v in values[:200]:
        assert sorted(await built.lookup((v,))) == sorted(tid for w, tid in zip(values, tids, strict=True) if w == v)
    await built.insert((123,), (9, 9))  # still an ordinary tree afterwards
    assert (9, 9) in await built.lookup((123,))
    # unique: distinct keys load, a duplicate among live rows raises 23505
    t = txns.begin()
    tids = await heap.insert_many(t, [(i,) for i in range(1000)] + [(5,)])
    unique = storage.btree(await storage.create_btree(1))
    with pytest.raises(UniqueViolation, match="t_key"):
        await unique.bulk_load(
            [((i,), tid) for i, tid in zip([*range(1000), 5], tids, strict=True)], UniqueCheck(t, heap, "t_key", ("id",))
        )
    ok = storage.btree(await storage.create_btree(1))
    await ok.bulk_load([((i,), tid) for i, tid in zip(range(1000), tids, strict=False)], UniqueCheck(t, heap, "t_key"))
    assert len(await ok.entries()) == 1000


async def test_date_and_timestamp_keys_mix(engine):
    import datetime

    tree = engine.storage.btree(await engine.storage.create_btree(1))
    days = [datetime.date(2024, 1, d) for d in (3, 1, 2)]
    for i, d in enumerate(days):
        await tree.insert((d,), (3, i))
    got = []
    async for batch in tree.range((datetime.datetime(2024, 1, 1, 12),), (datetime.date(2024, 1, 3),), True, True):
        got.extend(k for k, _ in batch)
    assert got == [(datetime.date(2024, 1, 2),), (datetime.date(2024, 1, 3),)]
    assert await tree.lookup((datetime.datetime(2024, 1, 2),)) == [(3, 2)]


async def test_split_nodes_stay_decoded_and_match_their_pages(engine, monkeypatch):
    """A split keeps both halves and the parent decoded in the page cache: each kept node equals
    what decoding its page gives (so no leaf is decoded again after a split)."""
    from pgaurora.access.btreekey import Node

    decodes = []
    decode = Node.__init__
    monkeypatch.setattr(Node, "__init__", lambda node, page: decodes.append(1) or decode(node, page))
    tree = engine.storage.btree(await engine.storage.create_btree(2))
    rng = random.Random(11)
    for i in range(6000):
        await tree.insert((rng.randrange(1000), f"k{i:05d}" * 25), (2000 + i // 50, i % 50))
    assert tree.level >= 2  # internal nodes split too
    assert len(decodes) <= 2 * tree.level + 2  # the first root leaf and each new root only
    cache = engine.storage.cache
    kept = [(page_no, node) for page_no, node in cache.derived.items() if type(node) is Node]
    assert len(kept) > 20
    for page_no, node in kept:
        fresh = Node(cache.get(page_no))
        assert (node.level, node.right, node.used) == (fresh.level, fresh.right, fresh.used)
        assert node.raw == fresh.raw and node.entries == fresh.entries and node.children == fresh.children
