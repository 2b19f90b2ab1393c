"""CREATE / DROP FUNCTION and PROCEDURE, DO, CALL, CREATE / DROP TRIGGER: reading the statements.

Owns turning those statements into executor.routines' plan nodes: argument and result types
looked up, the language, volatility and body read from the options, a PL/pgSQL body parsed now
(pglast.parse_plpgsql) so that a syntax error is reported by CREATE FUNCTION as PostgreSQL's
validator reports it, a trigger's timing, events and WHEN text, with PostgreSQL's errors for
what is malformed or not built. Not running them (executor.routines, session.routines).
"""

from __future__ import annotations

from typing import Any

import pglast

from pgaurora import datatypes
from pgaurora.catalog.builtins.registry import FunctionDef
from pgaurora.catalog.builtins.resolution import choose
from pgaurora.datatypes import typeinfo
from pgaurora.errors import (
    DatatypeMismatch,
    FeatureNotSupported,
    InvalidFunctionDefinition,
    SyntaxError_,
    UndefinedColumn,
    UndefinedFunction,
    UndefinedObject,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.routines import (
    AlterFunction,
    CallProcedure,
    CreateExtension,
    CreateFunction,
    CreateTrigger,
    DoBlock,
    DropExtensions,
    DropFunctions,
    DropTrigger,
    RenameFunction,
    RenameTrigger,
    SetFunctionSchema,
    SetTriggerState,
    one_function,
)
from pgaurora.planner.ddl import DdlPlanner
from pgaurora.planner.exprbind import (
    Level,
    _default_node,
    bind,
    leftmost_location,
    names_of,
    schema_and_name,
    type_from_name,
)
from pgaurora.planner.plpgsql_blocks import mark_row_types
from pgaurora.planner.resolve import coerce
from pgaurora.planner.scope import Scope

LANGUAGES = ("sql", "plpgsql")
FROM_CURRENT = "\x00current"  # a SET clause's value taken from the session when CREATE / ALTER runs
_ROUTINE_WORDS = {"OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "procedure", "OBJECT_ROUTINE": "routine",
                  "OBJECT_AGGREGATE": "aggregate"}
# ALTER TABLE ... ENABLE / DISABLE TRIGGER: subtype -> (which: one, all, user; tgenabled)
_TRIGGER_TOGGLES = {
    "AT_EnableTrig": ("one", "O"), "AT_DisableTrig": ("one", "D"), "AT_EnableTrigAll": ("all", "O"),
    "AT_DisableTrigAll": ("all", "D"), "AT_EnableTrigUser": ("user", "O"), "AT_DisableTrigUser": ("user", "D"),
    "AT_EnableAlwaysTrig": ("one", "A"), "AT_EnableReplicaTrig": ("one", "R"),
}
_TRIGGER_TIMING = {2: "before", 64: "instead", 0: "after"}
_TRIGGER_EVENTS = ((4, "insert"), (8, "delete"), (16, "update"), (32, "truncate"))


def plan_routine_statement(ddl: DdlPlanner, kind: str, body: dict[str, Any]) -> tuple[Any, str] | None:
    """The plan node and command tag of a routine or trigger statement; None for any other."""
    if kind == "CreateFunctionStmt":
        node = _create_function(ddl, body)
        return node, "CREATE PROCEDURE" if node.kind == "p" else "CREATE FUNCTION"
    if kind == "DropStmt" and body.get("removeType") in _ROUTINE_WORDS:
        word = _ROUTINE_WORDS[body["removeType"]]
        targets = tuple(_signature(ddl, obj["ObjectWithArgs"]) for obj in body.get("objects", ()))
        return (DropFunctions(word, targets, bool(body.get("missing_ok")), body.get("behavior") == "DROP_CASCADE"),
                f"DROP {word.upper()}")
    if kind == "DefineStmt" and body.get("kind") == "OBJECT_AGGREGATE":
        return _create_aggregate(ddl, body), "CREATE AGGREGATE"
    if kind == "DoStmt":
        return _do(body, ddl), "DO"
    if kind == "CallStmt":
        return _call(ddl, body), "CALL"
    if kind == "CreateTrigStmt":
        return _create_trigger(ddl, body), "CREATE TRIGGER"
    if kind == "RenameStmt" and body.get("renameType") in _ROUTINE_WORDS:
        word = _ROUTINE_WORDS[body["renameType"]]
        fn = function_for(ddl, body["object"]["ObjectWithArgs"], word)
        return RenameFunction(fn.oid, body["newname"], word), f"ALTER {word.upper()}"
    if kind == "AlterFunctionStmt":
        alter = _alter_function(ddl, body)
        return alter, f"ALTER {alter.word.upper()}"
    if kind == "RenameStmt" and body.get("renameType") == "OBJECT_TRIGGER":
        relation = body["relation"]
        return (RenameTrigger(relation.get("schemaname"), relation["relname"], body["subname"], body["newname"]),
                "ALTER TRIGGER")
    if kind == "AlterTableStmt" and body.get("cmds") and all(
            c["AlterTableCmd"]["subtype"] in _TRIGGER_TOGGLES for c in body["cmds"]):
        relation = body["relation"]
        changes = tuple((*_TRIGGER_TOGGLES[c["AlterTableCmd"]["subtype"]], c["AlterTableCmd"].get("name"))
                        for c in body["cmds"])
        return SetTriggerState(relation.get("schemaname"), relation["relname"], changes), "ALTER TABLE"
    if kind == "CreateExtensionStmt":
        options = {d["DefElem"]["defname"]: d["DefElem"].get("arg") for d in body.get("options", ())}
        schema = options["schema"]["String"]["sval"] if options.get("schema") else None
        version = options["new_version"]["String"]["sval"] if options.get("new_version") else None
        return (CreateExtension(body["extname"], schema, version, bool(body.get("if_not_exists"))),
                "CREATE EXTENSION")
    if kind == "DropStmt" and body.get("removeType") == "OBJECT_EXTENSION":
        extensions = tuple(o["String"]["sval"] for o in body.get("objects", ()))
        return (DropExtensions(extensions, bool(body.get("missing_ok")), body.get("behavior") == "DROP_CASCADE"),
                "DROP EXTENSION")
    if kind == "AlterExtensionStmt":
        raise FeatureNotSupported("ALTER EXTENSION is not supported")
    if kind == "DropStmt" and body.get("removeType") == "OBJECT_TRIGGER":
        items = body["objects"][0]["List"]["items"]
        names = [i["String"]["sval"] for i in items]
        schema = names[0] if len(names) > 2 else None
        return (DropTrigger(schema, names[-2], names[-1], bool(body.get("missing_ok")),
                            body.get("behavior") == "DROP_CASCADE"), "DROP TRIGGER")
    return None


def _options(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in body.get("options", ()):
        d = item["DefElem"]
        name = d["defname"]
        if name == "set":  # (SET clauses may repeat)
            out.setdefault("set", []).append(d.get("arg"))
            continue
        if name in out:
            raise SyntaxError_("conflicting or redundant options")
        out[name] = d.get("arg")
    return out


def _config(sets: list[dict[str, Any]]) -> tuple[str, ...]:
    """A function's SET clauses as pg_proc.proconfig keeps them: 'name=value'."""
    out: list[str] = []
    for node in sets:
        stmt = node["VariableSetStmt"]
        if stmt.get("kind") == "VAR_SET_CURRENT":  # (the value in force when the statement runs)
            out.append(f"{stmt['name']}={FROM_CURRENT}")
            continue
        if stmt.get("kind") != "VAR_SET_VALUE":
            raise FeatureNotSupported("RESET in a function definition is not supported")
        values = []
        for arg in stmt.get("args", ()):
            const = arg.get("A_Const", {})
            value = next((v for k, v in const.items() if k in ("sval", "ival", "fval", "boolval")), None)
            if isinstance(value, dict):
                value = next(iter(value.values()), 0)
            values.append(str(value).lower() if isinstance(value, bool) else str(value))
        out.append(f"{stmt['name']}={', '.join(values)}")
    return tuple(out)


def _create_function(ddl: DdlPlanner, body: dict[str, Any]) -> CreateFunction:
    schema, name = schema_and_name(body["funcname"])
    if schema == "pg_temp":
        raise UndefinedObject('schema "pg_temp" does not exist', sqlstate="3F000")
    procedure = bool(body.get("is_procedure"))
    options = _options(body)
    standard = body.get("sql_body") is not None
    language_node = options.get("language")
    if language_node is None and not standard:
        raise InvalidFunctionDefinition("no language specified")
    language = language_node["String"]["sval"].lower() if language_node is not None else "sql"
    if standard and language != "sql":
        raise InvalidFunctionDefinition("inline SQL function body only valid for language SQL")
    if language in ("c", "internal"):
        raise FeatureNotSupported(f"functions in language {language} are not supported")
    if language not in LANGUAGES:
        raise UndefinedObject(f'language "{language}" does not exist',
                              hint="Use CREATE EXTENSION to load the language into the database.")
    arg_types: list[int] = []
    arg_names: list[str] = []
    defaults: list[str | None] = []
    modes: list[str] = []
    param_types: list[int] = []
    param_names: list[str] = []
    notices: list[str] = []  # `table.column%TYPE` written for a type: what it became
    tree = None
    for n, param in enumerate(body.get("parameters", ())):
        p = param["FunctionParameter"]
        mode = _MODES.get(p.get("mode", "FUNC_PARAM_DEFAULT"))
        if mode is None:
            raise FeatureNotSupported(f"{_MODE_WORDS.get(p.get('mode', ''), p.get('mode'))} parameters are not supported")
        oid = _column_type(ddl, p["argType"], notices)
        if oid is None:
            oid, _ = type_from_name(p["argType"], ddl.pos)
        if oid == typeinfo.TRIGGER_OID:
            raise InvalidFunctionDefinition("PL/pgSQL functions cannot accept type trigger"
                                            if language == "plpgsql" else "SQL functions cannot have arguments of type trigger")
        modes.append(mode)
        param_types.append(oid)
        param_names.append(p.get("name", ""))
        if mode == "v" and not typeinfo.element_of(oid):
            raise InvalidFunctionDefinition("VARIADIC parameter must be an array")
        if mode in ("i", "b", "v") and "v" in modes[:-1]:
            raise InvalidFunctionDefinition("VARIADIC parameter must be the last input parameter")
        if mode in ("i", "b", "v"):
            arg_types.append(oid)
            arg_names.append(p.get("name", ""))
            if p.get("defexpr") is not None:
                if tree is None:
                    tree = _object_tree(ddl)
                defaults.append(_deparse(tree.parameters[n].defexpr))
            elif any(d is not None for d in defaults):
                raise InvalidFunctionDefinition("input parameters after one with a default value must also have defaults")
            else:
                defaults.append(None)
        elif p.get("defexpr") is not None:
            raise InvalidFunctionDefinition("only input parameters can have default values")
    named = [n for n in param_names if n]
    if len(set(named)) != len(named):
        dup = next(n for n in named if named.count(n) > 1)
        raise InvalidFunctionDefinition(f'parameter name "{dup}" used more than once')
    outs = [(n, t) for m, n, t in zip(modes, param_names, param_types, strict=True) if m in ("o", "b", "t")]
    returns = body.get("returnType")
    retset = bool(returns and returns.get("setof"))
    out_table = 0
    if procedure:  # (a row of its OUT / INOUT parameters is a record, as PostgreSQL's prorettype)
        return_type = typeinfo.RECORD_OID if outs else typeinfo.VOID_OID
    elif returns is None:
        if not outs:
            raise InvalidFunctionDefinition("function result type must be specified")
        return_type = outs[0][1] if len(outs) == 1 else typeinfo.RECORD_OID
    else:
        return_type, out_table = _result_type(ddl, returns, notices)
        if out_table and outs:
            raise InvalidFunctionDefinition("function result type must be record because of OUT parameters")
        if outs:
            wanted = outs[0][1] if len(outs) == 1 else typeinfo.RECORD_OID
            if return_type != wanted:
                raise InvalidFunctionDefinition(
                    f"function result type must be {typeinfo.format_type(wanted)} because of OUT parameters")
        if return_type == typeinfo.TRIGGER_OID and language == "sql":
            raise InvalidFunctionDefinition("SQL functions cannot return type trigger")
        if return_type == typeinfo.TRIGGER_OID and arg_types:
            raise InvalidFunctionDefinition("trigger functions cannot have declared arguments",
                                            hint="The arguments of the trigger can be accessed through TG_NARGS and TG_ARGV instead.")
    all_in = all(m == "i" for m in modes)
    as_node = options.get("as")
    sql_body = ""
    if standard:
        if as_node is not None:
            raise InvalidFunctionDefinition("duplicate function body specified")
        source, sql_body = _standard_body(ddl)
    elif as_node is None:
        raise InvalidFunctionDefinition("no function body specified")
    else:
        items = as_node["List"]["items"]
        if len(items) != 1:
            raise InvalidFunctionDefinition(f"only one AS item needed for language \"{language}\"")
        source = items[0]["String"]["sval"]
    volatility = "v"
    if (v := options.get("volatility")) is not None:
        volatility = v["String"]["sval"][0]
    strict = bool(options.get("strict", {}).get("Boolean", {}).get("boolval", False)) if "strict" in options else False
    definer = bool(options.get("security", {}).get("Boolean", {}).get("boolval", False)) if "security" in options else False
    config = _config(options.get("set", []))
    if language == "plpgsql":
        check_plpgsql(str(ddl.stmt.text), source, ddl.qc.catalog)  # (pglast parses the whole CREATE FUNCTION)
    else:
        check_sql_body(source)
    schema_oid = ddl.schema_oid({"schemaname": schema} if schema else {})
    return CreateFunction(schema_oid, name, tuple(arg_types), tuple(arg_names), return_type, language, source,
                          volatility, strict, "p" if procedure else "f", bool(body.get("replace")), retset,
                          () if all_in else tuple(modes), () if all_in else tuple(param_types),
                          () if all_in else tuple(param_names),
                          tuple(defaults) if any(d is not None for d in defaults) else (), out_table, definer, config,
                          sql_body, tuple(notices))


def _standard_body(ddl: DdlPlanner) -> tuple[str, str]:
    """A SQL-standard body's statements as the SQL text the function runs, and the body as
    pg_get_function_sqlbody shows it (`RETURN expr`, or `BEGIN ATOMIC` / one statement a line /
    `END`)."""
    node = _object_tree(ddl).sql_body
    if node.__class__.__name__ == "ReturnStmt":
        expr = _deparse(node.returnval)
        return f"SELECT {expr}", f"RETURN {expr}"
    statements = [s for group in node for s in (group or ())]
    run: list[str] = []
    shown: list[str] = []
    for s in statements:
        if s.__class__.__name__ == "ReturnStmt":
            expr = _deparse(s.returnval)
            run.append(f"SELECT {expr}")
            shown.append(f"RETURN {expr}")
        else:
            run.append(_deparse(s))
            shown.append(run[-1])
    return "; ".join(run), "BEGIN ATOMIC\n" + "".join(f" {s};\n" for s in shown) + "END"


def _create_aggregate(ddl: DdlPlanner, body: dict[str, Any]) -> CreateFunction:
    """CREATE AGGREGATE name (argument types) (SFUNC = f, STYPE = t [, FINALFUNC = g] [, INITCOND =
    'x']) (also the old BASETYPE form): a pg_proc row of kind 'a' whose calls session-less
    planning turns into a state transition per row (planner.exprbind). The transition function
    must exist for (state type, argument types) and return the state type, as PostgreSQL checks."""
    from pgaurora.planner.exprbind import schema_and_name

    schema, name = schema_and_name(body["defnames"])
    options = {d["DefElem"]["defname"].lower(): d["DefElem"].get("arg") for d in body.get("definition", ())}
    arg_types: list[int] = []
    if body.get("args"):
        for item in body["args"][0].get("List", {}).get("items", ()):
            arg_types.append(type_from_name(item["FunctionParameter"]["argType"], ddl.pos)[0])
    elif options.get("basetype") is not None:
        base = type_from_name(options["basetype"]["TypeName"], ddl.pos)[0]
        arg_types = [] if base == typeinfo.ANY_OID else [base]
    if options.get("sfunc") is None:
        raise InvalidFunctionDefinition("aggregate sfunc must be specified")
    if options.get("stype") is None:
        raise InvalidFunctionDefinition("aggregate stype must be specified")
    known = {"sfunc", "stype", "finalfunc", "initcond", "basetype", "combinefunc", "parallel", "sspace",
             "serialfunc", "deserialfunc", "finalfunc_modify", "finalfunc_extra", "msfunc", "minvfunc", "mstype",
             "msspace", "mfinalfunc", "mfinalfunc_extra", "mfinalfunc_modify", "minitcond", "sortop", "hypothetical"}
    for option in options:
        if option not in known:
            raise SyntaxError_(f'aggregate attribute "{option}" not recognized')
    stype = type_from_name(options["stype"]["TypeName"], ddl.pos)[0]
    sfunc = ".".join(names_of(options["sfunc"]["TypeName"]["names"]))
    finalfunc = ".".join(names_of(options["finalfunc"]["TypeName"]["names"])) if options.get("finalfunc") else ""
    initcond = options["initcond"].get("String", {}).get("sval", "") if options.get("initcond") else None
    state = ddl.qc.catalog
    concrete = tuple(arg_types)
    transition = aggregate_function(state, sfunc, (stype, *concrete))
    if transition is None:
        shown = ", ".join(typeinfo.format_type(t) for t in (stype, *concrete))
        raise UndefinedFunction(f"function {sfunc}({shown}) does not exist")
    if transition.return_oid != stype and stype not in typeinfo.POLYMORPHIC_OIDS:
        raise DatatypeMismatch(f"return type of transition function {sfunc} is not {typeinfo.format_type(stype)}")
    return_type = stype
    if finalfunc:
        final = aggregate_function(state, finalfunc, (stype,))
        if final is None:
            raise UndefinedFunction(f"function {finalfunc}({typeinfo.format_type(stype)}) does not exist")
        return_type = final.return_oid
    if initcond is not None and stype not in typeinfo.POLYMORPHIC_OIDS:
        datatypes.parse_value(initcond, stype)  # (22P02 now, not at the first call)
    schema_oid = ddl.schema_oid({"schemaname": schema} if schema else {})
    return CreateFunction(schema_oid, name, concrete, ("",) * len(concrete), return_type, "internal", "",
                          "i", False, "a", aggregate=(sfunc, stype, finalfunc, initcond))


def aggregate_function(state: Any, name: str, oids: tuple[int, ...]) -> Any:
    """The function (built-in or CREATE FUNCTION's) an aggregate names for `oids`, or None."""
    from pgaurora.catalog import builtins
    from pgaurora.planner.resolve import user_function

    schema, _, bare = name.rpartition(".")
    found = builtins.resolve_function(bare, oids) if schema in ("", "pg_catalog") else None
    if found is None and schema != "pg_catalog":
        found = user_function(state, bare, schema or None, oids)
    if found is None and schema in ("", "pg_catalog") and len(oids) == 2:
        found = _operator_function(bare, oids)
    return found


# PostgreSQL's functions behind operators, which aggregates name as their transition functions
# (int4pl for +, int4larger for the larger of two): pgaurora has the operators, not those names
_OPERATOR_FUNCTIONS = {
    "int2pl": "+", "int4pl": "+", "int8pl": "+", "float4pl": "+", "float8pl": "+", "numeric_add": "+",
    "int4mi": "-", "int8mi": "-", "numeric_sub": "-", "float8mi": "-",
    "int2mul": "*", "int4mul": "*", "int8mul": "*", "float4mul": "*", "float8mul": "*", "numeric_mul": "*",
    "textcat": "||", "array_cat": "||", "interval_pl": "+",
}
_EXTREMES = ("int2larger", "int4larger", "int8larger", "float4larger", "float8larger", "numeric_larger",
             "text_larger", "date_larger", "timestamp_larger", "timestamptz_larger", "interval_larger",
             "int2smaller", "int4smaller", "int8smaller", "float4smaller", "float8smaller", "numeric_smaller",
             "text_smaller", "date_smaller", "timestamp_smaller", "timestamptz_smaller", "interval_smaller")


def _operator_function(name: str, oids: tuple[int, ...]) -> Any:
    """int4pl(a, b), int4larger(a, b), ... as a strict function over the operator of those types."""
    from pgaurora.catalog import builtins
    from pgaurora.catalog.builtins.registry import FunctionDef

    symbol = _OPERATOR_FUNCTIONS.get(name)
    if symbol is not None:
        op = builtins.resolve_operator(symbol, oids[0], oids[1])
        if op is None or op.needs_context:
            return None
        return FunctionDef(name, oids, op.result_oid, op.impl, strict=True)
    if name in _EXTREMES and oids[0] == oids[1]:
        larger = "larger" in name
        return FunctionDef(name, oids, oids[0], lambda a, b: (a if a >= b else b) if larger else (a if a <= b else b),
                           strict=True)
    return None


def _column_type(ddl: DdlPlanner, type_name: dict[str, Any], notices: list[str]) -> int | None:
    """`[schema.]table.column%TYPE`: that column's type (None when `type_name` is no %TYPE); as
    PostgreSQL, a NOTICE says what it was converted to."""
    if not type_name.get("pct_type"):
        return None
    parts = names_of(type_name["names"])
    position = ddl.pos(type_name.get("location"))
    written = ".".join(parts) + "%TYPE"
    if len(parts) < 2:
        raise SyntaxError_(f'improper %TYPE reference (too few dotted names): {".".join(parts)}', position=position)
    schema = parts[-3] if len(parts) > 2 else None
    rel = ddl.qc.catalog.relation(parts[-2], schema)
    if rel is None or not hasattr(rel, "columns"):
        raise UndefinedTable(f'relation "{".".join(parts[:-1])}" does not exist', position=position)
    columns: Any = rel.columns
    column = next((c for c in columns if c.name == parts[-1] and not c.dropped), None)
    if column is None:
        raise UndefinedColumn(f'column "{parts[-1]}" of relation "{parts[-2]}" does not exist', position=position)
    oid = int(column.type_oid)
    if type_name.get("arrayBounds"):
        oid = typeinfo.lookup(oid).array_oid
    notices.append(f"type reference {written} converted to {typeinfo.format_type(oid)}")
    return oid


def _result_type(ddl: DdlPlanner, returns: dict[str, Any], notices: list[str] | None = None) -> tuple[int, int]:
    """RETURNS's type and, for a table's name (its row type), the table."""
    oid = _column_type(ddl, returns, notices if notices is not None else [])
    if oid is not None:
        return oid, 0
    try:
        return type_from_name(returns, ddl.pos)[0], 0
    except UndefinedObject:
        schema, name = schema_and_name(returns["names"])
        rel = ddl.qc.catalog.relation(name, schema)
        if rel is None or not hasattr(rel, "columns") or returns.get("arrayBounds"):
            raise
        if not returns.get("setof"):
            raise FeatureNotSupported(f"functions returning a row of {name} (not SETOF) are not supported") from None
        return typeinfo.RECORD_OID, int(rel.oid)


_MODE_WORDS = {"FUNC_PARAM_OUT": "OUT", "FUNC_PARAM_INOUT": "INOUT", "FUNC_PARAM_VARIADIC": "VARIADIC",
               "FUNC_PARAM_TABLE": "RETURNS TABLE"}
# parameter modes as pg_proc.proargmodes writes them
_MODES = {"FUNC_PARAM_DEFAULT": "i", "FUNC_PARAM_IN": "i", "FUNC_PARAM_OUT": "o", "FUNC_PARAM_INOUT": "b",
          "FUNC_PARAM_TABLE": "t", "FUNC_PARAM_VARIADIC": "v"}


def check_plpgsql(statement: str, body: str = "", state: Any = None) -> Any:
    """The parsed PL/pgSQL function of a CREATE FUNCTION text whose body is `body`; 42601 for a
    syntax error (variables of composite types made records first, as session.routines runs it)."""
    if body and state is not None and statement.count(body) == 1:
        statement = statement.replace(body, mark_row_types(body, state.is_row_type_name)[0])
    try:
        return pglast.parse_plpgsql(statement)
    except pglast.parser.ParseError as error:
        raise SyntaxError_(str(error.args[0]) if error.args else "syntax error") from None


def check_sql_body(source: str) -> None:
    """A LANGUAGE sql body must parse as SQL statements (42601 otherwise)."""
    try:
        pglast.parser.parse_sql_json(source)
    except pglast.parser.ParseError as error:
        raise SyntaxError_(str(error.args[0]) if error.args else "syntax error") from None


def _signature(ddl: DdlPlanner, obj: dict[str, Any]) -> tuple[str | None, str, tuple[int, ...] | None, str]:
    """(schema, name, argument types or None when not given, the types as written: PostgreSQL's
    'does not exist, skipping' shows them so) of a function named in DROP."""
    schema, name = schema_and_name(obj["objname"])
    if obj.get("args_unspecified"):
        return schema, name, None, ""
    types: list[int] = []
    written: list[str] = []
    for param in obj.get("objfuncargs", ()):
        p = param["FunctionParameter"]
        if p.get("mode") in ("FUNC_PARAM_OUT", "FUNC_PARAM_TABLE"):
            continue
        written.append(".".join(names_of(p["argType"]["names"])) + ("[]" if p["argType"].get("arrayBounds") else ""))
        try:
            types.append(type_from_name(p["argType"], ddl.pos)[0])
        except UndefinedObject:
            if not ddl.stmt.tree.get("missing_ok"):
                raise
            types.append(0)  # no such type: no such function (IF EXISTS skips it)
    return schema, name, tuple(types), ", ".join(written)


def function_for(ddl: DdlPlanner, obj: dict[str, Any], word: str = "function") -> Any:
    """The one function an ObjectWithArgs names (ALTER FUNCTION, COMMENT ON FUNCTION)."""
    schema, name, types, _ = _signature(ddl, obj)
    named = ddl.qc.catalog.schemas.get(schema) if schema is not None else None
    if named is not None:  # (a qualified name needs USAGE on its schema: LookupExplicitNamespace)
        ddl.qc.require(named.oid, "U")
    return one_function(ddl.qc.catalog, schema, name, types, word)


def signature_of(obj: dict[str, Any]) -> tuple[str | None, str, tuple[int, ...] | None]:
    """(schema, name, argument types or None) of an ObjectWithArgs, for a statement that finds
    the function when it runs (GRANT)."""
    schema, name = schema_and_name(obj["objname"])
    if obj.get("args_unspecified"):
        return schema, name, None
    types = tuple(type_from_name(p["FunctionParameter"]["argType"], lambda _: None)[0]
                  for p in obj.get("objfuncargs", ())
                  if p["FunctionParameter"].get("mode") not in ("FUNC_PARAM_OUT", "FUNC_PARAM_TABLE"))
    return schema, name, types


def _alter_function(ddl: DdlPlanner, body: dict[str, Any]) -> AlterFunction:
    """ALTER FUNCTION / PROCEDURE / ROUTINE ... IMMUTABLE | STRICT | SECURITY DEFINER | SET | RESET
    (COST, ROWS, LEAKPROOF and PARALLEL are accepted and not kept, as at CREATE)."""
    word = _ROUTINE_WORDS[body.get("objtype", "OBJECT_FUNCTION")]
    fn = function_for(ddl, body["func"], word)
    volatility: str | None = None
    strict: bool | None = None
    security: bool | None = None
    config: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for item in body.get("actions", ()):
        d = item["DefElem"]
        name = d["defname"]
        arg = d.get("arg") or {}
        if name != "set":
            if name in seen:
                raise SyntaxError_("conflicting or redundant options", position=ddl.pos(d.get("location")))
            seen.add(name)
        if name == "volatility":
            volatility = arg["String"]["sval"][0]
        elif name == "strict":
            strict = bool(arg.get("Boolean", {}).get("boolval", False))
        elif name == "security":
            security = bool(arg.get("Boolean", {}).get("boolval", False))
        elif name == "set":
            stmt = arg["VariableSetStmt"]
            kind = stmt.get("kind")
            if kind == "VAR_SET_VALUE":
                setting, _, value = _config([arg])[0].partition("=")
                config.append(("set", setting, value))
            elif kind in ("VAR_RESET", "VAR_SET_DEFAULT"):
                config.append(("reset", stmt["name"], ""))
            elif kind == "VAR_RESET_ALL":
                config.append(("reset all", "", ""))
            else:  # SET ... FROM CURRENT
                config.append(("set", stmt["name"], FROM_CURRENT))
        if fn.kind == "p" and name in ("volatility", "strict"):
            raise InvalidFunctionDefinition("invalid attribute in procedure definition",
                                            position=ddl.pos(d.get("location")))
    return AlterFunction(fn.oid, word, volatility, strict, security, tuple(config))


def set_function_schema(ddl: DdlPlanner, body: dict[str, Any]) -> tuple[SetFunctionSchema, str]:
    """ALTER FUNCTION / PROCEDURE / ROUTINE ... SET SCHEMA."""
    word = _ROUTINE_WORDS[body["objectType"]]
    fn = function_for(ddl, body["object"]["ObjectWithArgs"], word)
    return SetFunctionSchema(fn.oid, word, body["newschema"]), f"ALTER {word.upper()}"


def _do(body: dict[str, Any], ddl: DdlPlanner) -> DoBlock:
    source = None
    language = "plpgsql"
    for item in body.get("args", ()):
        d = item["DefElem"]
        if d["defname"] == "as":
            source = d["arg"]["String"]["sval"]
        elif d["defname"] == "language":
            language = d["arg"]["String"]["sval"].lower()
    if language != "plpgsql":
        if language == "sql":
            raise FeatureNotSupported("language \"sql\" does not support inline code execution")
        raise UndefinedObject(f'language "{language}" does not exist')
    if source is None:
        raise SyntaxError_("no inline code specified")
    statement = f"CREATE FUNCTION pg_temp.inline_code_block() RETURNS void LANGUAGE plpgsql AS {dollar_quote(source)}"
    check_plpgsql(statement, source, ddl.qc.catalog)
    return DoBlock(source)


def dollar_quote(source: str) -> str:
    """`source` as a dollar-quoted string literal (a tag it does not contain)."""
    tag = "$body$"
    n = 0
    while tag in source:
        n += 1
        tag = f"$body{n}$"
    return f"{tag}{source}{tag}"


def _call(ddl: DdlPlanner, body: dict[str, Any]) -> CallProcedure:
    """CALL, resolved here as PostgreSQL's parse analysis does (so `$1` arguments get their types
    from the procedure's parameters): the procedure whose parameters take the arguments as given
    (by position, or by name: `p(b => 2)`; OUT parameters take one too, not evaluated), those
    left out filled with their defaults."""
    call = body["funccall"]
    schema, name = schema_and_name(call["funcname"])
    position = ddl.pos(call.get("location"))
    raw = tuple(call.get("args", ()))
    names: list[str | None] = []
    for a in raw:
        named = a.get("NamedArgExpr")
        if named is None and any(names):
            raise SyntaxError_("positional argument cannot follow named argument",
                               position=ddl.pos(next(iter(a.values())).get("location")))
        if named is not None and named["name"] in names:
            raise SyntaxError_(f'argument name "{named["name"]}" used more than once',
                               position=ddl.pos(named.get("location")))
        names.append(named["name"] if named is not None else None)
    lv = Level(Scope(ddl.qc.state), ddl.qc.params, ddl.pos, _no_subquery, None, "CALL arguments")
    nodes = [a["NamedArgExpr"]["arg"] if "NamedArgExpr" in a else a for a in raw]
    given = [bind(node, lv) for node in nodes]
    shown = f"{name}({', '.join((f'{n} => ' if n else '') + typeinfo.format_type(e.type_oid) for n, e in zip(names, given, strict=True))})"
    fits: dict[int, tuple[Any, list[int]]] = {}
    defs = []
    for fn in ddl.qc.catalog.user_functions(name, schema):
        slots = _call_slots(fn, tuple(names))
        if slots is None:
            continue
        types = fn.param_types or fn.arg_types
        fits[fn.oid] = (fn, slots)
        defs.append(FunctionDef(name, tuple(types[k] for k in slots), typeinfo.VOID_OID, _never, oid=fn.oid))
    chosen = choose(defs, tuple(typeinfo.UNKNOWN_OID if e.type_oid == 0 else e.type_oid for e in given),
                    "procedure", name) if defs else None
    if chosen is None:
        raise UndefinedFunction(f"procedure {shown} does not exist", position=position,
                                hint="No procedure matches the given name and argument types. "
                                     "You might need to add explicit type casts.")
    fn, slots = fits[chosen.oid]
    if fn.kind != "p":
        raise WrongObjectType(f"{shown} is not a procedure", hint="To call a function, use SELECT.", position=position)
    modes = fn.param_modes or ("i",) * len(fn.arg_types)
    types = fn.param_types or fn.arg_types
    defaults = fn.arg_defaults or (None,) * len(fn.arg_types)
    args: list[Any] = []
    for k, mode in enumerate(modes):
        if mode not in ("i", "b", "v"):
            continue
        if k in slots:
            i = slots.index(k)
            args.append(coerce(given[i], types[k], -1, "implicit", ddl.qc.params, ddl.pos(leftmost_location(nodes[i]))))
        else:
            default = defaults[len(args)]
            args.append(coerce(bind(_default_node(default), lv), types[k], -1, "implicit", ddl.qc.params, position))
    outs = tuple(k for k, m in enumerate(modes) if m in ("o", "b"))
    columns = tuple(((fn.param_names or fn.arg_names)[k] or "column" + str(k + 1), types[k]) for k in outs)
    return CallProcedure(fn.oid, tuple(args), columns, tuple(slots.index(k) for k in outs), shown)


def _call_slots(fn: Any, names: tuple[str | None, ...]) -> list[int] | None:
    """Which of a procedure's parameters each CALL argument fills (positional ones in order,
    named ones by name), or None when they do not fit: an unknown or doubly given name, too
    many arguments, or a parameter left out that has no default (an OUT one must be given)."""
    modes = fn.param_modes or ("i",) * len(fn.arg_types)
    params = fn.param_names or fn.arg_names
    slots: list[int] = []
    for i, n in enumerate(names):
        k = i if n is None else (params.index(n) if n in params else -1)
        if k < 0 or k >= len(modes) or k in slots or modes[k] == "t":
            return None
        slots.append(k)
    defaults = iter(fn.arg_defaults or (None,) * len(fn.arg_types))
    for k, mode in enumerate(modes):
        default = next(defaults) if mode in ("i", "b", "v") else None
        if k not in slots and default is None:
            return None
    return slots


def _never(*_args: Any) -> Any:  # (the FunctionDefs of CALL's resolution are never called)
    raise AssertionError("not callable")


def _no_subquery(_query: dict[str, Any], _scope: Any) -> Any:
    raise FeatureNotSupported("subqueries in CALL arguments are not supported")


def _object_tree(ddl: DdlPlanner) -> Any:
    """The statement as pglast's node objects (what its deparser takes)."""
    return pglast.parse_sql(str(ddl.stmt.text))[0].stmt


def _deparse(node: Any) -> str:
    from pglast.stream import RawStream

    return str(RawStream()(node))


def _create_trigger(ddl: DdlPlanner, body: dict[str, Any]) -> CreateTrigger:
    constraint: tuple[bool, bool, str | None, str | None] | None = None
    if body.get("isconstraint"):  # CREATE CONSTRAINT TRIGGER (the grammar made it AFTER ... FOR EACH ROW)
        source = body.get("constrrel")
        constraint = (bool(body.get("deferrable")), bool(body.get("initdeferred")),
                      source.get("schemaname") if source else None, source["relname"] if source else None)
    timing = _TRIGGER_TIMING.get(int(body.get("timing", 0)), "after")
    bits = int(body.get("events", 0))
    events = tuple(word for bit, word in _TRIGGER_EVENTS if bits & bit)
    relation = body["relation"]
    fschema, fname = schema_and_name(body["funcname"])
    columns = tuple(c["String"]["sval"] for c in body.get("columns", ()))
    when = _deparse(_object_tree(ddl).whenClause) if body.get("whenClause") is not None else None
    args = tuple(_trigger_arg(a) for a in body.get("args", ()))
    transitions = tuple((bool(t["TriggerTransition"].get("isNew")), bool(t["TriggerTransition"].get("isTable")),
                         t["TriggerTransition"]["name"]) for t in body.get("transitionRels", ()))
    return CreateTrigger(body["trigname"], relation.get("schemaname"), relation["relname"], fschema, fname, timing,
                         events, bool(body.get("row")), columns, when, args, bool(body.get("replace")), transitions,
                         constraint)


def _trigger_arg(node: dict[str, Any]) -> str:
    if "String" in node:
        return str(node["String"]["sval"])
    if "Integer" in node:
        return str(node["Integer"].get("ival", 0))
    if "Float" in node:
        return str(node["Float"]["fval"])
    return str(next(iter(node.values())))


__all__ = ["plan_routine_statement", "check_plpgsql", "check_sql_body", "function_for", "signature_of", "dollar_quote"]
