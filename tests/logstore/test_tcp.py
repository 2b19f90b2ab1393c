"""The storage RPC over TCP inside one process: framing, malformed requests, reconnects."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

from pgaurora.logstore import StorageNode
from pgaurora.logstore import messages as m
from pgaurora.logstore.tcp import NodeServer, TcpTransport


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

        reader, writer = await asyncio.open_connection(host, port)
        writer.write(struct.pack("<II", 3, 7) + b"\xc1\xc1\xc1")
        length, request_id = struct.unpack("<II", await reader.readexactly(8))
        refused = m.decode_reply(await reader.readexactly(length))
        assert request_id == 7 and isinstance(refused, m.Refused) and refused.code == "malformed"
        writer.close()

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
