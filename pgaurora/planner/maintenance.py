"""Planning VACUUM and ANALYZE: their options and the tables (and columns) they name.

Owns turning a VacuumStmt into an executor.maintenance.Vacuum node (is_vacuumcmd; with the
ANALYZE option it gathers statistics afterwards) or an Analyze node. Not running them
(executor.maintenance).

    VACUUM                       every table and materialized view of the database
    VACUUM t, u                  those (a partitioned table: its partitions too)
    VACUUM (VERBOSE, ...) t      PostgreSQL's option names are accepted; FULL, FREEZE and the
                                 others run the same vacuum with index cleanup
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import Table
from pgaurora.errors import SyntaxError_, UndefinedColumn, UndefinedTable
from pgaurora.executor.maintenance import Analyze, Reindex, Vacuum
from pgaurora.planner.ddl import DdlPlanner

VACUUM_OPTIONS = frozenset({
    "verbose", "analyze", "full", "freeze", "skip_locked", "disable_page_skipping", "index_cleanup",
    "truncate", "process_toast", "parallel",
})


def _check_options(ddl: DdlPlanner, body: dict[str, Any], known: frozenset[str], command: str) -> None:
    """42601 for an option `command` does not know, at its position, as PostgreSQL."""
    for option in body.get("options", ()):
        element = option.get("DefElem", {})
        name = element.get("defname", "")
        if name not in known:
            raise SyntaxError_(f'unrecognized {command} option "{name}"', position=ddl.pos(element.get("location")))


def plan_vacuum(ddl: DdlPlanner, body: dict[str, Any]) -> Vacuum:
    _check_options(ddl, body, VACUUM_OPTIONS, "VACUUM")
    analyze = any(o.get("DefElem", {}).get("defname") == "analyze" for o in body.get("options", ()))
    rels = body.get("rels", ())
    if not rels:
        return Vacuum((), all_tables=True, analyze=analyze)
    catalog = ddl.qc.catalog
    oids: list[int] = []
    for entry in rels:
        relation = entry["VacuumRelation"]["relation"]
        rel = catalog.relation(relation["relname"], relation.get("schemaname"))
        if rel is None:
            raise UndefinedTable(f'relation "{relation["relname"]}" does not exist')
        if isinstance(rel, Table):
            oids.append(rel.oid)
            oids.extend(p.oid for p in catalog.partitions(rel.oid))
    return Vacuum(tuple(oids), analyze=analyze)


ANALYZE_OPTIONS = frozenset({"verbose", "skip_locked"})


def plan_analyze(ddl: DdlPlanner, body: dict[str, Any]) -> Analyze:
    """ANALYZE [ (options) ] [ table [ (column, ...) ] [, ...] ]"""
    _check_options(ddl, body, ANALYZE_OPTIONS, "ANALYZE")
    rels = body.get("rels", ())
    if not rels:
        return Analyze((), all_tables=True)
    catalog = ddl.qc.catalog
    tables: list[tuple[int, tuple[int, ...]]] = []
    for entry in rels:
        vr = entry["VacuumRelation"]
        relation = vr["relation"]
        rel = catalog.relation(relation["relname"], relation.get("schemaname"))
        if rel is None:
            raise UndefinedTable(f'relation "{relation["relname"]}" does not exist')
        if not isinstance(rel, Table):
            continue  # PostgreSQL skips it with a WARNING
        attnums: list[int] = []
        for item in vr.get("va_cols", ()):
            name = item["String"]["sval"]
            column = rel.column(name)
            if column is None:
                raise UndefinedColumn(f'column "{name}" of relation "{rel.name}" does not exist')
            attnums.append(column.attnum)
        tables.append((rel.oid, tuple(attnums)))
        tables.extend((p.oid, tuple(attnums)) for p in catalog.partitions(rel.oid))
    return Analyze(tuple(tables))


def plan_reindex(ddl: DdlPlanner, body: dict[str, Any]) -> Reindex:
    """REINDEX { INDEX | TABLE | SCHEMA | DATABASE | SYSTEM } [CONCURRENTLY] name: the indexes to
    rebuild, with the key specs of expression and partial ones (system catalogs have no B-trees
    here: REINDEX SYSTEM rebuilds nothing)."""
    from pgaurora.catalog.model import Index
    from pgaurora.errors import UndefinedObject, WrongObjectType
    from pgaurora.planner.indexexpr import index_key_spec

    catalog = ddl.qc.catalog
    kind = body.get("kind", "")
    tables: list[Table] = []
    only: Index | None = None
    if kind in ("REINDEX_OBJECT_INDEX", "REINDEX_OBJECT_TABLE"):
        rel = body["relation"]
        found = catalog.relation(rel["relname"], rel.get("schemaname"))
        if found is None:
            raise UndefinedTable(f'relation "{rel["relname"]}" does not exist')
        if kind == "REINDEX_OBJECT_INDEX":
            if not isinstance(found, Index):
                raise WrongObjectType(f'"{rel["relname"]}" is not an index')
            only = found
            table = catalog.table(found.table_oid)
            tables = [table] if table is not None else []
        else:
            if not isinstance(found, Table) or found.kind == "v":
                raise WrongObjectType(f'"{rel["relname"]}" is not a table or materialized view')
            tables = [found, *catalog.partitions(found.oid)]
    elif kind == "REINDEX_OBJECT_SCHEMA":
        schema = catalog.schemas.get(body["name"])
        if schema is None:
            raise UndefinedObject(f'schema "{body["name"]}" does not exist', sqlstate="3F000")
        tables = [t for t in catalog.tables() if t.schema_oid == schema.oid]
    elif kind == "REINDEX_OBJECT_DATABASE":
        if body.get("name") and body["name"] not in catalog.databases:
            raise UndefinedObject(f'database "{body["name"]}" does not exist', sqlstate="3D000")
        tables = [t for t in catalog.tables() if t.schema_oid != 11]
    targets = []
    for table in tables:
        for ix in catalog.indexes(table.oid):
            if only is not None and ix.oid != only.oid:
                continue
            targets.append((table.oid, ix.oid, index_key_spec(catalog, table, ix)))
    return Reindex(tuple(targets))

