"""Benchmark workloads: objects with DESCRIPTION, async setup(server), async run(server, seconds).

    select1.py     SELECT 1 round trips, asyncpg, 4 connections, simple and prepared (foundation)
    sql.py         point select, range scan, join, aggregate (SQL engine); single-row UPDATE and
                   INSERT, TPC-B-like (transactions), with 4 and 16 connections; point select and
                   UPDATE as a role that is no superuser (privilege checks)
    pgbench.py     pgbench's built-in select-only and tpcb-like scripts (clients and catalogs)
"""

from __future__ import annotations

from typing import Any

from benchmarks.workloads import pgbench, select1, sql

WORKLOADS: dict[str, Any] = {
    "select1_simple": select1.Select1(prepared=False),
    "select1_prepared": select1.Select1(prepared=True),
    **sql.WORKLOADS,
    "pgbench_select_only": pgbench.PgBench("select-only", clients=8, mode="prepared", scale=10),
    "pgbench_tpcb_like": pgbench.PgBench("tpcb-like", clients=8, mode="prepared", scale=10),
}

# `make bench` with no workload names runs the foundation set; name others to run them.
DEFAULT = ("select1_simple", "select1_prepared")
