"""psql (-c and -f) and pgbench (-M simple|extended|prepared) against pgaurora, compared with
a real PostgreSQL 15 where the output is deterministic."""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest

from tests.pgoracle import PgOracle, pg_bindir
from tests.server.harness import InstanceProcess

SCRIPT = """\
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2));
INSERT INTO items VALUES (1, 'apple', 1.50), (2, 'pear', 2.25), (3, 'fig', NULL);
SELECT id, name, price FROM items ORDER BY id;
BEGIN;
UPDATE items SET price = price * 2 WHERE id < 3;
SELECT sum(price) FROM items;
ROLLBACK;
SELECT count(*) AS n, max(price) FROM items;
SELECT 1/0;
SHOW DateStyle;
"""


def _psql(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-h", "127.0.0.1", "-p", str(port),
                           "-U", "postgres", "-d", "postgres", *args], capture_output=True, text=True, timeout=60)


def test_psql_c_with_several_statements(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    sql = "SELECT 1 AS a; SELECT 'x' AS b, 2.5 AS c"
    ours, theirs = _psql(instance.port, "-c", sql), _psql(pg_oracle.port, "-c", sql)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout


def test_psql_script_file(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(SCRIPT)
    try:
        ours = _psql(instance.port, "-f", f.name)
        theirs = _psql(pg_oracle.port, "-f", f.name)
        _psql(pg_oracle.port, "-c", "DROP TABLE items")
    finally:
        os.unlink(f.name)
    assert ours.stdout == theirs.stdout
    assert ours.stderr.replace(f.name, "F") == theirs.stderr.replace(f.name, "F")


@pytest.mark.parametrize("mode", ["simple", "extended", "prepared"])
def test_pgbench_select_1(mode: str, instance: InstanceProcess) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("SELECT 1;\n")
    try:
        out = subprocess.run([os.path.join(pg_bindir(), "pgbench"), "-n", "-h", "127.0.0.1", "-p",
                              str(instance.port), "-U", "postgres", "-f", f.name, "-M", mode, "-c", "2", "-t",
                              "200", "postgres"], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(f.name)
    assert out.returncode == 0, out.stderr
    assert "number of transactions actually processed: 400/400" in out.stdout
    assert "number of failed transactions: 0" in out.stdout
