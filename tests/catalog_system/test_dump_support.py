"""What pg_dump and restore scripts send, checked against PostgreSQL 15: real GUCs (`SET
synchronize_seqscans TO off`), acldefault / aclexplode / pg_options_to_table, name subscripts,
names qualified along an empty search_path, pg_depend / pg_rewrite rows, reading a sequence
relation, LOCK TABLE, OWNER TO, ALTER SEQUENCE OWNED BY and ADD GENERATED AS IDENTITY."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.catalog_system.conftest import Pair

DDL = """
CREATE SCHEMA cs_dump;
CREATE TABLE cs_dump.t (id serial PRIMARY KEY, v int DEFAULT 7);
CREATE TABLE cs_dump.r (x int NOT NULL, y int REFERENCES cs_dump.t (id));
CREATE VIEW cs_dump.tv AS SELECT id, v FROM cs_dump.t WHERE v > 1;
CREATE SEQUENCE cs_dump.s;
CREATE ROLE cs_dump_owner;
CREATE ROLE "CsDumpUpper";
CREATE ROLE "cs dump space";
"""
CLEANUP = ("DROP VIEW IF EXISTS cs_dump.tv; DROP TABLE IF EXISTS cs_dump.r; DROP TABLE IF EXISTS cs_dump.t;"
           "DROP SEQUENCE IF EXISTS cs_dump.s; DROP SCHEMA IF EXISTS cs_dump; DROP ROLE IF EXISTS cs_dump_owner;"
           'DROP ROLE IF EXISTS "CsDumpUpper"; DROP ROLE IF EXISTS "cs dump space"')


@pytest.fixture(scope="module")
def dump_pair(pair: Pair) -> Iterator[Pair]:
    for dsn in (pair.aurora.dsn, pair.oracle.dsn):
        with psycopg.connect(dsn, autocommit=True) as conn:
            for sql in CLEANUP.split(";"):
                conn.execute(sql)
            conn.execute(DDL)
    try:
        yield pair
    finally:
        for dsn in (pair.aurora.dsn, pair.oracle.dsn):
            with psycopg.connect(dsn, autocommit=True) as conn:
                for sql in CLEANUP.split(";"):
                    conn.execute(sql)


def _run(dsn: str, *statements: str) -> list[list[tuple[object, ...]]]:
    """Runs statements in one session (autocommit); the rows of each."""
    out = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = psycopg.ClientCursor(conn)  # the simple protocol, as pg_dump and psql send them
        for sql in statements:
            cur.execute(sql)
            out.append(cur.fetchall() if cur.description else [])
    return out


def _error(dsn: str, *statements: str) -> tuple[str | None, str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = psycopg.ClientCursor(conn)
        try:
            for sql in statements:
                cur.execute(sql)
        except psycopg.Error as e:
            return e.sqlstate, str(e).splitlines()[0]
    return None, ""


SAME = [
    ("SET synchronize_seqscans TO off", "SHOW synchronize_seqscans", "SET row_security = off",
     "SELECT current_setting('row_security'), current_setting('wal_level'), current_setting('max_locks_per_transaction')"),
    ("SET vacuum_cost_limit = 500", "SHOW vacuum_cost_limit", "RESET vacuum_cost_limit", "SHOW vacuum_cost_limit",
     "SHOW effective_io_concurrency", "SHOW default_table_access_method", "SET default_table_access_method = heap",
     "SET check_function_bodies = false", "SHOW check_function_bodies"),
    ("SELECT name, setting, unit, vartype, context, boot_val FROM pg_settings "
     "WHERE name IN ('synchronize_seqscans', 'vacuum_cost_delay', 'gin_pending_list_limit', 'log_min_duration_statement', "
     "'restrict_nonsystem_relation_kind') ORDER BY 1",),
    ("SELECT acldefault(c::\"char\", 10) FROM unnest(array['c','r','s','f','l','L','n','T','d','F','S','p']) c",),
    # role names as aclitem writes them: quoted only with characters other than letters, digits, _
    ("SELECT rolname, acldefault('r', oid), acldefault('n', oid) FROM pg_roles "
     "WHERE rolname IN ('CsDumpUpper', 'cs dump space', 'cs_dump_owner') ORDER BY 1",),
    ("SELECT * FROM aclexplode(acldefault('r', 10)) ORDER BY privilege_type",
     "SELECT * FROM pg_options_to_table('{a=1,b=x=y,c}')",
     "SELECT ('abc'::name)[0], ('abc'::name)[5] = '', ('abc'::name)[64] IS NULL"),
    ("SELECT pg_catalog.set_config('search_path', '', false)",
     "SELECT pg_catalog.current_schemas(false), 'cs_dump.t'::regclass::text, 'pg_class'::pg_catalog.regclass::text",
     "SELECT pg_catalog.pg_get_expr(adbin, adrelid) FROM pg_catalog.pg_attrdef "
     "WHERE adrelid = 'cs_dump.t'::pg_catalog.regclass ORDER BY adnum",
     "SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint "
     "WHERE conrelid = 'cs_dump.r'::pg_catalog.regclass",
     "SELECT pg_catalog.pg_get_indexdef('cs_dump.t_pkey'::pg_catalog.regclass)"),
    ("SELECT rolname FROM pg_roles WHERE oid IN (6171, 3373, 4200) ORDER BY oid",
     "SELECT rulename, ev_type, is_instead, ev_enabled FROM pg_rewrite WHERE ev_class = 'cs_dump.tv'::regclass"),
    ("SELECT classid::regclass::text, refclassid::regclass::text, refobjid::regclass::text, refobjsubid, deptype "
     "FROM pg_depend WHERE classid IN ('pg_rewrite'::regclass, 'pg_attrdef'::regclass) "
     "AND refobjid IN ('cs_dump.t'::regclass, 'cs_dump.t_id_seq'::regclass, 'cs_dump.tv'::regclass) "
     "ORDER BY 1, 2, 3, 4, 5",
     "SELECT objid::regclass::text, refobjid::regclass::text, refobjsubid, deptype FROM pg_depend "
     "WHERE classid = 'pg_class'::regclass AND objid = 'cs_dump.t_id_seq'::regclass AND refclassid = 'pg_class'::regclass"),
    ("SELECT last_value, is_called FROM cs_dump.s", "SELECT nextval('cs_dump.s'), nextval('cs_dump.s')",
     "SELECT last_value, is_called FROM cs_dump.s", "SELECT setval('cs_dump.s', 10, false)",
     "SELECT s.last_value, s.is_called FROM cs_dump.s AS s"),
    ("BEGIN", "LOCK TABLE cs_dump.t IN ACCESS SHARE MODE", "LOCK cs_dump.t, cs_dump.r", "COMMIT"),
]


@pytest.mark.parametrize("statements", SAME, ids=[s[0][:40] for s in SAME])
def test_same_answers_as_postgresql(dump_pair: Pair, statements: tuple[str, ...]) -> None:
    assert _run(dump_pair.aurora.dsn, *statements) == _run(dump_pair.oracle.dsn, *statements)


ERRORS = [
    ("SET shared_buffers = '1GB'",),
    ("SET vacuum_cost_limit = 0",),
    ("SET no_such_parameter = 1",),
    ("LOCK TABLE cs_dump.t",),
    ("BEGIN", "LOCK TABLE cs_dump.s"),
    ("BEGIN", "LOCK TABLE cs_dump.nope"),
    ("ALTER TABLE cs_dump.t OWNER TO no_such_role",),
    ("ALTER SCHEMA no_such_schema OWNER TO postgres",),
    ("ALTER SEQUENCE cs_dump.s OWNED BY cs_dump.t.nope",),
    ("SELECT acldefault('z', 10)",),
    ("ALTER TABLE cs_dump.r ALTER COLUMN y ADD GENERATED ALWAYS AS IDENTITY",),
]


@pytest.mark.parametrize("statements", ERRORS, ids=[s[-1][:40] for s in ERRORS])
def test_same_errors_as_postgresql(dump_pair: Pair, statements: tuple[str, ...]) -> None:
    assert _error(dump_pair.aurora.dsn, *statements) == _error(dump_pair.oracle.dsn, *statements)


def test_owner_to_changes_the_catalog(dump_pair: Pair) -> None:
    statements = ("ALTER TABLE cs_dump.t OWNER TO cs_dump_owner", "ALTER TABLE cs_dump.tv OWNER TO cs_dump_owner",
                  "ALTER TABLE cs_dump.s OWNER TO cs_dump_owner", "ALTER SCHEMA cs_dump OWNER TO cs_dump_owner",
                  "SELECT relname, pg_get_userbyid(relowner) FROM pg_class WHERE relname IN ('t', 'tv', 's', 'r') "
                  "AND relnamespace = 'cs_dump'::regnamespace ORDER BY 1",
                  "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'cs_dump'",
                  "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'cs_dump' ORDER BY 1",
                  "ALTER TABLE cs_dump.t OWNER TO postgres", "ALTER TABLE cs_dump.tv OWNER TO postgres",
                  "ALTER TABLE cs_dump.s OWNER TO postgres", "ALTER SCHEMA cs_dump OWNER TO postgres")
    assert _run(dump_pair.aurora.dsn, *statements) == _run(dump_pair.oracle.dsn, *statements)


def test_lock_nowait_conflicts_with_an_exclusive_lock(dump_pair: Pair) -> None:
    for dsn in (dump_pair.aurora.dsn, dump_pair.oracle.dsn):
        with psycopg.connect(dsn, autocommit=True) as holder, psycopg.connect(dsn, autocommit=True) as other:
            holder.execute("BEGIN")
            holder.execute("LOCK TABLE cs_dump.r IN ACCESS EXCLUSIVE MODE")
            other.execute("BEGIN")
            with pytest.raises(psycopg.errors.LockNotAvailable, match="could not obtain lock on relation"):
                other.execute("LOCK TABLE cs_dump.r IN ACCESS SHARE MODE NOWAIT")
            other.execute("ROLLBACK")
            holder.execute("COMMIT")
            other.execute("BEGIN")
            other.execute("LOCK TABLE cs_dump.r IN ACCESS SHARE MODE NOWAIT")
            other.execute("COMMIT")


def test_identity_and_owned_by_as_a_restore_writes_them(dump_pair: Pair) -> None:
    statements = (
        "CREATE TABLE cs_dump.ident (id integer NOT NULL, v text)",
        "ALTER TABLE cs_dump.ident ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME cs_dump.ident_id_seq "
        "START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1)",
        "SELECT pg_catalog.setval('cs_dump.ident_id_seq', 41, true)",
        "INSERT INTO cs_dump.ident (v) VALUES ('x') RETURNING id",
        "SELECT attname, attidentity FROM pg_attribute WHERE attrelid = 'cs_dump.ident'::regclass AND attnum > 0",
        "SELECT pg_get_serial_sequence('cs_dump.ident', 'id')",
        "SELECT seqtypid::regtype::text, seqmax FROM pg_sequence WHERE seqrelid = 'cs_dump.ident_id_seq'::regclass",
        "CREATE SEQUENCE cs_dump.loose AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
        "ALTER SEQUENCE cs_dump.loose OWNED BY cs_dump.ident.v",
        "SELECT pg_get_serial_sequence('cs_dump.ident', 'v')",
        "ALTER SEQUENCE cs_dump.loose OWNED BY NONE",
        "SELECT pg_get_serial_sequence('cs_dump.ident', 'v')",
        "DROP SEQUENCE cs_dump.loose",
        "DROP TABLE cs_dump.ident",
    )
    assert _run(dump_pair.aurora.dsn, *statements) == _run(dump_pair.oracle.dsn, *statements)


def test_comment_on(dump_pair: Pair) -> None:
    statements = (
        "COMMENT ON TABLE cs_dump.t IS 'the table'", "COMMENT ON COLUMN cs_dump.t.v IS 'column v'",
        "COMMENT ON VIEW cs_dump.tv IS 'a view'", "COMMENT ON COLUMN cs_dump.tv.id IS 'view column'",
        "COMMENT ON SEQUENCE cs_dump.s IS 'seq'", "COMMENT ON INDEX cs_dump.t_pkey IS 'pk index'",
        "COMMENT ON SCHEMA cs_dump IS 'my schema'", "COMMENT ON CONSTRAINT t_pkey ON cs_dump.t IS 'the key'",
        "COMMENT ON TABLE cs_dump.t IS 'the table, again'",
        "SELECT classoid::regclass::text, objsubid, description FROM pg_description WHERE objoid IN "
        "('cs_dump.t'::regclass, 'cs_dump.tv'::regclass, 'cs_dump.s'::regclass, 'cs_dump.t_pkey'::regclass, "
        "'cs_dump'::regnamespace) OR description = 'the key' ORDER BY 1, 3",
        "SELECT obj_description('cs_dump.t'::regclass, 'pg_class'), obj_description('cs_dump.t'::regclass), "
        "col_description('cs_dump.t'::regclass, 2), obj_description('cs_dump'::regnamespace, 'pg_namespace')",
        "COMMENT ON COLUMN cs_dump.t.v IS NULL", "COMMENT ON TABLE cs_dump.t IS ''",
        "SELECT count(*) FROM pg_description WHERE objoid = 'cs_dump.t'::regclass",
        "COMMENT ON VIEW cs_dump.tv IS NULL", "COMMENT ON SEQUENCE cs_dump.s IS NULL",
        "COMMENT ON INDEX cs_dump.t_pkey IS NULL", "COMMENT ON SCHEMA cs_dump IS NULL",
        "COMMENT ON CONSTRAINT t_pkey ON cs_dump.t IS NULL", "COMMENT ON COLUMN cs_dump.tv.id IS NULL",
    )
    assert _run(dump_pair.aurora.dsn, *statements) == _run(dump_pair.oracle.dsn, *statements)


@pytest.mark.parametrize("statement", [
    "COMMENT ON TABLE cs_dump.nope IS 'x'", "COMMENT ON TABLE cs_dump.tv IS 'x'",
    "COMMENT ON COLUMN cs_dump.t.nope IS 'x'", "COMMENT ON SCHEMA nope IS 'x'",
    "COMMENT ON CONSTRAINT nope ON cs_dump.t IS 'x'",
])
def test_comment_errors(dump_pair: Pair, statement: str) -> None:
    assert _error(dump_pair.aurora.dsn, statement) == _error(dump_pair.oracle.dsn, statement)


def _snapshot_scenario(dsn: str) -> list[object]:
    out: list[object] = []
    with psycopg.connect(dsn, autocommit=True) as exporter, psycopg.connect(dsn, autocommit=True) as writer, \
            psycopg.connect(dsn, autocommit=True) as importer:
        writer.execute("CREATE TABLE cs_dump.snap (id int)")
        writer.execute("INSERT INTO cs_dump.snap VALUES (1)")
        exporter.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        row = exporter.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        writer.execute("INSERT INTO cs_dump.snap VALUES (2)")  # after the export: not in the snapshot
        importer.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        importer.execute(f"SET TRANSACTION SNAPSHOT '{row[0]}'")
        out.append(importer.execute("SELECT count(*) FROM cs_dump.snap").fetchall())
        importer.execute("COMMIT")
        out.append(importer.execute("SELECT count(*) FROM cs_dump.snap").fetchall())
        exporter.execute("COMMIT")
        for begin, statements in (("BEGIN", (f"SET TRANSACTION SNAPSHOT '{row[0]}'",)),
                                  ("BEGIN ISOLATION LEVEL REPEATABLE READ", ("SELECT 1", f"SET TRANSACTION SNAPSHOT '{row[0]}'")),
                                  ("BEGIN ISOLATION LEVEL REPEATABLE READ", ("SET TRANSACTION SNAPSHOT 'nope'",)),
                                  ("BEGIN ISOLATION LEVEL REPEATABLE READ", (f"SET TRANSACTION SNAPSHOT '{row[0]}'",))):
            importer.execute(begin)
            try:
                for sql in statements:
                    importer.execute(sql)
                out.append(None)
            except psycopg.Error as e:
                out.append((e.sqlstate, str(e).splitlines()[0].replace(row[0], "ID")))
            importer.execute("ROLLBACK")
        writer.execute("DROP TABLE cs_dump.snap")
    return out


def test_exported_snapshot_is_imported(dump_pair: Pair) -> None:
    assert _snapshot_scenario(dump_pair.aurora.dsn) == _snapshot_scenario(dump_pair.oracle.dsn)


def test_lock_outside_a_block_through_the_extended_protocol(dump_pair: Pair) -> None:
    answers = []
    for dsn in (dump_pair.aurora.dsn, dump_pair.oracle.dsn):
        with psycopg.connect(dsn, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.NoActiveSqlTransaction) as caught:
                conn.execute("LOCK TABLE cs_dump.t IN SHARE MODE", prepare=True)
            answers.append(str(caught.value))
            with conn.transaction():
                conn.execute("LOCK TABLE cs_dump.t IN SHARE MODE", prepare=True)
    assert answers[0] == answers[1]


PARTITIONS = """
CREATE TABLE cs_dump.meas (id int, day date, v int) PARTITION BY RANGE (day);
CREATE TABLE cs_dump.meas_2023 PARTITION OF cs_dump.meas FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE cs_dump.events (id int, kind text) PARTITION BY LIST (kind);
CREATE TABLE cs_dump.events_ab PARTITION OF cs_dump.events FOR VALUES IN ('a', 'b');
CREATE TABLE cs_dump.events_rest PARTITION OF cs_dump.events DEFAULT;
"""


@pytest.mark.parametrize("command", [r"\d cs_dump.meas", r"\d+ cs_dump.meas", r"\d+ cs_dump.meas_2023",
                                     r"\d+ cs_dump.events_ab", r"\d cs_dump.events_rest", r"\dP cs_dump.*"])
def test_partitioned_tables_in_psql(dump_pair: Pair, command: str) -> None:
    for dsn in (dump_pair.aurora.dsn, dump_pair.oracle.dsn):
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS cs_dump.meas, cs_dump.events")
            conn.execute(PARTITIONS)
    try:
        ours, theirs = dump_pair.both_psql(command)
        assert ours == theirs
    finally:
        for dsn in (dump_pair.aurora.dsn, dump_pair.oracle.dsn):
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("DROP TABLE IF EXISTS cs_dump.meas, cs_dump.events")


def test_partition_catalogs(dump_pair: Pair) -> None:
    statements = (
        "DROP TABLE IF EXISTS cs_dump.meas, cs_dump.events", PARTITIONS,
        "SELECT partrelid::regclass::text, partstrat, partnatts, partdefid::regclass::text, partattrs::int2[] "
        "FROM pg_partitioned_table WHERE partrelid IN ('cs_dump.meas'::regclass, 'cs_dump.events'::regclass) ORDER BY 1",
        "SELECT inhrelid::regclass::text, inhparent::regclass::text, inhseqno FROM pg_inherits "
        "WHERE inhparent IN ('cs_dump.meas'::regclass, 'cs_dump.events'::regclass) ORDER BY 1",
        "SELECT relname, relkind, relispartition, pg_get_expr(relpartbound, oid), pg_get_partkeydef(oid), "
        "pg_get_partition_constraintdef(oid) FROM pg_class WHERE relnamespace = 'cs_dump'::regnamespace "
        "AND relname ~ '^(meas|events)' ORDER BY 1",
        "SELECT relid::regclass::text FROM pg_partition_ancestors('cs_dump.meas_2023')",
        "DROP TABLE cs_dump.meas, cs_dump.events",
    )
    assert _run(dump_pair.aurora.dsn, *statements) == _run(dump_pair.oracle.dsn, *statements)
