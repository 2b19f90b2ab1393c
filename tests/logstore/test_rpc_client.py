"""The log client's side of the storage RPC (logstore.tcp._Connection / TcpTransport) against a
scripted peer on loopback: replies split across reads or packed into one, out of order, late
(the shared timeout timer), malformed, and a peer that goes away."""

from __future__ import annotations

import asyncio
import struct

import pytest

from pgaurora.logstore import messages as m
from pgaurora.logstore.tcp import TcpTransport

_FRAME = struct.Struct("<II")


class ScriptedPeer:
    """A TCP server that hands each request (id, message) to the test and writes what it is told."""

    def __init__(self) -> None:
        self.requests: asyncio.Queue[tuple[int, m.Request]] = asyncio.Queue()
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.address = ""

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self.server.sockets[0].getsockname()[:2]
        self.address = f"{host}:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            while True:
                length, request_id = _FRAME.unpack(await reader.readexactly(_FRAME.size))
                await self.requests.put((request_id, m.decode_request(await reader.readexactly(length))))
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    async def next_request(self) -> tuple[int, m.Request]:
        return await asyncio.wait_for(self.requests.get(), 5.0)

    async def write(self, data: bytes) -> None:
        writer = self.writers[-1]
        writer.write(data)
        await writer.drain()

    def drop(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def stop(self) -> None:
        self.drop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def reply_frame(request_id: int, reply: m.Reply) -> bytes:
    body = m.encode(reply)
    return _FRAME.pack(len(body), request_id) + body


async def round_trip(transport: TcpTransport, peer: ScriptedPeer, request: m.Request, reply: m.Reply) -> m.Reply:
    """One call that the peer answers with `reply` (the first one also opens the connection)."""
    call = asyncio.ensure_future(transport.call(peer.address, request))
    request_id, seen = await peer.next_request()
    assert seen == request
    await peer.write(reply_frame(request_id, reply))
    return await asyncio.wait_for(call, 5.0)


@pytest.fixture
async def peer():
    started = ScriptedPeer()
    await started.start()
    yield started
    await started.stop()


async def test_replies_split_byte_by_byte_packed_together_and_out_of_order(peer: ScriptedPeer) -> None:
    transport = TcpTransport()
    try:
        first = asyncio.ensure_future(transport.call(peer.address, m.Status("v", 0)))
        first_id, request = await peer.next_request()
        assert request == m.Status("v", 0)
        # The header a byte at a time, then the body in pieces.
        big = m.Chain(b"r" * 100_000, 7)
        data = reply_frame(first_id, big)
        for at in range(8):
            await peer.write(data[at : at + 1])
        for at in range(8, len(data), 7000):
            await peer.write(data[at : at + 7000])
        assert await asyncio.wait_for(first, 5.0) == big

        # Three requests in one turn; the replies come back in one write, in reverse order, with
        # the last one cut in the middle of its header.
        calls = [transport.start_call(peer.address, m.Status("v", group), 5.0) for group in range(3)]
        requests = [await peer.next_request() for _ in range(3)]
        data = b"".join(reply_frame(request_id, m.StatusReply(True, scl=request.group))
                        for request_id, request in reversed(requests))  # type: ignore[union-attr]
        await peer.write(data[:-30])
        await peer.write(data[-30:-26])
        await peer.write(data[-26:])
        replies = await asyncio.wait_for(asyncio.gather(*calls), 5.0)
        assert [reply.scl for reply in replies] == [0, 1, 2]  # type: ignore[union-attr]
    finally:
        await transport.close()


async def test_late_replies_time_out_on_one_shared_timer_and_are_then_ignored(peer: ScriptedPeer) -> None:
    transport = TcpTransport()
    try:
        await round_trip(transport, peer, m.Status("v", 0), m.StatusReply(False))  # connected
        slow = transport.start_call(peer.address, m.Status("v", 1), 0.05)
        fast = transport.start_call(peer.address, m.Status("v", 2), 0.02)
        later = transport.start_call(peer.address, m.Status("v", 3), 5.0)
        ids = [await peer.next_request() for _ in range(3)]
        with pytest.raises(TimeoutError):
            await fast
        with pytest.raises(TimeoutError):
            await slow
        assert not later.done()
        # Replies to the timed-out requests are dropped; the one still waiting gets its own.
        await peer.write(b"".join(reply_frame(request_id, m.StatusReply(True, scl=n)) for n, (request_id, _) in
                                  enumerate(ids)))
        assert await asyncio.wait_for(later, 5.0) == m.StatusReply(True, scl=2)
        connection = transport._connections[peer.address]
        assert not connection.pending and connection.alive
    finally:
        await transport.close()


async def test_a_lost_or_garbled_connection_fails_what_waits_and_the_next_call_reconnects(
    peer: ScriptedPeer,
) -> None:
    transport = TcpTransport()
    try:
        waiting = asyncio.ensure_future(transport.call(peer.address, m.Status("v", 0)))
        await peer.next_request()
        started = transport.start_call(peer.address, m.Status("v", 1), 5.0)
        await peer.next_request()
        peer.drop()
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(waiting, 5.0)
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(started, 5.0)

        assert await round_trip(transport, peer, m.Status("v", 2), m.StatusReply(True)) == m.StatusReply(True)

        # A frame claiming more than MAX_FRAME bytes: the connection is dropped, not read.
        garbled = asyncio.ensure_future(transport.call(peer.address, m.Status("v", 3)))
        request_id, _ = await peer.next_request()
        await peer.write(_FRAME.pack(1 << 30, request_id))
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(garbled, 5.0)
        # A reply body that does not decode fails its call only.
        bad = asyncio.ensure_future(transport.call(peer.address, m.Status("v", 4)))
        request_id, _ = await peer.next_request()
        await peer.write(_FRAME.pack(3, request_id) + b"\xc1\xc1\xc1")
        with pytest.raises(ConnectionError, match="malformed storage reply"):
            await asyncio.wait_for(bad, 5.0)
    finally:
        await transport.close()


async def test_on_reply_runs_where_the_reply_is_parsed_and_what_it_sends_leaves_at_once(peer: ScriptedPeer) -> None:
    """The log client's acks: on_reply sees its reply before any done-callback of that turn runs,
    and a request it starts (the segment's next batch) is written before the turn ends."""
    transport = TcpTransport()
    try:
        await round_trip(transport, peer, m.Status("v", 0), m.StatusReply(False))  # connected
        connection = transport._connections[peer.address]
        seen: list[str] = []
        answered: asyncio.Future[m.Reply] = asyncio.get_running_loop().create_future()

        def after_turn() -> None:
            seen.append(f"next turn: {len(connection.outgoing)} queued")

        def on_reply(future: asyncio.Future[m.Reply]) -> None:
            seen.append(f"on_reply: {future.result()}")
            asyncio.get_running_loop().call_soon(after_turn)
            follow_up = transport.start_call(peer.address, m.Status("v", 2), 5.0)
            follow_up.add_done_callback(lambda done: answered.set_result(done.result()))

        first = transport.start_call(peer.address, m.Status("v", 1), 5.0, on_reply)
        first.add_done_callback(lambda _: seen.append("done-callback"))
        request_id, _ = await peer.next_request()
        await peer.write(reply_frame(request_id, m.StatusReply(True, scl=1)))
        request_id, request = await peer.next_request()  # sent from on_reply
        assert request == m.Status("v", 2)
        assert seen == ["on_reply: StatusReply(exists=True, scl=1, epoch=0, vdl_hint=0, max_lsn=0, members=[], "
                        "fsyncs=0)", "done-callback", "next turn: 0 queued"]
        await peer.write(reply_frame(request_id, m.StatusReply(True, scl=2)))
        assert await asyncio.wait_for(answered, 5.0) == m.StatusReply(True, scl=2)

        # A failure reaches on_reply too, a turn later (not from inside the connection's teardown).
        failed: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
        transport.start_call(peer.address, m.Status("v", 3), 5.0, lambda f: failed.set_result(f.exception()))
        await peer.next_request()
        peer.drop()
        assert isinstance(await asyncio.wait_for(failed, 5.0), ConnectionError)
        assert not connection.callbacks and not connection.pending
    finally:
        await transport.close()


def test_the_client_works_on_uvloop() -> None:
    """Storage nodes and instances run on uvloop, whose transports are no asyncio.Transport."""
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> m.Reply:
        peer = ScriptedPeer()
        await peer.start()
        transport = TcpTransport()
        try:
            call = asyncio.ensure_future(transport.call(peer.address, m.Status("v", 0)))
            request_id, _ = await peer.next_request()
            await peer.write(reply_frame(request_id, m.StatusReply(True, scl=5)))
            return await asyncio.wait_for(call, 5.0)
        finally:
            await transport.close()
            await peer.stop()

    assert uvloop.run(scenario()) == m.StatusReply(True, scl=5)
