"""A full disk under the storage nodes: the write that cannot reach a quorum fails with
PostgreSQL's disk_full (53100) and the nodes' reasons -- FATAL, since its commit record is in the
log and may yet take effect -- reads and other sessions go on, and once there is room again
writes go on with every committed row intact.

The instance's storage lives on a small tmpfs of its own (mounted here; skipped where mounting
is not allowed), filled by a file until the file system refuses."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.server.harness import InstanceProcess, start_instance
from tests.tmpfs import fill, mounted_tmpfs

FS_BYTES = 64 << 20


@pytest.fixture()
def small_disk() -> Iterator[str]:
    """A data directory whose `instance/` (the storage) is a 64 MiB tmpfs."""
    with tempfile.TemporaryDirectory(prefix="pgaurora-diskfull-") as data_dir:
        storage = os.path.join(data_dir, "instance")
        os.makedirs(storage)
        with mounted_tmpfs(storage, FS_BYTES):
            yield data_dir


@pytest.mark.parametrize("protocol", ["extended", "simple"])
def test_a_full_disk_fails_the_write_with_53100_and_loses_nothing(small_disk: str, protocol: str) -> None:
    inst: InstanceProcess = start_instance(data_dir=small_disk)
    try:
        with psycopg.connect(inst.dsn, autocommit=True) as conn, \
                psycopg.connect(inst.dsn, autocommit=True) as other:
            conn.execute("CREATE TABLE full_t (id int PRIMARY KEY, pad text)")
            conn.execute("INSERT INTO full_t SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g")
            fillers = fill(os.path.join(small_disk, "instance"), FS_BYTES)

            started = time.monotonic()
            cursor = conn.cursor() if protocol == "extended" else psycopg.ClientCursor(conn)  # simple Query
            with pytest.raises(psycopg.errors.DiskFull) as raised:
                cursor.execute("INSERT INTO full_t SELECT g, repeat('y', 500) FROM generate_series(1001, 6000) g")
            assert time.monotonic() - started < 60
            assert "No space left on device" in str(raised.value)
            assert raised.value.diag.severity == "FATAL"  # its commit record is in the log: outcome unknown
            assert raised.value.diag.message_detail is not None
            assert "commits if storage makes it durable" in raised.value.diag.message_detail
            assert "refusals: segment" in raised.value.diag.message_detail
            assert raised.value.diag.message_hint == "Check free disk space on the storage nodes."
            assert conn.closed or conn.broken  # the session ended, as PostgreSQL's would

            # the server keeps serving: reads in other sessions, old and new
            assert other.execute("SELECT sum(id) FROM full_t WHERE id <= 1000").fetchone() == (500500,)
            conn.close()
            conn = psycopg.connect(inst.dsn, autocommit=True)
            assert conn.execute("SELECT count(*) FROM full_t WHERE id <= 1000").fetchone() == (1000,)

            for path in fillers:
                os.unlink(path)
            for _ in range(60):  # room again: writes go on (bounded: 60 tries, a second apart)
                try:
                    conn.execute("INSERT INTO full_t VALUES (10001, 'after')")
                    break
                except psycopg.errors.DiskFull:
                    time.sleep(1)
            count, low_sum = conn.execute(
                "SELECT count(*), sum(id) FILTER (WHERE id <= 1000) FROM full_t").fetchone()  # type: ignore[misc]
            assert low_sum == 500500  # every row committed before the disk filled
            # The failed INSERT's commit record was appended before its wait timed out: it is
            # all or nothing (here it commits once storage has room).
            assert count in (1001, 6001), count
            assert other.execute("SELECT pad FROM full_t WHERE id = 10001").fetchone() == ("after",)
            conn.close()
    finally:
        inst.stop()
