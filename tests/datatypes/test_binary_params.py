"""Our binary encodings sent to PostgreSQL as binary parameters: its typreceive must accept them
and read back the same value (compared through PostgreSQL's text output)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest
from psycopg.adapt import Dumper
from psycopg.pq import Format

from pgaurora import datatypes
from tests.datatypes.test_text_io import CASES, _resolve


@dataclass(frozen=True)
class Encoded:
    """Bytes already in PostgreSQL's binary format for type `oid`."""

    oid: int
    data: bytes


class EncodedDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Encoded) -> bytes:
        return obj.data

    def get_key(self, obj: Encoded, format: object) -> object:
        return (type(obj), obj.oid)

    def upgrade(self, obj: Encoded, format: object) -> Dumper:
        dumper = EncodedDumper(Encoded)
        dumper.oid = obj.oid
        return dumper


SKIP = {"json", "oidvector", "int2vector", "name"}


@pytest.mark.parametrize(("type_sql", "text"), [c for c in CASES if c[0] not in SKIP])
def test_postgres_reads_our_binary(oracle_conn: psycopg.Connection, type_sql: str, text: str) -> None:
    info, typmod = _resolve(type_sql)
    value = datatypes.text_decoder(info.oid, typmod)(text)
    payload = Encoded(info.oid, datatypes.binary_encoder(info.oid)(value))
    cur = oracle_conn.cursor(binary=False)
    cur.adapters.register_dumper(Encoded, EncodedDumper)
    cur.execute("SELECT %b", (payload,))
    assert cur.pgresult is not None
    raw = cur.pgresult.get_value(0, 0)
    assert raw is not None
    assert bytes(raw).decode() == datatypes.text_encoder(info.oid)(value)
