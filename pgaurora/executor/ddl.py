"""DDL execution: CREATE/DROP/ALTER of tables, indexes, sequences, views; TRUNCATE; roles; schemas.

Owns the utility plan nodes (already analyzed by planner.ddl: names resolved, types looked up)
and carrying them out: allocating oids, creating heaps and B-trees in storage, building indexes
over existing rows, and writing the catalog rows in the statement's transaction (so DDL is
transactional). Not parsing or validation of the statement text (planner.ddl).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog.acl import initial_acl
from pgaurora.catalog.model import (
    Column,
    Constraint,
    Index,
    Role,
    Schema,
    Sequence,
    Table,
    View,
)
from pgaurora.catalog.roles import is_member
from pgaurora.datatypes import format_value
from pgaurora.errors import (
    DuplicateObject,
    DuplicateSchema,
    DuplicateTable,
    FeatureNotSupported,
    InsufficientPrivilege,
    UndefinedObject,
    UniqueViolation,
)
from pgaurora.executor.context import Env
from pgaurora.executor.nodes import RUNNERS, Batch, collect
from pgaurora.executor.ownership import current_role, current_role_oid, named_role, require_owner
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.privileges import require, require_create_in, require_database

YIELD_PAGES = 32  # heap pages an index build scans between two turns of the event loop
YIELD_ROWS = 1024  # rows checked or rewritten between two turns of the event loop


@dataclass(frozen=True, slots=True)
class IndexDef:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    primary: bool = False
    constraint: bool = True  # created by a PRIMARY KEY / UNIQUE constraint
    expressions: tuple[str, ...] = ()  # per key column: '' (the column named in `columns`) or SQL text
    predicate: str | None = None  # a partial index's WHERE text
    parent_index: tuple[int, str] | None = None  # (schema oid, name): the partitioned table's index
    nulls_not_distinct: bool = False  # UNIQUE NULLS NOT DISTINCT
    method: str = "btree"  # the access method (planner.accessmethods)
    descending: tuple[bool, ...] = ()  # per key column: DESC
    nulls_first: tuple[bool, ...] = ()  # per key column: NULLS FIRST
    attributes: tuple[tuple[str, int, int], ...] = ()  # an expression index's columns (Index.attributes)
    include: tuple[str, ...] = ()  # INCLUDE (columns)
    opclasses: tuple[str, ...] = ()  # per key column: a non-default operator class, or ''
    options: tuple[str, ...] = ()  # WITH (...): the index's reloptions
    deferrable: bool = False  # its UNIQUE / PRIMARY KEY constraint's DEFERRABLE [INITIALLY DEFERRED]
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class CreateTable(PlanNode):
    name: str
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...]  # check / fk (columns as attnums)
    indexes: tuple[IndexDef, ...]
    sequences: tuple[tuple[Any, ...], ...] = ()  # serial / identity: (sequence name, attnum[, Sequence template])
    if_not_exists: bool = False
    schema_oid: int = 2200
    as_query: PlanNode | None = None
    width: int = 0
    kind: str = "r"  # "m": CREATE MATERIALIZED VIEW (query = its SELECT text)
    query: str | None = None
    populated: bool = True  # False: WITH NO DATA (as_query is then not run)
    tag: str = ""  # the command tag when no rows are inserted (CREATE TABLE AS ... WITH NO DATA)
    table_fields: tuple[tuple[str, Any], ...] = ()  # other Table fields (partitioning: planner.partition)


@dataclass(frozen=True, slots=True)
class DropObjects(PlanNode):
    kind: str  # table | index | sequence | view | schema | role
    names: tuple[tuple[str | None, str], ...]
    missing_ok: bool
    cascade: bool
    width: int = 0


@dataclass(frozen=True, slots=True)
class CreateIndex(PlanNode):
    table_oid: int
    index: IndexDef
    if_not_exists: bool = False
    width: int = 0
    key_spec: Any = None  # executor.indexkeys.IndexKeySpec of an expression / partial index


@dataclass(frozen=True, slots=True)
class CreateSequence(PlanNode):
    sequence: Sequence
    if_not_exists: bool = False
    width: int = 0


@dataclass(frozen=True, slots=True)
class AlterSequence(PlanNode):
    sequence: Sequence
    restart: int | None = None
    width: int = 0


@dataclass(frozen=True, slots=True)
class CreateView(PlanNode):
    view: View
    replace: bool = False
    width: int = 0
    tag: str = "CREATE VIEW"  # ALTER VIEW ... SET / RESET (options) replaces the view too


@dataclass(frozen=True, slots=True)
class Truncate(PlanNode):
    table_oids: tuple[int, ...]
    restart_identity: bool = False
    width: int = 0
    cascade: bool = False  # TRUNCATE ... CASCADE: the tables whose foreign keys reference them too


@dataclass(frozen=True, slots=True)
class AlterTable(PlanNode):
    """A replacement table definition, plus indexes to build and row rewrites for added columns."""

    table: Table
    new_indexes: tuple[IndexDef, ...] = ()
    drop_index_oids: tuple[int, ...] = ()
    sequences: tuple[tuple[Any, ...], ...] = ()  # (name, attnum[, Sequence template for an identity])
    fill_defaults: tuple[tuple[int, Any], ...] = ()  # (column position, constant value) for added columns
    validate_not_null: tuple[int, ...] = ()
    renames: tuple[tuple[int, str], ...] = ()  # (oid, new name) of other objects (indexes)
    # ADD CONSTRAINT ... USING INDEX: (index oid, the constraint's name, primary key) of the
    # indexes the new constraints take over (renamed; a primary key's index marked so)
    adopted_indexes: tuple[tuple[int, str, bool], ...] = ()
    # ADD COLUMN serial / identity: (column position, sequence name, start, increment): the
    # existing rows numbered in scan order, the new sequence left at the last number
    serial_fills: tuple[tuple[int, str, int, int], ...] = ()
    replaced_indexes: tuple[Any, ...] = ()  # ALTER INDEX ... SET / RESET (...): the indexes, changed
    width: int = 0
    conversions: tuple[tuple[int, Any], ...] = ()  # (column position, Expr over the old row): ALTER TYPE
    checks: tuple[tuple[str, Any], ...] = ()  # (name, Expr over the new row): CHECKs the rows must pass
    tag: str = "ALTER TABLE"  # ALTER INDEX / SEQUENCE / VIEW for their RENAME
    index_keys: tuple[Any, ...] = ()  # IndexKeySpec of its expression / partial indexes, for rewritten rows
    sequence_changes: tuple[tuple[Any, int | None], ...] = ()  # identity sequences changed (and RESTART values)
    drop_oids: tuple[int, ...] = ()  # objects that go with the change (a dropped identity's sequence)
    notices: tuple[str, ...] = ()  # (DROP IDENTITY IF EXISTS of a column that has none)


@dataclass(frozen=True, slots=True)
class AlterTables(PlanNode):
    """ALTER TABLE of a partitioned table: the same change to it and each of its partitions."""

    changes: tuple[AlterTable, ...]
    width: int = 0


@dataclass(frozen=True, slots=True)
class CreateRole(PlanNode):
    role: Role
    bypassrls: bool = False  # BYPASSRLS asked for (superusers only; kept in Role.bypassrls)
    width: int = 0
    # IN ROLE (roles the new one joins), ROLE (members it gets), ADMIN (members with admin option),
    # names as planner.ddl.role_spec_name keeps them
    in_roles: tuple[str | None, ...] = ()
    members: tuple[str | None, ...] = ()
    admins: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class GrantRoles(PlanNode):
    """GRANT roles TO members [WITH ADMIN OPTION] / REVOKE [ADMIN OPTION FOR] roles FROM members.
    Names as written; "" stands for CURRENT_USER / CURRENT_ROLE, None for SESSION_USER."""

    roles: tuple[str | None, ...]
    members: tuple[str | None, ...]
    grant: bool
    admin: bool
    width: int = 0


@dataclass(frozen=True, slots=True)
class OwnedBy(PlanNode):
    """REASSIGN OWNED BY roles TO new_owner / DROP OWNED BY roles [CASCADE] (role names as
    planner.ddl.role_spec_name keeps them)."""

    roles: tuple[str | None, ...]
    new_owner: str | None = None
    cascade: bool = False
    reassign: bool = False
    width: int = 0


@dataclass(frozen=True, slots=True)
class AlterRole(PlanNode):
    name: str | None  # as planner.ddl.role_spec_name keeps it
    changes: tuple[tuple[str, Any], ...]
    bypassrls: bool = False  # [NO]BYPASSRLS named (superusers only)
    width: int = 0


@dataclass(frozen=True, slots=True)
class CreateSchema(PlanNode):
    name: str
    if_not_exists: bool = False
    width: int = 0
    authorization: str | None = None  # AUTHORIZATION role: its owner; "", None: the current user


@dataclass(frozen=True, slots=True)
class NoOp(PlanNode):
    """Statements accepted and ignored (VACUUM, ANALYZE, CHECKPOINT): pages are rebuilt by storage."""

    tag: str
    notice: str | None = None
    width: int = 0


def _state(ctx: Any) -> Any:
    """The catalog as this statement's transaction and backend see it (own DDL, own temp tables),
    with unqualified names resolved along the session's search_path for current_user."""
    from pgaurora.catalog.state import parse_search_path

    state = ctx.catalog.state_for(ctx.txn).for_backend(int(getattr(ctx.txn, "pid", 0) or 0))
    settings = getattr(ctx, "settings", None)
    raw = settings.get("search_path") if settings is not None else None
    return state.with_search_path(parse_search_path(raw), ctx.user) if raw else state


def ddl_runner(node_type: type) -> Any:
    """Registers a coroutine as the (row-less) runner of a utility node."""
    def register(fn: Any) -> Any:
        async def rows(node: Any, env: Env) -> AsyncIterator[Batch]:
            await fn(node, env)
            if False:  # pragma: no cover - makes this an async generator that yields nothing
                yield []
        RUNNERS[node_type] = rows
        return fn
    return register


def _tag(env: Env, text: str) -> None:
    env.row_counts["tag"] = 1
    env.row_counts["tag_text"] = text  # type: ignore[assignment]


async def _build_index(env: Env, table: Table, index: Index, spec: Any = None) -> None:
    """Fills a new B-tree with the table's visible rows; duplicates of a unique index are reported
    before anything is inserted, as PostgreSQL's index build does. `spec` (an IndexKeySpec)
    computes the keys of an expression or partial index. The scan and the checks hand the event
    loop back every few thousand rows: building an index on a big table takes seconds."""
    storage = env.ctx.storage
    heap = storage.heap(table.rel_id)
    btree = storage.btree(index.rel_id)
    txn = env.ctx.txn
    snapshot = txn.snapshot()
    entries: list[tuple[tuple[Any, ...], Any]] = []
    append = entries.append
    width = len(table.columns)
    pages = 0
    if index.expressions or index.predicate:
        if spec is None:
            raise FeatureNotSupported(f'rebuilding expression or partial index "{index.name}" is not supported')
        from pgaurora.executor.indexkeys import key_function

        key_of = key_function(spec)
        async for batch in heap.scan(txn, snapshot):
            for tid, row in batch:
                if len(row) < width:
                    row = row + (None,) * (width - len(row))
                key = key_of(row, env)
                if key is not None:
                    append((key, tid))
            pages += 1
            if pages % YIELD_PAGES == 0:
                await _turn(env)
        names = ", ".join(spec.key_names)
        types = [k.type_oid for k in spec.keys]
    else:
        positions = [next(i for i, c in enumerate(table.columns) if c.attnum == a) for a in index.columns]
        async for batch in heap.scan(txn, snapshot):
            for tid, row in batch:
                if len(row) < width:
                    row = row + (None,) * (width - len(row))
                append((tuple([row[p] for p in positions]), tid))
            pages += 1
            if pages % YIELD_PAGES == 0:
                await _turn(env)
        names = ", ".join(table.columns[p].name for p in positions)
        types = [table.columns[p].type_oid for p in positions]
    if index.unique:
        seen: set[tuple[Any, ...]] = set()
        for n, (key, _tid) in enumerate(entries):
            if None in key and not index.nulls_not_distinct:
                continue
            if key in seen:
                values = ", ".join("null" if v is None else str(format_value(v, t))
                                   for v, t in zip(key, types, strict=True))
                raise UniqueViolation(f'could not create unique index "{index.name}"',
                                      detail=f"Key ({names})=({values}) is duplicated.",
                                      table=table.name, constraint=index.name)
            seen.add(key)
            if n % YIELD_ROWS == YIELD_ROWS - 1:
                await _turn(env)
        del seen
    env.ctx.check_cancel()
    await btree.bulk_load(entries)  # bottom-up: one IMAGE per page, not one insert per entry


async def _turn(env: Env) -> None:
    """A turn of the event loop in a long scan (other sessions' queries run), then a cancel check."""
    await asyncio.sleep(0)
    env.ctx.check_cancel()


async def _make_index(env: Env, table: Table, d: IndexDef) -> tuple[Index, Constraint | None]:
    catalog = env.ctx.catalog
    attnums = []
    for k, name in enumerate(d.columns):
        if d.expressions and d.expressions[k]:
            attnums.append(0)  # an expression column (pg_index.indkey 0)
            continue
        col = table.column(name)
        if col is None:
            raise UndefinedObject(f'column "{name}" named in key does not exist', sqlstate="42703")
        attnums.append(col.attnum)
    include = []
    for name in d.include:
        col = table.column(name)
        if col is None:
            raise UndefinedObject(f'column "{name}" named in key does not exist', sqlstate="42703")
        include.append(col.attnum)
    parent = _state(env.ctx).relations.get(d.parent_index) if d.parent_index else None
    rel_id = await env.ctx.storage.create_btree(len(attnums))
    index = Index(catalog.allocate_oid(), d.name, table.oid, rel_id, tuple(attnums), d.unique, d.primary,
                  table.schema_oid, expressions=d.expressions, predicate=d.predicate,
                  parent_index=parent.oid if isinstance(parent, Index) else 0, nulls_not_distinct=d.nulls_not_distinct,
                  method=d.method, descending=d.descending, nulls_first=d.nulls_first, attributes=d.attributes,
                  include=tuple(include), opclasses=d.opclasses, options=d.options)
    constraint = None
    if d.constraint and (d.unique or d.primary):
        constraint = Constraint(d.name, "p" if d.primary else "u", tuple(attnums), index_oid=index.oid,
                                oid=catalog.allocate_oid(), deferrable=d.deferrable, deferred=d.deferred)
    return index, constraint


def _skip_existing(ctx: Any, taken: bool, if_not_exists: bool, name: str, word: str = "relation") -> bool:
    """CREATE ... [IF NOT EXISTS] of a name in use: True (after the NOTICE) when the statement is
    to do nothing, 42P07 / 42P06 otherwise; False when the name is free."""
    if not taken:
        return False
    if if_not_exists:
        ctx.notice(f'{word} "{name}" already exists, skipping')
        return True
    if word == "schema":
        raise DuplicateSchema(f'schema "{name}" already exists')
    raise DuplicateTable(f'{word} "{name}" already exists')


def _check_name_free(state: Any, schema_oid: int, name: str) -> None:
    if state.name_in_use(schema_oid, name):
        raise DuplicateTable(f'relation "{name}" already exists')


def _qualify(schema: str, name: str) -> str:
    """schema.name with each part quoted when needed, as regclass output spells it."""
    from pgaurora.catalog.system.describe import quote_ident

    return f"{quote_ident(schema)}.{quote_ident(name)}".replace("'", "''")


@ddl_runner(CreateTable)
async def run_create_table(node: CreateTable, env: Env) -> None:
    ctx = env.ctx
    catalog = ctx.catalog
    state = _state(ctx)
    _tag(env, node.tag or ("CREATE TABLE" if node.as_query is None else "SELECT 0"))
    require_create_in(ctx, node.schema_oid)
    for con in node.constraints:  # a foreign key needs REFERENCES on the table it references
        if con.kind == "f" and con.ref_table and state.table(con.ref_table) is not None:
            require(ctx, state.table(con.ref_table), "x", columns=(("x", con.ref_columns),))
    if _skip_existing(ctx, state.name_in_use(node.schema_oid, node.name), node.if_not_exists, node.name):
        if node.as_query is not None or node.tag:
            _tag(env, "CREATE MATERIALIZED VIEW" if node.kind == "m" else "CREATE TABLE AS")
        return
    for d in node.indexes:
        _check_name_free(state, node.schema_oid, d.name)
    if (node.schema_oid, node.name) in state.composites:  # (its pg_class row has the name)
        raise DuplicateTable(f'relation "{node.name}" already exists')
    if (node.schema_oid, node.name) in state.types or (node.schema_oid, node.name) in state.domains:
        raise DuplicateObject(f'type "{node.name}" already exists',
                              hint="A relation has an associated type of the same name, so you must use a name "
                                   "that doesn't conflict with any existing type.")
    rel_id = await ctx.storage.create_heap()
    table_oid = catalog.allocate_oid()
    owner = current_role_oid(ctx)
    columns = list(node.columns)
    objs: list[Any] = []
    for seq_name, attnum, *template in node.sequences:
        _check_name_free(state, node.schema_oid, seq_name)
        col = columns[attnum - 1]
        max_value = {21: 32767, 23: 2147483647}.get(col.type_oid, 9223372036854775807)
        seq = Sequence(catalog.allocate_oid(), seq_name, col.type_oid if col.type_oid in (21, 23, 20) else 20,
                       max_value=max_value, owned_by=(table_oid, attnum), schema_oid=node.schema_oid, owner=owner,
                       acl=initial_acl(state, "S", owner, node.schema_oid))
        if template:  # an identity column's options (START, INCREMENT, CYCLE, ...)
            seq = replace(template[0], oid=seq.oid, owned_by=seq.owned_by, schema_oid=seq.schema_oid, owner=owner,
                          acl=seq.acl, column_acls=())
        objs.append(seq)
        # schema-qualified, as the regclass constant PostgreSQL stores: the default must find the
        # sequence whatever the search_path (pg_get_expr drops the schema when it is visible)
        schema = next((s.name for s in state.schemas.values() if s.oid == node.schema_oid), "public")
        columns[attnum - 1] = replace(col, default=f"nextval('{_qualify(schema, seq_name)}'::regclass)")
    fields = {"kind": node.kind, "query": node.query, "populated": node.populated, **dict(node.table_fields)}
    table = Table(table_oid, node.name, rel_id, tuple(columns), (), node.schema_oid, owner=owner,
                  acl=initial_acl(state, "r", owner, node.schema_oid), row_type=catalog.allocate_oid(),
                  row_array_type=catalog.allocate_oid(), **fields)
    # ref_table 0: a foreign key referencing the table being created
    constraints = [replace(c, oid=catalog.allocate_oid(), ref_table=c.ref_table or (table_oid if c.kind == "f" else 0))
                   for c in node.constraints]
    for d in node.indexes:
        index, constraint = await _make_index(env, table, d)
        objs.append(index)
        if constraint is not None:
            constraints.append(constraint)
    # PostgreSQL builds a constraint's index by scanning the new (empty) table: pg_stat_user_tables
    # counts a sequential scan for each; here the empty B-trees are made without one
    if node.kind != "p":
        ctx.storage.heap(rel_id).activity.seq_scans += len(node.indexes)
    table = replace(table, constraints=tuple(constraints))
    await catalog.create(ctx.txn, table, *objs)
    if node.as_query is not None:
        rows = await collect(node.as_query, env)
        heap = ctx.storage.heap(rel_id)
        if rows:
            await heap.insert_many(ctx.txn, rows)
        _tag(env, f"SELECT {len(rows)}")


@ddl_runner(CreateIndex)
async def run_create_index(node: CreateIndex, env: Env) -> None:
    ctx = env.ctx
    catalog = ctx.catalog
    state = _state(ctx)
    _tag(env, "CREATE INDEX")
    table = state.table(node.table_oid)
    require_owner(ctx, table)
    require_create_in(ctx, table.schema_oid)
    if _skip_existing(ctx, state.name_in_use(table.schema_oid, node.index.name), node.if_not_exists, node.index.name):
        return
    index, constraint = await _make_index(env, table, node.index)
    await _build_index(env, table, index, node.key_spec)
    objs: list[Any] = [index]
    await catalog.create(ctx.txn, *objs)
    if constraint is not None:
        await catalog.replace(ctx.txn, replace(table, constraints=table.constraints + (constraint,)))


@ddl_runner(CreateSequence)
async def run_create_sequence(node: CreateSequence, env: Env) -> None:
    ctx = env.ctx
    catalog = ctx.catalog
    state = _state(ctx)
    _tag(env, "CREATE SEQUENCE")
    seq = node.sequence
    require_create_in(ctx, seq.schema_oid)
    if _skip_existing(ctx, state.name_in_use(seq.schema_oid, seq.name), node.if_not_exists, seq.name):
        return
    owner = current_role_oid(ctx)
    await catalog.create(ctx.txn, replace(seq, oid=catalog.allocate_oid(), owner=owner,
                                          acl=initial_acl(state, "S", owner, seq.schema_oid)))


@ddl_runner(AlterSequence)
async def run_alter_sequence(node: AlterSequence, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER SEQUENCE")
    require_owner(ctx, _state(ctx).by_oid.get(node.sequence.oid, node.sequence))
    await ctx.catalog.replace(ctx.txn, node.sequence)
    if node.restart is not None:
        ctx.catalog.setval(node.sequence, node.restart, False)


@ddl_runner(CreateView)
async def run_create_view(node: CreateView, env: Env) -> None:
    ctx = env.ctx
    catalog = ctx.catalog
    state = _state(ctx)
    _tag(env, node.tag)
    existing = state.relation(node.view.name, next((s.name for s in state.schemas.values()
                                                    if s.oid == node.view.schema_oid), None))
    if node.tag == "CREATE VIEW":
        require_create_in(ctx, node.view.schema_oid)
    if existing is not None:
        if node.replace and isinstance(existing, View):
            require_owner(ctx, existing)  # (its privileges stay: they are the view's, not the query's)
            await catalog.replace(ctx.txn, replace(node.view, oid=existing.oid, owner=existing.owner, acl=existing.acl,
                                                   column_acls=existing.column_acls))
            return
        raise DuplicateTable(f'relation "{node.view.name}" already exists')
    owner = current_role_oid(ctx)
    await catalog.create(ctx.txn, replace(node.view, oid=catalog.allocate_oid(), owner=owner,
                                          acl=initial_acl(state, "r", owner, node.view.schema_oid)))


@ddl_runner(CreateSchema)
async def run_create_schema(node: CreateSchema, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "CREATE SCHEMA")
    require_database(ctx, "C")
    state = _state(ctx)
    if _skip_existing(ctx, node.name in state.schemas, node.if_not_exists, node.name, "schema"):
        return
    owner = current_role_oid(ctx)
    if node.authorization:
        role = named_role(ctx, node.authorization)
        current = current_role(ctx)
        if current is not None and not is_member(_state(ctx), current.oid, role.oid):
            raise InsufficientPrivilege(f'must be member of role "{role.name}"')
        owner = role.oid
    await ctx.catalog.create(ctx.txn, Schema(ctx.catalog.allocate_oid(), node.name, owner=owner,
                                             acl=initial_acl(state, "n", owner)))


@ddl_runner(NoOp)
async def run_noop(node: NoOp, env: Env) -> None:
    _tag(env, node.tag)
    if node.notice:
        env.ctx.notice(node.notice)
