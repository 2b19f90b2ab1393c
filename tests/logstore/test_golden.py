"""Golden scripts of the storage volume on the simulated network (UPDATE_GOLDEN=1 rewrites)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.logstore.golden import Scenario, parse, render

SCRIPTS = sorted((Path(__file__).parent / "scripts").glob("*.txt"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
async def test_golden(script: Path, tmp_path: Path) -> None:
    text = script.read_text()
    steps = parse(text)
    scenario = Scenario(tmp_path)
    outputs = []
    try:
        for command, _expected in steps:
            outputs.append(await scenario.execute(command))
    finally:
        await scenario.close()
    if os.environ.get("UPDATE_GOLDEN"):
        script.write_text(render(text, outputs))
        return
    for (command, expected), actual in zip(steps, outputs, strict=True):
        assert actual == expected, f"> {command}"
