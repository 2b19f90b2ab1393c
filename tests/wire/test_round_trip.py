"""The fused round trip's wire pieces: peek_round_trip, values_decoder, one-row DataRow encoding.

Each must agree with the message-by-message path (next_event, decode_params, the row loop) on
what it accepts, and decline (None, or raise for the caller to decline) on anything else.
"""

from __future__ import annotations

import struct

import pytest

from pgaurora.errors import PgError
from pgaurora.wire import NEED_DATA, FrontendDecoder, Phase, formats
from pgaurora.wire import messages as m
from pgaurora.wire.frontend import encode

EXECUTE_SYNC = encode(m.Execute("", 0)) + encode(m.Sync())
DESCRIBE = encode(m.Describe("P", ""))


def ready(data: bytes) -> FrontendDecoder:
    decoder = FrontendDecoder(Phase.READY)
    decoder.receive_data(data)
    return decoder


@pytest.mark.parametrize("bind", [
    m.Bind("", "P0_1", (), (b"42",), ()),
    m.Bind("", "", (), (), ()),
    m.Bind("", "s", (1,), (b"\0\0\0\x07", None), (1,)),
    m.Bind("", "s", (0, 1), (b"x", b"\0\x01"), (0, 1, 1)),
    m.Bind("", "s", (), (None,), (1,)),
    m.Bind("", "s", (), (b"",), ()),
    m.Bind("", "s", (), (b"a", b"bc", b"def"), ()),
])
@pytest.mark.parametrize("described", [False, True])
def test_peek_round_trip_reads_what_next_event_reads(bind: m.Bind, described: bool) -> None:
    data = encode(bind) + (DESCRIBE if described else b"") + encode(m.Execute("", 3)) + encode(m.Sync())
    decoder = ready(data + encode(m.Query("SELECT 1")))
    trip = decoder.peek_round_trip()
    assert trip == (bind.statement, bind.param_formats, bind.params, bind.result_formats, 3, described)
    assert decoder.peek_round_trip() == trip  # nothing consumed
    decoder.skip_execute_sync()
    assert decoder.next_event() == m.Query("SELECT 1")
    assert decoder.next_event() is NEED_DATA
    assert decoder.drained()


def test_peek_round_trip_declines_other_input() -> None:
    bind = encode(m.Bind("", "s", (), (b"1",), ()))
    malformed = bytearray(bind)
    malformed[-2:] = b"\0\x05"  # claims five result format codes, holds none
    shapes = [
        encode(m.Bind("p", "s", (), (b"1",), ())) + EXECUTE_SYNC,   # a named portal
        bind + encode(m.Execute("", 0)) + encode(m.Flush()),         # no Sync
        bind + encode(m.Describe("S", "s")) + EXECUTE_SYNC,          # Describe of a statement
        bind + EXECUTE_SYNC[:-1],                                    # Sync not wholly received
        bind[:-1],                                                   # Bind not wholly received
        bytes(malformed) + EXECUTE_SYNC,                             # a Bind next_event rejects
        encode(m.Query("SELECT 1")),
        b"",
    ]
    for data in shapes:
        decoder = ready(data)
        assert decoder.peek_round_trip() is None, data
    decoder = ready(bytes(malformed) + EXECUTE_SYNC)
    with pytest.raises(PgError, match="insufficient data"):
        decoder.next_event()  # the ordinary path reports it


def test_peek_round_trip_only_when_ready() -> None:
    data = encode(m.Bind("", "s", (), (), ())) + EXECUTE_SYNC
    decoder = FrontendDecoder(Phase.READY)
    decoder.receive_data(encode(m.Parse("", "SELECT", ())))
    decoder.next_event()
    decoder.error_occurred()  # now skipping till Sync
    decoder.receive_data(data)
    assert decoder.peek_round_trip() is None
    assert not decoder.drained()


def test_values_decoder_matches_decode_params() -> None:
    oids = (23, 25, 20)
    cases = [((0,), (b"5", b"abc", None)), ((1,), (struct.pack("!i", -3), b"x", struct.pack("!q", 2 ** 40))),
             ((0, 1, 0), (b"7", b"y", b"-9"))]
    for codes, params in cases:
        expanded = formats.param_formats(codes, 3)
        decoders = formats.param_decoders(oids, expanded)
        values = formats.values_decoder(decoders, expanded)
        assert values is not None
        assert values(params) == formats.decode_params(oids, codes, params, decoders=decoders)
    one = formats.values_decoder(formats.param_decoders((23,), (0,)), (0,))
    assert one is not None
    assert one((b" 12 ",)) == (12,)
    assert one((None,)) == (None,)
    for bad in (b"\xff", b"1\x00", b"x", b"99999999999"):
        with pytest.raises(Exception):  # noqa: B017 - any error: the caller takes the ordinary path
            one((bad,))
    assert formats.values_decoder(formats.param_decoders((23,), (2,)), (2,)) is None  # a bad code


@pytest.mark.parametrize("oids", [(), (23,), (23, 25), (23, 25, 16)])
def test_one_row_encodes_as_the_row_loop(oids: tuple[int, ...]) -> None:
    encoder = formats.RowEncoder(oids)
    values = (7, "seven", True)[: len(oids)]
    nulls = (None,) * len(oids)
    two = encoder.rows([values, nulls])
    assert two == encoder.rows([values]) + encoder.rows([nulls])
    assert encoder.rows([]) == b""
