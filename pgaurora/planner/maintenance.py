"""Planning VACUUM: its options and the tables it names.

Owns turning a VacuumStmt with is_vacuumcmd into an executor.maintenance.Vacuum node (ANALYZE
alone stays a no-op in planner.planner). Not running it (executor.maintenance).

    VACUUM                       every table and materialized view of the database
    VACUUM t, u                  those (a partitioned table: its partitions too)
    VACUUM (VERBOSE, ...) t      PostgreSQL's option names are accepted; FULL, FREEZE and the
                                 others run the same vacuum with index cleanup
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import Table
from pgaurora.errors import SyntaxError_, UndefinedTable
from pgaurora.executor.maintenance import Vacuum
from pgaurora.planner.ddl import DdlPlanner

VACUUM_OPTIONS = frozenset({
    "verbose", "analyze", "full", "freeze", "skip_locked", "disable_page_skipping", "index_cleanup",
    "truncate", "process_toast", "parallel",
})


def plan_vacuum(ddl: DdlPlanner, body: dict[str, Any]) -> Vacuum:
    for option in body.get("options", ()):
        element = option.get("DefElem", {})
        name = element.get("defname", "")
        if name not in VACUUM_OPTIONS:
            raise SyntaxError_(f'unrecognized VACUUM option "{name}"', position=ddl.pos(element.get("location")))
    rels = body.get("rels", ())
    if not rels:
        return Vacuum((), all_tables=True)
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
    return Vacuum(tuple(oids))
