"""pgaurora.catalog.system — PostgreSQL's system catalogs as clients see them: pg_catalog relations,
information_schema views and the system information functions, computed from pgaurora's catalog.

Files:
    columns.py             PostgreSQL 15's system relations: oids, relkinds, columns (generated)
    relations.py           SystemRelation registry, name lookup, row production, caching, indexes
    class_rows.py          pg_namespace, pg_class, pg_attribute, pg_index, pg_constraint, pg_attrdef, ...
    object_rows.py         pg_type, pg_proc, pg_roles/pg_authid/pg_user, pg_database, pg_settings, ...
    settings_table.py      PostgreSQL 15's facts about each configuration parameter (generated)
    view_rows.py           pg_tables, pg_views, pg_matviews, pg_indexes, pg_sequences
    information_schema.py  schemata, tables, columns, views, sequences, constraints and key usage
    privilege_views.py     information_schema's table/column/usage privileges, role_*_grants, enabled_roles, ...
    visibility.py          which of information_schema's rows current_user sees; system relations' and schemas' ACLs
    dependencies.py        pg_depend and pg_rewrite (views' _RETURN rules): the order pg_dump writes objects in
    describe.py            definition texts (ruleutils.c): defaults, index/constraint/view definitions
    exprtext.py            operator expressions' parentheses as ruleutils prints them (pretty or not)
    regtypes.py            regclass / regnamespace / regrole / regproc input and output casts
    functions.py           pg_get_*def, pg_table_is_visible, has_*_privilege, version(), ...
    notifications.py       pg_notify(), pg_listening_channels() over the session's LISTEN/NOTIFY state
    snapshots.py           pg_export_snapshot() and SET TRANSACTION SNAPSHOT's import (pg_dump -j)
    partitions.py          pg_partitioned_table, pg_inherits, relpartbound, pg_get_partkeydef
    privileges.py          acldefault(), aclexplode(), pg_options_to_table() (what pg_dump reads acls with)
    rowsecurity.py         pg_policy, pg_policies, row_security_active() and the policies' run-time tests
    stats_rows.py          pg_stats: what ANALYZE stored (catalog.statistics), as PostgreSQL shows it
    activity.py            pg_locks, pg_stat_activity (every session of the instance), pg_cancel_backend

Seams: the planner calls `lookup_relation(name, schema)` when a RangeVar names no user relation
and plans a SystemScan; the executor calls `relation_rows(schema, name, ctx)` (and
`relation_index` for `column = value` quals); the planner's
coerce asks `reg_cast(source, target)` for casts to and from the reg* types. Importing this
package registers the functions with catalog.builtins. Relations pgaurora has no data for
(pg_cast, pg_rewrite, ...) exist with PostgreSQL's columns
and no rows.
"""

from pgaurora.catalog.system import (  # noqa: F401  (importing registers producers and functions)
    activity,
    class_rows,
    dependencies,
    functions,
    information_schema,
    notifications,
    object_rows,
    partitions,
    privilege_views,
    privileges,
    rowsecurity,
    snapshots,
    stats_rows,
    view_rows,
)
from pgaurora.catalog.system.regtypes import CAST_OIDS, REG_OIDS, RegName, reg_cast
from pgaurora.catalog.system.relations import (
    SEQUENCE_DATA,
    SystemRelation,
    lookup_relation,
    relation_index,
    relation_rows,
)

__all__ = ["CAST_OIDS", "REG_OIDS", "SEQUENCE_DATA", "RegName", "SystemRelation", "lookup_relation", "reg_cast",
           "relation_index", "relation_rows"]
