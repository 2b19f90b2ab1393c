"""FrontendDecoder: round trips, framing across chunks, phases, and PostgreSQL's errors."""

from __future__ import annotations

import struct

import pytest

from pgaurora.errors import (
    CharacterNotInRepertoire,
    FatalError,
    FeatureNotSupportedFatal,
    InvalidAuthorizationSpecification,
    PgError,
    ProtocolViolation,
    ProtocolViolationError,
)
from pgaurora.wire import NEED_DATA, FrontendDecoder, Phase
from pgaurora.wire import messages as m
from pgaurora.wire.frontend import encode, startup_packet

REGULAR = [
    m.Query("select 1; select 'é'"),
    m.Parse("s1", "select $1::int, $2", (23, 0xFFFFFFF0)),
    m.Parse("", "select 1", ()),
    m.Bind("p", "s1", (0, 1), (b"12", None), (1,)),
    m.Bind("", "", (), (), ()),
    m.Bind("", "", (1,), (b"\x00\x00\x00\x01", b"", None), (0, 1, 0)),
    m.Describe("S", "s1"),
    m.Describe("P", ""),
    m.Execute("p", 10),
    m.Execute("", 0),
    m.Close("S", "s1"),
    m.Close("P", "p"),
    m.Sync(),
    m.Flush(),
    m.FunctionCall(1598, (0,), (b"abc", None), 1),
]


def msg(type_byte: bytes, body: bytes = b"") -> bytes:
    return type_byte + struct.pack("!i", len(body) + 4) + body


def drain(decoder: FrontendDecoder) -> list[object]:
    out = []
    for _ in range(10_000):
        event = decoder.next_event()
        if event is NEED_DATA:
            return out
        out.append(event)
    raise AssertionError("decoder did not stop")


def ready(data: bytes = b"") -> FrontendDecoder:
    decoder = FrontendDecoder(Phase.READY)
    decoder.receive_data(data)
    return decoder


@pytest.mark.parametrize("message", REGULAR, ids=lambda x: type(x).__name__)
def test_round_trip_regular(message: m.FrontendMessage) -> None:
    assert drain(ready(encode(message))) == [message]


def test_round_trip_copy_and_password_messages() -> None:
    decoder = FrontendDecoder(Phase.AUTHENTICATING)
    decoder.receive_data(encode(m.PasswordMessage(b"secret\0")))
    assert drain(decoder) == [m.PasswordMessage(b"secret\0")]
    decoder.authenticated()
    decoder.receive_data(encode(m.Query("copy t from stdin")))
    assert drain(decoder) == [m.Query("copy t from stdin")]
    decoder.start_copy_in()
    stream = [m.CopyData(b"1\tx\n"), m.CopyData(b""), m.CopyDone()]
    decoder.receive_data(b"".join(encode(x) for x in stream))
    assert drain(decoder) == stream
    assert decoder.phase is Phase.READY
    decoder.receive_data(encode(m.Query("copy t from stdin")))
    drain(decoder)
    decoder.start_copy_in()
    decoder.receive_data(encode(m.CopyFail("boom")))
    assert drain(decoder) == [m.CopyFail("boom")]


def test_startup_sequence_and_params() -> None:
    decoder = FrontendDecoder()
    startup = m.StartupMessage(m.PROTOCOL_3_0, {"user": "alice", "database": "db", "application_name": "x"})
    decoder.receive_data(encode(m.SSLRequest()) + encode(m.GSSENCRequest()) + encode(startup))
    events = drain(decoder)
    assert events == [m.SSLRequest(), m.GSSENCRequest(), startup]
    assert decoder.phase is Phase.AUTHENTICATING
    assert events[2].database == "db" and events[2].user == "alice"


def test_startup_database_defaults_to_user_and_pq_options_are_collected() -> None:
    body = b"user\0bob\0_pq_.foo\x001\0\0"
    decoder = FrontendDecoder()
    decoder.receive_data(startup_packet(m.PROTOCOL_3_0 + 1, body))
    (event,) = drain(decoder)
    assert isinstance(event, m.StartupMessage)
    assert event.database == "bob" and event.protocol_options == ("_pq_.foo",) and event.minor_version == 1


def test_startup_packet_length_limit_excludes_the_length_word() -> None:
    decoder = FrontendDecoder()
    decoder.receive_data(struct.pack("!i", 10004))
    assert decoder.next_event() is NEED_DATA


def test_cancel_request_closes() -> None:
    decoder = FrontendDecoder()
    decoder.receive_data(encode(m.CancelRequest(1234, -5)) + b"junk")
    assert drain(decoder) == [m.CancelRequest(1234, -5)]
    assert decoder.phase is Phase.CLOSED


# (bytes, error class, message) -- the messages were captured from PostgreSQL 15
STARTUP_ERRORS = [
    (struct.pack("!ii", 8, 2 << 16), FeatureNotSupportedFatal,
     "unsupported frontend protocol 2.0: server supports 3.0 to 3.0"),
    (struct.pack("!ii", 8, 4 << 16), FeatureNotSupportedFatal,
     "unsupported frontend protocol 4.0: server supports 3.0 to 3.0"),
    (struct.pack("!ii", 12, 196608) + b"user", ProtocolViolation,
     "invalid startup packet layout: expected terminator as last byte"),
    (struct.pack("!ii", 14, 196608) + b"a\0b\0\0\0", ProtocolViolation,
     "invalid startup packet layout: expected terminator as last byte"),
    (struct.pack("!ii", 9, 196608) + b"\0", InvalidAuthorizationSpecification,
     "no PostgreSQL user name specified in startup packet"),
    (struct.pack("!i", 4), ProtocolViolation, "invalid length of startup packet"),
    (struct.pack("!i", 10005), ProtocolViolation, "invalid length of startup packet"),
    (encode(m.SSLRequest()) + encode(m.SSLRequest()), FeatureNotSupportedFatal,
     "unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0"),
]


@pytest.mark.parametrize(("data", "error", "text"), STARTUP_ERRORS)
def test_startup_errors(data: bytes, error: type[PgError], text: str) -> None:
    decoder = FrontendDecoder()
    decoder.receive_data(data)
    with pytest.raises(error) as info:
        drain(decoder)
    assert info.value.message == text
    assert isinstance(info.value, FatalError)
    assert decoder.phase is Phase.CLOSED


# Non-fatal body errors: (bytes, sqlstate, message), as PostgreSQL 15 answers them
BODY_ERRORS = [
    (msg(b"Q", b"\xff\x00"), "22021", 'invalid byte sequence for encoding "UTF8": 0xff'),
    (msg(b"Q", b"select \xe2\x28\xa1\x00"), "22021", 'invalid byte sequence for encoding "UTF8": 0xe2 0x28 0xa1'),
    (msg(b"Q", b"select 1"), "08P01", "invalid string in message"),
    (msg(b"Q", b"select 1\0x"), "08P01", "invalid message format"),
    (msg(b"D"), "08P01", "no data left in message"),
    (msg(b"D", b"X\0"), "08P01", "invalid DESCRIBE message subtype 88"),
    (msg(b"C", b"Z\0"), "08P01", "invalid CLOSE message subtype 90"),
    (msg(b"S", b"x"), "08P01", "invalid message format"),
    (msg(b"E", b"\0"), "08P01", "insufficient data left in message"),
    (msg(b"P", b"\0select 1\0" + struct.pack("!h", -1)), "08P01", "insufficient data left in message"),
    (msg(b"B", b"\0\0" + struct.pack("!hhhh", 2, 0, 0, 1) + struct.pack("!i", -1) + b"\0\0"),
     "08P01", "bind message has 2 parameter formats but 1 parameters"),
    (msg(b"B", b"\0\0" + struct.pack("!hh", 0, 1) + struct.pack("!i", 5) + b"12"),
     "08P01", "insufficient data left in message"),
    (msg(b"B", b"\0\0" + struct.pack("!hh", 0, 1) + struct.pack("!i", 2) + b"12" + b"\0\0\0\0"),
     "08P01", "invalid message format"),
    (msg(b"B", b"\0\0" + struct.pack("!hh", 0, 1) + struct.pack("!i", -2) + b"\0\0"),
     "08P01", "insufficient data left in message"),
]


@pytest.mark.parametrize(("data", "sqlstate", "text"), BODY_ERRORS)
def test_body_errors_are_errors_not_fatal(data: bytes, sqlstate: str, text: str) -> None:
    decoder = ready(data + encode(m.Sync()) + encode(m.Query("select 2")))
    with pytest.raises(PgError) as info:
        decoder.next_event()
    assert (info.value.sqlstate, info.value.message) == (sqlstate, text)
    assert not isinstance(info.value, FatalError)
    # the bad message was consumed; an extended-query one skipped to Sync
    assert drain(decoder) == [m.Sync(), m.Query("select 2")]


def test_invalid_type_byte_and_length_are_fatal() -> None:
    decoder = ready(b"Z" + struct.pack("!i", 4))
    with pytest.raises(ProtocolViolation, match="invalid frontend message type 90"):
        decoder.next_event()
    assert decoder.phase is Phase.CLOSED and decoder.next_event() is NEED_DATA
    for data in (b"Q" + struct.pack("!i", 2), b"S" + struct.pack("!i", 10001), b"Q" + struct.pack("!i", 1 << 30)):
        with pytest.raises(ProtocolViolation, match="invalid message length"):
            ready(data).next_event()
    # PostgreSQL checks the type before the length arrives
    with pytest.raises(ProtocolViolation, match="invalid frontend message type 112"):
        ready(b"p").next_event()


def test_error_in_extended_query_skips_until_sync_unparsed() -> None:
    decoder = ready(encode(m.Parse("", "select 1")) + encode(m.Bind("", "", (), (), ())))
    assert drain(decoder)[0] == m.Parse("", "select 1")
    decoder.error_occurred()  # the server failed the Bind
    garbage_describe = msg(b"D", b"X\0")  # would be an error if parsed
    decoder.receive_data(garbage_describe + encode(m.Execute("")) + encode(m.Query("x")) + encode(m.Terminate())
                         + encode(m.Sync()) + encode(m.Query("select 2")))
    assert drain(decoder) == [m.Sync(), m.Query("select 2")]
    # an error for a simple Query does not skip
    decoder.error_occurred()
    decoder.receive_data(encode(m.Query("select 3")))
    assert drain(decoder) == [m.Query("select 3")]


def test_copy_messages_outside_copy_are_ignored() -> None:
    data = encode(m.CopyData(b"x")) + encode(m.CopyDone()) + encode(m.CopyFail("f")) + encode(m.Query("q"))
    assert drain(ready(data)) == [m.Query("q")]


def test_copy_in_ignores_flush_and_sync_and_rejects_others_then_fatal() -> None:
    decoder = ready(encode(m.Query("copy t from stdin")))
    drain(decoder)
    decoder.start_copy_in()
    decoder.receive_data(encode(m.Flush()) + encode(m.Sync()) + encode(m.CopyData(b"a\n")) + encode(m.Query("x")))
    assert decoder.next_event() == m.CopyData(b"a\n")
    with pytest.raises(ProtocolViolationError, match="unexpected message type 0x51 during COPY from stdin"):
        decoder.next_event()
    with pytest.raises(ProtocolViolation, match="terminating connection because protocol synchronization was lost"):
        decoder.next_event()
    assert decoder.phase is Phase.CLOSED


def test_copy_error_from_extended_protocol_skips_to_sync() -> None:
    decoder = ready(encode(m.Parse("", "copy t from stdin")) + encode(m.Bind("", "", (), (), ()))
                    + encode(m.Execute("")))
    drain(decoder)
    decoder.start_copy_in()
    decoder.receive_data(encode(m.CopyData(b"bad\n")))
    drain(decoder)
    decoder.error_occurred()  # the row was rejected
    decoder.receive_data(encode(m.CopyData(b"more\n")) + encode(m.CopyDone()) + encode(m.Sync()))
    assert drain(decoder) == [m.Sync()]


def test_authentication_phase_accepts_only_password_messages() -> None:
    decoder = FrontendDecoder(Phase.AUTHENTICATING)
    decoder.auth_response = "SASL"
    decoder.receive_data(encode(m.Query("select 1")))
    with pytest.raises(ProtocolViolation, match="expected SASL response, got message type 81"):
        decoder.next_event()


def test_terminate_closes() -> None:
    decoder = ready(encode(m.Terminate()) + encode(m.Query("never")))
    assert drain(decoder) == [m.Terminate()]
    assert decoder.phase is Phase.CLOSED


def test_byte_at_a_time_equals_one_chunk() -> None:
    stream = b"".join(encode(x) for x in REGULAR)
    decoder = ready()
    events = []
    for i in range(len(stream)):
        decoder.receive_data(stream[i : i + 1])
        events += drain(decoder)
    assert events == REGULAR


def test_large_message_is_gathered_in_chunks() -> None:
    payload = bytes(range(256)) * 4000  # ~1 MB
    data = encode(m.CopyData(payload))
    decoder = ready(encode(m.Query("copy t from stdin")))
    drain(decoder)
    decoder.start_copy_in()
    events = []
    for i in range(0, len(data), 8192):
        decoder.receive_data(data[i : i + 8192])
        events += drain(decoder)
    assert events == [m.CopyData(payload)]
    assert decoder.buffered == 0


def test_invalid_utf8_error_shape_matches_postgres() -> None:
    with pytest.raises(CharacterNotInRepertoire) as info:
        ready(msg(b"P", b"\0select '\xc3\x28'\0\0\0")).next_event()
    assert info.value.message == 'invalid byte sequence for encoding "UTF8": 0xc3 0x28'


def startup_with(**params: str) -> FrontendDecoder:
    decoder = FrontendDecoder()
    decoder.receive_data(encode(m.StartupMessage(m.PROTOCOL_3_0, {"user": "u", **params})))
    return decoder


def test_replication_parameter_is_checked_like_postgres() -> None:
    with pytest.raises(FatalError) as info:
        startup_with(replication="maybe").next_event()
    assert (info.value.sqlstate, info.value.message) == ("22023", 'invalid value for parameter "replication": "maybe"')
    assert info.value.hint == 'Valid values are: "false", 0, "true", 1, "database".'
    for ok in ("database", "off", "y", "TRUE", "0"):
        assert isinstance(startup_with(replication=ok).next_event(), m.StartupMessage)


def test_long_names_are_cut_to_63_bytes() -> None:
    event = startup_with(user="u" * 70, database="é" * 40).next_event()
    assert isinstance(event, m.StartupMessage)
    assert event.user == "u" * 63 and event.database == "é" * 31
