"""The replication stream between the writer and its read replicas: messages, codec, framing.

Owns the messages (frozen msgspec structs, a tagged union), their msgpack codec and the
length-prefixed framing, as a sans-I/O decoder: `FrameDecoder.feed(bytes) -> [message]`.
Not the sockets (server.replication_source / replication_follower), not applying redo
(pagecache.replica).

    reader                                writer
      Subscribe(server_id) ───────────►
                          ◄─────────────  Hello(volume geometry, start_lsn)
                          ◄─────────────  Redo(first_lsn, records)   one MTR, as appended
                          ◄─────────────  Advance(vdl, xmin, xmax, xip, pgcls, durable_at)
      Feedback(read_lsn, xmin, lag) ──►   (vacuum horizon floor, storage GC floor)

Records arrive before they are durable; the reader applies an MTR only once an Advance says
VDL >= its last LSN. An Advance also carries the writer's running transactions at that VDL
(the reader's snapshots) and each protection group's PGCL (which segments are complete enough
to serve a page at the reader's read point). Every frame is `u32 length | msgpack`.
"""

from __future__ import annotations

import struct

import msgspec

from pgaurora.errors import ProtocolViolation

MAX_FRAME = 64 << 20
_LENGTH = struct.Struct("<I")


class Subscribe(msgspec.Struct, tag=True, frozen=True):
    """A reader asks for the stream; `server_id` names it in aurora_replica_status()."""

    server_id: str
    address: str = ""  # the reader's client port, for pg_stat_replication-like listings
    # A reader with a cache: its read point and the highest LSN up to which it holds every
    # record (applied or pending). The writer may then start the stream at or below have_lsn
    # and replay what it still has, so the reader keeps its pages (0: a new reader).
    read_lsn: int = 0
    have_lsn: int = 0


class Hello(msgspec.Struct, tag=True, frozen=True):
    """The writer's answer: where the reader's pages start and how to reach the segments."""

    server_id: str
    volume_id: str
    epoch: int
    pages_per_group: int
    groups: list[list[str]]  # protection group -> the segment addresses that hold it
    start_lsn: int  # every record above it follows in Redo messages
    session_id: str = ""
    metadata: bytes = b""  # logstore VolumeMetadata as JSON: what a promoted reader opens


class Geometry(msgspec.Struct, tag=True, frozen=True):
    """The volume metadata changed (it grew, a segment was replaced, a new epoch)."""

    metadata: bytes


class Redo(msgspec.Struct, tag=True, frozen=True):
    """One mini-transaction as the writer appended it (LSNs first_lsn .. first_lsn + n - 1)."""

    first_lsn: int
    records: list[tuple[int, int, bytes]]  # (page, op, payload)


class Advance(msgspec.Struct, tag=True, frozen=True):
    """VDL reached `vdl` at wall-clock `durable_at`; the transactions running at that point."""

    vdl: int
    xmin: int
    xmax: int
    xip: list[int]
    pgcls: list[int]  # by protection group
    durable_at: float
    groups: list[list[str]] | None = None  # set when the geometry changed (volume grew, repair)


class Feedback(msgspec.Struct, tag=True, frozen=True):
    """What the reader still needs: its read point (storage GC) and oldest xmin (vacuum)."""

    read_lsn: int
    xmin: int
    highest_lsn_rcvd: int = 0
    lag_ms: float = 0.0
    replay_latency_us: int = 0
    active_txns: int = 0


Message = Subscribe | Hello | Redo | Advance | Feedback | Geometry

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Message)


def encode(message: Message) -> bytes:
    """One frame: u32 length, then the msgpack body."""
    body = _encoder.encode(message)
    return _LENGTH.pack(len(body)) + body


def decode(body: bytes | memoryview) -> Message:
    try:
        return _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise ProtocolViolation(f"invalid replication message: {exc}") from None


class FrameDecoder:
    """Bytes in, messages out; keeps a partial frame between calls."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        buffer = self._buffer
        buffer += data
        messages: list[Message] = []
        pos = 0
        end = len(buffer)
        view = memoryview(buffer)
        try:
            while end - pos >= 4:
                (length,) = _LENGTH.unpack_from(buffer, pos)
                if length > MAX_FRAME:
                    raise ProtocolViolation(f"replication frame of {length} bytes is too large")
                if end - pos - 4 < length:
                    break
                messages.append(decode(view[pos + 4 : pos + 4 + length]))
                pos += 4 + length
        finally:
            view.release()
        if pos:
            del buffer[:pos]
        return messages

    @property
    def buffered(self) -> int:
        return len(self._buffer)
