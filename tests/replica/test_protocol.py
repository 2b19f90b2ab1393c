"""The replication stream codec: frames in any chunking, every message type, bad input."""

from __future__ import annotations

import struct

import pytest

from pgaurora.errors import ProtocolViolation
from pgaurora.server import replication_protocol as rp

MESSAGES: list[rp.Message] = [
    rp.Subscribe("reader-1", "127.0.0.1:5433"),
    rp.Hello("writer", "volume", 3, 1280, [["a:1", "b:2"], ["c:3"]], 41, "sess", b'{"x":1}'),
    rp.Redo(42, [(7, 1, b"\x00\x01"), (8, 4, b"")]),
    rp.Advance(43, 10, 12, [10, 11], [43, 40], 1700000000.5),
    rp.Advance(44, 12, 12, [], [44], 1700000001.0, [["a:1"]]),
    rp.Feedback(43, 10, 44, 1.5, 120, 2),
    rp.Geometry(b"{}"),
]


def test_every_message_round_trips_in_one_buffer() -> None:
    data = b"".join(rp.encode(m) for m in MESSAGES)
    decoder = rp.FrameDecoder()
    assert decoder.feed(data) == MESSAGES
    assert decoder.buffered == 0


def test_frames_split_at_every_byte_come_out_whole() -> None:
    data = b"".join(rp.encode(m) for m in MESSAGES)
    decoder = rp.FrameDecoder()
    out: list[rp.Message] = []
    for i in range(len(data)):
        out.extend(decoder.feed(data[i : i + 1]))
    assert out == MESSAGES


def test_redo_records_keep_their_types() -> None:
    (message,) = rp.FrameDecoder().feed(rp.encode(rp.Redo(5, [(1, 2, b"abc")])))
    assert isinstance(message, rp.Redo)
    page, op, payload = message.records[0]
    assert (page, op, payload) == (1, 2, b"abc") and isinstance(payload, bytes)


def test_a_garbage_body_is_a_protocol_violation() -> None:
    body = b"\xc1\xc1\xc1"
    with pytest.raises(ProtocolViolation):
        rp.FrameDecoder().feed(struct.pack("<I", len(body)) + body)


def test_an_oversized_frame_is_refused_before_it_is_buffered() -> None:
    with pytest.raises(ProtocolViolation, match="too large"):
        rp.FrameDecoder().feed(struct.pack("<I", rp.MAX_FRAME + 1))


def test_messages_are_frozen() -> None:
    with pytest.raises(AttributeError):
        MESSAGES[3].vdl = 1  # type: ignore[union-attr, misc]
