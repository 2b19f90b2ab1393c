"""Declarative partitioning at execution: routing inserted rows to partitions, and DML over all of them.

Owns RoutedInsert (INSERT / COPY into a partitioned table, or into one partition with its bound
enforced) and MultiModify (UPDATE / DELETE of a partitioned table as one Update / Delete per
partition, counted as one command). A partitioned table keeps no rows: each partition is an
ordinary table whose rows satisfy its bound, which is what lets the planner skip partitions
whose bound contradicts a query's constants (planner.partition).

    INSERT INTO m VALUES (5, 'x')     key (5) -> the first partition whose bound holds it:
        range  FROM (lower) TO (upper):  lower <= key < upper   (MINVALUE / MAXVALUE at the ends)
        list   IN (v1, v2, NULL):        key in the list
        DEFAULT:                         any key no other partition holds
    no partition: 23514 'no partition of relation "m" found for row'

Not the checks, heap and index writes of each partition (executor.modify's Writer).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pgaurora.datatypes import format_value
from pgaurora.errors import CheckViolation
from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Expr
from pgaurora.executor.modify import Insert, Writer
from pgaurora.executor.nodes import BATCH_SIZE, Batch, compiled, run_node, runner
from pgaurora.executor.onconflict import INSERTED, Upsert
from pgaurora.executor.partitionhash import row_hash
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.triggers import StatementTriggers, statement_triggers

MIN_RANK, VALUE_RANK, MAX_RANK = -1, 0, 1


@dataclass(frozen=True, slots=True)
class PartitionBound:
    """A partition's bound with its values decoded. Range bounds are tuples of (rank, value)
    pairs (rank MIN_RANK / MAX_RANK for MINVALUE / MAXVALUE, whose value is 0), so that plain
    tuple comparison orders them."""

    default: bool = False
    lower: tuple[tuple[int, Any], ...] | None = None
    upper: tuple[tuple[int, Any], ...] | None = None
    values: tuple[Any, ...] | None = None  # list partitions (None in it: the NULL partition)
    modulus: int = 0  # hash partitions: row_hash(key) % modulus == remainder
    remainder: int = 0
    hash_types: tuple[int, ...] = ()

    def holds(self, key: tuple[Any, ...]) -> bool:
        """Does a row with partition key `key` belong here (never true for DEFAULT: see route)?"""
        if self.modulus:
            return row_hash(key, self.hash_types) % self.modulus == self.remainder
        if self.values is not None:
            return key[0] in self.values
        if self.lower is None or self.upper is None or None in key:
            return False
        ranked = tuple((VALUE_RANK, v) for v in key)
        return self.lower <= ranked < self.upper


def bound_excludes(bound: PartitionBound, op: str, value: Any) -> bool:
    """Can no row inside `bound` satisfy `key op value` (op: = < <= > >=, or 'null' for IS NULL)?
    Single-column keys; a DEFAULT partition is never excluded (it may hold anything)."""
    if bound.default:
        return False
    if bound.modulus:  # NULL keys hash to 0; only equality says which remainder a key has
        try:
            if op == "null":
                return bound.remainder != 0
            return op == "=" and value is not None and not bound.holds((value,))
        except (TypeError, AttributeError, KeyError):
            return False
    if op == "null":
        return bound.values is None or None not in bound.values
    if value is None:
        return False  # key op NULL is never true, but leave that to the qual
    try:
        if bound.values is not None:
            return op == "=" and value not in bound.values
        if bound.lower is None or bound.upper is None:
            return False
        lo, hi, v = bound.lower[0], bound.upper[0], (VALUE_RANK, value)
        if op == "=":
            return not lo <= v < hi
        if op in ("<", "<="):
            return v < lo or (op == "<" and v == lo)
        if op in (">", ">="):
            return not v < hi
    except TypeError:  # a value that does not compare with the key's type: keep the partition
        return False
    return False


@dataclass(frozen=True, slots=True)
class PartitionGuard(PlanNode):
    """Run-time partition pruning: `input` (a partition's scan) runs only when no condition
    `key op value` with the execution's parameter values excludes the partition's bound."""

    input: PlanNode
    bound: PartitionBound
    conditions: tuple[tuple[str, Expr], ...]
    width: int


@runner(PartitionGuard)
async def run_partition_guard(node: PartitionGuard, env: Env) -> AsyncIterator[Batch]:
    values = compiled(node, "values", lambda: compile_exprs(tuple(e for _op, e in node.conditions))[0])((), env)
    for (op, _expr), value in zip(node.conditions, values, strict=True):
        if bound_excludes(node.bound, op, value):
            return
    async for batch in run_node(node.input, env):
        yield batch


@dataclass(frozen=True, slots=True)
class PartitionTarget:
    table_oid: int
    table_name: str
    bound: PartitionBound
    insert: Insert  # this partition's checks (one node per partition: compiled checks are per node)


@dataclass(frozen=True, slots=True)
class RoutedInsert(PlanNode):
    table_name: str  # the partitioned table (or the one partition written directly)
    source: PlanNode  # full rows of the parent's column layout
    key_positions: tuple[int, ...]
    key_names: tuple[str, ...]
    key_types: tuple[int, ...]
    partitions: tuple[PartitionTarget, ...]
    returning: tuple[Expr, ...] | None
    width: int
    direct: bool = False  # INSERT into a partition itself: a row outside its bound violates it


def _route(node: RoutedInsert, row: tuple[Any, ...], column_types: tuple[int, ...]) -> int:
    key = tuple(row[p] for p in node.key_positions)
    default = -1
    if node.partitions and node.partitions[0].bound.modulus:  # hash: one hash, then the remainder
        h = row_hash(key, node.partitions[0].bound.hash_types)
        for i, target in enumerate(node.partitions):
            if h % target.bound.modulus == target.bound.remainder:
                return i
    for i, target in enumerate(node.partitions):
        if target.bound.default:
            default = i
        elif target.bound.holds(key):
            return i
    if default >= 0:
        return default
    if node.direct:
        text = ", ".join("null" if v is None else str(format_value(v, t)) for v, t in zip(row, column_types, strict=True))
        raise CheckViolation(f'new row for relation "{node.table_name}" violates partition constraint',
                             detail=f"Failing row contains ({text}).", table=node.table_name)
    values = ", ".join("null" if v is None else str(format_value(v, t)) for v, t in zip(key, node.key_types, strict=True))
    raise CheckViolation(f'no partition of relation "{node.table_name}" found for row',
                         detail=f"Partition key of the failing row contains ({', '.join(node.key_names)}) = ({values}).",
                         table=node.table_name)


@runner(RoutedInsert)
async def run_routed_insert(node: RoutedInsert, env: Env) -> AsyncIterator[Batch]:
    writers: dict[int, Writer] = {}
    upserts: dict[int, Upsert] = {}
    exprs = node.returning
    returning = compiled(node, "returning", lambda: compile_exprs(exprs)[0]) if exprs is not None else None
    # RETURNING reads a routed row's tableoid (the partition's) after the row (planner.fromclause)
    pads = [(None,) * 5 + (p.table_oid,) for p in node.partitions]
    column_types = node.partitions[0].insert.checks.column_types if node.partitions else ()
    upsert = any(p.insert.on_conflict is not None for p in node.partitions)
    count = 0
    out: Batch = []
    fk_rows: list[tuple[Writer, tuple[Any, ...]]] = []

    def writer(i: int) -> Writer:
        w = writers.get(i)
        if w is None:
            target = node.partitions[i]
            w = writers[i] = Writer(env, target.insert, target.insert.checks)
        return w

    # statement triggers: the partitioned table's (or the one partition's, written directly); row
    # triggers: each partition's own and its ancestors' (executor.triggers)
    state = env.ctx.extra.get("catalog_state")
    first = state.table(node.partitions[0].table_oid) if state is not None and node.partitions else None
    target_oid = first.oid if first is not None and (node.direct or not first.partition_of) else \
        (first.partition_of if first is not None else 0)
    statement = statement_triggers(env, target_oid, "insert", node.partitions[0].insert.checks, rows=False) \
        if target_oid else None
    row_triggers: dict[int, StatementTriggers | None] = {}

    def triggers_of(i: int) -> StatementTriggers | None:
        if i not in row_triggers:
            target = node.partitions[i]
            row_triggers[i] = statement_triggers(env, target.table_oid, "insert", target.insert.checks,
                                                 statement=False)
        return row_triggers[i]

    if statement is not None:
        await statement.start()
    async for batch in run_node(node.source, env):
        env.ctx.check_cancel()
        routes = [_route(node, row, column_types) for row in batch]
        if any(triggers_of(i) is not None for i in set(routes)):
            kept_routes, kept = [], []
            for i, row in zip(routes, batch, strict=True):
                fired = triggers_of(i)
                new = await fired.before(None, tuple(row)) if fired is not None and fired.before_row else row
                if new is not None:
                    kept_routes.append(i)
                    kept.append(new)
            routes, batch = kept_routes, kept
        if upsert:
            # INSERT ... ON CONFLICT: row by row in input order (executor.onconflict, per partition);
            # only the rows inserted or updated count and are returned
            for i, row in zip(routes, batch, strict=True):
                w = writer(i)
                u = upserts.get(i)
                if u is None:
                    target = node.partitions[i]
                    u = upserts[i] = Upsert(target.insert, w, env)
                    u.routed = True  # also INSERT INTO a partition: PostgreSQL's 0A000 rather than 23514
                    if target.insert.on_conflict is not None and target.insert.on_conflict.set_exprs is not None:
                        u.update_triggers = statement_triggers(env, target.table_oid, "update",
                                                               target.insert.checks, statement=False)
                        if u.update_triggers is not None:
                            row_triggers[-1 - i] = u.update_triggers  # (finished with the others)
                w.check_row(row)
                outcome, written = await u.apply(row)
                if written is None:
                    continue
                if outcome == INSERTED and w.checks.foreign_keys:
                    fk_rows.append((w, written))
                fired = triggers_of(i)
                if outcome == INSERTED and fired is not None:
                    fired.after(None, written)
                count += 1
                if returning is not None:
                    env.ctx.extra["upsert_updated"] = outcome != INSERTED  # (RETURNING xmax: planner.syscolumns)
                    out.append(returning(written + pads[i], env))
                    env.ctx.extra.pop("upsert_updated", None)
        else:
            groups: dict[int, list[tuple[Any, ...]]] = {}
            for i, row in zip(routes, batch, strict=True):
                groups.setdefault(i, []).append(row)
            for i, rows in groups.items():
                w = writer(i)
                await w.insert_rows(rows)
                if w.checks.foreign_keys:
                    fk_rows.extend((w, row) for row in rows)
                fired = triggers_of(i)
                if fired is not None:
                    for row in rows:
                        fired.after(None, row)
                count += len(rows)
            if returning is not None:
                out.extend(returning(row + pads[i], env) for i, row in zip(routes, batch, strict=True))
        if len(out) >= BATCH_SIZE:
            yield out
            out = []
    for each in writers.values():  # DEFERRABLE unique constraints: at the end of the statement
        if each.unique_due:
            await each.check_unique_due()
    for w, row in fk_rows:  # at the end of the statement, as PostgreSQL's RI triggers
        w.snapshot = None
        await w.check_foreign_keys(row)
    for fired in row_triggers.values():
        if fired is not None:
            await fired.finish()
    if statement is not None:
        await statement.finish()
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out


@dataclass(frozen=True, slots=True)
class SetPartition(PlanNode):
    """ALTER TABLE parent ATTACH PARTITION child FOR VALUES ... (bound_text set) or DETACH PARTITION
    child (bound_text None). Attaching checks the child's rows against the bound (23514), gives the
    child the parent's indexes (linking equal ones it already has) and records the bound."""

    child_oid: int
    parent_oid: int
    bound_text: str | None
    bound: PartitionBound | None
    key_positions: tuple[int, ...]
    new_indexes: tuple[Any, ...] = ()  # executor.ddl.IndexDef, each with its IndexKeySpec or None
    specs: tuple[Any, ...] = ()
    links: tuple[tuple[int, int], ...] = ()  # (child index oid, parent index oid)
    width: int = 0


@runner(SetPartition)
async def run_set_partition(node: SetPartition, env: Env) -> AsyncIterator[Batch]:
    from dataclasses import replace

    from pgaurora.executor.ddl import _build_index, _make_index, _state, _tag

    ctx = env.ctx
    _tag(env, "ALTER TABLE")
    state = _state(ctx)
    child = state.table(node.child_oid)
    if node.bound_text is None:
        unlinked = [replace(ix, parent_index=0) for ix in state.indexes(child.oid) if ix.parent_index]
        await ctx.catalog.replace(ctx.txn, replace(child, partition_of=0, partition_bound=None), *unlinked)
        return
    bound = node.bound
    assert bound is not None
    if not bound.default:
        heap = ctx.storage.heap(child.rel_id)
        async for batch in heap.scan(ctx.txn, ctx.txn.snapshot()):
            for _tid, row in batch:
                if not bound.holds(tuple(row[p] if p < len(row) else None for p in node.key_positions)):
                    raise CheckViolation(f'partition constraint of relation "{child.name}" is violated by some row',
                                         table=child.name)
    child = replace(child, partition_of=node.parent_oid, partition_bound=node.bound_text)
    linked = [replace(state.by_oid[c], parent_index=p) for c, p in node.links]
    await ctx.catalog.replace(ctx.txn, child, *linked)
    for d, spec in zip(node.new_indexes, node.specs, strict=True):
        index, constraint = await _make_index(env, child, d)
        await _build_index(env, child, index, spec)
        await ctx.catalog.create(ctx.txn, index)
        if constraint is not None:
            child = _state(ctx).table(child.oid)
            await ctx.catalog.replace(ctx.txn, replace(child, constraints=child.constraints + (constraint,)))
    if False:  # pragma: no cover - an async generator that yields nothing
        yield []


@dataclass(frozen=True, slots=True)
class MultiModify(PlanNode):
    """UPDATE / DELETE of a partitioned table: the same statement on each (unpruned) partition."""

    parts: tuple[PlanNode, ...]
    width: int


@runner(MultiModify)
async def run_multi_modify(node: MultiModify, env: Env) -> AsyncIterator[Batch]:
    # the partitioned table's statement triggers fire once, around its partitions' statements
    # (which fire their row triggers: executor.triggers)
    statement = None
    state = env.ctx.extra.get("catalog_state")
    first = node.parts[0] if node.parts else None
    part_table = state.table(getattr(first, "table_oid", 0)) if state is not None and first is not None else None
    checks = getattr(first, "checks", None)
    if part_table is not None and part_table.partition_of and checks is not None:
        event = "delete" if type(first).__name__ == "Delete" else "update"
        statement = statement_triggers(env, part_table.partition_of, event, checks, rows=False)
    if statement is not None:
        await statement.start()
    total = 0
    env.ctx.extra["partitions_of_statement"] = True
    try:
        for part in node.parts:
            env.row_counts.pop("rows", None)
            async for batch in run_node(part, env):
                yield batch
            total += env.row_counts.get("rows", 0)
    finally:
        env.ctx.extra.pop("partitions_of_statement", None)
    if statement is not None:
        await statement.finish()
    env.row_counts["rows"] = total
    env.row_counts["modified"] = 1


__all__ = ["PartitionBound", "PartitionTarget", "RoutedInsert", "MultiModify", "PartitionGuard", "SetPartition",
           "bound_excludes",
           "MIN_RANK", "VALUE_RANK", "MAX_RANK"]
