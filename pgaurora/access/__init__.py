"""pgaurora.access — heaps and B-trees on pages; every change is redo through a MiniTransaction.

    storage.py    Storage: create/open/truncate/drop relations (relation id = metapage page number)
    heap.py       Heap: insert, scan (batches per page, decoded-page cache), fetch, page pruning
    heapversions.py  update (HOT or not), delete, row locks: PostgreSQL's concurrent-writer rules
                  (Heap's mixin)
    heaptuple.py  the 32-byte tuple header (xmin, cmin, xmax, cmax, infomask, ctid), HOT chains
                  and LP_REDIRECT items, dead_to_all / chain_dead
    heapprune.py  page pruning (heap_page_prune): which slots become LP_UNUSED, LP_REDIRECT, LP_DEAD
    overflow.py   rows over 2000 bytes in chained overflow pages (simplified TOAST)
    relmeta.py    a heap's metapage chain listing its data pages
    rowcodec.py   rows as msgpack bytes with extensions for Decimal, dates, UUID, Interval, Jsonb
    btree.py      BTree: insert with split, delete, lookup, range, unique check, dead-entry cleanup
    btreesplit.py a page split: halves of equal bytes, the separator up to the parent or a new root
    btreechain.py index entries and HOT chains: the heap versions one entry stands for
    btreebuild.py bulk_load: CREATE INDEX bottom-up, one IMAGE per page
    btreekey.py   key order (NULLS LAST, NaN, mixed numerics) and decoded B-tree nodes
    vacuum.py     removing dead versions and their index entries
    txnview.py    XidStatus and the Protocols access expects from txn (which sits above it)
"""

from pgaurora.access.btree import BTree, UniqueCheck
from pgaurora.access.heap import Heap
from pgaurora.access.rowcodec import decode_row, encode_row
from pgaurora.access.storage import Storage
from pgaurora.access.txnview import XidStatus

__all__ = ["BTree", "Heap", "Storage", "UniqueCheck", "XidStatus", "decode_row", "encode_row"]
