"""Rows of the type, function, role, database and configuration catalogs: pg_type, pg_proc,
pg_collation, pg_language, pg_operator, pg_cast, pg_roles / pg_authid / pg_user / pg_shadow,
pg_database, pg_tablespace, pg_settings, pg_extension (pg_stat_activity: activity).

Owns how the datatypes registry, the built-in function registry (catalog.builtins), roles,
databases and session settings appear as PostgreSQL 15 rows. Not relations (class_rows),
not the standard views over them (view_rows).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from pgaurora import datatypes
from pgaurora.access.heap import TableActivity
from pgaurora.catalog import acl, builtins
from pgaurora.catalog.model import Database, Role
from pgaurora.catalog.roles import PREDEFINED_ROLES
from pgaurora.catalog.system.regtypes import RegName
from pgaurora.catalog.system.relations import SystemContext, producer
from pgaurora.catalog.system.settings_table import SETTINGS

START_TIME = datetime.datetime.now(datetime.UTC)
_TYPTYPE = {"b", "c", "d", "e", "p", "r", "m"}


@producer("pg_type")
def pg_type(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for info in datatypes.all_types():
        yield {"oid": info.oid, "typname": info.name, "typnamespace": 11, "typowner": 10, "typlen": info.typlen,
               "typbyval": info.byval, "typtype": info.typtype if info.typtype in _TYPTYPE else "b",
               "typcategory": info.category, "typispreferred": info.preferred, "typisdefined": True,
               "typdelim": info.delimiter, "typrelid": 0, "typelem": info.elem_oid, "typarray": info.array_oid,
               "typalign": info.align, "typstorage": info.storage, "typnotnull": False, "typbasetype": 0,
               "typtypmod": -1, "typndims": 0,
               "typcollation": 100 if info.oid in (25, 1043, 1042, 1009, 1015, 1014) else (
                   950 if info.oid in (19, 1003) else 0)}
    for ty in sorted(sc.state.types.values(), key=lambda ty: ty.oid):  # CREATE TYPE ... AS ENUM
        common = {"typnamespace": ty.schema_oid, "typowner": ty.owner, "typisdefined": True, "typdelim": ",",
                  "typrelid": 0, "typnotnull": False, "typbasetype": 0, "typtypmod": -1, "typndims": 0,
                  "typcollation": 0, "typispreferred": False, "typalign": "i"}
        yield dict(common, oid=ty.oid, typname=ty.name, typlen=4, typbyval=True, typtype="e", typcategory="E",
                   typelem=0, typarray=ty.array_oid, typstorage="p")
        yield dict(common, oid=ty.array_oid, typname="_" + ty.name, typlen=-1, typbyval=False, typtype="b",
                   typcategory="A", typelem=ty.oid, typarray=0, typstorage="x")
    for ct in sorted((*sc.state.composites.values(), *sc.state.row_types.values()), key=lambda ty: ty.oid):
        # CREATE TYPE ... AS (...), and tables' row types
        common = {"typnamespace": ct.schema_oid, "typowner": ct.owner, "typisdefined": True, "typdelim": ",",
                  "typnotnull": False, "typbasetype": 0, "typtypmod": -1, "typndims": 0, "typcollation": 0,
                  "typispreferred": False, "typalign": "d", "typlen": -1, "typbyval": False, "typstorage": "x"}
        yield dict(common, oid=ct.oid, typname=ct.name, typtype="c", typcategory="C", typrelid=ct.relid, typelem=0,
                   typarray=ct.array_oid)
        yield dict(common, oid=ct.array_oid, typname="_" + ct.name, typtype="b", typcategory="A", typrelid=0,
                   typelem=ct.oid, typarray=0)
    for dom in sorted(sc.state.domains.values(), key=lambda d: d.oid):  # CREATE DOMAIN
        base = datatypes.typeinfo.find(dom.base_type)
        if base is None:
            continue
        yield {"oid": dom.oid, "typname": dom.name, "typnamespace": dom.schema_oid, "typowner": dom.owner,
               "typlen": base.typlen, "typbyval": base.byval, "typtype": "d", "typcategory": base.category,
               "typispreferred": False, "typisdefined": True, "typdelim": base.delimiter, "typrelid": 0,
               "typelem": 0, "typarray": 0, "typalign": base.align, "typstorage": base.storage,
               "typnotnull": dom.not_null, "typbasetype": dom.base_type, "typtypmod": dom.base_typmod,
               "typndims": 0, "typcollation": 100 if dom.base_type in (25, 1043, 1042) else 0,
               "typdefault": dom.default, "typdefaultbin": dom.default}


# the built-in range types (datatypes.ranges): rngtypid, rngsubtype, rngmultitypid, rngsubopc,
# rngcanonical, rngsubdiff (PostgreSQL 15's rows; the multirange types themselves do not exist here)
_RANGES = ((3904, 23, 4451, 1978, "int4range_canonical", "int4range_subdiff"),
           (3906, 1700, 4532, 3125, "-", "numrange_subdiff"),
           (3908, 1114, 4533, 3128, "-", "tsrange_subdiff"),
           (3910, 1184, 4534, 3127, "-", "tstzrange_subdiff"),
           (3912, 1082, 4535, 3122, "daterange_canonical", "daterange_subdiff"),
           (3926, 20, 4536, 3124, "int8range_canonical", "int8range_subdiff"))


@producer("pg_range")
def pg_range(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for oid, subtype, multi, opclass, canonical, subdiff in _RANGES:
        yield {"rngtypid": oid, "rngsubtype": subtype, "rngmultitypid": multi, "rngcollation": 0,
               "rngsubopc": opclass, "rngcanonical": RegName(0, canonical), "rngsubdiff": RegName(0, subdiff)}


@producer("pg_aggregate")
def pg_aggregate(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """CREATE AGGREGATE's rows (the built-in aggregates have none here)."""
    none = RegName(0, "-")
    state = sc.state

    def shown(name: str) -> str:  # (regproc output: schema-qualified where the search path does not see it)
        if not name or "." in name:
            return name or "-"
        from pgaurora.catalog.system.describe import qualified_name
        from pgaurora.catalog.system.regtypes import state_of

        visible = (state_of(sc.ctx) if sc.ctx is not None else state).search_path_oids()
        owners = [schema for (schema, fname) in state.functions if fname == name]
        if not owners or any(schema in visible for schema in owners):
            return name
        return qualified_name(state, owners[0], name)

    for overloads in sc.state.functions.values():
        for fn in overloads:
            if fn.kind != "a":
                continue
            yield {"aggfnoid": RegName(fn.oid, fn.name), "aggkind": "n", "aggnumdirectargs": 0,
                   "aggtransfn": RegName(0, shown(fn.agg_sfunc)), "aggfinalfn": RegName(0, shown(fn.agg_finalfunc)),
                   "aggcombinefn": none, "aggserialfn": none, "aggdeserialfn": none, "aggmtransfn": none,
                   "aggminvtransfn": none, "aggmfinalfn": none, "aggfinalextra": False, "aggmfinalextra": False,
                   "aggfinalmodify": "r", "aggmfinalmodify": "r", "aggsortop": 0, "aggtranstype": fn.agg_stype,
                   "aggtransspace": 0, "aggmtranstype": 0, "aggmtransspace": 0, "agginitval": fn.agg_initcond,
                   "aggminitval": None}


@producer("pg_enum")
def pg_enum(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for ty in sorted(sc.state.types.values(), key=lambda ty: ty.oid):
        for label, order, oid in ty.labels:
            yield {"oid": oid, "enumtypid": ty.oid, "enumsortorder": order, "enumlabel": label}


def _proc_row(name: str, oid: int, arg_oids: tuple[int, ...], return_oid: int, kind: str, strict: bool,
              volatility: str, retset: bool, variadic: int | None) -> dict[str, Any]:
    return {"oid": oid, "proname": name, "pronamespace": 11, "proowner": 10, "prolang": 12, "procost": 1.0,
            "prorows": 1000.0 if retset else 0.0, "provariadic": variadic or 0, "prosupport": RegName(0, "-"), "prokind": kind,
            "prosecdef": False, "proleakproof": False, "proisstrict": strict, "proretset": retset,
            "provolatile": volatility, "proparallel": "s", "pronargs": len(arg_oids), "pronargdefaults": 0,
            "prorettype": return_oid, "proargtypes": list(arg_oids), "prosrc": name}


_PROCS: dict[int, Any] = {}


def proc_table() -> dict[int, Any]:
    """pg_proc's oid -> built-in function or aggregate (built once: the built-ins are fixed at import);
    built-ins without a PostgreSQL oid get stable synthetic ones above 2^30."""
    if not _PROCS:
        synthetic = 1 << 30
        defs: list[Any] = [*builtins.all_functions(), *builtins.all_aggregates()]
        for f in defs:
            oid = f.oid
            if not oid or oid in _PROCS:
                synthetic += 1
                oid = synthetic
            _PROCS[oid] = f
    return _PROCS


@producer("pg_proc")
def pg_proc(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for oid, f in proc_table().items():
        if isinstance(f, builtins.AggregateDef):
            yield _proc_row(f.name, oid, f.arg_oids, f.return_oid, "a", f.strict, "i", False, None)
        else:
            yield _proc_row(f.name, oid, f.arg_oids, f.return_oid, "f", f.strict, f.volatility, f.retset,
                            f.variadic_oid)
    for name, oid, args, result in window_functions():  # row_number(), lag(...)...: prokind 'w'
        yield _proc_row(name, oid, args, result, "w", False, "i", False, None)
    for overloads in sc.state.functions.values():  # CREATE FUNCTION / PROCEDURE's
        for fn in overloads:
            yield user_function_row(fn, sc.state)


# PostgreSQL 15's oids of the window-only functions (prokind 'w'), in catalog.builtins.resolution's order
_WINDOW_OIDS = {"row_number": (3100,), "rank": (3101,), "dense_rank": (3102,), "percent_rank": (3103,),
                "cume_dist": (3104,), "ntile": (3105,), "lag": (3106, 3107, 3108), "lead": (3109, 3110, 3111),
                "first_value": (3112,), "last_value": (3113,), "nth_value": (3114,)}


def window_functions() -> list[tuple[str, int, tuple[int, ...], int]]:
    """The window-only built-ins with their PostgreSQL oids."""
    from pgaurora.catalog.builtins.resolution import _WINDOW_ONLY

    return [(name, oid, args, result) for name, signatures in _WINDOW_ONLY.items()
            for oid, (args, result) in zip(_WINDOW_OIDS.get(name, ()), signatures, strict=False)]


SQL_LANGUAGE_OID, PLPGSQL_LANGUAGE_OID = 14, 13576


def user_function_row(fn: Any, state: Any = None) -> dict[str, Any]:
    """A pg_proc row of a function or procedure CREATE FUNCTION / PROCEDURE made."""
    row = _proc_row(fn.name, fn.oid, fn.arg_types, fn.return_type, fn.kind, fn.strict, fn.volatility, fn.retset,
                    None)
    names = fn.param_names or fn.arg_names
    if "v" in fn.param_modes:  # VARIADIC: its array's element type
        row["provariadic"] = datatypes.typeinfo.element_of(fn.param_types[fn.param_modes.index("v")]) or 0
    row.update(pronamespace=fn.schema_oid, proowner=fn.owner, procost=100.0,
               prosrc="" if fn.sql_body else fn.body, prosqlbody=fn.sql_body or None,
               prolang=SQL_LANGUAGE_OID if fn.language == "sql" else 12 if fn.kind == "a" else PLPGSQL_LANGUAGE_OID,
               proparallel="u", proargnames=list(names) if any(names) else None,
               proallargtypes=list(fn.param_types) if fn.param_modes else None,
               proargmodes=list(fn.param_modes) if fn.param_modes else None,
               pronargdefaults=sum(1 for d in fn.arg_defaults if d is not None),
               prosecdef=fn.security_definer, proconfig=list(fn.config) if fn.config else None,
               proacl=acl.acl_text(state, fn.acl) if state is not None and fn.acl is not None else None)
    return row


_TRIGGER_BITS = {"insert": 4, "delete": 8, "update": 16, "truncate": 32}


def trigger_type(trigger: Any) -> int:
    """pg_trigger.tgtype: ROW 1, BEFORE 2, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32, INSTEAD 64."""
    bits = (1 if trigger.for_each_row else 0) | {"before": 2, "instead": 64}.get(trigger.timing, 0)
    for event in trigger.events:
        bits |= _TRIGGER_BITS[event]
    return bits


@producer("pg_trigger")
def pg_trigger(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for triggers in sc.state.triggers.values():
        for tr in triggers:
            yield {"oid": tr.oid, "tgrelid": tr.table_oid, "tgparentid": 0, "tgname": tr.name,
                   "tgfoid": tr.function_oid, "tgtype": trigger_type(tr), "tgenabled": tr.enabled,
                   "tgisinternal": False, "tgconstrrelid": tr.from_table, "tgconstrindid": 0,
                   "tgconstraint": tr.constraint_oid, "tgdeferrable": tr.deferrable,
                   "tginitdeferred": tr.initially_deferred, "tgnargs": len(tr.args),
                   "tgattr": " ".join(str(n) for n in tr.columns),
                   "tgargs": b"".join(a.encode() + b"\x00" for a in tr.args), "tgqual": tr.when,
                   "tgoldtable": tr.old_table or None, "tgnewtable": tr.new_table or None}


@producer("pg_extension")
def pg_extension(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """plpgsql (always installed) and what CREATE EXTENSION installed."""
    from pgaurora.catalog.builtins.extensions import EXTENSIONS, PLPGSQL_EXTENSION_OID

    yield {"oid": PLPGSQL_EXTENSION_OID, "extname": "plpgsql", "extowner": 10, "extnamespace": 11,
           "extrelocatable": False, "extversion": "1.0", "extconfig": None, "extcondition": None}
    for ext in sorted(sc.state.extensions.values(), key=lambda e: e.oid):
        known = EXTENSIONS[ext.name]
        yield {"oid": ext.oid, "extname": ext.name, "extowner": ext.owner, "extnamespace": ext.schema_oid,
               "extrelocatable": known.relocatable, "extversion": ext.version, "extconfig": None,
               "extcondition": None}


@producer("pg_operator")
def pg_operator(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for o in builtins.all_operators():
        yield {"oid": o.oid, "oprname": o.name, "oprnamespace": 11, "oprowner": 10,
               "oprkind": "l" if o.left_oid is None else "b", "oprcanmerge": False, "oprcanhash": False,
               "oprleft": o.left_oid or 0, "oprright": o.right_oid, "oprresult": o.result_oid}


@producer("pg_language")
def pg_language(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """internal (the built-ins), sql and plpgsql (CREATE FUNCTION's languages)."""
    yield {"oid": 12, "lanname": "internal", "lanowner": 10, "lanispl": False, "lanpltrusted": False,
           "lanplcallfoid": 0, "laninline": 0, "lanvalidator": 2246}
    yield {"oid": 14, "lanname": "sql", "lanowner": 10, "lanispl": False, "lanpltrusted": True,
           "lanplcallfoid": 0, "laninline": 0, "lanvalidator": 2248}
    yield {"oid": PLPGSQL_LANGUAGE_OID, "lanname": "plpgsql", "lanowner": 10, "lanispl": True, "lanpltrusted": True,
           # (its handler functions are C functions pgaurora has not: these oids name no pg_proc row)
           "lanplcallfoid": 13573, "laninline": 13574, "lanvalidator": 13575}


@producer("pg_collation")
def pg_collation(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for oid, name, provider in ((100, "default", "d"), (950, "C", "c"), (951, "POSIX", "c")):
        yield {"oid": oid, "collname": name, "collnamespace": 11, "collowner": 10, "collprovider": provider,
               "collisdeterministic": True, "collencoding": -1, "collcollate": None if oid == 100 else name,
               "collctype": None if oid == 100 else name}


@producer("pg_tablespace")
def pg_tablespace(sc: SystemContext) -> Iterator[dict[str, Any]]:
    yield {"oid": 1663, "spcname": "pg_default", "spcowner": 10}
    yield {"oid": 1664, "spcname": "pg_global", "spcowner": 10}


def _role_values(role: Role) -> dict[str, Any]:
    return {"rolname": role.name, "rolsuper": role.superuser, "rolinherit": role.inherit,
            "rolcreaterole": role.createrole, "rolcreatedb": role.createdb, "rolcanlogin": role.login,
            "rolreplication": role.replication, "rolbypassrls": role.bypassrls or role.superuser, "rolconnlimit": role.connection_limit,
            "rolvaliduntil": _valid_until(role.valid_until), "oid": role.oid}


def _valid_until(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return datatypes.cast(text, datatypes.typeinfo.TEXT_OID, datatypes.typeinfo.TIMESTAMPTZ_OID)
    except Exception:  # noqa: BLE001 - an unparseable stored value shows as NULL
        return None




def _all_roles(sc: SystemContext) -> list[Role]:
    roles = list(sc.state.roles.values())
    taken = {r.oid for r in roles}
    roles.extend(Role(oid, name, login=False) for oid, name in PREDEFINED_ROLES.items() if oid not in taken)
    return sorted(roles, key=lambda r: r.oid)


@producer("pg_authid")
def pg_authid(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for role in _all_roles(sc):
        yield dict(_role_values(role), rolpassword=role.password)


@producer("pg_roles")
def pg_roles(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for role in _all_roles(sc):
        yield dict(_role_values(role), rolpassword="********")


# pg_monitor's members in a new PostgreSQL 15 cluster: (role, member)
PREDEFINED_MEMBERSHIPS = ((3374, 3373), (3375, 3373), (3377, 3373))


@producer("pg_auth_members")
def pg_auth_members(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """PostgreSQL 15's predefined memberships, then each GRANT role TO member (Role.member_of)."""
    for role, member in PREDEFINED_MEMBERSHIPS:
        yield {"roleid": role, "member": member, "grantor": 10, "admin_option": False}
    for member_role in sorted(sc.state.roles.values(), key=lambda r: r.oid):
        for role, grantor, admin in member_role.member_of:
            yield {"roleid": role, "member": member_role.oid, "grantor": grantor, "admin_option": admin}


@producer("pg_user", "pg_shadow")
def pg_user(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for role in sc.state.roles.values():
        if role.login:
            yield {"usename": role.name, "usesysid": role.oid, "usecreatedb": role.createdb,
                   "usesuper": role.superuser, "userepl": role.replication, "usebypassrls": role.superuser,
                   "passwd": "********", "valuntil": _valid_until(role.valid_until)}


@producer("pg_default_acl")
def pg_default_acl(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """ALTER DEFAULT PRIVILEGES entries (catalog.model.DefaultAcl)."""
    for entry in sorted(sc.state.default_acls.values(), key=lambda e: e.oid):
        yield {"oid": entry.oid, "defaclrole": entry.role, "defaclnamespace": entry.schema_oid,
               "defaclobjtype": entry.objtype, "defaclacl": acl.acl_text(sc.state, entry.acl)}


@producer("pg_database")
def pg_database(sc: SystemContext) -> Iterator[dict[str, Any]]:
    databases: list[Database] = list(sc.state.databases.values())
    names = {d.name for d in databases}
    for name, oid in (("template1", 1), ("template0", 4)):
        if name not in names:
            databases.append(Database(oid, name))
    for db in sorted(databases, key=lambda d: d.oid):
        yield {"oid": db.oid, "datname": db.name, "datdba": db.owner, "encoding": 6, "datlocprovider": "c",
               "datistemplate": db.name.startswith("template"), "datallowconn": db.name != "template0",
               "datconnlimit": -1, "datfrozenxid": 0, "datminmxid": 1, "dattablespace": 1663,
               "datcollate": "C", "datctype": "C",
               "datacl": ["=c/postgres", "postgres=CTc/postgres"] if db.name.startswith("template")
               else acl.acl_text(sc.state, db.acl)}


_MEMORY = {"B": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}
_TIME = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_UNIT_SIZE = {"B": 1, "kB": 1024, "8kB": 8192, "MB": 1024 ** 2, "ms": 1, "s": 1000, "min": 60_000}


def base_units(value: str, unit: str | None) -> str:
    """A SHOW value ('4MB', '10s') in the parameter's base unit as pg_settings.setting shows it ('4096')."""
    if not unit:
        return value
    text = value.strip()
    number = text.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    suffix = text[len(number):].strip()
    if not suffix:
        return text
    scale = _MEMORY.get(suffix) if unit in ("B", "kB", "8kB", "MB") else _TIME.get(suffix)
    if scale is None or unit not in _UNIT_SIZE:
        return text
    try:
        amount = float(number) * scale / _UNIT_SIZE[unit]
    except ValueError:
        return text
    return str(int(amount)) if amount == int(amount) else str(amount)


@producer("pg_settings")
def pg_settings(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """The session's parameters (their values) with PostgreSQL 15's facts about each (settings_table)."""
    settings = getattr(sc.ctx, "settings", None)
    show_all = getattr(settings, "show_all", None)
    if show_all is None:
        values = getattr(settings, "values", {})
        rows = [(k, v, "") for k, v in sorted(values.items())]
    else:
        rows = show_all()
    for name, shown, description in rows:
        facts = SETTINGS.get(name.lower())
        if facts is None:
            yield {"name": name, "setting": shown, "short_desc": description, "context": "user",
                   "vartype": "string", "source": "session", "pending_restart": False}
            continue
        canonical, category, short_desc, context, vartype, unit, min_val, max_val, enumvals, boot = facts
        setting = base_units(shown, unit)
        if context == "internal" and vartype == "integer":
            min_val = max_val = setting  # fixed facts of this server (server_version_num, block_size...)
        yield {"name": canonical, "setting": setting, "unit": unit, "category": category,
               "short_desc": short_desc or description, "context": context, "vartype": vartype,
               "source": "default" if setting == boot else "session", "min_val": min_val, "max_val": max_val,
               "enumvals": list(enumvals) if enumvals is not None else None, "boot_val": boot,
               "reset_val": setting, "pending_restart": False}


def _setting(ctx: Any, name: str) -> str:
    try:
        return str(ctx.settings.get(name) or "")
    except Exception:  # noqa: BLE001 - an unknown setting reads as empty here
        return ""


@producer("pg_stat_user_tables", "pg_stat_all_tables", "pg_statio_user_tables")
def pg_stat_user_tables(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """Each table with its heap's counters (access.heap.TableActivity; zeros for a heap this
    instance has not opened) and, as PostgreSQL's view sums them, its indexes' scans and
    fetches (NULL for a table without indexes). No block I/O (pg_statio_user_tables)."""
    storage = getattr(sc.ctx, "storage", None)
    opened = getattr(storage, "opened_heap", None)
    for table in sc.state.tables():
        row = {"relid": table.oid, "schemaname": _schema(sc, table.schema_oid), "relname": table.name}
        heap = opened(table.rel_id) if opened is not None and table.rel_id else None
        row.update(heap.stat_row() if heap is not None else _NO_ACTIVITY)
        indexes = [index_counts(storage, ix) for ix in sc.state.indexes(table.oid)]
        if indexes:
            row["idx_scan"] = sum(counts[0] for counts in indexes)
            row["idx_tup_fetch"] = sum(counts[2] for counts in indexes)
        yield row


_NO_ACTIVITY = TableActivity().row(0, 0, 0, 0)  # a table whose heap this instance has not opened


def index_counts(storage: Any, index: Any) -> tuple[int, int, int]:
    """An index's (scans, entries read, rows fetched); zeros for a B-tree not opened here."""
    opened = getattr(storage, "opened_btree", None)
    btree = opened(index.rel_id) if opened is not None and index.rel_id else None
    return (btree.scans, btree.tuples_read, btree.tuples_fetched) if btree is not None else (0, 0, 0)


@producer("pg_stat_user_indexes", "pg_stat_all_indexes")
def pg_stat_user_indexes(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """Each index of a table with the scans, entries read and rows fetched that the executor
    counted in its B-tree (access.btree; zeros for one this instance has not opened)."""
    storage = getattr(sc.ctx, "storage", None)
    for table in sc.state.tables():
        if table.kind == "p":
            continue  # as PostgreSQL's view: the indexes of tables, partitions and matviews only
        schema = _schema(sc, table.schema_oid)
        for index in sc.state.indexes(table.oid):
            scans, read, fetched = index_counts(storage, index)
            yield {"relid": table.oid, "indexrelid": index.oid, "schemaname": schema, "relname": table.name,
                   "indexrelname": index.name, "idx_scan": scans, "idx_tup_read": read, "idx_tup_fetch": fetched}


def _schema(sc: SystemContext, oid: int) -> str:
    for s in sc.state.schemas.values():
        if s.oid == oid:
            return s.name
    return "public"

