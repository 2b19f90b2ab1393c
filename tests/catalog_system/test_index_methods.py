"""Index access methods and key options as PostgreSQL 15 has them: hash indexes (equality
lookups, never order or ranges; their 0A000 restrictions), the methods pgaurora does not build
(refused, never built as a B-tree instead), DESC / NULLS FIRST keys (pg_index.indoption, psql,
pg_get_indexdef), operator classes, ADD CONSTRAINT ... USING INDEX (the index adopted and renamed, PostgreSQL's
42704 / 55000 / 42809 errors), and pg_dump of all of it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.catalog_system.conftest import Pair
from tests.pgoracle import assert_same_transcript

DDL = """
CREATE TABLE ix_h (a int, b text);
INSERT INTO ix_h SELECT g, 'v' || (g % 50) FROM generate_series(1, 2000) g;
CREATE INDEX ix_h_b ON ix_h USING hash (b);
CREATE INDEX ix_h_lower ON ix_h USING HASH (lower(b)) WHERE a > 0;
CREATE TABLE ix_d (a int, b int, c text);
CREATE INDEX ix_d_b ON ix_d (b DESC);
CREATE INDEX ix_d_ab ON ix_d (a, b DESC NULLS LAST);
CREATE INDEX ix_d_c ON ix_d (c NULLS FIRST);
CREATE INDEX ix_d_e ON ix_d ((a + b) DESC, lower(c));
CREATE TABLE ix_u (a int, b int);
CREATE UNIQUE INDEX ix_u_a ON ix_u (a);
CREATE UNIQUE INDEX ix_u_b ON ix_u (b);
ALTER TABLE ix_u ADD CONSTRAINT ix_u_named UNIQUE USING INDEX ix_u_a;
ALTER TABLE ix_u ADD PRIMARY KEY USING INDEX ix_u_b;
CREATE TABLE ix_i (a int, b int, c text, UNIQUE (a) INCLUDE (b, c));
CREATE TABLE ix_p (a int, b int, PRIMARY KEY (a) INCLUDE (b));
CREATE INDEX ON ix_i (b) INCLUDE (c);
CREATE UNIQUE INDEX ix_i_y ON ix_i (c) INCLUDE (a) NULLS NOT DISTINCT;
CREATE INDEX ix_i_v ON ix_i (lower(c)) INCLUDE (a) WHERE b > 0;
"""
CLEANUP = "DROP TABLE IF EXISTS ix_h, ix_d, ix_u, ix_i, ix_p"


@pytest.fixture(scope="module")
def indexes(pair: Pair) -> Iterator[Pair]:
    with pair.with_schema(DDL, CLEANUP):
        yield pair


@pytest.mark.parametrize("command", [r"\d ix_h", r"\d ix_d", r"\d+ ix_u", r"\di ix_*", r"\d ix_h_b", r"\d ix_d_e",
                                     r"\d ix_i", r"\d ix_p", r"\d ix_i_a_b_c_key", r"\d ix_i_v"])
def test_meta_command_matches_postgres(indexes: Pair, command: str) -> None:
    aurora, oracle = indexes.both_psql(command)
    assert aurora == oracle


QUERIES = [
    "SELECT c.relname, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname LIKE 'ix\\_%' "
    "ORDER BY 1",
    "SELECT indexrelid::regclass::text, indisunique, indisprimary, indoption::text, pg_get_indexdef(indexrelid), "
    "pg_get_indexdef(indexrelid, 0, true), pg_get_indexdef(indexrelid, 1, true) FROM pg_index "
    "WHERE indrelid IN ('ix_h'::regclass, 'ix_d'::regclass, 'ix_u'::regclass) ORDER BY 1",
    "SELECT conname, contype, conindid::regclass::text FROM pg_constraint WHERE conrelid = 'ix_u'::regclass ORDER BY 1",
    "SELECT count(*) FROM ix_h WHERE b = 'v7'",
    "SELECT count(*) FROM ix_h WHERE b IN ('v7', 'v8')",
    "SELECT count(*) FROM ix_h WHERE b > 'v7'",
    "SELECT b FROM ix_h WHERE a < 5 ORDER BY b",
    "SELECT count(*) FROM ix_h WHERE lower(b) = 'v9' AND a > 0",
    "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'ix_u'::regclass AND attnum > 0 ORDER BY 1",
    "SELECT indexrelid::regclass::text, indnatts, indnkeyatts, indkey::text, pg_get_indexdef(indexrelid, 2, true), "
    "pg_get_indexdef(indexrelid, 3, true) FROM pg_index WHERE indrelid IN ('ix_i'::regclass, 'ix_p'::regclass) "
    "ORDER BY 1",
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid IN ('ix_i'::regclass, "
    "'ix_p'::regclass) ORDER BY 1",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_catalog_and_queries_match_postgres(indexes: Pair, sql: str) -> None:
    aurora, oracle = indexes.both(sql)
    assert aurora == oracle


def test_hash_index_is_used_for_equality_only(indexes: Pair) -> None:
    def plan(sql: str) -> str:
        return "\n".join(r[0] for r in indexes.query(indexes.aurora.dsn, "EXPLAIN (COSTS OFF) " + sql))

    assert "Index Scan using ix_h_b" in plan("SELECT * FROM ix_h WHERE b = 'v7'")
    assert "ix_h_b" not in plan("SELECT * FROM ix_h WHERE b > 'v7'")
    assert "ix_h_b" not in plan("SELECT b FROM ix_h ORDER BY b LIMIT 3")
    assert "ix_h_b" not in plan("SELECT max(b) FROM ix_h")


ERRORS = [
    "CREATE TABLE ix_e (a int, b text)",
    "CREATE UNIQUE INDEX ON ix_e USING hash (a)",
    "CREATE INDEX ON ix_e USING hash (a, b)",
    "CREATE INDEX ON ix_e USING hash (a DESC)",
    "CREATE INDEX ON ix_e USING hash (a NULLS FIRST)",
    "CREATE INDEX ON ix_e USING hash (a) INCLUDE (b)",
    "CREATE INDEX ON ix_e USING foo (a)",
    "CREATE TABLE ix_o (a int)",
    "CREATE UNIQUE INDEX ix_o_a ON ix_o (a)",
    "CREATE UNIQUE INDEX ix_e_a ON ix_e (a)",
    "CREATE UNIQUE INDEX ix_e_x ON ix_e ((a + 1))",
    "CREATE UNIQUE INDEX ix_e_p ON ix_e (b) WHERE a > 0",
    "CREATE UNIQUE INDEX ix_e_d ON ix_e (b DESC)",
    "CREATE INDEX ix_e_n ON ix_e (b)",
    "ALTER TABLE ix_e ADD CONSTRAINT c1 UNIQUE USING INDEX nosuch",
    "ALTER TABLE ix_e ADD CONSTRAINT c1 UNIQUE USING INDEX ix_o_a",
    "ALTER TABLE ix_e ADD CONSTRAINT c1 UNIQUE USING INDEX ix_e_x",
    "ALTER TABLE ix_e ADD CONSTRAINT c1 UNIQUE USING INDEX ix_e_p",
    "ALTER TABLE ix_e ADD CONSTRAINT c1 UNIQUE USING INDEX ix_e_d",
    "ALTER TABLE ix_e ADD CONSTRAINT c1 UNIQUE USING INDEX ix_e_n",
    "INSERT INTO ix_e VALUES (NULL, 'x')",
    "ALTER TABLE ix_e ADD PRIMARY KEY USING INDEX ix_e_a",
    "DELETE FROM ix_e",
    "ALTER TABLE ix_e ADD CONSTRAINT c1 UNIQUE USING INDEX ix_e_a",
    "ALTER TABLE ix_e ADD CONSTRAINT c2 UNIQUE USING INDEX ix_e_a",
    "ALTER TABLE ix_e ADD CONSTRAINT c2 UNIQUE USING INDEX c1",
    "INSERT INTO ix_e VALUES (1, 'a')",
    "INSERT INTO ix_e VALUES (1, 'b')",
    "ALTER TABLE ix_e DROP CONSTRAINT c1",
    "SELECT relname FROM pg_class WHERE relname IN ('c1', 'ix_e_a')",
    "CREATE INDEX ON ix_e (b) INCLUDE (nosuch)",
    "CREATE INDEX ON ix_e (b) INCLUDE ((a + 1))",
    "CREATE TABLE ix_o2 (a int, UNIQUE (a) INCLUDE (nosuch))",
    "CREATE INDEX ON ix_e (lower(b)) INCLUDE (a)",
    "CREATE INDEX ON ix_e (a) WHERE b > 'x'",
    "ALTER TABLE ix_e DROP COLUMN b",
    "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'ix_e'::regclass ORDER BY 1",
]


def test_errors_match_postgres(indexes: Pair) -> None:
    assert_same_transcript(indexes.aurora.dsn, indexes.oracle.dsn, ERRORS, details=True,
                           cleanup=["DROP TABLE IF EXISTS ix_e", "DROP TABLE IF EXISTS ix_o"])


def test_unbuilt_access_methods_are_refused(indexes: Pair) -> None:
    with psycopg.connect(indexes.aurora.dsn, autocommit=True) as conn:
        for method in ("gin", "gist", "brin", "spgist"):
            with pytest.raises(psycopg.errors.FeatureNotSupported):
                conn.execute(f"CREATE INDEX ON ix_h USING {method} (a)")
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'ix_h_a%'").fetchone() == (0,)




def test_pg_dump_writes_the_same_schema(indexes: Pair) -> None:
    aurora = indexes.schema_dump(indexes.aurora.port, "public.ix_*")
    assert "CREATE INDEX ix_h_b ON public.ix_h USING hash (b);" in aurora
    assert aurora == indexes.schema_dump(indexes.oracle.port, "public.ix_*")


OPERATOR_CLASSES = [
    'CREATE TABLE oc (a int, b text, c varchar(5))',
    'CREATE INDEX oc1 ON oc (b text_pattern_ops)',
    'CREATE INDEX oc2 ON oc (b text_ops, a int4_ops)',
    'CREATE INDEX oc3 ON oc (c varchar_pattern_ops DESC)',
    'CREATE INDEX oc4 ON oc (b foo_ops)',
    'CREATE INDEX oc5 ON oc (a text_pattern_ops)',
    'CREATE INDEX oc6 ON oc (lower(b) text_pattern_ops) WHERE a > 0',
    'CREATE INDEX oc7 ON oc USING hash (b text_pattern_ops)',
    "SELECT indexrelid::regclass, pg_get_indexdef(indexrelid), pg_get_indexdef(indexrelid, 1, true) FROM pg_index WHERE indrelid = 'oc'::regclass ORDER BY 1",
    "INSERT INTO oc VALUES (1, 'abc', 'abd')",
    "SELECT b FROM oc WHERE b LIKE 'ab%'",
]


def test_operator_classes_as_postgres(indexes: Pair) -> None:
    """A pattern operator class is kept and shown; a type's default one, named, is not; an unknown
    one is 42704 and one of another type 42804."""
    assert_same_transcript(indexes.aurora.dsn, indexes.oracle.dsn, OPERATOR_CLASSES, details=True,
                           cleanup=["DROP TABLE IF EXISTS oc"])


STORAGE_OPTIONS = [
    'CREATE TABLE ix (a int, b text)',
    'CREATE INDEX ix_f ON ix (a) WITH (fillfactor = 70)',
    'CREATE INDEX ix_g ON ix (b) WITH (deduplicate_items = off)',
    'CREATE INDEX ix_bad ON ix (b) WITH (nosuch = 1)',
    'CREATE INDEX ix_bad ON ix (b) WITH (fillfactor = 5)',
    'CREATE INDEX ix_h ON ix USING hash (b) WITH (fillfactor = 80)',
    'CREATE INDEX ix_bad ON ix USING hash (b) WITH (deduplicate_items = on)',
    "SELECT pg_get_indexdef('ix_f'::regclass), pg_get_indexdef('ix_g'::regclass), pg_get_indexdef('ix_h'::regclass)",
    "SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'ix\\__' ORDER BY relname",
    'ALTER INDEX ix_f SET (fillfactor = 50)',
    'ALTER INDEX ix_f SET (fillfactor = 500)',
    'ALTER INDEX ix_g RESET (deduplicate_items)',
    'ALTER INDEX IF EXISTS nosuch SET (fillfactor = 50)',
    "SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'ix\\__' ORDER BY relname",
]
TAGS = [
    'CREATE TABLE tg (a int)',
    'CREATE INDEX tg_i ON tg (a)',
    'CREATE SEQUENCE tg_s',
    'CREATE VIEW tg_v AS SELECT a FROM tg',
    'CREATE MATERIALIZED VIEW tg_m AS SELECT a FROM tg',
    'ALTER INDEX tg_i RENAME TO tg_i2',
    'ALTER INDEX IF EXISTS nosuch RENAME TO x',
    'ALTER INDEX tg_i2 SET (fillfactor = 60)',
    'ALTER SEQUENCE tg_s RENAME TO tg_s2',
    'ALTER VIEW tg_v RENAME TO tg_v2',
    'ALTER MATERIALIZED VIEW tg_m RENAME TO tg_m2',
    'ALTER TABLE tg RENAME COLUMN a TO aa',
    'ALTER TABLE tg RENAME TO tg2',
    'ALTER TABLE tg2 ADD COLUMN b int',
    'ALTER INDEX tg_i2 RESET (fillfactor)',
    "SELECT pg_get_indexdef('tg_i2'::regclass)",
]


def test_index_storage_options_as_postgres(indexes: Pair) -> None:
    """WITH (fillfactor / deduplicate_items) kept in reloptions and pg_get_indexdef, checked per
    access method (22023), ALTER INDEX ... SET / RESET (...); they were ignored."""
    assert_same_transcript(indexes.aurora.dsn, indexes.oracle.dsn, STORAGE_OPTIONS, details=True,
                           cleanup=["DROP TABLE IF EXISTS ix"])


def test_alter_command_tags_as_postgres(indexes: Pair) -> None:
    """ALTER INDEX / SEQUENCE / VIEW / MATERIALIZED VIEW ... RENAME and SET answer with their own tags."""
    assert_same_transcript(indexes.aurora.dsn, indexes.oracle.dsn, TAGS, details=True,
                           cleanup=["DROP TABLE IF EXISTS tg, tg2 CASCADE", "DROP SEQUENCE IF EXISTS tg_s, tg_s2"])
