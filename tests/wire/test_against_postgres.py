"""The wire layer compared with a real PostgreSQL 15: its errors for malformed messages, and
the exact bytes of the backend messages it sends."""

from __future__ import annotations

import struct

import pytest

from pgaurora.errors import PgError, ProtocolViolationError
from pgaurora.wire import FrontendDecoder, Phase, encoder
from pgaurora.wire import messages as m
from pgaurora.wire.formats import RowEncoder
from pgaurora.wire.frontend import encode
from tests.wire.rawpg import RawConnection, error_fields
from tests.wire.test_decoder import BODY_ERRORS, STARTUP_ERRORS


def first_error(messages: list[tuple[bytes, bytes]]) -> dict[str, str]:
    errors = [error_fields(body) for kind, body in messages if kind == b"E"]
    assert errors, messages
    return errors[0]


@pytest.mark.parametrize(("data", "sqlstate", "text"), BODY_ERRORS)
def test_body_errors_match_postgres(pg_oracle, data: bytes, sqlstate: str, text: str) -> None:
    with RawConnection(pg_oracle.port) as conn:
        # a named statement with one parameter so that PostgreSQL gets as far as our checks
        setup = encode(m.Parse("", "select $1::text", ())) if data[:1] == b"B" else b""
        conn.send(setup + data + encode(m.Sync()))
        error = first_error(conn.until_ready())
    assert (error["C"], error["M"]) == (sqlstate, text)
    assert error["S"] == "ERROR"
    ours = FrontendDecoder(Phase.READY)
    ours.receive_data(data)
    with pytest.raises(PgError) as info:
        ours.next_event()
    assert (info.value.sqlstate, info.value.message) == (error["C"], error["M"])


@pytest.mark.parametrize(("data", "error", "text"), [e for e in STARTUP_ERRORS if b"\x04\xd2" not in e[0][:8]])
def test_startup_errors_match_postgres(pg_oracle, data: bytes, error: type[PgError], text: str) -> None:
    with RawConnection(pg_oracle.port, login=False) as conn:
        conn.send(data)
        if "protocol 2.0" in text:
            # to a v2 client PostgreSQL answers in the v2 format: 'E', the text, NUL
            while conn._fill():
                pass
            assert conn.buffer.startswith(b"E") and text.encode() in conn.buffer
            return
        messages = conn.until_ready()
    if text == "invalid length of startup packet":
        assert messages == []  # PostgreSQL only logs it and hangs up
        return
    fields = first_error(messages)
    assert (fields["S"], fields["C"], fields["M"]) == ("FATAL", error.sqlstate, text)


def test_ssl_request_is_answered_with_one_byte(pg_oracle) -> None:
    with RawConnection(pg_oracle.port, login=False) as conn:
        conn.send(encode(m.SSLRequest()))
        assert conn.read_byte() == encoder.SSL_REFUSED


def test_copy_protocol_violation_matches_postgres(pg_oracle) -> None:
    with RawConnection(pg_oracle.port) as conn:
        conn.send(encode(m.Query("create temp table t(a int); copy t from stdin")))
        conn.send(encode(m.CopyData(b"1\n")) + encode(m.Query("select 1")))
        messages = conn.until_ready()
        errors = [error_fields(b) for k, b in messages if k == b"E"]
        if len(errors) < 2:
            errors += [error_fields(b) for k, b in conn.until_ready() if k == b"E"]
    assert [(e["S"], e["C"], e["M"]) for e in errors] == [
        ("ERROR", "08P01", "unexpected message type 0x51 during COPY from stdin"),
        ("FATAL", "08P01", "terminating connection because protocol synchronization was lost"),
    ]
    ours = FrontendDecoder(Phase.READY)
    ours.receive_data(encode(m.Query("copy t from stdin")))
    ours.next_event()
    ours.start_copy_in()
    ours.receive_data(encode(m.CopyData(b"1\n")) + encode(m.Query("select 1")))
    ours.next_event()
    with pytest.raises(ProtocolViolationError, match=errors[0]["M"]):
        ours.next_event()
    with pytest.raises(PgError, match=errors[1]["M"]):
        ours.next_event()


def test_backend_messages_are_byte_identical(pg_oracle) -> None:
    query = "select 1::int4 as a, 'x'::text as b, null::int8 as c"
    with RawConnection(pg_oracle.port) as conn:
        conn.send(encode(m.Parse("s", query)) + encode(m.Bind("p", "s", (), (), ()))
                  + encode(m.Describe("P", "p")) + encode(m.Execute("p", 0)) + encode(m.Close("P", "p"))
                  + encode(m.Sync()))
        got = conn.until_ready()
    raw = [kind + struct.pack("!i", len(body) + 4) + body for kind, body in got]
    fields = [("a", 0, 0, 23, 4, -1, 0), ("b", 0, 0, 25, -1, -1, 0), ("c", 0, 0, 20, 8, -1, 0)]
    assert raw == [
        encoder.PARSE_COMPLETE,
        encoder.BIND_COMPLETE,
        encoder.row_description(fields),
        RowEncoder((23, 25, 20)).row((1, "x", None)),
        encoder.command_complete("SELECT 1"),
        encoder.CLOSE_COMPLETE,
        encoder.ready_for_query("I"),
    ]


def test_error_and_notice_layout_matches_postgres(pg_oracle) -> None:
    with RawConnection(pg_oracle.port) as conn:
        conn.send(encode(m.Query("select 1/0")))
        (kind, body), ready = conn.until_ready()
        conn.send(encode(m.Query("do $$ begin raise notice 'hello' using detail = 'd', hint = 'h'; end $$")))
        (notice_kind, notice_body), *_ = conn.until_ready()
    fields = error_fields(body)
    err = PgError(fields["M"], sqlstate=fields["C"])
    ours = encoder.error_response(err)
    # PostgreSQL adds F (file), L (line) and R (routine); the rest must be identical
    theirs = {k: v for k, v in fields.items() if k not in "FLR"}
    assert error_fields(ours[5:]) == theirs
    assert ready == (b"Z", b"I")
    notice = error_fields(notice_body)
    assert notice_kind == b"N"
    ours_notice = encoder.notice(notice["M"], detail=notice["D"], hint=notice["H"], where=notice["W"])
    assert error_fields(ours_notice[5:]) == {k: v for k, v in notice.items() if k not in "FLR"}


def test_parameter_description_and_no_data(pg_oracle) -> None:
    with RawConnection(pg_oracle.port) as conn:
        conn.send(encode(m.Parse("s2", "select $1::int8, $2::text where false")) + encode(m.Describe("S", "s2"))
                  + encode(m.Parse("s3", "set search_path = public")) + encode(m.Describe("S", "s3"))
                  + encode(m.Sync()))
        got = conn.until_ready()
    raw = [kind + struct.pack("!i", len(body) + 4) + body for kind, body in got]
    assert raw[1] == encoder.parameter_description((20, 25))
    assert raw[-2] == encoder.NO_DATA
    assert raw[-3] == encoder.parameter_description(())
