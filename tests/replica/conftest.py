"""Fixtures of the replica tests: a writer with two readers, one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.replica.harness import ReplicaCluster, start_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[ReplicaCluster]:
    c = start_cluster(readers=2)
    try:
        yield c
    finally:
        c.stop()
