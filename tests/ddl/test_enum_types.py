"""Enum types as PostgreSQL 15 has them: CREATE TYPE ... AS ENUM, values ordered by their labels'
place (ORDER BY, comparisons with literals, B-tree indexes, min / max, enum_first / enum_last /
enum_range), arrays of them, casts to and from text, the input error, ALTER TYPE ... ADD VALUE
[BEFORE | AFTER] [IF NOT EXISTS], OWNER TO, DROP TYPE with its dependency errors, DROP SCHEMA /
DROP OWNED over types, the catalogs (pg_type, pg_enum, format_type, information_schema) and
psql's \\dT / \\d; SQLAlchemy's Enum (create_all, ORM, reflection) through psycopg and asyncpg.
Each scenario is compared with PostgreSQL 15 on the same statements."""

from __future__ import annotations

import asyncio
import enum
import os
import subprocess
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tests.pgoracle import PgOracle, assert_same_transcript, pg_bindir, run_each
from tests.server.harness import InstanceProcess

CLEANUP = ["RESET ROLE", "DROP TABLE IF EXISTS et_person, et_other", "DROP SCHEMA IF EXISTS et_s CASCADE",
           "DROP TYPE IF EXISTS et_mood, et_empty", "DROP OWNED BY et_role", "DROP ROLE IF EXISTS et_role"]
SETUP = [
    "CREATE TYPE et_mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE TABLE et_person (id int PRIMARY KEY, name text, m et_mood, ms et_mood[])",
    "INSERT INTO et_person VALUES (1, 'a', 'happy', '{ok,sad}'), (2, 'b', 'sad', NULL), (3, 'c', 'ok', '{}'), "
    "(4, 'd', NULL, NULL)",
]
VALUES = [
    "SELECT * FROM et_person ORDER BY m, id",
    "SELECT id FROM et_person WHERE m > 'sad' ORDER BY id",
    "SELECT m, count(*) FROM et_person GROUP BY m ORDER BY m DESC",
    "SELECT min(m), max(m), min(m::text) FROM et_person",
    "SELECT 'happy'::et_mood, 'happy'::et_mood > 'ok'",
    "SELECT 'x'::et_mood",
    "INSERT INTO et_person VALUES (5, 'e', 'bogus')",
    "INSERT INTO et_person VALUES (5, 'e', 'ok', '{happy,nope}')",
    "SELECT m::text, m = 'ok', m IN ('ok', 'happy'), m <> 'sad' FROM et_person ORDER BY id",
    "SELECT enum_range(NULL::et_mood), enum_first(NULL::et_mood), enum_last(NULL::et_mood)",
    "SELECT enum_range('ok'::et_mood, NULL), enum_range(NULL, 'ok'::et_mood)",
    "SELECT ms[1], array_length(ms, 1) FROM et_person WHERE ms IS NOT NULL ORDER BY id",
    "CREATE INDEX et_person_m ON et_person (m)",
    "SELECT id FROM et_person WHERE m >= 'ok' ORDER BY m DESC",
    "UPDATE et_person SET m = 'ok' WHERE m = 'happy' RETURNING id, m",
    "SELECT typname, typtype, typcategory, typlen, typarray <> 0, typelem <> 0 FROM pg_type "
    "WHERE typname IN ('et_mood', '_et_mood') ORDER BY 1",
    "SELECT e.enumlabel, e.enumsortorder FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
    "WHERE t.typname = 'et_mood' ORDER BY e.enumsortorder",
    "SELECT format_type(t.oid, NULL), format_type(t.typarray, NULL) FROM pg_type t WHERE t.typname = 'et_mood'",
    "SELECT column_name, data_type, udt_schema, udt_name FROM information_schema.columns "
    "WHERE table_name = 'et_person' ORDER BY ordinal_position",
    "SELECT pg_typeof(m)::text FROM et_person WHERE id = 1",
    # ALTER TYPE ... ADD VALUE
    "ALTER TYPE et_mood ADD VALUE 'meh' BEFORE 'ok'",
    "ALTER TYPE et_mood ADD VALUE 'ecstatic' AFTER 'happy'",
    "ALTER TYPE et_mood ADD VALUE 'awful' BEFORE 'sad'",
    "ALTER TYPE et_mood ADD VALUE 'happy'",
    "ALTER TYPE et_mood ADD VALUE IF NOT EXISTS 'happy'",
    "ALTER TYPE et_mood ADD VALUE 'x' BEFORE 'nope'",
    "ALTER TYPE et_nosuch ADD VALUE 'x'",
    "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'et_mood' "
    "ORDER BY e.enumsortorder",
    "INSERT INTO et_person VALUES (6, 'f', 'meh'), (7, 'g', 'awful')",
    "SELECT id, m FROM et_person ORDER BY m NULLS FIRST, id",
    "SELECT enum_range(NULL::et_mood)",
    # DROP TYPE and the like
    "DROP TYPE et_mood",
    "DROP TYPE et_nosuch",
    "DROP TYPE IF EXISTS et_nosuch",
    "CREATE TYPE et_mood AS ENUM ('x')",
    "CREATE TYPE et_empty AS ENUM ()",
    "SELECT count(*) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'et_empty'",
    "DROP TYPE et_empty",
    "CREATE SCHEMA et_s",
    "CREATE TYPE et_s.color AS ENUM ('red', 'green')",
    "CREATE TABLE et_other (c et_s.color DEFAULT 'green')",
    "INSERT INTO et_other DEFAULT VALUES",
    "SELECT c, format_type(a.atttypid, NULL) FROM et_other, pg_attribute a "
    "WHERE a.attrelid = 'et_other'::regclass AND a.attname = 'c'",
    "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d WHERE d.adrelid = 'et_other'::regclass",
    "DROP SCHEMA et_s",
    "DROP TABLE et_other",
    "DROP SCHEMA et_s CASCADE",
    # a type name found along the search path, whatever other schema has one of that name
    "CREATE SCHEMA et_s", "CREATE TYPE et_s.et_mood AS ENUM ('zz')",
    "SELECT 'ok'::et_mood", "SET search_path = et_s, public", "SELECT 'zz'::et_mood", "SELECT 'ok'::et_mood",
    "RESET search_path", "SELECT 'ok'::et_mood, 'zz'::et_s.et_mood", "DROP SCHEMA et_s CASCADE",
    "CREATE ROLE et_role",
    "ALTER TYPE et_mood OWNER TO et_role",
    "ALTER TYPE et_nosuch OWNER TO et_role",
    "SELECT pg_get_userbyid(typowner) FROM pg_type WHERE typname = 'et_mood'",
    "DROP ROLE et_role",
    "SET ROLE et_role",
    "CREATE TYPE et_denied AS ENUM ('a')",
    "RESET ROLE",
]


def test_enum_types_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, VALUES, setup=SETUP, cleanup=CLEANUP, details=True)


def _psql(port: int, command: str) -> str:
    done = subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-h", "127.0.0.1", "-p", str(port), "-U",
                           "postgres", "-d", "postgres", "-c", command], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def test_psql_describes_enum_types_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    outputs = []
    for server in (pg_oracle, instance):
        run_each(server.dsn, CLEANUP)
        run_each(server.dsn, SETUP)
        try:
            outputs.append([_psql(server.port, command) for command in (r"\dT et_*", r"\dT+ et_mood", r"\d et_person")])
        finally:
            run_each(server.dsn, CLEANUP)
    assert outputs[1] == outputs[0]


class Mood(enum.Enum):
    sad = "sad"
    ok = "ok"
    happy = "happy"


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "et_sa_person"
    id: Mapped[int] = mapped_column(primary_key=True)
    mood: Mapped[Mood] = mapped_column(sa.Enum(Mood, name="et_sa_mood"))
    other: Mapped[str | None] = mapped_column(sa.Enum("x", "y", name="et_sa_xy"), nullable=True)


def _sqlalchemy(url: str) -> list[Any]:
    out: list[Any] = []
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all([Person(id=1, mood=Mood.happy, other="x"), Person(id=2, mood=Mood.ok),
                             Person(id=3, mood=Mood.sad)])
            session.commit()
            rows = session.execute(sa.select(Person).where(Person.mood > Mood.sad).order_by(Person.mood.desc()))
            out.append([(p.id, p.mood, p.other) for p in rows.scalars()])
            person = session.get(Person, 2)
            assert person is not None
            person.mood = Mood.happy
            session.commit()
        inspector = sa.inspect(engine)
        out.append([(c["name"], str(c["type"]), getattr(c["type"], "enums", None))
                    for c in inspector.get_columns("et_sa_person")])
        out.append(inspector.get_enums())
        Base.metadata.drop_all(engine)
    finally:
        engine.dispose()

    async def through_asyncpg() -> None:
        engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
                await conn.execute(sa.insert(Person), [{"id": 1, "mood": Mood.happy, "other": "x"},
                                                       {"id": 2, "mood": Mood.sad, "other": None}])
                rows = await conn.execute(sa.select(Person.id, Person.mood, Person.other).order_by(Person.mood))
                out.append([tuple(r) for r in rows])
                await conn.run_sync(Base.metadata.drop_all)
        finally:
            await engine.dispose()

    asyncio.run(through_asyncpg())
    return out


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sqlalchemy_enum_columns_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    expected = _sqlalchemy(pg_oracle.url)
    assert expected[0] == [(1, Mood.happy, "x"), (2, Mood.ok, None)]
    assert _sqlalchemy(instance.url) == expected
