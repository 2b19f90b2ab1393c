"""System functions, reg* casts and information_schema agree with PostgreSQL 15."""

from __future__ import annotations

import psycopg
import pytest

from tests.catalog_system.conftest import Pair

SAME = [
    "SELECT current_database(), current_schema(), current_schemas(false), current_user, session_user",
    "SELECT 'cs_t'::regclass::text, 'public.cs_t'::regclass::text, 'pg_class'::regclass::oid, 1259::regclass::text",
    "SELECT 'pg_catalog.pg_type'::regclass = 'pg_type'::regclass, 'information_schema.tables'::regclass::text",
    "SELECT 'public'::regnamespace::text, 'postgres'::regrole::text, 11::regnamespace::text",
    "SELECT to_regclass('cs_t')::text, to_regclass('cs_nope'), to_regtype('int4')::text, to_regtype('nope')",
    "SELECT pg_size_pretty(123456789::bigint), pg_size_pretty(10239::bigint), pg_size_pretty(10240::bigint), "
    "pg_size_pretty(1048575::bigint), pg_size_pretty(-123456789::bigint), pg_size_pretty(5::numeric)",
    "SELECT pg_get_serial_sequence('cs_c', 'cid'), pg_get_serial_sequence('cs_t', 'id')",
    "SELECT pg_table_is_visible('cs_t'::regclass), pg_table_is_visible('pg_class'::regclass)",
    "SELECT pg_get_indexdef('cs_t_pkey'::regclass), pg_get_indexdef('cs_c_note_idx'::regclass, 1, true)",
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'cs_c'::regclass ORDER BY 1",
    "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'cs_c'::regclass ORDER BY adnum",
    "SELECT has_table_privilege('cs_t', 'SELECT'), has_schema_privilege('public', 'USAGE'), "
    "has_database_privilege('postgres', 'CONNECT')",
    "SELECT pg_encoding_to_char(6), pg_get_userbyid(10), obj_description(0, 'pg_class'), col_description(0, 1)",
    "SELECT relname, relkind, relnatts, relhasindex, relchecks FROM pg_class "
    "WHERE relname LIKE 'cs\\_%' ORDER BY relname",
    "SELECT attname, format_type(atttypid, atttypmod), attnotnull, atthasdef, attnum FROM pg_attribute "
    "WHERE attrelid = 'cs_c'::regclass AND attnum > 0 ORDER BY attnum",
    "SELECT indisunique, indisprimary, indkey::int2[], indnatts FROM pg_index WHERE indrelid = 'cs_t'::regclass "
    "ORDER BY indisprimary DESC",
    "SELECT nspname FROM pg_namespace WHERE nspname IN ('public', 'pg_catalog', 'information_schema') ORDER BY 1",
    "SELECT tablename, hasindexes FROM pg_tables WHERE tablename LIKE 'cs\\_%' ORDER BY 1",
    "SELECT viewname FROM pg_views WHERE viewname LIKE 'cs\\_%'",
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'cs\\_%' ORDER BY 1",
    "SELECT sequencename, data_type::text, start_value, increment_by FROM pg_sequences WHERE sequencename LIKE 'cs\\_%' "
    "ORDER BY 1",
    "SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = 'postgres'",
    "SELECT datname FROM pg_database WHERE datname = 'postgres'",
    "SELECT table_name, table_type FROM information_schema.tables WHERE table_name LIKE 'cs\\_%' ORDER BY 1",
    "SELECT table_name, column_name, ordinal_position, column_default, is_nullable, data_type, "
    "character_maximum_length, numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision, udt_name "
    "FROM information_schema.columns WHERE table_name IN ('cs_t', 'cs_c') ORDER BY 1, 3",
    "SELECT constraint_name, table_name, constraint_type FROM information_schema.table_constraints "
    "WHERE table_name LIKE 'cs\\_%' AND constraint_type <> 'CHECK' ORDER BY 1",
    "SELECT constraint_name, table_name, column_name, ordinal_position, position_in_unique_constraint "
    "FROM information_schema.key_column_usage WHERE table_name LIKE 'cs\\_%' ORDER BY 1, 4",
    "SELECT constraint_name, unique_constraint_name, match_option, update_rule, delete_rule "
    "FROM information_schema.referential_constraints WHERE constraint_name LIKE 'cs\\_%'",
    "SELECT table_name, column_name, constraint_name FROM information_schema.constraint_column_usage "
    "WHERE constraint_name LIKE 'cs\\_%' ORDER BY 3, 2",
    "SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences "
    "WHERE sequence_name LIKE 'cs\\_%' ORDER BY 1",
    "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('public', 'information_schema') ORDER BY 1",
    "SELECT count(*) > 0 FROM pg_type WHERE typname IN ('int4', '_int4', 'text', 'numeric')",
    "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal",
    "SELECT count(*) FROM pg_inherits",
    "SELECT name, setting, unit, vartype, context, min_val, max_val, enumvals, boot_val FROM pg_settings "
    "WHERE name IN ('work_mem', 'statement_timeout', 'IntervalStyle', 'lock_timeout', 'search_path') ORDER BY 1",
    "SELECT column_name, is_identity, identity_generation, identity_start, identity_increment, identity_maximum, "
    "identity_cycle, column_default FROM information_schema.columns WHERE table_schema = 'cs_s' AND table_name = 'm' "
    "ORDER BY ordinal_position",
    "SELECT relname FROM pg_class WHERE relnamespace = 'cs_s'::regnamespace ORDER BY 1",
]


@pytest.mark.parametrize("sql", SAME)
def test_same_as_postgres(pair: Pair, sql: str) -> None:
    aurora, oracle = pair.both(sql)
    assert aurora == oracle


@pytest.mark.parametrize(("sql", "sqlstate", "message"), [
    ("SELECT 'cs_nope'::regclass", "42P01", 'relation "cs_nope" does not exist'),
    ("SELECT 'nope.t'::regclass", "3F000", 'schema "nope" does not exist'),
    ("SELECT 'nope'::regrole", "42704", 'role "nope" does not exist'),
    ("SELECT 'nope'::regnamespace", "3F000", 'schema "nope" does not exist'),
])
def test_errors_match_postgres(pair: Pair, sql: str, sqlstate: str, message: str) -> None:
    for dsn in (pair.aurora.dsn, pair.oracle.dsn):
        with psycopg.connect(dsn, autocommit=True) as conn, pytest.raises(psycopg.Error) as info:
            conn.execute(sql)
        assert info.value.sqlstate == sqlstate
        assert info.value.diag.message_primary == message


def test_version_and_session_functions(pair: Pair) -> None:
    [(version, pid, recovery, started)] = pair.query(
        pair.aurora.dsn, "SELECT version(), pg_backend_pid(), pg_is_in_recovery(), pg_postmaster_start_time()")
    assert version.startswith("PostgreSQL 15.") and "pgaurora" in version
    assert isinstance(pid, int) and recovery is False and started is not None


def test_catalog_reflects_ddl_in_the_same_transaction(pair: Pair) -> None:
    with psycopg.connect(pair.aurora.dsn) as conn:
        conn.execute("CREATE TABLE cs_tx (a int PRIMARY KEY, b text DEFAULT 'q')")
        rows = conn.execute("SELECT column_name, column_default FROM information_schema.columns "
                            "WHERE table_name = 'cs_tx' ORDER BY ordinal_position").fetchall()
        assert rows == [("a", None), ("b", "'q'::text")]
        assert conn.execute("SELECT 'cs_tx'::regclass::text").fetchone() == ("cs_tx",)
        conn.rollback()
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT 'cs_tx'::regclass")


def test_every_system_relation_reads_in_text_and_binary(pair: Pair) -> None:
    from pgaurora.catalog.system.columns import SYSTEM_RELATIONS

    with psycopg.connect(pair.aurora.dsn, autocommit=True) as conn:
        for schema, name, _oid, _kind, columns in SYSTEM_RELATIONS:
            for binary in (False, True):
                cur = conn.cursor(binary=binary)
                cur.execute(f"SELECT * FROM {schema}.{name}")
                cur.fetchall()
                assert cur.description is not None
                assert [d.name for d in cur.description] == [c[0] for c in columns]


def test_system_relations_have_postgres_columns(pair: Pair) -> None:
    sql = ("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
           "WHERE attrelid = 'pg_catalog.pg_class'::regclass AND attnum > 0 ORDER BY attnum")
    aurora, oracle = pair.both(sql)
    assert aurora == oracle


def test_pg_settings_follows_set(pair: Pair) -> None:
    sql = "SELECT setting, unit, source FROM pg_settings WHERE name = 'work_mem'"
    for dsn in (pair.aurora.dsn, pair.oracle.dsn):
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SET work_mem = '64MB'")
            assert conn.execute(sql).fetchone() == ("65536", "kB", "session")
            assert conn.execute("SELECT current_setting('work_mem')").fetchone() == ("64MB",)
