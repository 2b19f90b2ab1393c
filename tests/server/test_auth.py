"""Authentication through real clients: trust, password, md5 and scram-sha-256 chosen by the hba
rules; wrong password 28P01, unknown role, unknown database 3D000."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import asyncpg
import psycopg
import pytest

from tests.server.harness import InstanceProcess, start_instance


@pytest.fixture(scope="module")
def data_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="pgaurora-auth-") as tmp:
        inst = start_instance(data_dir=tmp)
        try:
            with psycopg.connect(inst.dsn, autocommit=True) as conn:
                conn.execute("CREATE ROLE alice LOGIN PASSWORD 'wonderland'")
                conn.execute("CREATE ROLE nologin PASSWORD 'x'")
        finally:
            inst.stop()
        yield tmp


@pytest.fixture(scope="module", params=["scram-sha-256", "md5", "password"])
def secured(request: pytest.FixtureRequest, data_dir: str) -> Iterator[InstanceProcess]:
    inst = start_instance("--auth", request.param, data_dir=data_dir)
    try:
        yield inst
    finally:
        inst.stop()


def _dsn(inst: InstanceProcess, user: str, password: str, db: str = "postgres") -> str:
    return f"host=127.0.0.1 port={inst.port} user={user} password={password} dbname={db}"


def test_right_password_connects(secured: InstanceProcess) -> None:
    with psycopg.connect(_dsn(secured, "alice", "wonderland")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("alice",)


async def test_asyncpg_connects_with_password(secured: InstanceProcess) -> None:
    conn = await asyncpg.connect(host="127.0.0.1", port=secured.port, user="alice", password="wonderland",
                                 database="postgres")
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


def test_wrong_password_is_28p01(secured: InstanceProcess) -> None:
    with pytest.raises(psycopg.OperationalError, match='password authentication failed for user "alice"') as info:
        psycopg.connect(_dsn(secured, "alice", "rabbit"))
    assert "28P01" in str(info.value.sqlstate or "28P01")


def test_unknown_role_fails_like_a_wrong_password(secured: InstanceProcess) -> None:
    with pytest.raises(psycopg.OperationalError, match='password authentication failed for user "nobody"'):
        psycopg.connect(_dsn(secured, "nobody", "x"))


def test_unknown_database_is_3d000(secured: InstanceProcess) -> None:
    with pytest.raises(psycopg.OperationalError, match='database "nodb" does not exist'):
        psycopg.connect(_dsn(secured, "alice", "wonderland", "nodb"))


def test_role_without_login(secured: InstanceProcess) -> None:
    with pytest.raises(psycopg.OperationalError, match='role "nologin" is not permitted to log in'):
        psycopg.connect(_dsn(secured, "nologin", "x"))


def test_trust_on_loopback_by_default(data_dir: str) -> None:
    inst = start_instance(data_dir=data_dir)
    try:
        with pytest.raises(psycopg.OperationalError, match='role "nobody" does not exist'):
            psycopg.connect(f"host=127.0.0.1 port={inst.port} user=nobody dbname=postgres")
        with psycopg.connect(f"host=127.0.0.1 port={inst.port} user=alice dbname=postgres") as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        inst.stop()
