"""Materialized views: CREATE MATERIALIZED VIEW [WITH [NO] DATA] and REFRESH MATERIALIZED VIEW.

Owns analysing both statements. A materialized view is stored as a table of kind 'm' that keeps
its SELECT text (Table.query); reading it is reading that table (planner.fromclause refuses an
unpopulated one with 55000), DML on it is refused (planner.modify, 42809), DROP MATERIALIZED
VIEW is DROP of that kind (executor.ddlchange). Not running them (executor.ddl CreateTable,
executor.matview RefreshMatView).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from pgaurora.catalog.model import Table
from pgaurora.errors import FeatureNotSupported, ObjectNotInPrerequisiteState, UndefinedTable, WrongObjectType
from pgaurora.executor.ddl import CreateTable
from pgaurora.executor.matview import RefreshMatView
from pgaurora.executor.plannodes import PlanNode
from pgaurora.planner.scope import Scope
from pgaurora.planner.select import SelectPlanner

_WITH_DATA = re.compile(r"\s+with\s+(no\s+)?data\s*$", re.IGNORECASE)


def create_matview(ddl: Any, body: dict[str, Any]) -> tuple[PlanNode, str]:
    """CREATE MATERIALIZED VIEW name [(columns)] AS query [WITH [NO] DATA]."""
    node, _ = ddl.create_table_as(body)
    assert isinstance(node, CreateTable)
    text = _WITH_DATA.sub("", ddl.query_text(body["query"]))
    if node.as_query is None:
        node = replace(node, tag="CREATE MATERIALIZED VIEW", populated=False)
    return replace(node, kind="m", query=text), "SELECT"


def refresh_matview(ddl: Any, body: dict[str, Any]) -> PlanNode:
    """REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH [NO] DATA]."""
    relation = body["relation"]
    name = relation["relname"]
    rel = ddl.qc.catalog.relation(name, relation.get("schemaname"))
    if rel is None:
        raise UndefinedTable(f'relation "{name}" does not exist', position=ddl.pos(relation.get("location")))
    if not isinstance(rel, Table):
        raise WrongObjectType(f'"{name}" is not a table or materialized view')
    if rel.kind != "m" or rel.query is None:
        raise FeatureNotSupported(f'"{name}" is not a materialized view')
    skip = bool(body.get("skipData"))
    if body.get("concurrent"):
        if skip:
            raise FeatureNotSupported("CONCURRENTLY and WITH NO DATA options cannot be used together",
                                      sqlstate="42601")
        if not rel.populated:
            raise FeatureNotSupported("CONCURRENTLY cannot be used when the materialized view is not populated")
        if not any(ix.unique for ix in ddl.qc.catalog.indexes(rel.oid)):
            schema = next((s.name for s in ddl.qc.catalog.schemas.values() if s.oid == rel.schema_oid), "public")
            raise ObjectNotInPrerequisiteState(
                f'cannot refresh materialized view "{schema}.{name}" concurrently',
                hint="Create a unique index with no WHERE clause on one or more columns of the materialized view.")
    query = None
    if not skip:
        planned = SelectPlanner(ddl.qc).plan_query(ddl.qc.parse_view(rel.query), Scope(ddl.qc.state))
        query = planned.node
    return RefreshMatView(rel.oid, query)


__all__ = ["create_matview", "refresh_matview"]
