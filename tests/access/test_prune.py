"""Opportunistic pruning on UPDATE: dead versions on a full page make room for new ones."""

from __future__ import annotations


async def _full_table(engine, rows: int = 300):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    t = txns.begin()
    tids = await heap.insert_many(t, [(i, "x" * 40) for i in range(rows)])
    await t.commit()
    return heap, tids


async def _update(engine, heap, tid, row):
    t = engine.txns.begin()
    new = await heap.update(t, t.snapshot(), tid, row)
    await t.commit()
    return new


async def test_repeated_updates_of_one_row_stay_on_its_page(engine):
    heap, tids = await _full_table(engine)
    tid = tids[0]
    page_no = tid[0]
    tid = await _update(engine, heap, tid, (0, "a" * 40))  # page full, nothing dead: goes elsewhere
    first_home = tid[0]
    assert first_home != page_no
    pages = await heap.count_pages()
    for n in range(200):
        tid = await _update(engine, heap, tid, (0, f"v{n}".ljust(40)))
    # every full page pruned the previous version (candidate slots only) and took the new one
    assert await heap.count_pages() <= pages + 1
    reader = engine.txns.begin()
    assert await heap.fetch(reader, reader.snapshot(), tid) == (0, "v199".ljust(40))


async def test_pruning_keeps_versions_an_open_snapshot_needs(engine):
    heap, tids = await _full_table(engine)
    page_no = tids[5][0]
    tid = await _update(engine, heap, tids[5], (5, "b" * 40))
    old_reader = engine.txns.begin("repeatable read")
    old_snapshot = old_reader.snapshot()
    for n in range(50):
        tid = await _update(engine, heap, tid, (5, f"w{n}".ljust(40)))
    # the version the old snapshot sees was never pruned
    rows = []
    async for batch in heap.scan(old_reader, old_snapshot):
        rows.extend(row for _, row in batch if row[0] == 5)
    assert rows == [(5, "b" * 40)]
    await old_reader.commit()
    assert page_no in heap._prune_hint or page_no in heap._pruned_at


async def test_pruning_removes_aborted_versions(engine):
    storage, txns = engine.storage, engine.txns
    heap, tids = await _full_table(engine)
    tid = await _update(engine, heap, tids[0], (0, "c" * 40))  # moves to another page
    # an aborted update leaves a dead version (aborted xmin) and an aborted xmax
    t = txns.begin()
    aborted_tid = await heap.update(t, t.snapshot(), tid, (0, "d" * 40))
    await t.abort()
    assert aborted_tid is not None
    page = storage.cache.get(aborted_tid[0])
    assert page is not None and page.items[aborted_tid[1]]
    heap._pruned_at.clear()
    assert heap._prune(aborted_tid[0], page)
    assert page.items[aborted_tid[1]] == b""
    reader = txns.begin()
    assert await heap.fetch(reader, reader.snapshot(), tid) == (0, "c" * 40)
