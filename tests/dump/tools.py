"""What the dump tests share: PostgreSQL 15's client binaries (psql, pg_dump, pg_restore) and
SQL scripts in temporary files."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator

from tests.pgoracle import pg_bindir


def tool(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([os.path.join(pg_bindir(), name), *args], capture_output=True, text=True, timeout=timeout)


def psql_file(port: int, path: str, database: str = "postgres") -> subprocess.CompletedProcess[str]:
    return tool("psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database,
                "-v", "ON_ERROR_STOP=1", "-f", path)


def dsn(port: int, database: str = "postgres") -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname={database}"


@contextlib.contextmanager
def sql_file(text: str) -> Iterator[str]:
    """`text` in a temporary .sql file (its path), removed afterwards."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(text)
    try:
        yield f.name
    finally:
        os.unlink(f.name)
