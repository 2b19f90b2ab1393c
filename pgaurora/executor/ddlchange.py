"""DDL that changes or removes what exists: DROP (with dependency checks and CASCADE), TRUNCATE
(a transactional swap to new relations), and ALTER TABLE (column changes, constraints, row
rewrites for added columns and type changes, index rebuilds).

Owns running those utility nodes (defined with the other DDL nodes in executor.ddl). Not their
analysis (planner.ddl, planner.alter) and not CREATE (executor.ddl).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pgaurora.catalog import acl
from pgaurora.catalog.model import (
    Database,
    DefaultAcl,
    Domain,
    EnumType,
    Function,
    Index,
    Schema,
    Sequence,
    Table,
    View,
)
from pgaurora.catalog.roles import has_privileges_of
from pgaurora.datatypes.typeinfo import format_type
from pgaurora.errors import (
    CheckViolation,
    DependentObjectsStillExist,
    DuplicateTable,
    FeatureNotSupported,
    InsufficientPrivilege,
    NotNullViolation,
    ObjectInUse,
    PgError,
    UndefinedObject,
    UndefinedTable,
)
from pgaurora.executor.compile import compile_expr
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import (
    YIELD_PAGES,
    YIELD_ROWS,
    AlterTable,
    AlterTables,
    DropObjects,
    OwnedBy,
    Truncate,
    _build_index,
    _check_name_free,
    _make_index,
    _state,
    _tag,
    _turn,
    ddl_runner,
)
from pgaurora.executor.ownership import (
    current_role,
    has_createrole,
    is_superuser,
    named_role,
    object_word,
    owned_objects,
    require_owner,
)
from pgaurora.executor.privileges import describe, privileges_of_role, require, require_create_in
from pgaurora.executor.viewdeps import follow_columns, follow_relation, renamed_in_expression


@ddl_runner(DropObjects)
async def run_drop(node: DropObjects, env: Env) -> None:
    ctx = env.ctx
    catalog = ctx.catalog
    tags = {"table": "DROP TABLE", "index": "DROP INDEX", "sequence": "DROP SEQUENCE", "view": "DROP VIEW",
            "schema": "DROP SCHEMA", "role": "DROP ROLE", "database": "DROP DATABASE",
            "materialized view": "DROP MATERIALIZED VIEW"}
    _tag(env, tags[node.kind])
    if node.kind == "role" and not has_createrole(ctx):
        raise InsufficientPrivilege("permission denied to drop role")  # before any name, as PostgreSQL
    for schema, name in node.names:
        state = _state(ctx)
        if node.kind == "role":
            role = state.roles.get(name)
            if role is None:
                if node.missing_ok:
                    ctx.notice(f'role "{name}" does not exist, skipping')
                    continue
                raise UndefinedObject(f'role "{name}" does not exist')
            if name == getattr(ctx, "user", None):
                raise ObjectInUse("current user cannot be dropped")
            if name == getattr(ctx, "session_user", None):
                raise ObjectInUse("session user cannot be dropped")
            if role.superuser and not is_superuser(ctx):
                raise InsufficientPrivilege("must be superuser to drop superusers")
            owned = owned_objects(state, role.oid)
            granted = privileges_of_role(state, role.oid)
            if owned or granted or _policies_naming(state, role.oid):
                # (pg_shdepend's order: the database first, then as the dependencies arose)
                mine = [obj for _, obj in granted if isinstance(obj, DefaultAcl) and obj.role == role.oid]
                lines = [f"privileges for {text}" for text, obj in granted if isinstance(obj, Database)]
                lines += [f"owner of {describe(state, obj)}" for obj in owned + mine]
                lines += [f"privileges for {text}" for text, obj in granted
                          if obj not in mine and not isinstance(obj, Database)]
                lines += [f"target of policy {p.policy_name} on {describe(state, state.table(p.table_oid))}"
                          for p in _policies_naming(state, role.oid)]
                raise DependentObjectsStillExist(
                    f'role "{name}" cannot be dropped because some objects depend on it', detail="\n".join(lines))
            await catalog.remove(ctx.txn, role.oid)
            for other in list(_state(ctx).roles.values()):  # its memberships go with it
                if any(m[0] == role.oid for m in other.member_of):
                    await catalog.alter_role(ctx.txn, replace(other, member_of=tuple(
                        m for m in other.member_of if m[0] != role.oid)))
            continue
        if node.kind == "schema":
            sch = state.schemas.get(name)
            if sch is None:
                if node.missing_ok:
                    ctx.notice(f'schema "{name}" does not exist, skipping')
                    continue
                raise UndefinedObject(f'schema "{name}" does not exist', sqlstate="3F000")
            require_owner(ctx, sch)
            await _drop_schema_members(env, sch, node.cascade)
            await catalog.remove(ctx.txn, sch.oid)
            continue
        rel = state.relation(name, schema)
        expected = {"table": Table, "index": Index, "sequence": Sequence, "view": View,
                    "materialized view": Table}[node.kind]
        table_kinds = ("m",) if node.kind == "materialized view" else ("r", "p")  # p: a partitioned table
        if rel is None or not isinstance(rel, expected) or (isinstance(rel, Table) and rel.kind not in table_kinds):
            if rel is not None and node.kind != "index":
                kind_word = {"table": "a table", "sequence": "a sequence", "view": "a view",
                             "materialized view": "a materialized view"}[node.kind]
                rel_word = "materialized view" if isinstance(rel, Table) and rel.kind == "m" else type(rel).__name__.lower()
                raise UndefinedObject(f'"{name}" is not {kind_word}', sqlstate="42809",
                                      hint=f"Use DROP {rel_word.upper()} to remove a {rel_word}.")
            shown = f"{schema}.{name}" if schema else name
            word = "relation" if node.kind == "table" else node.kind
            if node.kind == "view":
                word = "view"
            if node.missing_ok:
                ctx.notice(f'{"table" if node.kind == "table" else node.kind} "{shown}" does not exist, skipping')
                continue
            if node.kind == "table":
                raise UndefinedTable(f'table "{shown}" does not exist')
            if node.kind == "index":
                raise UndefinedObject(f'index "{shown}" does not exist')
            if node.kind == "sequence":
                raise UndefinedTable(f'sequence "{shown}" does not exist')
            raise UndefinedTable(f'{word} "{shown}" does not exist')
        require_owner(ctx, rel, or_schema_owner=True)
        oids: list[int] = [rel.oid]  # type: ignore[attr-defined]
        kind = "view" if isinstance(rel, View) else "materialized view" if getattr(rel, "kind", "r") == "m" else "table"
        # what depends on it: other tables' foreign keys, and views (transitively)
        dependents: list[str] = []
        order: dict[str, int] = {}  # (each dependent's oid: PostgreSQL lists them in creation order)
        fk_drops = []
        if isinstance(rel, Table):
            for other, con in state.referencing(rel.oid):
                if other.oid != rel.oid:
                    dependents.append(f"constraint {con.name} on table {other.name}")
                    order[dependents[-1]] = con.oid
                    fk_drops.append((other, con))
        if isinstance(rel, Table | View):
            pending = [rel.name]
            seen: set[int] = set()
            while pending:
                for view in _dependent_views(state, pending.pop()):
                    if view.oid not in seen:
                        seen.add(view.oid)
                        dependents.append(f"{'view' if isinstance(view, View) else 'materialized view'} {view.name}")
                        order[dependents[-1]] = view.oid
                        oids.append(view.oid)
                        pending.append(view.name)
        on = {d: f"{kind} {rel.name}" for d in dependents}  # type: ignore[attr-defined]
        if isinstance(rel, Table):
            # functions whose signature names its row type (or that return its rows)
            typed = {t for t in (rel.row_type, rel.row_array_type) if t}
            for overloads in state.functions.values():
                for fn in sorted(overloads, key=lambda f: f.oid):
                    if fn.out_table == rel.oid or typed & {fn.return_type, *fn.arg_types, *fn.param_types}:
                        what = f"function {fn.name}({', '.join(format_type(t) for t in fn.arg_types)})"
                        dependents.append(what)
                        order[what] = fn.oid
                        on[what] = f"type {rel.name}" if typed & {fn.return_type, *fn.arg_types, *fn.param_types} \
                            else f"table {rel.name}"
                        oids.append(fn.oid)
        dependents.sort(key=lambda d: order.get(d, 0))
        if dependents:
            if not node.cascade:
                raise DependentObjectsStillExist(
                    f"cannot drop {kind} {rel.name} because other objects depend on it",  # type: ignore[attr-defined]
                    detail="\n".join(f"{d} depends on {on[d]}" for d in dependents),
                    hint="Use DROP ... CASCADE to drop the dependent objects too.")
            ctx.notice(f"drop cascades to {dependents[0]}" if len(dependents) == 1
                       else PgError(f"drop cascades to {len(dependents)} other objects", sqlstate="00000",
                                    detail="\n".join(f"drop cascades to {d}" for d in dependents)))
        for other, con in fk_drops:
            other = _state(ctx).table(other.oid)
            await catalog.replace(ctx.txn, replace(other, constraints=tuple(
                c for c in other.constraints if c.name != con.name)))
        state = _state(ctx)
        if isinstance(rel, Table):  # a partitioned table's partitions go with it
            oids.extend(p.oid for p in state.partitions(rel.oid))
        for oid in list(oids):  # the relation and any materialized view or partition dropped with it
            if isinstance(state.by_oid.get(oid), Table):
                oids.extend(ix.oid for ix in state.indexes(oid))
        if isinstance(rel, Table):
            for obj in list(state.by_oid.values()):
                if isinstance(obj, Sequence) and obj.owned_by[0] == rel.oid:
                    oids.append(obj.oid)
        if isinstance(rel, Index):
            if rel.parent_index:
                parent = state.by_oid.get(rel.parent_index)
                if parent is not None:
                    raise DependentObjectsStillExist(
                        f"cannot drop index {rel.name} because index {parent.name} requires it",
                        hint=f"You can drop index {parent.name} instead.")
            oids.extend(ix.oid for ix in state.by_oid.values() if isinstance(ix, Index) and ix.parent_index == rel.oid)
            table = state.table(rel.table_oid)
            if table is not None and any(c.index_oid == rel.oid for c in table.constraints):
                con = next(c for c in table.constraints if c.index_oid == rel.oid)
                raise DependentObjectsStillExist(
                    f"cannot drop index {rel.name} because constraint {con.name} on table {table.name} requires it",
                    hint=f"You can drop constraint {con.name} on table {table.name} instead.")
        oids.extend(p.oid for oid in list(oids) for p in state.policies.get(oid, ()))  # its policies go with it
        oids.extend(t.oid for oid in list(oids) for t in state.triggers.get(oid, ()))  # and its triggers
        await catalog.remove(ctx.txn, *oids)


@ddl_runner(OwnedBy)
async def run_owned_by(node: OwnedBy, env: Env) -> None:
    """REASSIGN OWNED BY (each object the roles own gets the new owner) and DROP OWNED BY (each
    is dropped, [CASCADE] as DROP would): the current role must have the privileges of every
    role named (42501), as PostgreSQL 15 checks; DROP OWNED also revokes every privilege
    granted to them (their objects' ACLs stay, without them)."""
    ctx = env.ctx
    catalog = ctx.catalog
    reassign = node.reassign
    _tag(env, "REASSIGN OWNED" if reassign else "DROP OWNED")
    state = _state(ctx)
    current = current_role(ctx)
    roles = [named_role(ctx, name) for name in node.roles]
    new = named_role(ctx, node.new_owner) if reassign else None
    for role in roles + ([new] if new is not None else []):
        if current is not None and not has_privileges_of(state, current.oid, role.oid):
            raise InsufficientPrivilege("permission denied to reassign objects" if reassign
                                        else "permission denied to drop objects")
    for role in roles:
        owned = owned_objects(_state(ctx), role.oid)
        if new is not None:
            for obj in owned:
                await catalog.replace(ctx.txn, acl.with_owner(obj, new.oid))
            continue
        for policy in _policies_naming(_state(ctx), role.oid):  # out of policies' roles (alone: the policy goes)
            left = tuple(r for r in policy.roles if r != role.oid)
            if left:
                await catalog.replace(ctx.txn, replace(policy, roles=left))
            else:
                await catalog.remove(ctx.txn, policy.oid)
        for _, obj in privileges_of_role(_state(ctx), role.oid):  # its privileges are revoked
            if isinstance(obj, DefaultAcl):
                left = acl.without_role(obj.acl, role.oid) or ()
                base = acl.default_acl(acl.DEFAULT_ACL_TYPES[obj.objtype], obj.role) if not obj.schema_oid else ()
                if obj.role == role.oid or acl.sorted_acl(left) == acl.sorted_acl(base):
                    await catalog.remove(ctx.txn, obj.oid)  # its own default privileges go, as does an
                    continue                                # entry left as the built-in defaults
                await catalog.replace(ctx.txn, replace(obj, acl=left))
                continue
            await catalog.replace(ctx.txn, acl.without_role_anywhere(_state(ctx).by_oid.get(obj.oid, obj), role.oid))
        schemas = {s.oid: s.name for s in state.schemas.values()}
        for obj in owned:  # relations first, then the schemas (which may still hold others' objects)
            if isinstance(obj, Schema) or obj.oid not in _state(ctx).by_oid:
                continue  # (dropped with an earlier one: an owned sequence with its table)
            if isinstance(obj, EnumType | Function | Domain):
                continue  # after the relations (which may use it)
            kind = "sequence" if isinstance(obj, Sequence) else object_word(obj)
            await run_drop(DropObjects(kind, ((schemas.get(obj.schema_oid), obj.name),), True, node.cascade), env)
        await _drop_functions(env, [obj for obj in owned if isinstance(obj, Function)], node.cascade)
        await _drop_domains(env, [obj for obj in owned if isinstance(obj, Domain)], node.cascade)
        from pgaurora.executor.enumtypes import DropTypes, run_drop_types

        for obj in owned:
            if isinstance(obj, EnumType) and obj.oid in _state(ctx).by_oid:
                await run_drop_types(DropTypes(((schemas.get(obj.schema_oid), obj.name),), True, node.cascade), env)
        for obj in owned:
            if isinstance(obj, Schema) and obj.oid in _state(ctx).by_oid:
                await run_drop(DropObjects("schema", ((None, obj.name),), True, node.cascade), env)
    _tag(env, "REASSIGN OWNED" if reassign else "DROP OWNED")


async def _drop_functions(env: Env, functions: list[Function], cascade: bool) -> None:
    """DROP FUNCTION of each of `functions` still there (with the triggers using them, or 2BP01)."""
    from pgaurora.executor.routines import DropFunctions, run_drop_functions

    schemas = {s.oid: s.name for s in _state(env.ctx).schemas.values()}
    for fn in functions:
        if fn.oid in _state(env.ctx).by_oid:
            word = "procedure" if fn.kind == "p" else "function"
            await run_drop_functions(DropFunctions(word, ((schemas.get(fn.schema_oid), fn.name, fn.arg_types, ""),),
                                                   True, cascade), env)


async def _drop_domains(env: Env, domains: list[Domain], cascade: bool) -> None:
    """DROP DOMAIN of each of `domains` still there (after the tables that may use them)."""
    from pgaurora.executor.domains import DropDomains, run_drop_domains

    schemas = {s.oid: s.name for s in _state(env.ctx).schemas.values()}
    for domain in domains:
        if domain.oid in _state(env.ctx).by_oid:
            await run_drop_domains(DropDomains(((schemas.get(domain.schema_oid), domain.name),), True, cascade), env)


def _policies_naming(state: Any, role_oid: int) -> list[Any]:
    """The row security policies whose TO list names `role_oid` (pg_shdepend's policy rows)."""
    return [p for policies in state.policies.values() for p in policies if role_oid in p.roles]


async def _drop_schema_members(env: Env, schema: Any, cascade: bool) -> None:
    """DROP SCHEMA: what the schema holds (tables, views, materialized views, sequences no table
    owns; their indexes and owned sequences go with them) stops it with 2BP01 unless CASCADE,
    which drops each as DROP ... CASCADE would (after one NOTICE listing them, as PostgreSQL;
    the objects elsewhere that depend on them are dropped too but not listed)."""
    ctx = env.ctx
    state = _state(ctx)
    members = sorted((obj for obj in state.by_oid.values()
                      if isinstance(obj, Table | View | Sequence | EnumType | Function | Domain)
                      and getattr(obj, "schema_oid", None) == schema.oid
                      and not (isinstance(obj, Sequence) and obj.owned_by[0])
                      and not (isinstance(obj, Table) and obj.partition_of)),
                     key=lambda obj: obj.oid)
    if not members:
        return
    lines = []  # PostgreSQL's: each member, then what outside the schema depends on it
    for obj in members:
        word = f"{object_word(obj)} {schema.name}.{obj.name}"
        if isinstance(obj, Function):  # (getObjectDescription says function for procedures too)
            word = f"function {schema.name}.{obj.name}({', '.join(format_type(t) for t in obj.arg_types)})"
            lines.append((word, f"schema {schema.name}"))
            lines += [(f"trigger {tr.name} on table {table.name}", word)
                      for tr, table in dependent_triggers(state, obj) if table.schema_oid != schema.oid]
            continue
        lines.append((word, f"schema {schema.name}"))
        if isinstance(obj, Table):
            lines += [(f"constraint {con.name} on table {other.name}", word)
                      for other, con in state.referencing(obj.oid) if other.schema_oid != schema.oid]
        if isinstance(obj, Table | View):
            lines += [(f"{object_word(view)} {view.name}", word)
                      for view in _dependent_views(state, obj.name) if getattr(view, "schema_oid", 0) != schema.oid]
        if isinstance(obj, Domain):  # columns elsewhere of the domain
            lines += [(f"column {column.name} of table {table.name}", word) for table in state.tables()
                      if table.schema_oid != schema.oid for column in table.columns
                      if not column.dropped and column.domain == obj.oid]
        if isinstance(obj, EnumType):  # columns elsewhere of the type (or of its array type)
            lines += [(f"column {column.name} of table {table.name}", word) for table in state.tables()
                      if table.schema_oid != schema.oid for column in table.columns
                      if not column.dropped and column.type_oid in (obj.oid, obj.array_oid)]
    if not cascade:
        raise DependentObjectsStillExist(
            f"cannot drop schema {schema.name} because other objects depend on it",
            detail="\n".join(f"{what} depends on {on}" for what, on in lines),
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    if len(lines) == 1:
        ctx.notice(f"drop cascades to {lines[0][0]}")
    else:
        ctx.notice(PgError(f"drop cascades to {len(lines)} other objects", sqlstate="00000",
                           detail="\n".join(f"drop cascades to {what}" for what, _ in lines)))
    notice, ctx.notice = ctx.notice, lambda *args: None  # the members' own drops say nothing more
    try:
        for obj in members:
            if isinstance(obj, EnumType | Function | Domain):
                continue
            kind = "sequence" if isinstance(obj, Sequence) else object_word(obj)
            await run_drop(DropObjects(kind, ((schema.name, obj.name),), True, True), env)
        await _drop_functions(env, [obj for obj in members if isinstance(obj, Function)], True)
        await _drop_domains(env, [obj for obj in members if isinstance(obj, Domain)], True)
        from pgaurora.executor.enumtypes import DropTypes, run_drop_types

        types = tuple((schema.name, obj.name) for obj in members if isinstance(obj, EnumType))
        if types:  # after the tables that use them
            await run_drop_types(DropTypes(types, True, True), env)
    finally:
        ctx.notice = notice
    _tag(env, "DROP SCHEMA")


def dependent_triggers(state: Any, fn: Function) -> list[tuple[Any, Table]]:
    """The triggers that run `fn`, each with its table."""
    return [(tr, table) for triggers in state.triggers.values() for tr in triggers
            if tr.function_oid == fn.oid and (table := state.by_oid.get(tr.table_oid)) is not None]


def _dependent_views(state: Any, name: str) -> list[View | Table]:
    """Views and materialized views whose query reads the relation called `name` (PostgreSQL's
    pg_depend, from the view text)."""
    import json

    from pglast import parser as pg_parser

    found = []
    needle = f'"relname":{json.dumps(name)}'
    for obj in state.by_oid.values():
        if isinstance(obj, View | Table) and obj.query is not None and obj.name != name:
            tree = pg_parser.parse_sql_json(obj.query)
            if needle in tree:
                found.append(obj)
    return found


@ddl_runner(Truncate)
async def run_truncate(node: Truncate, env: Env) -> None:
    """Transactional TRUNCATE: each table (and its indexes) points at new, empty relations.
    Each needs the TRUNCATE privilege; a table another table's foreign key references must be
    truncated with it (0A000), which CASCADE adds (with a NOTICE each), as PostgreSQL."""
    ctx = env.ctx
    catalog = ctx.catalog
    storage = ctx.storage
    _tag(env, "TRUNCATE TABLE")
    state = _state(ctx)
    changed: list[Any] = []
    oids = list(node.table_oids)
    for oid in oids:  # every table named (and its partitions) needs TRUNCATE
        require(ctx, state.table(oid), "D")
    for oid in oids:  # (the list grows as CASCADE finds more)
        for other, _ in state.referencing(oid):
            if other.oid in oids:
                continue
            if not node.cascade:
                raise FeatureNotSupported(
                    "cannot truncate a table referenced in a foreign key constraint",
                    detail=f'Table "{other.name}" references "{state.table(oid).name}".',
                    hint=f'Truncate table "{other.name}" at the same time, or use TRUNCATE ... CASCADE.')
            ctx.notice(f'truncate cascades to table "{other.name}"')
            require(ctx, other, "D")
            oids.append(other.oid)
            oids.extend(part.oid for part in state.partitions(other.oid) if part.oid not in oids)
    from pgaurora.executor.triggers import truncate_triggers

    fired = [t for t in (truncate_triggers(ctx, state, state.table(oid)) for oid in oids) if t is not None]
    for triggers in fired:  # BEFORE TRUNCATE, each table's, before any is emptied
        await triggers.start()
    for oid in oids:
        table = state.table(oid)
        rel_id = await storage.create_heap()
        storage.carry_activity(table.rel_id, rel_id)  # pg_stat_user_tables counts by table
        changed.append(replace(table, rel_id=rel_id))
        for ix in state.indexes(oid):
            index_rel = await storage.create_btree(len(ix.columns))
            storage.carry_index_activity(ix.rel_id, index_rel)
            changed.append(replace(ix, rel_id=index_rel))
        # PostgreSQL rebuilds each index over the new, empty table: a sequential scan apiece
        storage.heap(rel_id).activity.seq_scans += len(state.indexes(oid))
        if node.restart_identity:
            for seq in state.owned_sequences(oid):
                catalog.setval(seq, seq.start, False)
    await catalog.replace(ctx.txn, *changed)
    for triggers in fired:  # AFTER TRUNCATE, over the emptied tables
        await triggers.finish()


@ddl_runner(AlterTables)
async def run_alter_tables(node: AlterTables, env: Env) -> None:
    for change in node.changes:
        await run_alter_table(change, env)
        env.ctx.txn.next_command()  # (the next one sees this one's catalog rows)


@ddl_runner(AlterTable)
async def run_alter_table(node: AlterTable, env: Env) -> None:
    for notice in node.notices:
        env.ctx.notice(notice)
    ctx = env.ctx
    catalog = ctx.catalog
    storage = ctx.storage
    _tag(env, node.tag)
    state = _state(ctx)
    table = node.table
    old = state.table(table.oid)
    for renamed, _ in node.renames:  # ALTER INDEX / SEQUENCE / VIEW ... RENAME: that object's owner
        require_owner(ctx, state.by_oid.get(renamed))
        require_create_in(ctx, getattr(state.by_oid.get(renamed), "schema_oid", 0))  # and CREATE in its schema
    if not node.renames:
        require_owner(ctx, old if old is not None else table)
        if old is not None and old.name != table.name:  # RENAME: CREATE in its schema too
            require_create_in(ctx, table.schema_oid)
    known = {c.name for c in old.constraints} if old is not None else set()
    for con in table.constraints:  # a new foreign key needs REFERENCES on the table it references
        if con.kind == "f" and con.name not in known and con.ref_table and con.ref_table != table.oid:
            require(ctx, state.table(con.ref_table), "x", columns=(("x", con.ref_columns),))
    objs: list[Any] = []
    for seq_name, attnum, *template in node.sequences:
        _check_name_free(state, table.schema_oid, seq_name)
        if template:  # ADD GENERATED AS IDENTITY: the sequence's type and options
            objs.append(replace(template[0], oid=catalog.allocate_oid(), owned_by=(table.oid, attnum),
                                acl=acl.initial_acl(state, "S", template[0].owner, table.schema_oid)))
            continue
        objs.append(Sequence(catalog.allocate_oid(), seq_name, owned_by=(table.oid, attnum),
                             schema_oid=table.schema_oid, owner=table.owner,
                             acl=acl.initial_acl(state, "S", table.owner, table.schema_oid)))
    heap = storage.heap(table.rel_id)
    txn = ctx.txn
    rebuilt: list[Any] = []
    numbered = 0  # rows the ADD COLUMN serial / identity numbered
    if node.conversions:
        from pgaurora.executor.compile import compile_exprs

        convert = compile_exprs(tuple(e for _, e in node.conversions))[0]
        changed = {pos for pos, _ in node.conversions}
        # indexes over a column whose type changes get new B-trees (keys of the new type)
        attnum_pos = {c.attnum: i for i, c in enumerate(table.columns)}
        for ix in state.indexes(table.oid):
            if any(attnum_pos.get(a) in changed for a in ix.columns):
                rebuilt.append(replace(ix, rel_id=await storage.create_btree(len(ix.columns))))
    if node.fill_defaults or node.validate_not_null or node.conversions or node.checks or node.serial_fills:
        snapshot = txn.snapshot()
        updates = await _scan_rows(node, env, heap, snapshot, convert if node.conversions else None)
        numbered = len(updates)
        by_oid = {ix.oid: ix for ix in rebuilt}
        from pgaurora.executor.indexkeys import key_function

        keyed = {spec.index_oid: key_function(spec) for spec in node.index_keys}  # (expression / partial)
        for n, (tid, new_row) in enumerate(updates):
            if n % YIELD_ROWS == YIELD_ROWS - 1:
                await _turn(env)
            new_tid = await heap.update(txn, snapshot, tid, new_row)
            if new_tid is not None:
                for ix in [by_oid.get(i.oid, i) for i in state.indexes(table.oid)]:
                    key_of = keyed.get(ix.oid)
                    if key_of is not None:
                        key = key_of(tuple(new_row), env)
                        if key is not None:
                            await storage.btree(ix.rel_id).insert(key, new_tid)
                        continue
                    positions = [next(i for i, c in enumerate(table.columns) if c.attnum == a) for a in ix.columns]
                    await storage.btree(ix.rel_id).insert(tuple(new_row[p] for p in positions), new_tid)
    # constraints added by this ALTER (CHECK, FOREIGN KEY) get their pg_constraint oid here; the
    # existing rows must satisfy an added foreign key (executor.foreignkeys)
    before = {c.name: c for c in old.constraints} if old is not None else {}
    for con in table.constraints:
        prior = before.get(con.name)
        if con.kind == "f" and con.validated and (not con.oid or prior is None or not prior.validated):
            from pgaurora.executor.foreignkeys import validate_foreign_key

            await validate_foreign_key(env, state, table, con)
    constraints = [c if c.oid else replace(c, oid=catalog.allocate_oid()) for c in table.constraints]
    new_index_objs = []
    for d in node.new_indexes:
        if state.name_in_use(table.schema_oid, d.name):
            raise DuplicateTable(f'relation "{d.name}" already exists')
        index, constraint = await _make_index(env, table, d)
        txn.next_command()
        await _build_index(env, table, index)
        new_index_objs.append(index)
        if constraint is not None:
            constraints.append(constraint)
    table = replace(table, constraints=tuple(constraints))
    renamed = old is not None and old.name != table.name
    before_names = {c.attnum: c.name for c in old.columns if not c.dropped} if old is not None else {}
    column_renames = {before_names[c.attnum]: c.name for c in table.columns
                      if not c.dropped and c.attnum in before_names and before_names[c.attnum] != c.name}
    del old
    if column_renames:  # its own CHECKs, generated columns and index expressions follow the new names
        table, rebuilt = _follow_renames(state, table, rebuilt, column_renames)
    await catalog.replace(txn, table, *rebuilt)
    if renamed:  # the views naming it follow (executor.viewdeps)
        await follow_relation(ctx, state, table.oid, table.name)
    if column_renames:
        await follow_columns(ctx, state, table.oid, column_renames)
    if node.replaced_indexes:
        await catalog.replace(txn, *node.replaced_indexes)
    for oid, new_name, primary in node.adopted_indexes:
        adopted = _state(ctx).by_oid[oid]
        await catalog.replace(txn, replace(adopted, name=new_name, primary=adopted.primary or primary))
    for oid, new_name in node.renames:
        obj = _state(ctx).by_oid[oid]
        await catalog.replace(txn, replace(obj, name=new_name))
        if isinstance(obj, View):
            await follow_relation(ctx, state, oid, new_name)
    if node.drop_index_oids or node.drop_oids:
        await catalog.remove(txn, *node.drop_index_oids, *node.drop_oids)
    for seq, restart in node.sequence_changes:  # (SET GENERATED / SET INCREMENT BY / RESTART ...)
        await catalog.replace(txn, seq)
        if restart is not None:
            catalog.setval(seq, restart, False)
    if objs or new_index_objs:
        await catalog.create(txn, *objs, *new_index_objs)
    for _pos, name, start, step in node.serial_fills if numbered else ():  # past the numbers given out
        created = next(o for o in objs if isinstance(o, Sequence) and o.name == name)
        catalog.setval(created, start + step * (numbered - 1), True)


def _follow_renames(state: Any, table: Table, rebuilt: list[Any],
                    renames: dict[str, str]) -> tuple[Table, list[Any]]:
    """`table` with its CHECK and generation expressions naming renamed columns by their new
    names, and its expression / partial indexes likewise (added to or updated in `rebuilt`)."""
    def follow(text: str | None) -> str | None:
        return None if text is None else renamed_in_expression(text, renames, table.name)

    constraints = tuple(replace(c, check=follow(c.check) or c.check) if c.kind == "c" and c.check else c
                        for c in table.constraints)
    columns = tuple(replace(c, generated=follow(c.generated) or c.generated) if c.generated else c
                    for c in table.columns)
    by_oid = {ix.oid: ix for ix in rebuilt}
    for ix in state.indexes(table.oid):
        current = by_oid.get(ix.oid, ix)
        if not current.expressions and current.predicate is None:
            continue
        expressions = tuple(follow(e) or e if e else e for e in current.expressions)
        predicate = follow(current.predicate) or current.predicate
        if expressions != current.expressions or predicate != current.predicate:
            by_oid[ix.oid] = replace(current, expressions=expressions, predicate=predicate)
    return replace(table, constraints=constraints, columns=columns), list(by_oid.values())


async def _scan_rows(node: AlterTable, env: Env, heap: Any, snapshot: Any, convert: Any) -> list[tuple[Any, Any]]:
    """ALTER TABLE's pass over the existing rows (PostgreSQL's phase 3): each row with its added
    columns' defaults and converted columns, checked against the NOT NULL columns and the CHECKs
    to validate; returns (tid, new row) of the rows to rewrite. Hands the event loop back every
    YIELD_PAGES pages: a big table takes seconds."""
    table = node.table
    width = len(table.columns)
    checks = [(name, compile_expr(expr).fn) for name, expr in node.checks]
    rewrite = bool(node.fill_defaults or node.conversions or node.serial_fills)
    numbers = {pos: (start, step) for pos, _name, start, step in node.serial_fills}
    updates: list[tuple[Any, Any]] = []
    pages = 0
    async for batch in heap.scan(env.ctx.txn, snapshot):
        for tid, row in batch:
            if len(row) < width:
                row = row + (None,) * (width - len(row))
            new = row
            if rewrite:
                values = list(row)
                for pos, value in node.fill_defaults:
                    values[pos] = value
                for pos, (start, step) in numbers.items():  # serial / identity: the next number
                    values[pos] = start + step * len(updates)
                if convert is not None:
                    for (pos, _), value in zip(node.conversions, convert(row, env), strict=True):
                        values[pos] = value
                new = tuple(values)
            for pos in node.validate_not_null:
                if new[pos] is None:
                    raise NotNullViolation(f'column "{table.columns[pos].name}" of relation "{table.name}" '
                                           f'contains null values', table=table.name, column=table.columns[pos].name)
            for name, fn in checks:
                if fn(new, env) is False:
                    raise CheckViolation(f'check constraint "{name}" of relation "{table.name}" is violated by '
                                         f'some row', table=table.name, constraint=name)
            if rewrite:
                updates.append((tid, new))
        pages += 1
        if pages % YIELD_PAGES == 0:
            await _turn(env)
    return updates
