"""The storage RPC inside one process: framing, malformed requests, reconnects, and the local
(abstract unix) socket a node on the same host is reached through."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path

import pytest

from pgaurora.logstore import StorageNode
from pgaurora.logstore import messages as m
from pgaurora.logstore.tcp import NodeServer, TcpTransport, local_socket_name


async def _malformed_frame_is_refused(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Sends a frame that is not msgpack: the node answers Refused("malformed") to its id."""
    writer.write(struct.pack("<II", 3, 7) + b"\xc1\xc1\xc1")
    length, request_id = struct.unpack("<II", await reader.readexactly(8))
    refused = m.decode_reply(await reader.readexactly(length))
    assert request_id == 7 and isinstance(refused, m.Refused) and refused.code == "malformed"
    writer.close()


async def test_tcp_round_trip_malformed_frame_and_reconnect(tmp_path: Path) -> None:
    node = StorageNode(tmp_path / "node", "pending", "a", fsync=False, background_interval=0)
    server = NodeServer(node)
    host, port = await server.start("127.0.0.1", 0)
    node.address = f"{host}:{port}"
    node.start()
    transport = TcpTransport()
    try:
        reply = await transport.call(node.address, m.Status("v", 0))
        assert reply == m.StatusReply(False)
        created = await transport.call(node.address, m.CreateSegment("v", 0, 1, [node.address]))
        assert isinstance(created, m.Ack) and created.epoch == 1
        stale = await transport.call(node.address, m.AppendBatch("v", 0, 0, b""))
        assert isinstance(stale, m.Refused) and stale.code == "stale_epoch"
        assert "older than the segment's epoch 1" in stale.message

        await _malformed_frame_is_refused(*await asyncio.open_connection(host, port))

        # The server goes away and comes back on the same port: the transport reconnects.
        await server.stop()
        server = NodeServer(node)
        await server.start(host, port)
        reply = await transport.call(node.address, m.Status("v", 0))
        assert isinstance(reply, m.StatusReply) and reply.exists and reply.epoch == 1
    finally:
        await transport.close()
        await server.stop()
        await node.stop()


def _family(transport: TcpTransport, address: str) -> socket.AddressFamily:
    connection = transport._connections[address]
    assert connection.transport is not None
    return connection.transport.get_extra_info("socket").family


async def test_local_socket_first_tcp_otherwise(tmp_path: Path) -> None:
    """A node on this host is reached over its abstract unix socket, named by its address; a
    transport told not to, or a node without one, goes over TCP; the name is the node's alone."""
    node = StorageNode(tmp_path / "node", "pending", "a", fsync=False, background_interval=0)
    server = NodeServer(node)
    host, port = await server.start("127.0.0.1", 0)
    node.address = f"{host}:{port}"
    node.start()
    local, remote = TcpTransport(), TcpTransport(local=False)
    try:
        # No local socket yet: TCP.
        assert isinstance(await local.call(node.address, m.Status("v", 0)), m.StatusReply)
        assert _family(local, node.address) == socket.AF_INET
        await local.close()

        assert await server.listen_local(node.address)
        local = TcpTransport()
        created = await local.call(node.address, m.CreateSegment("v", 0, 1, [node.address]))
        assert isinstance(created, m.Ack) and created.epoch == 1
        assert _family(local, node.address) == socket.AF_UNIX
        reply = await remote.call(node.address, m.Status("v", 0))
        assert isinstance(reply, m.StatusReply) and reply.exists
        assert _family(remote, node.address) == socket.AF_INET

        # A second server cannot take the name (it keeps serving over TCP).
        other = NodeServer(node)
        await other.start("127.0.0.1", 0)
        assert not await other.listen_local(node.address)
        await other.stop()

        # A malformed frame on the local socket is refused like one over TCP.
        await _malformed_frame_is_refused(*await asyncio.open_unix_connection(local_socket_name(node.address)))

        # The node goes away and comes back (same address): the transport reconnects locally,
        # and while it is gone a call fails with ConnectionError, not a hang.
        await server.stop()
        await asyncio.sleep(0)
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(local.call(node.address, m.Status("v", 0)), 5)
        server = NodeServer(node)
        await server.start(host, port)
        assert await server.listen_local(node.address)
        reply = await local.call(node.address, m.Status("v", 0))
        assert isinstance(reply, m.StatusReply) and reply.exists
        assert _family(local, node.address) == socket.AF_UNIX
    finally:
        await local.close()
        await remote.close()
        await server.stop()
        await node.stop()
