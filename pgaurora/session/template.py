"""template1: a database a client can connect to whose contents are those of a fresh cluster.

Owns what a session connected to `template1` sees. pgaurora has one database (postgres) in its
volume; pg_database lists template0 and template1 as PostgreSQL does, and `pg_dumpall` connects
to template1 to dump it before postgres. A session there sees the cluster-wide objects (roles,
databases) and the empty public and pg_catalog schemas, none of postgres's relations, and runs
read-only transactions (25006 on a write: the template cannot be changed).
template0 stays unconnectable, as in PostgreSQL (datallowconn = false).
Not the catalog itself (catalog) and not the session (session.session).
"""

from __future__ import annotations

from typing import Any

TEMPLATE_DATABASES = frozenset({"template1"})
_SHARED_SCHEMAS = ("public", "pg_catalog")


class EmptyDatabaseCatalog:
    """The instance's Catalog as a session of an empty database sees it: the same roles and
    databases (shared catalogs in PostgreSQL), nothing else. Everything else is delegated."""

    def __init__(self, catalog: Any) -> None:
        self._catalog = catalog
        self._source: Any = None
        self._state: Any = None
        self.pending: dict[Any, Any] = {}
        self._needs_reload = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)

    def _empty(self) -> Any:
        real = self._catalog.committed
        if self._source is not real:
            from pgaurora.catalog.model import Database, Role, Schema
            from pgaurora.catalog.state import CatalogState

            items = [(obj, real.row_ids.get(obj.oid, (0, 0))) for obj in real.by_oid.values()
                     if isinstance(obj, Role | Database)
                     or (isinstance(obj, Schema) and obj.name in _SHARED_SCHEMAS)]
            self._state = CatalogState.from_definitions(items, real.version)
            self._source = real
        return self._state

    @property
    def committed(self) -> Any:
        return self._empty()

    @property
    def version(self) -> int:
        return int(self._catalog.version)

    def state_for(self, txn: Any = None) -> Any:
        return self._empty()

    def current(self) -> Any:
        return self._empty()

    async def sync(self) -> None:
        await self._catalog.sync()
