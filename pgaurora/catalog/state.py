"""A consistent, immutable view of every catalog definition, as one snapshot of the catalog heap sees it.

Owns lookups by name and oid (relations, indexes, sequences, views, roles, schemas, databases)
and search-path resolution. Not storage or invalidation (catalog.catalog), not the records
themselves (catalog.model). A CatalogState is rebuilt, never mutated: DDL produces a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pgaurora.catalog.model import (
    PG_CATALOG_SCHEMA_OID,
    PUBLIC_SCHEMA_OID,
    Comment,
    CompositeType,
    Constraint,
    Database,
    DefaultAcl,
    Definition,
    Domain,
    EnumType,
    Extension,
    Function,
    Index,
    Policy,
    Role,
    Schema,
    Sequence,
    Statistic,
    Table,
    Trigger,
    View,
)
from pgaurora.datatypes import composites, enums

RelationDef = Table | Sequence | View | Index

# Temporary relations live in a per-backend schema pg_temp_<pid> whose oid is derived from the pid.
TEMP_SCHEMA_BASE = 0x70000000


# System schemas whose USAGE PostgreSQL grants to PUBLIC (their ACLs are catalog.system's)
PUBLIC_USAGE_SCHEMAS = frozenset({"pg_catalog", "information_schema"})


def parse_search_path(raw: str) -> tuple[str, ...] | None:
    """A search_path setting as schema names ("$user" kept for CatalogState to resolve); None
    when it is the default ("$user", public)."""
    names: list[str] = []
    for item in raw.split(","):
        item = item.strip()
        if item.startswith('"') and item.endswith('"') and len(item) >= 2:
            item = item[1:-1].replace('""', '"')
        else:
            item = item.lower()
        if item:
            names.append(item)
    return None if names == ["$user", "public"] else tuple(names)


def _register_domain(domain: Domain) -> None:
    """The type registry knows a domain by oid as its base type with the domain's name (so that
    format_type and regtype show it); values and codecs are the base type's."""
    from dataclasses import replace as _replace

    from pgaurora.datatypes import typeinfo

    base = typeinfo.find(domain.base_type)
    if base is not None:
        typeinfo.register_dynamic(_replace(base, oid=domain.oid, name=domain.name, typtype="d", array_oid=0,
                                           preferred=False))


def temp_schema_oid(pid: int) -> int:
    return TEMP_SCHEMA_BASE + pid


@dataclass(slots=True)
class CatalogState:
    """Definitions keyed for lookup. Build with `from_definitions`."""

    version: int = 0
    by_oid: dict[int, Definition] = field(default_factory=dict)
    relations: dict[tuple[int, str], RelationDef] = field(default_factory=dict)
    indexes_of: dict[int, tuple[Index, ...]] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    schemas: dict[str, Schema] = field(default_factory=dict)
    databases: dict[str, Database] = field(default_factory=dict)
    comments: dict[tuple[int, int, int], Comment] = field(default_factory=dict)  # COMMENT ON (pg_description)
    statistics: dict[int, Statistic] = field(default_factory=dict)  # table oid -> what ANALYZE found
    # ALTER DEFAULT PRIVILEGES: (role oid, schema oid or 0, object type letter) -> its entry
    default_acls: dict[tuple[int, int, str], DefaultAcl] = field(default_factory=dict)
    policies: dict[int, tuple[Policy, ...]] = field(default_factory=dict)  # table oid -> row security policies
    types: dict[tuple[int, str], EnumType] = field(default_factory=dict)  # (schema oid, name) -> enum type
    composites: dict[tuple[int, str], CompositeType] = field(default_factory=dict)  # (schema oid, name) -> CREATE TYPE AS
    # a table's row type as a composite type (relid: the table), by type oid
    row_types: dict[int, CompositeType] = field(default_factory=dict)
    # (schema oid, name) -> its overloads (CREATE FUNCTION / PROCEDURE), in oid order
    functions: dict[tuple[int, str], tuple[Function, ...]] = field(default_factory=dict)
    triggers: dict[int, tuple[Trigger, ...]] = field(default_factory=dict)  # table oid -> its triggers, by name
    extensions: dict[str, Extension] = field(default_factory=dict)  # CREATE EXTENSION's, by name
    domains: dict[tuple[int, str], Domain] = field(default_factory=dict)  # (schema oid, name) -> domain
    # catalog.acl.permitted's answers for this version of the catalog: (plan permissions, role) -> bool
    # (shared by the states for_backend / with_search_path derive: the same definitions)
    permitted: dict[tuple[Any, int], bool] = field(default_factory=dict)
    row_ids: dict[int, tuple[int, int]] = field(default_factory=dict)  # oid -> catalog heap tid
    temp_schemas: dict[int, int] = field(default_factory=dict)  # backend pid -> its pg_temp schema oid
    backend_pid: int | None = None  # set on a backend's view: its temporary relations come first
    # The session's search_path as schema names, in order; None is the default ("$user", public).
    search_path: tuple[str, ...] | None = None
    # The role the search path is resolved for (its name: "$user" stands for its schema, and only
    # schemas it has USAGE on count); None: "$user" is skipped and every schema counts.
    search_role: str | None = None
    # search_path_oids()'s answer, computed once per state (with_search_path starts a new state)
    resolved_path: tuple[int, ...] | None = None

    @classmethod
    def from_definitions(cls, items: Iterable[tuple[Definition, tuple[int, int]]], version: int) -> CatalogState:
        state = cls(version=version)
        indexes: dict[int, list[Index]] = {}
        for obj, tid in items:
            state.by_oid[obj.oid] = obj
            state.row_ids[obj.oid] = tid
            if isinstance(obj, Role):
                state.roles[obj.name] = obj
            elif isinstance(obj, Schema):
                state.schemas[obj.name] = obj
            elif isinstance(obj, Database):
                state.databases[obj.name] = obj
            elif isinstance(obj, Comment):
                state.comments[(obj.classoid, obj.objoid, obj.objsubid)] = obj
            elif isinstance(obj, Statistic):
                state.statistics[obj.table_oid] = obj
            elif isinstance(obj, DefaultAcl):
                state.default_acls[(obj.role, obj.schema_oid, obj.objtype)] = obj
            elif isinstance(obj, EnumType):
                state.types[(obj.schema_oid, obj.name)] = obj
                enums.register(obj.oid, obj.array_oid, obj.name, {label: order for label, order, _ in obj.labels})
            elif isinstance(obj, CompositeType):
                state.composites[(obj.schema_oid, obj.name)] = obj
                composites.register(obj.oid, obj.array_oid, obj.name, obj.attributes)
            elif isinstance(obj, Function):
                key = (obj.schema_oid, obj.name)
                state.functions[key] = tuple(sorted((*state.functions.get(key, ()), obj), key=lambda f: f.oid))
            elif isinstance(obj, Extension):
                state.extensions[obj.name] = obj
            elif isinstance(obj, Domain):
                state.domains[(obj.schema_oid, obj.name)] = obj
                _register_domain(obj)
            elif isinstance(obj, Trigger):
                state.triggers[obj.table_oid] = tuple(sorted((*state.triggers.get(obj.table_oid, ()), obj),
                                                             key=lambda t: t.name))
            elif isinstance(obj, Policy):
                state.policies[obj.table_oid] = tuple(sorted((*state.policies.get(obj.table_oid, ()), obj),
                                                             key=lambda p: p.policy_name))
            else:
                state.relations[(obj.schema_oid, obj.name)] = obj
                if isinstance(obj, Table) and obj.row_type:
                    row = CompositeType(obj.row_type, obj.name, obj.schema_oid, obj.owner, obj.row_array_type, obj.oid,
                                        tuple((c.name, c.type_oid, c.typmod) for c in obj.columns if not c.dropped))
                    state.row_types[obj.row_type] = row
                    composites.register(row.oid, row.array_oid, row.name, row.attributes)
                if obj.schema_oid >= TEMP_SCHEMA_BASE:
                    pid = obj.schema_oid - TEMP_SCHEMA_BASE
                    state.temp_schemas[pid] = obj.schema_oid
                    state.schemas.setdefault(f"pg_temp_{pid}", Schema(obj.schema_oid, f"pg_temp_{pid}"))
                if isinstance(obj, Index):
                    indexes.setdefault(obj.table_oid, []).append(obj)
        for table_oid, found in indexes.items():
            # the primary key first, then by oid (creation order), so plans are deterministic
            state.indexes_of[table_oid] = tuple(sorted(found, key=lambda i: (not i.primary, i.oid)))
        for name, oid in (("public", PUBLIC_SCHEMA_OID), ("pg_catalog", PG_CATALOG_SCHEMA_OID)):
            if name not in state.schemas:
                state.schemas[name] = Schema(oid, name)
        return state

    def for_backend(self, pid: int | None) -> CatalogState:
        """This state as backend `pid` sees it: its own temporary relations shadow the others."""
        if pid is None or pid not in self.temp_schemas:
            return self
        from dataclasses import replace

        return replace(self, backend_pid=pid)

    def with_search_path(self, path: tuple[str, ...] | None, role: str | None = None) -> CatalogState:
        """This state as a session with `path` as its search_path and `role` as its current_user
        sees it."""
        if path == self.search_path and role == self.search_role:
            return self
        from dataclasses import replace

        return replace(self, search_path=path, search_role=role, resolved_path=None)

    def search_path_oids(self) -> tuple[int, ...]:
        """The schemas unqualified names are looked up in, in order: PostgreSQL's active search
        path (namespace.c, recomputeNamespacePath). The path's schemas that exist, each once,
        "$user" standing for the role's own schema, and only those the role may use (USAGE: a
        schema it may not use is skipped, and the lookup goes on to the next)."""
        resolved = self.resolved_path
        if resolved is None:
            resolved = self.resolved_path = self._resolve_path()
        return resolved

    def _resolve_path(self) -> tuple[int, ...]:
        names = ("$user", "public") if self.search_path is None else self.search_path
        role_name = self.search_role
        role = None if role_name is None else self.roles.get(role_name)
        usable: Callable[[Schema], bool] | None = None
        if role is not None and not role.superuser:
            from pgaurora.catalog.acl import has_privilege

            role_oid = role.oid
            usable = lambda schema: has_privilege(self, role_oid, schema, "U")  # noqa: E731
        oids: list[int] = []
        for name in names:
            if name == "$user":
                if role is None:
                    continue
                name = role.name
            schema = self.schemas.get(name)
            if schema is None or schema.oid in oids:
                continue
            if usable is not None and name not in PUBLIC_USAGE_SCHEMAS and not usable(schema):
                continue
            oids.append(schema.oid)
        return tuple(oids)

    def creation_schema_oid(self) -> int | None:
        """Where an unqualified CREATE puts its object: the first existing schema of the path."""
        oids = [oid for oid in self.search_path_oids() if oid != PG_CATALOG_SCHEMA_OID]
        return oids[0] if oids else None

    def schema_oid(self, name: str) -> int | None:
        schema = self.schemas.get(name)
        return schema.oid if schema is not None else None

    def relation(self, name: str, schema: str | None = None) -> RelationDef | None:
        """A table, view, sequence or index by (optionally qualified) name, along the search path."""
        if schema is not None:
            if schema == "pg_temp" and self.backend_pid is not None:
                return self.relations.get((temp_schema_oid(self.backend_pid), name))
            oid = self.schema_oid(schema)
            return None if oid is None else self.relations.get((oid, name))
        if self.backend_pid is not None:
            mine = self.relations.get((temp_schema_oid(self.backend_pid), name))
            if mine is not None:
                return mine
        for oid in self.search_path_oids():
            found = self.relations.get((oid, name))
            if found is not None:
                return found
        return None

    def user_type(self, name: str, schema: str | None = None) -> EnumType | None:
        """A type CREATE TYPE made, by (optionally qualified) name, along the search path."""
        if schema is not None:
            oid = self.schema_oid(schema)
            return None if oid is None else self.types.get((oid, name))
        for oid in self.search_path_oids():
            found = self.types.get((oid, name))
            if found is not None:
                return found
        return None

    def user_composite(self, name: str, schema: str | None = None) -> CompositeType | None:
        """A composite type CREATE TYPE ... AS (...) made, by (optionally qualified) name."""
        if schema is not None:
            oid = self.schema_oid(schema)
            return None if oid is None else self.composites.get((oid, name))
        for oid in self.search_path_oids():
            found = self.composites.get((oid, name))
            if found is not None:
                return found
        return None

    def composite_of(self, oid: int) -> CompositeType | None:
        """The composite type (CREATE TYPE ... AS, or a table's row type) of oid `oid`."""
        obj = self.by_oid.get(oid)
        return obj if isinstance(obj, CompositeType) else self.row_types.get(oid)

    def is_row_type_name(self, text: str) -> bool:
        """Does a type written `name` or `schema.name` (PL/pgSQL's DECLARE) mean a composite type
        or a table's row type (not a built-in type, which the search path finds first)?"""
        parts = [p[1:-1].replace('""', '"') if p.startswith('"') else p.lower() for p in text.split(".")]
        schema, name = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[-1])
        if schema is None:
            from pgaurora.datatypes import typeinfo
            from pgaurora.errors import UndefinedObject

            try:
                typeinfo.lookup_name(name)
                return False
            except UndefinedObject:
                pass
        return (self.user_composite(name, schema) or self.row_type(name, schema)) is not None

    def row_type(self, name: str, schema: str | None = None) -> CompositeType | None:
        """A table's row type, by the table's (optionally qualified) name along the search path."""
        if schema is not None:
            oid = self.schema_oid(schema)
            rel = None if oid is None else self.relations.get((oid, name))
            return self.row_types.get(rel.row_type) if isinstance(rel, Table) and rel.row_type else None
        for oid in self.search_path_oids():
            rel = self.relations.get((oid, name))
            if rel is not None:
                return self.row_types.get(rel.row_type) if isinstance(rel, Table) and rel.row_type else None
        return None

    def user_domain(self, name: str, schema: str | None = None) -> Domain | None:
        """A domain CREATE DOMAIN made, by (optionally qualified) name, along the search path."""
        if schema is not None:
            oid = self.schema_oid(schema)
            return None if oid is None else self.domains.get((oid, name))
        for oid in self.search_path_oids():
            found = self.domains.get((oid, name))
            if found is not None:
                return found
        return None

    def domain(self, oid: int) -> Domain | None:
        obj = self.by_oid.get(oid)
        return obj if isinstance(obj, Domain) else None

    def user_functions(self, name: str, schema: str | None = None) -> tuple[Function, ...]:
        """The functions CREATE FUNCTION made called `name`: in `schema`, or in every schema of
        the search path, nearer schemas' first."""
        if schema is not None:
            oid = self.schema_oid(schema)
            return () if oid is None else self.functions.get((oid, name), ())
        found: list[Function] = []
        for oid in self.search_path_oids():
            found.extend(self.functions.get((oid, name), ()))
        return tuple(found)

    def result_columns(self, fn: Function) -> tuple[tuple[str, int], ...]:
        """(name, type) of a function's result columns: its OUT / TABLE parameters, or the
        columns of the table whose rows it returns (RETURNS SETOF t); () for a scalar result."""
        if fn.out_table:
            table = self.table(fn.out_table)
            return tuple((c.name, c.type_oid) for c in table.columns if not c.dropped) if table is not None else ()
        composite = self.composite_of(fn.return_type)
        if composite is not None:  # RETURNS a composite type: its attributes
            return tuple((name, oid) for name, oid, _ in composite.attributes)
        outs = fn.out_columns()
        return outs if len(outs) > 1 or fn.return_type == 2249 else ()

    def function(self, oid: int) -> Function | None:
        obj = self.by_oid.get(oid)
        return obj if isinstance(obj, Function) else None

    def type_of(self, oid: int) -> EnumType | None:
        obj = self.by_oid.get(oid)
        return obj if isinstance(obj, EnumType) else None

    def enum_type_of(self, oid: int) -> tuple[EnumType, bool] | None:
        """The enum type `oid` is, or whose array type it is (then True), or None."""
        found = self.type_of(oid)
        if found is not None:
            return found, False
        element = next((ty for ty in self.types.values() if ty.array_oid == oid), None)
        return None if element is None else (element, True)

    def table(self, oid: int) -> Table | None:
        obj = self.by_oid.get(oid)
        return obj if isinstance(obj, Table) else None

    def indexes(self, table_oid: int) -> tuple[Index, ...]:
        return self.indexes_of.get(table_oid, ())

    def sequence(self, oid: int) -> Sequence | None:
        obj = self.by_oid.get(oid)
        return obj if isinstance(obj, Sequence) else None

    def tables(self) -> list[Table]:
        return [o for o in self.by_oid.values() if isinstance(o, Table)]

    def partitions(self, table_oid: int) -> list[Table]:
        """The partitions of partitioned table `table_oid`, in creation (oid) order."""
        return sorted((o for o in self.by_oid.values() if isinstance(o, Table) and o.partition_of == table_oid),
                      key=lambda t: t.oid)

    def owned_sequences(self, table_oid: int) -> list[Sequence]:
        """The sequences a table's serial / identity columns own (OWNED BY)."""
        return [o for o in self.by_oid.values() if isinstance(o, Sequence) and o.owned_by[0] == table_oid]

    def referencing(self, table_oid: int) -> list[tuple[Table, Constraint]]:
        """(table, constraint) pairs whose foreign keys reference `table_oid`."""
        out: list[tuple[Table, Constraint]] = []
        for t in self.tables():
            for c in t.constraints:
                if c.kind == "f" and c.ref_table == table_oid:
                    out.append((t, c))
        return out

    def name_in_use(self, schema_oid: int, name: str) -> bool:
        return (schema_oid, name) in self.relations
