"""Declarative partitioning: PARTITION BY RANGE / LIST / HASH, PARTITION OF ... FOR VALUES, and planning over partitions.

Owns analysing the DDL (partition keys, bounds decoded to the key's types, PostgreSQL's 42P17 /
42P16 checks: overlapping bounds, empty ranges, a second DEFAULT), and the plans of statements
on a partitioned table:

    SELECT FROM m         ->  Append (UNION ALL) of the partitions' scans; quals are pushed into
                              each scan, then `prune` drops partitions whose bound contradicts a
                              constant qual on the key (m.k = 5, m.k < 10, m.k IS NULL), and
                              guards the scan with a run-time check for m.k = $1 (PartitionGuard)
    INSERT / COPY INTO m  ->  RoutedInsert: each row to the partition that holds its key
    UPDATE / DELETE m     ->  MultiModify of the same statement on each partition (an UPDATE of
                              the key moves rows: `row_movement`)
    ALTER TABLE m ATTACH / DETACH PARTITION c  ->  SetPartition (rows checked, indexes given)

A partition is an ordinary table with the parent's columns (and CHECK constraints); its bound is
kept as JSON text in the catalog (Table.partition_bound) with values in their text form.
An index of the partitioned table is an empty index of its own plus one per partition tied to it
(Index.parent_index); a unique one must contain the partition key (unique per partition is then
unique overall). HASH partitions use PostgreSQL's own hash (executor.partitionhash), for integer
and string keys. Not supported (0A000): other HASH key types, expression keys, sub-partitioning,
pruning on keys of several columns. INSERT ... ON CONFLICT into a partitioned table arbitrates on
each partition's copy of the partitioned unique index (executor.partition); foreign keys on or
to partitioned tables are checked partition by partition (executor.foreignkeys).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pgaurora.catalog.model import Column, Constraint, Index, Table
from pgaurora.catalog.state import CatalogState
from pgaurora.datatypes import text_decoder, text_encoder
from pgaurora.errors import (
    DatatypeMismatch,
    FeatureNotSupported,
    InvalidObjectDefinition,
    InvalidTableDefinition,
    UndefinedColumn,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.ddl import CreateTable
from pgaurora.executor.expr import Const, Expr, FuncExpr, NullTest, Param, Var
from pgaurora.executor.modify import Insert, Update
from pgaurora.executor.partition import (
    MAX_RANK,
    MIN_RANK,
    VALUE_RANK,
    MultiModify,
    PartitionBound,
    PartitionGuard,
    PartitionTarget,
    RoutedInsert,
    SetPartition,
    bound_excludes,
)
from pgaurora.executor.plannodes import PlanNode, SeqScan, SetOp, SetOpKind, ValuesScan
from pgaurora.planner.exprbind import Level, bind
from pgaurora.planner.querycontext import conjuncts
from pgaurora.planner.resolve import coerce
from pgaurora.planner.scope import Scope

_STRATEGIES = {"PARTITION_STRATEGY_RANGE": "r", "PARTITION_STRATEGY_LIST": "l", "PARTITION_STRATEGY_HASH": "h"}
_WORDS = {"r": "range", "l": "list", "h": "hash"}


def _bound_error(message: str, detail: str | None = None) -> InvalidObjectDefinition:
    return InvalidObjectDefinition(message, detail=detail)


# ---- DDL ------------------------------------------------------------------------------------------
def partition_key(ddl: Any, spec: dict[str, Any], columns: list[Column]) -> tuple[tuple[str, Any], ...]:
    """PARTITION BY RANGE | LIST (columns): the Table fields of a partitioned table."""
    strategy = spec["strategy"]
    attnums = []
    for param in spec["partParams"]:
        elem = param["PartitionElem"]
        if "name" not in elem:
            raise FeatureNotSupported("partition keys on expressions are not supported",
                                      position=ddl.pos(elem.get("location")))
        col = next((c for c in columns if c.name == elem["name"] and not c.dropped), None)
        if col is None:
            raise UndefinedColumn(f'column "{elem["name"]}" named in partition key does not exist',
                                  position=ddl.pos(elem.get("location")))
        attnums.append(col.attnum)
        if _STRATEGIES[strategy] == "h":
            from pgaurora.datatypes import format_type
            from pgaurora.executor.partitionhash import check_hashable

            check_hashable(col.type_oid, format_type(col.type_oid, -1))
    if _STRATEGIES[strategy] == "l" and len(attnums) > 1:
        raise InvalidObjectDefinition('cannot use "list" partition strategy with more than one column')
    return (("kind", "p"), ("partition_strategy", _STRATEGIES[strategy]), ("partition_key", tuple(attnums)))


def _key_columns(parent: Table) -> list[Column]:
    by_attnum = {c.attnum: c for c in parent.columns}
    return [by_attnum[a] for a in parent.partition_key]


def _datum(ddl: Any, node: dict[str, Any], col: Column, is_range: bool) -> list[Any]:
    """One bound value as JSON: ["minvalue"], ["maxvalue"], [null] (list NULL) or ["value", text]."""
    if "ColumnRef" in node:
        word = node["ColumnRef"]["fields"][-1].get("String", {}).get("sval", "")
        if is_range and word in ("minvalue", "maxvalue"):
            return [word]
    if "A_Const" in node and node["A_Const"].get("isnull"):
        if is_range:
            raise _bound_error("cannot specify NULL in range bound")
        return [None]
    lv = Level(Scope(ddl.qc.state), ddl.qc.params, ddl.pos, lambda q, s: None, None, "partition bound")
    value = coerce(bind(node, lv), col.type_oid, col.typmod, "assignment", ddl.qc.params)
    if not isinstance(value, Const):
        raise FeatureNotSupported("partition bound values must be constants")
    if value.value is None:
        if is_range:
            raise _bound_error("cannot specify NULL in range bound")
        return [None]
    return ["value", text_encoder(col.type_oid)(value.value)]


def decode_bound(parent: Table, text: str) -> PartitionBound:
    """A partition's stored bound with its values in the key columns' types."""
    data = json.loads(text)
    if data.get("default"):
        return PartitionBound(default=True)
    cols = _key_columns(parent)
    if "modulus" in data:
        return PartitionBound(modulus=data["modulus"], remainder=data["remainder"],
                              hash_types=tuple(c.type_oid for c in cols))
    decoders = [text_decoder(c.type_oid, c.typmod) for c in cols]
    if "in" in data:
        return PartitionBound(values=tuple(None if d[0] is None else decoders[0](d[1]) for d in data["in"]))

    def ranked(datums: list[list[Any]]) -> tuple[tuple[int, Any], ...]:
        return tuple((MIN_RANK, 0) if d[0] == "minvalue" else (MAX_RANK, 0) if d[0] == "maxvalue"
                     else (VALUE_RANK, dec(d[1])) for d, dec in zip(datums, decoders, strict=True))

    return PartitionBound(lower=ranked(data["from"]), upper=ranked(data["to"]))


def _bound_text(datums: list[list[Any]]) -> str:
    return ", ".join("MINVALUE" if d[0] == "minvalue" else "MAXVALUE" if d[0] == "maxvalue" else str(d[1])
                     for d in datums)


def _check_hash_bound(state: CatalogState, parent: Table, name: str, bound: PartitionBound) -> None:
    """PostgreSQL's checks of a new hash partition: its modulus in the divisibility chain of the
    existing ones, and no remainder slot already taken."""
    m, r = bound.modulus, bound.remainder
    existing = sorted((b.modulus, b.remainder, p.name) for p in state.partitions(parent.oid)
                      for b in [decode_bound(parent, p.partition_bound or "{}")])
    if not existing:
        return
    offset = max((i for i, e in enumerate(existing) if (e[0], e[1]) <= (m, r)), default=-1)
    detail = None
    if offset < 0:
        if existing[0][0] % m:
            detail = f'The new modulus {m} is not a factor of {existing[0][0]}, the modulus of existing partition "{existing[0][2]}".'
    elif m % existing[offset][0]:
        detail = f'The new modulus {m} is not divisible by {existing[offset][0]}, the modulus of existing partition "{existing[offset][2]}".'
    elif offset + 1 < len(existing) and existing[offset + 1][0] % m:
        nxt = existing[offset + 1]
        detail = f'The new modulus {m} is not a factor of {nxt[0]}, the modulus of existing partition "{nxt[2]}".'
    if detail is not None:
        raise _bound_error("every hash partition modulus must be a factor of the next larger modulus", detail)
    greatest = max(e[0] for e in existing)
    slot = r % greatest
    while slot < greatest:
        owner = next((e for e in existing if slot % e[0] == e[1]), None)
        if owner is not None:
            raise _bound_error(f'partition "{name}" would overlap partition "{owner[2]}"')
        slot += m


def _check_overlap(state: CatalogState, parent: Table, name: str, bound: PartitionBound) -> None:
    if bound.modulus:
        _check_hash_bound(state, parent, name, bound)
        return
    for other in state.partitions(parent.oid):
        existing = decode_bound(parent, other.partition_bound or "{}")
        if bound.default and existing.default:
            raise _bound_error(f'partition "{name}" conflicts with existing default partition "{other.name}"')
        if bound.default or existing.default:
            continue
        if bound.values is not None and existing.values is not None:
            overlap = any(v in existing.values for v in bound.values)
        elif bound.lower is not None and existing.lower is not None:
            overlap = bound.lower < existing.upper and existing.lower < bound.upper  # type: ignore[operator]
        else:
            overlap = False
        if overlap:
            raise _bound_error(f'partition "{name}" would overlap partition "{other.name}"')


def create_partition(ddl: Any, body: dict[str, Any], name: str, schema_oid: int) -> CreateTable:
    """CREATE TABLE name PARTITION OF parent FOR VALUES ... | DEFAULT."""
    parents = body.get("inhRelations", ())
    if "partbound" not in body or len(parents) != 1:
        raise FeatureNotSupported("table inheritance is not supported")
    relation = parents[0]["RangeVar"]
    parent = ddl.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
    if not isinstance(parent, Table):
        raise UndefinedTable(f'relation "{relation["relname"]}" does not exist',
                             position=ddl.pos(relation.get("location")))
    if parent.kind != "p":
        raise _bound_error(f'"{parent.name}" is not partitioned')
    if body.get("partspec"):
        raise FeatureNotSupported("sub-partitioning is not supported")
    if any("ColumnDef" in e for e in body.get("tableElts", ())):
        raise FeatureNotSupported("column definitions in PARTITION OF are not supported")
    text, _bound = _bound_of(ddl, parent, body["partbound"], name)
    checks = tuple(Constraint(c.name, "c", check=c.check) for c in parent.constraints if c.kind == "c")
    columns = tuple(dataclasses.replace(c, identity="") for c in parent.columns)
    from pgaurora.planner.tablelike import copy_indexes

    taken = {n for (s, n) in ddl.qc.catalog.relations if s == schema_oid}
    indexes = tuple(copy_indexes(ddl.qc.catalog, parent, name, taken, link=True))
    return CreateTable(name, columns, checks, indexes, (), bool(body.get("if_not_exists")), schema_oid,
                       table_fields=(("partition_of", parent.oid), ("partition_bound", text)))


def _bound_of(ddl: Any, parent: Table, spec: dict[str, Any], name: str) -> tuple[str, PartitionBound]:
    """FOR VALUES ... of partition `name`: its JSON text and decoded bound, checked (42P16, 42P17)."""
    strategy = parent.partition_strategy
    cols = _key_columns(parent)
    if spec.get("is_default") and strategy == "h":
        raise InvalidTableDefinition("a hash-partitioned table may not have a default partition", sqlstate="42P16")
    if spec.get("is_default"):
        data: dict[str, Any] = {"default": True}
    elif spec.get("strategy") != strategy:
        raise InvalidTableDefinition(f"invalid bound specification for a {_WORDS[strategy]} partition",
                                     sqlstate="42P16", position=ddl.pos(spec.get("location")))
    elif strategy == "l":
        data = {"in": [_datum(ddl, d, cols[0], False) for d in spec["listdatums"]]}
    elif strategy == "h":
        modulus, remainder = int(spec.get("modulus", 0)), int(spec.get("remainder", 0))
        if modulus <= 0:
            raise InvalidTableDefinition("modulus for hash partition must be an integer value greater than zero",
                                         sqlstate="42P16")
        if remainder < 0:
            raise InvalidTableDefinition("remainder for hash partition must be an integer value greater than or "
                                         "equal to zero", sqlstate="42P16")
        if remainder >= modulus:
            raise InvalidTableDefinition("remainder for hash partition must be less than modulus", sqlstate="42P16")
        data = {"modulus": modulus, "remainder": remainder}
    else:
        lower = [_datum(ddl, d, c, True) for d, c in zip(spec["lowerdatums"], cols, strict=True)]
        upper = [_datum(ddl, d, c, True) for d, c in zip(spec["upperdatums"], cols, strict=True)]
        data = {"from": lower, "to": upper}
    text = json.dumps(data)
    bound = decode_bound(parent, text)
    if bound.lower is not None and not bound.lower < bound.upper:  # type: ignore[operator]
        raise _bound_error(f'empty range bound specified for partition "{name}"',
                           f"Specified lower bound ({_bound_text(data['from'])}) is greater than or equal to "
                           f"upper bound ({_bound_text(data['to'])}).")
    _check_overlap(ddl.qc.catalog, parent, name, bound)
    return text, bound


def alter_partitions(ddl: Any, table: Table, cmds: list[dict[str, Any]]) -> PlanNode:
    """ALTER TABLE parent ATTACH PARTITION child FOR VALUES ... / DETACH PARTITION child."""
    nodes: list[PlanNode] = []
    for item in cmds:
        cmd = item["AlterTableCmd"]
        spec = cmd["def"]["PartitionCmd"]
        child = ddl._table(spec["name"])
        if cmd["subtype"] == "AT_DetachPartition":
            if child.partition_of != table.oid:
                raise UndefinedTable(f'relation "{child.name}" is not a partition of relation "{table.name}"')
            nodes.append(SetPartition(child.oid, table.oid, None, None, ()))
            continue
        nodes.append(_attach(ddl, table, child, spec["bound"]))
    return nodes[0] if len(nodes) == 1 else MultiModify(tuple(nodes), 0)


def _attach(ddl: Any, parent: Table, child: Table, spec: dict[str, Any]) -> SetPartition:
    if parent.kind != "p":
        raise _bound_error(f'table "{parent.name}" is not partitioned')
    if child.partition_of:
        raise WrongObjectType(f'"{child.name}" is already a partition')
    if child.kind != "r":
        raise FeatureNotSupported(f'cannot attach "{child.name}" as a partition')
    parent_cols = {c.name: c for c in parent.live_columns()}
    for c in child.live_columns():
        if c.name not in parent_cols:
            raise DatatypeMismatch(f'table "{child.name}" contains column "{c.name}" not found in parent "{parent.name}"',
                                   detail="The new partition may contain only the columns present in parent.")
        if (c.type_oid, c.typmod) != (parent_cols[c.name].type_oid, parent_cols[c.name].typmod):
            raise DatatypeMismatch(f'child table "{child.name}" has different type for column "{c.name}"')
    if [c.name for c in child.columns] != [c.name for c in parent.columns]:
        raise FeatureNotSupported(f'the columns of "{child.name}" must be those of "{parent.name}", in the same order')
    text, bound = _bound_of(ddl, parent, spec, child.name)
    from pgaurora.planner.indexexpr import index_key_spec
    from pgaurora.planner.tablelike import copy_indexes

    state = ddl.qc.catalog
    existing = list(state.indexes(child.oid))
    links: list[tuple[int, int]] = []
    new_indexes = []
    taken = {n for (s, n) in state.relations if s == child.schema_oid}
    for ix, d in zip(state.indexes(parent.oid), copy_indexes(state, parent, child.name, taken, link=True), strict=True):
        same = next((e for e in existing if (e.columns, e.expressions, e.predicate, e.unique) ==
                     (ix.columns, ix.expressions, ix.predicate, ix.unique) and not e.parent_index), None)
        if same is not None:
            existing.remove(same)
            links.append((same.oid, ix.oid))
        else:
            new_indexes.append(d)
    specs = tuple(index_key_spec(state, child, Index(0, d.name, child.oid, 0, tuple(
        0 if d.expressions and d.expressions[k] else child.column(n).attnum  # type: ignore[union-attr]
        for k, n in enumerate(d.columns)), d.unique, expressions=d.expressions, predicate=d.predicate))
        for d in new_indexes)
    positions = {c.attnum: i for i, c in enumerate(child.columns)}
    return SetPartition(child.oid, parent.oid, text, bound, tuple(positions[a] for a in parent.partition_key),
                        tuple(new_indexes), specs, tuple(links))


def check_unique_covers_key(table_name: str, key: tuple[int, ...], columns: Any, index_columns: tuple[str, ...],
                            what: str) -> None:
    """A unique index of a partitioned table is unique per partition: it must contain the key."""
    names = set(index_columns)
    for attnum in key:
        col = next(c for c in columns if c.attnum == attnum)
        if col.name not in names:
            raise FeatureNotSupported("unique constraint on partitioned table must include all partitioning columns",
                                      detail=f'{what} constraint on table "{table_name}" lacks column "{col.name}" '
                                             f"which is part of the partition key.")


def partitioned_index(ddl: Any, body: dict[str, Any], table: Table) -> PlanNode:
    """CREATE INDEX on a partitioned table: its own (empty) index, and one on each partition tied to
    it (new partitions get theirs when they are created)."""
    parent = ddl.index_on(body, table)
    if parent.index.unique:
        check_unique_covers_key(table.name, table.partition_key, table.columns, parent.index.columns, "UNIQUE")
    nodes: list[PlanNode] = [parent]
    for part in ddl.qc.catalog.partitions(table.oid):
        schema = next((s.name for s in ddl.qc.catalog.schemas.values() if s.oid == part.schema_oid), "public")
        part_body = {k: v for k, v in body.items() if k != "idxname"}
        part_body["relation"] = dict(body["relation"], relname=part.name, schemaname=schema)
        child = ddl.index_on(part_body, part)
        nodes.append(dataclasses.replace(child, index=dataclasses.replace(
            child.index, parent_index=(table.schema_oid, parent.index.name))))
    return MultiModify(tuple(nodes), 0)


# ---- planning statements over partitions --------------------------------------------------------
def append_scan(state: CatalogState, parent: Table, width: int, system_columns: bool = False) -> PlanNode:
    """The rows of a partitioned table: UNION ALL of its partitions' scans (with their system
    columns and tids after the `width` stored ones when `system_columns`: tableoid tells which
    partition a row and its tid come from)."""
    from pgaurora.planner.syscolumns import system_columns_scan

    node: PlanNode | None = None
    out_width = width
    for part in state.partitions(parent.oid):
        scan = system_columns_scan(part.oid, part.name, width) if system_columns else SeqScan(part.oid, part.name, width)
        out_width = scan.width
        node = scan if node is None else SetOp(SetOpKind.UNION, True, node, scan, out_width)
    if node is None and system_columns:
        from pgaurora.executor.scan import SYSTEM_COLUMN_COUNT

        out_width = width + SYSTEM_COLUMN_COUNT + 1
    return node if node is not None else ValuesScan((), out_width)


def route_insert(state: CatalogState, table: Table, node: Insert, checks_for: Any) -> PlanNode:
    """INSERT into a partitioned table (or into a partition): rows go where their key belongs."""
    if table.kind != "p" and not table.partition_of:
        return node
    parent = table if table.kind == "p" else state.table(table.partition_of)
    if parent is None:
        return node  # the parent is gone (a partition that outlived it in a stale plan)
    parts = state.partitions(parent.oid) if table.kind == "p" else [table]
    positions = {c.attnum: i for i, c in enumerate(parent.columns)}
    key_cols = _key_columns(parent)
    targets = tuple(PartitionTarget(p.oid, p.name, decode_bound(parent, p.partition_bound or "{}"),
                                    Insert(p.oid, ValuesScan((), node.source.width), checks_for(p), None, 0,
                                           _partition_conflict(state, p, node.on_conflict, table.kind == "p")))
                    for p in parts)
    return RoutedInsert(table.name, node.source, tuple(positions[c.attnum] for c in key_cols),
                        tuple(c.name for c in key_cols), tuple(c.type_oid for c in key_cols), targets,
                        node.returning, node.width, direct=table.kind != "p")


def _partition_conflict(state: CatalogState, part: Table, conflict: Any, routed: bool) -> Any:
    """ON CONFLICT of an INSERT into a partitioned table, for one partition: the arbiters are the
    partition's copies of the partitioned table's unique indexes (which contain the partition key,
    so a key conflicts only within its partition); SET and WHERE read the same column layout."""
    if conflict is None or not routed or not conflict.arbiter_indexes:
        return conflict
    arbiters = tuple(ix.oid for ix in state.indexes(part.oid) if ix.parent_index in conflict.arbiter_indexes)
    return dataclasses.replace(conflict, arbiter_indexes=arbiters)


def bound_check(state: CatalogState, table: Table) -> Any:
    """For a partition: `row -> bool`, does the row belong inside its bound (a DEFAULT partition:
    outside every other partition's)? Checked on every row INSERT / UPDATE / COPY write there."""
    parent = state.table(table.partition_of) if table.partition_of else None
    if parent is None or table.partition_bound is None:
        return None
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    keys = tuple(positions[a] for a in parent.partition_key)
    bound = decode_bound(parent, table.partition_bound)
    if bound.default:
        others = [decode_bound(parent, p.partition_bound or "{}") for p in state.partitions(parent.oid)
                  if p.oid != table.oid]
        return lambda row: not any(b.holds(tuple(row[p] for p in keys)) for b in others)
    return lambda row: bound.holds(tuple(row[p] for p in keys))


def row_movement(state: CatalogState, parent: Table, part: Table, update: Any, checks_for: Any) -> list[PlanNode]:
    """UPDATE of the partition key through the parent, on one partition, as PostgreSQL does it:
    rows whose new key still fits the partition are updated in place; the others are deleted here
    and their new versions inserted where they now belong (one command: the later steps do not see
    the rows the earlier ones wrote).

        Update(p, source AND fits(new key))  +  RoutedInsert(Delete(p, source AND NOT fits) RETURNING new row)
    """
    from pgaurora.executor.expr import BoolExpr, BoolOp, max_var_index
    from pgaurora.executor.modify import Delete
    from pgaurora.executor.plannodes import Filter

    if not isinstance(update, Update):
        return [update]
    width = update.table_width
    if update.returning is not None and any(max_var_index(e) >= width for e in update.returning):
        raise FeatureNotSupported("RETURNING of other relations' columns in an UPDATE that moves rows between "
                                  "partitions is not supported")
    bound = decode_bound(parent, part.partition_bound or "{}")
    positions = {c.attnum: i for i, c in enumerate(part.columns)}
    keys = tuple(update.new_row[positions[a]] for a in parent.partition_key)
    if bound.default:
        others = [decode_bound(parent, p.partition_bound or "{}") for p in state.partitions(parent.oid)
                  if p.oid != part.oid]

        def fits(*key: Any) -> bool:
            return not any(b.holds(key) for b in others)
    else:
        def fits(*key: Any) -> bool:
            return bound.holds(key)

    stays = FuncExpr("partition_fits", fits, keys, 16, strict=False)
    leaves = BoolExpr(BoolOp.NOT, (stays,))
    in_place = dataclasses.replace(update, source=Filter(update.source, stays, update.source.width))
    deleted = Delete(part.oid, Filter(update.source, leaves, update.source.width), width, update.recheck_qual,
                     update.checks, update.new_row, width)
    moved = route_insert(state, parent, Insert(parent.oid, deleted, checks_for(parent), update.returning,
                                               len(update.returning) if update.returning else 0), checks_for)
    return [in_place, moved]


def partition_bodies(state: CatalogState, table: Table, body: dict[str, Any]) -> list[dict[str, Any]]:
    """UPDATE / DELETE of a partitioned table as the same statement on each partition (the
    parent's name stays usable as the alias)."""
    schema = next((s.name for s in state.schemas.values() if s.oid == table.schema_oid), "public")
    alias = body["relation"].get("alias") or {"aliasname": table.name}
    out = []
    for part in state.partitions(table.oid):
        part_schema = next((s.name for s in state.schemas.values() if s.oid == part.schema_oid), schema)
        relation = dict(body["relation"], relname=part.name, schemaname=part_schema, alias=alias)
        out.append(dict(body, relation=relation))
    return out


# ---- pruning ----------------------------------------------------------------------------------------
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "="}


def _conditions(column: int, quals: list[Expr]) -> list[tuple[str, Expr]]:
    """(op, value) of each qual `key op value` on key column `column` whose value is a constant or
    a parameter ('null' for `key IS NULL`)."""
    out: list[tuple[str, Expr]] = []
    for q in quals:
        if isinstance(q, NullTest) and isinstance(q.arg, Var) and q.arg.index == column and not q.is_not:
            out.append(("null", Const(None, 0)))
            continue
        if not isinstance(q, FuncExpr) or not q.is_operator or len(q.args) != 2 or q.name not in _FLIP:
            continue
        left, right = q.args
        op = q.name
        if isinstance(right, Var) and isinstance(left, Const | Param):
            left, right, op = right, left, _FLIP[op]
        if isinstance(left, Var) and left.index == column and isinstance(right, Const | Param):
            out.append((op, right))
    return out


_HAS_PARTITIONS: dict[tuple[int, int], bool] = {}


def has_partitions(state: CatalogState) -> bool:
    """Does this catalog state have any partition (remembered per state; a stale answer would only
    cost a pruning walk or skip an optimization, never change a result)?"""
    key = (id(state.by_oid), state.version)
    found = _HAS_PARTITIONS.get(key)
    if found is None:
        if len(_HAS_PARTITIONS) > 256:
            _HAS_PARTITIONS.clear()
        found = _HAS_PARTITIONS[key] = any(isinstance(o, Table) and o.partition_of for o in state.by_oid.values())
    return found


def prune(node: Any, state: CatalogState) -> Any:
    """Partition scans whose bound contradicts a constant qual on the key become empty (and empty
    UNION ALL arms go); quals comparing the key with parameters prune at run time (PartitionGuard)."""
    if not has_partitions(state):
        return node
    return _prune(node, state)


def _prune(node: Any, state: CatalogState) -> Any:
    from pgaurora.planner.rules import map_children

    node = map_children(node, lambda c: _prune(c, state))
    if isinstance(node, SeqScan) and node.qual is not None:
        table = state.table(node.table_oid)
        parent = state.table(table.partition_of) if table is not None and table.partition_of else None
        if table is not None and parent is not None and len(parent.partition_key) == 1:
            bound = decode_bound(parent, table.partition_bound or "{}")
            column = next(i for i, c in enumerate(table.columns) if c.attnum == parent.partition_key[0])
            conditions = _conditions(column, conjuncts(node.qual))
            if any(isinstance(v, Const) and bound_excludes(bound, op, v.value) for op, v in conditions):
                return ValuesScan((), node.width)
            runtime = tuple((op, v) for op, v in conditions if isinstance(v, Param))
            if runtime and not bound.default:
                return PartitionGuard(node, bound, runtime, node.width)
    if isinstance(node, SetOp) and node.kind is SetOpKind.UNION and node.all:
        if isinstance(node.left, ValuesScan) and not node.left.rows:
            return node.right
        if isinstance(node.right, ValuesScan) and not node.right.rows:
            return node.left
    return node


__all__ = ["partition_key", "create_partition", "decode_bound", "append_scan", "route_insert", "partition_bodies",
           "prune"]
