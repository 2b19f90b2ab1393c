"""The 8 KiB logical page and the redo operations that change it.

Owns the page image format and `apply`, the one function that turns a redo record into a page
change. The same code runs on the compute instance (to keep cached pages current) and in a
segment (to materialize a page at a read point), so both sides always agree byte for byte.
Not the tuple or index-entry layout inside items (access.heap, access.btree), not the redo
record framing (logstore.records).

A page is a kind, an ordered list of items (opaque byte strings) and a special area:

    0        24               24+4n                                8192-len(special)   8192
    ┌────────┬────────────────┬──────────────────┬─────────────────┬────────────────────┐
    │ header │ item pointers  │ item data        │   free (zeros)  │ special            │
    └────────┴────────────────┴──────────────────┴─────────────────┴────────────────────┘
    header = crc32 u32 | kind u16 | item count u16 | special length u16 | reserved u16 | lsn u64
    item pointer = offset u16 | length u16          (crc32 covers bytes 4..8192)

Redo payloads are packed by the `encode_*` helpers; callers never pack by hand.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable
from enum import IntEnum
from itertools import accumulate

from pgaurora.errors import DataCorrupted, InternalError

PAGE_SIZE = 8192
HEADER = struct.Struct("<IHHHHQ4x")
HEADER_SIZE = HEADER.size  # 24
ITEM_POINTER_SIZE = 4
_POINTER = struct.Struct("<HH")
_U16 = struct.Struct("<H")
_U64 = struct.Struct("<Q")
_LSN_OFFSET = 12  # of the header's lsn field
_U16U16 = struct.Struct("<HH")
_unpack_u16 = _U16.unpack_from
_unpack_u16u16 = _U16U16.unpack_from
_crc32 = zlib.crc32


@functools.cache
def _pack_pointers(count: int) -> Callable[..., bytes]:
    """The packer of `count` item pointers (offset u16, length u16 each)."""
    return struct.Struct(f"<{2 * count}H").pack


class RedoOp(IntEnum):
    """What a redo record does to its page."""

    INIT = 1  # u8 kind + special bytes -> empty page of that kind
    INSERT = 2  # u16 index + data -> items.insert(index, data)
    APPEND = 3  # data -> items.append(data)
    SET = 4  # u16 index + data -> items[index] = data
    DELETE = 5  # u16 index -> del items[index]
    PATCH = 6  # u16 index + u16 offset + bytes -> overwrite bytes inside items[index]
    SPECIAL = 7  # payload -> special
    TRUNCATE = 8  # u16 index -> del items[index:]
    IMAGE = 9  # a full Page.to_bytes() image -> that page
    MULTI = 10  # (u8 op + u16 length + payload)* -> those ops in order, all or none (no INIT/IMAGE/MULTI)


class Page:
    """One 8 KiB logical page, mutable; `lsn` is the LSN of the last redo applied to it.

    `data_bytes` is the running total of the items' lengths (free_space() is on every insert's
    path): change `items` through apply(), or keep `data_bytes` in step (pagecache.mtr does).
    """

    __slots__ = ("kind", "special", "items", "lsn", "data_bytes")

    def __init__(self, kind: int = 0, special: bytes = b"", items: list[bytes] | None = None, lsn: int = 0):
        self.kind = kind
        self.special = special
        self.items: list[bytes] = [] if items is None else items
        self.lsn = lsn
        self.data_bytes = sum(map(len, self.items))

    def used_space(self) -> int:
        """Bytes taken by header, item pointers, item data and the special area."""
        return HEADER_SIZE + len(self.special) + ITEM_POINTER_SIZE * len(self.items) + self.data_bytes

    def free_space(self) -> int:
        """Bytes an item may have if it (and its 4-byte pointer) were added now; may be < 0 never."""
        return max(PAGE_SIZE - self.used_space() - ITEM_POINTER_SIZE, 0)

    def copy(self) -> Page:
        return Page(self.kind, self.special, self.items.copy(), self.lsn)

    def to_bytes(self) -> bytes:
        """The checksummed 8192-byte image of this page."""
        items = self.items
        count = len(items)
        special = self.special
        lengths = list(map(len, items))
        # the pointers in one pack (offset, length interleaved): item i starts where item i-1 ended
        start = HEADER_SIZE + ITEM_POINTER_SIZE * count
        offsets = list(accumulate(lengths, initial=start))
        end = offsets.pop()
        pad = PAGE_SIZE - end - len(special)
        if pad < 0:
            raise InternalError(f"page of {end + len(special)} bytes does not fit in {PAGE_SIZE}")
        pointers = b""
        if count:
            fields = [0] * (2 * count)
            fields[0::2] = offsets
            fields[1::2] = lengths
            pointers = _pack_pointers(count)(*fields)
        body = b"".join(
            (
                HEADER.pack(0, self.kind, count, len(special), 0, self.lsn)[4:],
                pointers,
                *items,
                bytes(pad),
                special,
            )
        )
        return _crc32(body).to_bytes(4, "little") + body

    @classmethod
    def from_bytes(cls, image: bytes | bytearray | memoryview, verified: bool = False) -> Page:
        """Parses an image made by to_bytes; a bad size or checksum raises DataCorrupted (XX001).
        `verified`: the caller checked a checksum covering the whole image already."""
        if len(image) != PAGE_SIZE:
            raise DataCorrupted(f"invalid page image: {len(image)} bytes instead of {PAGE_SIZE}")
        crc, kind, count, special_length, _, lsn = HEADER.unpack_from(image, 0)
        if not verified and _crc32(memoryview(image)[4:]) != crc:
            raise DataCorrupted("invalid page: checksum mismatch")
        image = bytes(image)
        end = HEADER_SIZE + ITEM_POINTER_SIZE * count
        if end > PAGE_SIZE:
            raise DataCorrupted(f"invalid page: {count} item pointers do not fit")
        items = [image[offset : offset + length] for offset, length in _POINTER.iter_unpack(image[HEADER_SIZE:end])]
        special = image[PAGE_SIZE - special_length :] if special_length else b""
        return cls(kind, special, items, lsn)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Page):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.special == other.special
            and self.items == other.items
            and self.lsn == other.lsn
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Page(kind={self.kind}, items={len(self.items)}, special={len(self.special)}B, lsn={self.lsn})"


# -- payload encoders ------------------------------------------------------------------------------


def encode_init(kind: int, special: bytes = b"") -> bytes:
    return bytes((kind,)) + special


def encode_insert(index: int, data: bytes) -> bytes:
    return _U16.pack(index) + data


def encode_append(data: bytes) -> bytes:
    return data


def encode_set(index: int, data: bytes) -> bytes:
    return _U16.pack(index) + data


def encode_delete(index: int) -> bytes:
    return _U16.pack(index)


def encode_patch(index: int, offset: int, data: bytes) -> bytes:
    return _U16U16.pack(index, offset) + data


def encode_special(special: bytes) -> bytes:
    return special


def encode_truncate(index: int) -> bytes:
    return _U16.pack(index)


def encode_image(page: Page) -> bytes:
    return page.to_bytes()


_OP_LENGTH = struct.Struct("<BH")
_pack_op_length = _OP_LENGTH.pack
_unpack_op_length = _OP_LENGTH.unpack_from
MULTI_OPS = frozenset((RedoOp.INSERT, RedoOp.APPEND, RedoOp.SET, RedoOp.DELETE, RedoOp.PATCH, RedoOp.SPECIAL,
                       RedoOp.TRUNCATE))  # what a MULTI may hold: the ops that change a page in place
MULTI_MAX_PART = 0xFFFF  # bytes of one op's payload inside a MULTI


def encode_multi(ops: list[tuple[int, bytes]]) -> bytes:
    """One MULTI payload for a run of (op, payload) on one page (each op in MULTI_OPS, each
    payload at most MULTI_MAX_PART bytes: callers check, as pagecache.cache's merge does)."""
    return b"".join([_pack_op_length(op, len(payload)) + payload for op, payload in ops])


def split_multi(payload: bytes) -> list[tuple[int, bytes]]:
    """The (op, payload) run inside a MULTI payload; InternalError if it is malformed."""
    ops: list[tuple[int, bytes]] = []
    at, end = 0, len(payload)
    while at < end:
        if at + 3 > end:
            raise InternalError("redo MULTI payload ends inside an op header")
        op, length = _unpack_op_length(payload, at)
        at += 3
        if op not in MULTI_OPS or at + length > end:
            raise InternalError(f"redo MULTI holds an invalid op {op} of {length} bytes")
        ops.append((op, payload[at : at + length]))
        at += length
    return ops


# -- apply -------------------------------------------------------------------------------------------


def _no_room(page: Page, op: int, need: int) -> InternalError:
    return InternalError(
        f"redo {RedoOp(op).name} needs {need} bytes but the page has {page.free_space()} free"
    )


def _apply_init(page: Page, payload: bytes) -> None:
    if len(payload) < 1:
        raise InternalError("redo INIT payload is empty")
    page.kind = payload[0]
    page.special = payload[1:]
    page.items = []
    page.data_bytes = 0


def _apply_insert(page: Page, payload: bytes) -> None:
    (index,) = _unpack_u16(payload, 0)
    items = page.items
    if index > len(items):
        raise InternalError(f"redo INSERT at item {index} of a page with {len(items)} items")
    data = payload[2:]
    if len(data) + ITEM_POINTER_SIZE > PAGE_SIZE - page.used_space():
        raise _no_room(page, RedoOp.INSERT, len(data))
    items.insert(index, data)
    page.data_bytes += len(data)


def _apply_append(page: Page, payload: bytes) -> None:
    if len(payload) + ITEM_POINTER_SIZE > PAGE_SIZE - page.used_space():
        raise _no_room(page, RedoOp.APPEND, len(payload))
    page.items.append(payload)
    page.data_bytes += len(payload)


def _apply_set(page: Page, payload: bytes) -> None:
    (index,) = _unpack_u16(payload, 0)
    items = page.items
    if index >= len(items):
        raise InternalError(f"redo SET of item {index} of a page with {len(items)} items")
    data = payload[2:]
    grow = len(data) - len(items[index])
    if grow > 0 and grow > PAGE_SIZE - page.used_space():  # not free_space() + 4: that is 4 at least
        raise _no_room(page, RedoOp.SET, grow)
    items[index] = data
    page.data_bytes += grow


def _apply_delete(page: Page, payload: bytes) -> None:
    (index,) = _unpack_u16(payload, 0)
    if index >= len(page.items):
        raise InternalError(f"redo DELETE of item {index} of a page with {len(page.items)} items")
    page.data_bytes -= len(page.items[index])
    del page.items[index]


def _apply_patch(page: Page, payload: bytes) -> None:
    index, offset = _unpack_u16u16(payload, 0)
    items = page.items
    if index >= len(items):
        raise InternalError(f"redo PATCH of item {index} of a page with {len(items)} items")
    item = items[index]
    data = payload[4:]
    end = offset + len(data)
    if end > len(item):
        raise InternalError(f"redo PATCH of bytes {offset}..{end} of an item of {len(item)} bytes")
    items[index] = item[:offset] + data + item[end:]


def _apply_special(page: Page, payload: bytes) -> None:
    grow = len(payload) - len(page.special)
    if grow > 0 and grow > PAGE_SIZE - page.used_space():
        raise _no_room(page, RedoOp.SPECIAL, grow)
    page.special = payload


def _apply_truncate(page: Page, payload: bytes) -> None:
    (index,) = _unpack_u16(payload, 0)
    items = page.items
    if index < len(items):
        page.data_bytes -= sum(map(len, items[index:]))
        del items[index:]


def relabeled_image(image: bytes, lsn: int) -> bytes:
    """`image` (a to_bytes image) with its LSN set to `lsn`: what applying an IMAGE record at `lsn`
    and taking to_bytes gives, without parsing the items. Checks the image's checksum first."""
    if len(image) != PAGE_SIZE or _crc32(memoryview(image)[4:]) != HEADER.unpack_from(image, 0)[0]:
        raise DataCorrupted("invalid page: checksum mismatch")
    body = b"".join((image[4:_LSN_OFFSET], _U64.pack(lsn), image[_LSN_OFFSET + 8 :]))
    return _crc32(body).to_bytes(4, "little") + body


def _apply_multi(page: Page, payload: bytes) -> None:
    # All or none, like a single op: a sub-op that fails puts the page back as it was.
    kind, special, items, data_bytes = page.kind, page.special, page.items.copy(), page.data_bytes
    try:
        for op, part in split_multi(payload):
            _APPLIERS[op](page, part)  # type: ignore[misc]
    except BaseException:
        page.kind, page.special, page.items, page.data_bytes = kind, special, items, data_bytes
        raise


def _apply_image(page: Page, payload: bytes) -> None:
    image = Page.from_bytes(payload)
    page.kind = image.kind
    page.special = image.special
    page.items = image.items
    page.data_bytes = image.data_bytes
    page.lsn = image.lsn


_APPLIERS = (
    None,
    _apply_init,
    _apply_insert,
    _apply_append,
    _apply_set,
    _apply_delete,
    _apply_patch,
    _apply_special,
    _apply_truncate,
    _apply_image,
    _apply_multi,
)


def apply(page: Page | None, op: int, payload: bytes, lsn: int | None = None) -> Page:
    """Applies one redo op to `page` (mutated and returned); INIT and IMAGE create a page from None.

    `lsn`, when given, becomes the page's LSN. An op that does not fit the page or names a
    missing item raises InternalError and leaves the page unchanged.
    """
    if page is None:
        if op != RedoOp.INIT and op != RedoOp.IMAGE:
            raise InternalError(f"redo {RedoOp(op).name} applied to a page that was never initialized")
        page = Page()
    try:
        applier = _APPLIERS[op]
    except IndexError:
        applier = None
    if applier is None:
        raise InternalError(f"unknown redo op {op}")
    applier(page, payload)
    if lsn is not None:
        page.lsn = lsn
    return page
