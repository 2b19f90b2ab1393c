"""Benchmark workloads, one module each: NAME, DESCRIPTION, async setup(server), async run(server, s).

    select1_simple     SELECT 1 round trips, asyncpg, 4 connections, simple protocol
    select1_prepared   SELECT 1 round trips, asyncpg, 4 connections, prepared statement
"""

from __future__ import annotations

from types import ModuleType

from benchmarks.workloads import select1

WORKLOADS: dict[str, ModuleType | object] = {
    "select1_simple": select1.Select1(prepared=False),
    "select1_prepared": select1.Select1(prepared=True),
}
