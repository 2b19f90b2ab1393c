"""Expression and partial indexes: CREATE INDEX ON t (lower(name)) [WHERE predicate].

Owns analysing such CREATE INDEX statements (PostgreSQL's checks: IMMUTABLE functions only
(42P17), no aggregates (42803) or subqueries (0A000), a boolean predicate), the text the catalog
keeps (Index.expressions / Index.predicate, deparsed by pglast), and binding that text back
into key expressions over the table row (`index_key_spec`, cached per definition) for the
executor, which computes the keys when rows are written (executor.indexkeys), and for the
index rule, which uses such an index when a query compares the same expression (planner.rules)
and its WHERE implies the predicate (`predicate_implied`).

    CREATE INDEX ON t (lower(name)) WHERE active
    SELECT ... WHERE lower(name) = 'x' AND active   ->  IndexScan t_lower_idx (lower(name) = 'x')
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pglast
from pglast.stream import RawStream

from pgaurora.catalog.model import Index, Table
from pgaurora.catalog.state import CatalogState
from pgaurora.errors import FeatureNotSupported, InvalidObjectDefinition
from pgaurora.executor.ddl import CreateIndex
from pgaurora.executor.expr import Const, Expr, FuncExpr, NullTest, Var, walk
from pgaurora.executor.indexkeys import IndexKeySpec
from pgaurora.planner.accessmethods import operator_classes
from pgaurora.planner.exprbind import Level, bind
from pgaurora.planner.generated import is_immutable
from pgaurora.planner.querycontext import conjuncts
from pgaurora.planner.resolve import ParamTypes, to_boolean
from pgaurora.planner.scope import RangeEntry, Scope, StatementState

_SPECS: dict[tuple[Any, ...], IndexKeySpec] = {}
_SPECS_LIMIT = 1000


def _entry(table: Table) -> RangeEntry:
    return RangeEntry(table.name,
                      [c.name if not c.dropped else f"........pg.dropped.{c.attnum}........" for c in table.columns],
                      [(c.type_oid, c.typmod) for c in table.columns], table_oid=table.oid,
                      attnums=[c.attnum for c in table.columns])


def _level(state: CatalogState, table: Table, clause: str) -> Level:
    def no_subquery(_query: dict[str, Any], _scope: Scope) -> Any:
        raise FeatureNotSupported(f"cannot use subquery in index {clause}")

    scope = Scope(StatementState(state))
    scope.add(_entry(table))
    return Level(scope, ParamTypes(()), lambda loc: None, no_subquery, None, f"index {clause}s")


def _bind_text(state: CatalogState, table: Table, text: str, clause: str) -> Expr:
    from pgaurora.planner.modify import parse_expression

    return bind(parse_expression(text), _level(state, table, clause))


def _check_immutable(expr: Expr, clause: str) -> None:
    if not all(is_immutable(n) for n in walk(expr)):
        raise InvalidObjectDefinition(f"functions in index {clause} must be marked IMMUTABLE")


def _key_name(text: str) -> str:
    """How messages show an index expression: a function call as is, anything else in parentheses."""
    node = pglast.parse_sql(f"SELECT {text}")[0].stmt.targetList[0].val
    return text if type(node).__name__ == "FuncCall" else f"({text})"


def index_key_spec(state: CatalogState, table: Table, index: Index) -> IndexKeySpec | None:
    """Key expressions and predicate of an expression / partial index (None for a plain index)."""
    if not index.expressions and index.predicate is None:
        return None
    cache_key = (index.oid, index.expressions, index.predicate, index.columns,
                 tuple((c.name, c.type_oid, c.typmod, c.dropped) for c in table.columns))
    spec = _SPECS.get(cache_key)
    if spec is not None:
        return spec
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    keys: list[Expr] = []
    names: list[str] = []
    for k, attnum in enumerate(index.columns):
        text = index.expressions[k] if k < len(index.expressions) else ""
        if text:
            keys.append(_bind_text(state, table, text, "expression"))
            names.append(_key_name(text))
        else:
            col = table.columns[positions[attnum]]
            keys.append(Var(positions[attnum], col.type_oid, col.typmod, col.name))
            names.append(col.name)
    predicate = None
    if index.predicate is not None:
        predicate = to_boolean(_bind_text(state, table, index.predicate, "predicate"), "WHERE", ParamTypes(()), None)
    spec = IndexKeySpec(index.oid, tuple(keys), predicate, tuple(names))
    if len(_SPECS) > _SPECS_LIMIT:
        _SPECS.clear()
    _SPECS[cache_key] = spec
    return spec


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "="}


def _bound(q: Expr) -> tuple[Expr, str, Any] | None:
    """(expression, op, constant) of `expr op constant` (either way round), for btree comparisons."""
    if not isinstance(q, FuncExpr) or not q.is_operator or len(q.args) != 2 or q.name not in _FLIP:
        return None
    left, right = q.args
    if isinstance(right, Const) and not isinstance(left, Const) and right.value is not None:
        return left, q.name, right.value
    if isinstance(left, Const) and not isinstance(right, Const) and left.value is not None:
        return right, _FLIP[q.name], left.value
    return None


def _implies(q: Expr, p: Expr) -> bool:
    """Does qual `q` imply predicate conjunct `p`? Equal expressions, or PostgreSQL's btree
    proofs on one expression and constants (x = 5 => x > 0, x >= 10 => x > 5, x < 3 => x <= 3),
    and x op c => x IS NOT NULL for any comparison."""
    if q == p:
        return True
    qb = _bound(q)
    if qb is None:
        return False
    if isinstance(p, NullTest) and p.is_not:
        return qb[0] == p.arg
    pb = _bound(p)
    if pb is None or qb[0] != pb[0]:
        return False
    (_, qop, qv), (_, pop, pv) = qb, pb
    try:
        if qop == "=":
            return {"=": qv == pv, "<": qv < pv, "<=": qv <= pv, ">": qv > pv, ">=": qv >= pv}[pop]
        if qop in (">", ">=") and pop in (">", ">="):
            return qv > pv or (qv == pv and (qop == pop or qop == ">"))
        if qop in ("<", "<=") and pop in ("<", "<="):
            return qv < pv or (qv == pv and (qop == pop or qop == "<"))
    except TypeError:
        return False
    return False


def predicate_implied(predicate: Expr | None, quals: list[Expr]) -> bool:
    """Does a query's WHERE (its conjuncts) imply a partial index's predicate? Each conjunct of the
    predicate must be implied by one of the query's (`_implies`). Constants only: a generic plan's
    parameters prove nothing."""
    if predicate is None:
        return True
    return all(any(_implies(q, p) for q in quals) for p in conjuncts(predicate))


def figure_name(node: Any) -> str:
    """PostgreSQL's FigureIndexColname: a function's name, a cast's argument, else 'expr'."""
    kind = type(node).__name__
    if kind == "FuncCall":
        return str(node.funcname[-1].sval)
    if kind == "TypeCast":
        return figure_name(node.arg)
    if kind == "ColumnRef" and type(node.fields[-1]).__name__ == "String":
        return str(node.fields[-1].sval)
    return "expr"


def plan_create_index(ddl: Any, body: dict[str, Any], table: Table, unique_name: Any, method: str) -> CreateIndex:
    """CREATE [UNIQUE] INDEX with key expressions and/or a WHERE predicate."""
    from pgaurora.errors import UndefinedColumn

    ast = pglast.parse_sql(ddl.stmt.text)[0].stmt
    state = ddl.qc.catalog
    names: list[str] = []
    texts: list[str] = []
    figured: list[str] = []
    for param in ast.indexParams:
        if param.expr is None:
            if table.column(param.name) is None:
                raise UndefinedColumn(f'column "{param.name}" does not exist')
            names.append(param.name)
            texts.append("")
            figured.append(param.name)
            continue
        if type(param.expr).__name__ == "ColumnRef":  # (name) in parentheses is a plain column
            column = figure_name(param.expr)
            if table.column(column) is None:
                raise UndefinedColumn(f'column "{column}" does not exist')
            names.append(column)
            texts.append("")
            figured.append(column)
            continue
        text = RawStream()(param.expr)
        _check_immutable(_bind_text(state, table, text, "expression"), "expression")
        names.append("")
        texts.append(text)
        figured.append(figure_name(param.expr))
    predicate = None
    if ast.whereClause is not None:
        predicate = RawStream()(ast.whereClause)
        bound = to_boolean(_bind_text(state, table, predicate, "predicate"), "WHERE", ParamTypes(()), None)
        _check_immutable(bound, "predicate")
    name = body.get("idxname")
    if name is None:
        taken = {n for (s, n) in state.relations if s == table.schema_oid}
        included = [e["IndexElem"].get("name", "expr") for e in body.get("indexIncludingParams", ())]
        name = unique_name(taken, f"{table.name}_{'_'.join(figured + included)}", "idx")
    from pgaurora.planner.ddl import new_index_definition  # (ddl imports this module)

    definition = new_index_definition(body, table, method, name, tuple(names), tuple(texts) if any(texts) else (),
                                      predicate)
    probe = Index(0, name, table.oid, 0, tuple(0 if t else table.column(n).attnum  # type: ignore[union-attr]
                                              for n, t in zip(names, texts, strict=True)),
                  definition.unique, expressions=definition.expressions, predicate=predicate)
    spec = index_key_spec(state, table, probe)
    if spec is not None:
        definition = dataclasses.replace(definition, opclasses=operator_classes(
            body, [k.type_oid for k in spec.keys], method))
    if spec is not None and any(texts):
        definition = dataclasses.replace(definition, attributes=tuple(
            (column, key.type_oid, key.typmod) for column, key in zip(index_column_names(figured), spec.keys, strict=True)))
    return CreateIndex(table.oid, definition, bool(body.get("if_not_exists")), key_spec=spec)


def index_column_names(figured: list[str]) -> list[str]:
    """An index's column names as PostgreSQL chooses them (ChooseIndexColumnNames): each key's
    column or figured name, a number appended where an earlier key took it ("expr", "expr1")."""
    out: list[str] = []
    for name in figured:
        chosen, n = name, 0
        while chosen in out:
            n += 1
            chosen = f"{name}{n}"
        out.append(chosen)
    return out


def key_specs(state: CatalogState, table: Table) -> tuple[IndexKeySpec, ...]:
    """The specs of every expression / partial index of `table` (for executor.modify's Writer)."""
    out = []
    for ix in state.indexes(table.oid):
        spec = index_key_spec(state, table, ix)
        if spec is not None:
            out.append(spec)
    return tuple(out)


__all__ = ["index_key_spec", "predicate_implied", "plan_create_index", "key_specs", "figure_name"]
