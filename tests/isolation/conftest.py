"""Fixtures for the isolation tests: one pgaurora instance process for the whole directory (plus pg_oracle)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.harness import InstanceProcess, running_instance


@pytest.fixture(scope="package")
def instance() -> Iterator[InstanceProcess]:
    yield from running_instance()
