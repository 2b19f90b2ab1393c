"""Health probes and a minimal simple-query client: what the supervisor asks an instance.

Owns the two questions the supervisor puts to a compute instance over its Postgres port:
is it alive (an SSLRequest answered with 'N' within a timeout — cheap, no session), and
what is its read point and lag (`SELECT ... FROM aurora_replica_status()` or `pg_promote()`
through a tiny v3 client: StartupMessage, trust or cleartext/md5 password, one simple Query,
text rows). Not a general client (tests use psycopg), not deciding anything (cluster.failover).

    supervisor ── SSLRequest ──► instance        'N'  => healthy
               ── Startup, Query ──► instance     RowDescription, DataRow*, ReadyForQuery
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import struct

# A live writer busy with a long statement can leave its event loop unanswered for seconds on
# a loaded 2-core machine; four probes of 4 s (about 18 s) before a hung writer is failed over.
# A writer process that exits is failed over at once, without probes.
PROBE_TIMEOUT = 4.0
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
_UNVERIFIED = ssl.create_default_context()
_UNVERIFIED.check_hostname = False
_UNVERIFIED.verify_mode = ssl.CERT_NONE
PROTOCOL_V3 = 196608

Row = tuple[str | None, ...]


class QueryFailed(Exception):
    """The instance answered with an ErrorResponse (sqlstate and message kept)."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(f"{sqlstate}: {message}")
        self.sqlstate = sqlstate
        self.message = message


async def probe_instance(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when host:port answers an SSLRequest with 'N' (or 'S') within `timeout`."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(SSL_REQUEST)
            answer = await reader.readexactly(1)
            return answer in (b"N", b"S")
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _startup(user: str, database: str) -> bytes:
    body = struct.pack("!i", PROTOCOL_V3)
    for key, value in (("user", user), ("database", database), ("application_name", "pgaurora-supervisor")):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def _message(type_byte: bytes, body: bytes) -> bytes:
    return type_byte + struct.pack("!i", len(body) + 4) + body


def _error_fields(body: bytes) -> tuple[str, str]:
    fields: dict[str, str] = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return fields.get("C", "XX000"), fields.get("M", "")


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    header = await reader.readexactly(5)
    length = struct.unpack("!i", header[1:])[0]
    return header[:1], await reader.readexactly(length - 4)


def _data_row(body: bytes) -> Row:
    count = struct.unpack_from("!h", body)[0]
    offset = 2
    values: list[str | None] = []
    for _ in range(count):
        size = struct.unpack_from("!i", body, offset)[0]
        offset += 4
        if size < 0:
            values.append(None)
        else:
            values.append(body[offset:offset + size].decode())
            offset += size
    return tuple(values)


async def simple_query(host: str, port: int, sql: str, *, user: str = "postgres", database: str = "postgres",
                       password: str | None = None, timeout: float = 5.0) -> list[Row]:
    """Runs one simple-protocol query and returns its rows as text tuples (QueryFailed on error)."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            # TLS when the instance offers it (libpq's sslmode=prefer): with `serve --force-ssl` a
            # clear-text connection is refused. The supervisor talks to its own instances, so the
            # certificate is not verified.
            writer.write(SSL_REQUEST)
            if await reader.readexactly(1) == b"S":
                await writer.start_tls(_UNVERIFIED)
            writer.write(_startup(user, database))
            rows: list[Row] = []
            error: QueryFailed | None = None
            sent = False
            while True:
                kind, body = await _read_message(reader)
                if kind == b"R":
                    code = struct.unpack_from("!i", body)[0]
                    if code == 3 and password is not None:
                        writer.write(_message(b"p", password.encode() + b"\0"))
                    elif code == 5 and password is not None:
                        inner = hashlib.md5(password.encode() + user.encode()).hexdigest()
                        outer = "md5" + hashlib.md5(inner.encode() + body[4:8]).hexdigest()
                        writer.write(_message(b"p", outer.encode() + b"\0"))
                    elif code != 0:
                        raise QueryFailed("28000", f"authentication method {code} is not supported by the probe")
                elif kind == b"E":
                    error = QueryFailed(*_error_fields(body))
                    if not sent:
                        raise error
                elif kind == b"D":
                    rows.append(_data_row(body))
                elif kind == b"Z":
                    if not sent:
                        writer.write(_message(b"Q", sql.encode() + b"\0"))
                        sent = True
                        continue
                    writer.write(_message(b"X", b""))
                    if error is not None:
                        raise error
                    return rows
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


REPLICA_STATUS_SQL = ("SELECT server_id, session_id, durable_lsn, current_read_lsn, replica_lag_in_msec "
                      "FROM aurora_replica_status()")


async def read_point(host: str, port: int, server_id: str, timeout: float = 2.0) -> tuple[int, float] | None:
    """(read LSN, lag in ms) of instance `server_id` as the instance at host:port reports it."""
    try:
        rows = await simple_query(host, port, REPLICA_STATUS_SQL, timeout=timeout)
    except (OSError, TimeoutError, QueryFailed, asyncio.IncompleteReadError, ValueError):
        return None
    mine = [r for r in rows if r[0] == server_id]
    if not mine:
        return None
    _, _, durable, current, lag = mine[0]
    lsn = current if current not in (None, "") else durable
    try:
        return parse_lsn(lsn or "0"), float(lag or 0.0)
    except ValueError:
        return None


def parse_lsn(text: str) -> int:
    """An LSN as an integer ('123') or in pg_lsn notation ('0/7B')."""
    high, slash, low = text.partition("/")
    if slash:
        return (int(high, 16) << 32) | int(low, 16)
    return int(text)
