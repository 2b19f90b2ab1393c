"""Selectivity: the fraction of rows a qual keeps, from ANALYZE's statistics or PostgreSQL's defaults.

Owns clause and clause-list selectivity (PostgreSQL's clausesel.c / selfuncs.c, simplified):

    col = const        MCV frequency, else (1 - sum(MCV freqs) - null_frac) / (n_distinct - #MCV)
    col = $1           (1 - null_frac) / n_distinct
    col < const        MCVs below it + histogram fraction x the non-MCV rows (no stats: 1/3)
    a < col < b        the two bounds paired: hi + lo - 1 (no stats: DEFAULT_RANGE_INEQ_SEL)
    col IN (...)       sum of the equalities;  IS NULL: null_frac;  LIKE 'abc%': the prefix's range
    AND / OR / NOT     s1 * s2;  s1 + s2 - s1 * s2;  1 - s
    a.x = b.y          matching MCVs' frequencies, else (1 - nf_a) (1 - nf_b) / max(nd_a, nd_b)
                       (join; nd clamped to each side's rows)

Without statistics n_distinct is the relation's rows for a unique column, else 200
(DEFAULT_NUM_DISTINCT, capped at the rows), which makes `col = const` 0.005 as in PostgreSQL.
Not where rows come from (planner.estimate) and not choosing plans (planner.joinorder).
"""

from __future__ import annotations

import bisect
import datetime
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgaurora.catalog.statistics import ColumnStatistics
from pgaurora.executor.expr import (
    ArrayExpr,
    BooleanTest,
    BoolExpr,
    Const,
    Expr,
    FuncExpr,
    NullTest,
    Param,
    ScalarArrayOp,
    Var,
    walk,
)

DEFAULT_EQ_SEL = 0.005
DEFAULT_INEQ_SEL = 1.0 / 3.0
DEFAULT_RANGE_INEQ_SEL = 0.005
DEFAULT_MATCH_SEL = 0.005
DEFAULT_UNK_SEL = 0.005
DEFAULT_NOT_UNK_SEL = 1.0 - DEFAULT_UNK_SEL
DEFAULT_NUM_DISTINCT = 200.0
DEFAULT_BOOL_SEL = 0.5


@dataclass(frozen=True, slots=True)
class VarInfo:
    """What the planner knows about the column behind a Var."""

    stats: ColumnStatistics | None
    table_rows: float  # rows of the whole relation (reltuples)
    rel_rows: float  # rows of the relation after its own quals (clamps n_distinct in joins)
    unique: bool = False  # a one-column unique index: every value distinct
    type_oid: int = 0
    rel: int = -1  # which relation of a join search (or -1)

    def n_distinct(self, clamp: bool = False) -> tuple[float, bool]:
        """(estimated distinct values, whether it is a default guess)."""
        rows = max(self.table_rows, 1.0)
        if self.unique:
            nd, default = rows, False
        elif self.stats is not None and self.stats.n_distinct != 0:
            nd, default = self.stats.distinct(rows), False
        elif self.type_oid == 16:
            nd, default = 2.0, False
        else:
            nd, default = min(DEFAULT_NUM_DISTINCT, rows) if rows >= 1 else DEFAULT_NUM_DISTINCT, True
        if clamp:
            nd = min(nd, max(self.rel_rows, 1.0))
        return max(nd, 1.0), default


Resolver = Callable[[Var], VarInfo | None]


def _key(type_oid: int) -> Callable[[Any], Any]:
    from pgaurora.catalog.builtins import sort_key

    try:
        return sort_key(type_oid)
    except Exception:
        return lambda v: v


def _const_value(expr: Expr) -> tuple[bool, Any]:
    """(is a plan-time constant, its value)."""
    if isinstance(expr, Const):
        return True, expr.value
    return False, None  # parameters, and calls binding did not fold (never called here: nextval)


def _is_pseudo_constant(expr: Expr) -> bool:
    return not any(isinstance(n, Var) for n in walk(expr)) and not any(
        isinstance(n, FuncExpr) and n.volatile for n in walk(expr))


def _strip(expr: Expr) -> Expr:
    """A Var under a type-widening cast (varchar -> text, int4 -> int8) still has the Var's statistics."""
    if isinstance(expr, FuncExpr) and not expr.is_operator and len(expr.args) == 1 and isinstance(expr.args[0], Var):
        families = ({21, 23, 20}, {25, 1043, 1042, 19})
        if any(expr.type_oid in f and expr.args[0].type_oid in f for f in families):
            return expr.args[0]
    return expr


def _safe_lt(a: Any, b: Any) -> bool | None:
    try:
        return bool(a < b)
    except TypeError:
        return None


def _numeric(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, decimal.Decimal):
        return float(v) if v.is_finite() else None
    if isinstance(v, datetime.datetime):
        return v.timestamp() if v.tzinfo is not None else v.replace(tzinfo=datetime.UTC).timestamp()
    if isinstance(v, datetime.date):
        return float(v.toordinal())
    return None


# ---- restriction clauses ---------------------------------------------------------------------------
def eq_selectivity(info: VarInfo, known: bool, value: Any) -> float:
    """col = value (known: a plan-time constant value; else a parameter)."""
    stats = info.stats
    nd, default = info.n_distinct()
    if info.unique:
        return 1.0 / max(info.table_rows, 1.0)
    if known and value is None:
        return 0.0  # = NULL is never true
    if stats is None:
        return 1.0 / nd
    null_frac = stats.null_frac
    if known and stats.mcv_values:
        key = _key(info.type_oid)
        try:
            kv = key(value)
            for v, f in zip(stats.mcv_values, stats.mcv_freqs, strict=False):
                if key(v) == kv:
                    return f
        except Exception:
            pass
    sum_mcv = sum(stats.mcv_freqs)
    others = nd - len(stats.mcv_values)
    if not known:
        return (1.0 - null_frac) / nd
    sel = (1.0 - sum_mcv - null_frac) / others if others >= 1 else 0.0
    if stats.mcv_freqs:
        sel = min(sel, min(stats.mcv_freqs))
    return max(min(sel, 1.0), 0.0)


def _histogram_fraction(hist: tuple[Any, ...], key: Callable[[Any], Any], value: Any) -> float | None:
    """Fraction of the histogram's population below `value` (PostgreSQL's ineq_histogram_selectivity)."""
    if len(hist) < 2:
        return None
    try:
        keys = [key(h) for h in hist]
        kv = key(value)
        i = bisect.bisect_left(keys, kv)
    except Exception:
        return None
    if i == 0:
        return 0.0
    if i >= len(keys):
        return 1.0
    lo, hi, v = _numeric(hist[i - 1]), _numeric(hist[i]), _numeric(value)
    frac = 0.5
    if lo is not None and hi is not None and v is not None and hi > lo:
        frac = min(max((v - lo) / (hi - lo), 0.0), 1.0)
    return ((i - 1) + frac) / (len(hist) - 1)


def ineq_selectivity(info: VarInfo, op: str, known: bool, value: Any) -> float:
    """col op value for op in < <= > >=."""
    stats = info.stats
    if stats is None or not known or value is None:
        return DEFAULT_INEQ_SEL
    below = op in ("<", "<=")
    mcv_sel = 0.0
    sum_mcv = sum(stats.mcv_freqs)
    key = _key(info.type_oid)
    for v, f in zip(stats.mcv_values, stats.mcv_freqs, strict=False):
        try:
            kv, kc = key(v), key(value)
        except Exception:
            continue
        hit = (kv < kc or (op == "<=" and kv == kc)) if below else (kv > kc or (op == ">=" and kv == kc))
        if hit:
            mcv_sel += f
    hist = _histogram_fraction(stats.histogram, key, value)
    rest = max(1.0 - stats.null_frac - sum_mcv, 0.0)
    if hist is None:
        sel = rest * 0.5
    else:
        sel = rest * (hist if below else 1.0 - hist)
    return min(max(sel + mcv_sel, 0.0), 1.0)


def _like_prefix(pattern: str) -> tuple[str, bool]:
    """(fixed prefix, whether the pattern is exactly that prefix)."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1])
            i += 2
            continue
        if ch in "%_":
            return "".join(out), False
        out.append(ch)
        i += 1
    return "".join(out), True


def _like_regex(pattern: str, case_insensitive: bool) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if case_insensitive else 0))


def like_selectivity(info: VarInfo | None, pattern: Any, negate: bool, case_insensitive: bool = False) -> float:
    """LIKE: the MCVs that match, plus the prefix's share of the histogram (patternsel)."""
    if not isinstance(pattern, str):
        return DEFAULT_MATCH_SEL
    prefix, exact = _like_prefix(pattern)
    stats = info.stats if info is not None else None
    null_frac = stats.null_frac if stats is not None else 0.0
    if info is None or stats is None:
        sel = DEFAULT_EQ_SEL if exact else DEFAULT_MATCH_SEL
    elif exact and not case_insensitive:
        sel = eq_selectivity(info, True, prefix)
    else:
        regex = _like_regex(pattern, case_insensitive)
        mcv_sel = sum(f for v, f in zip(stats.mcv_values, stats.mcv_freqs, strict=False)
                      if isinstance(v, str) and regex.fullmatch(v))
        rest = max(1.0 - null_frac - sum(stats.mcv_freqs), 0.0)
        if prefix and not case_insensitive and len(stats.histogram) >= 2:
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            key = _key(info.type_oid)
            lo = _histogram_fraction(stats.histogram, key, prefix)
            hi = _histogram_fraction(stats.histogram, key, upper)
            share = max((hi or 0.0) - (lo or 0.0), 0.0)
            fixed = len(pattern) - len(prefix) - pattern.count("%")
            share *= 0.2 ** max(fixed, 0)  # fixed characters after the prefix (PostgreSQL's FIXED_CHAR_SEL)
        else:
            share = DEFAULT_MATCH_SEL
        sel = mcv_sel + rest * share
    return max(1.0 - sel - null_frac, 0.0) if negate else sel


def _var_and_const(expr: FuncExpr, resolve: Resolver) -> tuple[VarInfo, str, bool, Any] | None:
    """(info, op as if the Var is on the left, known, value) for `var op pseudo-constant`."""
    from pgaurora.planner.rules import _COMMUTE

    left, right = _strip(expr.args[0]), _strip(expr.args[1])
    op = expr.name
    if not isinstance(left, Var) and isinstance(right, Var):
        left, right = right, left
        op = _COMMUTE.get(op, op)
    if not isinstance(left, Var) or not _is_pseudo_constant(right):
        return None
    info = resolve(left)
    if info is None:
        return None
    known, value = _const_value(right)
    return info, op, known, value


def clause_selectivity(expr: Expr, resolve: Resolver) -> float:
    if isinstance(expr, BoolExpr):
        op = expr.op.value
        if op == "AND":
            return clauselist_selectivity(list(expr.args), resolve)
        if op == "OR":
            sel = 0.0
            for a in expr.args:
                s = clause_selectivity(a, resolve)
                sel = sel + s - sel * s
            return sel
        return 1.0 - clause_selectivity(expr.args[0], resolve)
    if isinstance(expr, Const):
        return 1.0 if expr.value is True else 0.0
    if isinstance(expr, NullTest):
        arg = _strip(expr.arg)
        info = resolve(arg) if isinstance(arg, Var) else None
        if info is None or info.stats is None:
            return DEFAULT_NOT_UNK_SEL if expr.is_not else DEFAULT_UNK_SEL
        return 1.0 - info.stats.null_frac if expr.is_not else info.stats.null_frac
    if isinstance(expr, BooleanTest):
        return DEFAULT_BOOL_SEL
    if isinstance(expr, Var):
        info = resolve(expr)
        if info is not None and info.stats is not None and info.stats.mcv_values:
            for v, f in zip(info.stats.mcv_values, info.stats.mcv_freqs, strict=False):
                if v is True:
                    return f
            return max(1.0 - info.stats.null_frac - sum(info.stats.mcv_freqs), 0.0)
        return DEFAULT_BOOL_SEL
    if isinstance(expr, ScalarArrayOp):
        return _array_selectivity(expr, resolve)
    if isinstance(expr, FuncExpr) and expr.is_operator and len(expr.args) == 2:
        return _operator_selectivity(expr, resolve)
    if isinstance(expr, FuncExpr) and expr.name == "not" and len(expr.args) == 1:
        return 1.0 - clause_selectivity(expr.args[0], resolve)
    return DEFAULT_INEQ_SEL


def _operator_selectivity(expr: FuncExpr, resolve: Resolver) -> float:
    name = expr.name
    left, right = _strip(expr.args[0]), _strip(expr.args[1])
    if name == "=" and isinstance(left, Var) and isinstance(right, Var):
        a, b = resolve(left), resolve(right)
        if a is not None and b is not None and a.rel != b.rel:
            return join_eq_selectivity(a, b)
        if a is not None and b is not None:
            return DEFAULT_EQ_SEL  # two columns of one relation
    found = _var_and_const(expr, resolve)
    if name in ("~~", "!~~", "~~*", "!~~*"):
        info = resolve(left) if isinstance(left, Var) else None
        known, value = _const_value(right)
        return like_selectivity(info, value if known else None, name.startswith("!"), name.endswith("*"))
    if found is None:
        if name in ("=",):
            return DEFAULT_EQ_SEL
        if name in ("<>", "!="):
            return 1.0 - DEFAULT_EQ_SEL
        if name in ("<", "<=", ">", ">="):
            return DEFAULT_INEQ_SEL
        return DEFAULT_INEQ_SEL
    info, op, known, value = found
    if op == "=":
        return eq_selectivity(info, known, value)
    if op in ("<>", "!="):
        null_frac = info.stats.null_frac if info.stats is not None else 0.0
        return max(1.0 - eq_selectivity(info, known, value) - null_frac, 0.0)
    if op in ("<", "<=", ">", ">="):
        return ineq_selectivity(info, op, known, value)
    return DEFAULT_INEQ_SEL


def _array_selectivity(expr: ScalarArrayOp, resolve: Resolver) -> float:
    left = _strip(expr.left)
    info = resolve(left) if isinstance(left, Var) else None
    elements: list[tuple[bool, Any]] = []
    if isinstance(expr.right, ArrayExpr):
        elements = [_const_value(e) for e in expr.right.elements]
    elif isinstance(expr.right, Const) and isinstance(expr.right.value, list):
        elements = [(True, v) for v in expr.right.value]
    elif isinstance(expr.right, Param):
        elements = [(False, None)] * 10
    if not elements:
        return DEFAULT_INEQ_SEL
    if info is None:
        each = [DEFAULT_EQ_SEL for _ in elements]
    elif expr.name == "=":
        each = [eq_selectivity(info, k, v) for k, v in elements]
    elif expr.name in ("<", "<=", ">", ">="):
        each = [ineq_selectivity(info, expr.name, k, v) for k, v in elements]
    else:
        each = [DEFAULT_INEQ_SEL for _ in elements]
    if expr.name in ("<>", "!=") and not expr.use_or:
        sel = 1.0
        for s in each:
            sel *= 1.0 - s
        return sel
    if expr.use_or:
        sel = 0.0
        for s in each:
            sel = sel + s - sel * s if expr.name != "=" else sel + s
        return min(sel, 1.0)
    sel = 1.0
    for s in each:
        sel *= s
    return sel


def join_eq_selectivity(a: VarInfo, b: VarInfo) -> float:
    """a.x = b.y between two relations (PostgreSQL's eqjoinsel_inner): with MCV lists on both sides
    the matching values' frequencies, the rest spread over the other distinct values; else
    (1 - nf_a)(1 - nf_b) / max(nd_a, nd_b)."""
    nd_a, _ = a.n_distinct(clamp=True)
    nd_b, _ = b.n_distinct(clamp=True)
    nf_a = a.stats.null_frac if a.stats is not None else 0.0
    nf_b = b.stats.null_frac if b.stats is not None else 0.0
    if a.stats is not None and b.stats is not None and a.stats.mcv_values and b.stats.mcv_values:
        matched = _mcv_join(a.stats, b.stats, a.type_oid, nd_a, nd_b)
        if matched is not None:
            return matched
    return (1.0 - nf_a) * (1.0 - nf_b) / max(nd_a, nd_b, 1.0)


def _mcv_join(sa: ColumnStatistics, sb: ColumnStatistics, type_oid: int, nd_a: float, nd_b: float) -> float | None:
    key = _key(type_oid)
    try:
        positions = {key(v): k for k, v in enumerate(sb.mcv_values)}
        pairs = [(k, positions.get(key(v))) for k, v in enumerate(sa.mcv_values)]
    except Exception:
        return None
    matched_b: set[int] = set()
    match_prod = match_a = 0.0
    for k, j in pairs:
        if j is not None and j not in matched_b:
            matched_b.add(j)
            match_prod += sa.mcv_freqs[k] * sb.mcv_freqs[j]
            match_a += sa.mcv_freqs[k]
    match_b = sum(sb.mcv_freqs[j] for j in matched_b)
    unmatch_a = sum(sa.mcv_freqs) - match_a
    unmatch_b = sum(sb.mcv_freqs) - match_b
    other_a = max(1.0 - sa.null_frac - sum(sa.mcv_freqs), 0.0)
    other_b = max(1.0 - sb.null_frac - sum(sb.mcv_freqs), 0.0)
    n_matches = len(matched_b)
    sel_a = match_prod
    if nd_b > len(sb.mcv_values):
        sel_a += unmatch_a * other_b / (nd_b - len(sb.mcv_values))
    if nd_b > n_matches:
        sel_a += other_a * (other_b + unmatch_b) / (nd_b - n_matches)
    sel_b = match_prod
    if nd_a > len(sa.mcv_values):
        sel_b += unmatch_b * other_a / (nd_a - len(sa.mcv_values))
    if nd_a > n_matches:
        sel_b += other_b * (other_a + unmatch_a) / (nd_a - n_matches)
    return min(max(min(sel_a, sel_b), 0.0), 1.0)


def clauselist_selectivity(quals: list[Expr], resolve: Resolver) -> float:
    """Product of the conjuncts' selectivities, with `lo < col` and `col < hi` on one column paired."""
    sel = 1.0
    ranges: dict[Var, list[float | None]] = {}
    null_fracs: dict[Var, float] = {}
    for q in quals:
        if isinstance(q, FuncExpr) and q.is_operator and len(q.args) == 2 and q.name in ("<", "<=", ">", ">="):
            found = _var_and_const(q, resolve)
            if found is not None:
                info, op, known, value = found
                var = _strip(q.args[0]) if isinstance(_strip(q.args[0]), Var) else _strip(q.args[1])
                assert isinstance(var, Var)
                slot = ranges.setdefault(Var(var.index, var.type_oid), [None, None])
                null_fracs[Var(var.index, var.type_oid)] = info.stats.null_frac if info.stats is not None else 0.0
                s = ineq_selectivity(info, op, known, value)
                side = 1 if op in ("<", "<=") else 0
                if slot[side] is None:
                    slot[side] = s
                else:
                    slot[side] = min(slot[side] or 1.0, s)
                continue
        sel *= clause_selectivity(q, resolve)
    for var, (lo, hi) in ranges.items():
        if lo is not None and hi is not None:
            both = hi + lo - 1.0 + null_fracs.get(var, 0.0)  # NULLs were excluded by both bounds
            if lo == DEFAULT_INEQ_SEL and hi == DEFAULT_INEQ_SEL:
                both = DEFAULT_RANGE_INEQ_SEL
            elif both <= 0.0:
                both = 1e-10 if both > -0.01 else DEFAULT_RANGE_INEQ_SEL
            sel *= both
        else:
            sel *= lo if lo is not None else hi  # type: ignore[operator]
    return min(max(sel, 0.0), 1.0)


__all__ = ["DEFAULT_EQ_SEL", "DEFAULT_INEQ_SEL", "DEFAULT_RANGE_INEQ_SEL", "DEFAULT_NUM_DISTINCT", "Resolver",
           "VarInfo", "clause_selectivity", "clauselist_selectivity", "eq_selectivity", "ineq_selectivity",
           "join_eq_selectivity"]
