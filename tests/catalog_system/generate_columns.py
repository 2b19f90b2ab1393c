"""Generates pgaurora/catalog/system/columns.py from a real PostgreSQL 15.

    python tests/catalog_system/generate_columns.py "host=127.0.0.1 port=PORT user=postgres" \
        > pgaurora/catalog/system/columns.py
"""
import sys

import psycopg

from pgaurora import datatypes

PG_CATALOG = """pg_class pg_namespace pg_attribute pg_type pg_index pg_constraint pg_attrdef pg_proc pg_roles
pg_authid pg_user pg_auth_members pg_database pg_settings pg_description pg_shdescription pg_am pg_inherits pg_collation
pg_extension pg_sequence pg_sequences pg_views pg_tables pg_indexes pg_matviews pg_stat_activity pg_locks
pg_stat_user_tables pg_stat_all_tables pg_statio_user_tables pg_stat_user_indexes pg_stat_all_indexes pg_stat_ssl pg_range pg_enum pg_trigger pg_policy pg_statistic_ext pg_publication
pg_publication_rel pg_publication_namespace pg_partitioned_table pg_foreign_table pg_tablespace
pg_event_trigger pg_rewrite pg_depend pg_operator pg_cast pg_language pg_foreign_server
pg_foreign_data_wrapper pg_aggregate pg_opclass pg_opfamily pg_amop pg_amproc pg_conversion
pg_default_acl pg_init_privs pg_seclabel pg_shseclabel pg_subscription pg_transform pg_ts_config pg_ts_dict
pg_ts_parser pg_ts_template pg_user_mapping pg_largeobject_metadata pg_db_role_setting pg_shdepend
pg_stat_database pg_prepared_xacts pg_replication_slots pg_stat_replication pg_timezone_names pg_timezone_abbrevs
pg_available_extensions pg_statistic_ext_data pg_stats pg_policies pg_rules pg_group pg_shadow pg_seclabels
pg_user_mappings pg_parameter_acl""".split()
INFO = """schemata tables columns views sequences table_constraints key_column_usage
referential_constraints constraint_column_usage check_constraints routines parameters
character_sets domains triggers element_types enabled_roles applicable_roles
role_table_grants table_privileges column_privileges usage_privileges role_column_grants role_usage_grants
administrable_role_authorizations""".split()


def main() -> None:
    conn = psycopg.connect(sys.argv[1], autocommit=True)
    out = []
    out.append('"""PostgreSQL 15\'s system relations: oids and columns (generated from a real PostgreSQL 15 by\n'
               'tests/catalog_system/generate_columns.py; do not edit by hand).\n\n'
               'Each entry: (schema, relation name, pg_class oid, relkind, ((column, type oid, typmod), ...)).\n'
               'Types pgaurora has no codec for are mapped to the nearest one it has (domains of\n'
               'information_schema to their base types, pg_ndistinct/pg_mcv_list and pseudo-types to text).\n"""\n')
    out.append("SYSTEM_RELATIONS: tuple[tuple[str, str, int, str, tuple[tuple[str, int, int], ...]], ...] = (")
    for schema, names in (("pg_catalog", PG_CATALOG), ("information_schema", INFO)):
        for name in names:
            cur = conn.execute("""select c.oid, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                  where n.nspname = %s and c.relname = %s""", (schema, name))
            row = cur.fetchone()
            if row is None:
                print("missing", schema, name, file=sys.stderr)
                continue
            oid, relkind = row
            cols = conn.execute("""select a.attname, a.atttypid, a.atttypmod, t.typtype, t.typbasetype, t.typtypmod
                                   from pg_attribute a join pg_type t on t.oid = a.atttypid
                                   where a.attrelid = %s and a.attnum > 0 and not a.attisdropped order by a.attnum""",
                                (oid,)).fetchall()
            parts = []
            for attname, typid, typmod, typtype, base, basemod in cols:
                if typtype == "d":
                    typid, typmod = base, basemod
                if datatypes.find(typid) is None or typtype == "p":  # pseudo-types (anyarray) as text
                    typid, typmod = 25, -1
                parts.append(f"({attname!r}, {typid}, {typmod})")
            body = ", ".join(parts)
            out.append(f"    ({schema!r}, {name!r}, {oid}, {relkind!r}, ({body},)),")
    out.append(")")
    print("\n".join(out))


if __name__ == "__main__":
    main()
