"""Rows of the relation catalogs: pg_namespace, pg_class, pg_attribute, pg_index, pg_constraint,
pg_attrdef, pg_sequence, pg_am, and the (empty here) pg_inherits / pg_description family.

Owns how pgaurora's definitions (catalog.model: Table, Index, Sequence, View, Schema) appear
as PostgreSQL 15 catalog rows, including the system relations themselves (so 'pg_class'::regclass
and \\d pg_class work). Not the lookup of names (catalog.system.relations), not the text of
definitions (catalog.system.describe).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgaurora.catalog import acl
from pgaurora.catalog.model import Index, Sequence, Table, View
from pgaurora.catalog.system import describe, partitions
from pgaurora.catalog.system.relations import (
    INFORMATION_SCHEMA_OID,
    PG_TOAST_OID,
    RELATIONS,
    SystemContext,
    collation_of,
    producer,
    type_length,
    view_columns,
)
from pgaurora.datatypes import typeinfo

HEAP_AM_OID = 2
BTREE_AM_OID = 403
HASH_AM_OID = 405
SEQUENCE_COLUMNS = (("last_value", 20), ("log_cnt", 20), ("is_called", 16))


@producer("pg_am")
def pg_am(sc: SystemContext) -> Iterator[dict[str, Any]]:
    yield {"oid": HEAP_AM_OID, "amname": "heap", "amhandler": 0, "amtype": "t"}
    yield {"oid": BTREE_AM_OID, "amname": "btree", "amhandler": 0, "amtype": "i"}
    yield {"oid": HASH_AM_OID, "amname": "hash", "amhandler": 0, "amtype": "i"}


@producer("pg_namespace")
def pg_namespace(sc: SystemContext) -> Iterator[dict[str, Any]]:
    seen = set()
    for schema in sc.state.schemas.values():
        seen.add(schema.oid)
        owner = acl.acl_owner(schema)  # PostgreSQL 15's public schema: pg_database_owner
        yield {"oid": schema.oid, "nspname": schema.name, "nspowner": owner,
               "nspacl": acl.acl_text(sc.state, acl.effective_acl(schema) if owner == acl.DATABASE_OWNER_OID
                                      else schema.acl)}
    for oid, name in ((PG_TOAST_OID, "pg_toast"), (INFORMATION_SCHEMA_OID, "information_schema")):
        if oid not in seen:
            yield {"oid": oid, "nspname": name, "nspowner": 10}


def user_relations(sc: SystemContext) -> Iterator[Table | Index | Sequence | View]:
    for obj in sc.state.by_oid.values():
        if isinstance(obj, Table | Index | Sequence | View):
            yield obj


def has_foreign_keys(sc: SystemContext) -> set[int]:
    """Tables with triggers in PostgreSQL's sense: both sides of a foreign key."""
    out: set[int] = set()
    for table in sc.state.tables():
        for con in table.constraints:
            if con.kind == "f":
                out.add(table.oid)
                out.add(con.ref_table)
    return out


@producer("pg_class")
def pg_class(sc: SystemContext) -> Iterator[dict[str, Any]]:
    triggers = has_foreign_keys(sc) | {oid for oid, found in sc.state.triggers.items() if found}
    base = {"relpersistence": "p", "relreplident": "n", "relispopulated": True, "relisshared": False,
            "relrowsecurity": False, "relforcerowsecurity": False,
            "reltablespace": 0, "relpages": 0, "reltuples": -1.0, "relfrozenxid": 0, "relminmxid": 0}
    for obj in user_relations(sc):
        row = dict(base, oid=obj.oid, relname=obj.name, relnamespace=obj.schema_oid, relowner=10,
                   relfilenode=obj.oid)
        if isinstance(obj, Table):
            kind = obj.kind if obj.kind in ("v", "p", "m") else "r"
            if obj.partition_of:  # see catalog.system.partitions
                row.update(relispartition=True, relpartbound=partitions.bound_text(sc.state, obj))
            row.update(relkind=kind, relam=HEAP_AM_OID if kind in ("r", "m") else 0, relnatts=len(obj.columns),
                       reltype=obj.row_type,
                       relispopulated=obj.populated,
                       relhassubclass=bool(obj.partition_strategy and sc.state.partitions(obj.oid)),
                       relchecks=sum(1 for c in obj.constraints if c.kind == "c"),
                       relhasindex=bool(sc.state.indexes(obj.oid)), relhastriggers=obj.oid in triggers,
                       relreplident=obj.replica_identity, relowner=obj.owner, relrowsecurity=obj.row_security,
                       relforcerowsecurity=obj.force_row_security, reloptions=list(obj.options) or None)
            stat = sc.state.statistics.get(obj.oid)  # ANALYZE (catalog.statistics)
            if stat is not None:
                row.update(reltuples=stat.reltuples, relpages=stat.relpages)
        elif isinstance(obj, View):
            row.update(relkind="v", relnatts=len(obj.column_names), relam=0, relowner=obj.owner,
                       reloptions=list(obj.options) or None, relhastriggers=obj.oid in triggers)
        elif isinstance(obj, Index):
            table = sc.state.table(obj.table_oid)
            partitioned = table is not None and table.kind == "p"  # a partitioned index: relkind 'I'
            row.update(relkind="I" if partitioned else "i", relam=HASH_AM_OID if obj.method == "hash" else BTREE_AM_OID,
                       relnatts=len(obj.columns) + len(obj.include), reloptions=list(obj.options) or None,
                       relowner=table.owner if table is not None else 10, relispartition=bool(obj.parent_index))
            stat = sc.state.statistics.get(obj.table_oid)
            if stat is not None and obj.predicate is None:
                row.update(reltuples=stat.reltuples)
        else:
            row.update(relkind="S", relam=0, relnatts=3, relowner=getattr(obj, "owner", 10))
        if not isinstance(obj, Index) and obj.acl is not None:
            row["relacl"] = acl.acl_text(sc.state, obj.acl)
        yield row
    for ty in sorted(sc.state.composites.values(), key=lambda ty: ty.oid):  # CREATE TYPE ... AS (...)
        yield dict(base, oid=ty.relid, relname=ty.name, relnamespace=ty.schema_oid, relowner=ty.owner,
                   relkind="c", relam=0, relnatts=len(ty.attributes), relfilenode=0, reltype=ty.oid,
                   relhasindex=False, relhastriggers=False, relhassubclass=False, relchecks=0,
                   relispartition=False)
    for rel in RELATIONS.values():
        yield dict(base, oid=rel.oid, relname=rel.name, relnamespace=rel.schema_oid, relowner=10,
                   relkind=rel.relkind, relam=HEAP_AM_OID if rel.relkind == "r" else 0,
                   relnatts=len(rel.columns), relfilenode=rel.oid if rel.relkind == "r" else 0,
                   relisshared=rel.name in ("pg_authid", "pg_database", "pg_tablespace", "pg_auth_members",
                                            "pg_shdescription"))


def _attribute(relid: int, name: str, type_oid: int, typmod: int, attnum: int, not_null: bool = False,
               has_default: bool = False, identity: str = "", dropped: bool = False,
               generated: str = "") -> dict[str, Any]:
    typlen, byval, align, storage = type_length(type_oid)
    return {"attrelid": relid, "attname": name, "atttypid": 0 if dropped else type_oid, "attstattarget": -1,
            "attlen": typlen, "attnum": attnum, "attndims": 1 if typeinfo.element_of(type_oid) else 0,
            "attcacheoff": -1, "atttypmod": typmod, "attbyval": byval, "attalign": align,
            "attstorage": storage, "attcompression": "", "attnotnull": not_null, "atthasdef": has_default,
            "atthasmissing": False, "attidentity": identity, "attgenerated": generated, "attisdropped": dropped,
            "attislocal": True, "attinhcount": 0, "attcollation": 0 if dropped else collation_of(type_oid)}


@producer("pg_attribute")
def pg_attribute(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for obj in user_relations(sc):
        if isinstance(obj, Table):
            for c in obj.columns:
                if c.dropped:
                    yield _attribute(obj.oid, f"........pg.dropped.{c.attnum}........", c.type_oid, -1, c.attnum,
                                     dropped=True)
                else:
                    generated = c.generated is not None
                    row = _attribute(obj.oid, c.name, c.type_oid, c.typmod, c.attnum, c.not_null,
                                     generated or (c.default is not None and not c.identity), c.identity,
                                     generated="s" if generated else "")
                    if c.domain:  # (a domain's column: the domain's type, its typmod in the domain)
                        row.update(atttypid=c.domain, atttypmod=-1)
                    if obj.partition_of:  # a partition's columns are inherited from its partitioned table
                        row["attinhcount"] = 1
                    if c.acl is not None:
                        row["attacl"] = acl.acl_text(sc.state, c.acl)
                    if c.stattarget != -1:
                        row["attstattarget"] = c.stattarget
                    if c.storage:
                        row["attstorage"] = c.storage
                    yield row
            yield from _system_attributes(obj.oid)
        elif isinstance(obj, View):
            types = view_columns(sc, obj.oid, obj.query, len(obj.column_names))
            column_acls = dict(obj.column_acls)
            for i, name in enumerate(obj.column_names, 1):
                type_oid, typmod = types[i - 1] if i <= len(types) else (25, -1)
                row = _attribute(obj.oid, name, type_oid, typmod, i)
                if i in column_acls:
                    row["attacl"] = acl.acl_text(sc.state, column_acls[i])
                yield row
        elif isinstance(obj, Index):
            table = sc.state.table(obj.table_oid)
            for i, attnum in enumerate(obj.columns, 1):
                col = next((c for c in table.columns if c.attnum == attnum), None) if table else None
                if obj.attributes:  # an expression index: its columns' names and types as created
                    name, type_oid, typmod = obj.attributes[i - 1]
                    yield _attribute(obj.oid, name, typeinfo.INT4_OID if obj.method == "hash" else type_oid,
                                     -1 if obj.method == "hash" else typmod, i)
                elif col is not None and obj.method == "hash":  # a hash index keeps the key's int4 hash code
                    yield _attribute(obj.oid, col.name, typeinfo.INT4_OID, -1, i)
                elif col is not None:
                    yield _attribute(obj.oid, col.name, col.type_oid, col.typmod, i)
            for i, attnum in enumerate(obj.include, len(obj.columns) + 1):  # INCLUDE columns follow the keys
                col = next((c for c in table.columns if c.attnum == attnum), None) if table else None
                if col is not None:
                    yield _attribute(obj.oid, col.name, col.type_oid, col.typmod, i)
        else:
            column_acls = dict(obj.column_acls)
            for i, (name, type_oid) in enumerate(SEQUENCE_COLUMNS, 1):
                row = _attribute(obj.oid, name, type_oid, -1, i, True)
                if i in column_acls:
                    row["attacl"] = acl.acl_text(sc.state, column_acls[i])
                yield row
            yield from _system_attributes(obj.oid)
    for ty in sorted(sc.state.composites.values(), key=lambda ty: ty.oid):  # a composite type's attributes
        for i, (name, type_oid, typmod) in enumerate(ty.attributes, 1):
            yield _attribute(ty.relid, name, type_oid, typmod, i)
    for rel in RELATIONS.values():
        for i, (name, type_oid, typmod) in enumerate(rel.columns, 1):
            row = _attribute(rel.oid, name, type_oid, typmod, i, rel.relkind == "r" and row_typlen(type_oid) != -1)
            if row["attcollation"]:
                row["attcollation"] = 950  # catalog text columns use the C collation
            yield row


# PostgreSQL's system columns (attnums -1 .. -6) of every table, partitioned table, matview and sequence
SYSTEM_ATTRIBUTES = (("ctid", 27), ("xmin", 28), ("cmin", 29), ("xmax", 28), ("cmax", 29), ("tableoid", 26))


def _system_attributes(relid: int) -> Iterator[dict[str, Any]]:
    for i, (name, type_oid) in enumerate(SYSTEM_ATTRIBUTES, 1):
        row = _attribute(relid, name, type_oid, -1, -i, True)
        row["attstattarget"] = 0
        yield row


def row_typlen(type_oid: int) -> int:
    return type_length(type_oid)[0]


@producer("pg_index")
def pg_index(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for obj in sc.state.by_oid.values():
        if not isinstance(obj, Index):
            continue
        n = len(obj.columns)
        desc = tuple(obj.descending) + (False,) * (n - len(obj.descending))
        first = tuple(obj.nulls_first) + (False,) * (n - len(obj.nulls_first))
        yield {"indexrelid": obj.oid, "indrelid": obj.table_oid, "indnatts": n + len(obj.include), "indnkeyatts": n,
               "indisunique": obj.unique, "indnullsnotdistinct": obj.nulls_not_distinct, "indisprimary": obj.primary,
               "indisexclusion": False, "indimmediate": True, "indisclustered": False, "indisvalid": True,
               "indcheckxmin": False, "indisready": True, "indislive": True, "indisreplident": _is_replica_index(sc, obj),
               "indkey": list(obj.columns) + list(obj.include), "indcollation": [0] * n, "indclass": [0] * n,
               "indoption": [(1 if d else 0) | (2 if f else 0) for d, f in zip(desc, first, strict=True)],
               "indexprs": ", ".join(describe.index_expression(e) for e in obj.expressions if e) or None,
               "indpred": describe.parenthesized(obj.predicate) if obj.predicate else None}


@producer("pg_constraint")
def pg_constraint(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for table in sc.state.tables():
        for con in table.constraints:
            fk = con.kind == "f"
            yield {"oid": con.oid, "conname": con.name, "connamespace": table.schema_oid, "contype": con.kind,
                   "condeferrable": con.deferrable, "condeferred": con.deferred, "convalidated": con.validated, "conrelid": table.oid,
                   "contypid": 0, "conindid": con.index_oid or (referenced_index(sc, con) if fk else 0),
                   "conparentid": 0, "confrelid": con.ref_table if fk else 0,
                   "confupdtype": con.on_update if fk else " ", "confdeltype": con.on_delete if fk else " ",
                   "confmatchtype": ("f" if con.match_full else "s") if fk else " ", "conislocal": True, "coninhcount": 0,
                   "connoinherit": False, "conkey": list(describe.check_columns(table, con)) or None,
                   "confkey": list(con.ref_columns) if fk else None,
                   "conbin": describe.constraint_definition(sc.state, table, con, False).removesuffix(describe.NOT_VALID)[7:-1]
                   if con.kind == "c" else None}


@producer("pg_constraint")
def pg_constraint_all(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """Tables' constraints, and domains' CHECK constraints (contypid: the domain)."""
    yield from pg_constraint(sc)
    for triggers in sc.state.triggers.values():  # CREATE CONSTRAINT TRIGGER's (contype 't')
        for tr in triggers:
            if not tr.constraint_oid:
                continue
            table = sc.state.by_oid.get(tr.table_oid)
            yield {"oid": tr.constraint_oid, "conname": tr.name, "connamespace": getattr(table, "schema_oid", 2200),
                   "contype": "t", "condeferrable": tr.deferrable, "condeferred": tr.initially_deferred,
                   "convalidated": True, "conrelid": tr.table_oid, "contypid": 0, "conindid": 0, "conparentid": 0,
                   "confrelid": 0, "confupdtype": " ", "confdeltype": " ", "confmatchtype": " ", "conislocal": True,
                   "coninhcount": 0, "connoinherit": True, "conkey": None, "confkey": None, "conbin": None}
    for dom in sorted(sc.state.domains.values(), key=lambda d: d.oid):
        for name, text, oid in dom.checks:
            yield {"oid": oid, "conname": name, "connamespace": dom.schema_oid, "contype": "c",
                   "condeferrable": False, "condeferred": False, "convalidated": True, "conrelid": 0,
                   "contypid": dom.oid, "conindid": 0, "conparentid": 0, "confrelid": 0, "confupdtype": " ",
                   "confdeltype": " ", "confmatchtype": " ", "conislocal": True, "coninhcount": 0,
                   "connoinherit": False, "conkey": None, "confkey": None, "conbin": text}


def referenced_index(sc: SystemContext, con: Any) -> int:
    """The unique index a foreign key's referenced columns use (pg_constraint.conindid)."""
    for ix in sc.state.indexes(con.ref_table):
        if ix.unique and set(ix.columns) == set(con.ref_columns):
            return ix.oid
    return 0


@producer("pg_attrdef")
def pg_attrdef(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for table in sc.state.tables():
        for c in table.columns:
            if c.dropped:
                continue
            if c.generated is not None:  # PostgreSQL keeps a generation expression as the default
                yield {"oid": attrdef_oid(table.oid, c.attnum), "adrelid": table.oid, "adnum": c.attnum,
                       "adbin": describe.generation_text(c.generated)}
            elif c.default is not None and not c.identity:
                yield {"oid": attrdef_oid(table.oid, c.attnum), "adrelid": table.oid, "adnum": c.attnum,
                       "adbin": describe.default_text(c.default, c.type_oid, sc.state)}


def attrdef_oid(table_oid: int, attnum: int) -> int:
    """pg_attrdef rows have no oid of their own in pgaurora's catalog: derive a stable one."""
    return (table_oid << 11) + attnum


@producer("pg_sequence")
def pg_sequence(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for obj in sc.state.by_oid.values():
        if isinstance(obj, Sequence):
            yield {"seqrelid": obj.oid, "seqtypid": obj.type_oid, "seqstart": obj.start,
                   "seqincrement": obj.increment, "seqmax": obj.max_value, "seqmin": obj.min_value,
                   "seqcache": obj.cache, "seqcycle": obj.cycle}


# Descriptions of built-in objects; COMMENT ON adds catalog.model.Comment definitions.
BUILTIN_DESCRIPTIONS = {(12, 2612, 0): "built-in functions", (2200, 2615, 0): "standard public schema"}


@producer("pg_description")
def pg_description(sc: SystemContext) -> Iterator[dict[str, Any]]:
    comments = sc.state.comments
    for (objoid, classoid, objsubid), text in BUILTIN_DESCRIPTIONS.items():
        if (classoid, objoid, objsubid) not in comments:
            yield {"objoid": objoid, "classoid": classoid, "objsubid": objsubid, "description": text}
    from pgaurora.catalog.builtins.extensions import EXTENSIONS, PLPGSQL_EXTENSION_OID
    from pgaurora.catalog.system.object_rows import PLPGSQL_LANGUAGE_OID, SQL_LANGUAGE_OID

    for objoid, text in ((12, "built-in functions"), (SQL_LANGUAGE_OID, "SQL-language functions"),
                         (PLPGSQL_LANGUAGE_OID, "PL/pgSQL procedural language")):  # pg_language's
        if (2612, objoid, 0) not in comments:
            yield {"objoid": objoid, "classoid": 2612, "objsubid": 0, "description": text}
    # extensions' comments (their control files'), unless COMMENT ON EXTENSION replaced them
    for objoid, name in ((PLPGSQL_EXTENSION_OID, "plpgsql"),
                         *((e.oid, e.name) for e in sc.state.extensions.values())):
        if (3079, objoid, 0) not in comments:
            yield {"objoid": objoid, "classoid": 3079, "objsubid": 0, "description": EXTENSIONS[name].comment}
    schemas = {s.oid for s in sc.state.schemas.values()}
    for (classoid, objoid, objsubid), comment in comments.items():
        # comments on dropped objects stay in the catalog heap but not in pg_description
        if classoid in SHARED_CLASSES:
            continue  # (pg_shdescription)
        alive = objoid in schemas if classoid == 2615 else (
            objoid in sc.state.by_oid if classoid in (1259, 1255, 2620, 3079, 1247) else any(
                c.oid == objoid for t in sc.state.tables() for c in t.constraints))
        if alive:
            yield {"objoid": objoid, "classoid": classoid, "objsubid": objsubid, "description": comment.description}


SHARED_CLASSES = (1260, 1262)  # pg_authid, pg_database: their comments are pg_shdescription's


@producer("pg_shdescription")
def pg_shdescription(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """COMMENT ON ROLE / DATABASE, of roles and databases that exist."""
    alive = {r.oid for r in sc.state.roles.values()} | {d.oid for d in sc.state.databases.values()}
    for (classoid, objoid, _), comment in sorted(sc.state.comments.items()):
        if classoid in SHARED_CLASSES and objoid in alive:
            yield {"objoid": objoid, "classoid": classoid, "description": comment.description}


def _is_replica_index(sc: SystemContext, index: Index) -> bool:
    table = sc.state.table(index.table_oid)
    return table is not None and table.replica_identity == "i" and table.replica_index == index.oid
