"""Fixtures for client tests: one pgaurora instance process for the package (plus the pg_oracle);
modules use distinct table names. test_pgbench_builtin starts its own (pgbench -i drops its tables)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.harness import InstanceProcess, running_instance


@pytest.fixture(scope="package")
def instance() -> Iterator[InstanceProcess]:
    yield from running_instance()
