"""System columns of tables in plans: ctid, xmin, cmin, xmax, cmax, tableoid (planner.scope names them).

Owns giving a table's FROM entry its system columns and building the scan that yields them
(executor.scan.SystemColumns), the UPDATE / DELETE target's layout (stored columns, tid, system
columns), and RETURNING of them over a row INSERT or UPDATE just wrote (whose xmin is this
transaction's, cmin this command's). Not name lookup (planner.scope) nor reading the tuple
headers (executor.scan).
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.model import Table
from pgaurora.errors import FeatureNotSupported
from pgaurora.executor.expr import Const, Expr, FuncExpr, Var
from pgaurora.executor.plannodes import PlanNode, SeqScan
from pgaurora.planner.scope import SYSTEM_ATTNUMS, SYSTEM_COLUMN_TYPES, SYSTEM_COLUMNS, TID_COLUMN, RangeEntry


def add_system_columns(entry: RangeEntry) -> None:
    """A table's entry gets its system columns and then the scan's tid (see planner.scope)."""
    # a user column of that name (tables made before CREATE TABLE refused them) keeps it
    names = [f"........{c}........" if c in entry.columns else c for c in SYSTEM_COLUMNS]
    entry.columns.extend((*names, TID_COLUMN))
    entry.types.extend((*SYSTEM_COLUMN_TYPES, (27, -1)))
    entry.attnums.extend((*SYSTEM_ATTNUMS, 0))
    entry.using_hidden |= {*names, TID_COLUMN}


def target_system_columns(entry: RangeEntry, table: Table) -> tuple[RangeEntry, PlanNode]:
    """UPDATE / DELETE naming a system column: the target's entry and source rows are the stored
    columns, the tid (where executor.modify reads it), then the system columns."""
    from pgaurora.executor.scan import SYSTEM_COLUMN_COUNT, SystemColumns

    names = [f"........{c}........" if c in entry.columns else c for c in SYSTEM_COLUMNS]
    entry.columns.extend((TID_COLUMN, *names))
    entry.types.extend(((27, -1), *SYSTEM_COLUMN_TYPES))
    entry.attnums.extend((0, *SYSTEM_ATTNUMS))
    entry.using_hidden |= {*names, TID_COLUMN}
    stored = len(table.columns)
    return entry, SystemColumns(SeqScan(table.oid, table.name, stored + 1, None, True), table.oid,
                                stored + SYSTEM_COLUMN_COUNT + 1, tid_first=True)


def _current_xid(ctx: Any) -> int:
    return int(ctx.txn.assign_xid())


def _upserted_xmax(ctx: Any) -> int:
    """RETURNING xmax of INSERT ... ON CONFLICT: 0 for a row inserted, this transaction's xid for
    one updated (the lock ON CONFLICT took on it, as PostgreSQL reports: `xmax = 0` tells them
    apart); executor.modify says which (ctx.extra["upsert_updated"])."""
    return _current_xid(ctx) if ctx.extra.get("upsert_updated") else 0


def _current_cid(ctx: Any) -> int:
    return int(ctx.txn.command_id)


def updated_system_columns(expr: Expr, table: Table, first: int, inserted: bool = False) -> Expr:
    """INSERT / UPDATE ... RETURNING over the new version (system columns from column `first`): its
    xmin is this transaction's (sub)xid, cmin and cmax this command's id, xmax 0 (for UPDATE,
    executor.modify passes the old version's system columns; for INSERT, none)."""

    def fn(e: Expr) -> Expr | None:
        if not isinstance(e, Var) or not first <= e.index < first + len(SYSTEM_COLUMNS):
            return None
        name = SYSTEM_COLUMNS[e.index - first]
        if name == "ctid":
            raise FeatureNotSupported(f"RETURNING ctid is not supported in {'INSERT' if inserted else 'UPDATE'}")
        if inserted and table.kind == "p" and name != "tableoid":
            raise FeatureNotSupported("cannot retrieve a system column in this context")
        if name == "tableoid" and inserted:
            # a partitioned table's RoutedInsert puts the partition's oid there (executor.partition)
            return None if table.kind == "p" else Const(table.oid, 26)
        if name == "xmin":
            return FuncExpr("xmin", _current_xid, (), 28, volatile=True, needs_context=True)
        if name in ("cmin", "cmax"):
            return FuncExpr(name, _current_cid, (), 29, volatile=True, needs_context=True)
        if name == "xmax" and inserted:  # ON CONFLICT DO UPDATE: the updated row's is this transaction's
            return FuncExpr("xmax", _upserted_xmax, (), 28, volatile=True, needs_context=True)
        if name == "xmax":
            return Const(0, 28)
        return None  # tableoid: unchanged

    from pgaurora.executor.expr import transform

    return transform(expr, fn)


def system_columns_scan(table_oid: int, table_name: str, stored: int) -> PlanNode:
    """A scan of one heap yielding its `stored` columns, the system columns and the tid."""
    from pgaurora.executor.scan import SYSTEM_COLUMN_COUNT, SystemColumns

    return SystemColumns(SeqScan(table_oid, table_name, stored + 1, None, True), table_oid,
                         stored + SYSTEM_COLUMN_COUNT + 1)
