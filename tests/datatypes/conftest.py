"""A psycopg connection to the PostgreSQL oracle, shared by the datatypes tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest


@pytest.fixture(scope="module")
def oracle_conn(pg_oracle) -> Iterator[psycopg.Connection]:  # type: ignore[no-untyped-def]
    with psycopg.connect(pg_oracle.dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn


def pg_text(conn: psycopg.Connection, sql: str, *params: object) -> str | None:
    """Run `sql` and return the first column as PostgreSQL's text output."""
    cur = conn.cursor(binary=False)
    cur.execute(sql, params or None)
    result = cur.pgresult
    assert result is not None and result.ntuples == 1
    raw = result.get_value(0, 0)
    return None if raw is None else bytes(raw).decode("utf-8")


def pg_error(conn: psycopg.Connection, sql: str, *params: object) -> tuple[str, str]:
    """Run `sql`, which must fail; return (sqlstate, message)."""
    try:
        conn.execute(sql, params or None)
    except psycopg.Error as exc:
        assert exc.diag.sqlstate is not None and exc.diag.message_primary is not None
        return exc.diag.sqlstate, exc.diag.message_primary
    raise AssertionError(f"expected an error from {sql!r}")
