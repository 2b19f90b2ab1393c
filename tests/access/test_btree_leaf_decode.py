"""B-tree leaf decoding (access.btreekey.Node): a leaf of integer keys is decoded in one call
and needs no normalizing; leaves with any other value take the item-by-item way. Both must give
the raw tuples and search entries that decoding each item and normalizing it gives."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Any

import pytest

from pgaurora.access.btreekey import NAN_KEY, NULL_KEY, Node, leaf_item, node_special, normalize
from pgaurora.access.rowcodec import decode_row
from pgaurora.logstore.page import Page
from pgaurora.pagecache import PageKind


def _leaf(keys: list[tuple[Any, ...]]) -> Page:
    items = [leaf_item(key, (i // 50 + 1, i % 50)) for i, key in enumerate(keys)]
    return Page(PageKind.BTREE_LEAF, node_special(0, 0), items)


@pytest.mark.parametrize("keys", [
    [(i,) for i in range(300)],
    [(i, -i) for i in range(-50, 50)],
    [(2**62,), (2**63 - 1,), (-(2**63),)],
    [(2**64,), (1,)],                        # beyond 64 bits: stored as an extension
    [(True,), (False,)],
    [(1,), (None,)],
    [(1.5,), (math.nan,)],
    [(Decimal("1.5"),), (Decimal("NaN"),)],
    [("a",), ("b",)],
    [(1, "x"), (2, None)],
    [(datetime.date(2024, 1, 2),), (datetime.datetime(2024, 1, 2, 3),)],
    [],
])
def test_leaf_decodes_as_items_one_by_one(keys: list[tuple[Any, ...]]) -> None:
    page = _leaf(keys)
    node = Node(page)
    raw = [decode_row(item) for item in page.items]
    assert repr(node.raw) == repr(raw)  # repr: NaN equals no NaN
    assert [type(v) for t in node.raw for v in t] == [type(v) for t in raw for v in t]
    assert node.entries == [normalize(t) for t in raw]
    assert node.entries is not node.raw  # splits insert into both lists
    assert node.level == 0 and node.children == []


def test_normalized_sentinels() -> None:
    node = Node(_leaf([(None,), (math.nan,), (3,)]))
    assert [e[0] for e in node.entries] == [NULL_KEY, NAN_KEY, 3]
