"""CREATE DOMAIN / DROP DOMAIN, and a domain's constraints where its values are made.

Owns reading those statements (the base type, DEFAULT, NOT NULL, CHECK constraints with their
PostgreSQL default names <domain>_check, <domain>_check1, ...) into executor.domains' nodes,
and the expressions that enforce a domain: `checked(domain, value)` for a cast to it (a value
that violates it: 23502 "domain d does not allow null values" / 23514 "value for domain d
violates check constraint ..."), `column_checks` for a table's columns of domain types (what
INSERT, UPDATE and COPY check, executor.writer). A domain's value is its base type's everywhere
else (planner.exprbind.type_from_name). Not the catalog rows (catalog.model.Domain).
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.builtins.registry import FunctionDef
from pgaurora.datatypes import typeinfo
from pgaurora.errors import (
    CheckViolation,
    DatatypeMismatch,
    FeatureNotSupported,
    NotNullViolation,
    UndefinedObject,
)
from pgaurora.executor.domains import AlterDomain, CreateDomain, DropDomains, check_name
from pgaurora.executor.expr import Const, Expr, FuncExpr, NullTest
from pgaurora.executor.modify import CheckSpec
from pgaurora.planner.ddl import DdlPlanner
from pgaurora.planner.exprbind import DOMAIN_VALUE, Level, bind, domain_named, schema_and_name, type_from_name
from pgaurora.planner.scope import Scope


def plan_domain_statement(ddl: DdlPlanner, kind: str, body: dict[str, Any]) -> tuple[Any, str] | None:
    if kind == "CreateDomainStmt":
        return _create_domain(ddl, body), "CREATE DOMAIN"
    if kind == "DropStmt" and body.get("removeType") == "OBJECT_DOMAIN":
        names = tuple(schema_and_name(obj["TypeName"]["names"]) for obj in body.get("objects", ()))
        return DropDomains(names, bool(body.get("missing_ok")), body.get("behavior") == "DROP_CASCADE"), "DROP DOMAIN"
    if kind == "AlterDomainStmt":
        return _alter_domain(ddl, body), "ALTER DOMAIN"
    if kind == "RenameStmt" and body.get("renameType") in ("OBJECT_DOMAIN", "OBJECT_DOMCONSTRAINT"):
        schema, name = schema_and_name(body["object"]["List"]["items"])
        if body["renameType"] == "OBJECT_DOMAIN":
            return AlterDomain(schema, name, "rename", new_name=body["newname"]), "ALTER DOMAIN"
        return (AlterDomain(schema, name, "rename constraint", constraint=body["subname"], new_name=body["newname"]),
                "ALTER DOMAIN")
    return None


def _alter_domain(ddl: DdlPlanner, body: dict[str, Any]) -> AlterDomain:
    """ALTER DOMAIN ... SET / DROP DEFAULT, SET / DROP NOT NULL, ADD / DROP CONSTRAINT."""
    schema, name = schema_and_name(body["typeName"])
    subtype = body.get("subtype")
    if subtype == "T":
        if body.get("def") is None:
            return AlterDomain(schema, name, "drop default")
        return AlterDomain(schema, name, "set default",
                           default=ddl.text.after_keyword("DEFAULT", _first_location(body["def"]), True))
    if subtype == "O":
        return AlterDomain(schema, name, "set not null")
    if subtype == "N":
        return AlterDomain(schema, name, "drop not null")
    if subtype == "X":
        return AlterDomain(schema, name, "drop constraint", constraint=body["name"],
                           missing_ok=bool(body.get("missing_ok")))
    if subtype == "C":
        con = body["def"]["Constraint"]
        if con["contype"] != "CONSTR_CHECK":
            raise FeatureNotSupported("only CHECK constraints can be added to a domain", sqlstate="42809")
        if con.get("skip_validation"):
            raise FeatureNotSupported("ALTER DOMAIN ... ADD CONSTRAINT ... NOT VALID is not supported")
        text = ddl.text.after_keyword("CHECK", con["location"] if "conname" not in con else
                                      _first_location(con["raw_expr"]), False)
        domain = ddl.qc.catalog.user_domain(name, schema)
        if domain is not None:
            _check_expression(ddl, text, domain.base_type, domain.base_typmod)
        return AlterDomain(schema, name, "add constraint", constraint=con.get("conname"), check=text)
    raise FeatureNotSupported("ALTER DOMAIN ... VALIDATE CONSTRAINT is not supported")


def _create_domain(ddl: DdlPlanner, body: dict[str, Any]) -> CreateDomain:
    schema, name = schema_and_name(body["domainname"])
    if schema == "pg_temp":
        raise UndefinedObject('schema "pg_temp" does not exist', sqlstate="3F000")
    type_name = body["typeName"]
    if domain_named(type_name) is not None:
        raise FeatureNotSupported("domains over domains are not supported")
    base, typmod = type_from_name(type_name, ddl.pos)
    info = typeinfo.lookup(base)
    if info.typtype == "p" or base == typeinfo.RECORD_OID:
        raise DatatypeMismatch(f'"{info.name}" is not a valid base type for a domain', sqlstate="42804")
    not_null = False
    default: str | None = None
    checks: list[tuple[str, str]] = []
    taken: set[str] = set()
    for item in body.get("constraints", ()):
        con = item["Constraint"]
        contype = con["contype"]
        if contype == "CONSTR_NOTNULL":
            not_null = True
        elif contype == "CONSTR_NULL":
            not_null = False
        elif contype == "CONSTR_DEFAULT":
            default = ddl.text.after_keyword("DEFAULT", con["location"], True)
        elif contype == "CONSTR_CHECK":
            text = ddl.text.after_keyword("CHECK", con["location"] if "conname" not in con else
                                          _first_location(con["raw_expr"]), False)
            _check_expression(ddl, text, base, typmod)
            conname = con.get("conname") or check_name(name, taken)
            taken.add(conname)
            checks.append((conname, text))
        else:
            raise FeatureNotSupported(f"{contype.removeprefix('CONSTR_')} constraints of domains are not supported")
    schema_oid = ddl.schema_oid({"schemaname": schema} if schema else {})
    return CreateDomain(schema_oid, name, base, typmod, not_null, default, tuple(checks))


def _first_location(node: Any) -> int:
    from pgaurora.planner.exprbind import leftmost_location

    return leftmost_location(node) or 0


def _check_expression(ddl: DdlPlanner, text: str, base: int, typmod: int) -> None:
    """A domain's CHECK must be a boolean expression of VALUE (42804 otherwise)."""
    lv = Level(Scope(ddl.qc.state), ddl.qc.params, lambda loc: None, _no_subquery, None, "check constraints")
    expr = _bind_check(text, Const(None, base, typmod), lv)
    if expr.type_oid != typeinfo.BOOL_OID:
        raise DatatypeMismatch(f"argument of CHECK must be type boolean, not type {typeinfo.format_type(expr.type_oid)}",
                               sqlstate="42804")


def _no_subquery(_query: dict[str, Any], _scope: Scope) -> Any:
    raise FeatureNotSupported("cannot use subquery in check constraint", sqlstate="0A000")


def _bind_check(text: str, value: Expr, lv: Level) -> Expr:
    from pgaurora.planner.modify import parse_expression

    token = DOMAIN_VALUE.set(value)
    try:
        return bind(parse_expression(text), lv)
    finally:
        DOMAIN_VALUE.reset(token)


def checked(domain: Any, value: Expr, lv: Level) -> Expr:
    """`value` (of the domain's base type) passed through the domain's constraints."""
    tests = tuple(_bind_check(text, value, lv) for _, text, _ in domain.checks)
    names = tuple(name for name, _, _ in domain.checks)
    label = domain.name
    not_null = domain.not_null

    def check(value: Any, *results: Any) -> Any:
        if value is None and not_null:
            raise NotNullViolation(f"domain {label} does not allow null values", datatype=label)
        for name, ok in zip(names, results, strict=True):
            if ok is False:
                raise CheckViolation(f'value for domain {label} violates check constraint "{name}"',
                                     datatype=label, constraint=name)
        return value

    if not tests and not not_null:
        return value
    fn = FunctionDef("domain_check", (), value.type_oid, check, strict=False, volatility="i")
    return FuncExpr(label, fn.impl, (value, *tests), value.type_oid, value.typmod, False, True)


def column_checks(state: Any, columns: Any, lv_of: Any) -> list[CheckSpec]:
    """The checks of a table's columns of domain types, over the table row: NOT NULL and CHECK
    (CheckSpec.domain names the domain: executor.writer's messages are the domain's)."""
    from pgaurora.executor.expr import Var

    specs: list[CheckSpec] = []
    for i, column in enumerate(columns):
        if not column.domain or column.dropped:
            continue
        domain = state.domain(column.domain)
        if domain is None:
            continue
        var = Var(i, column.type_oid, column.typmod)
        if domain.not_null:
            specs.append(CheckSpec("", NullTest(var, True), domain=domain.name))
        for name, text, _ in domain.checks:
            specs.append(CheckSpec(name, _bind_check(text, var, lv_of()), domain=domain.name))
    return specs
