"""Fixtures for server tests: one pgaurora instance process per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.harness import InstanceProcess, start_instance


@pytest.fixture(scope="module")
def instance() -> Iterator[InstanceProcess]:
    inst = start_instance()
    try:
        yield inst
    finally:
        inst.stop()
