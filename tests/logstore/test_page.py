"""The page format and redo ops (shared by compute and storage)."""

from __future__ import annotations

import pytest

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
