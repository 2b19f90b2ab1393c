"""Fixtures shared by every test directory.

`pg_oracle`: a real PostgreSQL 15 (tests/pgoracle.py), one per test session, for comparing
pgaurora's answers with PostgreSQL's; `oracle_conn`: a connection to it (pg_text and pg_error
in tests/pgoracle.py read its answers); `instance`: a pgaurora instance process per module.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.pgoracle import PgOracle, start_postgres
from tests.server.harness import InstanceProcess, running_instance


@pytest.fixture(scope="session")
def pg_oracle() -> Iterator[PgOracle]:
    oracle = start_postgres()
    try:
        yield oracle
    finally:
        oracle.stop()


@pytest.fixture(scope="module")
def oracle_conn(pg_oracle: PgOracle) -> Iterator[psycopg.Connection]:
    """An autocommit psycopg connection to the oracle, TimeZone UTC."""
    with psycopg.connect(pg_oracle.dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn


@pytest.fixture(scope="module")
def instance() -> Iterator[InstanceProcess]:
    """One pgaurora instance process per test module (tests/clients and tests/isolation share
    one per package)."""
    yield from running_instance()
