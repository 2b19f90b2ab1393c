"""B-tree page splits: a full node becomes two, and the separator goes up to the parent
(which may split in turn) or into a new root.

Owns how a split divides a node's items (about equal bytes), the redo images of both halves,
the separator's insert into the parent, and keeping the decoded nodes current. Not the descent
or the decision to split (access.btree), not the node layout or key order (access.btreekey).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from pgaurora.access.btreekey import Node, internal_item, node_special, normalize
from pgaurora.access.rowcodec import decode_row
from pgaurora.logstore.page import Page, RedoOp, encode_image, encode_insert
from pgaurora.pagecache import MiniTransaction, PageKind

if TYPE_CHECKING:
    from pgaurora.access.btree import BTree


def split(
    tree: BTree, mtr: MiniTransaction, page_no: int, page: Page, node: Node, path: list[int], pos: int, item: bytes
) -> None:
    """Splits the full node `page_no` while inserting `item` at `pos`; the separator goes up to
    the parent (`path[-1]`), splitting it in turn, or into a new root."""
    items = list(page.items)
    items.insert(pos, item)
    raws = list(node.raw)
    new_raw = decode_row(item)
    raws.insert(pos, new_raw)
    entries = list(node.entries)
    children = list(node.children)
    level = node.level
    if level == 0:
        entries.insert(pos, normalize(new_raw))
    else:
        entries.insert(pos, normalize(new_raw[:-1]))
        children.insert(pos, new_raw[-1])
    mid = split_point(items)
    right_no = tree.cache.control.allocate_page()
    kind = PageKind.BTREE_LEAF if level == 0 else PageKind.BTREE_INTERNAL
    if level == 0:
        right_items = items[mid:]
        sep_raw = raws[mid]  # (key..., page, slot)
        sep_key, sep_tid = sep_raw[:-2], (sep_raw[-2], sep_raw[-1])
        right_raws, right_entries, right_children = raws[mid:], entries[mid:], []
    else:
        # The middle entry moves up; its child becomes the right node's -infinity child.
        sep_raw = raws[mid]  # (key..., page, slot, child)
        sep_key, sep_tid = sep_raw[:-3], (sep_raw[-3], sep_raw[-2])
        right_items = [internal_item(None, None, sep_raw[-1]), *items[mid + 1 :]]
        right_raws = [(sep_raw[-1],), *raws[mid + 1 :]]
        right_entries = [(), *entries[mid + 1 :]]
        right_children = [sep_raw[-1], *children[mid + 1 :]]
    left = Page(kind, node_special(right_no, level), items[:mid], page.lsn)
    right = Page(kind, node_special(node.right, level), right_items, page.lsn)
    mtr.log(right_no, RedoOp.IMAGE, encode_image(right))
    mtr.log(page_no, RedoOp.IMAGE, encode_image(left))
    # Both halves stay decoded: decoding them again costs more than the split itself.
    derived = tree.cache.derived
    derived[right_no] = Node.of(level, node.right, right_raws, right_entries, right_children,
                                mtr.page(right_no).used_space())
    derived[page_no] = Node.of(level, right_no, raws[:mid], entries[:mid], children[:mid],
                               mtr.page(page_no).used_space())
    up_item = internal_item(sep_key, sep_tid, right_no)
    up_entry = normalize(sep_key) + sep_tid
    if path:
        parent = path[-1]
        parent_node = tree._node(parent)
        parent_page = mtr.page(parent)
        ppos = bisect_right(parent_node.entries, up_entry)
        if parent_page.free_space() >= len(up_item):
            mtr.log(parent, RedoOp.INSERT, encode_insert(ppos, up_item))
            parent_node.insert_at(ppos, up_entry, (*sep_key, *sep_tid, right_no), right_no)
            parent_node.used += len(up_item) + 4
            derived[parent] = parent_node
        else:
            split(tree, mtr, parent, parent_page, parent_node, path[:-1], ppos, up_item)
        return
    tree.grow_root(mtr, page_no, up_item, level)


def split_point(items: list[bytes]) -> int:
    """The index that splits `items` into halves of about equal bytes (each side non-empty)."""
    total = sum(map(len, items)) + 4 * len(items)
    acc = 0
    for i, item in enumerate(items):
        acc += len(item) + 4
        if acc * 2 >= total:
            return max(1, min(i + 1, len(items) - 1))
    return len(items) // 2
