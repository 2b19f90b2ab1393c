"""A follower and a writer instance in one process (in-process storage nodes, the stream over
loopback TCP): after every new stream — one that keeps the cached pages (the writer replays its
recent MTRs from what the reader holds) and one that cannot (the writer no longer has them:
every cached page is read again) — each page the reader caches holds what the writer's does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest

from pgaurora.catalog.catalog import Catalog
from pgaurora.server.instance import Instance, InstanceOptions
from pgaurora.server.replication_follower import ReplicaFollower
from pgaurora.server.replication_source import RecentRedo
from pgaurora.server.replication_storage import ReplicaStorage


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance(InstanceOptions(data_dir=tmp_path, port=0, fsync=False, server_id="writer"))
    await instance.start()
    # On in-process storage nodes a writer keeps no redo for readers (a reader process could not
    # reach those nodes); this one shares its transport with an in-process follower: keep it.
    assert instance.recent is None and instance.source is not None
    instance.recent = instance.source.recent = RecentRedo(instance.volume.appended_lsn)
    try:
        yield instance
    finally:
        await instance.stop()


async def follow(writer: Instance) -> ReplicaFollower:
    """What a reader instance opens (server.instance._start_reader), on the writer's transport."""
    follower = ReplicaFollower(f"127.0.0.1:{writer.replication_port}", server_id="reader", transport=writer.transport)
    await follower.start(timeout=30)
    cache, txns = follower.cache, follower.txns
    assert cache is not None and txns is not None
    await cache.open()
    await txns.open()
    follower.storage = ReplicaStorage(cache, cast(Any, txns))
    follower.catalog = await Catalog.open(follower.storage, txns)
    return follower


async def caught_up(writer: Instance, follower: ReplicaFollower) -> None:
    assert writer.engine is not None and follower.volume is not None
    lsn = await writer.engine.storage.cache.sync()
    await follower.volume.wait_durable(max(lsn, writer.volume.vdl))  # the reader's read point reaches it


def same_pages(writer: Instance, follower: ReplicaFollower) -> int:
    assert writer.engine is not None and follower.cache is not None
    compared = 0
    for page_no, page in follower.cache._pages.items():
        mine = writer.engine.storage.cache.get(page_no)
        if mine is not None:
            # contents, not page.lsn: the writer stamps a page with its MTR's last LSN, the
            # reader (like storage) with the last record applied to it
            assert (page.kind, page.special, page.items) == (mine.kind, mine.special, mine.items), (
                f"page {page_no}: reader at {page.lsn}, writer at {mine.lsn}")
            compared += 1
    return compared


async def test_new_streams_keep_or_reread_the_cached_pages_and_both_match_the_writer(writer: Instance) -> None:
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{writer.port}/postgres")
    follower = await follow(writer)
    try:
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        await conn.execute("INSERT INTO t SELECT g, 'a' FROM generate_series(1, 400) g")
        await caught_up(writer, follower)
        assert follower.storage is not None and follower.cache is not None and follower.applier is not None
        writer_cache = writer.engine.storage.cache  # type: ignore[union-attr]
        for page_no in list(writer_cache._pages):
            await follower.cache.read_optional(page_no)  # the reader caches what the writer does
        cached = same_pages(writer, follower)
        assert cached > 5

        follower.follow(f"127.0.0.1:{writer.replication_port}")  # a new stream from the same writer
        await conn.execute("UPDATE t SET v = 'b' WHERE id <= 200")
        await caught_up(writer, follower)
        assert (follower.streams_kept, follower.streams_resynced) == (1, 0)
        assert same_pages(writer, follower) >= cached

        follower.follow("127.0.0.1:1")  # the writer is out of reach for a while ...
        assert writer.recent is not None
        writer.recent.limit = 1  # ... and keeps too little of its redo for the reader to resume
        await conn.execute("UPDATE t SET v = 'c' WHERE id > 200")
        await conn.execute("INSERT INTO t SELECT g, 'd' FROM generate_series(401, 450) g")
        follower.follow(f"127.0.0.1:{writer.replication_port}")
        await caught_up(writer, follower)
        assert (follower.streams_kept, follower.streams_resynced) == (1, 1)
        for page_no in list(writer_cache._pages):
            await follower.cache.read_optional(page_no)
        assert same_pages(writer, follower) >= cached
    finally:
        await follower.stop()
        await conn.close()
