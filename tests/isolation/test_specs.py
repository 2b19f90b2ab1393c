"""Isolation specs run against pgaurora and PostgreSQL 15: the transcripts must be identical.

Each spec in tests/isolation/specs/ (PostgreSQL's isolation spec format) runs every listed
permutation first on the oracle, then on pgaurora with the same steps; which steps block, the
order in which blocked steps complete, rows and error SQLSTATEs/messages must all agree.
A spec whose first line is `# xfail: reason` documents a known difference (expected to fail).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.isolation.runner import run_permutation
from tests.isolation.spec import load_spec

SPECS = Path(__file__).parent / "specs"


def _cases() -> list[object]:
    cases = []
    for path in sorted(SPECS.glob("*.spec")):
        first = path.read_text().splitlines()[0]
        marks = [pytest.mark.xfail(reason=first.split(":", 1)[1].strip(), strict=False)] \
            if first.startswith("# xfail:") else []
        for i in range(len(load_spec(path).permutations)):
            cases.append(pytest.param(path.stem, i, marks=marks, id=f"{path.stem}-{i}"))
    return cases


@pytest.mark.parametrize(("name", "index"), _cases())
async def test_spec_matches_postgres(name, index, instance, pg_oracle):
    spec = load_spec(SPECS / f"{name}.spec")
    permutation = spec.permutations[index]
    expected = await run_permutation(spec, permutation, pg_oracle.dsn, oracle=True)
    got = await run_permutation(spec, permutation, instance.dsn, oracle=False, expected=expected)
    header = f"permutation {' '.join(permutation)}"
    assert "\n".join([header, *got.lines]) == "\n".join([header, *expected.lines])
