"""cluster.control and cluster.rds without a cluster: the JSON-lines socket both ways, errors, and
the table output of the rds verbs."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pgaurora.cluster.control import ControlError, ControlServer, call, socket_path
from pgaurora.cluster.rds import format_table


async def verbs(verb: str, args: dict[str, Any]) -> Any:
    if verb == "echo":
        return {"verb": verb, "args": args}
    if verb == "refuse":
        raise ControlError("DB instance x not found")
    raise KeyError(verb)


async def test_round_trip_and_errors(tmp_path: Path) -> None:
    server = ControlServer(tmp_path, verbs)
    await server.start()
    try:
        assert stat.S_IMODE(os.stat(socket_path(tmp_path)).st_mode) == 0o600
        result = await asyncio.to_thread(call, tmp_path, "echo", {"name": "i-1"})
        assert result == {"verb": "echo", "args": {"name": "i-1"}}
        with pytest.raises(ControlError, match="DB instance x not found"):
            await asyncio.to_thread(call, tmp_path, "refuse")
        with pytest.raises(ControlError, match="KeyError"):      # a bug in a verb is reported, not fatal
            await asyncio.to_thread(call, tmp_path, "unknown")
        assert await asyncio.to_thread(call, tmp_path, "echo") == {"verb": "echo", "args": {}}
    finally:
        await server.stop()
    assert not socket_path(tmp_path).exists()


def test_no_supervisor_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="no running pgaurora supervisor"):
        call(tmp_path, "describe-db-clusters")


def test_table_output() -> None:
    reply = {"DBInstances": [
        {"DBInstanceIdentifier": "instance-1", "Role": "writer", "Endpoint": {"Address": "127.0.0.1", "Port": 5}},
        {"DBInstanceIdentifier": "instance-2", "Role": "reader", "Endpoint": {"Address": "127.0.0.1", "Port": 6}},
    ]}
    lines = format_table(reply).splitlines()
    assert lines[0] == "DBInstances"
    assert lines[1].split() == ["DBInstanceIdentifier", "Role", "Endpoint"]
    assert lines[2].split() == ["instance-1", "writer", "127.0.0.1:5"]
    assert lines[3].split() == ["instance-2", "reader", "127.0.0.1:6"]
