"""Run a simple-protocol script on a server and describe the replies comparably.

A transcript keeps what PostgreSQL fixes (message types, command tags, SQLSTATEs, messages,
severities, row values) and drops what differs legitimately between servers (backend keys,
ParameterStatus values such as server_version).
"""

from __future__ import annotations

import struct

from tests.server.rawclient import RawClient, error_fields, query


def describe_reply(messages: list[tuple[bytes, bytes]]) -> list[str]:
    out = []
    for kind, body in messages:
        if kind in (b"E", b"N"):
            f = error_fields(body)
            out.append(f"{kind.decode()} {f.get('S')} {f.get('C')} {f.get('M')}")
        elif kind == b"C":
            out.append("C " + body.rstrip(b"\0").decode())
        elif kind == b"D":
            n = struct.unpack("!h", body[:2])[0]
            pos, vals = 2, []
            for _ in range(n):
                ln = struct.unpack("!i", body[pos:pos + 4])[0]
                pos += 4
                if ln < 0:
                    vals.append(None)
                else:
                    vals.append(body[pos:pos + ln].decode())
                    pos += ln
            out.append(f"D {vals}")
        elif kind == b"T":
            n = struct.unpack("!h", body[:2])[0]
            names, pos = [], 2
            for _ in range(n):
                end = body.index(b"\0", pos)
                name = body[pos:end].decode()
                pos = end + 1
                type_oid = struct.unpack("!I", body[pos + 6:pos + 10])[0]
                names.append(f"{name}:{type_oid}")
                pos += 18
            out.append(f"T {names}")
        elif kind == b"S":
            continue
        else:
            out.append(kind.decode() + (" " + body.decode() if kind == b"Z" else ""))
    return out


def run_script(port: int, statements: list[str]) -> list[list[str]]:
    client = RawClient(port)
    try:
        client.connect()
        results = []
        for sql in statements:
            client.send(query(sql))
            results.append(describe_reply(client.recv_until(b"Z")))
        return results
    finally:
        client.close()
