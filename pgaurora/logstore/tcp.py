"""The storage RPC over TCP: length-prefixed msgspec frames, a node server and a client transport.

Owns sockets for the storage layer and `node_main`, the storage-node process entry point
(`python -m pgaurora.logstore.tcp --data DIR --listen HOST:PORT --az a`; the CLI's
`pgaurora storage-node` calls it too). Not what the messages mean (logstore.node).

    frame = length u32 | request id u32 | msgpack body      (replies echo the request id)

Requests on one connection are handled concurrently, so batches for different segments (and
the group commit inside each segment) overlap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import struct
import sys
from pathlib import Path
from typing import Any

from pgaurora.logstore import messages
from pgaurora.logstore.node import StorageNode

_FRAME = struct.Struct("<II")
MAX_FRAME = 256 << 20
GC_MIN_LSNS = 20_000  # a storage node process collects a segment's garbage in steps of this many LSNs


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    header = await reader.readexactly(_FRAME.size)
    length, request_id = _FRAME.unpack(header)
    if length > MAX_FRAME:
        raise ConnectionError(f"storage RPC frame of {length} bytes is too large")
    return request_id, await reader.readexactly(length)


def _frame(request_id: int, body: bytes) -> bytes:
    return _FRAME.pack(len(body), request_id) + body


class NodeServer:
    """Serves one StorageNode on a TCP listener."""

    def __init__(self, node: StorageNode):
        self.node = node
        self.server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()
        self._outgoing: dict[asyncio.StreamWriter, list[bytes]] = {}  # replies not yet written

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._serve, host, port)
        address = self.server.sockets[0].getsockname()
        return address[0], address[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        pending: set[asyncio.Task] = set()
        try:
            while True:
                try:
                    request_id, body = await _read_frame(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                handler = asyncio.ensure_future(self._handle(request_id, body, writer))
                pending.add(handler)
                handler.add_done_callback(pending.discard)
        finally:
            for handler in pending:
                handler.cancel()
            self._connections.discard(task)
            writer.close()

    async def _handle(self, request_id: int, body: bytes, writer: asyncio.StreamWriter) -> None:
        try:
            request = messages.decode_request(body)
        except Exception as exc:  # a malformed frame: refuse it, keep serving
            reply: messages.Reply = messages.Refused("malformed", f"malformed storage request: {exc}")
        else:
            reply = await self.node.handle(request)
        if writer.is_closing():
            return
        # The replies of one loop turn (a sync round acknowledges the batches of several groups at
        # once) leave in one write: one send here and one wake-up of the writer.
        outgoing = self._outgoing.get(writer)
        if outgoing is None:
            outgoing = self._outgoing[writer] = []
            asyncio.get_running_loop().call_soon(self._flush, writer)
        outgoing.append(_frame(request_id, messages.encode(reply)))

    def _flush(self, writer: asyncio.StreamWriter) -> None:
        outgoing = self._outgoing.pop(writer, None)
        if outgoing and not writer.is_closing():
            writer.write(b"".join(outgoing) if len(outgoing) > 1 else outgoing[0])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.pending: dict[int, asyncio.Future[messages.Reply]] = {}
        self.next_id = 0
        self.reader_task = asyncio.ensure_future(self._read())
        # Requests of one loop turn (e.g. the batches of several protection groups for this node)
        # leave in one write: one wake-up of the node instead of one per request.
        self.outgoing: list[bytes] = []

    def send(self, frame: bytes) -> None:
        if not self.outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self.outgoing.append(frame)

    def _flush(self) -> None:
        if not self.outgoing:
            return  # written early by TcpTransport.flush
        data = b"".join(self.outgoing)
        self.outgoing = []
        if not self.writer.is_closing():
            self.writer.write(data)

    async def _read(self) -> None:
        error: BaseException = ConnectionError("storage node closed the connection")
        try:
            while True:
                request_id, body = await _read_frame(self.reader)
                future = self.pending.pop(request_id, None)
                if future is not None and not future.done():
                    future.set_result(messages.decode_reply(body))
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            error = ConnectionError(f"storage node connection lost: {exc}")
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(error)
            self.pending.clear()
            self.writer.close()

    @property
    def alive(self) -> bool:
        return not self.reader_task.done()


class TcpTransport:
    """One multiplexed connection per storage node, reopened on the next call after a failure."""

    def __init__(self, *, connect_timeout: float = 1.0):
        self.connect_timeout = connect_timeout
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
        future = asyncio.get_running_loop().create_future()
        self._connecting[address] = future
        try:
            host, _, port = address.rpartition(":")
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), self.connect_timeout)
            connection = _Connection(reader, writer)
            self._connections[address] = connection
            future.set_result(connection)
            return connection
        except (OSError, TimeoutError) as exc:
            error = ConnectionError(f"could not connect to storage node {address}: {exc}")
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it
            raise error from None
        finally:
            del self._connecting[address]

    async def call(self, address: str, request: messages.Request) -> messages.Reply:
        connection = await self._connection(address)
        connection.next_id = (connection.next_id + 1) & 0xFFFFFFFF
        request_id = connection.next_id
        future: asyncio.Future[messages.Reply] = asyncio.get_running_loop().create_future()
        connection.pending[request_id] = future
        body = messages.encode(request)
        self.bytes_sent += len(body) + _FRAME.size
        connection.send(_frame(request_id, body))
        try:
            return await future
        finally:
            connection.pending.pop(request_id, None)

    def start_call(self, address: str, request: messages.Request, timeout: float) -> asyncio.Future[messages.Reply]:
        """call() without a coroutine or task: sends now on a live connection and returns the reply's
        future, which fails with TimeoutError after `timeout` seconds (the log client's hot path:
        one batch per segment per loop turn). Without a live connection it falls back to call()."""
        loop = asyncio.get_running_loop()
        connection = self._connections.get(address)
        if connection is None or not connection.alive:
            return asyncio.ensure_future(asyncio.wait_for(self.call(address, request), timeout))
        connection.next_id = request_id = (connection.next_id + 1) & 0xFFFFFFFF
        future: asyncio.Future[messages.Reply] = loop.create_future()
        connection.pending[request_id] = future
        body = messages.encode(request)
        self.bytes_sent += len(body) + _FRAME.size
        connection.send(_frame(request_id, body))
        pending = connection.pending

        def expire() -> None:
            if pending.get(request_id) is future:
                del pending[request_id]
            if not future.done():
                future.set_exception(TimeoutError())

        timer = loop.call_later(timeout, expire)

        def done(_: asyncio.Future[messages.Reply]) -> None:
            timer.cancel()
            if not future.cancelled():
                future.exception()  # retrieved: a caller that dropped it (pipeline reset) is not warned

        future.add_done_callback(done)
        return future

    def flush(self) -> None:
        """Writes now what start_call/call queued this loop turn (one write per node), instead of
        at the end of the turn: the log client's commit path."""
        for connection in self._connections.values():
            if connection.outgoing:
                connection._flush()

    async def close(self) -> None:
        for connection in self._connections.values():
            connection.reader_task.cancel()
            connection.writer.close()
        await asyncio.gather(*(c.reader_task for c in self._connections.values()), return_exceptions=True)
        self._connections.clear()


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
    node = StorageNode(data, f"{host}:{port}", az, transport=transport, fsync=fsync, gc_min_lsns=GC_MIN_LSNS)
    server = NodeServer(node)
    bound_host, bound_port = await server.start(host, port)
    node.address = advertise or f"{bound_host}:{bound_port}"
    node.start()
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def request_stop() -> None:
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signum, request_stop)
    ready(f"READY {node.address}")
    try:
        await stop
    finally:
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
