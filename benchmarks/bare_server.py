"""A bare asyncio server that answers every query with the reply to `SELECT 1`: the ceiling.

It speaks just enough of the v3 protocol for asyncpg (start-up with trust, simple Query,
Parse/Bind/Describe/Execute/Sync) and computes nothing. Benchmarking it with the same client
shows how fast the client alone can go on this machine, i.e. the best ratio a Python server can
reach; `python -m benchmarks --bare` runs it as a third server.
"""

from __future__ import annotations

import asyncio
import struct
import sys


def _msg(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


STARTUP_REPLY = (
    _msg(b"R", struct.pack("!I", 0))
    + b"".join(_msg(b"S", k + b"\0" + v + b"\0") for k, v in (
        (b"server_version", b"15.0"), (b"client_encoding", b"UTF8"), (b"server_encoding", b"UTF8"),
        (b"DateStyle", b"ISO, MDY"), (b"integer_datetimes", b"on"),
        (b"standard_conforming_strings", b"on")))
    + _msg(b"K", struct.pack("!II", 1, 2))
    + _msg(b"Z", b"I")
)
ROW_DESC = _msg(b"T", struct.pack("!H", 1) + b"?column?\0" + struct.pack("!IhIhih", 0, 0, 23, 4, -1, 0))
ROW_TEXT = _msg(b"D", struct.pack("!HI", 1, 1) + b"1")
ROW_BIN = _msg(b"D", struct.pack("!HIi", 1, 4, 1))
COMPLETE = _msg(b"C", b"SELECT 1\0")
READY = _msg(b"Z", b"I")


class Bare(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = b""
        self.started = False
        self.binary = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        out = []
        while True:
            if not self.started:
                if len(self.buf) < 8:
                    break
                (n,) = struct.unpack_from("!I", self.buf)
                if len(self.buf) < n:
                    break
                code = struct.unpack_from("!I", self.buf, 4)[0]
                self.buf = self.buf[n:]
                if code == 80877103:
                    out.append(b"N")
                else:
                    self.started = True
                    out.append(STARTUP_REPLY)
                continue
            if len(self.buf) < 5:
                break
            kind = self.buf[0:1]
            (n,) = struct.unpack_from("!I", self.buf, 1)
            if len(self.buf) < n + 1:
                break
            body = self.buf[5:n + 1]
            self.buf = self.buf[n + 1:]
            if kind == b"Q":
                out += [ROW_DESC, ROW_TEXT, COMPLETE, READY]
            elif kind == b"P":
                out.append(_msg(b"1", b""))
            elif kind == b"B":
                self.binary = body.endswith(b"\x00\x01\x00\x01")
                out.append(_msg(b"2", b""))
            elif kind == b"D":
                out += [_msg(b"t", b"\0\0"), ROW_DESC]
            elif kind == b"E":
                out += [ROW_BIN if self.binary else ROW_TEXT, COMPLETE]
            elif kind == b"S":
                out.append(READY)
            elif kind == b"X":
                self.transport.close()
                return
        if out:
            self.transport.write(b"".join(out))


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Bare, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(int(sys.argv[1])))
