"""Foreign keys on writes: PostgreSQL's RI triggers, run by the INSERT/UPDATE/DELETE nodes.

Owns the referential checks of executor.modify's Writer (a mixin): a new or changed referencing
row must find its referenced row, locked FOR KEY SHARE as RI_FKey_check does, so that a concurrent
DELETE or key UPDATE of the parent waits (or is waited for) and then counts; a deleted or re-keyed
referenced row must have no referencing rows left (NO ACTION / RESTRICT: 23503) or takes them
along (ON DELETE CASCADE). Not the other constraint checks or index maintenance (executor.modify).
"""

from __future__ import annotations

from typing import Any

from pgaurora.datatypes import format_value
from pgaurora.errors import ForeignKeyViolation
from pgaurora.executor.context import Env


def check_snapshot(env: Env) -> Any:
    """A fresh snapshot that also sees this transaction's writes of the current command."""
    txn = env.ctx.txn
    return txn.manager.take_snapshot(txn).with_command(txn.command_id + 1)


def key_text(values: tuple[Any, ...], types: tuple[int, ...]) -> str:
    parts = []
    for v, t in zip(values, types, strict=True):
        parts.append("null" if v is None else str(format_value(v, t)))
    return ", ".join(parts)


class ForeignKeyChecks:
    """The referential checks of one table's Writer (executor.modify)."""

    env: Env
    state: Any
    checks: Any

    def check_snapshot(self) -> Any:
        raise NotImplementedError

    async def check_foreign_keys(self, row: tuple[Any, ...], old: tuple[Any, ...] | None = None) -> None:
        for fk in self.checks.foreign_keys:
            key = tuple(row[p] for p in fk.columns)
            if None in key:
                continue
            if old is not None and tuple(old[p] for p in fk.columns) == key:
                continue
            ref_table = self.state.table(fk.ref_table_oid)
            ref_index = self.state.by_oid.get(fk.ref_index_oid)
            if not await self._lock_referenced(ref_table, ref_index, key):
                types = tuple(self.checks.column_types[p] for p in fk.columns)
                raise ForeignKeyViolation(
                    f'insert or update on table "{self.checks.table_name}" violates foreign key constraint "{fk.name}"',
                    detail=f"Key ({', '.join(fk.column_names)})=({key_text(key, types)}) "
                           f'is not present in table "{fk.ref_table_name}".',
                    table=self.checks.table_name, constraint=fk.name)

    async def _lock_referenced(self, ref_table: Any, ref_index: Any, key: tuple[Any, ...]) -> bool:
        """Finds the referenced row and locks it FOR KEY SHARE (PostgreSQL's RI_FKey_check): a
        concurrent DELETE or key change is waited for, and then the row no longer counts."""
        storage = self.env.ctx.storage
        btree = storage.btree(ref_index.rel_id)
        heap = storage.heap(ref_table.rel_id)
        if not heap.name:
            heap.name = ref_table.name
        positions = {c.attnum: i for i, c in enumerate(ref_table.columns)}
        key_positions = tuple(positions[a] for a in ref_index.columns)
        txn = self.env.ctx.txn
        snapshot = self.check_snapshot()

        def same_key(newest: tuple[Any, ...]) -> bool | None:
            return True if tuple(newest[p] for p in key_positions) == key else None

        for tid in await btree.lookup(key):
            if await heap.fetch(txn, snapshot, tid) is None:
                continue
            if await heap.lock(txn, snapshot, tid, "key share", recheck=same_key) is not None:
                return True
        return False

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
                detail=f"Key ({', '.join(ref.ref_column_names)})=({key_text(key, types)}) "
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
            async for batch in other_heap.scan(txn, check_snapshot(self.env)):
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
