"""SEARCH and CYCLE clauses of a recursive query (PostgreSQL 14+), as PostgreSQL's
rewriteSearchCycle.c builds them: the CTE gains columns its two terms compute.

- SEARCH DEPTH FIRST BY c1, c2 SET seq: seq is a record[] path, `ARRAY[ROW(c1, c2)]` in the
  non-recursive term and the work table row's `seq || ROW(c1, c2)` in the recursive one;
- SEARCH BREADTH FIRST BY c1 SET seq: seq is a record `ROW(depth, c1)`, depth 0 then the work
  table row's depth + 1;
- CYCLE c1, c2 SET mark [TO value DEFAULT default] USING path: path is the record[] of the rows
  so far, mark is `value` when the new row's ROW(c1, c2) is already on the work table row's path
  (else `default`), and work table rows whose mark is `value` are not followed.

The columns come after the query's own ones, in the order seq, mark, path. The recursive term
carries the work table row's extra columns as extra targets (so its recursive reference must be
at the top level of its FROM, as PostgreSQL requires), and a projection above it computes the
new values from them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pgaurora.datatypes import arrays
from pgaurora.datatypes.records import record_key
from pgaurora.datatypes.typeinfo import BOOL_OID, INT8_OID, RECORD_ARRAY_OID, RECORD_OID
from pgaurora.errors import DuplicateColumn, FeatureNotSupported, SyntaxError_
from pgaurora.executor.expr import ArrayExpr, Const, Expr, FuncExpr, RowExpr, Var
from pgaurora.executor.plannodes import Filter, PlanNode, Project, ResultColumn
from pgaurora.planner import resolve
from pgaurora.planner.querycontext import QueryContext, select_body


@dataclass(frozen=True, slots=True)
class SearchCycle:
    """The clauses of one recursive CTE, checked against its column names."""

    search_columns: tuple[int, ...] = ()  # positions in the CTE's columns
    breadth_first: bool = False
    seq_column: str = ""
    cycle_columns: tuple[int, ...] = ()
    mark_column: str = ""
    path_column: str = ""
    mark_value: Expr | None = None  # coerced to their common type
    mark_default: Expr | None = None

    def extra_columns(self) -> list[ResultColumn]:
        out = []
        if self.seq_column:
            out.append(ResultColumn(self.seq_column, RECORD_OID if self.breadth_first else RECORD_ARRAY_OID))
        if self.mark_column:
            assert self.mark_value is not None
            out.append(ResultColumn(self.mark_column, self.mark_value.type_oid, self.mark_value.typmod))
            out.append(ResultColumn(self.path_column, RECORD_ARRAY_OID))
        return out


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [i["String"]["sval"] for i in items]


def _positions(columns: list[str], wanted: list[str], what: str, position: int | None) -> tuple[int, ...]:
    out: list[int] = []
    for name in wanted:
        if name not in columns:
            raise SyntaxError_(f'{what} column "{name}" not in WITH query column list', position=position)
        index = columns.index(name)
        if index in out:
            raise DuplicateColumn(f'{what} column "{name}" specified more than once', position=position)
        out.append(index)
    return tuple(out)


def check_form(qbody: dict[str, Any]) -> None:
    """Both sides of the UNION must be plain SELECTs (PostgreSQL's parse_cte.c)."""
    if select_body(qbody["larg"]).get("op", "SETOP_NONE") != "SETOP_NONE":
        raise FeatureNotSupported("with a SEARCH or CYCLE clause, the left side of the UNION must be a SELECT")
    if select_body(qbody["rarg"]).get("op", "SETOP_NONE") != "SETOP_NONE":
        raise SyntaxError_("with a SEARCH or CYCLE clause, the right side of the UNION must be a SELECT")


def analyze(qc: QueryContext, cte: dict[str, Any], columns: list[str],
            bind_constant: Any) -> SearchCycle:
    """The SEARCH / CYCLE clauses of `cte` against its column names (42601 / 42701 as PostgreSQL);
    `bind_constant` binds the mark's TO / DEFAULT expressions."""
    search = cte.get("search_clause")
    cycle = cte.get("cycle_clause")
    spec = SearchCycle()
    if search is not None:
        pos = qc.position(search.get("location"))
        spec = SearchCycle(_positions(columns, _names(search["search_col_list"]), "search", pos),
                           bool(search.get("search_breadth_first")), search["search_seq_column"])
    if cycle is None:
        return spec
    pos = qc.position(cycle.get("location"))
    cycle_columns = _positions(columns, _names(cycle["cycle_col_list"]), "cycle", pos)
    mark, path = cycle["cycle_mark_column"], cycle["cycle_path_column"]
    if mark == path:
        raise SyntaxError_("cycle mark column name and cycle path column name are the same", position=pos)
    if search is not None:
        search_pos = qc.position(search.get("location"))
        if spec.seq_column == mark:
            raise SyntaxError_("search sequence column name and cycle mark column name are the same",
                               position=search_pos)
        if spec.seq_column == path:
            raise SyntaxError_("search sequence column name and cycle path column name are the same",
                               position=search_pos)
    if "cycle_mark_value" in cycle:
        value, default = bind_constant(cycle["cycle_mark_value"]), bind_constant(cycle["cycle_mark_default"])
        common = resolve.common_type([value, default], "CYCLE", pos)
        value = resolve.coerce(value, common, -1, "implicit", qc.params,
                               qc.position(_location(cycle["cycle_mark_value"])))
        default = resolve.coerce(default, common, -1, "implicit", qc.params,
                                 qc.position(_location(cycle["cycle_mark_default"])))
    else:
        value, default = Const(True, BOOL_OID), Const(False, BOOL_OID)
    return SearchCycle(spec.search_columns, spec.breadth_first, spec.seq_column, cycle_columns, mark, path,
                       value, default)


def _location(node: dict[str, Any]) -> int | None:
    body = next(iter(node.values()))
    return body.get("location") if isinstance(body, dict) else None


def _row(columns: tuple[int, ...], types: list[tuple[int, int]]) -> RowExpr:
    return RowExpr(tuple(Var(i, types[i][0], types[i][1]) for i in columns))


def base_projection(spec: SearchCycle, node: PlanNode, types: list[tuple[int, int]]) -> Project:
    """The non-recursive term with the first values of the extra columns."""
    width = len(types)
    exprs: list[Expr] = [Var(i, t, m) for i, (t, m) in enumerate(types)]
    if spec.seq_column:
        if spec.breadth_first:
            exprs.append(RowExpr((Const(0, INT8_OID), *_row(spec.search_columns, types).fields)))
        else:
            exprs.append(ArrayExpr((_row(spec.search_columns, types),), RECORD_ARRAY_OID))
    if spec.mark_column:
        assert spec.mark_default is not None
        exprs.append(spec.mark_default)
        exprs.append(ArrayExpr((_row(spec.cycle_columns, types),), RECORD_ARRAY_OID))
    assert node.width == width
    return Project(node, tuple(exprs), len(exprs))


def recursive_term(rarg: dict[str, Any], name: str, spec: SearchCycle) -> dict[str, Any]:
    """The recursive SELECT with the work table row's extra columns as extra targets."""
    qualifier = _reference(rarg.get("fromClause", []), name)
    if qualifier is None:
        raise FeatureNotSupported(f'with a SEARCH or CYCLE clause, the recursive reference to WITH query "{name}" '
                                  f"must be at the top level of its right-hand SELECT")
    out = copy.deepcopy(rarg)
    for column in [c.name for c in spec.extra_columns()]:
        out["targetList"].append({"ResTarget": {"val": {"ColumnRef": {"fields": [
            {"String": {"sval": qualifier}}, {"String": {"sval": column}}]}}}})
    return out


def _reference(items: list[dict[str, Any]], name: str) -> str | None:
    """The name the recursive reference goes by in a FROM list (through joins, not subqueries)."""
    for item in items:
        rv = item.get("RangeVar")
        if rv is not None and rv.get("relname") == name and "schemaname" not in rv:
            return str(rv.get("alias", {}).get("aliasname", name))
        join = item.get("JoinExpr")
        if join is not None and (found := _reference([join["larg"], join["rarg"]], name)) is not None:
            return found
    return None


def recursive_projection(spec: SearchCycle, node: PlanNode, types: list[tuple[int, int]],
                         qc: QueryContext) -> PlanNode:
    """Over the recursive term's rows (the query's columns, then the work table row's extra
    ones): follow no row marked as a cycle, and compute the new row's extra columns."""
    width = len(types) - len(spec.extra_columns())
    exprs: list[Expr] = [Var(i, t, m) for i, (t, m) in enumerate(types[:width])]
    slot = width
    if spec.seq_column:
        seq = Var(slot, *types[slot])
        if spec.breadth_first:
            depth = FuncExpr("depth", lambda seq: seq[0] + 1, (seq,), INT8_OID)
            exprs.append(RowExpr((depth, *_row(spec.search_columns, types).fields)))
        else:
            exprs.append(resolve.make_operator("||", seq, _row(spec.search_columns, types), qc.params, None))
        slot += 1
    if spec.mark_column:
        assert spec.mark_value is not None and spec.mark_default is not None
        mark, path = Var(slot, *types[slot]), Var(slot + 1, *types[slot + 1])
        node = Filter(node, resolve.make_operator("<>", mark, spec.mark_value, qc.params, None), node.width)
        row = _row(spec.cycle_columns, types)
        exprs.append(FuncExpr("cycle_mark", _cycle_mark, (row, path, spec.mark_value, spec.mark_default),
                              spec.mark_value.type_oid, spec.mark_value.typmod, strict=False))
        exprs.append(resolve.make_operator("||", path, row, qc.params, None))
    return Project(node, tuple(exprs), len(exprs))


def _cycle_mark(row: Any, path: Any, value: Any, default: Any) -> Any:
    key = record_key(row)
    return value if any(record_key(r) == key for r in arrays.elements(path or [])) else default
