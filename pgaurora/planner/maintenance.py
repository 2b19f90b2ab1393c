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
from pgaurora.executor.maintenance import Analyze, Vacuum
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
