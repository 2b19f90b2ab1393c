"""The storage RPC over TCP: length-prefixed msgspec frames, a node server and a client transport.

Owns sockets for the storage layer and `node_main`, the storage-node process entry point
(`python -m pgaurora.logstore.tcp --data DIR --listen HOST:PORT --az a`; the CLI's
`pgaurora storage-node` calls it too). Not what the messages mean (logstore.node).

    frame = length u32 | request id u32 | msgpack body      (replies echo the request id)

Requests on one connection are handled concurrently, so batches for different segments (and
the group commit inside each segment) overlap; a node handles an AppendBatch without a task. The client side (TcpTransport) is an
asyncio.Protocol: replies are parsed as bytes arrive and resolve their futures in
data_received, with one timeout timer per connection.

On Linux a node also listens on an abstract unix socket named by its address
(`local_socket_name`), and a transport tries it before TCP: a writer and its nodes on one host
skip the loopback TCP stack (less CPU per batch on both sides). A node elsewhere, or in another
network namespace, is not found there, and the same frames go over TCP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import msgspec

from pgaurora.gcpolicy import GcPolicy
from pgaurora.logstore import messages
from pgaurora.logstore.hotlog import after_sync_round
from pgaurora.logstore.node import StorageNode

log = logging.getLogger(__name__)

_FRAME = struct.Struct("<II")
MAX_FRAME = 256 << 20
GC_MIN_LSNS = 20_000  # a storage node process collects a segment's garbage in steps of this many LSNs
# ... and lets a page with a few records keep them for up to this many LSNs instead of writing its
# image at every collection (measured under pgbench tpcb-like: a node process's resident memory
# about 300 MB instead of 250 MB, two to three times fewer images)
GC_DEFER_LSNS = 200_000


ReplyCallback = Callable[["asyncio.Future[messages.Reply]"], None]

# Linux: a node also listens on an abstract unix socket named by its address, and a transport on
# the same host connects there before trying TCP. Abstract names belong to the network namespace
# (as loopback addresses do) and vanish with the process (no stale files). Measured with a
# 600-byte request and a 40-byte reply between two processes: about 17 us of CPU on each side
# per round trip, against 25 us over loopback TCP; a writer sends each batch to six nodes.
LOCAL_SOCKETS = sys.platform.startswith("linux")


def local_socket_name(address: str) -> str:
    """The abstract unix socket name of the storage node that peers know as `address`."""
    return "\0pgaurora-storage-" + address


def _frame(request_id: int, body: bytes) -> bytes:
    return _FRAME.pack(len(body), request_id) + body


class _FramedProtocol(asyncio.Protocol):
    """Cuts a storage RPC byte stream into frames as bytes arrive (the node's side and the
    writer's side of a connection): each whole frame goes to `_frame`, a frame split across reads
    waits in `_partial` until it is whole, and `_frames_done` runs once per read."""

    def __init__(self) -> None:
        self._partial = bytearray()  # the start of a frame not complete yet
        self._need = 0  # the size _partial must reach before a frame can be taken from it

    def data_received(self, data: bytes) -> None:
        partial = self._partial
        if partial:
            partial += data
            if len(partial) < self._need:
                return
            data = bytes(partial)
            partial.clear()
        view = memoryview(data)
        unpack = _FRAME.unpack_from
        frame = self._frame
        offset = 0
        end = len(data)
        while end - offset >= _FRAME.size:
            length, request_id = unpack(data, offset)
            if length > MAX_FRAME:
                self._too_large(length)
                return
            stop = offset + _FRAME.size + length
            if stop > end:
                break
            frame(request_id, view[offset + _FRAME.size : stop])
            offset = stop
        if offset < end:
            partial += view[offset:]
            self._need = _FRAME.size + unpack(data, offset)[0] if end - offset >= _FRAME.size else _FRAME.size
        self._frames_done()

    def _frame(self, request_id: int, body: memoryview) -> None:
        raise NotImplementedError

    def _too_large(self, length: int) -> None:
        raise NotImplementedError

    def _frames_done(self) -> None:
        """After the frames of one read (the client flushes what their callers queued)."""


class NodeServer:
    """Serves one StorageNode on a TCP listener (and, on Linux, on the local socket named by its
    address: `listen_local`)."""

    def __init__(self, node: StorageNode):
        self.node = node
        self.server: asyncio.Server | None = None
        self.local_server: asyncio.Server | None = None
        self._connections: set[_NodeConnection] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _NodeConnection(self.node, self._connections), host, port)
        address = self.server.sockets[0].getsockname()
        return address[0], address[1]

    async def listen_local(self, address: str) -> bool:
        """Also serves on local_socket_name(address); False where that is not possible (not Linux,
        or the name is taken: the node is then reached over TCP only)."""
        if not LOCAL_SOCKETS:
            return False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(local_socket_name(address))
            sock.listen(128)
            sock.setblocking(False)
            self.local_server = await asyncio.get_running_loop().create_unix_server(
                lambda: _NodeConnection(self.node, self._connections), sock=sock
            )
        except OSError as exc:
            sock.close()
            log.warning("storage node %s: no local socket (%s); serving over TCP only", address, exc)
            return False
        return True

    async def stop(self) -> None:
        if self.local_server is not None:
            self.local_server.close()
        if self.server is not None:
            self.server.close()
        handlers: list[asyncio.Task] = []
        for connection in list(self._connections):
            handlers += connection.close()
        if handlers:
            await asyncio.gather(*handlers, return_exceptions=True)


class _NodeConnection(_FramedProtocol):
    """One client connection of a storage node: requests are parsed as bytes arrive.

    An AppendBatch (the hot path) is handled right there, with no task: the node indexes it and
    queues it for the loop turn's sync round, whose completion sends the Ack
    (StorageNode.append_batch). Other requests run as tasks, concurrently. The replies of one sync
    round (it acknowledges the batches of several groups at once) leave in one write at its end:
    one send here and one wake-up of the writer; other replies leave at the end of the loop turn.
    """

    def __init__(self, node: StorageNode, connections: set[_NodeConnection]):
        self.node = node
        self.connections = connections
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.handlers: set[asyncio.Task] = set()
        self.outgoing: list[bytes] = []  # replies not yet written
        super().__init__()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def close(self) -> list[asyncio.Task]:
        """Closes the connection and cancels its handlers; returns them (to await)."""
        self.connections.discard(self)
        if self.transport is not None:
            self.transport.close()
        handlers = list(self.handlers)
        for handler in handlers:
            handler.cancel()
        return handlers

    def _too_large(self, length: int) -> None:
        log.warning("storage RPC frame of %d bytes is too large: connection closed", length)
        self.close()

    def _frame(self, request_id: int, body: memoryview) -> None:
        try:
            request = messages.decode_request(body)
        except Exception as exc:  # a malformed frame: refuse it, keep serving
            self.reply(request_id, messages.Refused("malformed", f"malformed storage request: {exc}"))
            return
        if type(request) is messages.AppendBatch:
            self.node.append_batch(request, functools.partial(self.reply, request_id))
            return
        handler = self.loop.create_task(self._handle(request_id, request))
        self.handlers.add(handler)
        handler.add_done_callback(self.handlers.discard)

    async def _handle(self, request_id: int, request: messages.Request) -> None:
        self.reply(request_id, await self.node.handle(request))

    def reply(self, request_id: int, reply: messages.Reply) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if not self.outgoing:
            after_sync_round(self._flush)  # an Ack leaves when its sync round has told every batch
        self.outgoing.append(_frame(request_id, messages.encode(reply)))

    def _flush(self) -> None:
        outgoing = self.outgoing
        self.outgoing = []
        transport = self.transport
        if outgoing and transport is not None and not transport.is_closing():
            transport.write(b"".join(outgoing) if len(outgoing) > 1 else outgoing[0])


class _Connection(_FramedProtocol):
    """The client side of one storage-node connection: replies are parsed as bytes arrive and
    resolve their futures right there (no reader task, no readexactly per frame).

    Requests of one loop turn (e.g. the batches of several protection groups for this node) leave
    in one write: one wake-up of the node instead of one per request. Request timeouts share one
    timer per connection, armed at the earliest deadline in flight (not a timer per request).
    A request may carry an `on_reply` callback, called with its future right where the reply is
    parsed (a done-callback would run a loop turn later): the log client takes its acks there,
    and what it sends in answer leaves in the same turn.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, asyncio.Future[messages.Reply]] = {}
        self.deadlines: dict[int, float] = {}  # request id -> loop time it fails with TimeoutError
        self.callbacks: dict[int, ReplyCallback] = {}  # request id -> its on_reply (called in _frame)
        self.next_id = 0
        self.outgoing: list[bytes] = []
        self.alive = False
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        super().__init__()
        self._resolved = False  # a reply of this read resolved its future
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no asyncio.Transport subclass
        self.alive = True

    def _frame(self, request_id: int, body: memoryview) -> None:
        future = self.pending.pop(request_id, None)
        self.deadlines.pop(request_id, None)
        if future is not None and not future.done():
            try:
                future.set_result(messages.decode_reply(body))
            except msgspec.DecodeError as exc:
                future.set_exception(ConnectionError(f"malformed storage reply: {exc}"))
                future.exception()  # retrieved: its caller may have dropped it
            on_reply = self.callbacks.pop(request_id, None) if self.callbacks else None
            if on_reply is None:
                self._resolved = True  # its caller runs next turn: see _frames_done
            else:
                on_reply(future)

    def _too_large(self, length: int) -> None:
        self._abort(ConnectionError(f"storage RPC frame of {length} bytes is too large"))

    def _frames_done(self) -> None:
        if self.outgoing:
            self.flush()  # what the on_reply callbacks sent in answer (the next batches) leaves now
        if self._resolved:
            self._resolved = False
            # The callers woken above (a sender with its next batch) run before this in the next
            # turn: their requests leave in one write then, not a turn later.
            asyncio.get_running_loop().call_soon(self.flush)

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self._fail(ConnectionError(f"storage node connection lost: {exc or 'closed by the node'}"))
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.lost.done():
            self.lost.set_result(None)

    def request(
        self, body: bytes, timeout: float | None, on_reply: ReplyCallback | None = None
    ) -> tuple[int, asyncio.Future[messages.Reply]]:
        """Queues an encoded request (written at the end of the loop turn, or by TcpTransport.flush);
        returns its id and its reply's future, which fails with TimeoutError after `timeout`.
        `on_reply(future)` runs as soon as the future is done: in _frame for a reply, as a
        done-callback for a failure (a failure must not re-enter a connection being torn down)."""
        loop = asyncio.get_running_loop()
        self.next_id = request_id = (self.next_id + 1) & 0xFFFFFFFF
        future: asyncio.Future[messages.Reply] = loop.create_future()
        self.pending[request_id] = future
        if on_reply is not None:
            self.callbacks[request_id] = on_reply
        if timeout is not None:
            deadline = loop.time() + timeout
            self.deadlines[request_id] = deadline
            if self._timer is None or deadline < self._timer_at:
                self._arm(deadline)
        if not self.outgoing:
            loop.call_soon(self.flush)
        self.outgoing.append(_FRAME.pack(len(body), request_id) + body)
        return request_id, future

    def flush(self) -> None:
        if not self.outgoing:
            return  # written early by TcpTransport.flush
        data = b"".join(self.outgoing)
        self.outgoing = []
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def _arm(self, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = asyncio.get_running_loop().call_at(deadline, self._expire)

    def _expire(self) -> None:
        """Fails the requests past their deadline; re-arms for the earliest one left."""
        self._timer = None
        now = asyncio.get_running_loop().time()
        pending = self.pending
        deadlines = self.deadlines
        earliest: float | None = None
        for request_id, deadline in list(deadlines.items()):
            future = pending.get(request_id)
            if future is None or future.done():
                del deadlines[request_id]
            elif deadline <= now:
                del deadlines[request_id]
                del pending[request_id]
                self._fail_later(request_id, future)
                future.set_exception(TimeoutError())
                future.exception()  # retrieved: a caller that dropped it (pipeline reset) is not warned
            elif earliest is None or deadline < earliest:
                earliest = deadline
        if earliest is not None:
            self._arm(earliest)

    def _fail(self, error: ConnectionError) -> None:
        for request_id, future in self.pending.items():
            if not future.done():
                self._fail_later(request_id, future)
                future.set_exception(error)
                future.exception()  # retrieved: see _expire
        self.pending.clear()
        self.deadlines.clear()
        self.callbacks.clear()

    def _fail_later(self, request_id: int, future: asyncio.Future[messages.Reply]) -> None:
        """A failed request's on_reply runs as a done-callback (next turn), not in this call."""
        on_reply = self.callbacks.pop(request_id, None)
        if on_reply is not None:
            future.add_done_callback(on_reply)

    def _abort(self, error: ConnectionError) -> None:
        self.alive = False
        self._fail(error)
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.alive = False
        self._fail(ConnectionError("the storage transport was closed"))
        if self.transport is not None:
            self.transport.close()


class TcpTransport:
    """One multiplexed connection per storage node, reopened on the next call after a failure."""

    def __init__(self, *, connect_timeout: float = 1.0, local: bool = LOCAL_SOCKETS):
        self.connect_timeout = connect_timeout
        self.local = local  # try a node's local socket (same host) before TCP
        self._connections: dict[str, _Connection] = {}
        self._connecting: dict[str, asyncio.Future[_Connection]] = {}
        self.bytes_sent = 0

    async def _connection(self, address: str) -> _Connection:
        connection = self._connections.get(address)
        if connection is not None and connection.alive:
            return connection
        waiting = self._connecting.get(address)
        if waiting is not None:
            return await asyncio.shield(waiting)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._connecting[address] = future
        try:
            local = await self._open_local(address) if self.local else None
            if local is not None:
                opened = local
            else:
                host, _, port = address.rpartition(":")
                _, opened = await asyncio.wait_for(
                    loop.create_connection(_Connection, host, int(port)), self.connect_timeout
                )
            self._connections[address] = opened
            future.set_result(opened)
            return opened
        except (OSError, TimeoutError) as exc:
            error = ConnectionError(f"could not connect to storage node {address}: {exc}")
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it
            raise error from None
        finally:
            del self._connecting[address]

    async def _open_local(self, address: str) -> _Connection | None:
        """A connection to the node's local socket; None when no node on this host (and network
        namespace) listens there: a refusal costs one system call, and TCP is tried next."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect(local_socket_name(address))  # at once, or EAGAIN when its backlog is full
        except OSError:
            sock.close()
            return None
        loop = asyncio.get_running_loop()
        try:
            _, opened = await asyncio.wait_for(
                loop.create_unix_connection(_Connection, sock=sock), self.connect_timeout
            )
        except (OSError, TimeoutError):
            sock.close()
            return None
        return opened

    async def call(self, address: str, request: messages.Request) -> messages.Reply:
        connection = await self._connection(address)
        body = messages.encode(request)
        self.bytes_sent += len(body) + _FRAME.size
        request_id, future = connection.request(body, None)
        try:
            return await future
        finally:
            connection.pending.pop(request_id, None)

    def start_call(
        self, address: str, request: messages.Request | bytes, timeout: float, on_reply: ReplyCallback | None = None
    ) -> asyncio.Future[messages.Reply]:
        """call() without a coroutine or task: sends now on a live connection and returns the reply's
        future, which fails with TimeoutError after `timeout` seconds (the log client's hot path:
        one batch per segment per loop turn). Without a live connection it falls back to call().
        `request` may come encoded already (one AppendBatch encoded once for six segments);
        `on_reply(future)` runs as soon as the reply is parsed (see _Connection.request)."""
        connection = self._connections.get(address)
        if connection is None or not connection.alive:
            decoded = messages.decode_request(request) if isinstance(request, bytes) else request
            future = asyncio.ensure_future(asyncio.wait_for(self.call(address, decoded), timeout))
            if on_reply is not None:
                future.add_done_callback(on_reply)
            return future
        body = request if isinstance(request, bytes) else messages.encode(request)
        self.bytes_sent += len(body) + _FRAME.size
        return connection.request(body, timeout, on_reply)[1]

    def flush(self) -> None:
        """Writes now what start_call/call queued this loop turn (one write per node), instead of
        at the end of the turn: the log client's commit path."""
        for connection in self._connections.values():
            if connection.outgoing:
                connection.flush()

    async def close(self) -> None:
        connections = list(self._connections.values())
        self._connections.clear()
        for connection in connections:
            connection.close()
        if connections:
            # close() flushes what is buffered first: bounded, then the rest is dropped.
            _, stuck = await asyncio.wait([c.lost for c in connections], timeout=1.0)
            for connection in connections:
                if not connection.lost.done() and connection.transport is not None:
                    connection.transport.abort()
            if stuck:
                await asyncio.wait(stuck, timeout=1.0)


def parse_listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def serve_node(
    data: Path, listen: str, az: str, *, fsync: bool = True, ready=print, advertise: str | None = None
) -> None:
    """Runs a storage node until SIGTERM/SIGINT; calls ready('READY host:port') once listening.

    The node's name in segment memberships is `advertise` (default: the bound host:port), which
    must be the address the writer's VolumeConfig lists for it.
    """
    host, port = parse_listen(listen)
    transport = TcpTransport()
    # The node's own address must be how peers name it; with port 0 it is known only after bind.
    node = StorageNode(data, f"{host}:{port}", az, transport=transport, fsync=fsync, gc_min_lsns=GC_MIN_LSNS,
                       gc_defer_lsns=GC_DEFER_LSNS)
    server = NodeServer(node)
    bound_host, bound_port = await server.start(host, port)
    node.address = advertise or f"{bound_host}:{bound_port}"
    await server.listen_local(node.address)
    node.start()
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def request_stop() -> None:
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signum, request_stop)
    # What start-up built (modules, the segments' indexes replayed from disk) lives long, and so
    # do the records indexed since: keep them out of the cyclic GC's frequent full collections
    # (pgaurora.gcpolicy; measured under update and TPC-B-like load: 35 ms of CPU per full
    # collection with nothing frozen, 15 ms with start-up frozen).
    gc_policy = GcPolicy()
    gc_policy.start()
    ready(f"READY {node.address}")
    try:
        await stop
    finally:
        gc_policy.stop()
        await server.stop()
        await node.stop()
        await transport.close()


def node_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pgaurora storage-node", description="Run a pgaurora storage node.")
    parser.add_argument("--data", required=True, help="directory for this node's segments")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (port 0: any free port)")
    parser.add_argument("--az", default="a", help="availability zone label (a, b or c)")
    parser.add_argument("--advertise", help="HOST:PORT peers and writers use for this node (default: the bound one)")
    parser.add_argument("--no-fsync", action="store_true", help="do not fsync (tests only: not durable)")
    args = parser.parse_args(argv)

    def ready(line: str) -> None:
        print(line, flush=True)

    # SCHED_BATCH: a node woken by a writer's batch does not preempt the writer (on a shared host,
    # every AppendBatch to six nodes otherwise costs the writer six context switches mid-send;
    # measured: pgbench tpcb-like +60-90%). Nodes still get their fair share of CPU.
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))  # type: ignore[attr-defined,unused-ignore]

    runner: Any = asyncio.run
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        pass
    try:
        runner(
            serve_node(
                Path(args.data), args.listen, args.az, fsync=not args.no_fsync, ready=ready, advertise=args.advertise
            )
        )
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(node_main())
