"""INSERT, UPDATE, DELETE: heap writes, index maintenance, constraint checks, RETURNING, ON CONFLICT.

Owns the ModifyTable plan nodes and their execution: NOT NULL (23502), CHECK (23514), UNIQUE /
PRIMARY KEY (23505, via the B-trees) and FOREIGN KEY (23503) checks with PostgreSQL's messages
and details, READ COMMITTED re-checks of concurrently updated rows, and the row counts for the
command tag. Not planning (planner.modify), not tuple storage (access.Heap).

Unique checks look the key up in the index and fetch each candidate with a snapshot that also
sees this transaction's own writes of the current command, so `INSERT ... VALUES (1), (1)` fails.

Concurrency, as PostgreSQL:
    UPDATE/DELETE in READ COMMITTED   the heap waits for a concurrent writer, follows the update
                                      chain and calls `recheck(newest)`: the WHERE clause is
                                      re-evaluated and SET recomputed; constraints, index entries,
                                      RETURNING and foreign keys use the row actually written
    UPDATE ... FROM / DELETE USING    lock the row first; a newer version re-runs the join for it
                                      (executor.lockrows.recheck_rows, EvalPlanQual)
    UPDATE leaving the key alone      FOR NO KEY UPDATE strength; FOR KEY SHARE lockers of the old
                                      version hold the new one too (txn.manager.carry_row_locks)
    foreign keys                      executor.foreignkeys (the referenced row is locked FOR KEY
                                      SHARE; the referencing check runs after the row changed)
    ON CONFLICT                       executor.onconflict (speculative insertion)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pgaurora.access.btree import UniqueCheck
from pgaurora.errors import (
    CheckViolation,
    GeneratedAlways,
    NotNullViolation,
    UniqueViolation,
)
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Expr
from pgaurora.executor.foreignkeys import ForeignKeyChecks, check_snapshot, key_text
from pgaurora.executor.indexkeys import IndexKeySpec
from pgaurora.executor.lockrows import recheck_rows
from pgaurora.executor.nodes import BATCH_SIZE, Batch, compiled, prepare_all, run_node, runner
from pgaurora.executor.onconflict import INSERTED, Upsert
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.resultrel import result_relation


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    expr: Expr  # over the table row


@dataclass(frozen=True, slots=True)
class ForeignKeySpec:
    """This table's columns `columns` reference `ref_table`'s `ref_columns` through `ref_index`."""

    name: str
    columns: tuple[int, ...]  # 0-based column positions in this table
    ref_table_oid: int
    ref_table_name: str
    ref_index_oid: int
    column_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReferencedBySpec:
    """Another table's FK pointing at this table: checked when rows here are deleted/updated."""

    name: str
    table_oid: int
    table_name: str
    columns: tuple[int, ...]  # positions in the referencing table
    ref_columns: tuple[int, ...]  # positions in this table
    on_delete: str
    ref_column_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TableChecks:
    table_oid: int
    table_name: str
    column_names: tuple[str, ...]
    column_types: tuple[int, ...]
    not_null: tuple[int, ...]
    checks: tuple[CheckSpec, ...]
    foreign_keys: tuple[ForeignKeySpec, ...]
    referenced_by: tuple[ReferencedBySpec, ...]
    index_keys: tuple[IndexKeySpec, ...] = ()  # expression / partial indexes (executor.indexkeys)
    # a partition's bound: row -> does it belong here (executor.partition.PartitionBound.holds)
    partition_check: Any = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class OnConflict:
    """DO NOTHING (set is None) or DO UPDATE: `set_exprs` over (existing row + excluded row)."""

    arbiter_indexes: tuple[int, ...]  # index oids; empty = any unique index
    set_exprs: tuple[Expr, ...] | None = None
    where: Expr | None = None


@dataclass(frozen=True, slots=True)
class Insert(PlanNode):
    table_oid: int
    source: PlanNode  # yields full table rows
    checks: TableChecks
    returning: tuple[Expr, ...] | None
    width: int
    on_conflict: OnConflict | None = None


@dataclass(frozen=True, slots=True)
class Update(PlanNode):
    """`source` rows are: the table row, its tid, then any FROM-list columns."""

    table_oid: int
    source: PlanNode
    table_width: int
    new_row: tuple[Expr, ...]  # over the source row
    recheck_qual: Expr | None  # over table row + tid (READ COMMITTED re-evaluation)
    checks: TableChecks
    returning: tuple[Expr, ...] | None  # over new row + source's extra columns
    width: int


@dataclass(frozen=True, slots=True)
class Delete(PlanNode):
    table_oid: int
    source: PlanNode
    table_width: int
    recheck_qual: Expr | None
    checks: TableChecks
    returning: tuple[Expr, ...] | None
    width: int


def _pad(row: tuple[Any, ...], width: int) -> tuple[Any, ...]:
    return row if len(row) >= width else row + (None,) * (width - len(row))


class Writer(ForeignKeyChecks):
    """Per-execution helper for one table: heap, indexes and checks."""

    def __init__(self, env: Env, node: Any, checks: TableChecks) -> None:
        self.env = env
        state = env.ctx.extra["catalog_state"]
        self.state = state
        rel = result_relation(node, checks, state)
        self.rel = rel
        self.table = rel.table
        storage = env.ctx.storage
        self.heap = storage.heap(rel.table.rel_id)
        if not self.heap.name:
            self.heap.name = rel.table.name  # for lock messages
        btree = storage.btree
        self.indexes = [(ix, btree(ix.rel_id), positions) for ix, positions in rel.indexes]
        self.checks = checks
        self.special_keys = rel.special_keys
        self.check_fns = rel.check_fns
        self.snapshot: Any = None
        self.unique_checks: list[Any] | None = None
        self.key_positions = rel.key_positions
        self.key_always = rel.key_always
        self.indexed_positions = rel.indexed_positions
        self.special_indexes = rel.special_indexes

    def same_index_keys(self, old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
        """Would every index hold the same entry for `new` as for `old`? Then an UPDATE may be HOT
        (a heap-only version: no new index entries)."""
        for p in self.indexed_positions:
            if (old[p] if p < len(old) else None) != (new[p] if p < len(new) else None):
                return False
        if self.special_indexes:
            if len(old) < len(new):
                old = old + (None,) * (len(new) - len(old))
            for ix, positions in self.special_indexes:
                if self.key_of(ix, positions, old) != self.key_of(ix, positions, new):
                    return False
        return True

    def key_changed(self, old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
        """Does an UPDATE from `old` to `new` change a column of a unique index (FOR UPDATE vs
        FOR NO KEY UPDATE strength: only the former conflicts with foreign keys' FOR KEY SHARE)?"""
        if self.key_always:
            return True
        for p in self.key_positions:
            if (old[p] if p < len(old) else None) != (new[p] if p < len(new) else None):
                return True
        return False

    def check_snapshot(self) -> Any:
        if self.snapshot is None:
            self.snapshot = check_snapshot(self.env)
        return self.snapshot

    def check_row(self, row: tuple[Any, ...]) -> None:
        checks = self.checks
        for i in checks.not_null:
            if row[i] is None:
                raise NotNullViolation(
                    f'null value in column "{checks.column_names[i]}" of relation "{checks.table_name}" '
                    f'violates not-null constraint',
                    detail=f"Failing row contains ({key_text(row, checks.column_types)}).",
                    table=checks.table_name, column=checks.column_names[i])
        for name, fn in self.check_fns:
            if fn(row, self.env) is False:
                raise CheckViolation(
                    f'new row for relation "{checks.table_name}" violates check constraint "{name}"',
                    detail=f"Failing row contains ({key_text(row, checks.column_types)}).",
                    table=checks.table_name, constraint=name)
        if checks.partition_check is not None and not checks.partition_check(row):
            raise CheckViolation(f'new row for relation "{checks.table_name}" violates partition constraint',
                                 detail=f"Failing row contains ({key_text(row, checks.column_types)}).",
                                 table=checks.table_name)

    def key_of(self, ix: Any, positions: tuple[int, ...], row: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The entry `row` has in index `ix` (None: a partial index that does not hold the row)."""
        special = self.special_keys.get(ix.oid) if self.special_keys else None
        if special is not None:
            return special(row, self.env)
        return tuple(row[p] for p in positions)

    async def insert_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Checks and writes `rows` (bulk: one MTR per heap page filled, then the index entries with
        their unique checks); foreign keys are left to the caller, at the end of the statement."""
        for row in rows:
            self.check_row(row)
        txn = self.env.ctx.txn
        tids = await self.heap.insert_many(txn, rows) if len(rows) > 1 else [await self.heap.insert(txn, rows[0])]
        for row, tid in zip(rows, tids, strict=True):
            await self.insert_indexes(row, tid)

    async def insert_indexes(self, row: tuple[Any, ...], tid: Any) -> None:
        if self.unique_checks is None:
            txn, heap = self.env.ctx.txn, self.heap
            self.unique_checks = [None if spec is None else UniqueCheck(txn, heap, *spec)
                                  for spec in self.rel.unique_specs]
        special_keys = self.special_keys
        for (ix, btree, positions), check in zip(self.indexes, self.unique_checks, strict=True):
            if special_keys and ix.oid in special_keys:
                special = special_keys[ix.oid](row, self.env)
                if special is None:
                    continue
                key = special
            else:
                key = (row[positions[0]],) if len(positions) == 1 else tuple(row[p] for p in positions)
            if check is None:
                await btree.insert(key, tid)
                continue
            try:
                await btree.insert(key, tid, check)
            except UniqueViolation as exc:
                exc.table = self.checks.table_name
                raise


def _recheck_fn(node: Any) -> Any:
    """READ COMMITTED's re-evaluation of the WHERE clause (None: nothing to re-check)."""
    return compile_expr(node.recheck_qual).fn if node.recheck_qual is not None else None


def _returning(node: Any) -> Any:
    """RETURNING's projection; with subqueries in it, a coroutine function that prepares them first."""
    if node.returning is None:
        return None
    fn, subplans = compiled(node, "returning", lambda: compile_exprs(node.returning))
    if not subplans:
        return fn
    return _Prepared(fn, subplans)


class _Prepared:
    """A projection whose subqueries must run (async) before it is evaluated for a row."""

    __slots__ = ("fn", "subplans")

    def __init__(self, fn: Any, subplans: list[Any]) -> None:
        self.fn = fn
        self.subplans = subplans

    async def __call__(self, row: tuple[Any, ...], env: Env) -> tuple[Any, ...]:
        await prepare_all(self.subplans, row, env)
        return self.fn(row, env)  # type: ignore[no-any-return]


async def _project(fn: Any, row: tuple[Any, ...], env: Env) -> tuple[Any, ...]:
    if isinstance(fn, _Prepared):
        return await fn(row, env)
    return fn(row, env)  # type: ignore[no-any-return]


@runner(Insert)
async def run_insert(node: Insert, env: Env) -> AsyncIterator[Batch]:
    w = Writer(env, node, node.checks)
    returning = _returning(node)
    upsert = Upsert(node, w, env) if node.on_conflict is not None else None
    count = 0
    out: Batch = []
    fk_rows: list[tuple[Any, ...]] = []  # checked at the end of the statement, as PostgreSQL's RI triggers
    async for batch in run_node(node.source, env):
        env.ctx.check_cancel()
        if upsert is None:
            await w.insert_rows(batch)
            if w.checks.foreign_keys:
                fk_rows.extend(batch)
            count += len(batch)
            if returning is not None:
                for row in batch:
                    out.append(await _project(returning, row, env))
                if len(out) >= BATCH_SIZE:
                    yield out
                    out = []
            continue
        for row in batch:
            w.check_row(row)
            outcome, written = await upsert.apply(row)
            if written is None:
                continue
            if outcome == INSERTED and w.checks.foreign_keys:
                fk_rows.append(written)
            count += 1
            if returning is not None:
                out.append(await _project(returning, written, env))
                if len(out) >= BATCH_SIZE:
                    yield out
                    out = []
    if fk_rows:
        w.snapshot = None
        for row in fk_rows:
            await w.check_foreign_keys(row)
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out


@runner(Update)
async def run_update(node: Update, env: Env) -> AsyncIterator[Batch]:
    w = Writer(env, node, node.checks)
    txn = env.ctx.txn
    tw = node.table_width
    new_fn, new_subplans, recheck_fn, returning = compiled(node, "update", lambda: (
        *compile_exprs(node.new_row), _recheck_fn(node), _returning(node)))
    count = 0
    out: Batch = []
    seen: set[Any] = set()
    written: list[Any] = [None, None]  # (old, new) of a re-checked newer version (EvalPlanQual)
    async for batch in run_node(node.source, env):
        env.ctx.check_cancel()
        for src in batch:
            tid = src[tw]
            if tid in seen:
                continue  # UPDATE ... FROM joining one row several times updates it once
            seen.add(tid)
            old = src[:tw]
            if new_subplans:
                await prepare_all(new_subplans, src, env)
            new_row = new_fn(src, env)
            extra = src[tw + 1:]

            def recheck(newest: tuple[Any, ...], extra: tuple[Any, ...] = extra) -> tuple[Any, ...] | None:
                if len(newest) < tw:
                    newest = newest + (None,) * (tw - len(newest))
                candidate = newest + (None,) + extra
                if recheck_fn is not None and recheck_fn(candidate, env) is not True:
                    return None
                row = tuple(new_fn(candidate, env))
                w.check_row(row)
                written[0] = newest
                written[1] = row
                return row

            key_changed = w.key_changed(old, new_row)
            if extra and recheck_fn is None:
                # UPDATE ... FROM: lock first; a newer version re-runs the join (EvalPlanQual)
                locked = await w.heap.lock(txn, env.snapshot, tid, "update" if key_changed else "no key update")
                if locked is None:
                    continue
                if locked != tid:
                    rows = await recheck_rows(node, node.source, node.table_oid, env, locked)
                    if rows is None:  # no scan to reduce: recompute SET from the newest version alone
                        newest = await w.heap.fetch(txn, txn.manager.take_snapshot(txn), locked)
                        rows = [] if newest is None else [_pad(newest, tw) + (locked,) + extra]
                    if not rows:
                        continue
                    src, tid = rows[0], locked
                    old, extra = src[:tw], src[tw + 1:]
                    if new_subplans:
                        await prepare_all(new_subplans, src, env)
                    new_row = new_fn(src, env)
                    key_changed = w.key_changed(old, new_row)
            w.check_row(new_row)
            written[0] = None
            new_tid = await w.heap.update(txn, env.snapshot, tid, new_row, recheck, key_changed=key_changed,
                                          same_keys=w.same_index_keys, old_row=old)
            if new_tid is None:
                continue
            if not key_changed:  # at once, before any other coroutine runs
                txn.manager.carry_row_locks(txn, (w.heap.rel_id, new_tid[0], new_tid[1]))
            if written[0] is not None:
                old, new_row = written[0], written[1]
            if not w.heap.is_heap_only(new_tid):  # a HOT update keeps the old entries
                await w.insert_indexes(new_row, new_tid)
            if w.checks.foreign_keys:
                await w.check_foreign_keys(new_row, old)
            if w.checks.referenced_by:
                w.snapshot = None  # see what committed while this row was waited for
                await w.check_referenced(old, new_row)
            w.snapshot = None
            count += 1
            if returning is not None:
                out.append(await _project(returning, new_row + (None,) + extra, env))
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out


@runner(Delete)
async def run_delete(node: Delete, env: Env) -> AsyncIterator[Batch]:
    w = Writer(env, node, node.checks)
    txn = env.ctx.txn
    tw = node.table_width
    recheck_fn, returning = compiled(node, "delete", lambda: (_recheck_fn(node), _returning(node)))
    count = 0
    out: Batch = []
    seen: set[Any] = set()
    deleted: list[Any] = [None]  # a re-checked newer version (EvalPlanQual)
    async for batch in run_node(node.source, env):
        env.ctx.check_cancel()
        for src in batch:
            tid = src[tw]
            if tid in seen:
                continue
            seen.add(tid)
            extra = src[tw + 1:]

            def recheck(newest: tuple[Any, ...], extra: tuple[Any, ...] = extra) -> bool | None:
                if len(newest) < tw:
                    newest = newest + (None,) * (tw - len(newest))
                if recheck_fn is not None and recheck_fn(newest + (None,) + extra, env) is not True:
                    return None
                deleted[0] = newest
                return True

            deleted[0] = None
            if extra and recheck_fn is None:
                # DELETE ... USING: lock first; a newer version re-runs the join (EvalPlanQual)
                locked = await w.heap.lock(txn, env.snapshot, tid, "update")
                if locked is None:
                    continue
                if locked != tid:
                    rows = await recheck_rows(node, node.source, node.table_oid, env, locked)
                    if rows is not None and not rows:
                        continue  # the join no longer holds for the newest version
                    if rows:
                        src = rows[0]
                    tid = locked
            if not await w.heap.delete(txn, env.snapshot, tid, recheck):
                continue
            row = src if deleted[0] is None else deleted[0] + (tid,) + extra
            if w.checks.referenced_by:
                w.snapshot = None  # see what committed while this row was waited for
                await w.check_referenced(row[:tw], None)
            count += 1
            if returning is not None:
                out.append(await _project(returning, row, env))
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out


__all__ = ["Insert", "Update", "Delete", "OnConflict", "TableChecks", "CheckSpec", "ForeignKeySpec",
           "ReferencedBySpec", "GeneratedAlways"]
