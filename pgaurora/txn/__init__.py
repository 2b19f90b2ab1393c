"""pgaurora.txn — transactions and MVCC on the writer.

    manager.py      TransactionManager: active-transaction table, xid status, snapshots, vacuum
                    horizon, waits on xids, row locks, advisory locks
    transaction.py  Transaction: xid on first write, command ids, snapshots per isolation level,
                    savepoints (subxids), commit (durable clog record) and abort
    snapshot.py     Snapshot and PostgreSQL's visibility rules (HeapTupleSatisfiesMVCC)
    visibility.py   the contract's name for snapshot.visible
    clog.py         2-bit commit status per xid in volume pages (directory on page 1)
    locks.py        wait-for graph (40P01, 55P03) and lock tables with PostgreSQL's row lock modes
    ssi.py          SERIALIZABLE: rw-antidependency tracking, dangerous structures -> 40001
    replica.py      a reader instance's manager: snapshots adopted from the writer's stream

Start-up: `txns = await TransactionManager(cache).open()`.
"""

from pgaurora.access.txnview import XidStatus
from pgaurora.txn.manager import TransactionManager
from pgaurora.txn.snapshot import Snapshot, visible
from pgaurora.txn.transaction import ISOLATION_LEVELS, Transaction, TransactionState

__all__ = [
    "ISOLATION_LEVELS",
    "Snapshot",
    "Transaction",
    "TransactionManager",
    "TransactionState",
    "XidStatus",
    "visible",
]
