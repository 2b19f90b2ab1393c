"""Endpoint routers: a stable TCP port that splices each client connection to an instance.

Owns byte-for-byte forwarding from an endpoint port to one of its current targets. Each new
connection asks `targets()` for the instances it may go to (the supervisor's view: the
writer for the writer endpoint; healthy readers, else the writer, for the reader endpoint;
chosen members for a custom endpoint) and takes them round-robin; a target that refuses the
connection is skipped. When none accepts, the client socket is closed at once (a client sees
a connection error and retries). Established connections stay where they are: after a
failover the old writer's connections break and clients reconnect to the new one.
Not the protocol (the bytes are not looked at), not choosing targets (cluster.supervisor).

    client ──► EndpointRouter(port) ──► _Splice ◄──► upstream instance
                                         (asyncio Protocols, with flow control both ways)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Target = tuple[str, int]
CONNECT_TIMEOUT = 2.0


class _Side(asyncio.Protocol):
    """One socket of a spliced pair: what it receives is written to the peer's transport."""

    def __init__(self, splice: _Splice) -> None:
        self.splice = splice
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.pending: list[bytes] = []  # client bytes that arrive before the upstream is connected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:   # small protocol messages must not wait for Nagle's algorithm
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.splice.closed:     # given up on before the loop reported the connection
            transport.close()
        elif self is self.splice.client:
            self.splice.router.connect_upstream(self.splice)

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is None or peer.transport is None:
            self.pending.append(data)
            return
        peer.transport.write(data)

    def eof_received(self) -> bool | None:
        if self.peer is not None and self.peer.transport is not None and self.peer.transport.can_write_eof():
            self.peer.transport.write_eof()
            return True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.splice.close()

    # flow control: when the peer cannot take more, stop reading from this side
    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            with contextlib.suppress(RuntimeError):
                self.peer.transport.resume_reading()


class _Splice:
    """A client connection and its upstream connection."""

    def __init__(self, router: EndpointRouter) -> None:
        self.router = router
        self.client = _Side(self)
        self.upstream = _Side(self)
        self.closed = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.router.splices.discard(self)
        for side in (self.client, self.upstream):
            if side.transport is not None:
                side.transport.close()


class EndpointRouter:
    """Listens on host:port and splices every connection to one of `targets()`, round-robin."""

    def __init__(self, name: str, host: str, port: int, targets: Callable[[], Sequence[Target]] | Target) -> None:
        self.name = name
        self.host = host
        self.port = port
        if isinstance(targets, tuple):
            fixed = targets
            self.targets: Callable[[], Sequence[Target]] = lambda: (fixed,)
        else:
            self.targets = targets
        self.splices: set[_Splice] = set()
        self.connections_total = 0
        self.routed: dict[Target, int] = {}
        self._counter = itertools.count()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._client_protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for splice in list(self.splices):
            splice.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5.0)

    def close_connections_to(self, target: Target) -> int:
        """Breaks the established connections to `target` (e.g. an old writer); returns how many."""
        broken = 0
        for splice in list(self.splices):
            transport = splice.upstream.transport
            if transport is not None and transport.get_extra_info("peername", ("", 0))[:2] == target:
                splice.close()
                broken += 1
        return broken

    def _client_protocol(self) -> asyncio.Protocol:
        splice = _Splice(self)
        self.splices.add(splice)
        self.connections_total += 1
        return splice.client

    def connect_upstream(self, splice: _Splice) -> None:
        task = asyncio.get_running_loop().create_task(self._connect(splice))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _candidates(self) -> list[Target]:
        targets = list(self.targets())
        if not targets:
            return []
        start = next(self._counter) % len(targets)
        return targets[start:] + targets[:start]

    async def _connect(self, splice: _Splice) -> None:
        loop = asyncio.get_running_loop()
        for target in self._candidates():
            if splice.closed:
                return
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    await loop.create_connection(lambda: splice.upstream, *target)
            except (OSError, TimeoutError) as exc:
                log.info("endpoint %s: target %s:%d refused: %s", self.name, target[0], target[1], exc)
                continue
            self.routed[target] = self.routed.get(target, 0) + 1
            if splice.closed:  # the client went away while we connected
                splice.close()
                return
            splice.client.peer, splice.upstream.peer = splice.upstream, splice.client
            if splice.client.pending:
                assert splice.upstream.transport is not None
                splice.upstream.transport.write(b"".join(splice.client.pending))
                splice.client.pending.clear()
            if splice.upstream.pending and splice.client.transport is not None:
                splice.client.transport.write(b"".join(splice.upstream.pending))
                splice.upstream.pending.clear()
            return
        log.warning("endpoint %s: no target accepts connections; closing the client", self.name)
        splice.close()
