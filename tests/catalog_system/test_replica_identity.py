"""REPLICA IDENTITY and TABLESPACE clauses as PostgreSQL 15 answers them: REPLICA IDENTITY
{DEFAULT | FULL | NOTHING | USING INDEX} kept in pg_class.relreplident / pg_index.indisreplident
(catalog only: pgaurora has no logical decoding to read it) with PostgreSQL's checks of the index,
psql's and pg_dump's output of it; pg_default accepted and any other tablespace refused (42704,
22023 for pg_global) where they were ignored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.catalog_system.conftest import Pair
from tests.pgoracle import assert_same_transcript

STEPS = [
    'CREATE TABLE ri (a int PRIMARY KEY, b int NOT NULL, c int, d int UNIQUE DEFERRABLE) TABLESPACE pg_default',
    'CREATE TABLE ri2 (a int) TABLESPACE pg_global',
    'CREATE TABLE ri2 (a int) TABLESPACE nosuch',
    'CREATE TABLE ri2 (a int UNIQUE USING INDEX TABLESPACE nosuch)',
    'CREATE INDEX ON ri (c) TABLESPACE nosuch',
    'CREATE INDEX ON ri (c) TABLESPACE pg_default',
    'CREATE UNIQUE INDEX ri_b ON ri (b)',
    'CREATE UNIQUE INDEX ri_cu ON ri (c)',
    'CREATE INDEX ri_c ON ri (c)',
    'ALTER TABLE ri REPLICA IDENTITY FULL',
    'ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_b',
    'ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_c',
    'ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_cu',
    'ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_d_key',
    'ALTER TABLE ri REPLICA IDENTITY USING INDEX nosuch',
    'ALTER TABLE ri REPLICA IDENTITY NOTHING',
    "SELECT relreplident FROM pg_class WHERE relname = 'ri'",
    "SELECT indexrelid::regclass, indisreplident FROM pg_index WHERE indrelid = 'ri'::regclass ORDER BY 1",
    'ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_b',
    "SELECT indexrelid::regclass, indisreplident FROM pg_index WHERE indrelid = 'ri'::regclass ORDER BY 1",
    'DROP INDEX ri_b',
    "SELECT relreplident FROM pg_class WHERE relname = 'ri'",
    'ALTER TABLE ri REPLICA IDENTITY DEFAULT',
    'ALTER TABLE ri SET TABLESPACE pg_default',
    'ALTER TABLE ri SET TABLESPACE nosuch',
]


def test_replica_identity_and_tablespaces_as_postgres(pair: Pair) -> None:
    assert_same_transcript(pair.aurora.dsn, pair.oracle.dsn, STEPS, details=True,
                           cleanup=["DROP TABLE IF EXISTS ri, ri2"])


DDL = """
CREATE TABLE rid_full (a int PRIMARY KEY, b int);
ALTER TABLE rid_full REPLICA IDENTITY FULL;
CREATE TABLE rid_ix (a int PRIMARY KEY, b int NOT NULL);
CREATE UNIQUE INDEX rid_ix_b ON rid_ix (b);
ALTER TABLE rid_ix REPLICA IDENTITY USING INDEX rid_ix_b;
CREATE TABLE rid_none (a int);
ALTER TABLE rid_none REPLICA IDENTITY NOTHING;
"""


@pytest.fixture(scope="module")
def identities(pair: Pair) -> Iterator[Pair]:
    with pair.with_schema(DDL, "DROP TABLE IF EXISTS rid_full, rid_ix, rid_none"):
        yield pair


@pytest.mark.parametrize("command", [r"\d+ rid_full", r"\d rid_ix", r"\d+ rid_none"])
def test_psql_shows_them_as_postgres(identities: Pair, command: str) -> None:
    aurora, oracle = identities.both_psql(command)
    assert aurora == oracle




def test_pg_dump_writes_them_as_postgres(identities: Pair) -> None:
    aurora = identities.schema_dump(identities.aurora.port, "public.rid_*")
    assert "ALTER TABLE ONLY public.rid_full REPLICA IDENTITY FULL;" in aurora
    assert aurora == identities.schema_dump(identities.oracle.port, "public.rid_*")
