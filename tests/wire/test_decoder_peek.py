"""FrontendDecoder's look-ahead for the server's fused replies: next_type, peek/skip Execute+Sync."""

from __future__ import annotations

from pgaurora.wire import NEED_DATA, FrontendDecoder, Phase
from pgaurora.wire import messages as m
from pgaurora.wire.frontend import encode

BIND = encode(m.Bind("", "s", (), (b"1",), (1,)))
EXECUTE_SYNC = encode(m.Execute("", 0)) + encode(m.Sync())


def ready(data: bytes) -> FrontendDecoder:
    decoder = FrontendDecoder(Phase.READY)
    decoder.receive_data(data)
    return decoder


def test_next_type_only_for_whole_messages() -> None:
    data = BIND + EXECUTE_SYNC
    for cut in range(len(BIND)):
        assert ready(data[:cut]).next_type() is None
    decoder = ready(data)
    assert decoder.next_type() == ord("B")
    assert decoder.next_event() == m.Bind("", "s", (), (b"1",), (1,))
    assert decoder.next_type() == ord("E")


def test_peek_and_skip_execute_sync() -> None:
    decoder = ready(BIND + EXECUTE_SYNC + encode(m.Query("SELECT 1")))
    decoder.next_event()
    assert decoder.peek_execute_sync() == (0, False)
    assert decoder.peek_execute_sync() == (0, False)  # nothing consumed
    decoder.skip_execute_sync()
    assert decoder.next_event() == m.Query("SELECT 1")
    assert decoder.next_event() is NEED_DATA


def test_peek_declines_other_shapes() -> None:
    shapes = [
        encode(m.Execute("p", 0)) + encode(m.Sync()),        # a named portal
        encode(m.Execute("", 5)) + encode(m.Flush()),        # no Sync after it
        encode(m.Describe("P", "p")) + EXECUTE_SYNC,         # Describe of another portal
        encode(m.Describe("S", "")) + EXECUTE_SYNC,          # Describe of a statement
        EXECUTE_SYNC[:-1],                                   # Sync not wholly received
    ]
    for rest in shapes:
        decoder = ready(BIND + rest)
        decoder.next_event()
        assert decoder.peek_execute_sync() is None
    decoder = ready(BIND + encode(m.Execute("", 7)) + encode(m.Sync()))
    decoder.next_event()
    assert decoder.peek_execute_sync() == (7, False)


def test_peek_and_skip_describe_execute_sync() -> None:
    """libpq (psql, psycopg, pgbench) sends Bind, Describe portal, Execute, Sync."""
    decoder = ready(BIND + encode(m.Describe("P", "")) + EXECUTE_SYNC + encode(m.Query("SELECT 1")))
    decoder.next_event()
    assert decoder.peek_execute_sync() == (0, True)
    decoder.skip_execute_sync()
    assert decoder.next_event() == m.Query("SELECT 1")
    assert decoder.next_event() is NEED_DATA


def test_not_ready_phase_has_no_next_type() -> None:
    decoder = FrontendDecoder(Phase.SKIP_TILL_SYNC)
    decoder.receive_data(BIND)
    assert decoder.next_type() is None
    assert decoder.peek_execute_sync() is None
