"""Golden SQL scripts: each tests/sql/<area>/<name>.sql has an expected transcript <name>.out.

Every script runs twice: through pgaurora's planner and executor on an in-process volume, and
through a real PostgreSQL 15 (a fresh database per script on the shared `pg_oracle`). Both must
reproduce the expected transcript (row text, command tags, error SQLSTATEs and messages).
`UPDATE_GOLDEN=1` rewrites the .out files from PostgreSQL's answers; read the diff.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from tests.sql.runner import EngineSession, postgres_transcript

ROOT = pathlib.Path(__file__).parent
SCRIPTS = sorted(ROOT.glob("*/*.sql"))


def _ids(path: pathlib.Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _expected(script: pathlib.Path) -> list[str]:
    out = script.with_suffix(".out")
    if not out.exists():
        pytest.fail(f"{out} is missing: run with UPDATE_GOLDEN=1 to create it from PostgreSQL")
    return out.read_text().splitlines()


@pytest.mark.parametrize("script", SCRIPTS, ids=_ids)
def test_postgres_agrees(script: pathlib.Path, pg_oracle) -> None:
    import psycopg

    db = f"golden_{script.parent.name}_{script.stem}".lower()
    with psycopg.connect(pg_oracle.dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db}")
        admin.execute(f"CREATE DATABASE {db}")
    try:
        dsn = pg_oracle.dsn.replace("dbname=postgres", f"dbname={db}")
        got = postgres_transcript(dsn, script.read_text())
    finally:
        with psycopg.connect(pg_oracle.dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {db}")
    if os.environ.get("UPDATE_GOLDEN"):
        script.with_suffix(".out").write_text("\n".join(got) + "\n")
    assert got == _expected(script)


@pytest.mark.parametrize("script", SCRIPTS, ids=_ids)
async def test_engine_matches(script: pathlib.Path, tmp_path: pathlib.Path) -> None:
    session = await EngineSession.start(tmp_path)
    try:
        got = await session.transcript(script.read_text())
    finally:
        await session.stop()
    expected = _expected(script)
    assert got == expected
