"""The writer of one statement's target table: its heap, its indexes, and the row checks.

Owns, for one execution of an INSERT / UPDATE / DELETE, the heap and B-tree objects of the
target table (from the instance's storage) over the per-plan facts of executor.resultrel: NOT
NULL (23502), CHECK (23514) and partition-bound checks with PostgreSQL's messages, index
entries with their unique checks (23505), which updates may be HOT, and which change a key
(the row-lock strength). Foreign keys are its ForeignKeyChecks base (executor.foreignkeys).
Not the statements' loops, RETURNING or READ COMMITTED re-checks (executor.modify).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pgaurora.access.btree import UniqueCheck
from pgaurora.errors import (
    CheckViolation,
    InsufficientPrivilege,
    NotNullViolation,
    UniqueViolation,
    WithCheckOptionViolation,
)
from pgaurora.executor.context import Env
from pgaurora.executor.deferred import is_deferred, put_off
from pgaurora.executor.foreignkeys import ForeignKeyChecks, check_snapshot, key_text
from pgaurora.executor.resultrel import result_relation

if TYPE_CHECKING:
    from pgaurora.executor.modify import TableChecks


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
        # keys of DEFERRABLE (not deferred now) unique constraints, checked at the statement's end
        self.unique_due: list[tuple[int, tuple[Any, ...]]] = []
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

    def check_row(self, row: tuple[Any, ...], *, policies: bool = True) -> None:
        checks = self.checks
        for name, fn, policy, _ in self.check_fns:  # row security first, as PostgreSQL's WITH CHECK options
            if policy and policies and fn(row, self.env) is not True:  # (`name`: the table whose policies they are)
                raise InsufficientPrivilege(f'new row violates row-level security policy for table '
                                            f'"{name or checks.table_name}"')
        for name, fn, _, domain in self.check_fns:  # then the columns' domains (their values' coercion)
            if domain and fn(row, self.env) is False:
                if not name:
                    raise NotNullViolation(f"domain {domain} does not allow null values", datatype=domain)
                raise CheckViolation(f'value for domain {domain} violates check constraint "{name}"',
                                     datatype=domain, constraint=name)
        for i in checks.not_null:
            if row[i] is None:
                raise NotNullViolation(
                    f'null value in column "{checks.column_names[i]}" of relation "{checks.table_name}" '
                    f'violates not-null constraint',
                    detail=f"Failing row contains ({_row_text(row, checks)}).",
                    table=checks.table_name, column=checks.column_names[i])
        for name, fn, policy, domain in self.check_fns:
            if not policy and not domain and fn(row, self.env) is False:
                raise CheckViolation(
                    f'new row for relation "{checks.table_name}" violates check constraint "{name}"',
                    detail=f"Failing row contains ({_row_text(row, checks)}).",
                    table=checks.table_name, constraint=name)
        if checks.partition_check is not None and not checks.partition_check(row):
            raise CheckViolation(f'new row for relation "{checks.table_name}" violates partition constraint',
                                 detail=f"Failing row contains ({_row_text(row, checks)}).",
                                 table=checks.table_name)
        for name, fn in self.rel.view_check_fns:  # WITH CHECK OPTION of the views written through
            if fn(row, self.env) is not True:
                raise WithCheckOptionViolation(f'new row violates check option for view "{name}"',
                                               detail=f"Failing row contains ({_row_text(row, checks)}).")

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
        deferrable = self.rel.deferrable_unique
        for i, ((ix, btree, positions), check) in enumerate(zip(self.indexes, self.unique_checks, strict=True)):
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
            later = deferrable[i]
            if later is not None:  # DEFERRABLE: any duplicate is found later
                await btree.insert(key, tid)
                if check.nulls_not_distinct or None not in key:
                    self._put_off_unique(i, later, key)
                continue
            try:
                await btree.insert(key, tid, check)
            except UniqueViolation as exc:
                exc.table = self.checks.table_name
                raise


    def _put_off_unique(self, i: int, constraint: tuple[int, bool], key: tuple[Any, ...]) -> None:
        txn = self.env.ctx.txn
        con_oid, initially_deferred = constraint
        if is_deferred(txn, con_oid, True, initially_deferred):
            put_off(txn, "unique", con_oid, self.checks.table_oid, key)
        else:
            self.unique_due.append((i, key))

    async def check_unique_due(self) -> None:
        """At the statement's end: the keys of DEFERRABLE unique constraints it wrote must be
        unique now (PostgreSQL checks those constraints after the statement, not per row)."""
        due, self.unique_due = self.unique_due, []
        assert self.unique_checks is not None or not due
        for i, key in due:
            _ix, btree, _positions = self.indexes[i]
            check = self.unique_checks[i]  # type: ignore[index]
            if await btree.has_duplicate(self.env.ctx.txn, self.heap, key, check.nulls_not_distinct):
                exc = check.error(key)
                exc.table = self.checks.table_name
                raise exc


def _row_text(row: tuple[Any, ...], checks: Any) -> str:
    """A row as PostgreSQL's "Failing row contains (...)" shows it: its live columns' values."""
    if not checks.dropped:
        return key_text(row, checks.column_types)
    live = [i for i in range(len(checks.column_types)) if i not in checks.dropped]
    return key_text(tuple(row[i] if i < len(row) else None for i in live), tuple(checks.column_types[i] for i in live))

