"""B-tree keys and node images: key order (NULLS LAST, NaN above numbers, C collation) and decoding.

Owns how index keys compare and how a B-tree page's items decode into search lists. Not the tree
algorithms (access.btree).

A key is a tuple of datatypes values. For searching, it is "normalized" once: None becomes
NULL_KEY (above every value), a float or numeric NaN becomes NAN_KEY (above every number,
below NULL), a date becomes its midnight timestamp (so date and timestamp bounds mix), everything
else stays itself, so plain tuple comparison in C gives PostgreSQL's
order: ints, floats and Decimals compare by value, str by code point (= C collation on UTF-8).
An entry is the normalized key followed by the heap tid, which makes every entry unique:

    leaf item      msgpack(key..., tid page, tid slot)        entry = norm(key) + (page, slot)
    internal item  msgpack(child)                  (first: -infinity, entry ())
                   msgpack(key..., page, slot, child)         entry = norm(key) + (page, slot)
    special        right sibling u32 | level u16   (level 0 = leaf)
"""

from __future__ import annotations

import datetime
import struct
from array import array
from typing import Any

import msgspec

from pgaurora.access.rowcodec import decode_row, encode_row
from pgaurora.logstore.page import PAGE_SIZE, Page

_SPECIAL = struct.Struct("<IH")
_INT64_MIN = -(2**63)


class _High:
    """A sentinel above every ordinary value; `rank` orders the sentinels among themselves."""

    __slots__ = ("rank", "name")

    def __init__(self, rank: int, name: str) -> None:
        self.rank = rank
        self.name = name

    def __lt__(self, other: object) -> bool:
        return isinstance(other, _High) and self.rank < other.rank

    def __le__(self, other: object) -> bool:
        return not isinstance(other, _High) or self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        return not isinstance(other, _High) or self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        return not isinstance(other, _High) or self.rank >= other.rank

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return self.rank

    def __repr__(self) -> str:
        return self.name


_DATE = datetime.date
NAN_KEY = _High(1, "NAN_KEY")
NULL_KEY = _High(2, "NULL_KEY")
MAX_KEY = _High(3, "MAX_KEY")  # above everything: bounds "all entries with this prefix"


def _norm_value(v: Any) -> Any:
    if v is None:
        return NULL_KEY
    if v != v:
        return NAN_KEY
    if type(v) is datetime.date:
        # a date compares with a timestamp as its midnight (PostgreSQL's date_cmp_timestamp)
        return datetime.datetime(v.year, v.month, v.day)
    return v


def normalize(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The search form of a key (or entry)."""
    for v in key:
        if v is None or v != v or type(v) is _DATE:
            break
    else:
        return key
    return tuple(map(_norm_value, key))


def has_null(key: tuple[Any, ...]) -> bool:
    return any(v is None for v in key)


def node_special(right: int, level: int) -> bytes:
    return _SPECIAL.pack(right, level)


def parse_special(special: bytes) -> tuple[int, int]:
    return _SPECIAL.unpack(special)


def leaf_item(key: tuple[Any, ...], tid: tuple[int, int]) -> bytes:
    return encode_row((*key, tid[0], tid[1]))


def internal_item(entry_key: tuple[Any, ...] | None, tid: tuple[int, int] | None, child: int) -> bytes:
    if entry_key is None or tid is None:
        return encode_row((child,))
    return encode_row((*entry_key, tid[0], tid[1], child))


_decode_int_items = msgspec.msgpack.Decoder(list[tuple[int, ...]]).decode
_ARRAY32 = struct.Struct(">BI")  # a msgpack array header: 0xdd, count


def _leaf_entries(items: list[bytes]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(raw, entries) of a leaf's items. A leaf of integer keys (the usual primary key) is
    decoded by one call as one msgpack array, and ints need no normalizing; any other value
    fails that decode at once and the items are decoded one by one."""
    try:
        raw: list[tuple[Any, ...]] = _decode_int_items(_ARRAY32.pack(0xDD, len(items)) + b"".join(items))
    except msgspec.DecodeError:
        raw = list(map(decode_row, items))
        return raw, list(map(normalize, raw))
    return raw, raw.copy()


class Node:
    """A decoded B-tree page; kept in the page cache's derived slot until the page changes."""

    __slots__ = ("level", "right", "entries", "raw", "children", "used", "keys")

    def __init__(self, page: Page) -> None:
        right, level = _SPECIAL.unpack(page.special)
        self.level = level
        self.right = right
        self.used = page.used_space()
        entries: list[tuple[Any, ...]] = []
        raw: list[tuple[Any, ...]] = []  # the decoded item tuples, un-normalized
        children: list[int] = []
        if level == 0:
            raw, entries = _leaf_entries(page.items)
        else:
            for item in page.items:
                t = decode_row(item)
                raw.append(t)
                children.append(t[-1])
                entries.append(normalize(t[:-1]))
        self.entries = entries
        self.raw = raw
        self.children = children
        self.keys: array[int] | bool | None = None

    @classmethod
    def of(cls, level: int, right: int, raw: list[tuple[Any, ...]], entries: list[tuple[Any, ...]],
           children: list[int], used: int) -> Node:
        """A node from parts already decoded (a split's halves: no page to decode again)."""
        node = cls.__new__(cls)
        node.level = level
        node.right = right
        node.raw = raw
        node.entries = entries
        node.children = children
        node.used = used
        node.keys = None
        return node

    # -- the first column as machine integers ------------------------------------------------------
    #
    # A point lookup's bisect over `entries` compares tuples: each step loads a tuple and the int
    # inside it, two objects anywhere in memory. Over a million-row index, whose leaves the CPU's
    # caches do not hold, those misses were a third of a fused point SELECT's cost; one compact
    # array of the first column's values per node costs a step one cache line at most.
    # `keys` is that array (entry 0 of an internal node, its -infinity, as INT64_MIN and never
    # compared), False when a first value is not an integer in int64 (then the tuples are
    # searched), None until a lookup first wants it. A node changed in place is changed through
    # insert_at / delete_at, which keep it equal.

    def int_keys(self) -> array[int] | bool:
        """`keys`, built now if it is not yet."""
        keys = self.keys
        if keys is None:
            entries = self.entries
            try:
                if self.level:
                    if not entries or entries[0] != ():
                        keys = False
                    else:
                        keys = array("q", [_INT64_MIN])
                        keys.extend([e[0] for e in entries[1:]])
                else:
                    keys = array("q", [e[0] for e in entries])
            except (TypeError, OverflowError, IndexError):
                keys = False
            self.keys = keys
        return keys

    def insert_at(self, pos: int, entry: tuple[Any, ...], raw: tuple[Any, ...], child: int = 0) -> None:
        """Inserts `entry` and its decoded item `raw` (and, in an internal node, `child`) at `pos`
        of a node kept decoded while its page changes in place; `keys` stays equal."""
        self.entries.insert(pos, entry)
        self.raw.insert(pos, raw)
        if self.level:
            self.children.insert(pos, child)
        keys = self.keys
        if keys is not None and keys is not False:
            try:
                keys.insert(pos, entry[0])  # type: ignore[union-attr]
            except (TypeError, OverflowError, IndexError):
                self.keys = False

    def delete_at(self, pos: int) -> None:
        """Deletes the entry at `pos` (its item, and an internal node's child); `keys` stays equal."""
        del self.entries[pos]
        del self.raw[pos]
        if self.level:
            del self.children[pos]
        keys = self.keys
        if keys is not None and keys is not False:
            del keys[pos]  # type: ignore[union-attr]

    def free_space(self) -> int:
        """Page.free_space() without summing the items again."""
        return max(PAGE_SIZE - self.used - 4, 0)

    @property
    def leaf(self) -> bool:
        return self.level == 0
