"""The instance's Postgres listener: accepts clients and holds what connections share.

Owns the listening socket, the table of backends (pid -> connection, for CancelRequest and
NOTIFY), max_connections, choosing an authentication method (the hba rules) and building
the authenticator for it, dropping a closed session's temporary tables, and shutting every
session down on stop. Not one connection's
protocol (server.connection), not the engine (server.instance builds it).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from pgaurora.security import HbaRules
from pgaurora.security.tls import ServerTls
from pgaurora.server.auth import hba_for
from pgaurora.server.connection import ClientConnection

log = logging.getLogger(__name__)

BACKLOG = 2048


class PgServer:
    """Accepts Postgres clients for one instance (writer or reader)."""

    def __init__(self, engine: Any, *, host: str = "127.0.0.1", port: int = 5432, max_connections: int = 100,
                 auth: str = "trust", hba: HbaRules | None = None,
                 fixed_settings: dict[str, str] | None = None, tls: ServerTls | None = None) -> None:
        self.engine = engine
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.hba = hba if hba is not None else hba_for(auth)
        self.tls = tls  # None: SSLRequest is answered 'N'
        self.fixed_settings = dict(fixed_settings or {})
        if tls is not None:
            self.fixed_settings.update(ssl="on", ssl_cert_file=tls.cert_file, ssl_key_file=tls.key_file)
        self.fixed_settings.setdefault("max_connections", str(max_connections))
        self.fixed_settings.setdefault("port", str(port))
        self.loop = asyncio.get_event_loop()
        self.connections: set[ClientConnection] = set()
        self.admitted: set[ClientConnection] = set()
        self.backends: dict[int, ClientConnection] = {}
        self._server: asyncio.AbstractServer | None = None
        self._all_closed: asyncio.Event | None = None
        self._cleanups: set[asyncio.Task[None]] = set()  # closed sessions' temporary tables being dropped
        self._replies: list[ClientConnection] = []  # fused replies written after this poll's reads
        self._last_reply: ClientConnection | None = None

    def reply_soon(self, conn: ClientConnection) -> None:
        """Writes `conn`'s buffered reply once the event loop has run the read callbacks of this
        poll: a writer answering several clients in one turn then sends their replies back to
        back, and a client thread woken by the first finds the rest already there (on loopback
        TCP that wakeup was a sixth of the writer's CPU when each reply went out on its own).
        A client answered twice in a row is the only one asking: its reply goes out at once,
        without the extra loop turn."""
        last, self._last_reply = self._last_reply, conn
        replies = self._replies
        if replies:
            replies.append(conn)
        elif conn is last:
            conn.flush()
        else:
            self.loop.call_soon(self._send_replies)
            replies.append(conn)

    def _send_replies(self) -> None:
        replies = self._replies
        self._replies = []
        for conn in replies:
            conn.flush()

    async def start(self) -> int:
        self.loop = asyncio.get_running_loop()
        self._server = await self.loop.create_server(lambda: ClientConnection(self), self.host, self.port,
                                                     backlog=BACKLOG, reuse_address=True)
        sockets = self._server.sockets or ()
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.port
        self.fixed_settings["port"] = str(self.port)
        return self.port

    async def stop(self, timeout: float = 10.0) -> None:
        """Stops accepting; ends every session with FATAL 57P01 (open transactions abort)."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if conn.session is not None and conn._task is None:
                conn.terminate()  # FATAL 57P01 to an idle session's client
            conn.close()
            if conn._task is None:
                conn._task = self.loop.create_task(conn._finish())
        if self.connections or self._cleanups:
            self._all_closed = asyncio.Event()
            try:
                await asyncio.wait_for(self._all_closed.wait(), timeout)
            except TimeoutError:
                log.warning("%d connections did not close in %.0fs", len(self.connections), timeout)
        if self._server is not None:
            await self._server.wait_closed()

    # -- connection bookkeeping ---------------------------------------------------------------

    def connection_opened(self, conn: ClientConnection) -> None:
        self.connections.add(conn)

    def connection_closed(self, conn: ClientConnection) -> None:
        self.connections.discard(conn)
        self.admitted.discard(conn)
        if conn.pid and self.backends.get(conn.pid) is conn:
            del self.backends[conn.pid]
            self._drop_temp_relations(conn.pid)
        if self._all_closed is not None and not self.connections and not self._cleanups:
            self._all_closed.set()

    def _drop_temp_relations(self, pid: int) -> None:
        """A backend's temporary tables go when its session ends, as PostgreSQL's backend exit
        removes them (in a transaction of their own, after the session's was aborted)."""
        catalog = getattr(self.engine, "catalog", None)
        temp_schemas = getattr(getattr(catalog, "committed", None), "temp_schemas", None)
        if not temp_schemas or pid not in temp_schemas or getattr(self.engine, "read_only", False):
            return
        task = self.loop.create_task(catalog.drop_temp_relations(pid))  # type: ignore[union-attr]
        self._cleanups.add(task)
        task.add_done_callback(self._cleanup_done)

    def _cleanup_done(self, task: asyncio.Task[None]) -> None:
        self._cleanups.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # the volume went away (shutdown, fencing): the next start drops them (Catalog.open)
            log.warning("could not drop the temporary tables of a closed session: %s", task.exception())
        if self._all_closed is not None and not self.connections and not self._cleanups:
            self._all_closed.set()

    def admit(self, conn: ClientConnection) -> bool:
        """max_connections: counts connections past their StartupMessage."""
        if len(self.admitted) >= self.max_connections:
            return False
        self.admitted.add(conn)
        return True

    def register_backend(self, conn: ClientConnection) -> tuple[int, int]:
        while True:
            pid = secrets.randbelow(2**31 - 1000) + 1000
            if pid not in self.backends:
                break
        self.backends[pid] = conn
        return pid, secrets.randbits(31)

    def cancel(self, pid: int, secret: int) -> None:
        """CancelRequest: the key must match; a wrong key is ignored silently (as PostgreSQL)."""
        conn = self.backends.get(pid)
        if conn is None or conn.secret != secret or conn.session is None:
            log.info("cancel request for unknown backend %d ignored", pid)
            return
        conn.session.request_cancel("user request")

    def notify(self, channel: str, payload: str, sender_pid: int) -> None:
        for conn in list(self.backends.values()):
            session = conn.session
            if session is not None and channel in session.listening:
                conn.notify(sender_pid, channel, payload)
