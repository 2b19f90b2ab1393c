"""pgbench's own schema and built-in scripts against pgaurora: `pgbench -i`, then tpcb-like,
simple-update and select-only in the simple, extended and prepared protocols with 8 clients on
2 threads; no transaction may fail, and afterwards TPC-B's invariant holds:
sum(abalance) = sum(bbalance) = sum(tbalance) = sum(delta) of pgbench_history.

make test runs scale 1 with 10 transactions per client; the long mark runs `-i -s 10` and 50.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import psycopg
import pytest

from tests.pgoracle import pg_bindir
from tests.server.harness import InstanceProcess, start_instance

MODES = ("simple", "extended", "prepared")
SCRIPTS = ("tpcb-like", "simple-update", "select-only")


def pgbench(port: int, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([os.path.join(pg_bindir(), "pgbench"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                           *args, "postgres"], capture_output=True, text=True, timeout=timeout)


def balances(dsn: str) -> tuple[int, int, int, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts),"
            " (SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches),"
            " (SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers),"
            " (SELECT coalesce(sum(delta), 0) FROM pgbench_history)").fetchone()
    assert row is not None
    return tuple(int(v) for v in row)  # type: ignore[return-value]


def run_script(port: int, script: str, mode: str, transactions: int) -> str:
    out = pgbench(port, "-n", "-b", script, "-M", mode, "-c", "8", "-j", "2", "-t", str(transactions),
                  "--verbose-errors")
    assert out.returncode == 0, out.stdout + out.stderr
    total = 8 * transactions
    assert f"number of transactions actually processed: {total}/{total}" in out.stdout, out.stdout + out.stderr
    assert re.search(r"number of failed transactions: 0 \(", out.stdout), out.stdout + out.stderr
    return out.stdout


def initialized(scale: int) -> Iterator[InstanceProcess]:
    inst = start_instance()
    try:
        out = pgbench(inst.port, "-i", "-s", str(scale), "-q")
        assert out.returncode == 0, out.stderr
        with psycopg.connect(inst.dsn, autocommit=True) as conn:
            counts = conn.execute("SELECT (SELECT count(*) FROM pgbench_accounts), (SELECT count(*) FROM "
                                  "pgbench_branches), (SELECT count(*) FROM pgbench_tellers)").fetchone()
        assert counts == (100_000 * scale, scale, 10 * scale)
        yield inst
    finally:
        inst.stop()


@pytest.fixture(scope="module")
def bench() -> Iterator[InstanceProcess]:
    yield from initialized(1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("script", SCRIPTS)
def test_builtin_scripts_keep_the_tpcb_invariant(bench: InstanceProcess, script: str, mode: str) -> None:
    before = balances(bench.dsn)
    run_script(bench.port, script, mode, 10)
    after = balances(bench.dsn)
    moved = tuple(a - b for a, b in zip(after, before, strict=True))  # accounts, branches, tellers, history
    if script == "tpcb-like":
        assert moved[0] == moved[1] == moved[2] == moved[3], moved
    elif script == "simple-update":  # accounts and history move together; branches and tellers stay
        assert moved[0] == moved[3] and moved[1] == moved[2] == 0, moved
    else:
        assert moved == (0, 0, 0, 0)


@pytest.mark.long
def test_scale_10_all_modes() -> None:
    for inst in initialized(10):
        for mode in MODES:
            for script in SCRIPTS:
                run_script(inst.port, script, mode, 50)
        with psycopg.connect(inst.dsn, autocommit=True) as conn:
            conn.execute("TRUNCATE pgbench_history")
            conn.execute("UPDATE pgbench_accounts SET abalance = 0 WHERE abalance <> 0")
            conn.execute("UPDATE pgbench_branches SET bbalance = 0")
            conn.execute("UPDATE pgbench_tellers SET tbalance = 0")
        for mode in MODES:
            run_script(inst.port, "tpcb-like", mode, 50)
        totals = balances(inst.dsn)
        assert len(set(totals)) == 1, totals
