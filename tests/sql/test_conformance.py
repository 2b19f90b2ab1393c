"""A slice of the sqllogictest corpus run in process through the planner and executor.

The files stay in ../shared/conformance (they are not part of the repository); the test is skipped
where they are absent. The expected counts are PostgreSQL 15's own scores (README there): the
records PostgreSQL fails are SQLite-only syntax or answers, and pgaurora must fail the same ones.
"""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from pgaurora import datatypes
from pgaurora.errors import PgError
from pgaurora.planner import parse
from tests.sql.runner import EngineSession

SLT = pathlib.Path(__file__).resolve().parents[3] / "shared" / "conformance" / "slt"

# file -> (queries passed, queries failed, statements passed, statements failed) on PostgreSQL 15.18
EXPECTED = {
    "select1.test": (1000, 0, 31, 0),
    "evidence/in1.test": (101, 4, 27, 0),
    "evidence/slt_lang_update.test": (7, 2, 17, 1),
    "evidence/slt_lang_createview.test": (2, 0, 11, 2),
}


def _runner():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("run_slt", SLT / "run_slt.py")
    if spec is None or spec.loader is None:
        pytest.skip("run_slt.py not available")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (SLT / "data").is_dir(), reason="../shared/conformance/slt is not present")
@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_scores_match_postgres(name: str, tmp_path: pathlib.Path) -> None:
    slt = _runner()
    session = await EngineSession.start(tmp_path)
    counts = {"q_pass": 0, "q_fail": 0, "s_pass": 0, "s_fail": 0}
    threshold = 0
    try:
        for rec in slt.parse(str(SLT / "data" / name)):
            if not slt.applies(rec["conds"], "postgresql"):
                continue
            if rec["kind"] == "halt":
                break
            if rec["kind"] == "hash-threshold":
                threshold = rec["n"]
                continue
            if rec["kind"] not in ("statement", "query"):
                continue
            rows: list[list[str | None]] = []
            err = None
            try:
                for stmt in parse(rec["sql"]):
                    columns, result, _, p = await session._statement(stmt, (), [])
                    if columns is not None:
                        encoders = [datatypes.text_encoder(c.type_oid) for c in p.columns]
                        rows = [[None if v is None else e(v) for e, v in zip(encoders, r, strict=True)] for r in result]
            except PgError as exc:
                err = exc.message
            if rec["kind"] == "statement":
                counts["s_pass" if (err is not None) == rec["expect_error"] else "s_fail"] += 1
            else:
                failed = err is not None or slt.check_query(rec, rows, threshold) is not None
                counts["q_fail" if failed else "q_pass"] += 1
    finally:
        await session.stop()
    assert (counts["q_pass"], counts["q_fail"], counts["s_pass"], counts["s_fail"]) == EXPECTED[name]
