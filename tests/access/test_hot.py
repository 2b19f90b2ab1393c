"""HOT updates: heap-only versions, chains followed from index entries, pruning to redirects."""

from __future__ import annotations

import pytest

from pgaurora.access.btree import UniqueCheck
from pgaurora.access.heapprune import plan_prune
from pgaurora.access.heaptuple import (
    HEAP_HOT_UPDATED,
    HEAP_ONLY_TUPLE,
    REDIRECT_SIZE,
    hot_chain,
    new_tuple,
    pack_header,
    redirect_item,
    unpack_header,
)
from pgaurora.access.txnview import ABORTED, COMMITTED, IN_PROGRESS
from pgaurora.access.vacuum import vacuum
from pgaurora.errors import UniqueViolation


def same_id(old, new):
    return old[0] == new[0]


async def _table(engine, rows: int, pad: int = 40):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    index = storage.btree(await storage.create_btree(1))
    t = txns.begin()
    tids = await heap.insert_many(t, [(i, "x" * pad) for i in range(rows)])
    for i, tid in enumerate(tids):
        await index.insert((i,), tid)
    await t.commit()
    return heap, index, tids


async def _update(engine, heap, tid, row, same_keys=same_id):
    t = engine.txns.begin()
    new = await heap.update(t, t.snapshot(), tid, row, same_keys=same_keys)
    await t.commit()
    return new


async def _read(engine, heap, index, key, snapshot=None):
    """The rows an index scan for `key` returns: every chain member fetched with the snapshot."""
    t = engine.txns.begin()
    snapshot = snapshot or t.snapshot()
    rows = []
    for tid in await index.lookup((key,)):
        row = await heap.fetch(t, snapshot, tid)
        if row is not None:
            rows.append((tid, row))
    return rows


async def test_hot_update_stays_on_the_page_without_index_entries(engine):
    heap, index, tids = await _table(engine, 10)
    old_reader = engine.txns.begin("repeatable read")
    old_snapshot = old_reader.snapshot()
    new = await _update(engine, heap, tids[3], (3, "new"))
    assert new[0] == tids[3][0] and heap.is_heap_only(new)
    page = engine.cache.get(new[0])
    root = unpack_header(page.items[tids[3][1]], 0)
    assert root[4] & HEAP_HOT_UPDATED and (root[5], root[6]) == new
    assert unpack_header(page.items[new[1]], 0)[4] & HEAP_ONLY_TUPLE
    assert len(await index.entries()) == 10  # no entry for the new version
    # the lookup names every chain member; each snapshot sees exactly one
    assert await index.lookup((3,)) == [tids[3], new]
    assert await _read(engine, heap, index, 3) == [(new, (3, "new"))]
    assert await _read(engine, heap, index, 3, old_snapshot) == [(tids[3], (3, "x" * 40))]
    await old_reader.commit()
    assert heap.tuples_hot_updated == 1 and heap.tuples_updated == 1
    # an indexed column changes: not HOT, the new version needs its own entry
    moved = await _update(engine, heap, new, (30, "moved"))
    assert not heap.is_heap_only(moved) and heap.tuples_hot_updated == 1


async def test_pruning_collapses_a_chain_to_a_redirect_and_reuses_its_slots(engine):
    heap, index, tids = await _table(engine, 150)  # two pages, the first one full
    # a full page with nothing dead: the new version goes to another page, with an index entry
    root = await _update(engine, heap, tids[0], (0, "moved"))
    assert root[0] != tids[0][0] and not heap.is_heap_only(root)
    await index.insert((0,), root)
    page_no = root[0]
    tid = root
    pages = await heap.count_pages()
    filled = 0
    for n in range(300):
        tid = await _update(engine, heap, tid, (0, f"v{n}".ljust(40)))
        assert tid[0] == page_no and heap.is_heap_only(tid)  # pruned, then HOT on the same page
        if n == 149:
            filled = len(engine.cache.get(page_no).items)
    # the page filled up once; since then pruning frees slots that the next versions reuse
    assert len(engine.cache.get(page_no).items) <= filled
    assert await heap.count_pages() == pages
    page = engine.cache.get(page_no)
    assert len(page.items[root[1]]) == REDIRECT_SIZE  # the root became an LP_REDIRECT
    assert len(await index.entries()) == 151
    rows = await _read(engine, heap, index, 0)
    assert rows == [(tid, (0, "v299".ljust(40)))]
    assert heap.tuples_hot_updated == 300
    # vacuum keeps the redirect and its index entry, and drops the first version's
    result = await vacuum(heap, [index], engine.txns.oldest_xmin(), all_indexes=True)
    assert result.removed_index_entries == 1 and result.kept_tuples == 150
    assert await _read(engine, heap, index, 0) == [(tid, (0, "v299".ljust(40)))]


async def test_whole_dead_chain_leaves_lp_dead_root_for_vacuum(engine):
    heap, index, tids = await _table(engine, 5)
    tid = tids[1]
    for n in range(3):
        tid = await _update(engine, heap, tid, (1, f"d{n}"))
    t = engine.txns.begin()
    assert await heap.delete(t, t.snapshot(), tid)
    await t.commit()
    result = await vacuum(heap, [index], engine.txns.oldest_xmin(), all_indexes=True)
    assert result.removed_tuples == 4 and result.removed_index_entries == 1
    assert await index.lookup((1,)) == []
    assert sorted(k for k, _ in await index.entries()) == [(0,), (2,), (3,), (4,)]


async def test_unique_check_follows_hot_chains(engine):
    heap, index, tids = await _table(engine, 5)
    new = await _update(engine, heap, tids[2], (2, "hot"))
    assert heap.is_heap_only(new)
    t = engine.txns.begin()
    dup = await heap.insert(t, (2, "dup"))
    with pytest.raises(UniqueViolation):
        await index.insert((2,), dup, UniqueCheck(t, heap, "t_pkey", ("id",)))
    assert await index.find_conflict(t, heap, (2,)) == new  # the live member, not the root
    await t.abort()


async def test_bulk_load_indexes_chain_roots(engine):
    heap, index, tids = await _table(engine, 5)
    new = await _update(engine, heap, tids[4], (4, "hot"))
    second = engine.storage.btree(await engine.storage.create_btree(1))
    t = engine.txns.begin()
    entries = []
    async for batch in heap.scan(t, t.snapshot()):
        entries.extend(((row[1],), tid) for tid, row in batch)
    await second.bulk_load(entries)
    assert ((("hot",), tids[4])) in await second.entries()  # the root, not the heap-only tid
    assert await second.lookup(("hot",)) == [tids[4], new]
    # a unique build sees the live versions behind both roots: two rows with 'hot'
    await _update(engine, heap, tids[3], (3, "hot"))
    entries = []
    async for batch in heap.scan(t, engine.txns.begin().snapshot()):
        entries.extend(((row[1],), tid) for tid, row in batch)
    third = engine.storage.btree(await engine.storage.create_btree(1))
    with pytest.raises(UniqueViolation):
        await third.bulk_load(entries, UniqueCheck(t, heap, "t_v_key", ("v",)))


# -- plan_prune on hand-made pages ------------------------------------------------------------------

STATUS = {10: COMMITTED, 11: COMMITTED, 12: COMMITTED, 13: ABORTED, 14: IN_PROGRESS, 50: COMMITTED}


def _tuple(xmin, xmax=0, infomask=0, ctid=(0, 0)):
    return pack_header(xmin, 0, xmax, 0, infomask, *ctid) + b"\x91\x01"


def test_plan_prune_redirects_past_dead_members():
    page = 7
    items = [
        _tuple(10, 11, HEAP_HOT_UPDATED, (page, 1)),  # root, dead
        _tuple(11, 12, HEAP_HOT_UPDATED | HEAP_ONLY_TUPLE, (page, 2)),  # dead
        _tuple(12, 0, HEAP_ONLY_TUPLE),  # live
        _tuple(13, 0, HEAP_ONLY_TUPLE),  # aborted, on no chain
        _tuple(10, 14, 0),  # deleter running: kept
    ]
    assert hot_chain(page, items, 0) == [0, 1, 2]
    plan = plan_prune(page, items, STATUS.__getitem__, horizon=40)
    assert dict(plan.changes) == {0: redirect_item(2), 1: b"", 3: b""}
    assert sorted(plan.unused) == [1, 3] and plan.dead_roots == 0
    assert plan.hint == 14
    # below the horizon only the aborted tuple is dead
    plan = plan_prune(page, items, STATUS.__getitem__, horizon=11)
    assert dict(plan.changes) == {3: b""}


def test_plan_prune_empties_a_dead_chain_and_ignores_unrelated_slot_reuse():
    page = 3
    items = [
        redirect_item(1),
        _tuple(11, 12, HEAP_HOT_UPDATED | HEAP_ONLY_TUPLE, (page, 2)),
        # slot 2 was reused by an unrelated (non heap-only) tuple: xmin 50 != xmax 12
        new_tuple(50, 0, b"\x91\x02"),
    ]
    assert hot_chain(page, items, 0) == [1]
    plan = plan_prune(page, items, STATUS.__getitem__, horizon=60)
    assert dict(plan.changes) == {0: b"", 1: b""} and plan.unused == (1,) and plan.dead_roots == 1


# -- following an update chain after the slot was reused ----------------------------------------------


@pytest.mark.parametrize("operation", ["update", "delete", "lock"])
async def test_chain_is_not_followed_into_a_reused_slot(engine, operation):
    """READ COMMITTED follows ctid from a concurrently updated row to its newer version; if
    pruning emptied that slot and a new unrelated tuple took it in between, the newer version's
    xmin is not the old one's xmax: the row counts as deleted (PostgreSQL's priorXmax check)."""
    heap, index, tids = await _table(engine, 5)
    txns = engine.txns
    first = txns.begin("read committed")
    snapshot = first.snapshot()  # the statement's snapshot sees the first version
    newer = await _update(engine, heap, tids[0], (0, "newer"))
    assert heap.is_heap_only(newer)
    stranger: list[tuple[int, int]] = []
    real_wait = txns.wait_for_xid

    async def wait_then_reuse(txn, xid):
        await real_wait(txn, xid)
        if txn is first and not stranger:
            # between reading the old version's ctid and following it: the newer version is
            # deleted, pruned (a horizon past everything), and its slot taken by another row
            deleter = txns.begin()
            assert await heap.delete(deleter, deleter.snapshot(), newer)
            await deleter.commit()
            page = engine.cache.get(newer[0])
            assert heap._prune(newer[0], page, horizon=txns.cache.control.next_xid + 1)
            inserter = txns.begin()
            stranger.append(await heap.insert(inserter, (99, "stranger")))
            await inserter.commit()

    txns.wait_for_xid = wait_then_reuse
    try:
        if operation == "update":
            result = await heap.update(first, snapshot, tids[0], (0, "lost"))
        elif operation == "delete":
            result = await heap.delete(first, snapshot, tids[0])
        else:
            result = await heap.lock(first, snapshot, tids[0], "update")
    finally:
        del txns.wait_for_xid
    assert stranger == [newer]  # the slot was reused by the unrelated row
    assert not result
    await first.commit()
    reader = txns.begin()
    assert await heap.fetch(reader, reader.snapshot(), newer) == (99, "stranger")


# -- a random workload against a model ------------------------------------------------------------------


async def test_random_updates_match_the_model_and_targeted_pruning_matches_full(engine):
    """HOT and non-HOT updates, deletes, aborts, vacuums and an old snapshot, at random: every index
    lookup finds exactly the model's row, and pruning only the changed slots plans the same
    changes as looking at the whole page."""
    import random

    rng = random.Random(5)
    txns = engine.txns
    heap, index, tids = await _table(engine, 12, pad=30)
    model = {i: (i, "x" * 30) for i in range(12)}
    where = dict(enumerate(tids))
    old_reader = None
    for step in range(400):
        key = rng.randrange(12)
        t = txns.begin()
        snap = t.snapshot()
        action = rng.random()
        inserting = key not in model
        if inserting:  # deleted earlier: insert it again (into a reusable slot, maybe)
            new_row = (key, f"i{step}")
            new = await heap.insert(t, new_row)
            await index.insert((key,), new)
        elif action < 0.1:
            assert await heap.delete(t, snap, where[key])
            new_row = None
        else:
            new_row = (key, f"s{step}".ljust(rng.choice((4, 30, 60))))
            new = await heap.update(t, snap, where[key], new_row, same_keys=same_id if action < 0.8 else None)
            if not heap.is_heap_only(new):
                await index.insert((key,), new)
        if rng.random() < 0.2 and not inserting:  # (an aborted insert waits for vacuum: no candidate)
            await t.abort()
        else:
            await t.commit()
            if new_row is None:
                del model[key]
                del where[key]
            else:
                model[key], where[key] = new_row, new
        if step % 37 == 36:
            await vacuum(heap, [index], txns.oldest_xmin(), all_indexes=step % 2 == 0)
        if step % 50 == 10:
            if old_reader is not None:
                await old_reader.commit()
            old_reader = txns.begin("repeatable read")
            old_reader.snapshot()
        for page_no, slots in list(heap._prune_candidates.items()):
            page = engine.cache.get(page_no)
            roots = heap._hot_roots.get(page_no)
            if page is None or roots is None:
                continue
            horizon = txns.oldest_xmin()
            full = plan_prune(page_no, page.items, txns.status, horizon)
            targeted = plan_prune(page_no, page.items, txns.status, horizon, slots, roots)
            assert targeted is not None
            assert sorted(targeted.changes) == sorted(full.changes), step
        reader = txns.begin()
        for k in range(12):
            assert [row for _, row in await _read(engine, heap, index, k)] == ([model[k]] if k in model else []), step
        await reader.commit()
    if old_reader is not None:
        await old_reader.commit()
    assert heap.tuples_hot_updated > 100 and heap.tuples_deleted > 10
