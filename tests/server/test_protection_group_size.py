"""A new volume's protection-group size: Aurora's 10 GiB by default, `--protection-group-mib`
to choose another, and a reopened volume keeps the size it was created with."""

from __future__ import annotations

import tempfile
from pathlib import Path

import asyncpg
import pytest

from pgaurora.cli import _parser
from pgaurora.server.instance import PROTECTION_GROUP_PAGES, Instance, InstanceOptions, group_pages


async def _pages_per_group(data_dir: Path, **options: int) -> int:
    instance = Instance(InstanceOptions(data_dir=data_dir, port=0, fsync=False, **options))  # type: ignore[arg-type]
    port = await instance.start()
    try:
        conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres")
        try:
            await conn.execute("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY)")  # records reach the groups
            await conn.execute("INSERT INTO t SELECT generate_series(1, 100) ON CONFLICT DO NOTHING")
            assert await conn.fetchval("SELECT count(*) FROM t") == 100
        finally:
            await conn.close()
        return int(instance.volume.metadata.pages_per_group)
    finally:
        await instance.stop()


async def test_default_is_ten_gib_and_a_volume_keeps_its_size() -> None:
    assert PROTECTION_GROUP_PAGES * 8192 == 10 << 30
    with tempfile.TemporaryDirectory(prefix="pgaurora-pgsize-") as tmp:
        assert await _pages_per_group(Path(tmp)) == PROTECTION_GROUP_PAGES
        # reopened with another size: the volume's own size stands
        assert await _pages_per_group(Path(tmp), protection_group_pages=group_pages(1)) == PROTECTION_GROUP_PAGES


async def test_chosen_size_applies_to_a_new_volume() -> None:
    with tempfile.TemporaryDirectory(prefix="pgaurora-pgsize-") as tmp:
        assert await _pages_per_group(Path(tmp), protection_group_pages=group_pages(1)) == 128


@pytest.mark.parametrize("command", [["serve"], ["instance", "--data", "x"]])
def test_flag_parses_and_rejects_nonsense(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _parser().parse_args([*command, "--protection-group-mib", "64"]).protection_group_mib == 64
    for bad in ("0", "-3", "ten"):
        with pytest.raises(SystemExit) as exited:
            _parser().parse_args([*command, "--protection-group-mib", bad])
        assert exited.value.code == 2
        assert "--protection-group-mib" in capsys.readouterr().err
