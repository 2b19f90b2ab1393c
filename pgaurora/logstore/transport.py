"""How a request reaches a storage node: the Transport seam and the in-process transport.

Owns the `Transport` protocol (one async `call(address, request) -> reply`) that the log client
and the nodes' gossip use, and `InProcessTransport` for unit tests. The simulated network
(logstore.simnet) and TCP (logstore.tcp) implement the same protocol, so the code above them
is the same in every setting. A transport raises ConnectionError when the node cannot be
reached; timeouts are the caller's (it knows the clock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pgaurora.logstore import messages

if TYPE_CHECKING:
    from pgaurora.logstore.node import StorageNode


class Transport(Protocol):
    async def call(self, address: str, request: messages.Request) -> messages.Reply: ...

    async def close(self) -> None: ...


class InProcessTransport:
    """Calls nodes living in this process; with `codec=True` (tests) every message takes a msgpack round trip."""

    def __init__(self, *, codec: bool = False):
        self.nodes: dict[str, StorageNode] = {}
        self.codec = codec
        self.bytes_sent = 0

    def register(self, node: StorageNode) -> None:
        self.nodes[node.address] = node

    def unregister(self, address: str) -> None:
        self.nodes.pop(address, None)

    async def call(self, address: str, request: messages.Request) -> messages.Reply:
        node = self.nodes.get(address)
        if node is None or not node.running:
            raise ConnectionError(f"storage node {address} is not reachable")
        if not self.codec:
            return await node.handle(request)
        data = messages.encode(request)
        self.bytes_sent += len(data)
        reply = await node.handle(messages.decode_request(data))
        if not node.running:
            raise ConnectionError(f"storage node {address} went away")
        return messages.decode_reply(messages.encode(reply))

    async def close(self) -> None:
        return None
