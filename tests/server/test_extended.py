"""The extended query protocol at message level, compared with a real PostgreSQL 15:
Parse/Bind/Describe/Execute/Close/Sync, PortalSuspended, errors skipping to Sync, pipelining."""

from __future__ import annotations

import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess
from tests.server.rawclient import SYNC, RawClient, bind, close, describe, execute, parse
from tests.session.transcript import describe_reply

CASES = {
    "describe_show": parse("s1", "SHOW work_mem") + describe("S", "s1") + bind("p1", "s1")
    + describe("P", "p1") + execute("p1", 0) + SYNC,
    "error_skips_to_sync": parse("", "SHOW nosuch") + bind("", "") + execute("", 0)
    + parse("x", "SHOW work_mem") + SYNC,
    "unknown_statement": bind("", "nosuch") + execute("", 0) + SYNC,
    "unknown_portal": execute("nosuch", 0) + SYNC,
    "multiple_commands": parse("", "SHOW work_mem; SHOW work_mem") + SYNC,
    "duplicate_statement": parse("d", "SHOW work_mem") + parse("d", "SHOW work_mem") + SYNC,
    "close": parse("c", "SHOW work_mem") + close("S", "c") + close("S", "c") + close("P", "zz")
    + bind("", "c") + SYNC,
    "empty_query": parse("", "") + bind("", "") + describe("P", "") + execute("", 0) + SYNC,
    "begin_via_extended": parse("", "BEGIN") + bind("", "") + execute("", 0) + SYNC,
    "wrong_parameter_count": parse("", "SHOW work_mem") + bind("", "", (b"1",)) + SYNC,
    "wrong_result_format_count": parse("", "SHOW work_mem") + bind("", "", (), (), (0, 0)) + SYNC,
    "set_then_show": parse("", "SET work_mem = '1MB'") + describe("S", "") + bind("", "") + describe("P", "")
    + execute("", 0) + parse("", "SHOW work_mem") + bind("", "") + execute("", 0) + SYNC,
    "pipelined_syncs": (parse("", "SHOW DateStyle") + bind("", "") + execute("", 0) + SYNC) * 3,
}


def _run(port: int, data: bytes) -> list[str]:
    c = RawClient(port)
    try:
        c.connect()
        c.send(data)
        out: list[str] = []
        for _ in range(data.count(SYNC)):
            out += describe_reply(c.recv_until(b"Z"))
        return out
    finally:
        c.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_messages_as_postgres(name: str, instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert _run(instance.port, CASES[name]) == _run(pg_oracle.port, CASES[name])


def test_portal_suspended_and_resumed(instance: InstanceProcess) -> None:
    data = parse("", "SHOW ALL") + bind("", "") + execute("", 2) + execute("", 1) + SYNC
    got = _run(instance.port, data)
    assert [m[0] for m in got] == ["1", "2", "D", "D", "s", "D", "s", "Z"]
