"""CREATE / DROP FUNCTION and PROCEDURE, CREATE / DROP TRIGGER, DO and CALL: running them.

Owns the plan nodes of those statements and their catalog changes (catalog.model.Function and
Trigger rows) with PostgreSQL's checks and messages: an existing signature (42723) or OR
REPLACE's return type (42P13), ownership, a trigger's table and function, what depends on a
function (its triggers: 2BP01, or dropped with CASCADE). DO and CALL hand their code to the
session that runs the statement (session.routines), which the executor cannot import. Not
reading the statements (planner.routines) nor running the routines' bodies (session.routines).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from pgaurora.catalog.acl import initial_acl
from pgaurora.catalog.builtins.extensions import EXTENSIONS, KNOWN_UNSUPPORTED
from pgaurora.catalog.model import Extension, Function, Table, Trigger
from pgaurora.datatypes.typeinfo import format_type
from pgaurora.errors import (
    AmbiguousFunction,
    DependentObjectsStillExist,
    DuplicateFunction,
    DuplicateObject,
    FeatureNotSupported,
    InsufficientPrivilege,
    InvalidFunctionDefinition,
    InvalidObjectDefinition,
    InvalidParameterValue,
    InvalidSchemaName,
    UndefinedColumn,
    UndefinedFunction,
    UndefinedObject,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.ddlchange import dependent_triggers
from pgaurora.executor.nodes import RUNNERS
from pgaurora.executor.ownership import current_role_oid, is_superuser, require_owner
from pgaurora.executor.plannodes import PlanNode
from pgaurora.executor.privileges import require, require_create_in

TRIGGER_OID = 2279


@dataclass(frozen=True, slots=True)
class CreateFunction(PlanNode):
    schema_oid: int
    name: str
    arg_types: tuple[int, ...]
    arg_names: tuple[str, ...]
    return_type: int
    language: str
    body: str
    volatility: str = "v"
    strict: bool = False
    kind: str = "f"
    replace: bool = False
    retset: bool = False
    param_modes: tuple[str, ...] = ()
    param_types: tuple[int, ...] = ()
    param_names: tuple[str, ...] = ()
    arg_defaults: tuple[str | None, ...] = ()
    out_table: int = 0
    security_definer: bool = False
    config: tuple[str, ...] = ()
    sql_body: str = ""  # a SQL-standard body as written (RETURN ... / BEGIN ATOMIC ... END)
    notices: tuple[str, ...] = ()  # (`table.column%TYPE` types: what each became)
    aggregate: tuple[str, int, str, str | None] = ("", 0, "", None)  # (sfunc, stype, finalfunc, initcond)
    width: int = 0


@dataclass(frozen=True, slots=True)
class DropFunctions(PlanNode):
    """DROP FUNCTION / PROCEDURE / ROUTINE: (schema, name, argument types or None) each."""

    word: str
    targets: tuple[tuple[str | None, str, tuple[int, ...] | None, str], ...]
    missing_ok: bool = False
    cascade: bool = False
    width: int = 0


@dataclass(frozen=True, slots=True)
class DoBlock(PlanNode):
    source: str
    width: int = 0


@dataclass(frozen=True, slots=True)
class CallProcedure(PlanNode):
    """CALL of the procedure the planner chose: its input (IN / INOUT) parameters' values, the
    defaults of those left out filled in; a row of its OUT / INOUT parameters when it has any."""

    function_oid: int
    args: tuple[Any, ...]  # executor.expr.Expr per input parameter, in declaration order
    columns: tuple[tuple[str, int], ...] = ()  # the result row's (OUT / INOUT parameters)
    out_args: tuple[int, ...] = ()  # per result column, the call's argument it came from
    shown: str = ""  # `name(types)` as errors name the call
    width: int = 0


@dataclass(frozen=True, slots=True)
class CreateTrigger(PlanNode):
    name: str
    schema: str | None
    table: str
    function_schema: str | None
    function: str
    timing: str
    events: tuple[str, ...]
    for_each_row: bool
    columns: tuple[str, ...]
    when: str | None
    args: tuple[str, ...]
    replace: bool = False
    transitions: tuple[tuple[bool, bool, str], ...] = ()  # REFERENCING: (is NEW, is TABLE, name) each
    # CREATE CONSTRAINT TRIGGER: (DEFERRABLE, INITIALLY DEFERRED, FROM table's schema, its name)
    constraint: tuple[bool, bool, str | None, str | None] | None = None
    width: int = 0


@dataclass(frozen=True, slots=True)
class DropTrigger(PlanNode):
    schema: str | None
    table: str
    name: str
    missing_ok: bool = False
    cascade: bool = False
    width: int = 0


@dataclass(frozen=True, slots=True)
class RenameFunction(PlanNode):
    oid: int
    new_name: str
    word: str = "function"
    width: int = 0


@dataclass(frozen=True, slots=True)
class AlterFunction(PlanNode):
    """ALTER FUNCTION / PROCEDURE's options: each None when left as it is; `config` the SET /
    RESET clauses in order: ('set', name, value), ('reset', name, ''), ('reset all', '', '')."""

    oid: int
    word: str
    volatility: str | None = None
    strict: bool | None = None
    security_definer: bool | None = None
    config: tuple[tuple[str, str, str], ...] = ()
    width: int = 0


@dataclass(frozen=True, slots=True)
class SetFunctionSchema(PlanNode):
    oid: int
    word: str
    schema: str
    width: int = 0


@dataclass(frozen=True, slots=True)
class RenameTrigger(PlanNode):
    schema: str | None
    table: str
    name: str
    new_name: str
    width: int = 0


@dataclass(frozen=True, slots=True)
class SetTriggerState(PlanNode):
    """ALTER TABLE ... ENABLE / DISABLE TRIGGER name | ALL | USER: (which, tgenabled, name) each."""

    schema: str | None
    table: str
    changes: tuple[tuple[str, str, str | None], ...]
    width: int = 0


@dataclass(frozen=True, slots=True)
class CreateExtension(PlanNode):
    name: str
    schema: str | None
    version: str | None
    if_not_exists: bool = False
    width: int = 0


@dataclass(frozen=True, slots=True)
class DropExtensions(PlanNode):
    names: tuple[str, ...]
    missing_ok: bool = False
    cascade: bool = False
    width: int = 0


def signature(fn: Function | str, arg_types: tuple[int, ...] = ()) -> str:
    """`name(type, ...)` as PostgreSQL's messages show a function."""
    if isinstance(fn, Function):
        return f"{fn.name}({', '.join(format_type(t) for t in fn.arg_types)})"
    return f"{fn}({', '.join(format_type(t) for t in arg_types)})"


def _schema_of(state: Any, schema: str | None) -> None:
    if schema is not None and state.schema_oid(schema) is None:
        raise InvalidSchemaName(f'schema "{schema}" does not exist')


@ddl_runner(CreateFunction)
async def run_create_function(node: CreateFunction, env: Env) -> None:
    ctx = env.ctx
    for notice in node.notices:
        ctx.notice(notice)
    word = {"p": "procedure", "a": "aggregate"}.get(node.kind, "function")
    _tag(env, f"CREATE {word.upper()}")
    state = _state(ctx)
    require_create_in(ctx, node.schema_oid)
    existing = next((f for f in state.functions.get((node.schema_oid, node.name), ())
                     if f.arg_types == node.arg_types), None)
    catalog = ctx.catalog
    if existing is not None:
        if not node.replace:
            raise DuplicateFunction(f'{word} "{node.name}" already exists with same argument types')
        require_owner(ctx, existing, "function")
        if existing.kind != node.kind:
            raise WrongObjectType("cannot change routine kind",
                                  detail=f'"{node.name}" is a {"procedure" if existing.kind == "p" else "function"}.')
        if (existing.return_type, existing.retset, existing.out_table) != (node.return_type, node.retset,
                                                                             node.out_table):
            raise InvalidFunctionDefinition("cannot change return type of existing function",
                                            hint=f"Use DROP FUNCTION {signature(existing)} first.")
        if existing.out_columns() != tuple(
                (n, t) for m, n, t in zip(node.param_modes, node.param_names, node.param_types, strict=True)
                if m in ("o", "b", "t")):
            raise InvalidFunctionDefinition("cannot change return type of existing function",
                                            detail="Row type defined by OUT parameters is different.",
                                            hint=f"Use DROP FUNCTION {signature(existing)} first.")
        if existing.arg_names != node.arg_names and any(existing.arg_names):
            changed = next((old for old, new in zip(existing.arg_names, node.arg_names, strict=True)
                            if old and old != new), None)
            if changed is not None:
                raise InvalidFunctionDefinition(f'cannot change name of input parameter "{changed}"',
                                                hint=f"Use DROP FUNCTION {signature(existing)} first.")
        await catalog.replace(ctx.txn, replace(
            existing, arg_names=node.arg_names, language=node.language, body=node.body,
            volatility=node.volatility, strict=node.strict, param_names=node.param_names,
            arg_defaults=node.arg_defaults, security_definer=node.security_definer, config=_current(node.config, ctx),
            sql_body=node.sql_body))
        _validate(node, ctx)
        return
    owner = current_role_oid(ctx)
    fn = Function(catalog.allocate_oid(), node.name, node.schema_oid, owner, node.arg_types,
                  node.arg_names, node.return_type, node.language, node.body, node.volatility, node.strict,
                  node.kind, retset=node.retset, param_modes=node.param_modes, param_types=node.param_types,
                  param_names=node.param_names, arg_defaults=node.arg_defaults, out_table=node.out_table,
                  security_definer=node.security_definer, config=_current(node.config, ctx), sql_body=node.sql_body,
                  acl=initial_acl(state, "f", owner, node.schema_oid),  # ALTER DEFAULT PRIVILEGES
                  agg_sfunc=node.aggregate[0], agg_stype=node.aggregate[1], agg_finalfunc=node.aggregate[2],
                  agg_initcond=node.aggregate[3])
    await catalog.create(ctx.txn, fn)
    _validate(node, ctx)


def _validate(node: CreateFunction, ctx: Any) -> None:
    """check_function_bodies: a LANGUAGE sql body's statements must plan, once the function
    exists (so that it may call itself), as PostgreSQL's validator runs after the catalog row."""
    session = ctx.extra.get("session")
    if node.language == "sql" and session is not None and \
            str(ctx.settings.get("check_function_bodies", missing_ok=True) or "on") == "on":
        session.routines.validate_sql(node.body, node.arg_names, node.arg_types, ctx, node.name)


def find_functions(state: Any, schema: str | None, name: str, arg_types: tuple[int, ...] | None,
                   word: str = "function") -> list[Function]:
    """The functions a DROP / ALTER names (several only when its arguments are not given)."""
    _schema_of(state, schema)
    found = list(state.user_functions(name, schema))
    if word == "function":
        found = [f for f in found if f.kind == "f"]
    elif word == "procedure":
        found = [f for f in found if f.kind == "p"]
    elif word == "aggregate":
        found = [f for f in found if f.kind == "a"]
    if arg_types is not None:  # (a procedure is also named by all its parameters, OUT ones too)
        found = [f for f in found if f.arg_types == arg_types
                 or (f.kind == "p" and f.param_modes and f.param_types == arg_types)]
    return found


def _other_kind(state: Any, schema: str | None, name: str, arg_types: tuple[int, ...] | None, word: str) -> None:
    """42809 when the name is a function's where a procedure was named, or the other way round."""
    if word not in ("function", "procedure") or arg_types is None:
        return
    if word == "function" and find_functions(state, schema, name, arg_types, "aggregate"):
        raise WrongObjectType(f'"{name}" is an aggregate function',
                              hint="Use DROP AGGREGATE to drop aggregate functions.")
    other = find_functions(state, schema, name, arg_types, "procedure" if word == "function" else "function")
    if other:
        shown = f"{schema}.{name}" if schema else name
        raise WrongObjectType(f"{signature(shown, arg_types)} is not a {word}")


def one_function(state: Any, schema: str | None, name: str, arg_types: tuple[int, ...] | None,
                 word: str = "function") -> Function:
    """The one function a statement names (ALTER, COMMENT ON, GRANT): 42883 if none, 42725 if
    its arguments are left out and several have its name."""
    found = find_functions(state, schema, name, arg_types, word)
    shown_name = f"{schema}.{name}" if schema else name
    if not found:
        _other_kind(state, schema, name, arg_types, word)
        if arg_types is None:
            raise UndefinedFunction(f'could not find a {word} named "{shown_name}"')
        raise UndefinedFunction(f"{word} {signature(shown_name, arg_types)} does not exist")
    if len(found) > 1:
        raise AmbiguousFunction(f'{word} name "{shown_name}" is not unique',
                                hint=f"Specify the argument list to select the {word} unambiguously.")
    return found[0]


@ddl_runner(DropFunctions)
async def run_drop_functions(node: DropFunctions, env: Env) -> None:
    ctx = env.ctx
    _tag(env, f"DROP {node.word.upper()}")
    for schema, name, arg_types, written in node.targets:
        state = _state(ctx)
        if arg_types is not None and 0 in arg_types:  # (IF EXISTS: a type that does not exist either)
            missing = written.split(", ")[arg_types.index(0)]
            ctx.notice(f'type "{missing}" does not exist, skipping')
            continue
        found = find_functions(state, schema, name, arg_types, node.word)
        shown_name = f"{schema}.{name}" if schema else name
        if not found:
            _other_kind(state, schema, name, arg_types, node.word)
            shown = signature(shown_name, arg_types or ())
            if node.missing_ok:
                ctx.notice(f"{node.word} {shown_name}({written}) does not exist, skipping")
                continue
            if arg_types is None:
                raise UndefinedFunction(f'could not find a {node.word} named "{shown_name}"')
            raise UndefinedFunction(f"{node.word} {shown} does not exist")
        if len(found) > 1:
            raise AmbiguousFunction(f'{node.word} name "{shown_name}" is not unique',
                                    hint=f"Specify the argument list to select the {node.word} unambiguously.")
        fn = found[0]
        require_owner(ctx, fn, "function", or_schema_owner=True)
        dependents = dependent_triggers(state, fn)
        if dependents:
            lines = [f"trigger {t.name} on table {table.name}" for t, table in dependents]
            if not node.cascade:
                raise DependentObjectsStillExist(
                    f"cannot drop function {signature(fn)} because other objects depend on it",
                    detail="\n".join(f"{line} depends on function {signature(fn)}" for line in lines),
                    hint="Use DROP ... CASCADE to drop the dependent objects too.")
            ctx.notice(f"drop cascades to {lines[0]}" if len(lines) == 1
                       else "drop cascades to {} other objects\nDETAIL:  {}".format(
                           len(lines), "\n".join(f"drop cascades to {line}" for line in lines)))
        await ctx.catalog.remove(ctx.txn, *(t.oid for t, _ in dependents), fn.oid)


@ddl_runner(DoBlock)
async def run_do(node: DoBlock, env: Env) -> None:
    _tag(env, "DO")
    session = env.ctx.extra.get("session")
    if session is None:
        raise FeatureNotSupported("DO is not supported here")
    await session.routines.run_do(node.source, env.ctx)


async def run_call(node: CallProcedure, env: Env) -> AsyncIterator[list[tuple[Any, ...]]]:
    _tag(env, "CALL")
    session = env.ctx.extra.get("session")
    if session is None:
        raise FeatureNotSupported("CALL is not supported here")
    evaluate, _ = compile_exprs(node.args)
    row = await session.routines.call_procedure(node.function_oid, evaluate((), env), env.ctx, node.shown)
    if node.columns:
        yield [row]


RUNNERS[CallProcedure] = run_call


@ddl_runner(CreateTrigger)
async def run_create_trigger(node: CreateTrigger, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "CREATE TRIGGER")
    state = _state(ctx)
    _schema_of(state, node.schema)
    rel = state.relation(node.table, node.schema)
    shown = f"{node.schema}.{node.table}" if node.schema else node.table
    if rel is None:
        raise UndefinedTable(f'relation "{shown}" does not exist')
    is_view = type(rel).__name__ == "View"
    if not is_view and (not isinstance(rel, Table) or rel.kind not in ("r", "p")):
        raise WrongObjectType(f'"{node.table}" is not a table or view')
    if node.timing == "instead" and not is_view:
        raise WrongObjectType(f'"{node.table}" is a table', detail="Tables cannot have INSTEAD OF triggers.")
    if is_view and node.timing != "instead":
        if node.for_each_row:
            raise WrongObjectType(f'"{node.table}" is a view',
                                  detail="Views cannot have row-level BEFORE or AFTER triggers.")
        raise FeatureNotSupported("statement-level triggers on views are not supported")
    if node.timing == "instead":
        if not node.for_each_row:
            raise FeatureNotSupported("INSTEAD OF triggers must be FOR EACH ROW")
        if node.when is not None:
            raise FeatureNotSupported("INSTEAD OF triggers cannot have WHEN conditions")
        if node.columns:
            raise FeatureNotSupported("INSTEAD OF triggers cannot have column lists")
    if "truncate" in node.events and node.for_each_row:
        raise FeatureNotSupported("TRUNCATE FOR EACH ROW triggers are not supported")
    old_table, new_table = _transition_tables(node, rel, is_view)
    if node.when is not None and not node.for_each_row:
        raise FeatureNotSupported("statement triggers with a WHEN condition are not supported")
    require(ctx, rel, "t")
    candidates = [f for f in find_functions(state, node.function_schema, node.function, (), "function")]
    fshown = f"{node.function_schema}.{node.function}" if node.function_schema else node.function
    if not candidates:
        raise UndefinedFunction(f"function {fshown}() does not exist")
    fn = candidates[0]
    if fn.return_type != TRIGGER_OID:
        raise InvalidObjectDefinition(f"function {fshown} must return type trigger")
    require(ctx, fn, "X")
    columns: list[int] = []
    for name in node.columns:
        col = next((c for c in getattr(rel, "columns", ()) if c.name == name and not c.dropped), None)
        if col is None:
            raise UndefinedColumn(f'column "{name}" of relation "{node.table}" does not exist')
        if col.attnum in columns:
            raise DuplicateObject(f'column "{name}" specified more than once', sqlstate="42701")
        columns.append(col.attnum)
    existing = next((t for t in state.triggers.get(rel.oid, ()) if t.name == node.name), None)
    constraint_fields: dict[str, Any] = {}
    if node.constraint is not None:
        deferrable, initially_deferred, from_schema, from_name = node.constraint
        from_table = 0
        if from_name is not None:
            source = state.relation(from_name, from_schema)
            if source is None:
                raise UndefinedTable(f'relation "{from_name}" does not exist')
            from_table = source.oid
        constraint_fields = {"constraint_oid": ctx.catalog.allocate_oid(), "from_table": from_table,
                             "deferrable": deferrable, "initially_deferred": initially_deferred}
    trigger = Trigger(existing.oid if existing is not None else ctx.catalog.allocate_oid(), node.name, rel.oid,
                      fn.oid, node.timing, node.events, node.for_each_row, tuple(columns), node.when, node.args,
                      old_table=old_table, new_table=new_table, **constraint_fields)
    if existing is not None:
        if not node.replace:
            raise DuplicateObject(f'trigger "{node.name}" for relation "{node.table}" already exists')
        await ctx.catalog.replace(ctx.txn, trigger)
        return
    await ctx.catalog.create(ctx.txn, trigger)


def _transition_tables(node: CreateTrigger, rel: Any, is_view: bool) -> tuple[str, str]:
    """REFERENCING OLD / NEW TABLE AS name: the two names ('' when absent), checked as PostgreSQL's
    CreateTrigger checks them, in its order."""
    old_table = new_table = ""
    for is_new, is_table, name in node.transitions:
        if not is_table:
            raise FeatureNotSupported("ROW variable naming in the REFERENCING clause is not supported",
                                      hint="Use OLD TABLE or NEW TABLE for naming transition tables.")
        if is_view:
            raise WrongObjectType(f'"{node.table}" is a view', detail="Triggers on views cannot have transition tables.")
        if isinstance(rel, Table) and rel.kind == "p":
            raise FeatureNotSupported("transition tables on partitioned tables are not supported")
        if node.timing != "after":
            raise InvalidObjectDefinition("transition table name can only be specified for an AFTER trigger")
        if "truncate" in node.events:
            raise FeatureNotSupported("TRUNCATE triggers with transition tables are not supported")
        if len(node.events) > 1:
            raise FeatureNotSupported("transition tables cannot be specified for triggers with more than one event")
        if node.columns:
            raise FeatureNotSupported("transition tables cannot be specified for triggers with column lists")
        if is_new:
            if not {"insert", "update"} & set(node.events):
                raise InvalidObjectDefinition("NEW TABLE can only be specified for an INSERT or UPDATE trigger")
            if new_table:
                raise InvalidObjectDefinition("NEW TABLE cannot be specified multiple times")
            new_table = name
        else:
            if not {"delete", "update"} & set(node.events):
                raise InvalidObjectDefinition("OLD TABLE can only be specified for a DELETE or UPDATE trigger")
            if old_table:
                raise InvalidObjectDefinition("OLD TABLE cannot be specified multiple times")
            old_table = name
    if old_table and old_table == new_table:
        raise InvalidObjectDefinition("OLD TABLE name and NEW TABLE name cannot be the same")
    return old_table, new_table


@ddl_runner(DropTrigger)
async def run_drop_trigger(node: DropTrigger, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "DROP TRIGGER")
    state = _state(ctx)
    _schema_of(state, node.schema)
    rel = state.relation(node.table, node.schema)
    shown = f"{node.schema}.{node.table}" if node.schema else node.table
    if not isinstance(rel, Table) and type(rel).__name__ != "View":
        if node.missing_ok:
            ctx.notice(f'relation "{shown}" does not exist, skipping')
            return
        raise UndefinedTable(f'relation "{shown}" does not exist')
    trigger = next((t for t in state.triggers.get(rel.oid, ()) if t.name == node.name), None)
    if trigger is None:
        if node.missing_ok:
            ctx.notice(f'trigger "{node.name}" for relation "{shown}" does not exist, skipping')
            return
        raise UndefinedObject(f'trigger "{node.name}" for table "{node.table}" does not exist')
    require_owner(ctx, rel)
    await ctx.catalog.remove(ctx.txn, trigger.oid)


def _table_for(state: Any, schema: str | None, name: str) -> Table:
    _schema_of(state, schema)
    rel = state.relation(name, schema)
    if not isinstance(rel, Table):
        shown = f"{schema}.{name}" if schema else name
        raise UndefinedTable(f'relation "{shown}" does not exist')
    return rel


@ddl_runner(RenameFunction)
async def run_rename_function(node: RenameFunction, env: Env) -> None:
    ctx = env.ctx
    _tag(env, f"ALTER {node.word.upper()}")
    state = _state(ctx)
    fn = state.function(node.oid)
    if fn is None:
        raise UndefinedFunction(f"function with OID {node.oid} does not exist")
    require_owner(ctx, fn, "function")
    if any(f.arg_types == fn.arg_types for f in state.functions.get((fn.schema_oid, node.new_name), ())):
        schema = next((s.name for s in state.schemas.values() if s.oid == fn.schema_oid), "public")
        raise DuplicateFunction(f'function {signature(node.new_name, fn.arg_types)} already exists in schema "{schema}"')
    await ctx.catalog.replace(ctx.txn, replace(fn, name=node.new_name))


def _current(config: tuple[str, ...], ctx: Any) -> tuple[str, ...]:
    """SET clauses with SET ... FROM CURRENT's value read from the session now."""
    out = []
    for item in config:
        name, _, value = item.partition("=")
        if value == "\x00current":
            value = str(ctx.settings.get(name))
        out.append(f"{name}={value}")
    return tuple(out)


@ddl_runner(AlterFunction)
async def run_alter_function(node: AlterFunction, env: Env) -> None:
    ctx = env.ctx
    _tag(env, f"ALTER {node.word.upper()}")
    fn = _state(ctx).function(node.oid)
    if fn is None:
        raise UndefinedFunction(f"function with OID {node.oid} does not exist")
    require_owner(ctx, fn, "function")
    config = list(fn.config)
    for op, name, value in node.config:
        if op == "reset all":
            config = []
            continue
        config = [item for item in config if item.partition("=")[0].lower() != name.lower()]
        if op == "set":
            config.extend(_current((f"{name}={value}",), ctx))
    await ctx.catalog.replace(ctx.txn, replace(
        fn, volatility=node.volatility if node.volatility is not None else fn.volatility,
        strict=node.strict if node.strict is not None else fn.strict,
        security_definer=node.security_definer if node.security_definer is not None else fn.security_definer,
        config=tuple(config)))


@ddl_runner(SetFunctionSchema)
async def run_set_function_schema(node: SetFunctionSchema, env: Env) -> None:
    ctx = env.ctx
    _tag(env, f"ALTER {node.word.upper()}")
    state = _state(ctx)
    fn = state.function(node.oid)
    if fn is None:
        raise UndefinedFunction(f"function with OID {node.oid} does not exist")
    schema = next((s for s in state.schemas.values() if s.name == node.schema), None)
    if schema is None:
        raise UndefinedObject(f'schema "{node.schema}" does not exist', sqlstate="3F000")
    require_owner(ctx, fn, "function")
    require_create_in(ctx, schema.oid)
    if schema.oid == fn.schema_oid:
        return
    if any(f.arg_types == fn.arg_types for f in state.functions.get((schema.oid, fn.name), ())):
        raise DuplicateFunction(f'function {signature(fn.name, fn.arg_types)} already exists in schema "{schema.name}"')
    await ctx.catalog.replace(ctx.txn, replace(fn, schema_oid=schema.oid))


@ddl_runner(RenameTrigger)
async def run_rename_trigger(node: RenameTrigger, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER TRIGGER")
    state = _state(ctx)
    table = _table_for(state, node.schema, node.table)
    require_owner(ctx, table)
    triggers = state.triggers.get(table.oid, ())
    found = next((t for t in triggers if t.name == node.name), None)
    if found is None:
        raise UndefinedObject(f'trigger "{node.name}" for table "{node.table}" does not exist')
    if any(t.name == node.new_name for t in triggers):
        raise DuplicateObject(f'trigger "{node.new_name}" for relation "{node.table}" already exists')
    await ctx.catalog.replace(ctx.txn, replace(found, name=node.new_name))


@ddl_runner(SetTriggerState)
async def run_set_trigger_state(node: SetTriggerState, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "ALTER TABLE")
    state = _state(ctx)
    table = _table_for(state, node.schema, node.table)
    require_owner(ctx, table)
    for which, enabled, name in node.changes:
        triggers = _state(ctx).triggers.get(table.oid, ())
        if which == "one":
            chosen = [t for t in triggers if t.name == name]
            if not chosen:
                raise UndefinedObject(f'trigger "{name}" for table "{node.table}" does not exist')
        else:
            chosen = list(triggers)  # (ALL would also cover the foreign keys' internal triggers)
        changed = [replace(t, enabled=enabled) for t in chosen if t.enabled != enabled]
        if changed:
            await ctx.catalog.replace(ctx.txn, *changed)


@ddl_runner(CreateExtension)
async def run_create_extension(node: CreateExtension, env: Env) -> None:
    """CREATE EXTENSION of one of catalog.builtins.extensions' (plpgsql is always there)."""
    ctx = env.ctx
    _tag(env, "CREATE EXTENSION")
    state = _state(ctx)
    known = EXTENSIONS.get(node.name)
    if node.name in state.extensions or node.name == "plpgsql":
        if node.if_not_exists:
            ctx.notice(f'extension "{node.name}" already exists, skipping')
            return
        raise DuplicateObject(f'extension "{node.name}" already exists')
    if known is None:
        if node.name in KNOWN_UNSUPPORTED:
            raise FeatureNotSupported(f'extension "{node.name}" is not supported by pgaurora')
        raise FeatureNotSupported(
            f'extension "{node.name}" is not available',
            detail=f'Could not open extension control file "/usr/share/postgresql/15/extension/{node.name}.control": '
                   "No such file or directory.",
            hint="The extension must first be installed on the system where PostgreSQL is running.")
    if node.version is not None and node.version != known.version:
        raise InvalidParameterValue(f'extension "{node.name}" has no installation script nor update path for '
                                    f'version "{node.version}"')
    if node.schema is not None:
        schema_oid = state.schema_oid(node.schema)
        if schema_oid is None:
            raise InvalidSchemaName(f'schema "{node.schema}" does not exist')
    else:
        schema_oid = state.creation_schema_oid()
        if schema_oid is None:
            raise InvalidSchemaName("no schema has been selected to create in")
    require_create_in(ctx, schema_oid)
    if not is_superuser(ctx):  # (trusted extensions aside, as PostgreSQL without them)
        raise InsufficientPrivilege(f'permission denied to create extension "{node.name}"',
                                    hint="Must be superuser to create this extension.")
    await ctx.catalog.create(ctx.txn, Extension(ctx.catalog.allocate_oid(), node.name, schema_oid,
                                                current_role_oid(ctx), known.version))


@ddl_runner(DropExtensions)
async def run_drop_extensions(node: DropExtensions, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "DROP EXTENSION")
    for name in node.names:
        state = _state(ctx)
        found = state.extensions.get(name)
        if found is None:
            if name == "plpgsql":
                raise FeatureNotSupported("DROP EXTENSION plpgsql is not supported (PL/pgSQL is built in)")
            if node.missing_ok:
                ctx.notice(f'extension "{name}" does not exist, skipping')
                continue
            raise UndefinedObject(f'extension "{name}" does not exist')
        require_owner(ctx, found, "extension")
        await ctx.catalog.remove(ctx.txn, found.oid)
