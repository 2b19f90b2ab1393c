"""sqllogictest conformance: pgaurora must score at least what PostgreSQL 15 scores.

The corpus and its runner live in ../shared/conformance (data only: never copied in). The
scores PostgreSQL 15.18 gets are the table in that README; each file here runs through the
runner against a pgaurora instance process, and the passed counts are compared with the table.
A bounded subset runs in `make test`; every file runs in `make test-long`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.harness import InstanceProcess

SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance"
RUNNER = SHARED / "slt" / "run_slt.py"
ROW_RE = re.compile(r"^\| (\S+\.test) \| (\d+)/(\d+) \| (\d+)/(\d+) \|$")
FILE_RE = re.compile(r"queries (\d+) passed, (\d+) failed; statements (\d+) passed, (\d+) failed")

QUICK = ("select1.test", "evidence/slt_lang_dropview.test", "evidence/in1.test")


def postgres_scores() -> dict[str, tuple[int, int]]:
    """{file: (queries passed, statements passed)} from the conformance README."""
    scores: dict[str, tuple[int, int]] = {}
    for line in (SHARED / "README.md").read_text().splitlines():
        m = ROW_RE.match(line.strip())
        if m:
            scores[m.group(1)] = (int(m.group(2)), int(m.group(4)))
    return scores


SCORES = postgres_scores() if SHARED.exists() else {}
pytestmark = pytest.mark.skipif(not RUNNER.exists(), reason="../shared/conformance is not laid out here")


def run_file(inst: InstanceProcess, name: str) -> tuple[int, int, str]:
    out = subprocess.run(
        [sys.executable, str(RUNNER), "--dsn", inst.dsn, "--isolation", "schema", "--timeout", "30",
         "--show", "5", str(SHARED / "slt" / "data" / name)],
        capture_output=True, text=True, timeout=900,
    )
    m = FILE_RE.search(out.stdout)
    assert m, f"runner output not understood:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return int(m.group(1)), int(m.group(3)), out.stdout


def check(inst: InstanceProcess, name: str) -> None:
    queries, statements, text = run_file(inst, name)
    want_q, want_s = SCORES[name]
    assert queries >= want_q and statements >= want_s, (
        f"{name}: pgaurora {queries} queries / {statements} statements passed, "
        f"PostgreSQL 15 {want_q} / {want_s}\n{text[-4000:]}")


@pytest.mark.parametrize("name", QUICK)
def test_quick_files_score_like_postgresql(instance: InstanceProcess, name: str) -> None:
    check(instance, name)


@pytest.mark.long
@pytest.mark.parametrize("name", sorted(set(SCORES) - set(QUICK)))
def test_every_file_scores_like_postgresql(instance: InstanceProcess, name: str) -> None:
    check(instance, name)
