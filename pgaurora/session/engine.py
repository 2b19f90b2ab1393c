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

from pgaurora.session.readonly import check_read_only


class Engine:
    """One instance's engine, shared by all its sessions."""

    __slots__ = ("catalog", "txn_manager", "storage", "volume", "plan_cache", "_plan", "_run",
                 "_context", "read_only", "parse", "parse_one", "_snapshot_key", "_read_snapshot",
                 "_snapshot_class")

    def __init__(self, catalog: Any, txn_manager: Any, storage: Any = None, volume: Any = None,
                 *, read_only: bool = False) -> None:
        self.catalog = catalog
        self.txn_manager = txn_manager
        self.storage = storage
        self.volume = volume
        self.read_only = read_only
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
             search_path: tuple[str, ...] | None = None) -> Any:
        """planner.plan; `txn` lets a statement see its own transaction's uncommitted DDL;
        `search_path` (schema names, None for the default) resolves unqualified names."""
        if self._plan is None:
            self._resolve()
        assert self._plan is not None
        return self._plan(stmt, self.catalog, param_types, txn=txn, search_path=search_path)

    async def run(self, plan: Any, params: tuple[Any, ...], ctx: Any) -> Any:
        """An executor cursor: `await cursor.fetch(n)`, `cursor.tag` once exhausted."""
        if self._run is None:
            self._resolve()
        assert self._run is not None
        txn = ctx.txn
        if txn is not None and txn.read_only:
            check_read_only(plan, self.read_only)  # 25006 before anything runs, as PostgreSQL
        return await self._run(plan, params, ctx)

    def context(self, *, txn: Any, settings: Any, notice: Callable[..., None], session: Any,
                transaction_start: Any, is_canceled: Callable[[], bool], statement_start: Any = None) -> Any:
        """The executor.ExecContext for one statement."""
        if self._context is None:
            self._resolve()
        assert self._context is not None
        return self._context(
            txn=txn, storage=self.storage, catalog=self.catalog, settings=settings, notice=notice,
            transaction_start=transaction_start, is_canceled=is_canceled, user=session.user,
            session_user=session.user, database=session.database,
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
        return int(getattr(self.catalog, "version", 0))

    # -- transactions -------------------------------------------------------------------------

    def begin(self, isolation: str, read_only: bool, deferrable: bool, *, owner: Any = None,
              pid: int = 0) -> Any:
        return self.txn_manager.begin(isolation, read_only or self.read_only, owner=owner, pid=pid,
                                      deferrable=deferrable)

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
        return name in self.catalog.current().databases

    async def sync_catalog(self) -> None:
        """Before each statement: make other transactions' committed DDL visible."""
        await self.catalog.sync()
