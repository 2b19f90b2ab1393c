"""Replies of one event-loop turn go out together (PgServer.reply_soon).

The instance runs in this process; two real asyncpg sessions are opened, then their
ClientConnections are fed round trips directly (as a poll that found both readable would)
with their transports replaced by recorders, so the test sees when each reply is written:
after the turn's reads when two clients ask in turn, at once when one client asks alone.
Also here: a Bind the fused path declined is not offered to it a second time.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pgaurora.server.instance import Instance, InstanceOptions
from pgaurora.wire import frontend
from pgaurora.wire import messages as m

READY = b"Z\x00\x00\x00\x05"


class Recorder:
    """A transport that records what is written, in one log shared by the connections."""

    def __init__(self, name: str, log: list[tuple[str, bytes]]) -> None:
        self.name = name
        self.log = log

    def write(self, data: bytes) -> None:
        self.log.append((self.name, data))

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def _bind_execute(statement: str, value: int) -> bytes:
    return b"".join(frontend.encode(msg) for msg in (
        m.Bind("", statement, (0,), (str(value).encode(),), (0,)), m.Execute("", 0), m.SYNC))


def _query(sql: str) -> bytes:
    return frontend.encode(m.Query(sql))


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Any, Any, list[tuple[str, bytes]]]]:
    with tempfile.TemporaryDirectory(prefix="pgaurora-replies-") as tmp:
        instance = Instance(InstanceOptions(data_dir=Path(tmp), port=0, fsync=False))
        port = await instance.start()
        clients = []
        try:
            for _ in range(2):
                client = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
                clients.append(client)
            await clients[0].execute("CREATE TABLE acct (aid int PRIMARY KEY, v int)")
            await clients[0].execute("INSERT INTO acct SELECT g, g * 10 FROM generate_series(1, 100) g")
            for client in clients:
                await client.execute("PREPARE sel(int) AS SELECT v FROM acct WHERE aid = $1")
            assert instance.server is not None
            conns = sorted(instance.server.connections, key=lambda c: c.pid)
            log: list[tuple[str, bytes]] = []
            saved = [c.transport for c in conns]
            for name, conn in zip("ab", conns, strict=True):
                conn.transport = Recorder(name, log)
            conns[1].data_received(_bind_execute("sel", 1))  # b is the last client answered
            await asyncio.sleep(0)
            assert _replies(log) == ["b"]
            log.clear()
            try:
                yield conns[0], conns[1], log
            finally:
                for conn, transport in zip(conns, saved, strict=True):
                    conn.transport = transport
            for client in clients:
                await client.close()
        finally:
            await instance.stop()


def _replies(log: list[tuple[str, bytes]]) -> list[str]:
    return [name for name, data in log if READY in data[-6:]]


async def test_replies_of_one_turn_go_out_after_its_reads(pair: Any) -> None:
    a, b, log = pair
    a.data_received(_bind_execute("sel", 1))  # b was answered last: a's reply waits for the turn
    assert _replies(log) == []
    await asyncio.sleep(0)
    assert _replies(log) == ["a"]
    a.data_received(_bind_execute("sel", 2))  # the only client asking: its reply goes at once
    assert _replies(log) == ["a", "a"]
    log.clear()
    b.data_received(_bind_execute("sel", 3))  # two clients in turn: both after the turn's reads
    a.data_received(_bind_execute("sel", 4))
    assert _replies(log) == []
    await asyncio.sleep(0)
    assert _replies(log) == ["b", "a"]
    assert b"\x00\x00\x00\x0230" in log[0][1] and b"\x00\x00\x00\x0240" in log[1][1]  # v of aid 3 and 4


async def test_message_loop_replies_join_the_turn(pair: Any) -> None:
    """A statement the fused path does not answer (a simple Query with an aggregate) replies
    from the message loop; its reply too waits for the turn's other reads."""
    a, b, log = pair
    a.data_received(_query("SELECT count(*) FROM acct"))
    b.data_received(_bind_execute("sel", 5))
    assert _replies(log) == []
    for _ in range(10):
        await asyncio.sleep(0)
        if len(_replies(log)) == 2:
            break
    assert sorted(_replies(log)) == ["a", "b"]
    assert any(b"100" in data for name, data in log if name == "a")


async def test_a_declined_bind_is_offered_to_the_fused_path_once(pair: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Bind that the round-trip peek cannot take (a named portal) is asked about once:
    _answer_fused's answer is the message loop's too."""
    from pgaurora.server import connection

    a, _, log = pair
    asked: list[str] = []
    real = connection.answer_bind

    def counting(conn: Any, msg: m.Bind) -> bool:
        asked.append(msg.portal)
        return real(conn, msg)

    monkeypatch.setattr(connection, "answer_bind", counting)
    data = b"".join(frontend.encode(msg) for msg in (
        m.Bind("p1", "sel", (0,), (b"7",), (0,)), m.Execute("p1", 0), m.SYNC))
    a.data_received(data)
    for _ in range(10):
        await asyncio.sleep(0)
        if _replies(log):
            break
    assert asked == ["p1"]
    assert _replies(log) == ["a"] and b"\x00\x00\x00\x0270" in log[0][1]  # v of aid 7
