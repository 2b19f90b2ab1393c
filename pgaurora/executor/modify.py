"""INSERT, UPDATE, DELETE: heap writes, index maintenance, constraint checks, RETURNING, ON CONFLICT.

Owns the ModifyTable plan nodes and their execution: NOT NULL (23502), CHECK (23514), UNIQUE /
PRIMARY KEY (23505, via the B-trees) and FOREIGN KEY (23503) checks with PostgreSQL's messages
and details, READ COMMITTED re-checks of concurrently updated rows, and the row counts for the
command tag. Not planning (planner.modify), not tuple storage (access.Heap).

Unique checks look the key up in the index and fetch each candidate with a snapshot that also
sees this transaction's own writes of the current command, so `INSERT ... VALUES (1), (1)` fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pgaurora.access.btree import UniqueCheck
from pgaurora.datatypes import format_value
from pgaurora.errors import (
    CardinalityViolation,
    CheckViolation,
    ForeignKeyViolation,
    GeneratedAlways,
    NotNullViolation,
    UniqueViolation,
)
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Expr
from pgaurora.executor.nodes import BATCH_SIZE, Batch, compiled, prepare_all, run_node, runner
from pgaurora.executor.plannodes import PlanNode


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


def _check_snapshot(env: Env) -> Any:
    txn = env.ctx.txn
    return txn.manager.take_snapshot(txn).with_command(txn.command_id + 1)


def _key_text(values: tuple[Any, ...], types: tuple[int, ...]) -> str:
    parts = []
    for v, t in zip(values, types, strict=True):
        parts.append("null" if v is None else str(format_value(v, t)))
    return ", ".join(parts)


class Writer:
    """Per-execution helper for one table: heap, indexes and checks."""

    def __init__(self, env: Env, node: Any, checks: TableChecks) -> None:
        self.env = env
        state = env.ctx.extra["catalog_state"]
        self.state = state
        self.table = state.table(checks.table_oid)
        storage = env.ctx.storage
        self.heap = storage.heap(self.table.rel_id)
        self.indexes = [(ix, storage.btree(ix.rel_id), tuple(self._position(a) for a in ix.columns))
                        for ix in state.indexes(self.table.oid)]
        self.checks = checks
        self.check_fns = compiled(node, "checks", lambda: [(c.name, compile_expr(c.expr).fn) for c in checks.checks])
        self.snapshot: Any = None
        self.unique_checks: list[Any] | None = None

    def _position(self, attnum: int) -> int:
        for i, c in enumerate(self.table.columns):
            if c.attnum == attnum:
                return i
        return attnum - 1

    def check_snapshot(self) -> Any:
        if self.snapshot is None:
            self.snapshot = _check_snapshot(self.env)
        return self.snapshot

    def check_row(self, row: tuple[Any, ...]) -> None:
        checks = self.checks
        for i in checks.not_null:
            if row[i] is None:
                raise NotNullViolation(
                    f'null value in column "{checks.column_names[i]}" of relation "{checks.table_name}" '
                    f'violates not-null constraint',
                    detail=f"Failing row contains ({_key_text(row, checks.column_types)}).",
                    table=checks.table_name, column=checks.column_names[i])
        for name, fn in self.check_fns:
            if fn(row, self.env) is False:
                raise CheckViolation(
                    f'new row for relation "{checks.table_name}" violates check constraint "{name}"',
                    detail=f"Failing row contains ({_key_text(row, checks.column_types)}).",
                    table=checks.table_name, constraint=name)

    async def find_conflict(self, row: tuple[Any, ...], only: tuple[int, ...] = ()) -> tuple[Any, Any, Any] | None:
        """(index, tid, existing row) of a live row with the same unique key (ON CONFLICT arbiters)."""
        txn = self.env.ctx.txn
        for ix, btree, positions in self.indexes:
            if not ix.unique or (only and ix.oid not in only):
                continue
            key = tuple(row[p] for p in positions)
            if None in key:
                continue
            tid = await btree.find_conflict(txn, self.heap, key)
            if tid is None:
                continue
            existing = await self.heap.fetch(txn, self.check_snapshot(), tid)
            if existing is None:
                continue
            if len(existing) < len(row):
                existing = existing + (None,) * (len(row) - len(existing))
            return ix, tid, existing
        return None

    def _describe(self, positions: tuple[int, ...]) -> Any:
        names = ", ".join(self.checks.column_names[p] for p in positions)
        types = tuple(self.checks.column_types[p] for p in positions)
        return lambda key: f"Key ({names})=({_key_text(tuple(key), types)}) already exists."

    async def check_foreign_keys(self, row: tuple[Any, ...], old: tuple[Any, ...] | None = None) -> None:
        for fk in self.checks.foreign_keys:
            key = tuple(row[p] for p in fk.columns)
            if None in key:
                continue
            if old is not None and tuple(old[p] for p in fk.columns) == key:
                continue
            ref_table = self.state.table(fk.ref_table_oid)
            ref_index = self.state.by_oid.get(fk.ref_index_oid)
            storage = self.env.ctx.storage
            btree = storage.btree(ref_index.rel_id)
            heap = storage.heap(ref_table.rel_id)
            found = False
            for tid in await btree.lookup(key):
                if await heap.fetch(self.env.ctx.txn, self.check_snapshot(), tid) is not None:
                    found = True
                    break
            if not found:
                types = tuple(self.checks.column_types[p] for p in fk.columns)
                raise ForeignKeyViolation(
                    f'insert or update on table "{self.checks.table_name}" violates foreign key constraint "{fk.name}"',
                    detail=f"Key ({', '.join(fk.column_names)})=({_key_text(key, types)}) "
                           f'is not present in table "{fk.ref_table_name}".',
                    table=self.checks.table_name, constraint=fk.name)

    async def check_referenced(self, old: tuple[Any, ...], new: tuple[Any, ...] | None) -> None:
        """Rows elsewhere that reference `old` (deleted, or updated to `new`)."""
        for ref in self.checks.referenced_by:
            key = tuple(old[p] for p in ref.ref_columns)
            if None in key:
                continue
            if new is not None and tuple(new[p] for p in ref.ref_columns) == key:
                continue
            other = self.state.table(ref.table_oid)
            heap = self.env.ctx.storage.heap(other.rel_id)
            snapshot = self.check_snapshot()
            victims = []
            async for batch in heap.scan(self.env.ctx.txn, snapshot):
                for tid, r in batch:
                    if tuple(r[p] for p in ref.columns) == key:
                        victims.append((tid, r))
            if not victims:
                continue
            if new is None and ref.on_delete == "c":
                await self._cascade(other, heap, victims, 0)
                continue
            types = tuple(self.checks.column_types[p] for p in ref.ref_columns)
            raise ForeignKeyViolation(
                f'update or delete on table "{self.checks.table_name}" violates foreign key constraint '
                f'"{ref.name}" on table "{ref.table_name}"',
                detail=f"Key ({', '.join(ref.ref_column_names)})=({_key_text(key, types)}) "
                       f'is still referenced from table "{ref.table_name}".',
                table=ref.table_name, constraint=ref.name)

    async def _cascade(self, table: Any, heap: Any, victims: list[tuple[Any, tuple[Any, ...]]], depth: int) -> None:
        """ON DELETE CASCADE: deletes `victims` of `table`, then what references them, recursively."""
        if depth > 100:
            raise ForeignKeyViolation("foreign key cascade is too deep")
        txn = self.env.ctx.txn
        deleted = []
        for tid, row in victims:
            if await heap.delete(txn, self.env.snapshot, tid):
                deleted.append(row)
        positions = {c.attnum: i for i, c in enumerate(table.columns)}
        for other, con in self.state.referencing(table.oid):
            other_pos = {c.attnum: i for i, c in enumerate(other.columns)}
            cols = [other_pos[a] for a in con.columns]
            keys = {tuple(row[positions[a]] for a in con.ref_columns) for row in deleted}
            keys.discard(None)  # type: ignore[arg-type]
            if not keys:
                continue
            other_heap = self.env.ctx.storage.heap(other.rel_id)
            found = []
            async for batch in other_heap.scan(txn, _check_snapshot(self.env)):
                for tid, r in batch:
                    if tuple(r[p] for p in cols) in keys:
                        found.append((tid, r))
            if not found:
                continue
            if con.on_delete != "c":
                names = ", ".join(table.columns[positions[a]].name for a in con.ref_columns)
                raise ForeignKeyViolation(
                    f'update or delete on table "{table.name}" violates foreign key constraint "{con.name}" '
                    f'on table "{other.name}"',
                    detail=f'Key ({names}) is still referenced from table "{other.name}".',
                    table=other.name, constraint=con.name)
            await self._cascade(other, other_heap, found, depth + 1)

    async def insert_indexes(self, row: tuple[Any, ...], tid: Any) -> None:
        if self.unique_checks is None:
            txn = self.env.ctx.txn
            self.unique_checks = [
                UniqueCheck(txn, self.heap, ix.name, tuple(self.checks.column_names[p] for p in positions),
                            self._describe(positions)) if ix.unique else None
                for ix, _btree, positions in self.indexes]
        for (_ix, btree, positions), check in zip(self.indexes, self.unique_checks, strict=True):
            key = (row[positions[0]],) if len(positions) == 1 else tuple(row[p] for p in positions)
            if check is None:
                await btree.insert(key, tid)
                continue
            try:
                await btree.insert(key, tid, check)
            except UniqueViolation as exc:
                exc.table = self.checks.table_name
                raise


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
    txn = env.ctx.txn
    returning = _returning(node)
    conflict = node.on_conflict
    set_fn = where_fn = None
    if conflict is not None and conflict.set_exprs is not None:
        set_fn = compiled(node, "conflict_set", lambda: compile_exprs(conflict.set_exprs)[0])  # type: ignore[arg-type]
        if conflict.where is not None:
            where_fn = compiled(node, "conflict_where", lambda: compile_expr(conflict.where).fn)  # type: ignore[arg-type]
    count = 0
    out: Batch = []
    touched: set[Any] = set()
    fk_rows: list[tuple[Any, ...]] = []  # checked at the end of the statement, as PostgreSQL's RI triggers
    async for batch in run_node(node.source, env):
        env.ctx.check_cancel()
        if conflict is None:
            # bulk path: one MTR per heap page filled, then the index entries (with unique checks)
            for row in batch:
                w.check_row(row)
            tids = await w.heap.insert_many(txn, batch) if len(batch) > 1 else [await w.heap.insert(txn, batch[0])]
            for row, tid in zip(batch, tids, strict=True):
                await w.insert_indexes(row, tid)
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
            if conflict is not None:
                hit = await w.find_conflict(row, conflict.arbiter_indexes)
                if hit is not None:
                    if set_fn is None:
                        continue
                    _ix, tid, existing = hit
                    if tid in touched:
                        raise CardinalityViolation(
                            "ON CONFLICT DO UPDATE command cannot affect row a second time",
                            hint="Ensure that no rows proposed for insertion within the same command "
                                 "have duplicate constrained values.")
                    combined = existing + row
                    if where_fn is not None and where_fn(combined, env) is not True:
                        continue
                    new_row = set_fn(combined, env)
                    w.check_row(new_row)
                    await w.check_foreign_keys(new_row, existing)
                    new_tid = await w.heap.update(txn, env.snapshot, tid, new_row)
                    if new_tid is None:
                        continue
                    touched.add(new_tid)
                    await w.insert_indexes(new_row, new_tid)
                    w.snapshot = None
                    count += 1
                    if returning is not None:
                        out.append(await _project(returning, new_row, env))
                    continue
            tid = await w.heap.insert(txn, row)
            if w.checks.foreign_keys:
                fk_rows.append(row)
            touched.add(tid)
            await w.insert_indexes(row, tid)
            w.snapshot = None
            count += 1
            if returning is not None:
                out.append(await _project(returning, row, env))
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
    new_fn, new_subplans = compiled(node, "new_row", lambda: compile_exprs(node.new_row))
    recheck_qual = node.recheck_qual
    recheck_fn = compiled(node, "recheck", lambda: compile_expr(recheck_qual).fn) if recheck_qual is not None else None
    returning = _returning(node)
    count = 0
    out: Batch = []
    seen: set[Any] = set()
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
                return tuple(new_fn(candidate, env))

            w.check_row(new_row)
            await w.check_foreign_keys(new_row, old)
            await w.check_referenced(old, new_row)
            new_tid = await w.heap.update(txn, env.snapshot, tid, new_row, recheck)
            if new_tid is None:
                continue
            await w.insert_indexes(new_row, new_tid)
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
    recheck_qual = node.recheck_qual
    recheck_fn = compiled(node, "recheck", lambda: compile_expr(recheck_qual).fn) if recheck_qual is not None else None
    returning = _returning(node)
    count = 0
    out: Batch = []
    seen: set[Any] = set()
    async for batch in run_node(node.source, env):
        env.ctx.check_cancel()
        for src in batch:
            tid = src[tw]
            if tid in seen:
                continue
            seen.add(tid)

            def recheck(newest: tuple[Any, ...], extra: tuple[Any, ...] = src[tw + 1:]) -> bool | None:
                if recheck_fn is None:
                    return True
                if len(newest) < tw:
                    newest = newest + (None,) * (tw - len(newest))
                return True if recheck_fn(newest + (None,) + extra, env) is True else None

            await w.check_referenced(src[:tw], None)
            if not await w.heap.delete(txn, env.snapshot, tid, recheck):
                continue
            count += 1
            if returning is not None:
                out.append(await _project(returning, src, env))
    env.row_counts["rows"] = count
    env.row_counts["modified"] = 1
    if out:
        yield out


__all__ = ["Insert", "Update", "Delete", "OnConflict", "TableChecks", "CheckSpec", "ForeignKeySpec",
           "ReferencedBySpec", "GeneratedAlways"]
