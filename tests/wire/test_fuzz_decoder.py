"""Fuzzing FrontendDecoder: random, truncated, mutated and garbage byte streams, in every phase,
in random chunkings. The decoder may only return messages or NEED_DATA, or raise PgError; it
must stop within a bounded number of steps; valid streams must decode to what was encoded."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgaurora.errors import FatalError, PgError
from pgaurora.wire import NEED_DATA, FrontendDecoder, Phase
from pgaurora.wire import messages as m
from pgaurora.wire.frontend import encode

# PGAURORA_FUZZ_EXAMPLES raises the count for a longer hunt (the default keeps the suite fast)
FUZZ = settings(max_examples=int(os.environ.get("PGAURORA_FUZZ_EXAMPLES", "200")), deadline=1000, suppress_health_check=[HealthCheck.too_slow])

names = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12)
values = st.one_of(st.none(), st.binary(max_size=16))
codes = st.lists(st.sampled_from([0, 1]), max_size=3)

regular_messages = st.one_of(
    st.builds(m.Query, names),
    st.builds(m.Parse, names, names, st.lists(st.integers(0, 2**32 - 1), max_size=3).map(tuple)),
    st.lists(values, max_size=4).flatmap(
        lambda params: st.builds(
            m.Bind, names, names,
            st.sampled_from([(), (0,), (1,), tuple([1] * len(params))]),
            st.just(tuple(params)), codes.map(tuple),
        )
    ),
    st.builds(m.Describe, st.sampled_from("SP"), names),
    st.builds(m.Close, st.sampled_from("SP"), names),
    st.builds(m.Execute, names, st.integers(-(2**31), 2**31 - 1)),
    st.just(m.Sync()),
    st.just(m.Flush()),
    st.builds(m.FunctionCall, st.integers(0, 2**32 - 1), codes.map(tuple), st.lists(values, max_size=3).map(tuple),
              st.sampled_from([0, 1])),
)
copy_messages = st.one_of(st.builds(m.CopyData, st.binary(max_size=40)), st.just(m.CopyDone()),
                          st.builds(m.CopyFail, names))
phases = st.sampled_from([Phase.STARTUP, Phase.AUTHENTICATING, Phase.READY, Phase.COPY_IN])


def run(decoder: FrontendDecoder, chunks: list[bytes]) -> list[object]:
    """Feeds the chunks; returns events, stopping at a FatalError. Bounded in steps."""
    events: list[object] = []
    steps = 0
    for chunk in chunks:
        decoder.receive_data(chunk)
        while True:
            steps += 1
            assert steps < 10_000, "decoder does not stop"
            try:
                event = decoder.next_event()
            except FatalError as err:
                events.append(err)
                return events
            except PgError as err:  # a non-fatal error: the decoder goes on
                events.append(err)
                continue
            if event is NEED_DATA:
                break
            assert isinstance(event, m.FrontendMessage)
            events.append(event)
    return events


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


@FUZZ
@given(phases, st.binary(max_size=300), st.lists(st.integers(0, 400), max_size=6))
def test_garbage_in_any_phase(phase: Phase, data: bytes, cuts: list[int]) -> None:
    decoder = FrontendDecoder(phase)
    if phase is Phase.COPY_IN:
        decoder.start_copy_in()
    run(decoder, chunked(data, cuts))


@FUZZ
@given(st.lists(regular_messages, max_size=8), st.lists(st.integers(0, 2000), max_size=8))
def test_valid_streams_decode_exactly(messages: list[m.FrontendMessage], cuts: list[int]) -> None:
    data = b"".join(encode(x) for x in messages)
    assert run(FrontendDecoder(Phase.READY), chunked(data, cuts)) == messages


@FUZZ
@given(
    st.lists(regular_messages, min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 4000),
)
def test_mutated_and_truncated_streams(messages: list[m.FrontendMessage], flips: list[tuple[int, int]],
                                       cut: int) -> None:
    data = bytearray(b"".join(encode(x) for x in messages))
    for position, value in flips:
        data[position % len(data)] = value
    run(FrontendDecoder(Phase.READY), [bytes(data[: cut % (len(data) + 1)])])


@FUZZ
@given(st.lists(copy_messages, max_size=6), st.binary(max_size=30))
def test_copy_in_streams(messages: list[m.FrontendMessage], tail: bytes) -> None:
    decoder = FrontendDecoder(Phase.READY)
    decoder.start_copy_in()
    data = b"".join(encode(x) for x in messages)
    events = run(decoder, [data, tail])
    ended = next((i for i, x in enumerate(messages) if not isinstance(x, m.CopyData)), len(messages))
    expected = messages[: ended + 1]
    assert events[: len(expected)] == expected


@FUZZ
@given(st.dictionaries(names.filter(lambda s: s and not s.startswith("_pq_.")), names, max_size=4),
       st.binary(max_size=30))
def test_startup_packets(params: dict[str, str], tail: bytes) -> None:
    decoder = FrontendDecoder()
    packet = encode(m.StartupMessage(m.PROTOCOL_3_0, params))
    events = run(decoder, [packet, tail])
    if params.get("user"):
        assert events[0] == m.StartupMessage(m.PROTOCOL_3_0, params)
    else:
        assert isinstance(events[0], PgError)


big_copy_data = st.builds(m.CopyData, st.integers(60_000, 200_000).map(lambda n: b"r" * n))


@FUZZ
@given(st.lists(st.one_of(big_copy_data, st.builds(m.CopyData, st.binary(max_size=40))), min_size=1, max_size=6),
       st.lists(st.tuples(st.integers(1, 90_000), st.integers(0, 2)), max_size=16))
def test_copy_in_with_big_messages_and_reads_between_drains(messages: list[m.FrontendMessage],
                                                            cuts: list[tuple[int, int]]) -> None:
    """A server busy inserting the rows of one chunk receives several reads before it asks for
    the next message: the decoder must not mistake the size of a message it already returned
    for the one now waiting (a COPY of a few hundred kilobytes then waited forever for bytes the
    client had sent)."""
    messages = [*messages, m.CopyDone()]
    data = b"".join(encode(x) for x in messages)
    decoder = FrontendDecoder(Phase.COPY_IN)
    events: list[object] = []

    def drain(most: int) -> None:
        """Takes up to `most` events (the server stops asking while it inserts a chunk's rows)."""
        for _ in range(most):
            event = decoder.next_event()
            if event is NEED_DATA:
                return
            events.append(event)

    at = 0
    for size, most in cuts:
        decoder.receive_data(data[at:at + size])
        at += size
        drain(most)
    decoder.receive_data(data[at:])
    drain(len(messages) + 1)
    assert events == messages


def test_a_small_copy_data_after_a_big_one_read_in_two_pieces() -> None:
    big, small = encode(m.CopyData(b"x" * 524_288)), encode(m.CopyData(b"y" * 14_610)) + encode(m.CopyDone())
    decoder = FrontendDecoder(Phase.COPY_IN)
    for i in range(0, len(big), 65_536):
        decoder.receive_data(big[i:i + 65_536])
        if i == 0:
            assert decoder.next_event() is NEED_DATA  # it knows the size of what it waits for
    assert decoder.next_event() == m.CopyData(b"x" * 524_288)
    decoder.receive_data(small[:5_000])   # two reads arrive before the server asks again

    decoder.receive_data(small[5_000:])
    assert decoder.next_event() == m.CopyData(b"y" * 14_610)
    assert decoder.next_event() == m.CopyDone()
