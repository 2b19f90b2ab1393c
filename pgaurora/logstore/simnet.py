"""A simulated network on the simulated clock: partition, drop, delay, reorder, heal.

Owns message delivery between named endpoints for golden scripts and property tests
(STYLE.md §7). Each endpoint (`net.endpoint("writer")`, one per node) is a Transport; a call
travels as a request after the link's delay, is handled by the node, and its reply travels
back. A lost message (partition, drop, stopped node) is simply never answered: the caller's
timeout on the simulated clock decides, exactly as over TCP. Randomness is seeded.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from pgaurora.logstore import messages
from pgaurora.logstore.clock import SimClock

if TYPE_CHECKING:
    from pgaurora.logstore.node import StorageNode


class SimNetwork:
    def __init__(self, clock: SimClock, *, seed: int = 0, delay: float = 0.001):
        self.clock = clock
        self.random = random.Random(seed)
        self.nodes: dict[str, StorageNode] = {}
        self.delay = delay
        self.link_delay: dict[str, float] = {}  # extra delay to/from one endpoint
        self.drop_rate = 0.0
        self.jitter = 0.0  # reorder: each message gets up to this much extra random delay
        self.cut: set[frozenset[str]] = set()
        self.delivered = 0
        self.lost = 0
        self.trace: list[str] | None = None

    def endpoint(self, name: str) -> SimEndpoint:
        return SimEndpoint(self, name)

    def register(self, node: StorageNode) -> None:
        self.nodes[node.address] = node

    def unregister(self, address: str) -> None:
        self.nodes.pop(address, None)

    def partition(self, side: list[str], other: list[str] | None = None) -> None:
        """Cuts every link between `side` and `other` (default: everyone else)."""
        everyone = set(self.nodes) | {"writer"} | set(side)
        for a in side:
            for b in other if other is not None else everyone - set(side):
                self.cut.add(frozenset((a, b)))

    def heal(self) -> None:
        self.cut.clear()
        self.drop_rate = 0.0
        self.jitter = 0.0
        self.link_delay.clear()

    def _lost(self, source: str, target: str) -> bool:
        if frozenset((source, target)) in self.cut:
            return True
        return self.drop_rate > 0 and self.random.random() < self.drop_rate

    def _latency(self, source: str, target: str) -> float:
        latency = self.delay + self.link_delay.get(source, 0.0) + self.link_delay.get(target, 0.0)
        if self.jitter:
            latency += self.random.random() * self.jitter
        return latency

    async def call(self, source: str, target: str, request: messages.Request) -> messages.Reply:
        loop = asyncio.get_running_loop()
        reply_future: asyncio.Future[messages.Reply] = loop.create_future()
        data = messages.encode(request)
        if self._lost(source, target) or target not in self.nodes:
            self.lost += 1
            return await reply_future  # never answered: the caller times out

        def deliver() -> None:
            node = self.nodes.get(target)
            if node is None or not node.running:
                self.lost += 1
                return
            self.delivered += 1
            task = loop.create_task(node.handle(messages.decode_request(data)))
            task.add_done_callback(send_back)

        def send_back(task: asyncio.Task) -> None:
            if task.cancelled() or task.exception() is not None:
                return
            if self._lost(target, source) or target not in self.nodes:
                self.lost += 1
                return
            reply_data = messages.encode(task.result())

            def arrive() -> None:
                if not reply_future.done():
                    reply_future.set_result(messages.decode_reply(reply_data))

            self.clock.call_later(self._latency(target, source), arrive)

        self.clock.call_later(self._latency(source, target), deliver)
        return await reply_future


class SimEndpoint:
    """The Transport of one endpoint on the simulated network."""

    def __init__(self, network: SimNetwork, name: str):
        self.network = network
        self.name = name

    async def call(self, address: str, request: messages.Request) -> messages.Reply:
        return await self.network.call(self.name, address, request)

    async def close(self) -> None:
        return None
