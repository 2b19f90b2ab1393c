"""Heap tuple layout: a 32-byte header (xmin, cmin, xmax, cmax, infomask, ctid) and the row bytes.

Owns the byte layout of a heap tuple and the redo payloads that stamp xmax. Not visibility
(txn.snapshot), not the row encoding (access.rowcodec), not page management (access.heap).

    0      8      12     20     24         26          30         32
    ┌──────┬──────┬──────┬──────┬──────────┬───────────┬──────────┬──────────────────┐
    │ xmin │ cmin │ xmax │ cmax │ infomask │ ctid page │ ctid slot│ row (msgpack)    │
    │ u64  │ u32  │ u64  │ u32  │ u16      │ u32       │ u16      │                  │
    └──────┴──────┴──────┴──────┴──────────┴───────────┴──────────┴──────────────────┘

xmax 0 = never deleted. An UPDATE stamps the old version's xmax/cmax, sets HEAP_UPDATED and
points ctid at the new version; a DELETE stamps xmax/cmax and leaves ctid (0, 0). Both are one
PATCH of bytes 12..32 (XMAX_OFFSET). An empty item is a slot freed by vacuum.
Command ids are kept separately (PostgreSQL folds them into one "combo cid"); 4 bytes buy
simplicity.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from pgaurora.access.txnview import ABORTED, COMMITTED
from pgaurora.logstore.page import encode_patch

HEADER = struct.Struct("<QIQIHIH")
HEADER_SIZE = HEADER.size  # 32
XMAX_OFFSET = 12
_XMAX_PART = struct.Struct("<QIHIH")

pack_header = HEADER.pack
unpack_header = HEADER.unpack_from

_ABORTED = int(ABORTED)
_COMMITTED = int(COMMITTED)

HEAP_UPDATED = 0x0001  # ctid points at the newer version
HEAP_ROW_OVERFLOW = 0x0002  # the row bytes live in overflow pages (access.overflow)
HEAP_KEYS_UPDATED = 0x0004  # deleted, or updated with a key change: FOR KEY SHARE must wait for it


def new_tuple(xmin: int, cmin: int, row_bytes: bytes, infomask: int = 0) -> bytes:
    return pack_header(xmin, cmin, 0, 0, infomask, 0, 0) + row_bytes


def xmax_patch(slot: int, xmax: int, cmax: int, infomask: int, ctid_page: int, ctid_slot: int) -> bytes:
    """The PATCH payload that stamps xmax, cmax, infomask and ctid on the tuple in `slot`."""
    return encode_patch(slot, XMAX_OFFSET, _XMAX_PART.pack(xmax, cmax, infomask, ctid_page, ctid_slot))


def dead_to_all(item: bytes, status: Callable[[int], int], horizon: int) -> bool:
    """True when no snapshot at or above `horizon` can see this tuple (or its slot is already empty).

    Dead: the inserter aborted, or the deleter committed below the horizon (the oldest xmin of
    every running transaction and replica).
    """
    if not item:
        return True
    xmin, _, xmax, _, _, _, _ = unpack_header(item, 0)
    state = status(xmin)
    if state == _ABORTED:
        return True
    return state == _COMMITTED and xmax != 0 and xmax < horizon and status(xmax) == _COMMITTED
