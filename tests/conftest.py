"""Fixtures shared by every test directory.

`pg_oracle`: a real PostgreSQL 15 (tests/pgoracle.py), one per test session, for comparing
pgaurora's answers with PostgreSQL's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgoracle import PgOracle, start_postgres


@pytest.fixture(scope="session")
def pg_oracle() -> Iterator[PgOracle]:
    oracle = start_postgres()
    try:
        yield oracle
    finally:
        oracle.stop()
