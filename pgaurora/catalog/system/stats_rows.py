"""Rows of pg_stats: what ANALYZE stored (catalog.model.Statistic), as PostgreSQL 15 shows it.

Owns the pg_stats view's rows: one per analyzed column, most_common_vals and histogram_bounds
as the text of an array of the column's type (anyarray output), frequencies as float4[], and
n_distinct negative when it is a fraction of the rows. Not computing statistics
(catalog.statistics) and not pg_class.reltuples/relpages (class_rows reads Statistic itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.system import describe
from pgaurora.catalog.system.relations import SystemContext, producer

_NEEDS_QUOTES = re.compile(r'[{},"\\\s]')


def array_text(elements: tuple[str, ...]) -> str:
    """PostgreSQL's array_out for already-formatted element texts: '{1,2,"a b"}'."""
    out = []
    for e in elements:
        if e == "" or _NEEDS_QUOTES.search(e) or e.upper() == "NULL":
            out.append('"' + e.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            out.append(e)
    return "{" + ",".join(out) + "}"


@producer("pg_stats")
def pg_stats(sc: SystemContext) -> Iterator[dict[str, Any]]:
    state = sc.state
    for table_oid in sorted(state.statistics):
        stat = state.statistics[table_oid]
        table = state.table(table_oid)
        if table is None:
            continue  # a dropped table's statistics
        names = {c.attnum: c.name for c in table.columns if not c.dropped}
        schema = describe.schema_name(state, table.schema_oid)
        for attnum, null_frac, width, n_distinct, mcv, freqs, hist, corr in stat.columns:
            if attnum not in names:
                continue
            yield {"schemaname": schema, "tablename": table.name, "attname": names[attnum], "inherited": False,
                   "null_frac": null_frac, "avg_width": width, "n_distinct": n_distinct,
                   "most_common_vals": array_text(mcv) if mcv else None,
                   "most_common_freqs": list(freqs) if freqs else None,
                   "histogram_bounds": array_text(hist) if hist else None,
                   "correlation": corr, "most_common_elems": None, "most_common_elem_freqs": None,
                   "elem_count_histogram": None}
