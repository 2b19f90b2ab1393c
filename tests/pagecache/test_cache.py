"""Page cache and control page over the real in-process volume."""

from __future__ import annotations

from pgaurora.logstore.page import RedoOp, encode_append, encode_init
from pgaurora.pagecache import FIRST_NORMAL_XID, PageCache, PageKind


async def test_mtr_applies_and_storage_rebuilds(engine):
    cache = engine.cache
    page_no = cache.control.allocate_page()
    with cache.mtr() as mtr:
        mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.HEAP))
        mtr.log(page_no, RedoOp.APPEND, encode_append(b"hello"))
        mtr.log(page_no, RedoOp.APPEND, encode_append(b"world"))
    assert cache.get(page_no).items == [b"hello", b"world"]
    # Evicted before its redo is durable: the next read waits for VDL, then storage rebuilds it.
    cache.evict(page_no)
    assert cache.get(page_no) is None
    page = await cache.read(page_no)
    assert page.items == [b"hello", b"world"]
    assert engine.volume.vdl >= mtr.lsn


async def test_abandoned_mtr_restores_pages(engine):
    cache = engine.cache
    page_no = cache.control.allocate_page()
    with cache.mtr() as mtr:
        mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.HEAP))
        mtr.log(page_no, RedoOp.APPEND, encode_append(b"a"))
    try:
        with cache.mtr() as mtr:
            mtr.log(page_no, RedoOp.APPEND, encode_append(b"b"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert cache.get(page_no).items == [b"a"]
    await cache.wait_durable(engine.volume.next_lsn - 1)
    cache.evict(page_no)
    assert (await cache.read(page_no)).items == [b"a"]


async def test_eviction_bound_and_reread(tmp_path):
    from tests.pagecache.harness import Engine

    engine = await Engine.start(tmp_path, capacity=32)
    try:
        cache = engine.cache
        pages = []
        for i in range(100):
            page_no = cache.control.allocate_page()
            with cache.mtr() as mtr:
                mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.HEAP))
                mtr.log(page_no, RedoOp.APPEND, encode_append(str(i).encode()))
            pages.append(page_no)
        assert len(cache) <= 40
        for i, page_no in enumerate(pages):
            assert (await cache.read(page_no)).items == [str(i).encode()]
    finally:
        await engine.stop()


async def test_allocator_never_reuses_after_restart(engine):
    control = engine.cache.control
    pages = [control.allocate_page() for _ in range(100)]
    xids = [control.allocate_xid() for _ in range(2000)]
    assert xids[0] >= FIRST_NORMAL_XID
    await engine.cache.wait_durable(engine.volume.next_lsn - 1)
    await engine.crash_writer()
    await engine.reopen()
    control = engine.cache.control
    assert control.allocate_page() > max(pages)
    assert control.allocate_xid() > max(xids)


async def test_root_slots_persist(engine):
    lsn = engine.cache.control.set_root(3, 12345)
    await engine.cache.wait_durable(lsn)
    await engine.crash_writer()
    await engine.reopen()
    assert engine.cache.control.root(3) == 12345


async def test_concurrent_misses_share_one_read(engine):
    import asyncio

    cache = engine.cache
    page_no = cache.control.allocate_page()
    with cache.mtr() as mtr:
        mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.HEAP))
    await cache.wait_durable(mtr.lsn)
    fresh = PageCache(engine.volume)
    await fresh.open()
    a, b = await asyncio.gather(fresh.read(page_no), fresh.read(page_no))
    assert a is b
    assert fresh.misses >= 1


async def test_cancelled_reader_does_not_fail_joined_reader(engine):
    import asyncio

    cache = engine.cache
    page_no = cache.control.allocate_page()
    with cache.mtr() as mtr:
        mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.HEAP))
    await cache.wait_durable(mtr.lsn)
    fresh = PageCache(engine.volume)
    await fresh.open()
    first = asyncio.ensure_future(fresh.read(page_no))
    await asyncio.sleep(0)  # let it start its read
    second = asyncio.ensure_future(fresh.read(page_no))
    await asyncio.sleep(0)  # let it join the first
    first.cancel()
    page = await second
    assert page.kind == PageKind.HEAP
