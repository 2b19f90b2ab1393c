"""Foreign keys on writes: PostgreSQL's RI triggers, run by the INSERT/UPDATE/DELETE nodes.

Owns the referential checks of executor.modify's Writer (a mixin): a new or changed referencing
row must find its referenced row, locked FOR KEY SHARE as RI_FKey_check does, so that a concurrent
DELETE or key UPDATE of the parent waits (or is waited for) and then counts; a deleted or re-keyed
referenced row must have no referencing rows left (NO ACTION / RESTRICT: 23503) or takes them
along (ON DELETE CASCADE). Not the other constraint checks or index maintenance (executor.modify).

Partitioned tables, as PostgreSQL 15 (which clones the constraints onto the partitions): a
partitioned table's foreign keys hold for every partition (`foreign_keys_of`), a referenced
partitioned table's rows are looked up in the partition indexes of its unique index, and a key
removed from a partition counts against the foreign keys referencing its partitioned table
(`referencing_of`, named as PostgreSQL names their clones: "ch_k_id_fkey1" for the first
partition). Referencing rows are searched in every partition of a partitioned referencing table.
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.builtins.text_functions import quote_ident
from pgaurora.catalog.roles import role_by_oid
from pgaurora.catalog.system.describe import schema_name
from pgaurora.datatypes import format_value
from pgaurora.errors import ForeignKeyViolation, UniqueViolation
from pgaurora.executor.context import Env
from pgaurora.executor.deferred import is_deferred, put_off


def foreign_keys_of(state: Any, table: Any) -> list[Any]:
    """`table`'s foreign key constraints, and for a partition those of its partitioned table."""
    own = [c for c in table.constraints if c.kind == "f"]
    parent = state.table(table.partition_of) if table.partition_of else None
    return own + (foreign_keys_of(state, parent) if parent is not None else [])


def referencing_of(state: Any, table: Any) -> list[tuple[Any, Any]]:
    """(referencing table, constraint) pairs for keys of `table`: its own referencers and, for a
    partition, its partitioned table's (named like PostgreSQL's clone on this partition)."""
    from dataclasses import replace

    out = list(state.referencing(table.oid))
    parent = state.table(table.partition_of) if table.partition_of else None
    if parent is not None:
        ordinal = next((i for i, p in enumerate(state.partitions(parent.oid), 1) if p.oid == table.oid), 1)
        out.extend((other, replace(con, name=f"{con.name}{ordinal}")) for other, con in referencing_of(state, parent))
    return out


def leaf_tables(state: Any, table: Any) -> list[Any]:
    """The tables holding `table`'s rows: itself, or the partitions of a partitioned table."""
    if table.kind != "p":
        return [table]
    return [leaf for part in state.partitions(table.oid) for leaf in leaf_tables(state, part)]


async def validate_foreign_key(env: Env, state: Any, table: Any, con: Any) -> None:
    """ALTER TABLE ... ADD FOREIGN KEY: every existing row's key (without NULLs: MATCH SIMPLE) must
    be present in the referenced table (its partitions for a partitioned one), else 23503 as
    PostgreSQL's validation reports it."""
    ref = state.table(con.ref_table) if con.ref_table != table.oid else table
    if ref is None:
        return
    txn = env.ctx.txn
    snapshot = check_snapshot(env)
    storage = env.ctx.storage
    ref_pos = {c.attnum: i for i, c in enumerate(ref.columns)}
    ref_cols = [ref_pos[a] for a in con.ref_columns]
    present: set[tuple[Any, ...]] = set()
    for leaf in leaf_tables(state, ref):
        async for batch in storage.heap(leaf.rel_id).scan(txn, snapshot):
            present.update(tuple(row[p] if p < len(row) else None for p in ref_cols) for _, row in batch)
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    cols = [positions[a] for a in con.columns]
    for leaf in leaf_tables(state, table):
        async for batch in storage.heap(leaf.rel_id).scan(txn, snapshot):
            for _, row in batch:
                key = tuple(row[p] if p < len(row) else None for p in cols)
                if None in key and con.match_full and any(v is not None for v in key):
                    raise mixed_nulls(table.name, con.name)
                if None in key or key in present:
                    continue
                types = tuple(table.columns[p].type_oid for p in cols)
                raise key_not_present(table.name, con.name, [table.columns[p].name for p in cols],
                                      key_text(key, types), ref.name)


def check_snapshot(env: Env) -> Any:
    """A fresh snapshot that also sees this transaction's writes of the current command."""
    txn = env.ctx.txn
    return txn.manager.take_snapshot(txn).with_command(txn.command_id + 1)


def key_text(values: tuple[Any, ...], types: tuple[int, ...]) -> str:
    parts = []
    for v, t in zip(values, types, strict=True):
        parts.append("null" if v is None else str(format_value(v, t)))
    return ", ".join(parts)


def mixed_nulls(table: str, constraint: str) -> ForeignKeyViolation:
    """23503 of a MATCH FULL foreign key's key with some NULL and some non-NULL columns."""
    return ForeignKeyViolation(
        f'insert or update on table "{table}" violates foreign key constraint "{constraint}"',
        detail="MATCH FULL does not allow mixing of null and nonnull key values.",
        table=table, constraint=constraint)


def key_not_present(table: str, constraint: str, columns: list[str] | tuple[str, ...], key: str,
                    referenced: str) -> ForeignKeyViolation:
    """23503 of a referencing row whose key no referenced row has (RI_FKey_check's message)."""
    return ForeignKeyViolation(
        f'insert or update on table "{table}" violates foreign key constraint "{constraint}"',
        detail=f"Key ({', '.join(columns)})=({key}) is not present in table \"{referenced}\".",
        table=table, constraint=constraint)


def still_referenced(referenced: str, constraint: str, table: str, columns: list[str] | tuple[str, ...],
                     key: str) -> ForeignKeyViolation:
    """23503 of a referenced key that rows of `table` still reference (ri_ReportViolation)."""
    return ForeignKeyViolation(
        f'update or delete on table "{referenced}" violates foreign key constraint "{constraint}" on table '
        f'"{table}"',
        detail=f"Key ({', '.join(columns)})=({key}) is still referenced from table \"{table}\".",
        table=table, constraint=constraint)


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
                if fk.match_full and any(v is not None for v in key):
                    raise mixed_nulls(self.checks.table_name, fk.name)
                continue
            if old is not None and tuple(old[p] for p in fk.columns) == key:
                continue
            if fk.deferrable and is_deferred(self.env.ctx.txn, fk.oid, True, fk.deferred):
                put_off(self.env.ctx.txn, "fk", fk.oid, self.checks.table_oid, key)
                continue
            ref_table = self.state.table(fk.ref_table_oid)
            ref_index = self.state.by_oid.get(fk.ref_index_oid)
            if len(key) > 1:
                key = self._in_index_order(fk.name, ref_index, key)
            if not await self._lock_referenced(ref_table, ref_index, key):
                key = tuple(row[p] for p in fk.columns)
                types = tuple(self.checks.column_types[p] for p in fk.columns)
                raise key_not_present(self.checks.table_name, fk.name, fk.column_names, key_text(key, types),
                                      fk.ref_table_name)

    def _in_index_order(self, name: str, ref_index: Any, key: tuple[Any, ...]) -> tuple[Any, ...]:
        """`key` (in the constraint's column order) in the order of the referenced index's columns."""
        table = getattr(self, "table", None)
        con = next((c for c in foreign_keys_of(self.state, table) if c.name == name), None) if table else None
        if con is None or tuple(con.ref_columns) == tuple(ref_index.columns):
            return key
        by_attnum = dict(zip(con.ref_columns, key, strict=True))
        return tuple(by_attnum[a] for a in ref_index.columns)

    async def _lock_referenced(self, ref_table: Any, ref_index: Any, key: tuple[Any, ...]) -> bool:
        """Finds the referenced row and locks it FOR KEY SHARE (PostgreSQL's RI_FKey_check): a
        concurrent DELETE or key change is waited for, and then the row no longer counts."""
        if ref_table.kind == "p":  # the partitions' copies of the partitioned unique index
            for part in self.state.partitions(ref_table.oid):
                child = next((ix for ix in self.state.indexes(part.oid) if ix.parent_index == ref_index.oid), None)
                if child is not None and await self._lock_referenced(part, child, key):
                    return True
            return False
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

        # counted in pg_stat_user_indexes like PostgreSQL's check query (an index scan of the key)
        roots, tids = await btree.lookup_entries(key)
        btree.scans += 1
        btree.tuples_read += len(roots)
        for tid in tids:
            if await heap.fetch(txn, snapshot, tid) is None:
                continue
            btree.tuples_fetched += 1
            if await heap.lock(txn, snapshot, tid, "key share", recheck=same_key) is not None:
                return True
        return False

    async def check_referenced(self, old: tuple[Any, ...], new: tuple[Any, ...] | None) -> None:
        """Rows elsewhere that reference `old` (deleted, or updated to `new`): the foreign key's
        action on them (ON DELETE / ON UPDATE: CASCADE, SET NULL, SET DEFAULT), or 23503 while
        any is left (NO ACTION, RESTRICT)."""
        for ref in self.checks.referenced_by:
            key = tuple(old[p] for p in ref.ref_columns)
            if None in key:
                continue
            if new is not None and tuple(new[p] for p in ref.ref_columns) == key:
                continue
            action = ref.on_delete if new is None else ref.on_update
            if action in ("n", "d") or (action == "c" and new is not None):
                new_key = None if new is None else tuple(new[p] for p in ref.ref_columns)
                await self._update_referencing(ref, key, action, new_key)
                if action != "d":
                    continue
                # a row whose default is the removed key itself still references it: PostgreSQL's
                # RI_FKey_setdefault then runs the NO ACTION check
                action = "a"
            if action == "a" and ref.deferrable and is_deferred(self.env.ctx.txn, ref.oid, True, ref.deferred):
                put_off(self.env.ctx.txn, "ref", ref.oid, ref.table_oid, key)
                continue
            found = []
            for other in leaf_tables(self.state, self.state.table(ref.table_oid)):
                heap = self.env.ctx.storage.heap(other.rel_id)
                snapshot = self.check_snapshot()
                victims = []
                async for batch in heap.scan(self.env.ctx.txn, snapshot):
                    for tid, r in batch:
                        if tuple(r[p] for p in ref.columns) == key:
                            victims.append((tid, r))
                if victims:
                    found.append((other, heap, victims))
            if not found:
                continue
            if action == "c":
                for other, heap, victims in found:
                    await self._cascade(other, heap, victims, 0)
                continue
            types = tuple(self.checks.column_types[p] for p in ref.ref_columns)
            raise still_referenced(self.checks.table_name, ref.name, ref.table_name, ref.ref_column_names,
                                   key_text(key, types))

    async def _update_referencing(self, ref: Any, key: tuple[Any, ...], action: str,
                                  new_key: tuple[Any, ...] | None) -> None:
        """ON DELETE / UPDATE SET NULL, SET DEFAULT and ON UPDATE CASCADE: PostgreSQL's RI
        triggers run an UPDATE of the referencing rows (as the referencing table's owner, which
        row security does not restrict), so everything an UPDATE checks applies: NOT NULL, CHECK,
        the new values' own foreign key (a SET DEFAULT value must be present), and the actions of
        keys referencing those rows in turn. Run through the session (the planner is above the
        executor); without one (tests of the executor alone), refused as NO ACTION would be."""
        table = self.state.table(ref.table_oid)
        session = self.env.ctx.extra.get("session")
        if table is None or session is None:
            raise ForeignKeyViolation(f'update or delete on table "{self.checks.table_name}" violates foreign key '
                                      f'constraint "{ref.name}" on table "{ref.table_name}"')
        names = [quote_ident(table.columns[p].name) for p in ref.columns]
        if action == "n":
            assignments = [f"{n} = NULL" for n in names]
        elif action == "d":
            assignments = [f"{n} = DEFAULT" for n in names]
        else:
            assignments = [f"{n} = ${len(key) + i}" for i, n in enumerate(names, 1)]
        where = " AND ".join(f"{n} = ${i}" for i, n in enumerate(names, 1))
        only = "" if table.kind == "p" else "ONLY "
        relation = f"{quote_ident(schema_name(self.state, table.schema_oid))}.{quote_ident(table.name)}"
        sql = f"UPDATE {only}{relation} SET {', '.join(assignments)} WHERE {where}"
        types = tuple(table.columns[p].type_oid for p in ref.columns)
        params = key + (new_key if action == "c" and new_key is not None else ())
        owner = role_by_oid(self.state, table.owner)
        await session.run_internal(sql, types * (2 if len(params) > len(key) else 1), params,
                                   as_role=owner.name if owner is not None else None)

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
        for referencing, con in referencing_of(self.state, table):
            other_pos = {c.attnum: i for i, c in enumerate(referencing.columns)}
            cols = [other_pos[a] for a in con.columns]
            keys = {tuple(row[positions[a]] for a in con.ref_columns) for row in deleted}
            keys.discard(None)  # type: ignore[arg-type]
            if not keys:
                continue
            for other in leaf_tables(self.state, referencing):
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
                        f'on table "{referencing.name}"',
                        detail=f'Key ({names}) is still referenced from table "{referencing.name}".',
                        table=referencing.name, constraint=con.name)
                await self._cascade(other, other_heap, found, depth + 1)


async def run_deferred_checks(ctx: Any, state: Any, only: set[int] | None = None) -> None:
    """Runs the put-off checks (of the constraints in `only`, else all) and forgets them; the
    first violation raises 23503 with PostgreSQL's message for its kind."""
    checks = getattr(ctx.txn, "deferred", None)
    if checks is None:
        return
    if checks.triggers:  # deferred constraint triggers' events, in the order they happened
        due = [e for e in checks.triggers if only is None or e[0] in only]
        checks.triggers = [e for e in checks.triggers if not (only is None or e[0] in only)]
        session = ctx.extra.get("session")
        for _, trigger, table, event, names, types, old, new in due:
            await session.routines.fire(trigger, table, event, names, types, old, new, ctx)
    if not checks.pending:
        return
    chosen = [k for k in checks.pending if only is None or k[1] in only]
    if not chosen:
        return
    checker = _DeferredChecker(Env(ctx, (), 0, lambda *_: None), state)
    for group in chosen:
        keys = checks.pending.pop(group)
        kind, con_oid, table_oid = group
        await checker.check(kind, con_oid, table_oid, keys)


class _DeferredChecker(ForeignKeyChecks):
    """The lookups of executor.foreignkeys, for checks that run outside any statement's Writer."""

    def __init__(self, env: Env, state: Any) -> None:
        self.env = env
        self.state = state
        self.snapshot: Any = None

    def check_snapshot(self) -> Any:
        if self.snapshot is None:
            self.snapshot = check_snapshot(self.env)
        return self.snapshot

    async def check(self, kind: str, con_oid: int, table_oid: int, keys: set[tuple[Any, ...]]) -> None:
        state = self.state
        table = state.table(table_oid)
        if kind == "unique":
            await self._check_unique(table, con_oid, keys)
            return
        con = next((c for c in foreign_keys_of(state, table) if c.oid == con_oid), None) if table else None
        ref = state.table(con.ref_table) if con is not None else None
        if table is None or con is None or ref is None:
            return  # dropped since: nothing left to check
        index = next((ix for ix in state.indexes(ref.oid) if ix.unique and ix.predicate is None
                      and set(ix.columns) == set(con.ref_columns)), None)
        if index is None:
            return
        for key in sorted(keys, key=repr):  # one order, whichever violation is reported
            by_attnum = dict(zip(con.ref_columns, key, strict=True))
            self.snapshot = None
            if await self._lock_referenced(ref, index, tuple(by_attnum[a] for a in index.columns)):
                continue
            if not await self._still_referenced(table, con, key):
                continue
            positions = {c.attnum: i for i, c in enumerate(table.columns)}
            names = [table.columns[positions[a]].name for a in con.columns]
            types = tuple(table.columns[positions[a]].type_oid for a in con.columns)
            if kind == "fk":
                raise key_not_present(table.name, con.name, names, key_text(key, types), ref.name)
            ref_positions = {c.attnum: i for i, c in enumerate(ref.columns)}
            ref_names = [ref.columns[ref_positions[a]].name for a in con.ref_columns]
            raise still_referenced(ref.name, con.name, table.name, ref_names, key_text(key, types))

    async def _check_unique(self, table: Any, con_oid: int, keys: set[tuple[Any, ...]]) -> None:
        """A DEFERRABLE unique / primary key constraint's put-off keys: 23505 if two rows hold one."""
        con = next((c for c in table.constraints if c.oid == con_oid), None) if table is not None else None
        index = self.state.by_oid.get(con.index_oid) if con is not None else None
        if con is None or index is None:
            return  # dropped since
        storage = self.env.ctx.storage
        btree, heap = storage.btree(index.rel_id), storage.heap(table.rel_id)
        positions = {c.attnum: i for i, c in enumerate(table.columns)}
        names = ", ".join(table.columns[positions[a]].name for a in index.columns)
        types = tuple(table.columns[positions[a]].type_oid for a in index.columns)
        for key in sorted(keys, key=repr):
            if await btree.has_duplicate(self.env.ctx.txn, heap, key, index.nulls_not_distinct):
                raise UniqueViolation(f'duplicate key value violates unique constraint "{con.name}"',
                                      detail=f"Key ({names})=({key_text(key, types)}) already exists.",
                                      table=table.name, constraint=con.name)

    async def _still_referenced(self, table: Any, con: Any, key: tuple[Any, ...]) -> bool:
        """Does a row of `table` (its partitions) hold `key` in the constraint's columns now?"""
        txn = self.env.ctx.txn
        for leaf in leaf_tables(self.state, table):
            positions = {c.attnum: i for i, c in enumerate(leaf.columns)}
            cols = [positions[a] for a in con.columns]
            heap = self.env.ctx.storage.heap(leaf.rel_id)
            async for batch in heap.scan(txn, self.check_snapshot()):
                for _, row in batch:
                    if tuple(row[p] if p < len(row) else None for p in cols) == key:
                        return True
        return False
