"""CREATE TABLE t (LIKE source [INCLUDING ... | EXCLUDING ...]): copying another table's definition.

Owns what each INCLUDING option copies, as PostgreSQL's transformTableLikeClause does: column
names, types, typmods and NOT NULL always; DEFAULTS (the same expression text, so a serial's
default keeps using the source's sequence), GENERATED (generation expressions; otherwise the
column is an ordinary one), IDENTITY (a new sequence for the new table), CONSTRAINTS (CHECK
constraints keep their names) and INDEXES (primary key, unique and plain indexes, named after the
new table: t_pkey, t_a_key, t_a_idx). Not the rest of CREATE TABLE (planner.ddl).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog.model import Column, Constraint, Table
from pgaurora.errors import DuplicateColumn, UndefinedTable, WrongObjectType
from pgaurora.executor.ddl import IndexDef

# CreateStmt's TableLikeOption bits (PostgreSQL 15's parsenodes.h)
LIKE_CONSTRAINTS = 1 << 2
LIKE_DEFAULTS = 1 << 3
LIKE_GENERATED = 1 << 4
LIKE_IDENTITY = 1 << 5
LIKE_INDEXES = 1 << 6


@dataclass(slots=True)
class LikeResult:
    columns: list[Column]
    checks: list[Constraint]
    indexes: list[IndexDef]


def _unique_name(taken: set[str], base: str, suffix: str) -> str:
    from pgaurora.planner.ddl import _unique_name as choose

    return choose(taken, base, suffix)


def _figure(expression: str) -> str:
    """The name part PostgreSQL derives from an index expression ('lower', 'expr')."""
    import pglast

    from pgaurora.planner.indexexpr import figure_name

    return figure_name(pglast.parse_sql(f"SELECT {expression}")[0].stmt.targetList[0].val)


def like_clause(ddl: Any, clause: dict[str, Any], table_name: str, existing: list[Column],
                seqs: list[tuple[Any, ...]], taken: set[str]) -> LikeResult:
    """The columns (numbered after `existing`), CHECKs and index definitions one LIKE clause adds."""
    relation = clause["relation"]
    source = ddl.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
    if source is None:
        raise UndefinedTable(f'relation "{relation["relname"]}" does not exist',
                             position=ddl.pos(relation.get("location")))
    if not isinstance(source, Table):
        raise WrongObjectType(f'"{relation["relname"]}" is not a table, view, materialized view, composite type, '
                              f'or foreign table')
    options = int(clause.get("options", 0))
    out = LikeResult([], [], [])
    names = {c.name for c in existing}
    for col in source.live_columns():
        if col.name in names:
            raise DuplicateColumn(f'column "{col.name}" specified more than once')
        names.add(col.name)
        attnum = len(existing) + len(out.columns) + 1
        new = Column(col.name, col.type_oid, col.typmod, not_null=col.not_null, attnum=attnum)
        if col.default is not None and not col.identity and options & LIKE_DEFAULTS:
            new = replace(new, default=col.default)
        if col.generated is not None and options & LIKE_GENERATED:
            new = replace(new, generated=col.generated)
        if col.identity and options & LIKE_IDENTITY:
            new = replace(new, identity=col.identity)
            seq_name = _unique_name(taken, f"{table_name}_{col.name}", "seq")
            source_seq = next((s for s in ddl.qc.catalog.owned_sequences(source.oid) if s.owned_by[1] == col.attnum),
                              None)
            # the identity's sequence options come along (its current value does not)
            seqs.append((seq_name, attnum, replace(source_seq, name=seq_name)) if source_seq is not None
                        else (seq_name, attnum))
        out.columns.append(new)
    if options & LIKE_CONSTRAINTS:
        out.checks.extend(Constraint(c.name, "c", check=c.check) for c in source.constraints
                          if c.kind == "c" and c.check)
    if options & LIKE_INDEXES:
        out.indexes.extend(copy_indexes(ddl.qc.catalog, source, table_name, taken))
    return out


def copy_indexes(state: Any, source: Table, table_name: str, taken: set[str],
                 link: bool = False) -> list[IndexDef]:
    """Definitions of `source`'s indexes for a new table `table_name` (LIKE ... INCLUDING INDEXES, and
    a new partition's copies of its parent's indexes, which `link` ties to them), named after it:
    t_pkey, t_a_key (a unique constraint), t_a_idx (any other index), as PostgreSQL's ChooseIndexName."""
    by_attnum = {c.attnum: c.name for c in source.columns}
    constraint_indexes = {c.index_oid: c for c in source.constraints if c.kind in ("p", "u")}
    out = []
    for ix in state.indexes(source.oid):
        cols = tuple(by_attnum.get(a, "") for a in ix.columns)
        figured = tuple(_figure(ix.expressions[k]) if ix.expressions and ix.expressions[k] else c
                        for k, c in enumerate(cols))
        is_constraint = ix.oid in constraint_indexes
        if ix.primary:
            name = _unique_name(taken, table_name, "pkey")
        else:
            name = _unique_name(taken, f"{table_name}_{'_'.join(figured)}", "key" if is_constraint else "idx")
        out.append(IndexDef(name, cols, ix.unique, ix.primary, is_constraint, ix.expressions, ix.predicate,
                            (ix.schema_oid, ix.name) if link else None, ix.nulls_not_distinct, ix.method,
                            ix.descending, ix.nulls_first, ix.attributes,
                            tuple(by_attnum.get(a, "") for a in ix.include), ix.opclasses, ix.options,
                            is_constraint and constraint_indexes[ix.oid].deferrable,
                            is_constraint and constraint_indexes[ix.oid].deferred))
    return out


__all__ = ["like_clause", "LikeResult", "copy_indexes"]
