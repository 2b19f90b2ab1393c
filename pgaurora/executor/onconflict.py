"""INSERT ... ON CONFLICT: PostgreSQL's speculative insertion, one proposed row at a time.

Owns deciding, for each row an INSERT ... ON CONFLICT proposes, whether it is inserted, updates
the conflicting row (DO UPDATE) or is skipped, so that concurrent upserts of one key lose no
update. Not the INSERT node itself, constraint checks or index maintenance (executor.modify).

    loop:
      conflict = arbiter index has a live equal key (waits for a running inserter/deleter)
      no conflict  -> insert heap tuple + index entries; if an index insert meets a committed
                      equal key after all (another inserter won the race), delete our own tuple
                      (PostgreSQL's "super-delete") and go round again
      DO NOTHING   -> skip (REPEATABLE READ: 40001 if the snapshot cannot see that row)
      DO UPDATE    -> lock the row FOR UPDATE (waits; follows a concurrent update to the newest
                      version), 40001 in REPEATABLE READ if the snapshot cannot see it, then
                      WHERE and SET over (locked row, proposed row), update the locked version
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pgaurora.errors import (
    CardinalityViolation,
    FeatureNotSupported,
    InsufficientPrivilege,
    InternalError,
    SerializationFailure,
    UniqueViolation,
)
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.nodes import compiled

if TYPE_CHECKING:
    from pgaurora.executor.modify import Insert, Writer

Row = tuple[Any, ...]
_RETRIES = 1000

INSERTED = "inserted"
UPDATED = "updated"
SKIPPED = "skipped"


class Upsert:
    """ON CONFLICT handling for one execution of an Insert node."""

    def __init__(self, node: Insert, writer: Writer, env: Env) -> None:
        conflict = node.on_conflict
        assert conflict is not None
        self.w = writer
        self.env = env
        self.arbiters = conflict.arbiter_indexes
        self.set_fn = self.where_fn = None
        if conflict.set_exprs is not None:
            set_exprs = conflict.set_exprs
            self.set_fn = compiled(node, "conflict_set", lambda: compile_exprs(set_exprs)[0])
            where = conflict.where
            if where is not None:
                self.where_fn = compiled(node, "conflict_where", lambda: compile_expr(where).fn)
        self.existing_fn = self.update_fn = None
        if conflict.existing_check is not None and conflict.update_check is not None:
            existing_check, update_check = conflict.existing_check, conflict.update_check
            self.existing_fn = compiled(node, "conflict_rls_existing", lambda: compile_expr(existing_check).fn)
            self.update_fn = compiled(node, "conflict_rls_update", lambda: compile_expr(update_check).fn)
        self.policy_table = conflict.policy_table
        self.touched: set[Any] = set()  # tids this command inserted or updated
        self.read_committed = env.ctx.txn.isolation == "read committed"
        self.width = len(node.checks.column_names)
        # an INSERT routed through a partitioned table (executor.partition): DO UPDATE may not
        # move the row to another partition
        self.routed = False
        # DO UPDATE fires the table's UPDATE triggers on the row it updates (executor.triggers; set
        # by the INSERT that owns this Upsert)
        self.update_triggers: Any = None

    async def _conflict(self, row: Row) -> Any:
        """The tid of a live row with an equal key in an arbiter index, or None."""
        w = self.w
        txn = self.env.ctx.txn
        for ix, btree, positions in w.indexes:
            if not ix.unique or (self.arbiters and ix.oid not in self.arbiters):
                continue
            key = w.key_of(ix, positions, row)
            if key is None or (None in key and not ix.nulls_not_distinct):
                continue
            tid = await btree.find_conflict(txn, w.heap, key, nulls_not_distinct=ix.nulls_not_distinct)
            if tid is not None:
                return tid
        return None

    def _not_visible(self) -> SerializationFailure:
        return SerializationFailure("could not serialize access due to concurrent update")

    async def apply(self, row: Row) -> tuple[str, Row | None]:
        """(INSERTED, row) / (UPDATED, new row) / (SKIPPED, None) for one proposed row."""
        w = self.w
        txn = self.env.ctx.txn
        for _ in range(_RETRIES):
            tid = await self._conflict(row)
            if tid is None:
                new_tid = await w.heap.insert(txn, row)
                try:
                    await w.insert_indexes(row, new_tid)
                except UniqueViolation:
                    if await self._conflict(row) is None:
                        raise  # a non-arbiter index: a real violation
                    await w.heap.delete(txn, None, new_tid)  # lost the race: undo ours, go round
                    continue
                self.touched.add(new_tid)
                w.snapshot = None
                return INSERTED, row
            if self.set_fn is None:
                if tid not in self.touched and not self.read_committed and \
                        await w.heap.fetch(txn, self.env.snapshot, tid) is None:
                    raise self._not_visible()
                return SKIPPED, None
            if tid in self.touched:
                raise CardinalityViolation(
                    "ON CONFLICT DO UPDATE command cannot affect row a second time",
                    hint="Ensure that no rows proposed for insertion within the same command "
                         "have duplicate constrained values.")
            outcome = await self._update(tid, row)
            if outcome is not None:
                return outcome
        raise InternalError("ON CONFLICT could not settle a concurrently changed row")

    async def _update(self, tid: Any, row: Row) -> tuple[str, Row | None] | None:
        """DO UPDATE of the conflicting row at `tid`; None = it changed meanwhile, start again."""
        w = self.w
        env = self.env
        txn = env.ctx.txn
        locked = await w.heap.lock(txn, env.snapshot, tid, "update")
        if locked is None:
            return None  # deleted meanwhile
        if not self.read_committed and await w.heap.fetch(txn, env.snapshot, locked) is None:
            raise self._not_visible()
        w.snapshot = None
        existing = await w.heap.fetch(txn, w.check_snapshot(), locked)
        if existing is None:
            return None
        if len(existing) < self.width:
            existing = existing + (None,) * (self.width - len(existing))
        combined = existing + row
        if self.where_fn is not None and self.where_fn(combined, env) is not True:
            return SKIPPED, None  # the row stays locked, as in PostgreSQL
        if self.existing_fn is not None and self.existing_fn(existing, env) is not True:
            raise InsufficientPrivilege(f'new row violates row-level security policy (USING expression) for table '
                                        f'"{self.policy_table}"')
        assert self.set_fn is not None
        new_row = self.set_fn(combined, env)
        if self.update_fn is not None and self.update_fn(new_row, env) is not True:
            raise InsufficientPrivilege(f'new row violates row-level security policy for table "{self.policy_table}"')
        check = w.checks.partition_check
        if self.routed and check is not None and not check(new_row):
            raise FeatureNotSupported(
                "invalid ON UPDATE specification",
                detail="The result tuple would appear in a different partition than the original tuple.")
        triggers = self.update_triggers
        if triggers is not None and triggers.before_row:
            changed = await triggers.before(existing, tuple(new_row))
            if changed is None:
                return SKIPPED, None
            new_row = changed
        w.check_row(new_row, policies=self.update_fn is None)  # (the INSERT's policies are not the UPDATE's)
        new_tid = await w.heap.update(txn, env.snapshot, locked, new_row, key_changed=w.key_changed(existing, new_row))
        if new_tid is None:
            return None
        if triggers is not None:
            triggers.after(existing, tuple(new_row))
        self.touched.add(new_tid)
        await w.insert_indexes(new_row, new_tid)
        await w.check_foreign_keys(new_row, existing)
        if w.checks.referenced_by:  # a key other rows reference changed: their action, or 23503
            w.snapshot = None
            await w.check_referenced(existing, new_row)
        w.snapshot = None
        return UPDATED, new_row
