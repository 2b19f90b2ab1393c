"""CREATE TYPE ... AS ENUM, ALTER TYPE ... ADD VALUE and DROP TYPE: enum types in the catalog.

Owns the plan nodes of those statements and running them: the catalog.model.EnumType
definitions (the type's, its array type's and each label's oids; labels' sort orders: 1, 2, ...
at creation, a value between its neighbours for ADD VALUE BEFORE / AFTER) with PostgreSQL's
checks and messages. Not the values themselves (datatypes.enums) nor name lookup
(CatalogState.user_type, the planner's type_from_name).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog.model import EnumType, Table
from pgaurora.errors import (
    DependentObjectsStillExist,
    DuplicateObject,
    FeatureNotSupported,
    InvalidParameterValue,
    InvalidSchemaName,
    UndefinedObject,
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
class DropTypes(PlanNode):
    names: tuple[tuple[str | None, str], ...]
    missing_ok: bool = False
    cascade: bool = False
    width: int = 0


def find_type(state: Any, schema: str | None, name: str) -> EnumType | None:
    if schema is not None and state.schema_oid(schema) is None:
        raise InvalidSchemaName(f'schema "{schema}" does not exist')
    return state.user_type(name, schema)  # type: ignore[no-any-return]


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
    if (schema_oid, node.name) in state.types or (schema_oid, node.name) in state.relations:
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


@ddl_runner(DropTypes)
async def run_drop_types(node: DropTypes, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "DROP TYPE")
    state = _state(ctx)
    victims: list[EnumType] = []
    for schema, name in node.names:
        found = find_type(state, schema, name)
        if found is None:
            if node.missing_ok:
                ctx.notice(f'type "{_shown(schema, name)}" does not exist, skipping')
                continue
            raise UndefinedObject(f'type "{_shown(schema, name)}" does not exist')
        require_owner(ctx, found, "type")
        victims.append(found)
    for victim in victims:
        # PostgreSQL finds the array type's dependents first (an internal dependent of the type)
        users = [(table, column, f"{victim.name}[]" if oid == victim.array_oid else victim.name)
                 for oid in (victim.array_oid, victim.oid) for table in state.tables() if isinstance(table, Table)
                 for column in table.columns if not column.dropped and column.type_oid == oid]
        if users:
            if node.cascade:
                raise FeatureNotSupported(f'DROP TYPE ... CASCADE of type "{victim.name}", which columns use, '
                                          "is not supported")
            raise DependentObjectsStillExist(
                f"cannot drop type {victim.name} because other objects depend on it",
                detail="\n".join(f"column {column.name} of table {table.name} depends on type {word}"
                                 for table, column, word in users),
                hint="Use DROP ... CASCADE to drop the dependent objects too.")
    if victims:
        await ctx.catalog.remove(ctx.txn, *(v.oid for v in victims))
        from pgaurora.datatypes import typeinfo

        for victim in victims:
            typeinfo.unregister_name(victim.name, victim.oid)
            typeinfo.unregister_name("_" + victim.name, victim.array_oid)
