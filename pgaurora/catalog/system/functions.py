"""System information and catalog functions: pg_get_expr, pg_get_indexdef, pg_get_constraintdef,
pg_get_viewdef, pg_table_is_visible, obj_description, has_*_privilege, pg_size_pretty, version(),
current_database(), current_schemas(), pg_backend_pid() and friends.

Owns their implementations over the statement's CatalogState (ctx.extra['catalog_state'], so
they see the transaction's own DDL), registered through catalog.builtins' registry like any
built-in. A function another module already registered with the same signature is left alone.
Not the catalog rows (class_rows, object_rows) and not the definition texts (describe).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pgaurora.catalog import builtins
from pgaurora.catalog.builtins.registry import function
from pgaurora.catalog.model import Index, Role, Sequence, Table, View
from pgaurora.catalog.roles import PREDEFINED_BY_NAME, has_admin_option, has_privileges_of, is_member
from pgaurora.catalog.state import CatalogState
from pgaurora.catalog.system import describe, partitions, regtypes
from pgaurora.catalog.system.class_rows import BUILTIN_DESCRIPTIONS
from pgaurora.catalog.system.object_rows import PREDEFINED_ROLES, START_TIME, proc_table
from pgaurora.catalog.system.regtypes import (
    RegName,
    relation_name,
    relation_oid,
    split_name,
    state_of,
    user_type_display,
)
from pgaurora.catalog.system.relations import BY_OID, lookup_relation
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import InvalidParameterValue, UndefinedObject

OID, I4, I8, T, NAME, BOOL = t.OID_OID, t.INT4_OID, t.INT8_OID, t.TEXT_OID, t.NAME_OID, t.BOOL_OID
NODE_TREE = 194
VERSION = ("PostgreSQL 15.8 (pgaurora 0.1.0) on x86_64-pc-linux-gnu, compiled by Python 3.11, 64-bit")
ENCODINGS = {0: "SQL_ASCII", 6: "UTF8", 8: "LATIN1"}


def _register(name: str, args: tuple[int, ...], result: int, impl: Callable[..., Any], **options: Any) -> None:
    for existing in builtins.functions_named(name):
        if existing.arg_oids == args:
            return
    options.setdefault("volatility", "s")
    function(name, args, result, impl, **options)


def _ctx_fn(name: str, args: tuple[int, ...], result: int, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers `impl(ctx, *args)` (strict: NULL in, NULL out, handled by the executor)."""
    def decorate(impl: Callable[..., Any]) -> Callable[..., Any]:
        _register(name, args, result, impl, needs_context=True, **options)
        return impl
    return decorate


# ---- definitions as text ---------------------------------------------------------------------------
def _get_expr(ctx: Any, tree: Any, relid: Any, pretty: Any = False) -> Any:
    if tree is None:
        return None
    text = describe.qualify_regclass_literals(state_of(ctx), str(tree))
    return describe.unparenthesized(text) if pretty else text


_expr_args: tuple[tuple[int, ...], ...] = ((NODE_TREE, OID), (NODE_TREE, OID, BOOL), (T, OID), (T, OID, BOOL))
for _args in _expr_args:
    _register("pg_get_expr", _args, T, _get_expr, needs_context=True)


def _indexdef(ctx: Any, oid: int, column: int = 0, pretty: bool = False) -> str | None:
    state = state_of(ctx)
    index = state.by_oid.get(int(oid))
    if not isinstance(index, Index):
        return None
    return describe.index_definition(state, index, int(column), bool(pretty))


_register("pg_get_indexdef", (OID,), T, _indexdef, needs_context=True)
_register("pg_get_indexdef", (OID, I4, BOOL), T, _indexdef, needs_context=True)


def _vector_subscript(vector: list[int], index: int) -> int | None:
    """int2vector / oidvector subscripts start at 0 (their lower bound), unlike other arrays."""
    return vector[index] if 0 <= index < len(vector) else None


_register("array_subscript", (t.INT2VECTOR_OID, I4), t.INT2_OID, _vector_subscript, volatility="i")
_register("array_subscript", (t.OIDVECTOR_OID, I4), OID, _vector_subscript, volatility="i")


def _name_subscript(name: str, index: int) -> str | None:
    """name is a fixed char[64] in PostgreSQL: typname[0] is its first "char" ('' past the end)."""
    if not 0 <= index < 64:
        return None
    return name[index] if index < len(name) else ""


_register("array_subscript", (NAME, I4), t.CHAR_OID, _name_subscript, volatility="i")


def _constraintdef(ctx: Any, oid: int, pretty: bool = False) -> str | None:
    state = state_of(ctx)
    found = describe.find_constraint(state, int(oid))
    if found is None:  # a domain's CHECK constraint
        return next((f"CHECK ({text})" for dom in state.domains.values() for _, text, con_oid in dom.checks
                     if con_oid == int(oid)), None)
    return describe.constraint_definition(state, *found, pretty=bool(pretty))


_register("pg_get_constraintdef", (OID,), T, _constraintdef, needs_context=True)
_register("pg_get_constraintdef", (OID, BOOL), T, _constraintdef, needs_context=True)


def _viewdef(ctx: Any, view: Any, pretty: Any = False) -> str | None:
    state = state_of(ctx)
    oid = relation_oid(state, view) if isinstance(view, str) else int(view)
    obj = state.by_oid.get(oid)
    pretty = pretty if isinstance(pretty, bool) else True  # pg_get_viewdef(view, wrap_column) is pretty
    if isinstance(obj, View):
        return describe.view_definition(obj.query, obj.column_names, describe.relation_namer(state), pretty)
    if isinstance(obj, Table) and obj.kind == "m" and obj.query is not None:
        return describe.view_definition(obj.query, tuple(c.name for c in obj.live_columns()),
                                        describe.relation_namer(state), pretty)
    return None


_viewdef_args: tuple[tuple[int, ...], ...] = ((OID,), (OID, BOOL), (OID, I4), (T,), (T, BOOL))
for _args in _viewdef_args:
    _register("pg_get_viewdef", _args, T, _viewdef, needs_context=True)


def _nothing(ctx: Any, *args: Any) -> None:
    return None


def _triggerdef(ctx: Any, oid: int, pretty: Any = False) -> str | None:
    """CREATE TRIGGER ... as pg_get_triggerdef writes it (psql's \\d lists the pretty form)."""
    state = state_of(ctx)
    found = next((tr for triggers in state.triggers.values() for tr in triggers if tr.oid == int(oid)), None)
    if found is None:
        return None
    table: Any = state.by_oid.get(found.table_oid)  # (a table, or a view: its INSTEAD OF triggers)
    fn = state.function(found.function_oid)
    if table is None or fn is None:
        return None
    events = []
    for event in ("insert", "delete", "update", "truncate"):
        if event in found.events:
            word = event.upper()
            if event == "update" and found.columns:
                names = {c.attnum: c.name for c in getattr(table, "columns", ())}
                word += " OF " + ", ".join(describe.quote_ident(names[n]) for n in found.columns)
            events.append(word)
    table_name = relation_name(state, table.oid) if pretty else _qualified(state, table.schema_oid, table.name)
    visible = next(iter(state.user_functions(fn.name)), None) is fn  # (generate_function_name)
    fn_name = describe.quote_ident(fn.name) if visible else _qualified(state, fn.schema_oid, fn.name)
    timing = "INSTEAD OF" if found.timing == "instead" else found.timing.upper()
    referencing = "".join(f"{word} TABLE AS {describe.quote_ident(name)} " for word, name in
                          (("OLD", found.old_table), ("NEW", found.new_table)) if name)
    constraint = ""
    if found.constraint_oid:  # CREATE CONSTRAINT TRIGGER: its FROM table and deferral
        source: Any = state.by_oid.get(found.from_table) if found.from_table else None
        if source is not None:
            constraint += "FROM " + (relation_name(state, source.oid) if pretty else
                                     _qualified(state, source.schema_oid, source.name)) + " "
        constraint += ("DEFERRABLE INITIALLY DEFERRED " if found.initially_deferred else
                       "DEFERRABLE INITIALLY IMMEDIATE " if found.deferrable else "NOT DEFERRABLE INITIALLY IMMEDIATE ")
    text = (f"CREATE {'CONSTRAINT ' if found.constraint_oid else ''}TRIGGER {describe.quote_ident(found.name)} "
            f"{timing} {' OR '.join(events)} "
            f"ON {table_name} {constraint}{'REFERENCING ' + referencing if referencing else ''}"
            f"FOR EACH {'ROW' if found.for_each_row else 'STATEMENT'} ")
    if found.when is not None:
        text += f"WHEN ({found.when}) " if pretty else f"WHEN (({found.when})) "
    args = ", ".join("'" + a.replace("'", "''") + "'" for a in found.args)
    return text + f"EXECUTE FUNCTION {fn_name}({args})"


def _qualified(state: Any, schema_oid: int, name: str) -> str:
    schema = next((s.name for s in state.schemas.values() if s.oid == schema_oid), "public")
    return f"{describe.quote_ident(schema)}.{describe.quote_ident(name)}"


_register("pg_get_triggerdef", (OID,), T, _triggerdef, needs_context=True)
_register("pg_get_triggerdef", (OID, BOOL), T, _triggerdef, needs_context=True)
_register("pg_get_statisticsobjdef_columns", (OID,), T, _nothing, needs_context=True)
_register("pg_get_partition_constraintdef", (OID,), T,
          lambda ctx, oid: partitions.constraint_text(state_of(ctx), tbl)
          if (tbl := state_of(ctx).table(int(oid))) is not None else None, needs_context=True)
_register("pg_get_partkeydef", (OID,), T,
          lambda ctx, oid: partitions.key_definition(tbl) if (tbl := state_of(ctx).table(int(oid))) is not None else None,
          needs_context=True)
_register("pg_get_ruledef", (OID,), T, _nothing, needs_context=True)
_register("pg_get_ruledef", (OID, BOOL), T, _nothing, needs_context=True)
def _description(ctx: Any, objoid: int, classoid: int | None, objsubid: int = 0) -> str | None:
    """pg_description's text for an object (COMMENT ON, then the built-in objects' own)."""
    comments = state_of(ctx).comments
    if classoid is None:  # obj_description(oid): any catalog
        for (_cls, oid, sub), comment in comments.items():
            if oid == objoid and sub == objsubid:
                return comment.description
        return next((text for (oid, _cls, sub), text in BUILTIN_DESCRIPTIONS.items()
                     if oid == objoid and sub == objsubid), None)
    found = comments.get((classoid, objoid, objsubid))
    if found is not None:
        return found.description
    return BUILTIN_DESCRIPTIONS.get((objoid, classoid, objsubid))


def _obj_description(ctx: Any, oid: int, catalog: str | None = None) -> str | None:
    if catalog is None:
        return _description(ctx, int(oid), None)
    rel = lookup_relation(str(catalog))
    return _description(ctx, int(oid), rel.oid) if rel is not None else None


_register("obj_description", (OID, NAME), T, _obj_description, needs_context=True)
_register("obj_description", (OID,), T, _obj_description, needs_context=True)
_register("col_description", (OID, I4), T, lambda ctx, oid, attnum: _description(ctx, int(oid), 1259, int(attnum)),
          needs_context=True)
def _shobj_description(ctx: Any, oid: int, catalog: str) -> str | None:
    """shobj_description(oid, 'pg_authid' | 'pg_database'): COMMENT ON ROLE / DATABASE."""
    classoid = {"pg_authid": 1260, "pg_database": 1262}.get(str(catalog))
    found = state_of(ctx).comments.get((classoid, int(oid), 0)) if classoid is not None else None
    return found.description if found is not None else None


_register("shobj_description", (OID, NAME), T, _shobj_description, needs_context=True)


# ---- visibility and names --------------------------------------------------------------------------
def _table_is_visible(ctx: Any, oid: int) -> bool | None:
    """True when the relation's schema is on the search path and no earlier schema there has a
    relation of the same name (pg_catalog first, as PostgreSQL searches it implicitly)."""
    state = state_of(ctx)
    obj = state.by_oid.get(int(oid))
    rel = BY_OID.get(int(oid))
    composite = next((ty for ty in state.composites.values() if ty.relid == int(oid)), None)
    if composite is not None:  # (a composite type's pg_class row: visible as its type is)
        found = state.user_composite(composite.name)
        return found is not None and found.oid == composite.oid
    if not isinstance(obj, Table | Index | Sequence | View):
        return None if rel is None else rel.schema == "pg_catalog"
    name = obj.name
    for schema in _search_path(ctx, True):
        if schema == "pg_catalog" and lookup_relation(name) is not None:
            return False
        schema_oid = state.schema_oid(schema)
        if schema_oid is not None and (schema_oid, name) in state.relations:
            return schema_oid == obj.schema_oid
    return False


_register("pg_table_is_visible", (OID,), BOOL, _table_is_visible, needs_context=True)
for _name in ("pg_type_is_visible", "pg_function_is_visible", "pg_operator_is_visible", "pg_collation_is_visible",
              "pg_opclass_is_visible", "pg_conversion_is_visible", "pg_statistics_obj_is_visible",
              "pg_ts_config_is_visible", "pg_ts_dict_is_visible", "pg_ts_parser_is_visible",
              "pg_ts_template_is_visible", "pg_opfamily_is_visible"):
    _register(_name, (OID,), BOOL, lambda oid: True)


BUILTIN_ROLES = PREDEFINED_ROLES


def _userbyid(ctx: Any, oid: int) -> str:
    for role in state_of(ctx).roles.values():
        if role.oid == int(oid):
            return role.name
    if int(oid) in BUILTIN_ROLES:
        return BUILTIN_ROLES[int(oid)]
    return f"unknown (OID={int(oid)})"


_register("pg_get_userbyid", (OID,), NAME, _userbyid, needs_context=True)
_register("getdatabaseencoding", (), NAME, lambda: "UTF8")
_register("pg_client_encoding", (), NAME, lambda ctx: _setting(ctx, "client_encoding") or "UTF8", needs_context=True)
_register("pg_encoding_to_char", (I4,), NAME, lambda enc: ENCODINGS.get(enc, ""), volatility="i")
_register("pg_char_to_encoding", (NAME,), I4,
          lambda name: next((k for k, v in ENCODINGS.items() if v.lower() == name.lower()), -1), volatility="i")


def _role(state: CatalogState, who: Any) -> Role | None:
    """A role by oid or name; PostgreSQL 15's predefined roles too (as roles no one logs in as)."""
    if isinstance(who, int):
        found = next((r for r in state.roles.values() if r.oid == who), None)
        return found if found is not None or who not in PREDEFINED_ROLES else Role(who, PREDEFINED_ROLES[who], login=False)
    found = state.roles.get(str(who))
    if found is None and str(who) in PREDEFINED_BY_NAME:
        return Role(PREDEFINED_BY_NAME[str(who)], str(who), login=False)
    return found


def _has_role(ctx: Any, *args: Any) -> bool:
    """pg_has_role([user,] role, mode): MEMBER is membership, USAGE the role's privileges
    (catalog.roles); WITH ADMIN OPTION / WITH GRANT OPTION asks for the admin option too."""
    state = state_of(ctx)
    who, target, mode = (args if len(args) == 3 else (ctx.user, *args))
    user, role = _role(state, who), _role(state, target)
    for name, found in ((who, user), (target, role)):
        if found is None:
            raise UndefinedObject(f'role "{name}" does not exist')
    assert user is not None and role is not None
    words = " ".join(str(mode).lower().split())
    kind = words.split(" with ")[0]
    if kind not in ("member", "usage"):
        raise InvalidParameterValue(f"unrecognized privilege type: \"{mode}\"")
    if kind == "member":
        allowed = is_member(state, user.oid, role.oid)
    else:
        allowed = has_privileges_of(state, user.oid, role.oid)
    if allowed and " with " in words and not user.superuser and user.oid != role.oid:
        allowed = has_admin_option(state, user.oid, role.oid)
    return allowed


_register("pg_has_role", (NAME, T), BOOL, _has_role, needs_context=True)
_register("pg_has_role", (NAME, NAME, T), BOOL, _has_role, needs_context=True)


# ---- sequences, sizes ------------------------------------------------------------------------------
def _serial_sequence(ctx: Any, table: str, column: str) -> str | None:
    state = state_of(ctx)
    oid = relation_oid(state, table)
    obj = state.by_oid.get(oid)
    if not isinstance(obj, Table):
        return None
    col = obj.column(split_name(column)[-1] if column.startswith('"') else column)
    if col is None:
        raise UndefinedObject(f'column "{column}" of relation "{obj.name}" does not exist', sqlstate="42703")
    for seq in state.by_oid.values():
        if isinstance(seq, Sequence) and seq.owned_by == (obj.oid, col.attnum):
            return f"{describe.quote_ident(describe.schema_name(state, seq.schema_oid))}.{describe.quote_ident(seq.name)}"
    return None


_register("pg_get_serial_sequence", (T, T), T, _serial_sequence, needs_context=True)


def _relation_size(ctx: Any, oid: Any, fork: str = "main") -> int | None:
    """Pages of the relation's own storage times 8 kB: the heap's data pages once its page list
    is loaded (it is after any scan or insert); B-trees report none yet."""
    state = state_of(ctx)
    obj = state.by_oid.get(int(oid))
    storage = getattr(ctx, "storage", None)
    if isinstance(obj, Sequence):  # a sequence is one page, in PostgreSQL as here (its state)
        return 8192 if fork == "main" else 0
    if obj is None or storage is None or not isinstance(obj, Table | Index):
        return 0 if int(oid) in BY_OID or obj is not None else None
    try:
        rel = storage.heap(obj.rel_id) if isinstance(obj, Table) else storage.btree(obj.rel_id)
        page_list = getattr(rel, "pagelist", None)
        count = len(page_list.pages) if page_list is not None and getattr(page_list, "loaded", False) else 0
    except Exception:  # noqa: BLE001 - a relation whose storage is not open reports no pages
        count = 0
    return count * 8192


def _total_size(ctx: Any, oid: Any) -> int | None:
    base = _relation_size(ctx, oid)
    if base is None:
        return None
    return base + sum(_relation_size(ctx, ix.oid) or 0 for ix in state_of(ctx).indexes(int(oid)))


_register("pg_relation_size", (t.REGCLASS_OID,), I8, _relation_size, needs_context=True, volatility="v")
_register("pg_relation_size", (t.REGCLASS_OID, T), I8, _relation_size, needs_context=True, volatility="v")
_register("pg_table_size", (t.REGCLASS_OID,), I8, _relation_size, needs_context=True, volatility="v")
_register("pg_total_relation_size", (t.REGCLASS_OID,), I8, _total_size, needs_context=True, volatility="v")
_register("pg_indexes_size", (t.REGCLASS_OID,), I8,
          lambda ctx, oid: sum(_relation_size(ctx, ix.oid) or 0 for ix in state_of(ctx).indexes(int(oid))),
          needs_context=True, volatility="v")
_register("pg_database_size", (NAME,), I8, lambda ctx, name: sum(
    _relation_size(ctx, o.oid) or 0 for o in state_of(ctx).by_oid.values() if isinstance(o, Table | Index)),
    needs_context=True, volatility="v")

_SIZE_UNITS = (("bytes", 10 * 1024, False, 0), ("kB", 20 * 1024 - 1, True, 10), ("MB", 20 * 1024 - 1, True, 20),
               ("GB", 20 * 1024 - 1, True, 30), ("TB", 20 * 1024 - 1, True, 40), ("PB", 20 * 1024 - 1, True, 50))


def _half_rounded(x: int) -> int:
    value = x + (-1 if x < 0 else 1)
    return int(value / 2) if value >= 0 else -int(-value / 2)


def size_pretty(size: Any) -> str:
    """pg_size_pretty (PostgreSQL 15's dbsize.c units and rounding)."""
    value = int(size)
    for i, (name, limit, rounded, bits) in enumerate(_SIZE_UNITS):
        if i == len(_SIZE_UNITS) - 1 or abs(value) < limit:
            if rounded:
                value = _half_rounded(value)
            return f"{value} {name}"
        nxt = _SIZE_UNITS[i + 1]
        shift = nxt[3] - bits - (1 if nxt[2] else 0) + (1 if rounded else 0)
        value = value >> shift if value >= 0 else -((-value) >> shift)
    return f"{value} PB"


_register("pg_size_pretty", (I8,), T, size_pretty, volatility="i")
_register("pg_size_pretty", (t.NUMERIC_OID,), T, size_pretty, volatility="i")


def _publishable(ctx: Any, oid: int) -> bool:
    obj = state_of(ctx).by_oid.get(int(oid))
    return isinstance(obj, Table) and obj.kind == "r" and obj.schema_oid != 11


_register("pg_relation_is_publishable", (t.REGCLASS_OID,), BOOL, _publishable, needs_context=True)


def _partition_ancestors(ctx: Any, oid: int) -> Iterator[Any]:
    """The relation itself, then its parent, grandparent... (partitions)."""
    state = state_of(ctx)
    current = state.by_oid.get(int(oid))
    for _ in range(100):  # partition trees are shallow; bounded against a corrupt cycle
        if not isinstance(current, Table):
            return
        yield RegName(current.oid, relation_name(state, current.oid))
        if not current.partition_of:
            return
        current = state.by_oid.get(current.partition_of)


_register("pg_partition_ancestors", (t.REGCLASS_OID,), t.REGCLASS_OID, _partition_ancestors, needs_context=True,
          retset=True, column_names=("relid",))
_register("pg_partition_root", (t.REGCLASS_OID,), t.REGCLASS_OID,
          lambda ctx, oid: RegName(int(oid), relation_name(state_of(ctx), int(oid))), needs_context=True)


# ---- session information ---------------------------------------------------------------------------
def _setting(ctx: Any, name: str) -> str:
    try:
        return str(ctx.settings.get(name) or "")
    except Exception:  # noqa: BLE001 - settings objects without this name
        return ""


def _search_path(ctx: Any, include_implicit: bool) -> list[str]:
    """current_schemas(): the schemas unqualified names are looked up in (catalog.state's
    search_path_oids: those that exist and the current user may use), pg_catalog first when
    asked for the implicit ones and not named in the path."""
    state = state_of(ctx)
    names = {schema.oid: name for name, schema in state.schemas.items()}
    out = [names[oid] for oid in state.search_path_oids() if oid in names]
    if include_implicit and "pg_catalog" not in out:
        out.insert(0, "pg_catalog")
    return out


_register("version", (), T, lambda ctx: VERSION, needs_context=True)
_register("current_database", (), NAME, lambda ctx: ctx.database, needs_context=True)
_register("current_catalog", (), NAME, lambda ctx: ctx.database, needs_context=True)
_register("current_schema", (), NAME,
          lambda ctx: next(iter(_search_path(ctx, False)), None), needs_context=True, strict=False)
_register("current_schemas", (BOOL,), t.array_of(NAME), _search_path, needs_context=True)
_register("pg_backend_pid", (), I4, lambda ctx: int(getattr(ctx, "backend_pid", 0)), needs_context=True)
_register("pg_trigger_depth", (), I4, lambda ctx: _trigger_depth(ctx), needs_context=True, volatility="s")
_register("pg_is_in_recovery", (), BOOL, lambda ctx: _setting(ctx, "in_hot_standby") == "on", needs_context=True,
          volatility="v")
_register("pg_postmaster_start_time", (), t.TIMESTAMPTZ_OID, lambda ctx: START_TIME, needs_context=True)
_register("pg_conf_load_time", (), t.TIMESTAMPTZ_OID, lambda ctx: START_TIME, needs_context=True)


def _trigger_depth(ctx: Any) -> int:
    """How many trigger functions the session is inside (0 outside any)."""
    session = getattr(ctx, "extra", {}).get("session")
    return int(getattr(getattr(session, "routines", None), "trigger_depth", 0))


def _txid_current(ctx: Any) -> int:
    txn = ctx.txn
    assign = getattr(txn, "assign_xid", None)
    xid = getattr(txn, "xid", 0)
    if not xid and assign is not None:
        assign()
        xid = txn.xid
    return int(xid or 0)


_register("txid_current", (), I8, _txid_current, needs_context=True, volatility="v")
_register("pg_current_xact_id", (), I8, _txid_current, needs_context=True, volatility="v")


# Parameters that describe storage pgaurora does not have; PostgreSQL 15's values, read-only here.
FIXED_SETTINGS = {"default_table_access_method": "heap", "default_tablespace": "", "temp_tablespaces": "",
                  "default_toast_compression": "pglz", "wal_level": "replica", "max_identifier_length": "63"}


def _current_setting(ctx: Any, name: str, missing_ok: bool = False) -> str | None:
    settings = ctx.settings
    check = getattr(settings, "check_examine", None)
    if check is not None:  # the superuser-only parameters (session.settings)
        check(name)
    if name.lower() in FIXED_SETTINGS:
        try:
            known = settings.get(name, True)
        except TypeError:
            known = settings.get(name) or None
        if known is None:
            return FIXED_SETTINGS[name.lower()]
    try:
        value = settings.get(name, missing_ok) if missing_ok else settings.get(name)
    except TypeError:
        value = settings.get(name)
    if value is None and not missing_ok:
        raise UndefinedObject(f'unrecognized configuration parameter "{name}"')
    return value  # type: ignore[no-any-return]


def _set_config(ctx: Any, name: str, value: str | None, is_local: bool) -> str:
    setter = getattr(ctx.settings, "set", None)
    if setter is None:
        raise InvalidParameterValue(f'parameter "{name}" cannot be changed now', sqlstate="55P02")
    return str(setter(name, value, bool(is_local)))


def _lastval(ctx: Any) -> int:
    """lastval(): the value the session's latest nextval() returned, of whichever sequence (55000
    before any, or once that sequence is gone); SELECT or USAGE on it, as currval."""
    from pgaurora.catalog import acl
    from pgaurora.errors import InsufficientPrivilege, ObjectNotInPrerequisiteState

    pid = getattr(ctx, "backend_pid", 0)
    oid = getattr(ctx.catalog, "last_sequence", {}).get(pid)
    state = state_of(ctx)
    seq = state.by_oid.get(oid) if oid is not None else None
    if not isinstance(seq, Sequence):
        raise ObjectNotInPrerequisiteState("lastval is not yet defined in this session")
    role = state.roles.get(getattr(ctx, "user", ""))
    if role is None or not acl.has_privilege(state, role.oid, seq, "rU", any_of=True):
        raise InsufficientPrivilege(f"permission denied for sequence {seq.name}")
    return int(ctx.catalog.last_values[(pid, oid)])


_register("lastval", (), I8, _lastval, needs_context=True, volatility="v")
_register("current_setting", (T,), T, _current_setting, needs_context=True)
_register("current_setting", (T, BOOL), T, _current_setting, needs_context=True)
_register("set_config", (T, T, BOOL), T, _set_config, needs_context=True, volatility="v", strict=False)


def _to_regclass(ctx: Any, text: str) -> Any:
    state = state_of(ctx)
    try:
        oid = relation_oid(state, text)
    except Exception:  # noqa: BLE001 - to_regclass returns NULL for a missing relation
        return None
    return RegName(oid, relation_name(state, oid))


_register("to_regclass", (T,), t.REGCLASS_OID, _to_regclass, needs_context=True)


def _type_shown(state: Any, oid: int) -> str:
    """format_type of a parameter's or result's type: a user-defined one schema-qualified where
    the search path does not find it (pg_dump runs with an empty one)."""
    return user_type_display(state, oid) or t.format_type(oid)


def _function_result(ctx: Any, oid: int) -> str | None:
    state = state_of(ctx)
    user = state.function(int(oid))
    if user is not None:
        if user.kind == "p":
            return None
        if user.retset and any(m == "t" for m in user.param_modes):
            return "TABLE(" + ", ".join(f"{describe.quote_ident(n)} {_type_shown(state, ty)}"
                                        for n, ty in user.out_columns()) + ")"
        if user.out_table:
            text = _table_type_name(state, user.out_table)
        else:
            text = "trigger" if user.return_type == t.TRIGGER_OID else _type_shown(state, user.return_type)
        return f"SETOF {text}" if user.retset else text
    f = proc_table().get(int(oid))
    if f is None:
        window = _window_of(int(oid))
        return t.format_type(window[3]) if window is not None else None
    text = t.format_type(f.return_oid)
    return f"SETOF {text}" if getattr(f, "retset", False) else text


def _window_of(oid: int) -> Any:
    """(name, oid, argument types, result type) of a window-only built-in (row_number, lag...)."""
    from pgaurora.catalog.system.object_rows import window_functions

    return next((w for w in window_functions() if w[1] == oid), None)


def _table_type_name(state: Any, table_oid: int) -> str:
    table = state.table(table_oid)
    if table is None:
        return "record"
    return relation_name(state, table_oid)


def _function_identity_arguments(ctx: Any, oid: int) -> str | None:
    return _function_arguments(ctx, oid, identity=True)


def _function_arguments(ctx: Any, oid: int, identity: bool = False) -> str | None:
    state = state_of(ctx)
    user = state.function(int(oid))
    if user is not None:  # (a procedure's arguments say their mode, as PostgreSQL's)
        modes = user.param_modes or ("i",) * len(user.arg_types)
        names = user.param_names or user.arg_names
        types = user.param_types or user.arg_types
        words = {"i": "IN " if user.kind == "p" else "", "o": "OUT ", "b": "INOUT ", "v": "VARIADIC "}
        defaults = iter(user.arg_defaults or (None,) * len(user.arg_types))
        shown = []
        for mode, name, type_oid in zip(modes, names, types, strict=True):
            if mode == "t":
                continue  # (RETURNS TABLE's columns are the result's)
            text = f"{words[mode]}{describe.quote_ident(name) + ' ' if name else ''}{_type_shown(state, type_oid)}"
            if mode in ("i", "b", "v"):
                default = next(defaults)
                if default is not None and identity is False:
                    text += f" DEFAULT {default}"
            shown.append(text)
        return ", ".join(shown)
    f = proc_table().get(int(oid))
    if f is None and (window := _window_of(int(oid))) is not None:
        return ", ".join(t.format_type(a) for a in window[2])
    if f is None:
        return None
    args = [t.format_type(a) for a in f.arg_oids]
    variadic = getattr(f, "variadic_oid", None)
    if variadic and args:
        args[-1] = f"VARIADIC {args[-1]}"
    return ", ".join(args)


_LIST_SETTINGS = ("search_path", "temp_tablespaces", "local_preload_libraries", "session_preload_libraries",
                  "shared_preload_libraries")


def _functiondef(ctx: Any, oid: int) -> str | None:
    """CREATE OR REPLACE FUNCTION ... as pg_get_functiondef writes a user function."""
    state = state_of(ctx)
    fn = state.function(int(oid))
    if fn is None:
        return None
    schema = next((s.name for s in state.schemas.values() if s.oid == fn.schema_oid), "public")
    word = "PROCEDURE" if fn.kind == "p" else "FUNCTION"
    lines = [f"CREATE OR REPLACE {word} {describe.quote_ident(schema)}.{describe.quote_ident(fn.name)}"
             f"({_function_arguments(ctx, oid)})"]
    if fn.kind != "p":
        lines.append(f" RETURNS {_function_result(ctx, oid)}")
    lines.append(f" LANGUAGE {fn.language}")
    attrs = [a for a in ({"i": "IMMUTABLE", "s": "STABLE"}.get(fn.volatility, ""), "STRICT" if fn.strict else "",
                         "SECURITY DEFINER" if fn.security_definer else "") if a]
    if attrs:
        lines.append(" " + " ".join(attrs))
    for item in fn.config:  # (a list setting's items quoted one by one, as PostgreSQL's GUC_LIST_QUOTE)
        name, _, value = item.partition("=")
        parts = [p.strip().strip('"') for p in value.split(",")] if name.lower() in _LIST_SETTINGS else [value]
        lines.append(f" SET {name} TO " + ", ".join("'" + p.replace("'", "''") + "'" for p in parts))
    if fn.sql_body:
        lines.append(fn.sql_body)
        return "\n".join(lines) + "\n"
    tag = "$function$"
    while tag in fn.body:
        tag = tag[:-1] + "_$"
    lines.append(f"AS {tag}{fn.body}{tag}")
    return "\n".join(lines) + "\n"


def _function_sqlbody(ctx: Any, oid: int) -> str | None:
    fn = state_of(ctx).function(int(oid))
    return fn.sql_body if fn is not None and fn.sql_body else None


_register("pg_get_function_result", (OID,), T, _function_result, needs_context=True)
_register("pg_get_function_arguments", (OID,), T, _function_arguments, needs_context=True)
_register("pg_get_function_identity_arguments", (OID,), T, _function_identity_arguments, needs_context=True)
_register("pg_get_functiondef", (OID,), T, _functiondef, needs_context=True)
_register("pg_get_function_sqlbody", (OID,), T, _function_sqlbody, needs_context=True)
_register("pg_tablespace_location", (OID,), T, lambda oid: "")


def _to_regtype(name: str) -> int | None:
    try:
        return t.lookup_name(name.strip().strip('"').removeprefix("pg_catalog."), user_types=True).oid
    except Exception:  # noqa: BLE001 - to_regtype returns NULL for an unknown type
        return None


def _to_named(parse: Callable[[CatalogState, str], int], show: Callable[[CatalogState, int], str]) -> Callable[..., Any]:
    def convert(ctx: Any, text: str) -> Any:
        state = state_of(ctx)
        try:
            oid = parse(state, text)
        except Exception:  # noqa: BLE001 - the to_reg* functions return NULL instead of raising
            return None
        return RegName(oid, show(state, oid))
    return convert


_register("to_regtype", (T,), t.REGTYPE_OID, _to_regtype)
_register("to_regnamespace", (T,), t.REGNAMESPACE_OID, _to_named(regtypes.namespace_oid, regtypes.namespace_name),
          needs_context=True)
_register("to_regrole", (T,), t.REGROLE_OID, _to_named(regtypes.role_oid, regtypes.role_name), needs_context=True)
_register("to_regproc", (T,), t.REGPROC_OID, _to_named(regtypes.proc_oid, regtypes.proc_name), needs_context=True)

# int2vector / oidvector are arrays with lower bound 0 that PostgreSQL coerces to int2[] / oid[]
_register("unnest", (t.INT2VECTOR_OID,), t.INT2_OID, lambda v: iter(v), retset=True, volatility="i")
_register("unnest", (t.OIDVECTOR_OID,), OID, lambda v: iter(v), retset=True, volatility="i")
_register("generate_subscripts", (t.INT2VECTOR_OID, I4), I4,
          lambda v, dim: iter(range(len(v)) if dim == 1 else ()), retset=True, volatility="i")
_register("generate_subscripts", (t.OIDVECTOR_OID, I4), I4,
          lambda v, dim: iter(range(len(v)) if dim == 1 else ()), retset=True, volatility="i")
_register("array_length", (t.INT2VECTOR_OID, I4), I4, lambda v, dim: (len(v) or None) if dim == 1 else None)
_register("array_upper", (t.INT2VECTOR_OID, I4), I4, lambda v, dim: (len(v) - 1 if v else None) if dim == 1 else None)
