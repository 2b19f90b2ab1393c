"""pg_depend and pg_rewrite: which object needs which, as PostgreSQL records it.

Owns the dependency rows derived from pgaurora's catalog (which keeps the facts inside each
definition rather than in a dependency table) and the `_RETURN` rewrite rule each view has.
pg_dump sorts its output by these rows: a serial column's default must come after its sequence
(deptype n from the pg_attrdef row to the sequence, which pg_dump breaks out into
`ALTER TABLE ONLY ... SET DEFAULT`), a view after the tables its rule reads, and an identity
column's sequence (deptype i) is written as `ADD GENERATED ... AS IDENTITY`.

    deptype  a  auto: the sequence owned by a serial column, a constraint / default on its column
             i  internal: an identity sequence, an index implementing a constraint, a view's rule
             n  normal: a default's sequence, a view rule's tables, a foreign key's referenced table,
                the tables a SQL-standard function body (RETURN / BEGIN ATOMIC) reads or writes
             P/S  partition: a partition's index on the partitioned index (P) and on its table (S);
             a partition on its partitioned table is `a`; a materialized view has a rule like a view
Not the other catalogs (class_rows), not the definition texts (describe).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.model import Function, Index, Sequence, Table, View
from pgaurora.catalog.state import CatalogState
from pgaurora.catalog.system import describe
from pgaurora.catalog.system.class_rows import attrdef_oid, referenced_index
from pgaurora.catalog.system.relations import SystemContext, producer

PG_CLASS, PG_NAMESPACE, PG_ATTRDEF, PG_CONSTRAINT, PG_REWRITE, PG_PROC = 1259, 2615, 2604, 2606, 2618, 1255


def rule_oid(view_oid: int) -> int:
    """A view's _RETURN rule has no oid of its own in pgaurora's catalog: derive a stable one
    (attrdef_oid uses the same space below 1600 columns)."""
    return (view_oid << 11) + 2000


def _dep(classid: int, objid: int, refclassid: int, refobjid: int, refobjsubid: int, deptype: str) -> dict[str, Any]:
    return {"classid": classid, "objid": objid, "objsubid": 0, "refclassid": refclassid, "refobjid": refobjid,
            "refobjsubid": refobjsubid, "deptype": deptype}


def view_relations(state: CatalogState, query: str) -> list[tuple[int, int]]:
    """(relation oid, attnum) pairs a view's query reads, as PostgreSQL's rule dependencies: each
    column of a table the query mentions, or the relation itself (0) when it names none of them."""
    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(query))
    except Exception:  # noqa: BLE001 - a stored query pglast cannot parse depends on nothing we know
        return []
    ctes: set[str] = set()
    found: list[Any] = []
    names: set[str] = set()
    star = False

    def visit(node: Any) -> None:
        nonlocal star
        if isinstance(node, dict):
            ref = node.get("ColumnRef")
            if ref is not None:
                last = ref.get("fields", [{}])[-1]
                if "A_Star" in last:
                    star = True
                elif "String" in last:
                    names.add(last["String"]["sval"])
            cte = node.get("CommonTableExpr")
            if cte is not None:
                ctes.add(cte.get("ctename", ""))
            rv = node.get("RangeVar") or (node if "relname" in node else None)  # (INSERT's target is bare)
            if rv is not None:
                schema = rv.get("schemaname")
                name = rv.get("relname", "")
                if schema is None and name in ctes:
                    return
                rel = state.relation(name, schema) if schema else state.with_search_path(None).relation(name)
                if rel is not None and rel not in found:
                    found.append(rel)
                return
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit(tree)
    out: list[tuple[int, int]] = []
    for rel in found:
        attnums = [c.attnum for c in rel.columns if not c.dropped and (star or c.name in names)] \
            if isinstance(rel, Table) else []
        out.extend((rel.oid, a) for a in attnums) if attnums else out.append((rel.oid, 0))
    return out


@producer("pg_depend")
def pg_depend(sc: SystemContext) -> Iterator[dict[str, Any]]:
    state = sc.state
    identity = {(t.oid, c.attnum) for t in state.tables() for c in t.columns if c.identity}
    for obj in list(state.by_oid.values()):
        if isinstance(obj, Sequence | Table | View):
            yield _dep(PG_CLASS, obj.oid, PG_NAMESPACE, obj.schema_oid, 0, "n")
        if isinstance(obj, Sequence) and obj.owned_by[0]:
            yield _dep(PG_CLASS, obj.oid, PG_CLASS, obj.owned_by[0], obj.owned_by[1],
                       "i" if obj.owned_by in identity else "a")
        elif isinstance(obj, Table) and obj.partition_of:  # a partition needs its partitioned table
            yield _dep(PG_CLASS, obj.oid, PG_CLASS, obj.partition_of, 0, "a")
        elif isinstance(obj, Index) and obj.parent_index:  # partition index: P on its parent, S on its table
            yield _dep(PG_CLASS, obj.oid, PG_CLASS, obj.parent_index, 0, "P")
            yield _dep(PG_CLASS, obj.oid, PG_CLASS, obj.table_oid, 0, "S")
        if isinstance(obj, View) or (isinstance(obj, Table) and obj.kind == "m" and obj.query is not None):
            rule = rule_oid(obj.oid)
            assert obj.query is not None
            for oid, attnum in view_relations(state, obj.query):
                yield _dep(PG_REWRITE, rule, PG_CLASS, oid, attnum, "n")
            yield _dep(PG_REWRITE, rule, PG_CLASS, obj.oid, 0, "n")
            yield _dep(PG_REWRITE, rule, PG_CLASS, obj.oid, 0, "i")
        if isinstance(obj, Function) and obj.sql_body:
            for oid, attnum in view_relations(state, obj.body):
                yield _dep(PG_PROC, obj.oid, PG_CLASS, oid, attnum, "n")
    for table in state.tables():
        for c in table.columns:
            if c.generated is not None and not c.dropped:  # the generation expression, on its column
                yield _dep(PG_ATTRDEF, attrdef_oid(table.oid, c.attnum), PG_CLASS, table.oid, c.attnum, "a")
                continue
            if c.default is None or c.dropped or c.identity:
                continue
            adoid = attrdef_oid(table.oid, c.attnum)
            yield _dep(PG_ATTRDEF, adoid, PG_CLASS, table.oid, c.attnum, "a")
            for literal in describe.regclass_literals(c.default):
                rel = describe.stored_relation(state, literal)
                if rel is not None:
                    yield _dep(PG_ATTRDEF, adoid, PG_CLASS, rel.oid, 0, "n")
        for con in table.constraints:
            if con.index_oid:
                yield _dep(PG_CLASS, con.index_oid, PG_CONSTRAINT, con.oid, 0, "i")
            for attnum in con.columns:
                yield _dep(PG_CONSTRAINT, con.oid, PG_CLASS, table.oid, attnum, "a")
            if con.kind == "f" and con.ref_table:
                # the referenced key's unique index: pg_restore -j creates the key before the FK
                index_oid = referenced_index(sc, con)
                if index_oid:
                    yield _dep(PG_CONSTRAINT, con.oid, PG_CLASS, index_oid, 0, "n")
                for attnum in con.ref_columns:
                    yield _dep(PG_CONSTRAINT, con.oid, PG_CLASS, con.ref_table, attnum, "n")
        for index in state.indexes(table.oid):
            if not any(con.index_oid == index.oid for con in table.constraints):
                for attnum in index.columns:
                    yield _dep(PG_CLASS, index.oid, PG_CLASS, table.oid, attnum, "a")


@producer("pg_rewrite")
def pg_rewrite(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for obj in sc.state.by_oid.values():
        if isinstance(obj, View) or (isinstance(obj, Table) and obj.kind == "m"):
            yield {"oid": rule_oid(obj.oid), "rulename": "_RETURN", "ev_class": obj.oid, "ev_type": "1",
                   "ev_enabled": "O", "is_instead": True}
