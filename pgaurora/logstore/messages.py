"""Storage RPC messages: what the log client and peers say to a storage node, and its replies.

Owns the request/reply structs and their msgspec codec (msgpack, tagged union). Not framing on
a socket (logstore.tcp), not the handling (logstore.node). Every request names its segment by
(volume, group); requests that change state carry the sender's volume epoch, and a node
refuses one whose epoch is older than the segment's (`Refused(code="stale_epoch")`).
"""

from __future__ import annotations

import msgspec


class AppendBatch(msgspec.Struct, tag=True, frozen=True):
    """A boxcar of record frames for one segment; acked with the segment's SCL after fsync."""

    volume: str
    group: int
    epoch: int
    records: bytes  # concatenated records.encode_record frames, increasing LSN
    vdl: int = 0  # the writer's VDL: durable hint, persisted with the batch
    pgcl: int = 0  # the group's PGCL as the writer knows it: a segment below it gossips
    min_read_lsn: int = 0  # PGMRPL: lowest read point any instance still uses (GC horizon)


class ReadPage(msgspec.Struct, tag=True, frozen=True):
    volume: str
    group: int
    page: int
    read_lsn: int
    min_scl: int = 0  # the segment must be complete at least up to here


class Status(msgspec.Struct, tag=True, frozen=True):
    volume: str
    group: int


class RecoveryScan(msgspec.Struct, tag=True, frozen=True):
    """LSNs of the segment's complete chain above `floor` (recovery computes VCL from them)."""

    volume: str
    group: int
    epoch: int
    floor: int


class SetEpoch(msgspec.Struct, tag=True, frozen=True):
    """Fences older writers; records of older epochs above `truncate_above` become invisible."""

    volume: str
    group: int
    epoch: int
    truncate_above: int  # -1: fence only, no new truncation
    members: list[str] = []
    truncations: list[tuple[int, int]] = []  # earlier (epoch, truncate_above) the segment may have missed
    required_scl: int = 0  # the group's last LSN at or below VDL: below it, the segment gossips


class CreateSegment(msgspec.Struct, tag=True, frozen=True):
    volume: str
    group: int
    epoch: int
    members: list[str]
    truncations: list[tuple[int, int]] = []  # (epoch, truncate_above) history to adopt


class ChangeMembership(msgspec.Struct, tag=True, frozen=True):
    volume: str
    group: int
    epoch: int
    members: list[str]


class FetchChain(msgspec.Struct, tag=True, frozen=True):
    """Gossip: records of the peer's complete chain with LSN > after_lsn (at most `limit`)."""

    volume: str
    group: int
    after_lsn: int
    limit: int = 1000


class FetchImage(msgspec.Struct, tag=True, frozen=True):
    """Repair: the page image at exactly `lsn` (materialized by the peer)."""

    volume: str
    group: int
    page: int
    lsn: int


Request = AppendBatch | ReadPage | Status | RecoveryScan | SetEpoch | CreateSegment | ChangeMembership | FetchChain | FetchImage


class Ack(msgspec.Struct, tag=True, frozen=True):
    scl: int
    epoch: int = 0


class PageImage(msgspec.Struct, tag=True, frozen=True):
    image: bytes | None  # None: the page has no record at or below the read point
    scl: int = 0


class StatusReply(msgspec.Struct, tag=True, frozen=True):
    exists: bool
    scl: int = 0
    epoch: int = 0
    vdl_hint: int = 0
    max_lsn: int = 0
    members: list[str] = []
    fsyncs: int = 0  # hot-log fsyncs since the node started (group commit shares them)


class RecoveryReply(msgspec.Struct, tag=True, frozen=True):
    scl: int
    lsns: list[int]  # chain LSNs in (floor, scl]
    cpls: list[int]  # the subset that are consistency points
    last_at_floor: int  # last chain LSN <= floor (0 if none)
    max_lsn: int  # highest LSN the segment holds at all


class Chain(msgspec.Struct, tag=True, frozen=True):
    records: bytes
    scl: int
    base_scl: int = 0  # when after_lsn was below the peer's GC horizon: chain LSN at that horizon
    gc_horizon: int = 0
    images: list[tuple[int, int, bytes]] = []  # (page, lsn, image) base images at the horizon
    epoch: int = 0
    truncations: list[tuple[int, int]] = []


class Refused(msgspec.Struct, tag=True, frozen=True):
    """The node would not act: code is stale_epoch, epoch_behind, no_segment, incomplete,
    below_horizon, corrupt, disk_full (its disk has no room for the batch), internal or error."""

    code: str
    message: str
    epoch: int = 0


Reply = Ack | PageImage | StatusReply | RecoveryReply | Chain | Refused

_encoder = msgspec.msgpack.Encoder()
_request_decoder = msgspec.msgpack.Decoder(Request)
_reply_decoder = msgspec.msgpack.Decoder(Reply)


def encode(message: Request | Reply) -> bytes:
    return _encoder.encode(message)


def decode_request(data: bytes | memoryview) -> Request:
    return _request_decoder.decode(data)


def decode_reply(data: bytes | memoryview) -> Reply:
    return _reply_decoder.decode(data)
