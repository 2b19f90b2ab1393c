"""Micro-benchmarks (printed, loosely asserted): point lookup and full scan on cached pages.

Run with `-s` to see the figures. Bounds are generous: they catch a lost fast path, not noise.
"""

from __future__ import annotations

import time


async def test_point_lookup_and_scan_speed(engine):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    tree = storage.btree(await storage.create_btree(1))
    other = storage.heap(await storage.create_heap())
    old = txns.begin()
    await other.insert(old, (0,))  # a running writer older than the data: forces per-tuple checks
    t = txns.begin()
    tids = await heap.insert_many(t, [(i, f"name {i}", i * 1.5) for i in range(100_000)])
    for i in range(5000):
        await tree.insert((i,), tids[i])
    await t.commit()
    reader = txns.begin()
    snap = reader.snapshot()

    n = 0
    async for batch in heap.scan(reader, snap):  # decodes every page once
        n += len(batch)
    assert n == 100_000
    start = time.perf_counter()
    n = 0
    async for batch in heap.scan(reader, snap):
        n += len(batch)
    scan_ms = (time.perf_counter() - start) * 1000
    assert n == 100_000

    start = time.perf_counter()
    for i in range(5000):
        (tid,) = await tree.lookup((i,))
        row = await heap.fetch(reader, snap, tid)
        assert row[0] == i
    lookup_us = (time.perf_counter() - start) / 5000 * 1e6
    await old.commit()
    reader = txns.begin()
    snap = reader.snapshot()
    start = time.perf_counter()
    n = 0
    async for batch in heap.scan(reader, snap):
        n += len(batch)
    fast_ms = (time.perf_counter() - start) * 1000
    assert n == 100_000
    print(
        f"\nfull scan of 100k cached rows: {fast_ms:.1f} ms (all-visible pages), "
        f"{scan_ms:.1f} ms (per-tuple visibility); point lookup + fetch: {lookup_us:.1f} us"
    )
    assert scan_ms < 1000 and fast_ms < 1000
    assert lookup_us < 200
