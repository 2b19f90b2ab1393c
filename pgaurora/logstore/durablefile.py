"""Small files replaced whole and durably: volume.json, cluster.json, a segment's meta.json.

Owns the sequence -- write a temporary copy, fsync it, rename it over the file, fsync the
directory -- and its failure: a write that fails (a full disk) removes the temporary copy and
raises an OSError naming it (a failed write or fsync names no file of itself), and the file
stays as it was. Not what the files hold (logstore.metadata, logstore.segment, cluster.metadata).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pgaurora.logstore.hotlog import fsync_directory


def replace_file(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Replaces `path` by `data`: afterwards it holds either its old bytes or these, whole."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(temporary)) from exc
        raise
    if fsync:
        fsync_directory(path.parent)
