"""Fixtures for DDL tests: an in-process volume (six in-process storage nodes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.pagecache.harness import Engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    e = await Engine.start(tmp_path)
    yield e
    await e.stop()
