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


def _trip(bind: m.Bind, described: bool = True, max_rows: int = 0) -> bytes:
    return encode(bind) + (DESCRIBE if described else b"") + encode(m.Execute("", max_rows)) + encode(m.Sync())


@pytest.mark.parametrize("template", [
    m.Bind("", "P0_1", (), (b"42",), (0,)),       # pgbench -M prepared (libpq)
    m.Bind("", "__asyncpg_stmt_1__", (1,), (b"\0\0\0\x07",), (1,)),  # asyncpg
    m.Bind("", "s", (), (), ()),                  # no parameter: the whole round trip repeats
])
def test_repeated_round_trips_are_matched_by_shape(template: m.Bind) -> None:
    """After one decoded round trip the next ones of the same shape are recognised by their
    bytes; each must still read exactly what next_event reads (values of other lengths too)."""
    values = [b"1", b"123456", b"", b"\0\0\0\x09", b"7" * 300] if template.params else [None]
    binds = [template if value is None else m.Bind("", template.statement, template.param_formats, (value,),
                                                   template.result_formats) for value in values]
    decoder = ready(b"".join(_trip(b) for b in binds) + encode(m.Query("SELECT 1")))
    for bind in binds:
        assert decoder.peek_round_trip() == (bind.statement, bind.param_formats, bind.params, bind.result_formats,
                                             0, True)
        decoder.skip_execute_sync()
    assert decoder.next_event() == m.Query("SELECT 1")
    assert decoder.drained()


def test_a_round_trip_of_another_shape_is_decoded_in_full() -> None:
    first = m.Bind("", "s", (), (b"1",), (0,))
    others = [
        m.Bind("", "t", (), (b"1",), (0,)),             # another statement
        m.Bind("", "s", (1,), (b"\0\0\0\x01",), (0,)),  # another parameter format
        m.Bind("", "s", (), (b"1",), (1,)),             # another result format
        m.Bind("", "s", (), (None,), (0,)),             # a NULL
        m.Bind("", "s", (), (b"1", b"2"), (0,)),        # two parameters
    ]
    for other in others:
        for described, max_rows in ((True, 0), (False, 0), (True, 5)):
            decoder = ready(_trip(first) + _trip(other, described, max_rows))
            assert decoder.peek_round_trip() is not None
            decoder.skip_execute_sync()
            assert decoder.peek_round_trip() == (other.statement, other.param_formats, other.params,
                                                 other.result_formats, max_rows, described)
            decoder.skip_execute_sync()
            assert decoder.drained()


def test_a_round_trip_of_the_same_shape_not_wholly_received_waits() -> None:
    first = _trip(m.Bind("", "s", (), (b"1",), (0,)))
    second = _trip(m.Bind("", "s", (), (b"22",), (0,)))
    for cut in (1, 5, 12, len(second) - 1):
        decoder = ready(first + second[:cut])
        assert decoder.peek_round_trip() is not None
        decoder.skip_execute_sync()
        assert decoder.peek_round_trip() is None, cut
        decoder.receive_data(second[cut:])
        assert decoder.peek_round_trip() == ("s", (), (b"22",), (0,), 0, True)
    bad_length = bytearray(second)
    bad_length[4] += 1  # the Bind claims one byte more than its fields hold
    decoder = ready(first + bytes(bad_length))
    decoder.peek_round_trip()
    decoder.skip_execute_sync()
    assert decoder.peek_round_trip() is None


def test_integer_key_parameters_convert_like_int4in() -> None:
    one = formats.values_decoder(formats.param_decoders((23,), (0,)), (0,))
    assert one is not None
    for text, value in ((b"0", 0), (b"007", 7), (b"2147483647", 2147483647), (b"-5", -5), (b"+5", 5),
                        (b" 12 ", 12)):
        assert one((text,)) == (value,), text
    for bad in (b"2147483648", b"1_000", b"", b"\xd9\xa1"):
        with pytest.raises(Exception):  # noqa: B017 - any error: the caller takes the ordinary path
            one((bad,))
    big = formats.values_decoder(formats.param_decoders((20,), (0,)), (0,))
    assert big is not None
    assert big((b"9223372036854775807",)) == (2**63 - 1,)
    with pytest.raises(Exception):  # noqa: B017
        big((b"9223372036854775808",))
