"""SQLAlchemy 2 (psycopg dialect) unmodified: dialect initialize on connect, create_all, ORM
insert and select in a transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tests.server.harness import InstanceProcess


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sa_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    price: Mapped[float] = mapped_column(sa.Numeric(10, 2))


def test_sqlalchemy_orm_round_trip(instance: InstanceProcess) -> None:
    engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{instance.port}/postgres")
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
            assert engine.dialect.server_version_info[0] == 15
        Base.metadata.create_all(engine)
        with Session(engine) as session, session.begin():
            session.add_all([Item(id=1, name="apple", price=1.5), Item(id=2, name="pear", price=2.25)])
        with Session(engine) as session:
            names = session.scalars(sa.select(Item.name).where(Item.price > 1).order_by(Item.id)).all()
            assert names == ["apple", "pear"]
    finally:
        engine.dispose()
