"""Table statistics: what ANALYZE computes from a sample of rows, and how the planner reads it.

Owns PostgreSQL's analyze.c arithmetic over a row sample (compute_scalar_stats: null fraction,
average width, the Haas-Stokes n_distinct estimate, the most-common-values list chosen by
analyze_mcv_list, an equi-depth histogram of the remaining values and the physical-order
correlation), the catalog record it becomes (catalog.model.Statistic, stored in the catalog heap
like any DDL, so replicas and recovery see it through the log), and the decoded per-column view
the planner's selectivity estimates use. Not reading the rows (executor.maintenance), not
selectivity (planner.selectivity), not pg_stats's text (catalog.system.stats_rows).

    sample (<= 300 x default_statistics_target rows, in physical order)
      -> per column: null_frac, avg_width, n_distinct (< 0: a fraction of the rows),
         most_common_vals/freqs, histogram_bounds, correlation
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pgaurora.catalog.model import Column, Statistic, Table

DEFAULT_STATISTICS_TARGET = 100
SAMPLE_ROWS = 300 * DEFAULT_STATISTICS_TARGET  # PostgreSQL's std_typanalyze: 300 x target
WIDTH_THRESHOLD = 1024  # values wider than this are left out of MCVs and histograms ("toowide")


@dataclass(frozen=True, slots=True)
class ColumnStatistics:
    """One column's statistics with values decoded to Python values (planner's view)."""

    attnum: int
    null_frac: float
    avg_width: int
    n_distinct: float  # > 0: a count; < 0: minus a fraction of the rows; 0: unknown
    mcv_values: tuple[Any, ...]
    mcv_freqs: tuple[float, ...]
    histogram: tuple[Any, ...]
    correlation: float | None

    def distinct(self, rows: float) -> float:
        """Estimated number of distinct non-null values in a table of `rows` rows."""
        if self.n_distinct > 0:
            return self.n_distinct
        if self.n_distinct < 0:
            return max(1.0, -self.n_distinct * rows)
        return 0.0


# ---- computing -------------------------------------------------------------------------------------
def value_width(value: Any, typlen: int) -> int:
    """The stored size of one value as PostgreSQL's VARSIZE_ANY counts it (short headers for varlena)."""
    if typlen > 0:
        return typlen
    if isinstance(value, str):
        n = len(value.encode("utf-8"))
    elif isinstance(value, bytes):
        n = len(value)
    else:
        n = len(str(value).encode("utf-8"))
    return n + (1 if n < 127 else 4)


def compute_column(values: Sequence[Any], total_rows: float, typlen: int,
                   key: Callable[[Any], Any] | None, target: int = DEFAULT_STATISTICS_TARGET) -> tuple[Any, ...]:
    """Statistics of one column from its sampled values (in physical order), as the tuple stored in
    catalog.model.Statistic.columns minus the attnum and with values still Python values:
    (null_frac, avg_width, n_distinct, mcv_values, mcv_freqs, histogram, correlation)."""
    sample_rows = len(values)
    nonnull = [(v, i) for i, v in enumerate(values) if v is not None]
    null_cnt = sample_rows - len(nonnull)
    null_frac = null_cnt / sample_rows if sample_rows else 0.0
    if not nonnull:
        return (1.0 if sample_rows else 0.0, typlen if typlen > 0 else 0, 0.0, None, None, None, None)
    total_width = 0
    kept: list[tuple[Any, int]] = []
    toowide = 0
    for v, i in nonnull:
        w = value_width(v, typlen)
        total_width += w
        if typlen < 0 and w > WIDTH_THRESHOLD:
            toowide += 1
            continue
        kept.append((v, i))
    avg_width = int(total_width / len(nonnull)) if typlen < 0 else typlen
    if key is None:
        return (null_frac, avg_width, 0.0, None, None, None, None)
    try:
        ordered = sorted(((key(v), i, v) for v, i in kept), key=lambda t: (t[0], t[1]))
    except TypeError:
        return (null_frac, avg_width, 0.0, None, None, None, None)
    # runs of equal values: (count, first position in `ordered`)
    runs: list[tuple[int, int]] = []
    start = 0
    for j in range(1, len(ordered) + 1):
        if j == len(ordered) or ordered[j][0] != ordered[start][0]:
            runs.append((j - start, start))
            start = j
    ndistinct = len(runs)
    nmultiple = sum(1 for c, _ in runs if c > 1)
    if nmultiple == 0:
        stadistinct = -1.0 * (1.0 - null_frac)
    elif toowide == 0 and nmultiple == ndistinct:
        stadistinct = float(ndistinct)
    else:
        f1 = ndistinct - nmultiple + toowide
        d = f1 + nmultiple
        n = float(len(nonnull))
        big_n = total_rows * (1.0 - null_frac)
        denom = (n - f1) + f1 * n / big_n if big_n > 0 else n - f1
        estimate = n * d / denom if denom > 0 else float(d)
        estimate = max(estimate, float(d))
        if big_n > 0:
            estimate = min(estimate, big_n)
        stadistinct = math.floor(estimate + 0.5)
    if stadistinct > 0.1 * total_rows:
        stadistinct = -(stadistinct / total_rows)
    # most common values: the values seen more than once, most frequent first (ties by value)
    track = sorted(((c, s) for c, s in runs if c > 1), key=lambda t: -t[0])[:target]
    num_mcv = target
    if len(track) == ndistinct and toowide == 0 and stadistinct > 0 and len(track) <= num_mcv:
        num_mcv = len(track)
    else:
        num_mcv = min(num_mcv, len(track))
        if num_mcv > 0:
            num_mcv = _analyze_mcv_list([c for c, _ in track[:num_mcv]], stadistinct, null_frac,
                                        sample_rows, total_rows)
    track = track[:num_mcv]
    mcv_values = tuple(ordered[s][2] for _, s in track) if track else None
    mcv_freqs = tuple(c / sample_rows for c, _ in track) if track else None
    # histogram over the values that are not MCVs
    histogram = None
    num_hist = ndistinct - num_mcv
    if num_hist > target:
        num_hist = target + 1
    if num_hist >= 2:
        mcv_starts = {s for _, s in track}
        rest = [ordered[k][2] for c, s in runs if s not in mcv_starts for k in range(s, s + c)]
        nvals = len(rest)
        delta, deltafrac = divmod(nvals - 1, num_hist - 1)
        pos = posfrac = 0
        bounds = []
        for _ in range(num_hist):
            bounds.append(rest[pos])
            pos += delta
            posfrac += deltafrac
            if posfrac >= num_hist - 1:
                pos += 1
                posfrac -= num_hist - 1
        histogram = tuple(bounds)
    correlation = None
    values_cnt = len(ordered)
    if values_cnt > 1:
        xsum = (values_cnt - 1) * values_cnt / 2.0
        x2sum = (values_cnt - 1) * values_cnt * (2 * values_cnt - 1) / 6.0
        # tuple numbers are the positions among the kept values, as PostgreSQL numbers them
        rank = {i: r for r, (_, i) in enumerate(kept)}
        xysum = float(sum(k * rank[ordered[k][1]] for k in range(values_cnt)))
        denom = values_cnt * x2sum - xsum * xsum
        correlation = (values_cnt * xysum - xsum * xsum) / denom if denom else 1.0
    return (null_frac, avg_width, float(stadistinct), mcv_values, mcv_freqs, histogram, correlation)


def _analyze_mcv_list(counts: list[int], stadistinct: float, null_frac: float, sample_rows: int,
                      total_rows: float) -> int:
    """How many of the candidate MCVs (counts, most frequent first) are worth keeping (analyze.c)."""
    num_mcv = len(counts)
    if sample_rows >= total_rows or total_rows <= 1.0:
        return num_mcv
    ndistinct_table = -stadistinct * total_rows if stadistinct < 0 else stadistinct
    sumcount = float(sum(counts[: num_mcv - 1]))
    while num_mcv > 0:
        selec = min(max(1.0 - sumcount / sample_rows - null_frac, 0.0), 1.0)
        otherdistinct = ndistinct_table - (num_mcv - 1)
        if otherdistinct > 1:
            selec /= otherdistinct
        big_n, n = total_rows, float(sample_rows)
        k = big_n * counts[num_mcv - 1] / n
        variance = n * k * (big_n - k) * (big_n - n) / (big_n * big_n * (big_n - 1))
        stddev = math.sqrt(max(variance, 0.0))
        if counts[num_mcv - 1] > selec * sample_rows + 2 * stddev + 0.5:
            break
        num_mcv -= 1
        if num_mcv == 0:
            break
        sumcount -= counts[num_mcv - 1]
    return num_mcv


def build_statistic(oid: int, table: Table, columns: Sequence[Column], sample: Sequence[tuple[Any, ...]],
                    total_rows: float, pages: int, encode: Callable[[int], Callable[[Any], str]],
                    key_for: Callable[[int], Callable[[Any], Any] | None], typlen_of: Callable[[int], int],
                    previous: Statistic | None = None) -> Statistic:
    """The catalog record for `table` from a sample of its rows (tuples over table.columns).

    `columns` are the ones to analyze; statistics of the table's other columns are kept from
    `previous` (ANALYZE t (a) leaves b's alone, as PostgreSQL does)."""
    positions = {c.attnum: i for i, c in enumerate(table.columns)}
    out: dict[int, tuple[Any, ...]] = {}
    if previous is not None:
        live = {c.attnum for c in table.columns if not c.dropped}
        out = {entry[0]: entry for entry in previous.columns if entry[0] in live}
    if sample:
        for column in columns:
            pos = positions[column.attnum]
            values = [row[pos] if pos < len(row) else None for row in sample]
            null_frac, width, nd, mcv, freqs, hist, corr = compute_column(
                values, total_rows, typlen_of(column.type_oid), key_for(column.type_oid))
            enc = encode(column.type_oid)
            out[column.attnum] = (column.attnum, null_frac, width, nd,
                                  tuple(enc(v) for v in mcv) if mcv is not None else None,
                                  freqs, tuple(enc(v) for v in hist) if hist is not None else None, corr)
    entries = tuple(out[a] for a in sorted(out))
    return Statistic(oid, f"statistic/{table.oid}", table.oid, float(total_rows), pages, entries, table.schema_oid)


# ---- reading (planner) -----------------------------------------------------------------------------
_DECODED: dict[int, tuple[Statistic, dict[int, ColumnStatistics]]] = {}


def column_statistics(stat: Statistic, table: Table, decode: Callable[[int], Callable[[str], Any]]
                      ) -> dict[int, ColumnStatistics]:
    """attnum -> decoded ColumnStatistics of `stat` (decoded once per catalog record)."""
    cached = _DECODED.get(id(stat))
    if cached is not None and cached[0] is stat:
        return cached[1]
    types = {c.attnum: c.type_oid for c in table.columns}
    out: dict[int, ColumnStatistics] = {}
    for attnum, null_frac, width, nd, mcv, freqs, hist, corr in stat.columns:
        type_oid = types.get(attnum)
        if type_oid is None:
            continue
        try:
            dec = decode(type_oid)
            mcv_values = tuple(dec(v) for v in mcv) if mcv else ()
            histogram = tuple(dec(v) for v in hist) if hist else ()
        except Exception:  # a value that no longer decodes (type changed): no lists
            mcv_values, histogram = (), ()
        out[attnum] = ColumnStatistics(attnum, null_frac, width, nd, mcv_values,
                                       tuple(freqs) if freqs and mcv_values else (), histogram, corr)
    if len(_DECODED) > 512:
        _DECODED.clear()
    _DECODED[id(stat)] = (stat, out)
    return out


__all__ = ["ColumnStatistics", "DEFAULT_STATISTICS_TARGET", "SAMPLE_ROWS", "build_statistic",
           "column_statistics", "compute_column", "value_width"]
