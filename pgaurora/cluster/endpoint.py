"""Endpoint routers: a stable TCP port that forwards each client connection to an instance.

Owns byte-for-byte forwarding from an endpoint port to the current target instance (the
supervisor may change the target, e.g. after a failover; new connections follow it).
The reader endpoint routes to the writer until read replicas exist. Not the protocol (the
bytes are not looked at), not choosing targets (cluster.supervisor).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)
CHUNK = 256 * 1024


class EndpointRouter:
    """Listens on host:port and pipes every connection to `target` (host, port)."""

    def __init__(self, name: str, host: str, port: int, target: tuple[str, int]) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.target = target
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError as exc:
                log.warning("endpoint %s: target %s unreachable: %s", self.name, self.target, exc)
                writer.close()
                return
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
