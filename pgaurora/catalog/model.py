"""Catalog definitions: tables, columns, constraints, indexes, sequences, views, roles, schemas.

Owns the immutable records the catalog stores and caches, and their (de)serialization to the
JSON payload kept in the catalog heap. Not storage (catalog.store), not lookups (catalog.state).
Everything here is rich enough to derive pg_class/pg_attribute/pg_index/pg_constraint later.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

FIRST_USER_OID = 16384
PUBLIC_SCHEMA_OID = 2200
PG_CATALOG_SCHEMA_OID = 11
DEFAULT_DATABASE_OID = 5
BOOTSTRAP_SUPERUSER_OID = 10


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type_oid: int
    typmod: int = -1
    not_null: bool = False
    default: str | None = None  # SQL expression text, as pg_get_expr would show it
    identity: str = ""  # '' | 'a' (ALWAYS) | 'd' (BY DEFAULT)
    attnum: int = 0
    dropped: bool = False
    # GENERATED ALWAYS AS (expr) STORED: the expression text (pg_attribute.attgenerated 's')
    generated: str | None = None
    acl: tuple[tuple[int, int, str, str], ...] | None = None  # attacl: column privileges (catalog.acl)
    # a column of a domain (CREATE DOMAIN): type_oid / typmod are its base type's, values are
    # checked against the domain's constraints when written; pg_attribute shows the domain
    domain: int = 0
    stattarget: int = -1  # attstattarget: ALTER COLUMN ... SET STATISTICS (-1: the default)
    storage: str = ""  # attstorage set by ALTER COLUMN ... SET STORAGE ('': the type's)


@dataclass(frozen=True, slots=True)
class Constraint:
    """pg_constraint: contype p (primary key), u (unique), c (check), f (foreign key), n (not null)."""

    name: str
    kind: str
    columns: tuple[int, ...] = ()  # attnums
    check: str | None = None  # CHECK expression text
    index_oid: int = 0
    ref_table: int = 0
    ref_columns: tuple[int, ...] = ()
    on_delete: str = "a"  # a no action, r restrict, c cascade, n set null, d set default
    on_update: str = "a"
    oid: int = 0
    validated: bool = True  # pg_constraint.convalidated: False after ADD ... NOT VALID (check, foreign key)
    # DEFERRABLE [INITIALLY DEFERRED] (condeferrable, condeferred): a foreign key checked at
    # COMMIT or SET CONSTRAINTS ... IMMEDIATE when deferred (executor.deferred)
    deferrable: bool = False
    deferred: bool = False
    match_full: bool = False  # a foreign key's MATCH FULL (pg_constraint.confmatchtype 'f'; else SIMPLE)


@dataclass(frozen=True, slots=True)
class Index:
    oid: int
    name: str
    table_oid: int
    rel_id: int
    columns: tuple[int, ...]  # attnums
    unique: bool = False
    primary: bool = False
    schema_oid: int = PUBLIC_SCHEMA_OID
    # per key column, as written (pg_index.indoption): DESC, and NULLS FIRST (DESC's default). The
    # B-tree itself is always ascending with NULLs last: a backward scan reads it descending
    descending: tuple[bool, ...] = ()
    # expression indexes: per key column the expression's SQL text ('' where the column is
    # columns[i]; columns[i] is 0 for an expression, as pg_index.indkey); partial: the WHERE text
    expressions: tuple[str, ...] = ()
    predicate: str | None = None
    parent_index: int = 0  # a partition's copy of its partitioned table's index (dropped with it)
    nulls_not_distinct: bool = False  # UNIQUE NULLS NOT DISTINCT: NULL keys are equal to each other
    # the access method (pg_am): "btree", or "hash" (one key column, equality lookups only; kept
    # in the same ordered structure, which the planner then never uses for order or ranges)
    method: str = "btree"
    nulls_first: tuple[bool, ...] = ()
    # an expression index's pg_attribute rows, per key column (name, type oid, typmod): "expr",
    # "lower", ... as PostgreSQL names them; () for an index of plain columns (their own)
    attributes: tuple[tuple[str, int, int], ...] = ()
    include: tuple[int, ...] = ()  # INCLUDE (columns): attnums carried, not keys (in the catalog only)
    opclasses: tuple[str, ...] = ()  # per key column, a non-default operator class ('' default)
    options: tuple[str, ...] = ()  # WITH (fillfactor = 70, ...): pg_class.reloptions (recorded only)


@dataclass(frozen=True, slots=True)
class Table:
    oid: int
    name: str
    rel_id: int
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...] = ()
    schema_oid: int = PUBLIC_SCHEMA_OID
    owner: int = BOOTSTRAP_SUPERUSER_OID
    kind: str = "r"  # r table, v view, m materialized view
    query: str | None = None  # a materialized view's SELECT text (REFRESH re-runs it)
    populated: bool = True  # False after CREATE ... WITH NO DATA / REFRESH ... WITH NO DATA
    # declarative partitioning: a partitioned table (kind 'p', no rows of its own) has a strategy
    # ('r' range, 'l' list) and key columns (attnums); a partition names its parent and keeps its
    # bound as JSON (planner.partition: {"from": [...], "to": [...]} | {"in": [...]} | {"default": true})
    partition_strategy: str = ""
    partition_key: tuple[int, ...] = ()
    partition_of: int = 0
    partition_bound: str | None = None
    on_commit: str = ""  # a temporary table's ON COMMIT: "" (PRESERVE ROWS), "delete" (DELETE ROWS), "drop"
    # REPLICA IDENTITY (pg_class.relreplident): d default, f full, n nothing, i an index's
    # (`replica_index`; pg_index.indisreplident). Catalog only: no logical decoding reads it
    replica_identity: str = "d"
    replica_index: int = 0
    acl: tuple[tuple[int, int, str, str], ...] | None = None  # relacl (catalog.acl); None: the default
    # ALTER TABLE ... ENABLE / FORCE ROW LEVEL SECURITY (relrowsecurity, relforcerowsecurity)
    row_security: bool = False
    force_row_security: bool = False
    # its row type (pg_type typtype 'c', reltype) and that type's array type; 0 for tables created
    # before tables had row types
    row_type: int = 0
    row_array_type: int = 0
    options: tuple[str, ...] = ()  # reloptions: WITH (fillfactor=70) / ALTER TABLE ... SET (...), "name=value"

    def live_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.dropped)

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name and not c.dropped:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Sequence:
    oid: int
    name: str
    type_oid: int = 20
    start: int = 1
    increment: int = 1
    min_value: int = 1
    max_value: int = 9223372036854775807
    cache: int = 1
    cycle: bool = False
    owned_by: tuple[int, int] = (0, 0)  # (table oid, attnum)
    schema_oid: int = PUBLIC_SCHEMA_OID
    owner: int = BOOTSTRAP_SUPERUSER_OID
    acl: tuple[tuple[int, int, str, str], ...] | None = None
    # column privileges (attacl: only SELECT) by attnum, as View.column_acls
    column_acls: tuple[tuple[int, tuple[tuple[int, int, str, str], ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class View:
    oid: int
    name: str
    query: str
    column_names: tuple[str, ...]
    schema_oid: int = PUBLIC_SCHEMA_OID
    owner: int = BOOTSTRAP_SUPERUSER_OID
    acl: tuple[tuple[int, int, str, str], ...] | None = None
    # column privileges (attacl) by attnum: ((attnum, acl), ...), only columns that have one
    column_acls: tuple[tuple[int, tuple[tuple[int, int, str, str], ...]], ...] = ()
    # reloptions: "security_invoker=true", "security_barrier=true" (WITH (...), ALTER VIEW SET)
    options: tuple[str, ...] = ()

    @property
    def security_invoker(self) -> bool:
        """WITH (security_invoker): the view reads with the privileges (and under the row
        security) of whoever queries it, not of its owner (PostgreSQL 15)."""
        return any(o.split("=", 1)[1].lower() in ("true", "on", "yes", "1", "t", "y")
                   for o in self.options if o.startswith("security_invoker="))

    @property
    def check_option(self) -> str:
        """WITH [LOCAL | CASCADED] CHECK OPTION (reloption check_option): 'local', 'cascaded' or ''."""
        return next((o.split("=", 1)[1].lower() for o in self.options if o.startswith("check_option=")), "")


@dataclass(frozen=True, slots=True)
class Role:
    oid: int
    name: str
    superuser: bool = False
    login: bool = True
    password: str | None = None  # a SCRAM-SHA-256 verifier string, never plain text
    createdb: bool = False
    createrole: bool = False
    inherit: bool = True
    replication: bool = False
    connection_limit: int = -1
    valid_until: str | None = None
    # pg_auth_members rows with this role as the member: (role oid, grantor oid, admin option)
    member_of: tuple[tuple[int, int, bool], ...] = ()
    bypassrls: bool = False  # BYPASSRLS: row security policies do not apply to it


@dataclass(frozen=True, slots=True)
class Schema:
    oid: int
    name: str
    owner: int = BOOTSTRAP_SUPERUSER_OID
    acl: tuple[tuple[int, int, str, str], ...] | None = None  # nspacl


@dataclass(frozen=True, slots=True)
class Database:
    oid: int
    name: str
    owner: int = BOOTSTRAP_SUPERUSER_OID
    encoding: str = "UTF8"
    acl: tuple[tuple[int, int, str, str], ...] | None = None  # datacl


@dataclass(frozen=True, slots=True)
class Comment:
    """pg_description: COMMENT ON an object (classoid, objoid), or on a column of it (objsubid)."""

    oid: int
    name: str  # "classoid/objoid/objsubid", the catalog heap's name column
    classoid: int
    objoid: int
    objsubid: int
    description: str


@dataclass(frozen=True, slots=True)
class Statistic:
    """What ANALYZE learned about one table (pg_class.reltuples/relpages and pg_statistic rows).

    `columns` holds one tuple per analyzed column, as catalog.statistics.ColumnStatistics
    fields: (attnum, null_frac, avg_width, n_distinct, mcv_values, mcv_freqs, histogram,
    correlation), values as their text output (None: no list). catalog.statistics reads them.
    """

    oid: int
    name: str  # "statistic/<table oid>", the catalog heap's name column
    table_oid: int
    reltuples: float
    relpages: int
    columns: tuple[tuple[Any, ...], ...] = ()
    schema_oid: int = PUBLIC_SCHEMA_OID  # the table's (temporary tables' statistics go with them)


@dataclass(frozen=True, slots=True)
class Policy:
    """pg_policy: CREATE POLICY policy_name ON table [AS PERMISSIVE | RESTRICTIVE] [FOR command]
    [TO roles] [USING (using)] [WITH CHECK (check)]; `command` '*' (ALL), 'r' (SELECT), 'a'
    (INSERT), 'w' (UPDATE), 'd' (DELETE); `roles` oids, 0 for PUBLIC; expressions as SQL text."""

    oid: int
    name: str  # "policy/<table oid>/<policy_name>", the catalog heap's name column
    table_oid: int
    policy_name: str
    command: str = "*"
    permissive: bool = True
    roles: tuple[int, ...] = (0,)
    using: str | None = None
    check: str | None = None


@dataclass(frozen=True, slots=True)
class DefaultAcl:
    """pg_default_acl: ALTER DEFAULT PRIVILEGES [FOR ROLE role] [IN SCHEMA schema] for one kind
    of object ('r' tables, 'S' sequences, 'f' functions, 'T' types, 'n' schemas): the ACL such
    an object `role` creates (in `schema_oid`, 0 for anywhere) starts from (catalog.acl)."""

    oid: int
    name: str  # "defacl/<role>/<schema>/<objtype>", the catalog heap's name column
    role: int
    schema_oid: int
    objtype: str
    acl: tuple[tuple[int, int, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EnumType:
    """pg_type (typtype 'e') and its pg_enum rows: CREATE TYPE name AS ENUM (labels). `labels`
    holds (label, sort order, pg_enum oid) in sort order; `array_oid` is its array type's."""

    oid: int
    name: str
    schema_oid: int = PUBLIC_SCHEMA_OID
    owner: int = BOOTSTRAP_SUPERUSER_OID
    array_oid: int = 0
    labels: tuple[tuple[str, float, int], ...] = ()
    acl: tuple[tuple[int, int, str, str], ...] | None = None  # typacl


@dataclass(frozen=True, slots=True)
class CompositeType:
    """pg_type (typtype 'c') with its pg_class (relkind 'c', oid `relid`) and pg_attribute rows:
    CREATE TYPE name AS (attributes). `attributes` holds (name, type oid, typmod) in order;
    `array_oid` is its array type's."""

    oid: int
    name: str
    schema_oid: int = PUBLIC_SCHEMA_OID
    owner: int = BOOTSTRAP_SUPERUSER_OID
    array_oid: int = 0
    relid: int = 0
    attributes: tuple[tuple[str, int, int], ...] = ()
    acl: tuple[tuple[int, int, str, str], ...] | None = None  # typacl


@dataclass(frozen=True, slots=True)
class Function:
    """pg_proc: a function or procedure CREATE FUNCTION / CREATE PROCEDURE made, in LANGUAGE sql
    or plpgsql; `body` is its source text (prosrc), run by the session (session.routines).
    `arg_names` has '' for an unnamed argument; `kind` is prokind ('f' or 'p')."""

    oid: int
    name: str
    schema_oid: int = PUBLIC_SCHEMA_OID
    owner: int = BOOTSTRAP_SUPERUSER_OID
    arg_types: tuple[int, ...] = ()  # the input (IN and INOUT) parameters'
    arg_names: tuple[str, ...] = ()
    return_type: int = 2278  # void; record (2249) for several OUT / TABLE columns
    language: str = "plpgsql"
    body: str = ""
    volatility: str = "v"  # provolatile: i, s, v
    strict: bool = False
    kind: str = "f"
    security_definer: bool = False
    acl: tuple[tuple[int, int, str, str], ...] | None = None  # proacl
    retset: bool = False  # RETURNS SETOF / TABLE
    # every parameter in declaration order (proargmodes i, o, b for INOUT, t for TABLE columns);
    # empty when all are IN (then arg_types / arg_names are the list)
    param_modes: tuple[str, ...] = ()
    param_types: tuple[int, ...] = ()
    param_names: tuple[str, ...] = ()
    arg_defaults: tuple[str | None, ...] = ()  # per input parameter: its DEFAULT's SQL text, or None
    out_table: int = 0  # RETURNS SETOF table: the table whose rows it returns
    config: tuple[str, ...] = ()  # proconfig: SET clauses, "name=value", in force during a call
    # a SQL-standard body (RETURN ... / BEGIN ATOMIC ... END) as pg_get_function_sqlbody shows it;
    # `body` then holds the statements it runs, and prosrc is empty
    sql_body: str = ""
    # CREATE AGGREGATE (kind 'a', pg_aggregate): the state transition function's and the final
    # function's names as written, the state type, the initial state's text (None: NULL)
    agg_sfunc: str = ""
    agg_stype: int = 0
    agg_finalfunc: str = ""
    agg_initcond: str | None = None

    def out_columns(self) -> tuple[tuple[str, int], ...]:
        """(name, type) of the result's columns when they are OUT / INOUT / TABLE parameters."""
        return tuple((n, t) for m, n, t in zip(self.param_modes, self.param_names, self.param_types, strict=True)
                     if m in ("o", "b", "t"))


@dataclass(frozen=True, slots=True)
class Trigger:
    """pg_trigger: CREATE TRIGGER's row or statement trigger on a table. `timing` is 'before',
    'after' or 'instead'; `events` a subset of ('insert', 'update', 'delete', 'truncate');
    `columns` the attnums of UPDATE OF; `when` the WHEN condition's text; `args` the literal
    arguments the function sees in TG_ARGV."""

    oid: int
    name: str
    table_oid: int
    function_oid: int
    timing: str = "after"
    events: tuple[str, ...] = ()
    for_each_row: bool = True
    columns: tuple[int, ...] = ()
    when: str | None = None
    args: tuple[str, ...] = ()
    enabled: str = "O"  # tgenabled
    old_table: str = ""  # tgoldtable / tgnewtable: REFERENCING OLD / NEW TABLE AS name
    new_table: str = ""
    # CREATE CONSTRAINT TRIGGER: its pg_constraint row (contype 't', named as the trigger), FROM
    # table, and whether it may wait for COMMIT (DEFERRABLE) and does unless told (INITIALLY DEFERRED)
    constraint_oid: int = 0
    from_table: int = 0
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass(frozen=True, slots=True)
class Domain:
    """pg_type (typtype 'd'): CREATE DOMAIN name AS base [DEFAULT] [NOT NULL] [CHECK (...)]...
    `checks` holds (constraint name, CHECK expression text over VALUE, pg_constraint oid)."""

    oid: int
    name: str
    schema_oid: int = PUBLIC_SCHEMA_OID
    owner: int = BOOTSTRAP_SUPERUSER_OID
    base_type: int = 0
    base_typmod: int = -1
    not_null: bool = False
    default: str | None = None
    checks: tuple[tuple[str, str, int], ...] = ()
    acl: tuple[tuple[int, int, str, str], ...] | None = None  # typacl


@dataclass(frozen=True, slots=True)
class Extension:
    """pg_extension: an extension CREATE EXTENSION installed (catalog.builtins.extensions)."""

    oid: int
    name: str
    schema_oid: int = PUBLIC_SCHEMA_OID
    owner: int = BOOTSTRAP_SUPERUSER_OID
    version: str = ""


KINDS: dict[str, type] = {
    "table": Table, "index": Index, "sequence": Sequence, "view": View, "role": Role,
    "schema": Schema, "database": Database, "comment": Comment, "statistic": Statistic,
    "default_acl": DefaultAcl, "policy": Policy, "enum_type": EnumType, "function": Function, "trigger": Trigger,
    "extension": Extension, "domain": Domain, "composite_type": CompositeType,
}
_KIND_OF = {v: k for k, v in KINDS.items()}

Definition = (Table | Index | Sequence | View | Role | Schema | Database | Comment | Statistic | DefaultAcl | Policy
              | EnumType | Function | Trigger | Extension | Domain | CompositeType)


def kind_of(obj: Definition) -> str:
    return _KIND_OF[type(obj)]


def to_payload(obj: Definition) -> str:
    return json.dumps(asdict(obj), separators=(",", ":"))


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


def from_payload(kind: str, payload: str) -> Definition:
    cls = KINDS[kind]
    data = json.loads(payload)
    if cls is Table:
        data["columns"] = tuple(Column(**{k: _tuplify(v) if k == "acl" else v for k, v in c.items()})
                                for c in data["columns"])
        data["constraints"] = tuple(Constraint(**{k: _tuplify(v) for k, v in c.items()}) for c in data["constraints"])
        if "partition_key" in data:
            data["partition_key"] = tuple(data["partition_key"])
        if data.get("acl") is not None:
            data["acl"] = _tuplify(data["acl"])
        return Table(**data)
    names = {f.name for f in fields(cls)}
    return cls(**{k: _tuplify(v) for k, v in data.items() if k in names})  # type: ignore[no-any-return]


__all__ = [
    "Column", "Constraint", "Index", "Table", "Sequence", "View", "Role", "Schema", "Database", "Comment",
    "Statistic", "DefaultAcl", "Policy", "EnumType", "CompositeType", "Function", "Trigger", "Extension", "Domain", "Definition", "kind_of", "to_payload", "from_payload", "replace", "field",
]
