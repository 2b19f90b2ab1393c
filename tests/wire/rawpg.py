"""A raw-socket v3 client for comparing pgaurora's wire layer with a real PostgreSQL byte by byte.

Sends exactly the bytes a test gives and returns the backend messages as (type byte, body),
reading until ReadyForQuery, an ErrorResponse FATAL, or the server closing the connection.
"""

from __future__ import annotations

import socket
import struct
import time

from pgaurora.wire import messages as m
from pgaurora.wire.frontend import encode

TIMEOUT = 10.0


def startup(user: str = "postgres", database: str = "postgres") -> bytes:
    return encode(m.StartupMessage(m.PROTOCOL_3_0, {"user": user, "database": database}))


def error_fields(body: bytes) -> dict[str, str]:
    return {chunk[:1].decode(): chunk[1:].decode() for chunk in body.split(b"\0") if chunk}


class RawConnection:
    def __init__(self, port: int, login: bool = True) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buffer = b""
        self.closed = False
        if login:
            self.sock.sendall(startup())
            self.until_ready()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.buffer += data
        return True

    def read_message(self) -> tuple[bytes, bytes] | None:
        while len(self.buffer) < 5 or len(self.buffer) < 1 + struct.unpack("!i", self.buffer[1:5])[0]:
            if self.closed or not self._fill():
                return None
        length = struct.unpack("!i", self.buffer[1:5])[0]
        type_byte, body = self.buffer[:1], self.buffer[5 : 1 + length]
        self.buffer = self.buffer[1 + length :]
        return type_byte, body

    def read_byte(self) -> bytes:
        deadline = time.monotonic() + TIMEOUT
        while not self.buffer and time.monotonic() < deadline:
            if not self._fill():
                break
        byte, self.buffer = self.buffer[:1], self.buffer[1:]
        return byte

    def until_ready(self) -> list[tuple[bytes, bytes]]:
        """Messages up to and including ReadyForQuery (or the end of the connection)."""
        out = []
        for _ in range(100_000):
            message = self.read_message()
            if message is None:
                return out
            out.append(message)
            if message[0] == b"Z":
                return out
            if message[0] == b"E" and error_fields(message[1]).get("S") == "FATAL":
                return out
        raise AssertionError("no ReadyForQuery")
