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
    await cache.sync()
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
    await engine.cache.sync()
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


async def test_deferred_mtrs_combine_into_images_and_survive_restart(engine):
    cache = engine.cache
    page_no = cache.control.allocate_page()
    with cache.mtr() as mtr:
        mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.HEAP))
    appended = engine.volume.records_appended
    for i in range(300):
        with cache.mtr(deferred=True) as mtr:
            mtr.log(page_no, RedoOp.APPEND, encode_append(b"%d" % i))
        assert mtr.lsn == 0
    assert engine.volume.records_appended == appended  # still queued
    assert cache.get(page_no).items[-1] == b"299"
    await cache.sync()
    assert cache.records_combined >= 299
    assert engine.volume.records_appended - appended < 5
    await engine.crash_writer()
    await engine.reopen()
    page = await engine.cache.read(page_no)
    assert page.items == [b"%d" % i for i in range(300)]


def _two_heap_pages(cache):
    """Two new pages, initialized as heap pages in one MTR."""
    a, b = cache.control.allocate_page(), cache.control.allocate_page()
    with cache.mtr() as mtr:
        mtr.log(a, RedoOp.INIT, encode_init(PageKind.HEAP))
        mtr.log(b, RedoOp.INIT, encode_init(PageKind.HEAP))
    return a, b


async def test_a_run_of_records_on_one_page_reaches_the_volume_as_one_multi_record(engine):
    from pgaurora.logstore.page import encode_patch, encode_set

    cache = engine.cache
    a, b = _two_heap_pages(cache)
    appended, merged = engine.volume.records_appended, cache.records_merged
    with cache.mtr(deferred=True) as mtr:  # a HOT update's shape: new version, old version's xmax
        mtr.log(a, RedoOp.APPEND, encode_append(b"old"))
        mtr.log(a, RedoOp.APPEND, encode_append(b"new"))
        mtr.log(a, RedoOp.PATCH, encode_patch(0, 0, b"O"))
    with cache.mtr() as commit:  # another page, then the first again: three records in all
        commit.log(b, RedoOp.APPEND, encode_append(b"commit"))
        commit.log(a, RedoOp.SET, encode_set(1, b"NEW"))
    assert engine.volume.records_appended - appended == 3
    assert cache.records_merged - merged == 2
    await cache.wait_durable(commit.lsn)
    cache.evict(a)  # rebuilt by storage, through the MULTI record
    assert (await cache.read(a)).items == [b"Old", b"NEW"]
    await engine.crash_writer()
    await engine.reopen()
    assert (await engine.cache.read(a)).items == [b"Old", b"NEW"]
    assert (await engine.cache.read(b)).items == [b"commit"]


async def test_immediate_mtr_flushes_queued_records_first(engine):
    cache = engine.cache
    a, b = _two_heap_pages(cache)
    with cache.mtr(deferred=True) as mtr:
        mtr.log(a, RedoOp.APPEND, encode_append(b"data"))
    with cache.mtr() as commit:  # like a commit record: must not overtake the data
        commit.log(b, RedoOp.APPEND, encode_append(b"commit"))
    await cache.wait_durable(commit.lsn)
    await engine.crash_writer()
    await engine.reopen()
    assert (await engine.cache.read(a)).items == [b"data"]
    assert (await engine.cache.read(b)).items == [b"commit"]


async def test_abandon_reverts_every_kind_of_op(engine):
    from pgaurora.logstore.page import (
        Page,
        encode_delete,
        encode_image,
        encode_insert,
        encode_patch,
        encode_set,
        encode_special,
        encode_truncate,
    )

    cache = engine.cache
    page_no = cache.control.allocate_page()
    with cache.mtr() as mtr:
        mtr.log(page_no, RedoOp.INIT, encode_init(PageKind.HEAP, b"sp"))
        for item in (b"aaaa", b"bbbb", b"cccc"):
            mtr.log(page_no, RedoOp.APPEND, encode_append(item))
    before = cache.get(page_no).copy()
    fresh = cache.control.allocate_page()
    try:
        with cache.mtr() as mtr:
            mtr.log(page_no, RedoOp.SET, encode_set(0, b"x"))
            mtr.log(page_no, RedoOp.PATCH, encode_patch(1, 1, b"ZZ"))
            mtr.log(page_no, RedoOp.DELETE, encode_delete(2))
            mtr.log(page_no, RedoOp.INSERT, encode_insert(0, b"new"))
            mtr.log(page_no, RedoOp.APPEND, encode_append(b"tail"))
            mtr.log(page_no, RedoOp.SPECIAL, encode_special(b"other"))
            mtr.log(page_no, RedoOp.TRUNCATE, encode_truncate(1))
            mtr.log(page_no, RedoOp.IMAGE, encode_image(Page(PageKind.HEAP, b"", [b"img"])))
            assert cache.get(page_no).free_space() == Page(PageKind.HEAP, b"", [b"img"]).free_space()
            mtr.log(fresh, RedoOp.INIT, encode_init(PageKind.HEAP))
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    assert cache.get(page_no) == before
    assert cache.get(page_no).free_space() == before.free_space()  # the running size came back too
    assert cache.get(fresh) is None
