"""`pgaurora serve` on a full disk: it does not start, and says why in one PostgreSQL-style line
(FATAL, the file it could not write, "No space left on device", a HINT) with exit status 1 --
no Python traceback, no process left behind, the cluster.json of an existing cluster whole --
and once there is room the same cluster starts with its committed rows.

The data directory is a small tmpfs of its own (mounted here; skipped where mounting is not
allowed), filled by a file until the file system refuses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import psycopg
import pytest

from tests.cluster.test_serve import start_cluster
from tests.pgoracle import free_port
from tests.server.harness import REPO
from tests.tmpfs import fill, mounted_tmpfs

FS_BYTES = 32 << 20


@pytest.fixture()
def small_disk() -> Iterator[str]:
    """A directory on a 32 MiB tmpfs of its own."""
    with tempfile.TemporaryDirectory(prefix="pgaurora-fullstart-") as mount_point, \
            mounted_tmpfs(mount_point, FS_BYTES):
        yield mount_point


def _fill(directory: str) -> str:
    """Files that take every free byte; returns the directory they are in (removed to make room)."""
    room = os.path.join(directory, "filler")
    os.makedirs(room)
    fill(room, FS_BYTES)
    return room


def _processes_of(directory: str) -> list[int]:
    """The pids of processes whose command line names `directory` (the cluster's data dir)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if directory.encode() in f.read():
                        found.append(int(entry))
            except OSError:  # gone meanwhile
                continue
    return found


def _serve_once(data: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pgaurora", "serve", "--data", data, "--port", str(free_port()),
         "--reader-port", str(free_port())], capture_output=True, text=True, cwd=str(REPO), timeout=120)


def _assert_full_disk_fatal(result: subprocess.CompletedProcess[str], data: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    fatal = [line for line in result.stderr.splitlines() if "FATAL:" in line]
    assert fatal == [f'pgaurora serve: FATAL:  could not write to file "{data}/cluster.json.tmp": '
                     "No space left on device"], result.stderr
    assert f'HINT:  Free disk space on the file system that holds "{data}".' in result.stderr
    assert "pgaurora is running" not in result.stdout


def test_a_new_cluster_on_a_full_disk_says_why_it_does_not_start(small_disk: str) -> None:
    _fill(small_disk)
    data = os.path.join(small_disk, "data")
    _assert_full_disk_fatal(_serve_once(data), data)
    assert _processes_of(small_disk) == []
    assert not os.path.exists(os.path.join(data, "cluster.json.tmp"))  # no partial copy left


def test_an_existing_cluster_on_a_full_disk_starts_once_there_is_room(small_disk: str) -> None:
    data = os.path.join(small_disk, "data")
    os.makedirs(data)
    cluster = start_cluster(data)
    try:
        with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (id int PRIMARY KEY, v text)")
            conn.execute("INSERT INTO kept VALUES (1, 'one'), (2, 'two')")
    finally:
        assert cluster.stop() == 0
    with open(os.path.join(data, "cluster.json")) as f:
        before = f.read()

    filler = _fill(small_disk)
    _assert_full_disk_fatal(_serve_once(data), data)
    assert _processes_of(small_disk) == []
    with open(os.path.join(data, "cluster.json")) as f:
        assert f.read() == before  # untouched: not truncated, not half written

    shutil.rmtree(filler)
    cluster = start_cluster(data)
    try:
        with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            assert conn.execute("SELECT id, v FROM kept ORDER BY id").fetchall() == [(1, "one"), (2, "two")]
    finally:
        assert cluster.stop() == 0


def test_an_instance_on_a_full_disk_says_which_file_it_could_not_write(small_disk: str) -> None:
    _fill(small_disk)
    data = os.path.join(small_disk, "instance")
    result = subprocess.run([sys.executable, "-m", "pgaurora", "instance", "--data", data, "--port", "0"],
                            capture_output=True, text=True, cwd=str(REPO), timeout=120)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert (f'pgaurora instance: FATAL:  could not write to file "{data}/volume.json.tmp": '
            "No space left on device") in result.stderr.splitlines()
    assert "READY" not in result.stdout
    assert _processes_of(small_disk) == []
