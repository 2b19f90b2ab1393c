"""SQLAlchemy 2 ORM CRUD with relationships, unmodified, under the psycopg dialect (sync) and the
asyncpg dialect (async): one-to-many and many-to-many, lazy / selectin / joined loading,
cascading deletes, an association table, server defaults and identity keys; each scenario runs
against pgaurora and against PostgreSQL 15 and must give the same answers."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess


class Base(DeclarativeBase):
    pass


post_tags = sa.Table(
    "sar_post_tags", Base.metadata,
    sa.Column("post_id", sa.ForeignKey("sar_posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("sar_tags.id", ondelete="CASCADE"), primary_key=True),
)


class Author(Base):
    __tablename__ = "sar_authors"
    id: Mapped[int] = mapped_column(sa.Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    joined: Mapped[datetime.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    posts: Mapped[list[Post]] = relationship(back_populates="author", cascade="all, delete-orphan",
                                             order_by="Post.id")


class Post(Base):
    __tablename__ = "sar_posts"
    id: Mapped[int] = mapped_column(primary_key=True)  # serial
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("sar_authors.id"))
    title: Mapped[str] = mapped_column(sa.Text)
    score: Mapped[int] = mapped_column(server_default="0")
    author: Mapped[Author] = relationship(back_populates="posts")
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags, back_populates="posts", order_by="Tag.name")


class Tag(Base):
    __tablename__ = "sar_tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(20), unique=True)
    posts: Mapped[list[Post]] = relationship(secondary=post_tags, back_populates="tags", order_by="Post.id")


def _sync_scenario(url: str) -> list[Any]:
    out: list[Any] = []
    engine = sa.create_engine(url)
    try:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with Session(engine) as session, session.begin():
            python, sql, db = Tag(name="python"), Tag(name="sql"), Tag(name="db")
            ann = Author(name="ann", posts=[Post(title="MVCC", tags=[sql, db]), Post(title="asyncio", tags=[python])])
            bob = Author(name="bob", posts=[Post(title="quorums", tags=[db])])
            session.add_all([ann, bob])
        with Session(engine) as session:
            ann = session.scalars(sa.select(Author).where(Author.name == "ann")).one()
            out.append([p.title for p in ann.posts])  # lazy load
            out.append([[t.name for t in p.tags] for p in ann.posts])
            out.append(isinstance(ann.joined, datetime.datetime))
            authors = session.scalars(sa.select(Author).options(selectinload(Author.posts).selectinload(Post.tags))
                                      .order_by(Author.name)).all()
            out.append([(a.name, [(p.title, p.score, [t.name for t in p.tags]) for p in a.posts]) for a in authors])
            db_tag = session.scalars(sa.select(Tag).options(joinedload(Tag.posts)).where(Tag.name == "db")).unique().one()
            out.append([p.title for p in db_tag.posts])
        with Session(engine) as session, session.begin():
            post = session.scalars(sa.select(Post).where(Post.title == "MVCC")).one()
            post.score += 5
            post.tags.remove(next(t for t in post.tags if t.name == "sql"))
            bob = session.scalars(sa.select(Author).where(Author.name == "bob")).one()
            session.delete(bob)  # cascades to bob's posts and their tag links
        with Session(engine) as session:
            out.append(session.execute(sa.select(Post.title, Post.score).order_by(Post.id)).all())
            out.append(session.execute(sa.select(post_tags.c.post_id, post_tags.c.tag_id)
                                       .order_by(post_tags.c.post_id, post_tags.c.tag_id)).all())
            counts = session.execute(sa.select(Tag.name, sa.func.count(post_tags.c.post_id))
                                     .outerjoin(post_tags).group_by(Tag.name).order_by(Tag.name)).all()
            out.append(counts)
        Base.metadata.drop_all(engine)
    finally:
        engine.dispose()
    return [[tuple(r) if isinstance(r, sa.Row) else r for r in x] if isinstance(x, list) else x for x in out]


def test_orm_relationships_with_psycopg(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    ours = _sync_scenario(f"postgresql+psycopg://postgres@127.0.0.1:{instance.port}/postgres")
    theirs = _sync_scenario(f"postgresql+psycopg://postgres@127.0.0.1:{pg_oracle.port}/postgres")
    assert ours == theirs
    assert ours[0] == ["MVCC", "asyncio"]


async def _async_scenario(url: str) -> list[Any]:
    out: list[Any] = []
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        async with AsyncSession(engine) as session, session.begin():
            t1, t2 = Tag(name="a"), Tag(name="b")
            session.add_all([Author(name=f"author{i}", posts=[Post(title=f"p{i}-{j}", tags=[t1] if j else [t1, t2])
                                                               for j in range(3)]) for i in range(4)])
        async with AsyncSession(engine) as session:
            authors = (await session.scalars(sa.select(Author).options(selectinload(Author.posts)
                                                                       .selectinload(Post.tags))
                                             .order_by(Author.id))).all()
            out.append([(a.name, [(p.title, [t.name for t in p.tags]) for p in a.posts]) for a in authors])
            tag_b = (await session.scalars(sa.select(Tag).options(selectinload(Tag.posts)).where(Tag.name == "b"))).one()
            out.append([p.title for p in tag_b.posts])
        async with AsyncSession(engine) as session, session.begin():
            victim = (await session.scalars(sa.select(Author).where(Author.name == "author2")
                                            .options(selectinload(Author.posts)))).one()
            await session.delete(victim)
            await session.execute(sa.update(Post).where(Post.title.like("p1-%")).values(score=Post.score + 3))
        async with AsyncSession(engine) as session:
            rows = await session.execute(sa.select(Author.name, sa.func.count(Post.id), sa.func.sum(Post.score))
                                         .join(Post).group_by(Author.name).order_by(Author.name))
            out.append([tuple(r) for r in rows.all()])
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
    finally:
        await engine.dispose()
    return out


async def test_orm_relationships_with_asyncpg(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    ours = await _async_scenario(f"postgresql+asyncpg://postgres@127.0.0.1:{instance.port}/postgres")
    theirs = await _async_scenario(f"postgresql+asyncpg://postgres@127.0.0.1:{pg_oracle.port}/postgres")
    assert ours == theirs
    assert len(ours[0]) == 4
