"""ALTER TABLE ... ADD [CONSTRAINT name] {UNIQUE | PRIMARY KEY} USING INDEX index: an existing
unique index becomes the constraint's index, renamed to the constraint's name, with PostgreSQL's
checks (parse_utilcmd.c transformIndexConstraint) and their SQLSTATEs."""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import Constraint, Index, Table
from pgaurora.errors import (
    DuplicateTable,
    ObjectNotInPrerequisiteState,
    UndefinedObject,
    WrongObjectType,
)

_DETAIL = "Cannot create a primary key or unique constraint using such an index."


def adopt_index(ddl: Any, table: Table, con: dict[str, Any], constraints: list[Constraint],
                taken: set[str]) -> tuple[Constraint, Index, str | None]:
    """The constraint, the index it adopts, and the NOTICE of its renaming (None if the name stays)."""
    name = con["indexname"]
    pos = ddl.pos(con.get("location"))
    index = ddl.qc.catalog.relations.get((table.schema_oid, name))
    if not isinstance(index, Index):
        raise UndefinedObject(f'index "{name}" does not exist', position=pos)
    if index.table_oid != table.oid:
        raise ObjectNotInPrerequisiteState(f'index "{name}" does not belong to table "{table.name}"', position=pos)
    if any(c.index_oid == index.oid for c in constraints):
        raise ObjectNotInPrerequisiteState(f'index "{name}" is already associated with a constraint', position=pos)
    if not index.unique:
        raise WrongObjectType(f'"{name}" is not a unique index', detail=_DETAIL, position=pos)
    if index.expressions and any(index.expressions):
        raise WrongObjectType(f'index "{name}" contains expressions', detail=_DETAIL, position=pos)
    if index.predicate is not None:
        raise WrongObjectType(f'"{name}" is a partial index', detail=_DETAIL, position=pos)
    for k, desc in enumerate(index.descending, start=1):
        if desc:
            raise WrongObjectType(f'index "{name}" column number {k} does not have default sorting behavior',
                                  detail=_DETAIL, position=pos)
    primary = con["contype"] == "CONSTR_PRIMARY"
    if primary and any(c.kind == "p" for c in constraints):
        from pgaurora.errors import InvalidTableDefinition

        raise InvalidTableDefinition(f'multiple primary keys for table "{table.name}" are not allowed',
                                     position=pos)
    constraint_name = con.get("conname") or name
    notice = None
    if constraint_name != name:
        if constraint_name in taken:
            raise DuplicateTable(f'relation "{constraint_name}" already exists')
        taken.add(constraint_name)
        notice = f'ALTER TABLE / ADD CONSTRAINT USING INDEX will rename index "{name}" to "{constraint_name}"'
    constraint = Constraint(constraint_name, "p" if primary else "u", index.columns, index_oid=index.oid,
                            deferrable=bool(con.get("deferrable")), deferred=bool(con.get("initdeferred")))
    return constraint, index, notice
