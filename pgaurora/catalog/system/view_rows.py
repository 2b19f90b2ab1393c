"""Rows of PostgreSQL's convenience views in pg_catalog: pg_tables, pg_views, pg_matviews,
pg_indexes, pg_sequences.

Owns these views' rows, computed from the catalog as PostgreSQL's system_views.sql defines
them. Not the base catalogs (class_rows), not information_schema (information_schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.model import Index, Sequence, View
from pgaurora.catalog.system import describe
from pgaurora.catalog.system.relations import RELATIONS, SystemContext, producer


def owner_name(sc: SystemContext, oid: int) -> str:
    for role in sc.state.roles.values():
        if role.oid == oid:
            return role.name
    return "postgres"


@producer("pg_tables")
def pg_tables(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for table in sc.state.tables():
        if table.kind not in ("r", "p"):
            continue
        yield {"schemaname": describe.schema_name(sc.state, table.schema_oid), "tablename": table.name,
               "tableowner": owner_name(sc, table.owner), "tablespace": None,
               "hasindexes": bool(sc.state.indexes(table.oid)), "hasrules": False,
               "hastriggers": any(c.kind == "f" for c in table.constraints), "rowsecurity": False}
    for rel in RELATIONS.values():
        if rel.relkind == "r":
            yield {"schemaname": rel.schema, "tablename": rel.name, "tableowner": "postgres",
                   "hasindexes": False, "hasrules": False, "hastriggers": False, "rowsecurity": False}


@producer("pg_views")
def pg_views(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for obj in sc.state.by_oid.values():
        if isinstance(obj, View):
            yield {"schemaname": describe.schema_name(sc.state, obj.schema_oid), "viewname": obj.name,
                   "viewowner": owner_name(sc, obj.owner), "definition": describe.view_definition(obj.query, obj.column_names, pretty=False)}
    for rel in RELATIONS.values():
        if rel.relkind == "v":
            yield {"schemaname": rel.schema, "viewname": rel.name, "viewowner": "postgres", "definition": None}


@producer("pg_matviews")
def pg_matviews(sc: SystemContext) -> Iterator[dict[str, Any]]:
    namer = describe.relation_namer(sc.state)
    for table in sc.state.tables():
        if table.kind == "m" and table.query is not None:
            names = tuple(c.name for c in table.live_columns())
            yield {"schemaname": describe.schema_name(sc.state, table.schema_oid), "matviewname": table.name,
                   "matviewowner": owner_name(sc, table.owner), "tablespace": None,
                   "hasindexes": bool(sc.state.indexes(table.oid)), "ispopulated": table.populated,
                   "definition": describe.view_definition(table.query, names, namer, pretty=False)}


@producer("pg_indexes")
def pg_indexes(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for obj in sc.state.by_oid.values():
        if isinstance(obj, Index):
            table = sc.state.table(obj.table_oid)
            yield {"schemaname": describe.schema_name(sc.state, obj.schema_oid),
                   "tablename": table.name if table is not None else None, "indexname": obj.name,
                   "tablespace": None, "indexdef": describe.index_definition(sc.state, obj)}


@producer("pg_sequences")
def pg_sequences(sc: SystemContext) -> Iterator[dict[str, Any]]:
    catalog = getattr(sc.ctx, "catalog", None)
    runtime = getattr(catalog, "sequences", {})
    for obj in sc.state.by_oid.values():
        if isinstance(obj, Sequence):
            state = runtime.get(obj.oid)
            last = state[0] if state is not None and state[1] else None
            yield {"schemaname": describe.schema_name(sc.state, obj.schema_oid), "sequencename": obj.name,
                   "sequenceowner": owner_name(sc, obj.owner), "data_type": obj.type_oid, "start_value": obj.start,
                   "min_value": obj.min_value, "max_value": obj.max_value, "increment_by": obj.increment,
                   "cycle": obj.cycle, "cache_size": obj.cache, "last_value": last}

