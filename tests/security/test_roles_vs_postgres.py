"""Post-authentication role checks compared with PostgreSQL 15's own refusals."""

from __future__ import annotations

import psycopg
import pytest

from pgaurora.errors import PgError
from pgaurora.security import authenticator as a
from pgaurora.security.hba import AuthMethod


def postgres_refusal(pg_oracle, role: str, attributes: str) -> str:
    with psycopg.connect(pg_oracle.dsn, autocommit=True) as admin:
        admin.execute(f"drop role if exists {role}")
        admin.execute(f"create role {role} {attributes}")
        try:
            with pytest.raises(psycopg.OperationalError) as info:
                psycopg.connect(f"host=127.0.0.1 port={pg_oracle.port} user={role} dbname=postgres")
        finally:
            admin.execute(f"drop role {role}")
    return str(info.value)


@pytest.mark.parametrize(
    ("attributes", "kwargs", "sqlstate"),
    [
        ("nologin", {"can_login": False}, "28000"),
        ("login connection limit 0", {"connection_limit": 0, "connections": 0}, "53300"),
    ],
)
def test_role_refusals_match_postgres(pg_oracle, attributes: str, kwargs: dict, sqlstate: str) -> None:  # type: ignore[type-arg]
    theirs = postgres_refusal(pg_oracle, "limited_role", attributes)
    auth = a.Authenticator(AuthMethod.TRUST, "limited_role", None)
    auth.start()
    with pytest.raises(PgError) as info:
        auth.authorize(**kwargs)
    assert info.value.sqlstate == sqlstate
    assert info.value.message in theirs
