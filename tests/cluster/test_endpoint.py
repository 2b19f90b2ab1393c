"""cluster.endpoint in one process: splicing bytes both ways, round-robin over targets, skipping a
target that refuses, closing the client when no target accepts, breaking connections to a target."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pgaurora.cluster.endpoint import EndpointRouter, Target
from tests.pgoracle import free_port

TIMEOUT = 5.0


class EchoServer:
    """Answers every chunk with its name and the chunk (so a test sees which target it reached)."""

    def __init__(self, name: str) -> None:
        self.name = name.encode()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> Target:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return ("127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(self.name + b":" + data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def echoes() -> AsyncIterator[list[Target]]:
    servers = [EchoServer("a"), EchoServer("b")]
    targets = [await s.start() for s in servers]
    yield targets
    for s in servers:
        await s.stop()


async def ask(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        async with asyncio.timeout(TIMEOUT):
            return await reader.read(65536)
    finally:
        writer.close()


async def test_round_robin_over_the_targets(echoes: list[Target]) -> None:
    router = EndpointRouter("reader", "127.0.0.1", 0, lambda: echoes)
    port = await router.start()
    try:
        answers = [await ask(port, b"hello") for _ in range(4)]
    finally:
        await router.stop()
    assert sorted(answers) == [b"a:hello", b"a:hello", b"b:hello", b"b:hello"]
    assert router.routed == {echoes[0]: 2, echoes[1]: 2}


async def test_large_transfers_are_spliced_whole(echoes: list[Target]) -> None:
    router = EndpointRouter("writer", "127.0.0.1", 0, echoes[0])
    port = await router.start()
    payload = bytes(range(256)) * 8192   # 2 MiB: exercises flow control both ways
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        received = b""
        async with asyncio.timeout(TIMEOUT * 4):
            while received.replace(b"a:", b"") != payload:
                chunk = await reader.read(1 << 20)
                assert chunk, "the endpoint closed the connection"
                received += chunk
        writer.close()
    finally:
        await router.stop()


async def test_a_refusing_target_is_skipped(echoes: list[Target]) -> None:
    dead = ("127.0.0.1", free_port())
    router = EndpointRouter("reader", "127.0.0.1", 0, lambda: [dead, echoes[1]])
    port = await router.start()
    try:
        assert {await ask(port, b"x") for _ in range(3)} == {b"b:x"}
    finally:
        await router.stop()


async def test_no_target_closes_the_client_at_once() -> None:
    targets: list[Target] = []
    router = EndpointRouter("writer", "127.0.0.1", 0, lambda: targets)
    port = await router.start()
    try:
        try:
            assert await ask(port, b"startup") == b""     # EOF (or a reset), not a hang
        except ConnectionResetError:
            pass
        assert not router.splices
    finally:
        await router.stop()


async def test_targets_are_asked_per_connection(echoes: list[Target]) -> None:
    current = [echoes[0]]
    router = EndpointRouter("writer", "127.0.0.1", 0, lambda: current)
    port = await router.start()
    try:
        assert await ask(port, b"1") == b"a:1"
        current[0] = echoes[1]      # a failover moved the writer
        assert await ask(port, b"2") == b"b:2"
    finally:
        await router.stop()


async def test_connections_to_an_old_target_can_be_broken(echoes: list[Target]) -> None:
    router = EndpointRouter("writer", "127.0.0.1", 0, echoes[0])
    port = await router.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping")
        async with asyncio.timeout(TIMEOUT):
            assert await reader.read(100) == b"a:ping"
        assert router.close_connections_to(echoes[0]) == 1
        async with asyncio.timeout(TIMEOUT):
            assert await reader.read(100) == b""
        writer.close()
    finally:
        await router.stop()
