"""The supervisor's control socket: JSON lines on a unix socket in the data directory.

Owns the wire format between operator commands (`pgaurora rds ...`, `pgaurora failover`,
`pgaurora status`) and a running supervisor, and both of its ends. One request per line,
one reply per line, on `DATA/control.sock` (mode 0600: only the cluster's OS user may steer it):

    -> {"verb": "failover-db-cluster", "args": {"target": "instance-2"}}
    <- {"ok": true, "result": {...}}        or   {"ok": false, "error": "message"}

Not what the verbs do (cluster.supervisor), not their command-line shape (cluster.rds).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
MAX_LINE = 1 << 20
Handler = Callable[[str, dict[str, Any]], Awaitable[Any]]


class ControlError(Exception):
    """A verb failed (the supervisor's message), or no supervisor answers."""


def socket_path(data_dir: Path | str) -> Path:
    return Path(data_dir).resolve() / SOCKET_NAME


class ControlServer:
    """Serves `handler(verb, args)` on the unix socket; exceptions become {"ok": false}."""

    def __init__(self, data_dir: Path | str, handler: Handler) -> None:
        self.path = socket_path(data_dir)
        self.handler = handler
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5.0)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    verb, args = str(request["verb"]), dict(request.get("args") or {})
                except (ValueError, KeyError, TypeError) as exc:
                    reply: dict[str, Any] = {"ok": False, "error": f"malformed request: {exc}"}
                else:
                    try:
                        reply = {"ok": True, "result": await self.handler(verb, args)}
                    except ControlError as exc:
                        reply = {"ok": False, "error": str(exc)}
                    except Exception as exc:  # a bug in a verb must not take the supervisor down
                        log.exception("control verb %s failed", verb)
                        reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


def call(data_dir: Path | str, verb: str, args: dict[str, Any] | None = None, timeout: float = 120.0) -> Any:
    """Sends one request to the supervisor of `data_dir` and returns its result (ControlError)."""
    path = socket_path(data_dir)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps({"verb": verb, "args": args or {}}).encode() + b"\n")
            buffer = b""
            while not buffer.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
    except (FileNotFoundError, ConnectionRefusedError):
        raise ControlError(f"no running pgaurora supervisor for {Path(data_dir)} ({path} does not answer)") from None
    except TimeoutError:
        raise ControlError(f"the supervisor did not answer {verb} within {timeout}s") from None
    if not buffer:
        raise ControlError("the supervisor closed the control connection")
    reply = json.loads(buffer)
    if not reply.get("ok"):
        raise ControlError(reply.get("error", "unknown error"))
    return reply.get("result")
