"""INSERT, UPDATE, DELETE: heap writes, index maintenance, constraint checks, RETURNING, ON CONFLICT.

Owns the ModifyTable plan nodes and their execution: NOT NULL (23502), CHECK (23514), UNIQUE /
PRIMARY KEY (23505, via the B-trees) and FOREIGN KEY (23503) checks with PostgreSQL's messages
and details (run by executor.writer's Writer), READ COMMITTED re-checks of concurrently updated
rows, and the row counts for the command tag. An UPDATE / DELETE by one whole index key reads
its rows through executor.modifypoint instead of a scan node. Not planning (planner.modify), not
tuple storage (access.Heap).

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

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pgaurora.errors import GeneratedAlways
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Expr
from pgaurora.executor.indexkeys import IndexKeySpec
from pgaurora.executor.lockrows import recheck_rows
from pgaurora.executor.modifypoint import point_target, point_target_rows, single_values, values_row
from pgaurora.executor.nodes import BATCH_SIZE, Batch, compiled, prepare_all, run_node, runner
from pgaurora.executor.onconflict import INSERTED, Upsert
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.triggers import StatementTriggers, statement_triggers
from pgaurora.executor.writer import Writer


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    expr: Expr  # over the table row
    policy: bool = False  # a row security policy's WITH CHECK (42501 unless true; checked first;
    # `name` is then the table whose policies they are: a partitioned table's for its partitions)
    domain: str = ""  # a column's domain's constraint (its NOT NULL when `name` is ''): checked before
    # the table's own, with the domain's messages
    view: bool = False  # a view's WITH CHECK OPTION (`name` the view's): checked last, 44000 unless true


@dataclass(frozen=True, slots=True)
class ForeignKeySpec:
    """This table's columns `columns` reference `ref_table`'s `ref_columns` through `ref_index`."""

    name: str
    columns: tuple[int, ...]  # 0-based column positions in this table
    ref_table_oid: int
    ref_table_name: str
    ref_index_oid: int
    column_names: tuple[str, ...]
    oid: int = 0  # the constraint's (executor.deferred keys its modes and put-off checks by it)
    deferrable: bool = False
    deferred: bool = False  # INITIALLY DEFERRED
    match_full: bool = False  # MATCH FULL: a key with some NULLs and some values is a violation


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
    on_update: str = "a"  # a no action, r restrict, c cascade, n set null, d set default
    oid: int = 0
    deferrable: bool = False
    deferred: bool = False


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
    dropped: tuple[int, ...] = ()  # dropped columns' positions (no value of theirs shows in a message)


@dataclass(frozen=True, slots=True)
class OnConflict:
    """DO NOTHING (set is None) or DO UPDATE: `set_exprs` over (existing row + excluded row)."""

    arbiter_indexes: tuple[int, ...]  # index oids; empty = any unique index
    set_exprs: tuple[Expr, ...] | None = None
    where: Expr | None = None
    # row security (planner.rowsecurity), over one table row: what the existing row must pass
    # (UPDATE and SELECT policies' USING) and the updated row (UPDATE policies' WITH CHECK)
    existing_check: Expr | None = None
    update_check: Expr | None = None
    policy_table: str = ""


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


def _recheck_fn(node: Any) -> Any:
    """READ COMMITTED's re-evaluation of the WHERE clause (None: nothing to re-check)."""
    return compile_expr(node.recheck_qual).fn if node.recheck_qual is not None else None


def _point(source: Any) -> list[Any] | None:
    """For a source of one whole index key (executor.modifypoint): its per-plan holder."""
    return [None] if point_target(source) else None


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
    triggers = statement_triggers(env, node.table_oid, "insert", node.checks)
    if triggers is not None:
        await triggers.start()
    update_triggers = None  # ON CONFLICT DO UPDATE: the UPDATE triggers too, as PostgreSQL fires them
    if upsert is not None and node.on_conflict is not None and node.on_conflict.set_exprs is not None:
        update_triggers = upsert.update_triggers = statement_triggers(env, node.table_oid, "update", node.checks)
        if update_triggers is not None:
            await update_triggers.start()
    if upsert is None and single_values(node.source) and triggers is None:
        # INSERT ... VALUES (one row): the loop below for one batch of one row, no scan node
        batch = [await values_row(node.source, env)]
        env.ctx.check_cancel()
        await w.insert_rows(batch)
        if w.checks.foreign_keys:
            fk_rows.extend(batch)
        count = 1
        if returning is not None:
            out.append(await _project(returning, batch[0], env))
    else:
        async for batch in run_node(node.source, env):
            env.ctx.check_cancel()
            if triggers is not None:
                batch = await _before_inserts(triggers, batch)
                if not batch:
                    continue
            if upsert is None:
                await w.insert_rows(batch)
                if triggers is not None:
                    for row in batch:
                        triggers.after(None, row)
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
                if outcome == INSERTED and triggers is not None:
                    triggers.after(None, written)
                count += 1
                if returning is not None:
                    env.ctx.extra["upsert_updated"] = outcome != INSERTED  # (RETURNING xmax: planner.syscolumns)
                    out.append(await _project(returning, written, env))
                    env.ctx.extra.pop("upsert_updated", None)
                    if len(out) >= BATCH_SIZE:
                        yield out
                        out = []
    if w.unique_due:
        await w.check_unique_due()
    if fk_rows:
        w.snapshot = None
        for row in fk_rows:
            await w.check_foreign_keys(row)
    if update_triggers is not None:
        await update_triggers.finish()
    if triggers is not None:
        await triggers.finish()
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out


async def _before_inserts(triggers: StatementTriggers, batch: Batch) -> Batch:
    """The rows to insert after the BEFORE ROW triggers (a NULL return drops the row)."""
    if not triggers.before_row:
        return batch
    out: Batch = []
    for row in batch:
        kept = await triggers.before(None, tuple(row))
        if kept is not None:
            out.append(kept)
    return out


@runner(Update)
async def run_update(node: Update, env: Env) -> AsyncIterator[Batch]:
    w = Writer(env, node, node.checks)
    txn = env.ctx.txn
    tw = node.table_width
    new_fn, new_subplans, recheck_fn, returning, point = compiled(node, "update", lambda: (
        *compile_exprs(node.new_row), _recheck_fn(node), _returning(node), _point(node.source)))
    count = 0
    out: Batch = []
    seen: set[Any] = set()
    written: list[Any] = [None, None]  # (old, new) of a re-checked newer version (EvalPlanQual)
    triggers = statement_triggers(env, node.table_oid, "update", node.checks)
    if triggers is not None:
        await triggers.start()

    async def update_row(src: tuple[Any, ...]) -> None:
        nonlocal count
        tid = src[tw]
        if tid in seen:
            return  # UPDATE ... FROM joining one row several times updates it once
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
                return
            if locked != tid:
                rows = await recheck_rows(node, node.source, node.table_oid, env, locked)
                if rows is None:  # no scan to reduce: recompute SET from the newest version alone
                    newest = await w.heap.fetch(txn, txn.manager.take_snapshot(txn), locked)
                    rows = [] if newest is None else [_pad(newest, tw) + (locked,) + extra]
                if not rows:
                    return
                src, tid = rows[0], locked
                old, extra = src[:tw], src[tw + 1:]
                if new_subplans:
                    await prepare_all(new_subplans, src, env)
                new_row = new_fn(src, env)
                key_changed = w.key_changed(old, new_row)
        if triggers is not None and triggers.before_row:
            changed = await triggers.before(old, tuple(new_row))
            if changed is None:
                return
            if changed != tuple(new_row):
                new_row = changed
                key_changed = w.key_changed(old, new_row)
        w.check_row(new_row)
        written[0] = None
        new_tid = await w.heap.update(txn, env.snapshot, tid, new_row, recheck, key_changed=key_changed,
                                      same_keys=w.same_index_keys, old_row=old)
        if new_tid is None:
            return
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
        if triggers is not None:
            triggers.after(old, tuple(new_row))
        if returning is not None:
            out.append(await _project(returning, tuple(new_row) + (None,) + extra, env))

    await _each_target_row(node.source, env, point, update_row)
    if w.unique_due:
        await w.check_unique_due()
    if triggers is not None:
        await triggers.finish()
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out


async def _each_target_row(source: Any, env: Env, point: Any,
                           apply: Callable[[tuple], Awaitable[None]]) -> None:
    """Applies an UPDATE's or DELETE's per-row step to each row its source yields: by one whole
    index key, the rows at once without a scan node (executor.modifypoint); else batch by batch."""
    if point is not None:
        rows = await point_target_rows(source, env, point)
        env.ctx.check_cancel()
        for src in rows:
            await apply(src)
        return
    async for batch in run_node(source, env):
        env.ctx.check_cancel()
        for src in batch:
            await apply(src)


@runner(Delete)
async def run_delete(node: Delete, env: Env) -> AsyncIterator[Batch]:
    w = Writer(env, node, node.checks)
    txn = env.ctx.txn
    tw = node.table_width
    recheck_fn, returning, point = compiled(node, "delete", lambda: (
        _recheck_fn(node), _returning(node), _point(node.source)))
    count = 0
    out: Batch = []
    seen: set[Any] = set()
    deleted: list[Any] = [None]  # a re-checked newer version (EvalPlanQual)
    triggers = statement_triggers(env, node.table_oid, "delete", node.checks)
    if triggers is not None:
        await triggers.start()

    async def delete_row(src: tuple[Any, ...]) -> None:
        nonlocal count
        tid = src[tw]
        if tid in seen:
            return
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
                return
            if locked != tid:
                rows = await recheck_rows(node, node.source, node.table_oid, env, locked)
                if rows is not None and not rows:
                    return  # the join no longer holds for the newest version
                if rows:
                    src = rows[0]
                tid = locked
        if triggers is not None and triggers.before_row and await triggers.before(src[:tw], None) is None:
            return
        if not await w.heap.delete(txn, env.snapshot, tid, recheck):
            return
        row = src if deleted[0] is None else deleted[0] + (tid,) + extra
        if triggers is not None:
            triggers.after(row[:tw], None)
        if w.checks.referenced_by:
            w.snapshot = None  # see what committed while this row was waited for
            await w.check_referenced(row[:tw], None)
        count += 1
        if returning is not None:
            out.append(await _project(returning, row, env))

    await _each_target_row(node.source, env, point, delete_row)
    if triggers is not None:
        await triggers.finish()
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out


__all__ = ["Insert", "Update", "Delete", "OnConflict", "TableChecks", "CheckSpec", "ForeignKeySpec",
           "ReferencedBySpec", "GeneratedAlways"]
