"""A minimal Postgres v3 client over a raw socket, for protocol-level tests and the fuzzer.

Builds frontend messages byte by byte and splits the server's reply into (type, body)
messages, so tests can check exact message sequences the client libraries hide.
"""

from __future__ import annotations

import socket
import struct
import time


def startup_packet(user: str = "postgres", database: str = "postgres", **params: str) -> bytes:
    body = struct.pack("!i", 196608)
    for k, v in {"user": user, "database": database, **params}.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def message(type_byte: bytes, body: bytes = b"") -> bytes:
    return type_byte + struct.pack("!i", len(body) + 4) + body


def query(sql: str) -> bytes:
    return message(b"Q", sql.encode() + b"\0")


def parse(name: str, sql: str, oids: tuple[int, ...] = ()) -> bytes:
    body = name.encode() + b"\0" + sql.encode() + b"\0" + struct.pack("!h", len(oids))
    body += b"".join(struct.pack("!I", o) for o in oids)
    return message(b"P", body)


def bind(portal: str, stmt: str, params: tuple[bytes | None, ...] = (), param_formats: tuple[int, ...] = (),
         result_formats: tuple[int, ...] = ()) -> bytes:
    body = portal.encode() + b"\0" + stmt.encode() + b"\0"
    body += struct.pack(f"!h{len(param_formats)}h", len(param_formats), *param_formats)
    body += struct.pack("!h", len(params))
    for p in params:
        body += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p)) + p
    body += struct.pack(f"!h{len(result_formats)}h", len(result_formats), *result_formats)
    return message(b"B", body)


def describe(kind: str, name: str) -> bytes:
    return message(b"D", kind.encode() + name.encode() + b"\0")


def execute(portal: str, max_rows: int = 0) -> bytes:
    return message(b"E", portal.encode() + b"\0" + struct.pack("!i", max_rows))


def close(kind: str, name: str) -> bytes:
    return message(b"C", kind.encode() + name.encode() + b"\0")


SYNC = message(b"S")
FLUSH = message(b"H")
TERMINATE = message(b"X")


class RawClient:
    """One connection; `recv_until(b'Z')` returns messages up to ReadyForQuery."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.timeout = timeout

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        if time.monotonic() > deadline:
            raise TimeoutError("no reply from the server")
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise
        if not chunk:
            return False
        self.buf += chunk
        return True

    def recv_message(self) -> tuple[bytes, bytes] | None:
        """The next message, or None when the server closed the connection."""
        deadline = time.monotonic() + self.timeout
        while len(self.buf) < 5:
            if not self._fill(deadline):
                return None
        length = struct.unpack("!i", self.buf[1:5])[0]
        while len(self.buf) < length + 1:
            if not self._fill(deadline):
                return None
        msg = (self.buf[:1], self.buf[5:length + 1])
        self.buf = self.buf[length + 1:]
        return msg

    def recv_until(self, type_byte: bytes = b"Z") -> list[tuple[bytes, bytes]]:
        out = []
        while True:
            msg = self.recv_message()
            if msg is None:
                return out
            out.append(msg)
            if msg[0] == type_byte:
                return out

    def connect(self, user: str = "postgres", database: str = "postgres", **params: str) -> list[tuple[bytes, bytes]]:
        self.send(startup_packet(user, database, **params))
        return self.recv_until(b"Z")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def error_fields(body: bytes) -> dict[str, str]:
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode()
    return fields


def types(messages: list[tuple[bytes, bytes]]) -> str:
    return "".join(m[0].decode() for m in messages)
