"""The database engine as a session sees it: parse, plan, run, begin, and the catalog.

Owns the one place where the session calls into the layers below it (planner, executor,
catalog, txn), so that the session's own logic reads as PostgreSQL's postgres.c and the
seams of docs/architecture/contracts.md are used in exactly one module.
Not the construction of those layers (server.instance opens the volume and builds them).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from pgaurora.session.locking import NO_LOCKS, lock_relations, missing_relation, plan_locks, try_lock_all
from pgaurora.session.readonly import check_read_only
from pgaurora.session.template import TEMPLATE_DATABASES, EmptyDatabaseCatalog


class DatabaseActivity:
    """pg_stat_database's counters of one database on this instance, since it started:
    transactions ended (a statement the fast path answers outside any transaction counts as a
    commit, as the transaction PostgreSQL would have run), sessions established and ended by
    pg_terminate_backend."""

    __slots__ = ("commits", "rollbacks", "sessions", "sessions_killed")

    def __init__(self) -> None:
        self.commits = self.rollbacks = self.sessions = self.sessions_killed = 0


class Engine:
    """One instance's engine, shared by all its sessions."""

    __slots__ = ("catalog", "txn_manager", "storage", "volume", "plan_cache", "_plan", "_run",
                 "_context", "read_only", "parse", "parse_one", "_snapshot_key", "_read_snapshot",
                 "_snapshot_class", "relation_locks", "sessions", "template", "_siblings",
                 "activity", "activities")

    def __init__(self, catalog: Any, txn_manager: Any, storage: Any = None, volume: Any = None,
                 *, read_only: bool = False) -> None:
        self.catalog = catalog
        self.txn_manager = txn_manager
        self.storage = storage
        self.volume = volume
        self.read_only = read_only
        self.relation_locks: Any = getattr(txn_manager, "relation_locks", None)  # txn.rellocks
        self.sessions: dict[int, Any] = {}  # pid -> Session: pg_stat_activity, pg_cancel_backend
        self.activity = DatabaseActivity()  # of the database this engine serves
        self.activities: dict[str, DatabaseActivity] = {}  # database -> its counters (pg_stat_database)
        self.template = False  # the engine of template1's sessions (session.template): read-only
        self._siblings: dict[str, Engine] = {}
        # Resolved on first use: the session imports this module before an engine exists.
        self._plan: Callable[..., Any] | None = None
        self._run: Callable[..., Any] | None = None
        self._context: Callable[..., Any] | None = None
        self.plan_cache: Any = None
        # Imported here, not at module level: the session package must import even while a
        # lower layer is broken, so that start-up and SET/SHOW keep working and the error
        # surfaces as XX000 on the statement that needs the planner.
        from pgaurora.planner.parse import parse, parse_one
        from pgaurora.planner.plancache import PlanCache
        self.parse: Callable[[str], list[Any]] = parse
        self.parse_one: Callable[[str], Any] = parse_one
        self.plan_cache = PlanCache()
        self._snapshot_key: Any = None
        self._read_snapshot: Any = None
        from pgaurora.txn.snapshot import Snapshot
        self._snapshot_class: Any = Snapshot
        if storage is not None and catalog is not None and hasattr(storage, "index_resolver"):
            from pgaurora.executor.maintenance import index_resolver
            storage.index_resolver = index_resolver(catalog)  # autovacuum cleans indexes too

    def _resolve(self) -> None:
        from pgaurora.executor.context import ExecContext
        from pgaurora.executor.run import run
        from pgaurora.planner import plan

        self._plan = plan
        self._run = run
        self._context = ExecContext

    # -- statements ---------------------------------------------------------------------------

    def plan(self, stmt: Any, param_types: tuple[int, ...] = (), txn: Any = None,
             search_path: tuple[str, ...] | None = None, backend_pid: int | None = None,
             search_role: str | None = None) -> Any:
        """planner.plan; `txn` lets a statement see its own transaction's uncommitted DDL;
        `search_path` (schema names, None for the default) resolves unqualified names for
        `search_role` (current_user: its "$user" schema, the schemas it may use);
        `backend_pid` is the session's (its temporary tables, even before it has a transaction)."""
        if self._plan is None:
            self._resolve()
        assert self._plan is not None
        return self._plan(stmt, self.catalog, param_types, txn=txn, search_path=search_path,
                          backend_pid=backend_pid, search_role=search_role)

    async def run(self, plan: Any, params: tuple[Any, ...], ctx: Any,
                  replan: Callable[[], tuple[Any, tuple[Any, ...]]] | None = None) -> Any:
        """An executor cursor: `await cursor.fetch(n)`, `cursor.tag` once exhausted (and
        `cursor.plan`: `replan()` gives a new (plan, params) when DDL committed while the
        statement waited for its relation locks)."""
        if self._run is None:
            self._resolve()
        assert self._run is not None
        txn = ctx.txn
        if txn is not None:
            if txn.read_only:
                check_read_only(plan, self.read_only)  # 25006 before anything runs, as PostgreSQL
            locks = plan_locks(plan)  # relation locks before the snapshot (session.locking)
            if locks is not NO_LOCKS:
                table = getattr(getattr(txn, "manager", None), "relation_locks", None)
                if table is not None and not try_lock_all(locks, txn, table):
                    plan, params = await self._lock_slowly(plan, params, locks, txn, table, replan)
                    if txn.read_only:
                        check_read_only(plan, self.read_only)
        return await self._run(plan, params, ctx)

    async def _lock_slowly(self, plan: Any, params: tuple[Any, ...], locks: Any, txn: Any, table: Any,
                           replan: Callable[[], tuple[Any, tuple[Any, ...]]] | None) -> tuple[Any, tuple[Any, ...]]:
        """Waits for the plan's relation locks. If DDL committed meanwhile the statement is
        planned again (as PostgreSQL looks names up again after the wait): a dropped relation is
        then 42P01, an altered one is read with its new columns."""
        for _ in range(8):
            version = self.catalog_version
            if not await lock_relations(locks, txn, table, self.catalog):
                break
            await self.catalog.sync()
            if self.catalog_version == version:
                break
            if replan is None:
                name = missing_relation(plan, txn, self.catalog)
                if name is not None:
                    from pgaurora.errors import UndefinedTable

                    raise UndefinedTable(f'relation "{name}" does not exist')
                break
            plan, params = replan()
            locks = plan_locks(plan)
            if try_lock_all(locks, txn, table):
                break
        return plan, params

    def context(self, *, txn: Any, settings: Any, notice: Callable[..., None], session: Any,
                transaction_start: Any, is_canceled: Callable[[], bool], statement_start: Any = None) -> Any:
        """The executor.ExecContext for one statement."""
        if self._context is None:
            self._resolve()
        assert self._context is not None
        return self._context(
            txn=txn, storage=self.storage, catalog=self.catalog, settings=settings, notice=notice,
            transaction_start=transaction_start, is_canceled=is_canceled, user=session.current_user,
            session_user=session.session_user, database=session.database,
            format_context=settings.format_context(), backend_pid=session.pid, extra={"session": session},
            statement_start=statement_start or datetime.datetime.now(datetime.UTC))

    def catalog_settled(self) -> bool:
        """No DDL transaction is open or finished unseen: `sync_catalog` would do nothing, and the
        committed catalog is what every statement outside a transaction sees."""
        catalog = self.catalog
        return not getattr(catalog, "pending", None) and not getattr(catalog, "_needs_reload", False)

    def settled_state(self) -> Any:
        """The committed CatalogState when `catalog_settled()`, else None (one call for both)."""
        catalog = self.catalog
        if getattr(catalog, "pending", None) or getattr(catalog, "_needs_reload", False):
            return None
        return getattr(catalog, "committed", None)

    def read_snapshot(self) -> Any:
        """A snapshot for a read outside any transaction (an autocommit point SELECT answered
        without beginning one): the transactions running now, no own xids, command 0. It is
        shared until a transaction starts writing or ends. The caller reads only cached pages
        and does not await before it is done with it, so no vacuum can pass it by."""
        manager = self.txn_manager
        data = manager.snapshot_data()
        if data is not self._snapshot_key:
            self._read_snapshot = self._snapshot_class(data[0], data[1], data[2], frozenset(), 0, manager.status)
            self._snapshot_key = data
        return self._read_snapshot

    @property
    def catalog_version(self) -> int:
        version: int = getattr(self.catalog, "version", 0)
        return version

    # -- transactions -------------------------------------------------------------------------

    def begin(self, isolation: str, read_only: bool, deferrable: bool, *, owner: Any = None,
              pid: int = 0) -> Any:
        return self.txn_manager.begin(isolation, read_only or self.read_only or self.template, owner=owner,
                                      pid=pid, deferrable=deferrable)

    def release_session_locks(self, owner: Any) -> None:
        """Session-level advisory locks end with the session (and with DISCARD ALL)."""
        release = getattr(self.txn_manager, "advisory_unlock_all", None)
        if release is not None:
            release(owner)

    # -- roles and databases (start-up) -------------------------------------------------------

    def role(self, name: str) -> Any:
        """The catalog's Role (superuser, login, SCRAM verifier) or None."""
        return self.catalog.get_role(name)

    def database_exists(self, name: str) -> bool:
        return name in self.catalog.current().databases or name in TEMPLATE_DATABASES

    def may_connect(self, role: Any, database: str) -> bool:
        """CONNECT on the database (PUBLIC holds it unless revoked; a superuser always does)."""
        state = self.catalog.current()
        db = state.databases.get(database)
        if db is None or role is None or getattr(role, "superuser", False):
            return True
        from pgaurora.catalog import acl

        return acl.has_privilege(state, role.oid, db, "c")

    def for_database(self, name: str) -> Engine:
        """The engine a session of database `name` uses: this one, or for template1 one that
        shows an empty database (session.template) over the same transactions and storage."""
        if name not in TEMPLATE_DATABASES or self.template:
            return self
        sibling = self._siblings.get(name)
        if sibling is None:
            sibling = Engine(EmptyDatabaseCatalog(self.catalog), self.txn_manager, None, self.volume,
                             read_only=self.read_only)
            sibling.storage = self.storage  # (not passed: the constructor would re-point autovacuum)
            sibling.template = True
            sibling.sessions = self.sessions
            sibling.activities = self.activities
            self.activities[name] = sibling.activity
            self._siblings[name] = sibling
        return sibling

    async def sync_catalog(self) -> None:
        """Before each statement: make other transactions' committed DDL visible."""
        await self.catalog.sync()
