"""Heap operations in random transactions against a dict model (hypothesis)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pagecache.harness import Engine

op = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.text(max_size=30)),
    st.tuples(st.just("update"), st.integers(0, 1000), st.text(max_size=3000)),
    st.tuples(st.just("delete"), st.integers(0, 1000), st.none()),
)
txn_ops = st.tuples(st.lists(op, max_size=25), st.sampled_from(["commit", "abort", "savepoint"]))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(txns=st.lists(txn_ops, min_size=1, max_size=12), restart=st.booleans())
def test_heap_matches_dict_model(tmp_path_factory, txns, restart):
    async def run():
        engine = await Engine.start(tmp_path_factory.mktemp("heap"), capacity=64)
        try:
            rel = await engine.storage.create_heap()
            heap = engine.storage.heap(rel)
            committed: dict[tuple, tuple] = {}  # tid -> row
            for ops, ending in txns:
                t = engine.txns.begin()
                if ending == "savepoint":
                    t.savepoint("s")
                work = dict(committed)
                for kind, a, b in ops:
                    t.next_command()
                    snap = t.snapshot()
                    if kind == "insert":
                        tid = await heap.insert(t, (a, b))
                        work[tid] = (a, b)
                    elif work:
                        tid = sorted(work)[a % len(work)]
                        if kind == "update":
                            new = await heap.update(t, snap, tid, (work[tid][0], b))
                            work[new] = (work.pop(tid)[0], b)
                        else:
                            assert await heap.delete(t, snap, tid)
                            del work[tid]
                t.next_command()
                seen = {}
                async for batch in heap.scan(t, t.snapshot()):
                    seen.update(batch)
                assert seen == work
                if ending == "commit":
                    await t.commit()
                    committed = work
                elif ending == "savepoint":
                    t.rollback_to("s")
                    await t.commit()
                else:
                    await t.abort()
            if restart:
                await engine.cache.sync()
                await engine.crash_writer()
                await engine.reopen()
                heap = engine.storage.heap(rel)
            r = engine.txns.begin()
            seen = {}
            async for batch in heap.scan(r, r.snapshot()):
                seen.update(batch)
            assert seen == committed
            await engine.storage.vacuum(rel)
            seen = {}
            async for batch in heap.scan(r, r.snapshot()):
                seen.update(batch)
            assert seen == committed
        finally:
            await engine.stop()

    asyncio.run(run())
