"""logstore.durablefile: a replaced file holds its old bytes or the new ones, whole; a write
that fails names the file it could not write and leaves no temporary copy behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from pgaurora.logstore import durablefile
from pgaurora.logstore.durablefile import replace_file


def test_replace_writes_the_new_bytes(tmp_path: Path) -> None:
    target = tmp_path / "meta.json"
    replace_file(target, b'{"a": 1}')
    replace_file(target, b'{"a": 2}')
    assert target.read_bytes() == b'{"a": 2}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json"]


@pytest.mark.parametrize("fails", ["fsync", "replace"])
def test_a_failed_replace_keeps_the_old_file_and_names_the_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: str) -> None:
    target = tmp_path / "meta.json"
    replace_file(target, b"old")

    def refuse(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a full disk's write: no file name

    monkeypatch.setattr(durablefile.os, fails, refuse)
    with pytest.raises(OSError) as raised:
        replace_file(target, b"new")
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename == str(tmp_path / "meta.json.tmp")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json"]
