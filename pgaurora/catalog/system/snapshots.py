"""Exported snapshots: pg_export_snapshot() and SET TRANSACTION SNAPSHOT (pg_dump -j).

Owns the registry of snapshots exported by running transactions and their import: a
REPEATABLE READ / SERIALIZABLE transaction that imports one sees exactly what the exporter
saw (the exporter's own uncommitted xids count as in progress), so parallel pg_dump workers
dump one consistent state. An export lives while its transaction is active, as in
PostgreSQL. Not snapshots themselves (txn.snapshot), not SET parsing (session.utility_exec).

    exporter: BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT pg_export_snapshot()  -> '...-1'
    worker:   BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT '...-1'
"""

from __future__ import annotations

import itertools
import re
import weakref
from typing import Any

from pgaurora.catalog.builtins.registry import function
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import ActiveSqlTransaction, FeatureNotSupported, InvalidParameterValue
from pgaurora.txn.snapshot import Snapshot
from pgaurora.txn.transaction import TransactionState

_EXPORTED: dict[str, tuple[weakref.ref[Any], Snapshot]] = {}
_COUNTER = itertools.count(1)
_IDENTIFIER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{8}-[0-9]+$")


def _alive(ref: weakref.ref[Any]) -> bool:
    txn = ref()
    return txn is not None and txn.state is TransactionState.ACTIVE


def export_snapshot(ctx: Any) -> str:
    """pg_export_snapshot(): the identifier of the calling transaction's current snapshot."""
    for key in [k for k, (ref, _) in _EXPORTED.items() if not _alive(ref)]:
        del _EXPORTED[key]
    txn = ctx.txn
    snapshot = txn.snapshot()
    identifier = f"{int(getattr(ctx, 'backend_pid', 0)) & 0xFFFFFFFF:08X}-{next(_COUNTER):08X}-1"
    _EXPORTED[identifier] = (weakref.ref(txn), snapshot)
    return identifier


def import_snapshot(block: Any, identifier: str) -> None:
    """SET TRANSACTION SNAPSHOT 'id' for a session's transaction block (session.transaction's
    TransactionBlock): PostgreSQL's ImportSnapshot checks, in its order."""
    txn = block.txn
    if txn is not None and txn.has_snapshot:
        raise ActiveSqlTransaction("SET TRANSACTION SNAPSHOT must be called before any query")
    if block.isolation not in ("repeatable read", "serializable"):
        raise FeatureNotSupported(
            "a snapshot-importing transaction must have isolation level SERIALIZABLE or REPEATABLE READ")
    found = _EXPORTED.get(identifier) if _IDENTIFIER.match(identifier) else None
    if found is None or not _alive(found[0]):
        raise InvalidParameterValue(f'invalid snapshot identifier: "{identifier}"')
    exported = found[1]
    txn = block.transaction()
    exporter = found[0]()
    hidden = frozenset(exported.own) | (frozenset(exporter.own) if exporter is not None else frozenset())
    imported = Snapshot(exported.xmin, exported.xmax, exported.xip | hidden, txn.own, txn.command_id,
                        exported.status)
    # the transaction keeps this as its one snapshot (what Transaction.snapshot() returns from now on)
    txn._snapshot = imported
    txn.snapshot_xmin = imported.xmin


function("pg_export_snapshot", (), t.TEXT_OID, export_snapshot, needs_context=True, volatility="v")
