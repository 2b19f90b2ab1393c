"""The catalogs show materialized views, declarative partitioning and generated columns the way
PostgreSQL 15 does: the same DDL on pgaurora and on the oracle gives the same catalog rows and
the same psql output (\\dm, \\d matview, \\d+ partitioned table, \\d partition, \\d of a table
with a generated column)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.catalog_system.conftest import Pair

# Names start with cf_ so that meta-command patterns ignore the other catalog tests' objects.
DDL = """
CREATE TABLE cf_base (id int PRIMARY KEY, grp text, amount numeric(10,2));
INSERT INTO cf_base VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'a', 4);
CREATE MATERIALIZED VIEW cf_mv AS SELECT id, grp FROM cf_base WHERE id > 1;
CREATE MATERIALIZED VIEW cf_mv_empty AS SELECT id FROM cf_base WITH NO DATA;
CREATE MATERIALIZED VIEW cf_mv_ix AS SELECT id, amount FROM cf_base WHERE id > 1 AND amount IS NOT NULL;
CREATE UNIQUE INDEX cf_mv_ix_id ON cf_mv_ix (id);
CREATE TABLE cf_gen3 (a int, b int, c int GENERATED ALWAYS AS ((a + 1) * 2 - b) STORED,
                      d boolean GENERATED ALWAYS AS (a + 1 > 10 AND NOT b < 2 OR a IS NULL) STORED,
                      e int GENERATED ALWAYS AS (a - (b - 1)) STORED);
CREATE TABLE cf_gen2 (name text, qty int NOT NULL, next_qty int GENERATED ALWAYS AS (qty + 1) STORED,
                      label text GENERATED ALWAYS AS (lower(name)) STORED, big boolean GENERATED ALWAYS AS (qty > 10) STORED);
CREATE TABLE cf_gen (a int, b int GENERATED ALWAYS AS (a * 2) STORED, c text DEFAULT 'x');
CREATE TABLE cf_range (id int, day int, note text) PARTITION BY RANGE (day);
CREATE TABLE cf_range_1 PARTITION OF cf_range FOR VALUES FROM (1) TO (10);
CREATE TABLE cf_range_2 PARTITION OF cf_range FOR VALUES FROM (10) TO (20);
CREATE TABLE cf_range_d PARTITION OF cf_range DEFAULT;
CREATE TABLE cf_list (id int, region text) PARTITION BY LIST (region);
CREATE TABLE cf_list_eu PARTITION OF cf_list FOR VALUES IN ('de', 'fr');
CREATE TABLE cf_list_us PARTITION OF cf_list FOR VALUES IN ('us');
CREATE TABLE cf_hash (id int, v text) PARTITION BY HASH (id);
CREATE TABLE cf_hash_0 PARTITION OF cf_hash FOR VALUES WITH (modulus 4, remainder 0);
CREATE TABLE cf_hash_1 PARTITION OF cf_hash FOR VALUES WITH (modulus 4, remainder 1);
CREATE TABLE cf_det (id int, k int);
ALTER TABLE cf_range DETACH PARTITION cf_range_2;
CREATE TABLE cf_att (id int, day int, note text);
ALTER TABLE cf_range ATTACH PARTITION cf_att FOR VALUES FROM (20) TO (30);
CREATE INDEX cf_range_day_idx ON cf_range (day);
CREATE TABLE cf_pk (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE cf_pk_x PARTITION OF cf_pk FOR VALUES IN ('x');
CREATE TABLE cf_mc (a int, b text, c date) PARTITION BY RANGE (a, b);
CREATE TABLE cf_mc_1 PARTITION OF cf_mc FOR VALUES FROM (1, 'a') TO (1, 'm');
CREATE TABLE cf_mc_2 PARTITION OF cf_mc FOR VALUES FROM (1, 'm') TO (MAXVALUE, MAXVALUE);
CREATE TABLE cf_neg (a int) PARTITION BY RANGE (a);
CREATE TABLE cf_neg_1 PARTITION OF cf_neg FOR VALUES FROM (MINVALUE) TO (-5);
CREATE TABLE cf_neg_2 PARTITION OF cf_neg FOR VALUES FROM (-5) TO (MAXVALUE);
CREATE TABLE cf_neg_d PARTITION OF cf_neg DEFAULT;
"""
CLEANUP = ("DROP MATERIALIZED VIEW IF EXISTS cf_mv; DROP MATERIALIZED VIEW IF EXISTS cf_mv_empty;"
           "DROP MATERIALIZED VIEW IF EXISTS cf_mv_ix; DROP TABLE IF EXISTS cf_gen2; DROP TABLE IF EXISTS cf_gen3;"
           "DROP TABLE IF EXISTS cf_base; DROP TABLE IF EXISTS cf_gen; DROP TABLE IF EXISTS cf_range;"
           "DROP TABLE IF EXISTS cf_range_2; DROP TABLE IF EXISTS cf_att; DROP TABLE IF EXISTS cf_list;"
           "DROP TABLE IF EXISTS cf_hash; DROP TABLE IF EXISTS cf_det; DROP TABLE IF EXISTS cf_pk;"
           "DROP TABLE IF EXISTS cf_mc; DROP TABLE IF EXISTS cf_neg")


@pytest.fixture(scope="module")
def features(pair: Pair) -> Iterator[Pair]:
    with pair.with_schema(DDL, CLEANUP):
        yield pair


COMMANDS = [
    r"\dm cf_*", r"\d cf_mv", r"\d+ cf_mv", r"\d cf_mv_empty", r"\d cf_gen", r"\d+ cf_gen",
    r"\d cf_range", r"\d+ cf_range", r"\d cf_range_1", r"\d cf_range_d", r"\d+ cf_range_1", r"\d cf_range_2",
    r"\d cf_att", r"\d+ cf_list", r"\d cf_list_eu", r"\d+ cf_hash", r"\d cf_hash_1", r"\dt cf_*", r"\dP cf_*",
    r"\d+ cf_list_us", r"\d cf_mv_ix", r"\d+ cf_mv_ix", r"\d cf_gen2", r"\d cf_gen3", r"\di cf_*", r"\d+ cf_range_2",
    r"\d+ cf_range_d", r"\d cf_range_day_idx", r"\d+ cf_range_day_idx", r"\d+ cf_pk", r"\d cf_pk_x",
    r"\d cf_pk_pkey", r"\d cf_pk_x_pkey", r"\dP cf_*", r"\dPi cf_*", r"\dPt cf_*",
    r"\d+ cf_mc", r"\d cf_mc_1", r"\d cf_mc_2", r"\d+ cf_neg", r"\d+ cf_neg_1", r"\d+ cf_neg_2", r"\d+ cf_neg_d",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_meta_command_matches_postgres(features: Pair, command: str) -> None:
    aurora, oracle = features.both_psql(command)
    assert aurora == oracle


QUERIES = [
    "SELECT relname, relkind, relispartition, relispopulated, pg_get_expr(relpartbound, oid) FROM pg_class "
    "WHERE relname LIKE 'cf\\_%' AND relkind IN ('r', 'p', 'm') ORDER BY relname",
    "SELECT schemaname, matviewname, matviewowner, tablespace, hasindexes, ispopulated, definition "
    "FROM pg_matviews WHERE matviewname LIKE 'cf\\_%' ORDER BY matviewname",
    "SELECT c.relname, i.inhparent::regclass::text, i.inhseqno, i.inhdetachpending FROM pg_inherits i "
    "JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname LIKE 'cf\\_%' ORDER BY 1",
    "SELECT partrelid::regclass::text, partstrat, partnatts, partdefid::regclass::text, partattrs::text "
    "FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname LIKE 'cf\\_%' ORDER BY 1",
    "SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_class c WHERE c.relname LIKE 'cf\\_%' ORDER BY 1",
    "SELECT c.relname, pg_get_partition_constraintdef(c.oid) FROM pg_class c "
    "WHERE c.relname IN ('cf_range_1', 'cf_att', 'cf_list_eu', 'cf_list_us') ORDER BY 1",
    "SELECT attname, attgenerated, atthasdef FROM pg_attribute WHERE attrelid = 'cf_gen'::regclass AND attnum > 0 "
    "ORDER BY attnum",
    "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
    "ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = 'cf_gen'::regclass ORDER BY 1",
    "SELECT column_name, column_default, is_generated, generation_expression, is_updatable "
    "FROM information_schema.columns WHERE table_name = 'cf_gen' ORDER BY ordinal_position",
    "SELECT table_name, table_type FROM information_schema.tables WHERE table_name LIKE 'cf\\_%' ORDER BY 1",
    "SELECT tablename FROM pg_tables WHERE tablename LIKE 'cf\\_%' ORDER BY 1",
    "SELECT relname, relhassubclass, relhasindex, relam <> 0 FROM pg_class WHERE relname LIKE 'cf\\_%' "
    "AND relkind IN ('r', 'p', 'm') ORDER BY 1",
    "SELECT c.relname, a.attname, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), pg_get_expr(d.adbin, d.adrelid, true) "
    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d "
    "ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE c.relname IN ('cf_gen2', 'cf_gen3') AND a.attnum > 0 "
    "ORDER BY c.relname, a.attnum",
    "SELECT column_name, is_nullable, is_generated, generation_expression FROM information_schema.columns "
    "WHERE table_name IN ('cf_gen2', 'cf_gen3') ORDER BY table_name, ordinal_position",
    "SELECT table_name FROM information_schema.columns WHERE table_name LIKE 'cf\\_mv%' ORDER BY 1",
    "SELECT pg_get_viewdef('cf_mv_ix'::regclass), pg_get_viewdef('cf_mv_ix'::regclass, true)",
    "SELECT c.relname, c.relkind, c.relispartition, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relname LIKE 'cf\\_%' ORDER BY 1",
    "SELECT relname, relkind FROM pg_class WHERE relname LIKE 'cf\\_%' AND relkind IN ('i', 'I') ORDER BY 1",
    "SELECT relid::text, parentrelid::text, isleaf, level FROM pg_partition_tree('cf_range')",
    "SELECT relid::text, parentrelid::text, isleaf, level FROM pg_partition_tree('cf_range_day_idx') ORDER BY 1",
    "SELECT * FROM pg_partition_tree('cf_base')",
    "SELECT pg_partition_root('cf_range_1')::text, pg_partition_root('cf_base'), pg_partition_root('cf_att_day_idx')::text",
    "SELECT relid::text FROM pg_partition_ancestors('cf_att_day_idx')",
    "SELECT c.relname, a.attname, a.attinhcount FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "WHERE c.relname LIKE 'cf\\_range%' AND c.relkind = 'r' AND a.attnum > 0 ORDER BY 1, 2",
    "SELECT d.classid::regclass::text, c.relname, d.refclassid::regclass::text, r.relname, d.deptype "
    "FROM pg_depend d JOIN pg_class c ON c.oid = d.objid JOIN pg_class r ON r.oid = d.refobjid "
    "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND c.relname LIKE 'cf\\_%' "
    "AND r.relname LIKE 'cf\\_%' AND d.deptype IN ('P', 'S') OR (c.relname LIKE 'cf\\_range%' AND r.relname = 'cf_range' "
    "AND d.classid = 'pg_class'::regclass AND d.refobjsubid = 0 AND d.deptype = 'a') ORDER BY 2, 4, 5",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_catalog_query_matches_postgres(features: Pair, sql: str) -> None:
    aurora, oracle = features.both(sql)
    assert aurora == oracle


def test_hash_partition_constraint_matches_postgres(features: Pair) -> None:
    """psql shows satisfies_hash_partition(parent oid, ...): equal once the oids are aligned."""
    aurora, oracle = features.both_psql(r"\d+ cf_hash_1")
    parent = [features.query(dsn, "SELECT 'cf_hash'::regclass::oid::int")[0][0]
              for dsn in (features.aurora.dsn, features.oracle.dsn)]
    assert f"satisfies_hash_partition('{parent[0]}'::oid, 4, 1, id)" in aurora
    assert aurora.replace(f"'{parent[0]}'::oid", "'parent'::oid") == oracle.replace(f"'{parent[1]}'::oid", "'parent'::oid")


def test_refresh_populates_matview_as_postgres_shows(features: Pair) -> None:
    query = ("SELECT m.ispopulated, c.relispopulated FROM pg_matviews m JOIN pg_class c ON c.relname = m.matviewname "
             "WHERE m.matviewname = 'cf_mv_r'")
    seen = []
    for dsn in (features.aurora.dsn, features.oracle.dsn):
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP MATERIALIZED VIEW IF EXISTS cf_mv_r")
            conn.execute("CREATE MATERIALIZED VIEW cf_mv_r AS SELECT id FROM cf_base WITH NO DATA")
            before = conn.execute(query).fetchall()
            conn.execute("REFRESH MATERIALIZED VIEW cf_mv_r")
            after = conn.execute(query).fetchall()
            conn.execute("DROP MATERIALIZED VIEW cf_mv_r")
            gone = conn.execute(query).fetchall()
            seen.append((before, after, gone))
    assert seen[0] == seen[1] == ([(False, False)], [(True, True)], [])




def test_pg_dump_writes_the_same_schema(features: Pair) -> None:
    """pg_dump reads relkind m / p / I, relpartbound, pg_partitioned_table, pg_inherits (tables and
    indexes), attgenerated with pg_attrdef and the partition dependencies in pg_depend: its
    `PARTITION BY`, `ATTACH PARTITION`, `ON ONLY`, `GENERATED ALWAYS AS` and
    `CREATE MATERIALIZED VIEW` come out as PostgreSQL's, in the same order."""
    aurora = features.schema_dump(features.aurora.port, "public.cf_*")
    assert "CREATE MATERIALIZED VIEW public.cf_mv AS" in aurora
    assert "    next_qty integer GENERATED ALWAYS AS ((qty + 1)) STORED," in aurora
    assert aurora == features.schema_dump(features.oracle.port, "public.cf_*")


def _sqlalchemy_view_of(port: int) -> dict[str, object]:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
    try:
        insp = inspect(engine)
        return {
            "matviews": sorted(n for n in insp.get_materialized_view_names() if n.startswith("cf_")),
            "tables": sorted(n for n in insp.get_table_names() if n.startswith("cf_")),
            "definition": insp.get_view_definition("cf_mv"),
            "matview_columns": [(c["name"], str(c["type"])) for c in insp.get_columns("cf_mv_ix")],
            "matview_indexes": insp.get_indexes("cf_mv_ix"),
            "generated": [(c["name"], c.get("computed")) for c in insp.get_columns("cf_gen3")],
            "partitioned_columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns("cf_range")],
        }
    finally:
        engine.dispose()


def test_sqlalchemy_reflects_matviews_partitions_and_computed_columns(features: Pair) -> None:
    aurora = _sqlalchemy_view_of(features.aurora.port)
    assert aurora == _sqlalchemy_view_of(features.oracle.port)
    assert aurora["matviews"] == ["cf_mv", "cf_mv_empty", "cf_mv_ix"]
    assert ("c", {"sqltext": "(((a + 1) * 2) - b)", "persisted": True}) in aurora["generated"]  # type: ignore[operator]
