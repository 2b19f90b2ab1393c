"""The system relations' registry: which pg_catalog / information_schema names exist, their
columns, and the producers that compute their rows from the current catalog.

Owns `SystemRelation` (schema, name, oid, relkind, columns — PostgreSQL 15's, from
catalog.system.columns), lookup by (schema, name) the way the planner resolves a RangeVar, and
`relation_rows(...)`: the rows of one relation for one statement, computed on demand from the
CatalogState the statement sees (so they reflect committed DDL and the transaction's own DDL)
and kept for the rest of that statement (joins rescan them) — and, for relations that depend
only on the catalog, for every later statement that sees the same CatalogState (DDL makes a new
one, so nothing stale is served) and, for information_schema's, runs as the same current_user.
Not the producers themselves (catalog.system.class_rows, ...), not the plan node or executor
node (executor.scan).

    planner (_range_var)  --lookup_relation-->  SystemRelation  -->  SystemScan plan node
    executor (SystemScan) --relation_rows(schema, name, ctx)-->  producer(SystemContext)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pgaurora import datatypes
from pgaurora.catalog.state import CatalogState
from pgaurora.catalog.system.columns import SYSTEM_RELATIONS

INFORMATION_SCHEMA_OID = 13207
PG_TOAST_OID = 99

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class SystemRelation:
    schema: str
    name: str
    oid: int
    relkind: str
    columns: tuple[tuple[str, int, int], ...]  # (name, type oid, typmod)

    @property
    def schema_oid(self) -> int:
        return 11 if self.schema == "pg_catalog" else INFORMATION_SCHEMA_OID

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c[0] for c in self.columns)


RELATIONS: dict[tuple[str, str], SystemRelation] = {
    (schema, name): SystemRelation(schema, name, oid, relkind, cols)
    for schema, name, oid, relkind, cols in SYSTEM_RELATIONS
}
BY_OID: dict[int, SystemRelation] = {r.oid: r for r in RELATIONS.values()}


def lookup_relation(name: str, schema: str | None = None) -> SystemRelation | None:
    """The system relation a (possibly qualified) name denotes; unqualified names search
    pg_catalog only (information_schema is not on the default search_path)."""
    if schema is None:
        return RELATIONS.get(("pg_catalog", name))
    return RELATIONS.get((schema, name))


@dataclass(slots=True)
class SystemContext:
    """What a producer reads: the statement's catalog state and the executor context."""

    state: CatalogState
    ctx: Any

    @property
    def user(self) -> str:
        return str(getattr(self.ctx, "user", "postgres"))

    @property
    def database(self) -> str:
        return str(getattr(self.ctx, "database", "postgres"))

    def role_oid(self, name: str) -> int:
        role = self.state.roles.get(name)
        return role.oid if role is not None else 10


# The planner registers how to type a view's query (the catalog stores only its text and names):
# fn(state, query) -> [(type oid, typmod), ...].
VIEW_PLANNERS: list[Callable[[CatalogState, str], list[tuple[int, int]]]] = []


def view_columns(sc: SystemContext, oid: int, query: str, count: int) -> list[tuple[int, int]]:
    """A view's column types, planned once per statement; text when they cannot be planned."""
    cache = sc.ctx.extra.setdefault("system_view_columns", {}) if hasattr(sc.ctx, "extra") else {}
    found = cache.get(oid)
    if found is None:
        found = [(25, -1)] * count
        if VIEW_PLANNERS:
            try:
                found = VIEW_PLANNERS[0](sc.state, query)
            except Exception:  # noqa: BLE001 - a view that no longer plans (dropped column) shows text
                pass
        cache[oid] = found
    return found  # type: ignore[no-any-return]


Producer = Callable[[SystemContext], Iterable[dict[str, Any]]]
PRODUCERS: dict[tuple[str, str], Producer] = {}


def producer(*names: str, schema: str = "pg_catalog") -> Callable[[Producer], Producer]:
    """Registers the row producer of one or more system relations (rows as dicts by column)."""
    def register(fn: Producer) -> Producer:
        for name in names:
            PRODUCERS[(schema, name)] = fn
        return fn
    return register


def _default_for(type_oid: int) -> Any:
    """NOT NULL fixed-width catalog columns a producer leaves out: false / 0, as PostgreSQL's
    catalogs would hold for an object without that property."""
    if type_oid == 16:
        return False
    if type_oid in (20, 21, 23, 26, 28, 24, 2205, 2206, 4089, 4096):
        return 0
    if type_oid in (700, 701):
        return 0.0
    return None


_ROW_BUILDERS: dict[tuple[str, str], Callable[[dict[str, Any]], Row]] = {}


def _row_builder(rel: SystemRelation) -> Callable[[dict[str, Any]], Row]:
    builder = _ROW_BUILDERS.get((rel.schema, rel.name))
    if builder is None:
        names = rel.column_names
        defaults = tuple(_default_for(c[1]) for c in rel.columns)
        pairs = tuple(zip(names, defaults, strict=True))
        tableoid = (rel.oid,)

        def builder(values: dict[str, Any]) -> Row:
            get = values.get
            return tuple(get(n, d) for n, d in pairs) + tableoid  # the system column tableoid last
        _ROW_BUILDERS[(rel.schema, rel.name)] = builder
    return builder


# Rows that depend only on the CatalogState (immutable: DDL makes a new one) and the database are
# shared by every statement that sees the same state; these depend on the session or on runtime values.
VOLATILE = frozenset(("pg_catalog", n) for n in (
    "pg_settings", "pg_stat_activity", "pg_sequences", "pg_locks", "pg_stat_user_tables", "pg_stat_all_tables",
    "pg_statio_user_tables", "pg_stat_user_indexes", "pg_stat_all_indexes", "pg_stat_ssl", "pg_stat_database",
    "pg_prepared_xacts",
    "pg_stat_replication"))
_SHARED: dict[tuple[Any, ...], tuple[CatalogState, Any]] = {}
_SHARED_LIMIT = 512


def _shared_get(key: tuple[Any, ...], state: CatalogState) -> Any:
    hit = _SHARED.get(key)
    return hit[1] if hit is not None and hit[0] is state else None


def _shared_put(key: tuple[Any, ...], state: CatalogState, value: Any) -> None:
    if len(_SHARED) >= _SHARED_LIMIT:
        _SHARED.clear()
    _SHARED[key] = (state, value)


def _viewer(schema: str, ctx: Any) -> str:
    """Who information_schema's rows are for: they show current_user what it may see
    (catalog.system.visibility), so they are shared only by statements of the same role."""
    return str(getattr(ctx, "user", "")) if schema == "information_schema" else ""


SEQUENCE_DATA = "pg_sequence data"  # SystemScan schema for `SELECT ... FROM a_sequence` (name = its oid)


def sequence_row(ctx: Any, oid: int) -> Row:
    """A sequence relation's one row (last_value, log_cnt, is_called, tableoid), as PostgreSQL's
    sequence tuple: log_cnt counts the values fetched ahead and logged."""
    state: CatalogState = ctx.extra["catalog_state"]
    seq = state.sequence(oid)
    if seq is None:
        return (None, None, None, oid)
    current = getattr(ctx.catalog, "sequences", {}).get(oid)
    if current is None:
        return (seq.start, 0, False, oid)
    last, called, logged = current[0], current[1], current[2]
    log_cnt = max(0, (logged - last) // seq.increment) if called and seq.increment else 0
    return (last, log_cnt, bool(called), oid)


def relation_rows(schema: str, name: str, ctx: Any) -> list[Row]:
    """The rows of a system relation as the statement running with `ctx` sees them."""
    if schema == SEQUENCE_DATA:
        return [sequence_row(ctx, int(name))]
    state: CatalogState = ctx.extra["catalog_state"]
    cache = ctx.extra.setdefault("system_rows", {})
    key = (schema, name, id(state))
    rows = cache.get(key)
    if rows is not None:
        return rows  # type: ignore[no-any-return]
    shared = (schema, name) not in VOLATILE
    shared_key = ("rows", schema, name, id(state), state.version, getattr(ctx, "database", ""), _viewer(schema, ctx))
    if shared:
        rows = _shared_get(shared_key, state)
    if rows is None:
        rel = RELATIONS[(schema, name)]
        fn = PRODUCERS.get((schema, name))
        build = _row_builder(rel)
        rows = [build(values) for values in fn(SystemContext(state, ctx))] if fn is not None else []
        if shared:
            _shared_put(shared_key, state, rows)
    cache[key] = rows
    return rows


def relation_index(schema: str, name: str, ctx: Any, column: int) -> dict[Any, list[Row]] | None:
    """The statement's rows of a system relation keyed by one column (built once per catalog
    state, or per statement for session-dependent relations); None when the column holds
    unhashable values (arrays)."""
    if schema == SEQUENCE_DATA:
        return None
    state: CatalogState = ctx.extra["catalog_state"]
    cache = ctx.extra.setdefault("system_indexes", {})
    key = (schema, name, column, id(state))
    if key in cache:
        return cache[key]  # type: ignore[no-any-return]
    shared = (schema, name) not in VOLATILE
    shared_key = ("index", schema, name, column, id(state), state.version, getattr(ctx, "database", ""),
                  _viewer(schema, ctx))
    hit = _SHARED.get(shared_key) if shared else None
    if hit is not None and hit[0] is state:
        cache[key] = hit[1]
        return hit[1]  # type: ignore[no-any-return]
    index: dict[Any, list[Row]] | None = {}
    try:
        for row in relation_rows(schema, name, ctx):
            value = row[column]
            if value is not None:
                index.setdefault(value, []).append(row)  # type: ignore[union-attr]
    except TypeError:  # an unhashable value (an array column): no index on it
        index = None
    cache[key] = index
    if shared:
        _shared_put(shared_key, state, index)
    return index


def type_length(type_oid: int) -> tuple[int, bool, str, str]:
    """(typlen, typbyval, typalign, typstorage) of a type, for pg_attribute."""
    info = datatypes.find(type_oid)
    if info is None:
        return -1, False, "i", "x"
    return info.typlen, info.byval, info.align, info.storage


COLLATABLE = frozenset({25, 1043, 1042, 19, 1009, 1015, 1014})


def collation_of(type_oid: int) -> int:
    """attcollation: 'default' (100) for text types, C (950) for name, 0 otherwise."""
    if type_oid in (19, 1003):
        return 950
    return 100 if type_oid in COLLATABLE else 0
