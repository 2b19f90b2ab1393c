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
PATCH of bytes 12..32 (XMAX_OFFSET). An empty item is a slot freed by vacuum or pruning.

HOT (heap-only tuple) updates, as PostgreSQL: when no indexed column changes and the new version
fits on the old one's page, the new version gets no index entries (HEAP_ONLY_TUPLE) and the old
one is marked HEAP_HOT_UPDATED; an index entry points at the chain's root and readers walk ctid
along the chain. Each link is valid only if the next tuple's xmin equals this one's xmax (a
pruned slot may hold an unrelated tuple). Pruning turns a root whose first versions died into
a 2-byte LP_REDIRECT item naming the first surviving member:

    slot 1: root  [redirect -> 4]        index entries point here
    slot 4: heap-only v3 (xmin 90, xmax 95, HOT_UPDATED, ctid -> 6)
    slot 6: heap-only v4 (xmin 95)
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
HEAP_HOT_UPDATED = 0x0008  # updated by a heap-only tuple on this page: ctid continues the HOT chain
HEAP_ONLY_TUPLE = 0x0010  # no index entry points here: reached from its chain's root only
INFOMASK_OFFSET = 24  # the infomask's low byte (all the flags above live in it)
REDIRECT_SIZE = 2  # an item this long is LP_REDIRECT: u16 slot of its chain's first live member
_U16 = struct.Struct("<H")


def new_tuple(xmin: int, cmin: int, row_bytes: bytes, infomask: int = 0) -> bytes:
    return pack_header(xmin, cmin, 0, 0, infomask, 0, 0) + row_bytes


def with_infomask(item: bytes, flags: int) -> bytes:
    """`item` with `flags` added to its infomask."""
    infomask = int.from_bytes(item[INFOMASK_OFFSET : INFOMASK_OFFSET + 2], "little") | flags
    return item[:INFOMASK_OFFSET] + infomask.to_bytes(2, "little") + item[INFOMASK_OFFSET + 2 :]


def xmax_patch(slot: int, xmax: int, cmax: int, infomask: int, ctid_page: int, ctid_slot: int) -> bytes:
    """The PATCH payload that stamps xmax, cmax, infomask and ctid on the tuple in `slot`."""
    return encode_patch(slot, XMAX_OFFSET, _XMAX_PART.pack(xmax, cmax, infomask, ctid_page, ctid_slot))


def redirect_item(slot: int) -> bytes:
    """The LP_REDIRECT item pointing at `slot` of the same page."""
    return _U16.pack(slot)


def redirect_target(item: bytes) -> int:
    return int(_U16.unpack(item)[0])


def hot_chain(page_no: int, items: list[bytes], slot: int) -> list[int]:
    """The slots of the HOT chain whose root is `slot` (its LP_REDIRECT followed), oldest first;
    [] when `slot` holds no tuple. A link counts only if the next tuple is heap-only and its xmin
    is the previous xmax (PostgreSQL's check in heap_hot_search_buffer)."""
    count = len(items)
    if slot >= count:
        return []
    item = items[slot]
    prior_xmax = -1
    if len(item) == REDIRECT_SIZE:
        slot = _U16.unpack(item)[0]
        prior_xmax = 0  # any xmin: a redirect names a member, never a root
    chain: list[int] = []
    for _ in range(count):
        if slot >= count:
            break
        item = items[slot]
        if len(item) < HEADER_SIZE:
            break
        xmin, _, xmax, _, infomask, ctid_page, ctid_slot = unpack_header(item, 0)
        if prior_xmax > 0 and xmin != prior_xmax:
            break
        if prior_xmax >= 0 and not infomask & HEAP_ONLY_TUPLE:
            break
        chain.append(slot)
        if not infomask & HEAP_HOT_UPDATED or ctid_page != page_no:
            break
        prior_xmax = xmax
        slot = ctid_slot
    return chain


def chain_dead(page_no: int, items: list[bytes], slot: int, status: Callable[[int], int], horizon: int) -> bool:
    """True when an index entry pointing at `slot` leads to no version any snapshot at or above
    `horizon` can see: an empty slot, or a chain all of whose members are dead_to_all."""
    if slot >= len(items):
        return True
    item = items[slot]
    if not item:
        return True
    if len(item) < HEADER_SIZE:
        chain = hot_chain(page_no, items, slot)
        return not chain or all(dead_to_all(items[s], status, horizon) for s in chain)
    if not item[INFOMASK_OFFSET] & HEAP_HOT_UPDATED:
        return dead_to_all(item, status, horizon)
    return all(dead_to_all(items[s], status, horizon) for s in hot_chain(page_no, items, slot))


def dead_to_all(item: bytes, status: Callable[[int], int], horizon: int) -> bool:
    """True when no snapshot at or above `horizon` can see this tuple (or its slot is already empty).

    Dead: the inserter aborted, or the deleter committed below the horizon (the oldest xmin of
    every running transaction and replica).
    """
    if not item:
        return True
    if len(item) < HEADER_SIZE:
        return False  # LP_REDIRECT: the chain behind it decides (chain_dead)
    xmin, _, xmax, _, _, _, _ = unpack_header(item, 0)
    state = status(xmin)
    if state == _ABORTED:
        return True
    return state == _COMMITTED and xmax != 0 and xmax < horizon and status(xmax) == _COMMITTED
