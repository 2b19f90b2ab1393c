"""Concurrent transfers between accounts: money is neither created nor destroyed.

Several workers run at once on one event loop; their row waits, deadlocks (40P01), and in
REPEATABLE READ serialization failures (40001) are retried, as an application would.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from pgaurora.errors import DeadlockDetected, SerializationFailure

ACCOUNTS = 8
WORKERS = 6
TRANSFERS = 25


async def current(heap, index, txn, snap, account):
    for tid in await index.lookup((account,)):
        row = await heap.fetch(txn, snap, tid)
        if row is not None:
            return tid, row
    raise AssertionError(f"account {account} vanished")


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read", "serializable"])
async def test_transfers_conserve_money(engine, isolation):
    storage, txns = engine.storage, engine.txns
    heap = storage.heap(await storage.create_heap())
    index = storage.btree(await storage.create_btree(1))
    t = txns.begin()
    for account in range(ACCOUNTS):
        tid = await heap.insert(t, (account, 100))
        await index.insert((account,), tid)
    await t.commit()
    retries = {"deadlock": 0, "serialization": 0}

    async def move(src, dst, amount):
        for _ in range(200):
            t = txns.begin(isolation)
            if isolation == "serializable":
                await txns.ssi.settle()  # as a session does before a SERIALIZABLE first snapshot
            try:
                for account, delta in ((src, -amount), (dst, amount)):
                    snap = t.snapshot()
                    tid, row = await current(heap, index, t, snap, account)

                    def recheck(newest, delta=delta):
                        return (newest[0], newest[1] + delta)

                    new = await heap.update(t, snap, tid, (row[0], row[1] + delta), recheck, key_changed=False)
                    assert new is not None
                    await index.insert((account,), new)
                    t.next_command()
                await t.commit()
                return
            except DeadlockDetected:
                retries["deadlock"] += 1
                await t.abort()
            except SerializationFailure:
                retries["serialization"] += 1
                await t.abort()
        raise AssertionError(f"transfer kept failing {retries}")

    async def worker(seed):
        rng = random.Random(seed)
        for _ in range(TRANSFERS):
            src, dst = rng.sample(range(ACCOUNTS), 2)
            await move(src, dst, rng.randint(1, 20))

    await asyncio.gather(*(worker(seed) for seed in range(WORKERS)))
    r = txns.begin()
    snap = r.snapshot()
    balances = [(await current(heap, index, r, snap, a))[1][1] for a in range(ACCOUNTS)]
    assert sum(balances) == 100 * ACCOUNTS
    rows = []
    async for batch in heap.scan(r, snap):
        rows.extend(row for _, row in batch)
    assert sorted(row[0] for row in rows) == list(range(ACCOUNTS))
    if isolation != "read committed":
        assert retries["serialization"] + retries["deadlock"] > 0
