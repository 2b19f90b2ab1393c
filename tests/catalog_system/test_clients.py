"""SQLAlchemy reflection / create_all and asyncpg type introspection work unmodified and see the
same catalog facts as on PostgreSQL 15."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    inspect,
    text,
)

from tests.catalog_system.conftest import Pair


def _metadata() -> MetaData:
    md = MetaData()
    Table("cs_sa_users", md, Column("id", Integer, primary_key=True), Column("name", String(50), nullable=False, unique=True),
          Column("score", Numeric(10, 2), server_default=text("0")), Column("active", Boolean, server_default=text("true")))
    Table("cs_sa_posts", md, Column("id", Integer, primary_key=True),
          Column("user_id", Integer, ForeignKey("cs_sa_users.id", ondelete="CASCADE")),
          Column("title", String(200)), Column("created", DateTime(timezone=True)), Index("cs_ix_posts_title", "title"),
          UniqueConstraint("user_id", "title", name="cs_uq_user_title"))
    return md


def _reflect(port: int) -> dict[str, Any]:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
    try:
        md = _metadata()
        md.drop_all(engine)
        md.create_all(engine)
        md.create_all(engine)  # checks existence through pg_catalog: a no-op the second time
        insp = inspect(engine)
        out: dict[str, Any] = {"tables": sorted(t for t in insp.get_table_names() if t.startswith("cs_sa_"))}
        for name in ("cs_sa_users", "cs_sa_posts"):
            out[name] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], c["default"]) for c in insp.get_columns(name)],
                "pk": insp.get_pk_constraint(name), "fks": insp.get_foreign_keys(name),
                "indexes": insp.get_indexes(name), "uniques": insp.get_unique_constraints(name),
                "has": insp.has_table(name),
            }
        reflected = MetaData()
        reflected.reflect(engine, only=["cs_sa_users", "cs_sa_posts"])
        out["reflected"] = sorted(reflected.tables)
        md.drop_all(engine)
        out["after_drop"] = inspect(engine).has_table("cs_sa_users")
        return out
    finally:
        engine.dispose()


def test_sqlalchemy_create_all_and_reflection_match_postgres(pair: Pair) -> None:
    aurora = _reflect(pair.aurora.port)
    oracle = _reflect(pair.oracle.port)
    assert aurora == oracle
    assert aurora["cs_sa_posts"]["fks"][0]["referred_table"] == "cs_sa_users"
    assert aurora["after_drop"] is False


async def _introspect(url: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return [
            await conn.fetchval("SELECT $1::int[]", [1, 2, 3]),
            await conn.fetchval("SELECT $1::text[]", ["a", None]),
            await conn.fetchval("SELECT $1::numeric[]", [decimal.Decimal("1.5")]),
            await conn.fetchval("SELECT $1::timestamptz[]", [datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)]),
            await conn.fetchval("SELECT $1::uuid[]", [uuid.UUID(int=1)]),
            await conn.fetchval("SELECT '{1,2}'::int8[]"),
            await conn.fetchval("SELECT 'pg_class'::regclass::text"),
            await conn.fetchval("SELECT current_schemas(true)"),
        ]
    finally:
        await conn.close()


@pytest.mark.timeout(120)
def test_asyncpg_type_introspection_matches_postgres(pair: Pair) -> None:
    aurora = asyncio.run(_introspect(pair.aurora.url))
    oracle = asyncio.run(_introspect(pair.oracle.url))
    assert aurora == oracle
