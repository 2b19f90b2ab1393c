"""The page format and redo ops (shared by compute and storage)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgaurora.errors import DataCorrupted, InternalError
from pgaurora.logstore import page as p
from pgaurora.logstore.page import PAGE_SIZE, Page, RedoOp, apply


def build() -> Page:
    page = apply(None, RedoOp.INIT, p.encode_init(7, b"special"), 1)
    apply(page, RedoOp.APPEND, p.encode_append(b"bbb"), 2)
    apply(page, RedoOp.INSERT, p.encode_insert(0, b"aa"), 3)
    apply(page, RedoOp.APPEND, p.encode_append(b"ccccc"), 4)
    return page


def test_ops_and_image_round_trip() -> None:
    page = build()
    assert (page.kind, page.special, page.items, page.lsn) == (7, b"special", [b"aa", b"bbb", b"ccccc"], 4)
    apply(page, RedoOp.SET, p.encode_set(1, b"BBBB"), 5)
    apply(page, RedoOp.PATCH, p.encode_patch(2, 1, b"XY"), 6)
    apply(page, RedoOp.DELETE, p.encode_delete(0), 7)
    assert page.items == [b"BBBB", b"cXYcc"]
    apply(page, RedoOp.SPECIAL, p.encode_special(b"zz"), 8)
    image = page.to_bytes()
    assert len(image) == PAGE_SIZE
    assert Page.from_bytes(image) == page
    copy = apply(None, RedoOp.IMAGE, p.encode_image(page), 9)
    assert copy.items == page.items and copy.lsn == 9
    apply(copy, RedoOp.TRUNCATE, p.encode_truncate(1))
    assert copy.items == [b"BBBB"] and copy.lsn == 9
    assert page.copy() == page and page.copy() is not page


def test_free_space_accounting_and_overflow() -> None:
    page = apply(None, RedoOp.INIT, p.encode_init(1, b"x" * 10))
    assert page.free_space() == PAGE_SIZE - 24 - 10 - 4
    apply(page, RedoOp.APPEND, b"y" * page.free_space())
    assert page.free_space() == 0
    assert len(page.to_bytes()) == PAGE_SIZE
    before = page.items.copy()
    with pytest.raises(InternalError):
        apply(page, RedoOp.APPEND, b"z")
    with pytest.raises(InternalError):
        apply(page, RedoOp.SET, p.encode_set(0, b"y" * (len(before[0]) + 5)))
    assert page.items == before


@pytest.mark.parametrize("room", [0, 1, 2, 3, 4, 5])
def test_an_op_never_grows_a_page_past_8192_bytes(room: int) -> None:
    """A page with fewer than 4 bytes left (free_space() says 0 there): an item may grow by what
    is left and no more, and no item, not even an empty one, may be added. (SET let an item grow
    by up to 4 bytes past that, then the page -- 8193 bytes -- had no image: seen on storage
    nodes coalescing a heap page whose pruned slot took a slightly longer HOT version.)"""
    page = apply(None, RedoOp.INIT, p.encode_init(11, b""))
    apply(page, RedoOp.APPEND, b"a" * 100)
    apply(page, RedoOp.APPEND, b"b" * (PAGE_SIZE - page.used_space() - 4 - room))
    assert PAGE_SIZE - page.used_space() == room
    before = (page.items.copy(), page.used_space())
    with pytest.raises(InternalError):
        apply(page, RedoOp.SET, p.encode_set(0, b"a" * (100 + room + 1)))
    for op, payload in ((RedoOp.APPEND, b""), (RedoOp.INSERT, p.encode_insert(0, b""))):
        if room < 4:
            with pytest.raises(InternalError):
                apply(page, op, payload)
    with pytest.raises(InternalError):
        apply(page, RedoOp.SPECIAL, p.encode_special(b"s" * (room + 1)))
    assert (page.items, page.used_space()) == before
    apply(page, RedoOp.SET, p.encode_set(0, b"a" * (100 + room)))  # exactly full
    assert page.used_space() == PAGE_SIZE
    assert Page.from_bytes(page.to_bytes()) == page


_OPS = st.one_of(
    st.tuples(st.just(RedoOp.APPEND), st.integers(0, 300)),
    st.tuples(st.just(RedoOp.INSERT), st.integers(0, 300)),
    st.tuples(st.just(RedoOp.SET), st.integers(0, 300)),
    st.tuples(st.just(RedoOp.DELETE), st.integers(0, 0)),
    st.tuples(st.just(RedoOp.SPECIAL), st.integers(0, 40)),
)


def _payload(op: int, index: int, size: int) -> bytes:
    data = b"x" * size
    if op == RedoOp.APPEND:
        return data
    if op == RedoOp.INSERT:
        return p.encode_insert(index, data)
    if op == RedoOp.SET:
        return p.encode_set(index, data)
    if op == RedoOp.DELETE:
        return p.encode_delete(index)
    return p.encode_special(b"s" * size)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_OPS, st.integers(0, 10_000)), min_size=1, max_size=120))
def test_any_sequence_of_ops_leaves_a_page_that_has_an_image(ops: list[tuple[tuple[int, int], int]]) -> None:
    page = apply(None, RedoOp.INIT, p.encode_init(11, b""))
    for (op, size), pick in ops:
        index = pick % (len(page.items) + 1)  # sometimes one past the end: an error, nothing changes
        try:
            apply(page, op, _payload(op, index, size))
        except InternalError:
            pass  # does not fit, or names a missing item: the page is as it was
        assert page.used_space() <= PAGE_SIZE
        assert page.data_bytes == sum(map(len, page.items))
    assert Page.from_bytes(page.to_bytes()) == page


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_OPS, st.integers(0, 10_000)), min_size=1, max_size=40))
def test_a_multi_record_does_what_its_ops_do_one_by_one_or_nothing(ops: list[tuple[tuple[int, int], int]]) -> None:
    one_by_one = build()
    before = one_by_one.copy()
    run: list[tuple[int, bytes]] = []
    failed = False
    for (op, size), pick in ops:
        payload = _payload(op, pick % (len(one_by_one.items) + 1), size)
        run.append((op, payload))
        try:
            apply(one_by_one, op, payload)
        except InternalError:
            failed = True
            break
    multi = before.copy()
    if failed:  # a MULTI with an op that does not apply changes nothing at all
        with pytest.raises(InternalError):
            apply(multi, RedoOp.MULTI, p.encode_multi(run), 99)
        assert multi == before and multi.data_bytes == before.data_bytes
        return
    apply(multi, RedoOp.MULTI, p.encode_multi(run), 99)
    assert (multi.items, multi.special, multi.data_bytes, multi.lsn) == (
        one_by_one.items, one_by_one.special, one_by_one.data_bytes, 99)
    assert p.split_multi(p.encode_multi(run)) == run


def test_malformed_multi_records_are_refused() -> None:
    page = build()
    good = p.encode_multi([(RedoOp.APPEND, b"x"), (RedoOp.PATCH, p.encode_patch(0, 0, b"Z"))])
    for bad in (
        good[:-1] + b"",  # the last op's payload is cut short
        good + b"\x03",  # an op header cut short
        p.encode_multi([(RedoOp.INIT, p.encode_init(1))]),  # INIT, IMAGE and MULTI stay records of their own
        p.encode_multi([(RedoOp.MULTI, good)]),
        bytes((99, 0, 0)),
    ):
        with pytest.raises(InternalError):
            apply(page, RedoOp.MULTI, bad)
    assert page == build()
    with pytest.raises(InternalError):
        apply(None, RedoOp.MULTI, good)
    apply(page, RedoOp.MULTI, good)
    assert page.items == [b"Za", b"bbb", b"ccccc", b"x"]


def test_bad_ops() -> None:
    page = build()
    with pytest.raises(InternalError):
        apply(None, RedoOp.APPEND, b"x")
    with pytest.raises(InternalError):
        apply(page, RedoOp.DELETE, p.encode_delete(9))
    with pytest.raises(InternalError):
        apply(page, RedoOp.PATCH, p.encode_patch(0, 1, b"long"))
    with pytest.raises(InternalError):
        apply(page, 99, b"")


def test_checksum_detects_bit_flip() -> None:
    image = bytearray(build().to_bytes())
    image[PAGE_SIZE // 2] ^= 1
    with pytest.raises(DataCorrupted) as info:
        Page.from_bytes(bytes(image))
    assert info.value.sqlstate == "XX001"
    with pytest.raises(DataCorrupted):
        Page.from_bytes(b"short")
