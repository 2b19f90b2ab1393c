"""A small file system of a test's own, to fill up: a tmpfs mounted for the test (root only;
the test is skipped where mounting is not allowed), and a filler that takes every free byte."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def mounted_tmpfs(mount_point: str, size: int) -> Iterator[str]:
    """Mounts a tmpfs of `size` bytes at the existing directory `mount_point`, unmounts it after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mount_point],
                             capture_output=True, text=True, timeout=30)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", mount_point], capture_output=True, timeout=30)


def fill(directory: str, size: int) -> list[str]:
    """Files that take every free byte of the file system of `size` bytes holding `directory`
    (in 1 MiB, then 4 KiB, then 512-byte writes); bounded in count and size."""
    paths = []
    for chunk in (1 << 20, 4096, 512):
        path = os.path.join(directory, f"filler-{chunk}")
        try:
            with open(path, "wb") as f:
                paths.append(path)
                for _ in range(2 * size // chunk):
                    f.write(b"\0" * chunk)
                    f.flush()
        except OSError:  # full (a new file may not even be created)
            pass
    return paths
