"""Index entries and HOT chains (access.btreechain): the heap versions an entry stands for."""

from __future__ import annotations

from pgaurora.access.btreechain import expand, members_cached


async def test_members_cached_names_each_chain_member_a_page_at_a_time(engine):
    """Plain tuples stay as they are, a HOT chain's root becomes its members (root first), a tid
    on a page that does not exist stays when the page is known absent and makes the answer None
    (read the page first) when it is not; tids come in index order, several per page."""
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    t = txns.begin()
    tids = await heap.insert_many(t, [(i, "x") for i in range(6)])
    await t.commit()
    t = txns.begin()
    new = await heap.update(t, t.snapshot(), tids[2], (2, "y"), same_keys=lambda old, new: True)
    await t.commit()
    assert new is not None and new[0] == tids[2][0] and new != tids[2]  # a heap-only version
    page = tids[0][0]
    missing = (page + 1000, 1)
    cache = storage.cache
    assert members_cached(cache, tids) == [*tids[:3], new, *tids[3:]]
    assert members_cached(cache, [tids[0], missing, tids[1]]) is None
    assert members_cached(cache, [tids[0], missing, tids[1]], absent={missing[0]}) == [tids[0], missing, tids[1]]
    batch = [((i,), tid) for i, tid in enumerate(tids)]
    assert (await expand(cache, batch[:2])) == batch[:2]  # no chain: the batch itself
    assert await expand(cache, batch[1:4]) == [batch[1], batch[2], ((2,), new), batch[3]]
