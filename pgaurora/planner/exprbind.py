"""Expression binding: pglast expression nodes -> typed executor.expr nodes.

Owns the translation of every expression form (constants, column references, operators, AND/OR,
IN, BETWEEN, LIKE, CASE, casts, function calls, aggregates, window calls, sublinks) with
PostgreSQL's typing and error positions. Not name scoping (planner.scope), not operator lookup
(planner.resolve), not query structure (planner.select).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pgaurora import datatypes
from pgaurora.catalog import builtins
from pgaurora.catalog.builtins.aggregates import ORDERED_SET_AGGREGATES
from pgaurora.catalog.builtins.json_functions import POPULATE_FUNCTIONS
from pgaurora.datatypes import composites, typeinfo
from pgaurora.datatypes.typeinfo import BOOL_OID, INT4_OID, TEXT_OID, UNKNOWN_OID
from pgaurora.errors import (
    DatatypeMismatch,
    FeatureNotSupported,
    GroupingError,
    PgError,
    SyntaxError_,
    UndefinedColumn,
    UndefinedFunction,
    UndefinedObject,
    WindowingError,
    WrongObjectType,
)
from pgaurora.executor.expr import (
    ArrayExpr,
    BooleanTest,
    BoolExpr,
    BoolOp,
    CaseExpr,
    CoalesceExpr,
    Const,
    ContextValue,
    Expr,
    FuncExpr,
    MinMaxExpr,
    NullTest,
    Param,
    RowExpr,
    ScalarArrayOp,
    SubLinkKind,
    SubPlanExpr,
    Var,
)
from pgaurora.executor.plannodes import AggSpec, SortKey, WindowSpec
from pgaurora.planner import resolve, rowtypes, srf
from pgaurora.planner.resolve import ParamTypes, coerce, make_function, make_operator
from pgaurora.planner.scope import Scope


@dataclass(frozen=True, slots=True)
class AggRef(Expr):
    """Placeholder for aggregate number `index` until the Aggregate node's output is laid out."""

    index: int
    type_oid: int
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class GroupingRef(Expr):
    """GROUPING(a, b): resolved against the grouping sets when the Aggregate node is built."""

    args: tuple[Expr, ...]
    type_oid: int = INT4_OID
    typmod: int = -1


@dataclass(frozen=True, slots=True)
class WindowRef(Expr):
    index: int
    type_oid: int
    typmod: int = -1


@dataclass(slots=True)
class Level:
    """What expression binding at one query level may use."""

    scope: Scope
    params: ParamTypes
    position: Callable[[int | None], int | None]
    plan_subquery: Callable[[dict[str, Any], Scope], Any]
    aggs: list[AggSpec] | None = None  # None: aggregates not allowed here
    agg_clause: str = "WHERE"
    windows: list[WindowSpec] | None = None
    in_agg: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    srf_clause: str | None = None  # the clause named when refusing a set-returning function (else agg_clause)


def names_of(fields: list[dict[str, Any]]) -> list[str]:
    return [f["String"]["sval"] for f in fields if "String" in f]


def schema_and_name(fields: list[dict[str, Any]]) -> tuple[str | None, str]:
    """A possibly schema-qualified name's (schema or None, name)."""
    names = names_of(fields)
    return (names[-2] if len(names) > 1 else None), names[-1]


# ROW($1, $2, ...) standing for a PL/pgSQL record variable (session.routines sets it while it
# plans a routine's statement): the parameter numbers -> the record's field names (which
# row_to_json / to_jsonb and record output show, as PostgreSQL shows a record variable's) and
# whether the record is NULL (OLD in an INSERT trigger: its fields are NULL, and so is it)
RECORD_PARAMS: ContextVar[dict[tuple[int, ...], tuple[tuple[str, ...], bool]] | None] = ContextVar(
    "record_params", default=None)

# The catalog the statement being planned sees (planner.plan sets it): type names that are no
# built-in type's are looked up in it (CREATE TYPE's types, along the search path)
CATALOG_TYPES: ContextVar[Any] = ContextVar("catalog_types", default=None)


def type_from_name(type_name: dict[str, Any], position: Callable[[int | None], int | None]) -> tuple[int, int]:
    """(type oid, typmod) of a TypeName node."""
    parts = names_of(type_name["names"])
    name = parts[-1]
    if name == "interval" and type_name.get("typmods"):
        mods = []
    else:
        mods = [m["A_Const"]["ival"].get("ival", 0) for m in type_name.get("typmods", ()) if "A_Const" in m]
    schema = parts[-2] if len(parts) > 1 else None
    info = None
    if schema in (None, "pg_catalog"):
        try:
            info = datatypes.typeinfo.lookup_name(name)
        except UndefinedObject:
            pass
    if info is None:  # a type CREATE TYPE made, along the search path (or in its schema)
        state = CATALOG_TYPES.get()
        found = state.user_type(name, schema) if state is not None else None
        if found is None and state is not None:
            found = state.user_composite(name, schema) or state.row_type(name, schema)
        domain = state.user_domain(name, schema) if state is not None and found is None else None
        if domain is not None:  # a domain is its base type here (domain_named: its constraints)
            if mods or type_name.get("arrayBounds"):
                raise FeatureNotSupported(f'type modifiers or arrays of domain "{domain.name}" are not supported',
                                          position=position(type_name.get("location")))
            return domain.base_type, domain.base_typmod
        if found is None:
            shown = ".".join(parts[1:] if parts[0] == "pg_catalog" else parts)
            raise UndefinedObject(f'type "{shown}" does not exist', position=position(type_name.get("location")))
        if mods:
            raise SyntaxError_(f'type modifier is not allowed for type "{found.name}"',
                               position=position(type_name.get("location")))
        return (found.array_oid if type_name.get("arrayBounds") else found.oid), -1
    oid = info.oid
    typmod = -1
    if mods:
        typmod = resolve.make_typmod(oid, mods)
    elif name in ("bpchar", "char", "character") and parts[0] == "pg_catalog":
        typmod = 5  # char without length is char(1)
    if type_name.get("arrayBounds"):
        oid = typeinfo.array_of(oid)
    return oid, typmod


def domain_named(type_name: dict[str, Any]) -> Any:
    """The domain a TypeName names (CREATE DOMAIN's, along the search path), or None: a built-in
    type's name is never a domain's."""
    parts = names_of(type_name["names"])
    schema = parts[-2] if len(parts) > 1 else None
    if schema in (None, "pg_catalog"):
        try:
            datatypes.typeinfo.lookup_name(parts[-1])
            return None
        except UndefinedObject:
            pass
    state = CATALOG_TYPES.get()
    if state is None or state.user_type(parts[-1], schema) is not None:
        return None
    return state.user_domain(parts[-1], schema)


# While a domain's CHECK expression is bound: what VALUE stands for (planner.domains)
DOMAIN_VALUE: ContextVar[Expr | None] = ContextVar("domain_value", default=None)


def bind(node: dict[str, Any], lv: Level) -> Expr:
    kind, body = next(iter(node.items()))
    handler = _HANDLERS.get(kind)
    if handler is None:
        what = _UNBUILT_EXPRESSIONS.get(kind, kind)
        raise FeatureNotSupported(f"{what} is not supported", position=lv.position(body.get("location")))
    return handler(body, lv)


_UNBUILT_EXPRESSIONS = {"CurrentOfExpr": "WHERE CURRENT OF", "XmlExpr": "XML", "XmlSerialize": "XMLSERIALIZE"}


def _const(body: dict[str, Any], lv: Level) -> Expr:
    if body.get("isnull"):
        return Const(None, UNKNOWN_OID)
    if "ival" in body:
        return resolve.integer_literal(body["ival"].get("ival", 0))
    if "fval" in body:
        return resolve.float_literal(body["fval"]["fval"])
    if "sval" in body:
        return Const(body["sval"].get("sval", ""), UNKNOWN_OID)
    if "boolval" in body:
        return Const(bool(body["boolval"].get("boolval", False)), BOOL_OID)
    if "bsval" in body:
        text = body["bsval"]["bsval"]
        return Const(text, UNKNOWN_OID)
    raise FeatureNotSupported("constant is not supported")


def _column_ref(body: dict[str, Any], lv: Level) -> Expr:
    fields = body["fields"]
    pos = lv.position(body.get("location"))
    if "A_Star" in fields[-1]:
        if len(fields) == 2:  # t.* as a value: the whole row
            row = rowtypes.whole_row(lv.scope, names_of(fields[:1])[0], pos, CATALOG_TYPES.get())
            if row is not None:
                return row
        raise FeatureNotSupported("row expansion via \"*\" is not supported here", position=pos)
    names = names_of(fields)
    value = DOMAIN_VALUE.get()
    if value is not None and names == ["value"]:
        return value
    try:
        expr, _, _ = lv.scope.resolve(names, pos)
    except UndefinedColumn:
        row = rowtypes.whole_row(lv.scope, names[0], pos, CATALOG_TYPES.get()) if len(names) == 1 else None
        if row is None:
            raise
        return row
    return expr


def _param(body: dict[str, Any], lv: Level) -> Expr:
    index = body["number"] - 1
    return Param(index, lv.params.get(index))


def _a_expr(body: dict[str, Any], lv: Level) -> Expr:
    kind = body["kind"]
    name = names_of(body["name"])[-1]
    pos = lv.position(body.get("location"))
    if kind == "AEXPR_OP":
        left = bind(body["lexpr"], lv) if "lexpr" in body else None
        right = bind(body["rexpr"], lv)
        if isinstance(left, RowExpr) and isinstance(right, RowExpr):
            return _row_comparison(name, left, right, lv, pos)
        return make_operator(name, left, right, lv.params, pos)
    if kind == "AEXPR_IN":
        left = bind(body["lexpr"], lv)
        items = [bind(i, lv) for i in body["rexpr"]["List"]["items"]]
        if isinstance(left, RowExpr):
            tests = [_row_comparison(name, left, i, lv, pos) for i in items if isinstance(i, RowExpr)]
            if len(tests) != len(items):
                raise FeatureNotSupported("row IN with non-row items is not supported", position=pos)
            if name == "=":
                return BoolExpr(BoolOp.OR, tuple(tests)) if len(tests) > 1 else tests[0]
            return BoolExpr(BoolOp.AND, tuple(tests)) if len(tests) > 1 else tests[0]
        if any(not isinstance(i, Const) for i in items):
            # Parameters (a prepared statement's, or the plan cache's literals) form an array, as
            # PostgreSQL's transformAExprIn does with every item that is no column: `id IN ($1, $2)`
            # is then `id = ANY (ARRAY[$1, $2])`, which an index scan can take (an OR of
            # comparisons it cannot). Items that read columns or call functions stay an OR.
            if len(items) > 1 and all(_plain_value(i) for i in items):
                try:
                    elem_type = resolve.common_type([left, *items], "IN", pos)
                except PgError:
                    elem_type = 0
                if elem_type and typeinfo.array_of(elem_type):
                    left_c = coerce(left, elem_type, -1, "implicit", lv.params, pos)
                    values = [coerce(i, elem_type, -1, "implicit", lv.params, pos) for i in items]
                    probe = builtins.resolve_operator(name, elem_type, elem_type)
                    if probe is not None:
                        return ScalarArrayOp(probe.fn, name, name == "=", left_c,
                                             ArrayExpr(tuple(values), typeinfo.array_of(elem_type)))
            comparisons = [make_operator(name, left, i, lv.params, pos) for i in items]
            if name == "=":
                return BoolExpr(BoolOp.OR, tuple(comparisons)) if len(comparisons) > 1 else comparisons[0]
            return BoolExpr(BoolOp.AND, tuple(comparisons)) if len(comparisons) > 1 else comparisons[0]
        elem_type = resolve.common_type([left, *items], "IN", pos)
        left_c = coerce(left, elem_type, -1, "implicit", lv.params, pos)
        consts = [coerce(i, elem_type, -1, "implicit", lv.params, pos) for i in items]
        op = make_operator(name, Const(None, elem_type), Const(None, elem_type), lv.params, pos)
        probe = builtins.resolve_operator(name, elem_type, elem_type)
        assert probe is not None
        del op
        return ScalarArrayOp(probe.fn, name, name == "=", left_c,
                             ArrayExpr(tuple(consts), typeinfo.array_of(elem_type)))
    if kind in ("AEXPR_OP_ANY", "AEXPR_OP_ALL"):
        left = bind(body["lexpr"], lv)
        right = bind(body["rexpr"], lv)
        elem = typeinfo.element_of(right.type_oid) if right.type_oid != UNKNOWN_OID else left.type_oid
        if right.type_oid in (0, UNKNOWN_OID) and left.type_oid not in (0, UNKNOWN_OID):
            right = coerce(right, typeinfo.array_of(left.type_oid), -1, "implicit", lv.params, pos)
            elem = left.type_oid
        probe = builtins.resolve_operator(name, left.type_oid, elem)
        if probe is None and left.type_oid == elem == typeinfo.RECORD_OID and name in resolve.RECORD_COMPARISONS:
            return ScalarArrayOp(resolve.record_comparison(name), name, kind == "AEXPR_OP_ANY", left, right)
        if probe is None:
            raise UndefinedFunction(f"operator does not exist: {resolve.type_name(left.type_oid)} {name} "
                                    f"{resolve.type_name(elem)}", position=pos)
        left = coerce(left, probe.left_oid or left.type_oid, -1, "implicit", lv.params, pos)
        return ScalarArrayOp(probe.fn, name, kind == "AEXPR_OP_ANY", left, right)
    if kind in ("AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM"):
        left = bind(body["lexpr"], lv)
        lo_node, hi_node = body["rexpr"]["List"]["items"]
        lo, hi = bind(lo_node, lv), bind(hi_node, lv)
        negate = "NOT" in kind
        if "SYM" in kind:
            a = BoolExpr(BoolOp.AND, (make_operator(">=", left, lo, lv.params, pos), make_operator("<=", left, hi, lv.params, pos)))
            b = BoolExpr(BoolOp.AND, (make_operator(">=", left, hi, lv.params, pos), make_operator("<=", left, lo, lv.params, pos)))
            result: Expr = BoolExpr(BoolOp.OR, (a, b))
        else:
            result = BoolExpr(BoolOp.AND, (make_operator(">=", left, lo, lv.params, pos),
                                           make_operator("<=", left, hi, lv.params, pos)))
        return BoolExpr(BoolOp.NOT, (result,)) if negate else result
    if kind in ("AEXPR_LIKE", "AEXPR_ILIKE"):
        left = bind(body["lexpr"], lv)
        right = bind(body["rexpr"], lv)
        return make_operator(name, left, right, lv.params, pos)
    if kind == "AEXPR_SIMILAR":
        left = bind(body["lexpr"], lv)
        right = bind(body["rexpr"], lv)
        call = body["rexpr"].get("FuncCall", {})
        if names_of(call.get("funcname", []))[-1:] == ["similar_to_escape"]:
            pattern = right  # (the parser already made the pattern a regular expression)
        else:
            pattern = make_function("similar_to_escape", [right], lv.params, pos)
        return make_operator("~" if name == "~" else "!~", left, pattern, lv.params, pos)
    if kind == "AEXPR_NULLIF":
        left = bind(body["lexpr"], lv)
        right = bind(body["rexpr"], lv)
        # the result is the "=" operator's first argument, promoted to the operator's input type
        probe = builtins.resolve_operator("=", left.type_oid, right.type_oid)
        if probe is not None and probe.left_oid:
            left = coerce(left, probe.left_oid, -1, "implicit", lv.params, pos)
            right = coerce(right, probe.right_oid, -1, "implicit", lv.params, pos)
        eq = make_operator("=", left, right, lv.params, pos)
        left_typed = coerce(left, left.type_oid if left.type_oid != UNKNOWN_OID else TEXT_OID, -1, "implicit", lv.params, pos)
        return CaseExpr(((eq, Const(None, left_typed.type_oid)),), left_typed, left_typed.type_oid)
    if kind == "AEXPR_DISTINCT" or kind == "AEXPR_NOT_DISTINCT":
        left = bind(body["lexpr"], lv)
        right = bind(body["rexpr"], lv)
        not_distinct = _not_distinct(left, right, lv, pos)
        if kind == "AEXPR_NOT_DISTINCT":
            return not_distinct
        return BoolExpr(BoolOp.NOT, (not_distinct,))
    raise FeatureNotSupported(f"{kind} is not supported", position=pos)


def _not_distinct(left: Expr, right: Expr, lv: Level, pos: int | None) -> Expr:
    """left IS NOT DISTINCT FROM right; for two rows, every pair of fields (PostgreSQL's row
    comparison with null-safe equality)."""
    if isinstance(left, RowExpr) and isinstance(right, RowExpr):
        if len(left.fields) != len(right.fields):
            raise SyntaxError_("unequal number of entries in row expressions", position=pos)
        tests = tuple(_not_distinct(a, b, lv, pos) for a, b in zip(left.fields, right.fields, strict=True))
        return BoolExpr(BoolOp.AND, tests) if len(tests) != 1 else tests[0]
    eq = make_operator("=", left, right, lv.params, pos)
    both_null = BoolExpr(BoolOp.AND, (NullTest(left, False), NullTest(right, False)))
    one_null = BoolExpr(BoolOp.OR, (NullTest(left, False), NullTest(right, False)))
    return CaseExpr(((both_null, Const(True, BOOL_OID)), (one_null, Const(False, BOOL_OID))), eq, BOOL_OID)


def _row_comparison(name: str, left: RowExpr, right: RowExpr, lv: Level, pos: int | None) -> Expr:
    """(a, b) = (c, d) and the other row comparisons, field by field as PostgreSQL's row_compare."""
    if len(left.fields) != len(right.fields):
        raise SyntaxError_("unequal number of entries in row expressions", position=pos)
    pairs = list(zip(left.fields, right.fields, strict=True))
    if name == "=":
        return BoolExpr(BoolOp.AND, tuple(make_operator("=", a, b, lv.params, pos) for a, b in pairs))
    if name == "<>":
        return BoolExpr(BoolOp.OR, tuple(make_operator("<>", a, b, lv.params, pos) for a, b in pairs))
    if name in ("<", "<=", ">", ">="):
        # lexicographic: the first unequal pair decides; all equal -> the operator's equality case
        strict = name[0]
        result: Expr = make_operator(name, pairs[-1][0], pairs[-1][1], lv.params, pos)
        for a, b in reversed(pairs[:-1]):
            result = BoolExpr(BoolOp.OR, (make_operator(strict, a, b, lv.params, pos), BoolExpr(
                BoolOp.AND, (make_operator("=", a, b, lv.params, pos), result))))
        return result
    raise FeatureNotSupported(f"row comparison with operator {name} is not supported", position=pos)


def _bool_expr(body: dict[str, Any], lv: Level) -> Expr:
    op = {"AND_EXPR": BoolOp.AND, "OR_EXPR": BoolOp.OR, "NOT_EXPR": BoolOp.NOT}[body["boolop"]]
    args = []
    for a in body["args"]:
        bound = bind(a, lv)
        loc = next(iter(a.values())).get("location") if isinstance(a, dict) else None
        args.append(_no_set(resolve.to_boolean(bound, op.value, lv.params, lv.position(loc)), op.value, a, lv))
    if op is not BoolOp.NOT and all(isinstance(a, Const) for a in args):
        values = [a.value for a in args if isinstance(a, Const)]
        if op is BoolOp.AND:
            value = False if False in values else (None if None in values else True)
        else:
            value = True if True in values else (None if None in values else False)
        return Const(value, BOOL_OID)
    if op is BoolOp.NOT and isinstance(args[0], Const):
        v = args[0].value
        return Const(None if v is None else not v, BOOL_OID)
    return BoolExpr(op, tuple(args))


def _null_test(body: dict[str, Any], lv: Level) -> Expr:
    arg = bind(body["arg"], lv)
    return NullTest(arg, body["nulltesttype"] == "IS_NOT_NULL")


def _boolean_test(body: dict[str, Any], lv: Level) -> Expr:
    construct = body["booltesttype"].replace("_", " ")  # IS_NOT_TRUE -> IS NOT TRUE
    pos = lv.position(body.get("location"))
    arg = _no_set(resolve.to_boolean(bind(body["arg"], lv), construct, lv.params, pos), construct, body["arg"], lv)
    return BooleanTest(arg, body["booltesttype"])


def _type_cast(body: dict[str, Any], lv: Level) -> Expr:
    domain = domain_named(body["typeName"])
    if domain is not None:  # the base type's value, checked against the domain's constraints
        from pgaurora.planner.domains import checked

        return checked(domain, _base_cast(body, domain, lv), lv)
    oid, typmod = type_from_name(body["typeName"], lv.position)
    array = _array_to(body["arg"], oid, typmod, lv)
    if array is not None:
        return array
    arg = bind(body["arg"], lv)
    record_text = rowtypes.cast_record(arg, oid)
    if record_text is not None:
        return record_text
    # a literal's input error points at the literal (PostgreSQL's coerce_type), others at the ::
    literal = body["arg"].get("A_Const") if isinstance(body["arg"], dict) else None
    where = literal.get("location") if literal is not None else body.get("location")
    return coerce(arg, oid, typmod, "explicit", lv.params, lv.position(where))


def _base_cast(body: dict[str, Any], domain: Any, lv: Level) -> Expr:
    arg = bind(body["arg"], lv)
    literal = body["arg"].get("A_Const") if isinstance(body["arg"], dict) else None
    where = literal.get("location") if literal is not None else body.get("location")
    return coerce(arg, domain.base_type, domain.base_typmod, "explicit", lv.params, lv.position(where))


def _array_to(node: Any, oid: int, typmod: int, lv: Level) -> Expr | None:
    """ARRAY[...]::type[]: each element coerced to the element type where it stands, as
    PostgreSQL's transformTypeCast passes the type down (a bad literal's error points at that
    element); None for anything else (nested ARRAY[...] and empty ones take the general path)."""
    element_type = typeinfo.element_of(oid)
    body = node.get("A_ArrayExpr") if isinstance(node, dict) and element_type else None
    elements = body.get("elements", ()) if body is not None else ()
    if not elements or any("A_ArrayExpr" in e for e in elements):
        return None
    coerced = [coerce(bind(e, lv), element_type, typmod, "explicit", lv.params,
                      lv.position(next(iter(e.values())).get("location"))) for e in elements]
    if all(isinstance(e, Const) for e in coerced):
        return Const([e.value for e in coerced if isinstance(e, Const)], oid)
    return ArrayExpr(tuple(coerced), oid)


def _case(body: dict[str, Any], lv: Level) -> Expr:
    pos = lv.position(body.get("location"))
    before = _srf_count(lv)
    arg = bind(body["arg"], lv) if "arg" in body else None
    conds: list[Expr] = []
    results: list[Expr] = []
    for w in body["args"]:
        when = w["CaseWhen"]
        cond = bind(when["expr"], lv)
        if arg is not None:
            cond = make_operator("=", arg, cond, lv.params, pos)
        conds.append(_no_set(resolve.to_boolean(cond, "CASE/WHEN", lv.params, pos), "CASE/WHEN", when["expr"], lv))
        results.append(bind(when["result"], lv))
    default = bind(body["defresult"], lv) if "defresult" in body else None
    _refuse_srf_inside(lv, before, "set-returning functions are not allowed in CASE")
    all_results = results + ([default] if default is not None else [])
    result_type = resolve.common_type(all_results, "CASE", pos)
    results = [coerce(r, result_type, -1, "implicit", lv.params, pos) for r in results]
    if default is not None:
        default = coerce(default, result_type, -1, "implicit", lv.params, pos)
    return CaseExpr(tuple(zip(conds, results, strict=True)), default, result_type)


def _coalesce(body: dict[str, Any], lv: Level) -> Expr:
    pos = lv.position(body.get("location"))
    before = _srf_count(lv)
    args = [bind(a, lv) for a in body["args"]]
    _refuse_srf_inside(lv, before, "set-returning functions are not allowed in COALESCE")
    result_type = resolve.common_type(args, "COALESCE", pos)
    return CoalesceExpr(tuple(coerce(a, result_type, -1, "implicit", lv.params, pos) for a in args), result_type)


def _min_max(body: dict[str, Any], lv: Level) -> Expr:
    pos = lv.position(body.get("location"))
    args = [bind(a, lv) for a in body["args"]]
    result_type = resolve.common_type(args, "GREATEST/LEAST", pos)
    args = [coerce(a, result_type, -1, "implicit", lv.params, pos) for a in args]
    gt = builtins.resolve_operator(">", result_type, result_type)
    assert gt is not None
    return MinMaxExpr(body["op"] == "IS_GREATEST", tuple(args), gt.fn, result_type)


def _array(body: dict[str, Any], lv: Level) -> Expr:
    pos = lv.position(body.get("location"))
    elems = [bind(e, lv) for e in body.get("elements", ())]
    if not elems:
        return Const([], typeinfo.TEXT_ARRAY_OID)
    elem_type = resolve.common_type(elems, "ARRAY", pos)
    if typeinfo.element_of(elem_type):
        return ArrayExpr(tuple(coerce(e, elem_type, -1, "implicit", lv.params, pos) for e in elems), elem_type)
    coerced = tuple(coerce(e, elem_type, -1, "implicit", lv.params, pos) for e in elems)
    if all(isinstance(e, Const) for e in coerced):
        return Const([e.value for e in coerced if isinstance(e, Const)], typeinfo.array_of(elem_type))
    return ArrayExpr(coerced, typeinfo.array_of(elem_type))


def _row(body: dict[str, Any], lv: Level) -> Expr:
    args = body.get("args", ())
    fields = tuple(bind(a, lv) for a in args)
    named = RECORD_PARAMS.get()
    if named and args and all("ParamRef" in a for a in args):
        found = named.get(tuple(a["ParamRef"].get("number", 0) for a in args))
        if found is not None:  # a PL/pgSQL record variable (NEW, OLD, a loop's row): its fields' names
            names, null = found
            return RowExpr(fields, names=names, null=null)
    return RowExpr(fields)


def _sql_value_function(body: dict[str, Any], lv: Level) -> Expr:
    op = body["op"]
    mapping = {
        "SVFOP_CURRENT_DATE": ("current_date", typeinfo.DATE_OID),
        "SVFOP_CURRENT_TIMESTAMP": ("current_timestamp", typeinfo.TIMESTAMPTZ_OID),
        "SVFOP_CURRENT_TIMESTAMP_N": ("current_timestamp", typeinfo.TIMESTAMPTZ_OID),
        "SVFOP_LOCALTIMESTAMP": ("localtimestamp", typeinfo.TIMESTAMP_OID),
        "SVFOP_LOCALTIMESTAMP_N": ("localtimestamp", typeinfo.TIMESTAMP_OID),
        "SVFOP_CURRENT_TIME": ("current_time", typeinfo.TIMETZ_OID),
        "SVFOP_LOCALTIME": ("localtime", typeinfo.TIME_OID),
        "SVFOP_CURRENT_USER": ("current_user", typeinfo.NAME_OID),
        "SVFOP_SESSION_USER": ("session_user", typeinfo.NAME_OID),
        "SVFOP_USER": ("current_user", typeinfo.NAME_OID),
        "SVFOP_CURRENT_ROLE": ("current_user", typeinfo.NAME_OID),
        "SVFOP_CURRENT_CATALOG": ("current_catalog", typeinfo.NAME_OID),
        "SVFOP_CURRENT_SCHEMA": ("current_schema", typeinfo.NAME_OID),
    }
    name, oid = mapping[op]
    return ContextValue(name, oid)


def _sub_link(body: dict[str, Any], lv: Level) -> Expr:
    kind = body["subLinkType"]
    pos = lv.position(body.get("location"))
    sub_scope = Scope(lv.scope.state, lv.scope)
    sub = lv.plan_subquery(body["subselect"], sub_scope)
    outer_slots = tuple(slot for slot, _ in sub_scope.outer_refs)
    outer_args = tuple(expr for _, expr in sub_scope.outer_refs)
    columns = sub.columns
    if kind == "EXISTS_SUBLINK":
        return SubPlanExpr(SubLinkKind.EXISTS, sub.node, outer_slots, outer_args, None, None, BOOL_OID)
    if kind == "EXPR_SUBLINK":
        if len(columns) != 1:
            raise SyntaxError_("subquery must return only one column", position=pos)
        return SubPlanExpr(SubLinkKind.EXPR, sub.node, outer_slots, outer_args, None, None,
                           columns[0].type_oid, columns[0].typmod)
    if kind == "ARRAY_SUBLINK":
        return SubPlanExpr(SubLinkKind.ARRAY, sub.node, outer_slots, outer_args, None, None,
                           typeinfo.array_of(columns[0].type_oid))
    if kind in ("ANY_SUBLINK", "ALL_SUBLINK") and "RowExpr" in body.get("testexpr", {}) \
            and (len(columns) > 1 or len(body["testexpr"]["RowExpr"].get("args", ())) > 1):
        return _row_sub_link(body, lv, sub, outer_slots, outer_args, kind, pos)
    if kind in ("ANY_SUBLINK", "ALL_SUBLINK"):
        if len(columns) != 1:
            raise SyntaxError_("subquery has too many columns" if len(columns) > 1 else "subquery has too few columns",
                               position=pos)
        left = bind(body["testexpr"], lv)
        op_name = names_of(body["operName"])[-1] if "operName" in body else "="
        sub_type = columns[0].type_oid
        if left.type_oid == UNKNOWN_OID:
            left = coerce(left, sub_type, -1, "implicit", lv.params, pos)
        probe = builtins.resolve_operator(op_name, left.type_oid, sub_type)
        if probe is None:
            raise UndefinedFunction(f"operator does not exist: {resolve.type_name(left.type_oid)} {op_name} "
                                    f"{resolve.type_name(sub_type)}", position=pos)
        left = coerce(left, probe.left_oid or left.type_oid, -1, "implicit", lv.params, pos)
        k = SubLinkKind.ANY if kind == "ANY_SUBLINK" else SubLinkKind.ALL
        return SubPlanExpr(k, sub.node, outer_slots, outer_args, left, probe.fn, BOOL_OID, -1, op_name)
    raise FeatureNotSupported(f"{kind} is not supported", position=pos)


def _row_sub_link(body: dict[str, Any], lv: Level, sub: Any, outer_slots: tuple[int, ...],
                  outer_args: tuple[Expr, ...], kind: str, pos: int | None) -> Expr:
    """(a, b) IN (SELECT x, y ...), (a, b) = ANY / <> ALL (...): the row compared with each of
    the subquery's rows field by field (equal when every field is, unequal when one is not,
    else NULL), as PostgreSQL's row comparison."""
    from pgaurora.executor.plannodes import Project

    raw_fields = body["testexpr"]["RowExpr"].get("args", ())
    fields = [bind(f, lv) for f in raw_fields]
    columns = sub.columns
    if len(fields) != len(columns):
        raise SyntaxError_("subquery has too many columns" if len(columns) > len(fields)
                           else "subquery has too few columns", position=pos)
    op_name = names_of(body["operName"])[-1] if "operName" in body else "="
    if op_name not in ("=", "<>"):
        raise FeatureNotSupported(f"row comparison with {op_name} against a subquery is not supported", position=pos)
    tests: list[Any] = []
    coerced: list[Expr] = []
    for f, c, raw in zip(fields, columns, raw_fields, strict=True):
        if f.type_oid == UNKNOWN_OID:
            f = coerce(f, c.type_oid, -1, "implicit", lv.params, lv.position(next(iter(raw.values())).get("location")))
        probe = builtins.resolve_operator("=", f.type_oid, c.type_oid)
        if probe is None:
            raise UndefinedFunction(f"operator does not exist: {resolve.type_name(f.type_oid)} = "
                                    f"{resolve.type_name(c.type_oid)}", position=pos)
        coerced.append(coerce(f, probe.left_oid or f.type_oid, -1, "implicit", lv.params, pos))
        tests.append(probe.fn)
    equal = op_name == "="

    def compare(left: tuple[Any, ...], right: tuple[Any, ...]) -> bool | None:
        unknown = False
        for fn, a, b in zip(tests, left, right, strict=True):
            if a is None or b is None:
                unknown = True
                continue
            if not fn(a, b):
                return not equal
        return None if unknown else equal

    node = Project(sub.node, (RowExpr(tuple(Var(i, c.type_oid, c.typmod) for i, c in enumerate(columns))),), 1)
    k = SubLinkKind.ANY if kind == "ANY_SUBLINK" else SubLinkKind.ALL
    return SubPlanExpr(k, node, outer_slots, outer_args, RowExpr(tuple(coerced)), compare, BOOL_OID, -1, "row" + op_name)


def positional_arguments(body: dict[str, Any], lv: Level) -> Any:
    """A FuncCall's arguments in parameter order, named ones (`f(a, c => 1)`) put in place and
    the defaults of those left out filled in (user functions, and the built-ins whose parameter
    names pgaurora knows)."""
    parts = names_of(body["funcname"])
    name = parts[-1]
    pos = lv.position(body.get("location"))
    raw_args = body.get("args", ())
    if not any("NamedArgExpr" in a for a in raw_args):
        return raw_args
    user = _user_positional(name, parts[-2] if len(parts) > 1 else None, raw_args, lv, pos) \
        if name not in _PARAMETERS else None
    return user if user is not None else _positional(name, raw_args, lv, pos)


def _user_aggregate_named(name: str, parts: list[str]) -> bool:
    state = CATALOG_TYPES.get()
    return state is not None and any(fn.kind == "a" for fn in state.user_functions(
        name, parts[-2] if len(parts) > 1 else None))


def _func_call(body: dict[str, Any], lv: Level) -> Expr:
    parts = names_of(body["funcname"])
    name = parts[-1]
    pos = lv.position(body.get("location"))
    if "over" in body:
        return _window_call(body, name, lv, pos)
    if builtins.is_aggregate(name) or _user_aggregate_named(name, parts):
        return _aggregate_call(body, name, lv, pos)
    if name in _SEQUENCE_FUNCTIONS and len(parts) <= 2:
        return _sequence_call(body, name, lv, pos)
    if body.get("agg_star"):
        raise SyntaxError_(f"{name}(*) specified, but {name} is not an aggregate function", position=pos)
    raw_args = written = body.get("args", ())
    if any("NamedArgExpr" in a for a in raw_args):
        raw_args = positional_arguments(body, lv)
    args = [bind(a, lv) for a in raw_args]
    if body.get("agg_distinct"):
        raise SyntaxError_(f"DISTINCT specified, but {name} is not an aggregate function", position=pos)
    record_call = rowtypes.record_function(name, args)
    if record_call is not None:
        return record_call
    if name in POPULATE_FUNCTIONS and len(args) == 2 and composites.attributes(args[0].type_oid) is not None:
        return rowtypes.populate_call(name, args, lv.params, pos)
    schema = parts[-2] if len(parts) > 1 else None
    try:
        result = make_function(name, args, lv.params, pos, schema, CATALOG_TYPES.get(),
                               bool(body.get("func_variadic")))
    except UndefinedFunction as error:
        if written is not raw_args and error.message.startswith("function "):  # (named as written)
            shown = ", ".join(_argument_shown(a, lv) for a in written)
            error.message = f"function {name}({shown}) does not exist"
        raise
    if isinstance(result, FuncExpr) and result.retset:
        _check_srf_placement(lv, pos)
    return result


# Built-ins PostgreSQL users call with named arguments (f(name => value)): their parameter names
# (pg_proc.proargnames) and the defaults of the trailing ones (None: required; _OVERLOAD: may be
# left out at the end, another overload taking the call)
_ZERO = {"A_Const": {"ival": {"ival": 0}}}
_OVERLOAD: dict[str, Any] = {}
_PARAMETERS: dict[str, tuple[tuple[str, dict[str, Any] | None], ...]] = {
    "make_interval": tuple((n, _ZERO) for n in ("years", "months", "weeks", "days", "hours", "mins", "secs")),
    "make_date": (("year", None), ("month", None), ("day", None)),
    "make_time": (("hour", None), ("min", None), ("sec", None)),
    "make_timestamp": tuple((n, None) for n in ("year", "month", "mday", "hour", "min", "sec")),
    "make_timestamptz": (*((n, None) for n in ("year", "month", "mday", "hour", "min", "sec")), ("timezone", _OVERLOAD)),
    "jsonb_set": (("jsonb_in", None), ("path", None), ("replacement", None),
                  ("create_if_missing", {"A_Const": {"boolval": {"boolval": True}}})),
}


def _positional(name: str, raw: Any, lv: Level, pos: int | None) -> list[Any]:
    """f(a, name => b): the arguments in parameter order, the defaults of those left out filled
    in up to the last one given (PostgreSQL's named notation, for the built-ins in _PARAMETERS;
    elsewhere no function matches, as for a function without those parameter names)."""
    params = _PARAMETERS.get(name)
    names = [p for p, _ in params] if params is not None else []
    slots: dict[int, Any] = {}
    seen: set[str] = set()
    for i, arg in enumerate(raw):
        named = arg.get("NamedArgExpr")
        if named is None:
            if seen:  # a named argument came before
                raise SyntaxError_("positional argument cannot follow named argument",
                                   position=lv.position(next(iter(arg.values())).get("location")))
            slots[i] = arg
            continue
        if named["name"] in seen:
            raise SyntaxError_(f'argument name "{named["name"]}" used more than once',
                               position=lv.position(named.get("location")))
        seen.add(named["name"])
        if named["name"] not in names or names.index(named["name"]) in slots:
            slots[-1 - i] = arg  # no such parameter (or it was given by position): no function matches
            continue
        slots[names.index(named["name"])] = named["arg"]
    if any(k < 0 for k in slots) or params is None or any(
            default is None for _, default in params[max(slots) + 1:]):
        shown = ", ".join(_argument_shown(a, lv) for a in raw)
        raise UndefinedFunction(f"function {name}({shown}) does not exist", hint=_NO_FUNCTION_HINT, position=pos)
    last = max(slots)
    out = []
    for i in range(last + 1):
        if i in slots:
            out.append(slots[i])
        elif params[i][1] is not None and params[i][1] is not _OVERLOAD:
            out.append(params[i][1])
        else:
            shown = ", ".join(_argument_shown(a, lv) for a in raw)
            raise UndefinedFunction(f"function {name}({shown}) does not exist", hint=_NO_FUNCTION_HINT, position=pos)
    return out


def _user_positional(name: str, schema: str | None, raw: Any, lv: Level, pos: int | None) -> list[Any] | None:
    """f(a, name => b) of a function CREATE FUNCTION made: the arguments in parameter order for
    the one function of that name whose parameters take them (left-out ones before the last
    given filled with their defaults; trailing ones left to the call); None if none does."""
    state = CATALOG_TYPES.get()
    if state is None:
        return None
    fits: list[list[Any]] = []
    for fn in state.user_functions(name, schema):
        slots: dict[int, Any] = {}
        ok = True
        for i, arg in enumerate(raw):
            named = arg.get("NamedArgExpr")
            if named is None:
                slots[i] = arg
                continue
            if named["name"] not in fn.arg_names or fn.arg_names.index(named["name"]) in slots:
                ok = False
                break
            slots[fn.arg_names.index(named["name"])] = named["arg"]
        if not ok:
            continue
        last = max(slots, default=-1)
        defaults = fn.arg_defaults or (None,) * len(fn.arg_types)
        if any(i not in slots and defaults[i] is None for i in range(len(fn.arg_types))):
            continue
        fits.append([slots[i] if i in slots else _default_node(defaults[i]) for i in range(last + 1)])
    if len(fits) == 1:
        return fits[0]
    return None


def _default_node(text: str | None) -> Any:
    """A parameter default's SQL text as a parse-tree node (the call's argument in its place)."""
    import json

    import pglast

    tree = json.loads(pglast.parser.parse_sql_json(f"SELECT {text}"))
    return tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]["val"]


def _argument_shown(arg: Any, lv: Level) -> str:
    """An argument as 'function f(...) does not exist' lists it: `name => type` when named."""
    named = arg.get("NamedArgExpr")
    value = bind(named["arg"] if named else arg, lv)
    shown = resolve.type_name(value.type_oid)
    return f"{named['name']} => {shown}" if named else shown


_NO_FUNCTION_HINT = "No function matches the given name and argument types. You might need to add explicit type casts."


_SRF_HINT = "You might be able to move the set-returning function into a LATERAL FROM item."
_SRF_MESSAGES = {"functions in FROM": "set-returning functions must appear at top level of FROM",
                 "ORDER BY of VALUES": "set-valued function called in context that cannot accept a set"}
_SRF_CLAUSES = ("", "GROUP BY")  # the target list, ORDER BY, DISTINCT ON and GROUP BY (PostgreSQL's check_srf_call_placement)


def _check_srf_placement(lv: Level, pos: int | None) -> None:
    """Refuses a set-returning function where PostgreSQL does; records where it was for the
    constructs that refuse one inside them once bound (CASE, COALESCE, aggregates, windows)."""
    clause = lv.srf_clause if lv.srf_clause is not None else lv.agg_clause
    if clause in _SRF_MESSAGES:
        raise FeatureNotSupported(_SRF_MESSAGES[clause], position=pos)
    if clause not in _SRF_CLAUSES:
        raise FeatureNotSupported(f"set-returning functions are not allowed in {clause}", position=pos)
    lv.extra.setdefault("srfs", []).append(pos)


def _srf_count(lv: Level) -> int:
    return len(lv.extra.get("srfs", ()))


def _refuse_srf_inside(lv: Level, before: int, message: str) -> None:
    """Raises `message` (0A000) when a set-returning function was bound since `before`."""
    srfs = lv.extra.get("srfs", ())
    if len(srfs) > before:
        raise FeatureNotSupported(message, hint=_SRF_HINT, position=srfs[before])


def _no_set(expr: Expr, construct: str, node: dict[str, Any], lv: Level) -> Expr:
    """PostgreSQL's coerce_to_boolean: a boolean argument must not return a set (the error points
    at the argument's leftmost token, as exprLocation does)."""
    if srf.contains_srf(expr):
        raise DatatypeMismatch(f"argument of {construct} must not return a set", position=lv.position(leftmost_location(node)))
    return expr


def leftmost_location(node: Any) -> int | None:
    """The smallest token location in a parse tree (None when it has none)."""
    found: int | None = None
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            loc = item.get("location")
            if isinstance(loc, int) and loc >= 0 and (found is None or loc < found):
                found = loc
            stack.extend(v for k, v in item.items() if k != "subselect")
        elif isinstance(item, list):
            stack.extend(item)
    return found


_SEQUENCE_FUNCTIONS = {"nextval", "currval", "setval"}


def _sequence_call(body: dict[str, Any], name: str, lv: Level, pos: int | None) -> Expr:
    """nextval/currval/setval('seq'): the sequence is looked up at plan time (as regclass would)."""
    from pgaurora.catalog.model import Sequence
    from pgaurora.errors import UndefinedTable

    args = body.get("args", ())
    first = args[0] if args else {}
    if "TypeCast" in first:
        first = first["TypeCast"]["arg"]
    if "A_Const" not in first or "sval" not in first["A_Const"]:
        return _dynamic_sequence_call(args, name, lv, pos)
    text = first["A_Const"]["sval"].get("sval", "")
    parts = text.split(".")
    seq_name = parts[-1].strip('"') if text.startswith('"') or '"' in parts[-1] else parts[-1].lower()
    schema = parts[0] if len(parts) > 1 else None
    catalog = lv.scope.state.catalog
    rel = catalog.relation(seq_name, schema) if catalog is not None else None  # type: ignore[attr-defined]
    if rel is None:
        raise UndefinedTable(f'relation "{text}" does not exist', position=lv.position(first["A_Const"].get("location")))
    if not isinstance(rel, Sequence):
        raise WrongObjectType(f'"{text}" is not a sequence', position=pos)
    oid = rel.oid
    rest = [bind(a, lv) for a in args[1:]]
    from pgaurora.executor.privileges import require_sequence

    if name == "nextval":
        def nextval(ctx: Any) -> Any:
            seq = ctx.extra["catalog_state"].sequence(oid)
            require_sequence(ctx, seq, "Uw")
            value = ctx.catalog.nextval(seq)
            ctx.catalog.last_values[(ctx.backend_pid, oid)] = value
            ctx.catalog.last_sequence[ctx.backend_pid] = oid
            return value
        return FuncExpr("nextval", nextval, (), typeinfo.INT8_OID, -1, False, True, False, True)
    if name == "currval":
        def currval(ctx: Any) -> Any:
            require_sequence(ctx, ctx.extra["catalog_state"].sequence(oid), "rU")
            value = ctx.catalog.last_values.get((ctx.backend_pid, oid))
            if value is None:
                from pgaurora.errors import ObjectNotInPrerequisiteState

                raise ObjectNotInPrerequisiteState(
                    f'currval of sequence "{rel.name}" is not yet defined in this session')
            return value
        return FuncExpr("currval", currval, (), typeinfo.INT8_OID, -1, False, True, False, True)
    value_arg = coerce(rest[0], typeinfo.INT8_OID, -1, "implicit", lv.params, pos) if rest else Const(None, 20)
    called_arg = coerce(rest[1], BOOL_OID, -1, "implicit", lv.params, pos) if len(rest) > 1 else Const(True, BOOL_OID)

    def setval(ctx: Any, value: Any, called: Any) -> Any:
        seq = ctx.extra["catalog_state"].sequence(oid)
        require_sequence(ctx, seq, "w")
        result = ctx.catalog.setval(seq, value, bool(called))
        if called:
            ctx.catalog.last_values[(ctx.backend_pid, oid)] = value
        return result
    return FuncExpr("setval", setval, (value_arg, called_arg), typeinfo.INT8_OID, -1, True, True, False, True)


def _dynamic_sequence_call(args: Any, name: str, lv: Level, pos: int | None) -> Expr:
    """nextval/currval/setval(expr): the sequence named (text) or given (regclass) by a value
    known only when the call runs (setval(pg_get_serial_sequence('t', 'id'), ...), as Django's
    sequence reset sends it)."""
    from pgaurora.executor.privileges import require_sequence

    which = bind(args[0], lv)
    if which.type_oid in (0, UNKNOWN_OID):
        which = coerce(which, TEXT_OID, -1, "implicit", lv.params, pos)
    rest = [bind(a, lv) for a in args[1:]]

    def sequence(ctx: Any, named: Any) -> Any:
        from pgaurora.catalog.model import Sequence
        from pgaurora.errors import UndefinedTable

        state = ctx.extra["catalog_state"]
        if isinstance(named, int):
            seq = state.by_oid.get(named)
            shown = str(named)
        else:
            parts = [p[1:-1].replace('""', '"') if p.startswith('"') else p.lower() for p in str(named).split(".")]
            seq = state.relation(parts[-1], parts[0] if len(parts) > 1 else None)
            shown = str(named)
        if seq is None:
            raise UndefinedTable(f'relation "{shown}" does not exist')
        if not isinstance(seq, Sequence):
            raise WrongObjectType(f'"{shown}" is not a sequence')
        return seq

    if name == "nextval":
        def nextval(ctx: Any, named: Any) -> Any:
            seq = sequence(ctx, named)
            require_sequence(ctx, seq, "Uw")
            value = ctx.catalog.nextval(seq)
            ctx.catalog.last_values[(ctx.backend_pid, seq.oid)] = value
            ctx.catalog.last_sequence[ctx.backend_pid] = seq.oid
            return value
        return FuncExpr("nextval", nextval, (which,), typeinfo.INT8_OID, -1, True, True, False, True)
    if name == "currval":
        def currval(ctx: Any, named: Any) -> Any:
            seq = sequence(ctx, named)
            require_sequence(ctx, seq, "rU")
            value = ctx.catalog.last_values.get((ctx.backend_pid, seq.oid))
            if value is None:
                from pgaurora.errors import ObjectNotInPrerequisiteState

                raise ObjectNotInPrerequisiteState(f'currval of sequence "{seq.name}" is not yet defined in this session')
            return value
        return FuncExpr("currval", currval, (which,), typeinfo.INT8_OID, -1, True, True, False, True)
    value_arg = coerce(rest[0], typeinfo.INT8_OID, -1, "implicit", lv.params, pos) if rest else Const(None, 20)
    called_arg = coerce(rest[1], BOOL_OID, -1, "implicit", lv.params, pos) if len(rest) > 1 else Const(True, BOOL_OID)

    def setval(ctx: Any, named: Any, value: Any, called: Any) -> Any:
        seq = sequence(ctx, named)
        require_sequence(ctx, seq, "w")
        result = ctx.catalog.setval(seq, value, bool(called))
        if called:
            ctx.catalog.last_values[(ctx.backend_pid, seq.oid)] = value
        return result
    return FuncExpr("setval", setval, (which, value_arg, called_arg), typeinfo.INT8_OID, -1, True, True, False, True)


def _aggregate_call(body: dict[str, Any], name: str, lv: Level, pos: int | None) -> Expr:
    if lv.aggs is None or lv.in_agg:
        if lv.in_agg:
            raise GroupingError("aggregate function calls cannot be nested", position=pos)
        raise GroupingError(f"aggregate functions are not allowed in {lv.agg_clause}", position=pos)
    inner = Level(lv.scope, lv.params, lv.position, lv.plan_subquery, lv.aggs, lv.agg_clause, None, True)
    star = bool(body.get("agg_star"))
    args = [] if star else [bind(a, inner) for a in body.get("args", ())]
    rows_as_json = name in ("json_agg", "jsonb_agg") and len(args) == 1 and isinstance(args[0], RowExpr)
    if rows_as_json:  # a row (a table's whole row): its fields by name, as to_json / to_jsonb write it
        converted = rowtypes.record_function("to_jsonb" if name == "jsonb_agg" else "to_json", args)
        assert converted is not None
        args = [converted]
    within = _within_group(body, name, args, inner, pos)
    if within:  # ordered-set: the sorted values first, the direct arguments after (a NULL's type
        # comes from the aggregate)
        args = [within[0].expr, *args]
        arg_oids = (args[0].type_oid, *(a.type_oid for a in args[1:]))
    else:
        arg_oids = tuple(a.type_oid if a.type_oid != UNKNOWN_OID else TEXT_OID for a in args)
    agg: Any = builtins.resolve_aggregate(name, arg_oids)
    if rows_as_json and name == "json_agg" and agg is not None:  # (rows are set apart by ", \n ")
        agg = dataclasses.replace(agg, binder=None, final=lambda state: None if state is None else
                                  "[" + ", \n ".join("null" if v is None else v for v in state) + "]")
    if agg is None and not within and not star:  # CREATE AGGREGATE's
        from pgaurora.planner.aggregates import user_aggregate

        parts = names_of(body["funcname"])
        agg = user_aggregate(CATALOG_TYPES.get(), name, parts[-2] if len(parts) > 1 else None, arg_oids, pos)
    if agg is not None and not within and name in ORDERED_SET_AGGREGATES:
        raise WrongObjectType(f"WITHIN GROUP is required for ordered-set aggregate {name}", position=pos)
    if agg is None:
        shown = "*" if star else ", ".join(resolve.type_name(o) for o in arg_oids)
        raise UndefinedFunction(
            f"function {name}({shown}) does not exist",
            hint="No function matches the given name and argument types. You might need to add explicit type casts.",
            position=pos)
    args = [coerce(a, t, -1, "implicit", lv.params, pos) if t not in typeinfo.POLYMORPHIC_OIDS and t != typeinfo.ANY_OID
            else resolve.finalize_unknown(a, lv.params) for a, t in zip(args, agg.arg_oids, strict=False)]
    agg_filter = None
    if "agg_filter" in body:
        filter_level = Level(lv.scope, lv.params, lv.position, lv.plan_subquery, lv.aggs, lv.agg_clause, None, True,
                             srf_clause="FILTER")
        agg_filter = resolve.to_boolean(bind(body["agg_filter"], filter_level), "FILTER", lv.params, pos)
    order: tuple[SortKey, ...] = ()
    if within:
        order = (dataclasses.replace(within[0], expr=args[0]),)
    elif body.get("agg_order"):
        order = tuple(sort_key(s["SortBy"], inner) for s in body["agg_order"])
    _refuse_srf_inside(inner, 0, "aggregate function calls cannot contain set-returning function calls")
    spec = AggSpec(name, agg.make, tuple(args), bool(body.get("agg_distinct")), agg_filter, agg.result_oid, order, star)
    lv.aggs.append(spec)
    return AggRef(len(lv.aggs) - 1, agg.result_oid)


def _within_group(body: dict[str, Any], name: str, direct: list[Expr], lv: Level,
                  pos: int | None) -> tuple[SortKey, ...]:
    """The WITHIN GROUP (ORDER BY ...) of an ordered-set aggregate (percentile_cont,
    percentile_disc, mode); elsewhere PostgreSQL finds no function of those arguments."""
    if not body.get("agg_within_group"):
        return ()
    if name in ("rank", "dense_rank", "percent_rank", "cume_dist"):
        raise FeatureNotSupported("hypothetical-set aggregates are not supported", position=pos)
    order = tuple(sort_key(s["SortBy"], lv) for s in body.get("agg_order", ()))
    if name not in ORDERED_SET_AGGREGATES or len(order) != 1:
        shown = ", ".join(resolve.type_name(e.type_oid) for e in (*direct, *(k.expr for k in order)))
        raise UndefinedFunction(
            f"function {name}({shown}) does not exist",
            hint="No function matches the given name and argument types. You might need to add explicit type casts.",
            position=pos)
    return order


def sort_key(sort_by: dict[str, Any], lv: Level, expr: Expr | None = None) -> SortKey:
    if expr is None:
        expr = resolve.finalize_unknown(bind(sort_by["node"], lv), lv.params)
    descending = sort_by.get("sortby_dir") == "SORTBY_DESC"
    if sort_by.get("sortby_dir") == "SORTBY_USING":  # ORDER BY x USING > : a btree type's < or >
        op = names_of(sort_by["useOp"])[-1]
        if op not in ("<", ">", "~<~", "~>~"):
            raise WrongObjectType(f"operator {op} is not a valid ordering operator",
                                  hint='Ordering operators must be "<" or ">" members of btree operator families.',
                                  position=lv.position(sort_by.get("location")))
        descending = op in (">", "~>~")
    nulls = sort_by.get("sortby_nulls", "SORTBY_NULLS_DEFAULT")
    nulls_first = descending if nulls == "SORTBY_NULLS_DEFAULT" else nulls == "SORTBY_NULLS_FIRST"
    return SortKey(expr, descending, nulls_first)


def _window_call(body: dict[str, Any], name: str, lv: Level, pos: int | None) -> Expr:
    if lv.windows is None:
        raise WindowingError(f"window functions are not allowed in {lv.agg_clause}", position=pos)
    if name in ORDERED_SET_AGGREGATES:
        raise FeatureNotSupported(f"OVER is not supported for ordered-set aggregate {name}", position=pos)
    over = body["over"]
    if "name" in over and over["name"] in lv.extra.get("windows", {}):
        base = lv.extra["windows"][over["name"]]
        own_frame = over.get("frameOptions", 0) & 0x1  # (FRAMEOPTION_NONDEFAULT: OVER (w ROWS ...))
        over = {**base, **{k: v for k, v in over.items()
                           if k != "name" and (own_frame or k not in ("frameOptions", "startOffset", "endOffset"))}}
    inner = Level(lv.scope, lv.params, lv.position, lv.plan_subquery, lv.aggs, lv.agg_clause, None, lv.in_agg,
                  dict(lv.extra, srfs=[]))
    args = [] if body.get("agg_star") else [bind(a, inner) for a in body.get("args", ())]
    _refuse_srf_inside(inner, 0, "window function calls cannot contain set-returning function calls")
    partition = tuple(resolve.finalize_unknown(bind(p, inner), lv.params) for p in over.get("partitionClause", ()))
    order = tuple(sort_key(s["SortBy"], inner) for s in over.get("orderClause", ()))
    inner.srf_clause = "window definitions"
    arg_oids = tuple(a.type_oid if a.type_oid != UNKNOWN_OID else TEXT_OID for a in args)
    win: Any = builtins.resolve_window(name, arg_oids)
    if win is None:  # CREATE AGGREGATE's, over a window
        from pgaurora.planner.aggregates import user_aggregate

        parts = names_of(body["funcname"])
        win = user_aggregate(CATALOG_TYPES.get(), name, parts[-2] if len(parts) > 1 else None, arg_oids, pos)
    if win is None:
        shown = ", ".join(resolve.type_name(o) for o in arg_oids)
        raise UndefinedFunction(f"function {name}({shown}) does not exist", position=pos)
    args = [coerce(a, t, -1, "implicit", lv.params, pos) if t not in typeinfo.POLYMORPHIC_OIDS and t != typeinfo.ANY_OID
            else resolve.finalize_unknown(a, lv.params) for a, t in zip(args, win.arg_oids, strict=False)]
    from pgaurora.planner.windowframe import window_frame

    frame = window_frame(over, order, lambda node: bind(node, inner), lv.params, lv.position)
    inner.srf_clause = "FILTER"
    agg_filter = bind(body["agg_filter"], inner) if "agg_filter" in body else None
    spec = WindowSpec(name, tuple(args), partition, order, frame, win.result_oid, win.make, agg_filter)
    lv.windows.append(spec)
    return WindowRef(len(lv.windows) - 1, win.result_oid)


def _grouping_func(body: dict[str, Any], lv: Level) -> Expr:
    if lv.aggs is None:
        raise GroupingError(f"grouping operations are not allowed in {lv.agg_clause}",
                            position=lv.position(body.get("location")))
    return GroupingRef(tuple(bind(a, lv) for a in body.get("args", ())))


def _collate(body: dict[str, Any], lv: Level) -> Expr:
    return bind(body["arg"], lv)


def _a_indirection(body: dict[str, Any], lv: Level) -> Expr:
    """Array subscripts and slices (1-based, out of range -> NULL), as PostgreSQL's array_ref."""
    arg = bind(body["arg"], lv)
    indirection = body["indirection"]
    if isinstance(arg, FuncExpr) and arg.columns and len(indirection) == 1 and "String" in indirection[0]:
        return rowtypes.field_of(arg, indirection[0]["String"]["sval"], lv.position(leftmost_location(body["arg"])))
    if isinstance(arg, RowExpr) and len(indirection) == 1 and "String" in indirection[0]:
        return rowtypes.row_field(arg, indirection[0]["String"]["sval"], lv.position(leftmost_location(body["arg"])))
    if "String" in indirection[0] and composites.attributes(arg.type_oid) is not None:
        for step in indirection:  # (x).a.b: a field of a composite value, then of that one's
            if "String" not in step:
                raise FeatureNotSupported("subscripts after a field selection are not supported")
            arg = rowtypes.composite_field(arg, step["String"]["sval"],
                                           lv.position(leftmost_location(body["arg"])))
        return arg
    indices = [ind["A_Indices"] for ind in indirection if "A_Indices" in ind]
    if len(indices) != len(indirection):
        raise FeatureNotSupported("field selection is not supported")
    if arg.type_oid in (typeinfo.INT2VECTOR_OID, typeinfo.OIDVECTOR_OID, typeinfo.NAME_OID) and len(indices) == 1 \
            and not indices[0].get("is_slice"):
        # 0-based vectors (pg_index.indkey[0]): system relations: see pgaurora/catalog/system
        sub = coerce(bind(indices[0]["uidx"], lv), INT4_OID, -1, "implicit", lv.params, None)
        return make_function("array_subscript", [arg, sub], lv.params, None)
    elem = typeinfo.element_of(arg.type_oid)
    if not elem:
        raise DatatypeMismatch(f"cannot subscript type {resolve.type_name(arg.type_oid)} because it does not "
                               f"support subscripting", position=lv.position(body.get("location")))
    is_slice = any(i.get("is_slice") for i in indices)
    bounds: list[Expr] = []
    for idx in indices:
        for key in ("lidx", "uidx"):
            if key in idx:
                bounds.append(coerce(bind(idx[key], lv), INT4_OID, -1, "implicit", lv.params, None))
            elif is_slice:
                bounds.append(Const(None, INT4_OID))
    shape = tuple((("lidx" in i) or is_slice, ("uidx" in i)) for i in indices)

    def subscript(value: Any, *subs: Any) -> Any:
        if value is None:
            return None
        k = 0
        if not is_slice:
            for _ in shape:
                i = subs[k]
                k += 1
                if i is None or not isinstance(value, list) or not 1 <= i <= len(value):
                    return None
                value = value[i - 1]
            return value
        lo, hi = subs[0], subs[1]
        lo = 1 if lo is None else max(lo, 1)
        hi = len(value) if hi is None else min(hi, len(value))
        return value[lo - 1:hi] if lo <= hi else []

    result = arg.type_oid if is_slice else elem
    return FuncExpr("array_subscript", subscript, (arg, *bounds), result, -1, False)


_HANDLERS: dict[str, Callable[[dict[str, Any], Level], Expr]] = {
    "A_Const": _const, "ColumnRef": _column_ref, "ParamRef": _param, "A_Expr": _a_expr,
    "BoolExpr": _bool_expr, "NullTest": _null_test, "BooleanTest": _boolean_test, "TypeCast": _type_cast,
    "CaseExpr": _case, "CoalesceExpr": _coalesce, "MinMaxExpr": _min_max, "A_ArrayExpr": _array,
    "RowExpr": _row, "SQLValueFunction": _sql_value_function, "SubLink": _sub_link, "FuncCall": _func_call,
    "CollateClause": _collate, "A_Indirection": _a_indirection, "GroupingFunc": _grouping_func,
}

__all__ = ["AggRef", "GroupingRef", "WindowRef", "Level", "bind", "leftmost_location", "sort_key", "type_from_name", "names_of", "Decimal",
           "positional_arguments"]


def _plain_value(expr: Expr) -> bool:
    """A constant or a parameter, possibly cast: an IN list item that may join an array."""
    if isinstance(expr, Const | Param):
        return True
    return (isinstance(expr, FuncExpr) and len(expr.args) == 1 and not expr.volatile and not expr.retset
            and not expr.needs_context and _plain_value(expr.args[0]))
