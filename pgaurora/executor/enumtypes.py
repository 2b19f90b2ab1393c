"""CREATE TYPE ... AS ENUM, CREATE TYPE ... AS (attributes), ALTER TYPE ... ADD VALUE and DROP
TYPE: enum and composite types in the catalog.

Owns the plan nodes of those statements and running them: the catalog.model.CompositeType
definitions (the type's, its array type's and its pg_class row's oids; attributes), the
catalog.model.EnumType definitions (the type's, its array type's and each label's oids; labels' sort orders: 1, 2, ...
at creation, a value between its neighbours for ADD VALUE BEFORE / AFTER) with PostgreSQL's
checks and messages. Not the values themselves (datatypes.enums) nor name lookup
(CatalogState.user_type, the planner's type_from_name).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog.model import CompositeType, EnumType, Table
from pgaurora.datatypes.typeinfo import format_type
from pgaurora.errors import (
    DependentObjectsStillExist,
    DuplicateColumn,
    DuplicateObject,
    FeatureNotSupported,
    InvalidParameterValue,
    InvalidSchemaName,
    UndefinedColumn,
    UndefinedObject,
    UndefinedTable,
)
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.ownership import current_role_oid, require_owner
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.privileges import require_create_in

NAMEDATALEN = 64


@dataclass(frozen=True, slots=True)
class CreateEnum(PlanNode):
    schema_oid: int  # where (the planner's DdlPlanner.schema_oid)
    name: str
    labels: tuple[str, ...]
    width: int = 0


@dataclass(frozen=True, slots=True)
class CreateComposite(PlanNode):
    schema_oid: int
    name: str
    attributes: tuple[tuple[str, int, int], ...]  # (name, type oid, typmod)
    width: int = 0


@dataclass(frozen=True, slots=True)
class AddEnumValue(PlanNode):
    """ALTER TYPE name ADD VALUE [IF NOT EXISTS] label [BEFORE | AFTER neighbour]."""

    schema: str | None
    name: str
    label: str
    neighbour: str | None = None
    after: bool = False
    if_not_exists: bool = False
    width: int = 0


@dataclass(frozen=True, slots=True)
class AlterUserType(PlanNode):
    """ALTER TYPE name RENAME TO n (an enum or composite type), and of a composite type ADD /
    DROP [IF EXISTS] / ALTER ... TYPE / RENAME ATTRIBUTE: ("rename", new name), ("add_attribute",
    name, type, typmod), ("drop_attribute", name, missing ok), ("alter_attribute", name, type,
    typmod), ("rename_attribute", old, new)."""

    schema: str | None
    name: str
    changes: tuple[tuple[Any, ...], ...]
    width: int = 0


@dataclass(frozen=True, slots=True)
class DropTypes(PlanNode):
    names: tuple[tuple[str | None, str], ...]
    missing_ok: bool = False
    cascade: bool = False
    width: int = 0


def find_type(state: Any, schema: str | None, name: str) -> EnumType | None:
    if schema is not None and state.schema_oid(schema) is None:
        raise InvalidSchemaName(f'schema "{schema}" does not exist')
    return state.user_type(name, schema)  # type: ignore[no-any-return]


def _taken(state: Any, schema_oid: int, name: str) -> bool:
    """Is a type (or a relation, whose row type it would be) of that name in that schema?"""
    key = (schema_oid, name)
    return key in state.types or key in state.composites or key in state.relations or key in state.domains


def _shown(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _check_label(label: str) -> None:
    if len(label.encode()) >= NAMEDATALEN:
        raise InvalidParameterValue(f'invalid enum label "{label}"',
                                    detail=f"Labels must be {NAMEDATALEN - 1} bytes or less.", sqlstate="42602")


@ddl_runner(CreateEnum)
async def run_create_enum(node: CreateEnum, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "CREATE TYPE")
    state = _state(ctx)
    schema_oid = node.schema_oid
    require_create_in(ctx, schema_oid)
    if _taken(state, schema_oid, node.name):
        raise DuplicateObject(f'type "{node.name}" already exists')
    seen: set[str] = set()
    for label in node.labels:
        _check_label(label)
        if label in seen:
            raise DuplicateObject(f'enum label "{label}" used more than once', sqlstate="23505")
        seen.add(label)
    catalog = ctx.catalog
    owner = current_role_oid(ctx)
    oid, array_oid = catalog.allocate_oid(), catalog.allocate_oid()
    labels = tuple((label, float(i), catalog.allocate_oid()) for i, label in enumerate(node.labels, 1))
    await catalog.create(ctx.txn, EnumType(oid, node.name, schema_oid, owner, array_oid, labels))


@ddl_runner(CreateComposite)
async def run_create_composite(node: CreateComposite, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "CREATE TYPE")
    state = _state(ctx)
    require_create_in(ctx, node.schema_oid)
    if _taken(state, node.schema_oid, node.name):
        raise DuplicateObject(f'type "{node.name}" already exists')
    seen: set[str] = set()
    for name, _, _ in node.attributes:
        if name in seen:
            raise DuplicateColumn(f'column "{name}" specified more than once')
        seen.add(name)
    catalog = ctx.catalog
    oid, array_oid, relid = catalog.allocate_oid(), catalog.allocate_oid(), catalog.allocate_oid()
    await catalog.create(ctx.txn, CompositeType(oid, node.name, node.schema_oid, current_role_oid(ctx), array_oid,
                                                relid, node.attributes))


@ddl_runner(AddEnumValue)
async def run_add_enum_value(node: AddEnumValue, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER TYPE")
    state = _state(ctx)
    found = find_type(state, node.schema, node.name)
    if found is None:
        raise UndefinedObject(f'type "{_shown(node.schema, node.name)}" does not exist')
    require_owner(ctx, found, "type")
    _check_label(node.label)
    labels = list(found.labels)
    if any(label == node.label for label, _, _ in labels):
        if node.if_not_exists:
            ctx.notice(f'enum label "{node.label}" already exists, skipping')
            return
        raise DuplicateObject(f'enum label "{node.label}" already exists')
    if node.neighbour is None:
        order = (labels[-1][1] + 1.0) if labels else 1.0
        at = len(labels)
    else:
        at = next((i for i, (label, _, _) in enumerate(labels) if label == node.neighbour), -1)
        if at < 0:
            raise InvalidParameterValue(f'"{node.neighbour}" is not an existing enum label')
        if node.after:
            at += 1
        low = labels[at - 1][1] if at > 0 else labels[0][1] - 2.0
        high = labels[at][1] if at < len(labels) else labels[-1][1] + 2.0
        order = (low + high) / 2
        if not low < order < high:
            raise FeatureNotSupported(f'no room left between enum labels of type "{found.name}"')
    labels.insert(at, (node.label, order, ctx.catalog.allocate_oid()))
    await ctx.catalog.replace(ctx.txn, replace(found, labels=tuple(labels)))


@ddl_runner(AlterUserType)
async def run_alter_user_type(node: AlterUserType, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER TYPE")
    state = _state(ctx)
    found: Any = find_type(state, node.schema, node.name) or state.user_composite(node.name, node.schema)
    if found is None:
        raise UndefinedObject(f'type "{_shown(node.schema, node.name)}" does not exist')
    require_owner(ctx, found, "type")
    changed = found
    for change in node.changes:
        if change[0] == "rename":
            if _taken(state, found.schema_oid, change[1]):
                raise DuplicateObject(f'type "{change[1]}" already exists')
            changed = replace(changed, name=change[1])
            continue
        if not isinstance(found, CompositeType):
            raise UndefinedTable(f'relation "{found.name}" does not exist')  # (as PostgreSQL looks for it)
        users = [f"{table.name}.{column.name}" for table in state.tables() if isinstance(table, Table)
                 for column in table.columns if not column.dropped and column.type_oid in (found.oid, found.array_oid)]
        if users and change[0] != "add_attribute":  # (stored values gain a NULL field; others: not built)
            raise DependentObjectsStillExist(f'cannot alter type "{found.name}" because column "{users[0]}" uses it')
        attributes = list(changed.attributes)
        names = [a[0] for a in attributes]
        kind, name = change[0], change[1]
        if kind == "add_attribute":
            if name in names:
                raise DuplicateColumn(f'column "{name}" of relation "{found.name}" already exists')
            attributes.append((name, change[2], change[3]))
        elif name not in names:
            if kind == "drop_attribute" and change[2]:
                ctx.notice(f'column "{name}" of relation "{found.name}" does not exist, skipping')
                continue
            if kind == "rename_attribute":
                raise UndefinedColumn(f'column "{name}" does not exist')
            raise UndefinedColumn(f'column "{name}" of relation "{found.name}" does not exist')
        elif kind == "drop_attribute":
            del attributes[names.index(name)]
        elif kind == "alter_attribute":
            attributes[names.index(name)] = (name, change[2], change[3])
        elif kind == "rename_attribute":
            if change[2] in names:
                raise DuplicateColumn(f'column "{change[2]}" of relation "{found.name}" already exists')
            at = names.index(name)
            attributes[at] = (change[2], *attributes[at][1:])
        changed = replace(changed, attributes=tuple(attributes))
    if changed is not found:
        await ctx.catalog.replace(ctx.txn, changed)
        if changed.name != found.name:
            from pgaurora.datatypes import typeinfo

            typeinfo.unregister_name(found.name, found.oid)
            typeinfo.unregister_name("_" + found.name, found.array_oid)


@ddl_runner(DropTypes)
async def run_drop_types(node: DropTypes, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "DROP TYPE")
    state = _state(ctx)
    victims: list[EnumType | CompositeType] = []
    for schema, name in node.names:
        found: EnumType | CompositeType | None = find_type(state, schema, name)
        if found is None:
            found = state.user_composite(name, schema)
        if found is None:
            if node.missing_ok:
                ctx.notice(f'type "{_shown(schema, name)}" does not exist, skipping')
                continue
            raise UndefinedObject(f'type "{_shown(schema, name)}" does not exist')
        require_owner(ctx, found, "type")
        victims.append(found)
    gone = {v.oid for v in victims}
    # (PostgreSQL's order: each type's array type's dependents first, each in creation order)
    dependents: list[tuple[int, int, int, str]] = []  # (victim, array 0 / type 1, the dependent's oid, line)
    for victim in victims:
        words = {victim.oid: victim.name, victim.array_oid: f"{victim.name}[]"}
        # PostgreSQL finds the array type's dependents first (an internal dependent of the type)
        for group, oid in enumerate((victim.array_oid, victim.oid)):
            dependents.extend((victim.oid, group, table.oid, f"column {column.name} of table {table.name} depends on type {words[oid]}")
                              for table in state.tables() if isinstance(table, Table)
                              for column in table.columns if not column.dropped and column.type_oid == oid)
            dependents.extend((victim.oid, group, other.oid, f"column {attribute[0]} of composite type {other.name} depends on type "
                                          f"{words[oid]}")
                              for other in state.composites.values() if other.oid not in gone
                              for attribute in other.attributes if attribute[1] == oid)
        dependents.extend((victim.oid, 1, fn.oid, f"function {fn.name}({', '.join(format_type(t) for t in fn.arg_types)}) depends "
                                   f"on type {victim.name}")
                          for overloads in state.functions.values() for fn in overloads
                          if isinstance(victim, CompositeType)
                          and victim.oid in (fn.return_type, *fn.arg_types, *fn.param_types))
    if dependents:
        if node.cascade:
            raise FeatureNotSupported("DROP TYPE ... CASCADE of a type other objects use is not supported")
        order = {v.oid: i for i, v in enumerate(victims)}
        dependents.sort(key=lambda d: (order[d[0]], d[1], d[2]))
        message = (f"cannot drop type {victims[0].name} because other objects depend on it" if len(node.names) == 1
                   else "cannot drop desired object(s) because other objects depend on them")
        raise DependentObjectsStillExist(message, detail="\n".join(d[3] for d in dependents),
                                         hint="Use DROP ... CASCADE to drop the dependent objects too.")
    if victims:
        await ctx.catalog.remove(ctx.txn, *(v.oid for v in victims))
        from pgaurora.datatypes import typeinfo

        for victim in victims:
            typeinfo.unregister_name(victim.name, victim.oid)
            typeinfo.unregister_name("_" + victim.name, victim.array_oid)
