"""The catalog: definitions stored in the volume as rows of one heap, cached in memory per version.

Owns persistence and visibility of DDL. Every definition (table, index, sequence, view, role,
schema, database) is one row `(oid, kind, name, payload_json)` of the catalog heap, whose
relation id sits in root slot 0 of the control page, so recovery, replicas and clones see DDL
through the log like any other data. DDL is transactional because those rows are ordinary MVCC
tuples: a rolled-back CREATE TABLE leaves no visible row.

    committed state (version v) ──DDL in txn T──► pending[T] (T's own view: reloaded after each DDL)
          ▲                                          │ T commits: pending becomes committed (v+1),
          └──────────── reload from the heap ◄───────┘ and the next sync() re-reads the heap

OIDs come from the control page's allocator (persistent, never reused). Sequence values are
non-transactional, as in PostgreSQL: nextval() advances in memory and logs a value 32 ahead
(SEQ_LOG_VALS) with a system transaction, so after a crash numbering resumes past what was
handed out. Not the records (catalog.model) and not lookups (catalog.state).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from pgaurora.catalog.model import (
    BOOTSTRAP_SUPERUSER_OID,
    DEFAULT_DATABASE_OID,
    PG_CATALOG_SCHEMA_OID,
    PUBLIC_SCHEMA_OID,
    Database,
    Definition,
    Role,
    Schema,
    Sequence,
    from_payload,
    kind_of,
    to_payload,
)
from pgaurora.catalog.state import CatalogState, temp_schema_oid
from pgaurora.errors import (
    ObjectNotInPrerequisiteState,
    ReadOnlySqlTransaction,
    SequenceGeneratorLimitExceeded,
)

CATALOG_ROOT_SLOT = 0
SEQ_LOG_VALS = 32


class Catalog:
    """Definitions of one volume; one Catalog per instance, shared by its sessions."""

    def __init__(self, storage: Any, txn_manager: Any) -> None:
        self.storage = storage
        self.txns = txn_manager
        self.rel_id = 0
        self.version = 0
        self.committed = CatalogState.from_definitions((), 0)
        self.pending: dict[Any, CatalogState] = {}
        self._needs_reload = False
        self._fresh_ddl: list[int] = []  # xids of DDL commits the committed state must show
        # sequence runtime state: oid -> [last_value, is_called, logged_limit]
        self.sequences: dict[int, list[Any]] = {}
        self._seq_rows: dict[int, Any] = {}
        self._seq_dirty: set[int] = set()
        self.last_values: dict[tuple[int, int], int] = {}  # (backend pid, sequence oid) -> currval
        self.last_sequence: dict[int, int] = {}  # backend pid -> the sequence its last nextval used (lastval)

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    async def open(cls, storage: Any, txn_manager: Any) -> Catalog:
        """Opens the catalog of the volume behind `storage`, creating it on a new volume."""
        catalog = cls(storage, txn_manager)
        cache = storage.cache
        control = await cache.open()
        if hasattr(txn_manager, "open"):
            await txn_manager.open()
        rel_id = control.root(CATALOG_ROOT_SLOT)
        if rel_id == 0:
            rel_id = await storage.create_heap()
            catalog.rel_id = rel_id
            lsn = control.set_root(CATALOG_ROOT_SLOT, rel_id)
            await cache.wait_durable(lsn)
            await catalog._bootstrap()
        catalog.rel_id = rel_id
        await catalog.reload()
        if catalog.committed.temp_schemas and not getattr(txn_manager, "read_only", False):
            # no session of a restarted instance owns them any more (PostgreSQL drops them too)
            for pid in list(catalog.committed.temp_schemas):
                await catalog.drop_temp_relations(pid)
        return catalog

    async def drop_temp_relations(self, pid: int) -> None:
        """Drops backend `pid`'s temporary tables (the session calls this when it ends)."""
        await self.sync()
        schema = self.committed.temp_schemas.get(pid)
        if schema is None:
            return
        oids = [o.oid for o in self.committed.by_oid.values() if getattr(o, "schema_oid", 0) == schema]
        txn = self.txns.begin()
        try:
            await self.remove(txn, *oids)
            await txn.commit()
        except BaseException:
            await txn.abort()
            raise
        await self.sync()

    async def on_commit_actions(self, txn: Any, pid: int) -> None:
        """PostgreSQL's PreCommit_on_commit_actions, in the committing transaction `txn` of backend
        `pid`: its temporary tables created ON COMMIT DROP are dropped, and those created ON COMMIT
        DELETE ROWS that hold rows get new, empty relations (as TRUNCATE does). A backend without
        temporary tables pays two dictionary lookups (this runs before every commit)."""
        if pid not in self.committed.temp_schemas and txn not in self.pending:
            return
        state = self.state_for(txn)
        if pid not in state.temp_schemas or getattr(txn, "read_only", False):
            return
        schema = temp_schema_oid(pid)
        tables = [t for t in state.tables() if t.schema_oid == schema and t.on_commit]
        drop: list[int] = []
        emptied: list[Definition] = []
        for table in tables:
            indexes = state.indexes(table.oid)
            if table.on_commit == "drop":
                drop.append(table.oid)
                drop.extend(ix.oid for ix in indexes)
                drop.extend(o.oid for o in state.owned_sequences(table.oid))
                if table.oid in state.statistics:
                    drop.append(state.statistics[table.oid].oid)
            elif await self.storage.heap(table.rel_id).count_pages():
                emptied.append(replace(table, rel_id=await self.storage.create_heap()))
                for ix in indexes:
                    emptied.append(replace(ix, rel_id=await self.storage.create_btree(len(ix.columns))))
        if emptied:
            await self.replace(txn, *emptied)
        if drop:
            await self.remove(txn, *drop)

    async def _bootstrap(self) -> None:
        txn = self.txns.begin()
        heap = self.storage.heap(self.rel_id)
        for obj in (Role(BOOTSTRAP_SUPERUSER_OID, "postgres", superuser=True, login=True, createdb=True,
                         createrole=True, replication=True),
                    Schema(PUBLIC_SCHEMA_OID, "public"), Schema(PG_CATALOG_SCHEMA_OID, "pg_catalog"),
                    Database(DEFAULT_DATABASE_OID, "postgres")):
            await heap.insert(txn, (obj.oid, kind_of(obj), obj.name, to_payload(obj)))
        await txn.commit()

    async def _read_all(self, txn: Any, snapshot: Any) -> list[tuple[Definition, tuple[int, int]]]:
        heap = self.storage.heap(self.rel_id)
        items: list[tuple[Definition, tuple[int, int]]] = []
        seq_rows: dict[int, Any] = {}
        async for batch in heap.scan(txn, snapshot, counted=False):
            for tid, row in batch:
                oid, kind, _name, payload = row
                if kind == "seqstate":
                    seq_rows[oid] = (tid, json.loads(payload))
                    continue
                items.append((from_payload(kind, payload), tid))
        if txn is None or snapshot is None or True:
            for oid, (tid, data) in seq_rows.items():
                self._seq_rows[oid] = tid
                if oid not in self.sequences:
                    self.sequences[oid] = [data["logged"], data["called"], data["logged"]]
        return items

    async def reload(self) -> None:
        """Re-reads the committed catalog from the heap (after another transaction's DDL)."""
        reader = self.txns.begin(read_only=True)
        try:
            snapshot = reader.snapshot()
            items = await self._read_all(reader, snapshot)
        finally:
            await reader.abort()
        self.version += 1
        self.committed = CatalogState.from_definitions(items, self.version)
        # A DDL commit whose record is not durable yet is invisible to this snapshot (early lock
        # release): read again at the next statement, or a session told COMMIT would plan with
        # the catalog from before it (pg_restore -j: a FOREIGN KEY missing the new UNIQUE key).
        self._fresh_ddl = [xid for xid in self._fresh_ddl if xid in snapshot.xip]
        self._needs_reload = bool(self._fresh_ddl)

    async def sync(self) -> None:
        """Called at the start of each statement: resolve finished DDL transactions."""
        self._resolve_finished()
        if self._needs_reload:
            await self.reload()

    def _resolve_finished(self) -> None:
        if not self.pending:
            return
        for txn in list(self.pending):
            state = getattr(getattr(txn, "state", None), "value", "active")
            if state == "active":
                continue
            pending = self.pending.pop(txn)
            if state == "committed":
                self.version += 1
                pending.version = self.version
                self.committed = pending
                self._needs_reload = True
                if getattr(txn, "xid", None):
                    self._fresh_ddl.append(txn.xid)

    # -- views of the catalog ------------------------------------------------------------------------
    def state_for(self, txn: Any = None) -> CatalogState:
        """The definitions `txn` sees: its own uncommitted DDL included."""
        self._resolve_finished()
        if txn is not None:
            mine = self.pending.get(txn)
            if mine is not None:
                return mine
        return self.committed

    def current(self) -> CatalogState:
        return self.state_for(None)

    def allocate_oid(self) -> int:
        return int(self.storage.cache.control.allocate_oid())

    # -- DDL writes (transactional) ------------------------------------------------------------------
    async def _refresh_pending(self, txn: Any) -> None:
        txn.next_command()
        items = await self._read_all(txn, txn.snapshot())
        self.version += 1
        self.pending[txn] = CatalogState.from_definitions(items, self.version)

    async def create(self, txn: Any, *objs: Definition) -> None:
        heap = self.storage.heap(self.rel_id)
        for obj in objs:
            await heap.insert(txn, (obj.oid, kind_of(obj), obj.name, to_payload(obj)))
        await self._refresh_pending(txn)

    async def replace(self, txn: Any, *objs: Definition) -> None:
        heap = self.storage.heap(self.rel_id)
        state = self.state_for(txn)
        for obj in objs:
            tid = state.row_ids[obj.oid]
            await heap.update(txn, txn.snapshot(), tid, (obj.oid, kind_of(obj), obj.name, to_payload(obj)))
        await self._refresh_pending(txn)

    async def remove(self, txn: Any, *oids: int) -> None:
        heap = self.storage.heap(self.rel_id)
        state = self.state_for(txn)
        for oid in oids:
            await heap.delete(txn, txn.snapshot(), state.row_ids[oid])
            table = state.table(oid)
            if table is not None and table.row_type:  # (its row type's name no longer finds it: regtype)
                from pgaurora.datatypes import typeinfo

                typeinfo.unregister_name(table.name, table.row_type)
                typeinfo.unregister_name("_" + table.name, table.row_array_type)
        await self._refresh_pending(txn)

    # -- roles (used by the session for authentication) ----------------------------------------------
    def get_role(self, name: str, txn: Any = None) -> Role | None:
        return self.state_for(txn).roles.get(name)

    async def create_role(self, txn: Any, role: Role) -> Role:
        if role.oid == 0:
            from dataclasses import replace as _replace

            role = _replace(role, oid=self.allocate_oid())
        await self.create(txn, role)
        return role

    async def alter_role(self, txn: Any, role: Role) -> None:
        await self.replace(txn, role)

    async def drop_role(self, txn: Any, name: str) -> None:
        role = self.get_role(name, txn)
        if role is not None:
            await self.remove(txn, role.oid)

    # -- sequences (non-transactional values) --------------------------------------------------------
    def _seq_state(self, seq: Sequence) -> list[Any]:
        st = self.sequences.get(seq.oid)
        if st is None:
            st = self.sequences[seq.oid] = [seq.start, False, seq.start]
            self._seq_dirty.add(seq.oid)
        return st

    def nextval(self, seq: Sequence) -> int:
        if getattr(self.txns, "read_only", False):  # a reader instance (hot standby)
            raise ReadOnlySqlTransaction("cannot execute nextval() in a read-only transaction")
        st = self._seq_state(seq)
        last, called, logged = st
        if not called:
            value = last
        else:
            value = last + seq.increment
            if value > seq.max_value or value < seq.min_value:
                if not seq.cycle:
                    bound = "maximum" if seq.increment > 0 else "minimum"
                    limit = seq.max_value if seq.increment > 0 else seq.min_value
                    raise SequenceGeneratorLimitExceeded(
                        f'nextval: reached {bound} value of sequence "{seq.name}" ({limit})')
                value = seq.min_value if seq.increment > 0 else seq.max_value
        st[0], st[1] = value, True
        if (seq.increment > 0 and value >= logged) or (seq.increment < 0 and value <= logged):
            st[2] = value + seq.increment * SEQ_LOG_VALS
            self._seq_dirty.add(seq.oid)
        return int(value)

    def setval(self, seq: Sequence, value: int, is_called: bool = True) -> int:
        if getattr(self.txns, "read_only", False):
            raise ReadOnlySqlTransaction("cannot execute setval() in a read-only transaction")
        if value < seq.min_value or value > seq.max_value:
            raise ObjectNotInPrerequisiteState(
                f'setval: value {value} is out of bounds for sequence "{seq.name}" ({seq.min_value}..{seq.max_value})',
                sqlstate="22003")
        st = self._seq_state(seq)
        st[0], st[1] = value, is_called
        st[2] = value + (seq.increment * SEQ_LOG_VALS if is_called else 0)
        self._seq_dirty.add(seq.oid)
        return value

    async def flush_sequences(self) -> None:
        """Makes logged sequence limits durable (a system transaction, as nextval's WAL record)."""
        if not self._seq_dirty:
            return
        dirty, self._seq_dirty = self._seq_dirty, set()
        heap = self.storage.heap(self.rel_id)
        txn = self.txns.begin()
        try:
            for oid in dirty:
                st = self.sequences[oid]
                row = (oid, "seqstate", "", json.dumps({"logged": st[2] if st[1] else st[0], "called": st[1]}))
                tid = self._seq_rows.get(oid)
                if tid is None:
                    self._seq_rows[oid] = await heap.insert(txn, row)
                else:
                    new_tid = await heap.update(txn, txn.snapshot(), tid, row)
                    if new_tid is not None:
                        self._seq_rows[oid] = new_tid
            await txn.commit()
        except BaseException:
            await txn.abort()
            self._seq_dirty |= dirty
            raise
