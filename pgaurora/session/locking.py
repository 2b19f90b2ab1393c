"""Which relation locks a statement takes, and taking them before it runs.

Owns the mapping from a plan to PostgreSQL's table lock modes (what parse analysis and
AcquireExecutorLocks take), computed once per plan and cached, and the call that takes them
at statement start (session.engine.run), so the snapshot is taken only after every wait:

    SELECT (every relation read, also in subqueries    AccessShareLock
      and the system catalogs and views it reads)
    SELECT ... FOR UPDATE / SHARE (the locked table)   RowShareLock
    INSERT / UPDATE / DELETE / MERGE / COPY FROM       RowExclusiveLock
    VACUUM                                             ShareUpdateExclusiveLock
    CREATE INDEX                                       ShareLock
    DROP / TRUNCATE / ALTER TABLE / REFRESH MATVIEW    AccessExclusiveLock
    LOCK TABLE                                         the named mode (executor.ddlmisc)

Not the lock table itself (txn.rellocks) and not the nodes (executor).
"""

from __future__ import annotations

import dataclasses
from typing import Any

(ACCESS_SHARE, ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE,
 ACCESS_EXCLUSIVE) = range(8)

# plan node class name -> (mode, field holding the relation oid(s))
_NODE_LOCKS: dict[str, tuple[int, str]] = {
    "SeqScan": (ACCESS_SHARE, "table_oid"),
    "IndexScan": (ACCESS_SHARE, "table_oid"),
    "LockRows": (ROW_SHARE, "table_oid"),
    "Insert": (ROW_EXCLUSIVE, "table_oid"),
    "Update": (ROW_EXCLUSIVE, "table_oid"),
    "Delete": (ROW_EXCLUSIVE, "table_oid"),
    "Merge": (ROW_EXCLUSIVE, "table_oid"),
    "PartitionTarget": (ROW_EXCLUSIVE, "table_oid"),
    "Vacuum": (SHARE_UPDATE_EXCLUSIVE, "table_oids"),
    "CreateIndex": (SHARE, "table_oid"),
    "Truncate": (ACCESS_EXCLUSIVE, "table_oids"),
    "RefreshMatView": (ACCESS_EXCLUSIVE, "table_oid"),
    "ChangeOwner": (ACCESS_EXCLUSIVE, "oid"),
    "SetPartition": (ACCESS_EXCLUSIVE, "child_oid"),
}
_SKIP = frozenset({"Const", "Param", "ExecParam", "Var", "ResultColumn", "LockRelations", "CreateTable",
                   "CreateSequence", "CreateRole", "AlterRole", "CreateSchema", "NoOp", "ValuesScan"})
_CACHE_LIMIT = 4096
FIRST_USER_OID = 16384  # FirstNormalObjectId: below are the system catalogs' own
_TARGET_MODES = (1 << ROW_SHARE) | (1 << ROW_EXCLUSIVE)

# A plan's locks: ((oid, mode), ...) plus DROP's names, resolved when the statement runs.
PlanLocks = tuple[tuple[tuple[int, int], ...], tuple[tuple[str | None, str, str], ...]]
_cache: dict[int, tuple[Any, PlanLocks]] = {}
NO_LOCKS: PlanLocks = ((), ())


def plan_locks(plan: Any) -> PlanLocks:
    """The relation locks `plan` takes (computed once per plan object). A partitioned table read
    or written through its partitions is not locked itself (the plan no longer names it: a
    pruned `SELECT ... FROM parent` is a scan of one partition, as `SELECT ... FROM partition`);
    DDL on it locks its partitions (DROP, LOCK TABLE without ONLY), so it still waits."""
    entry = _cache.get(id(plan))
    if entry is not None and entry[0] is plan:
        return entry[1]
    found: dict[int, int] = {}
    drops: list[tuple[str | None, str, str]] = []
    _walk(plan.node, found, drops, 0)
    for oid, modes in found.items():
        if modes & _TARGET_MODES and modes & 1:
            # the scan of an UPDATE's / FOR UPDATE's own table takes no AccessShareLock of its own
            # in PostgreSQL (the stronger lock covers it: pg_locks shows just that one)
            found[oid] = modes & ~1
    # Weaker modes first, as PostgreSQL takes them while it reads the query from the left: a
    # later, stronger one is then an upgrade of a lock already held.
    locks: PlanLocks = (tuple(sorted(((oid, mode) for oid, modes in found.items() for mode in _modes(modes)),
                                     key=lambda item: item[1])), tuple(drops)) if found or drops else NO_LOCKS
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[id(plan)] = (plan, locks)
    return locks


def _modes(mask: int) -> list[int]:
    return [mode for mode in range(8) if mask >> mode & 1]


def _any(node: Any) -> Any:
    return node


def _walk(node: Any, found: dict[int, int], drops: list[tuple[str | None, str, str]], depth: int) -> None:
    if depth > 200 or node is None:
        return
    if isinstance(node, tuple | list):
        for item in node:
            _walk(item, found, drops, depth + 1)
        return
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return
    node = _any(node)
    name = type(node).__name__
    if name in _SKIP:
        return
    rule = _NODE_LOCKS.get(name)
    if rule is not None:
        mode, attr = rule
        value = getattr(node, attr, None)
        for oid in value if isinstance(value, tuple) else (value,):
            if isinstance(oid, int) and oid > 0:
                found[oid] = found.get(oid, 0) | (1 << mode)
    elif name == "AlterTable":
        found[node.table.oid] = found.get(node.table.oid, 0) | (1 << ACCESS_EXCLUSIVE)
    elif name == "SystemScan":
        oid = _system_oid(node.schema, node.name)
        if oid:
            found[oid] = found.get(oid, 0) | 1  # AccessShareLock, as on any catalog PostgreSQL reads
    elif name == "DropObjects" and node.kind not in ("schema", "role", "database"):
        drops.extend((schema, rel, node.kind) for schema, rel in node.names)
    if name == "LockRows" and getattr(node, "marks", None):
        # FOR UPDATE over a join or a partitioned table: each locked relation is a scan that
        # hands its rows' tids up (the marks name columns, not tables)
        for oid in _tid_scans(node.input, 0):
            found[oid] = found.get(oid, 0) | (1 << ROW_SHARE)
    if name == "SetPartition":
        parent = node.parent_oid
        found[parent] = found.get(parent, 0) | (1 << SHARE_UPDATE_EXCLUSIVE)
    for field in dataclasses.fields(node):
        value = getattr(node, field.name, None)
        if isinstance(value, tuple | list) or dataclasses.is_dataclass(value):
            _walk(value, found, drops, depth + 1)


def _tid_scans(node: Any, depth: int) -> list[int]:
    """Relations of the scans below `node` that yield their rows' tids (FOR UPDATE targets)."""
    if depth > 200 or node is None:
        return []
    if isinstance(node, tuple | list):
        return [oid for item in node for oid in _tid_scans(item, depth + 1)]
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return []
    node = _any(node)
    if type(node).__name__ in ("SeqScan", "IndexScan"):
        return [node.table_oid] if node.with_tid else []
    found: list[int] = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name, None)
        if dataclasses.is_dataclass(value) or isinstance(value, tuple | list):
            found.extend(_tid_scans(value, depth + 1))
    return found


def _system_oid(schema: str, name: str) -> int:
    from pgaurora.catalog.system import lookup_relation  # lazily: the session imports without it

    rel = lookup_relation(name, schema)
    return int(rel.oid) if rel is not None else 0


def resolve_drops(drops: tuple[tuple[str | None, str, str], ...], state: Any) -> list[tuple[int, int, str]]:
    """DROP's relations by name as the statement sees the catalog: (oid, mode, name); an index
    locks its table too, as PostgreSQL does. Missing names are left to the DROP itself."""
    result = []
    for schema, name, kind in drops:
        rel = state.relation(name, schema)
        if rel is None:
            continue
        table_oid = getattr(rel, "table_oid", None)
        if kind == "index" and isinstance(table_oid, int):
            result.append((table_oid, ACCESS_EXCLUSIVE, name))
        result.append((rel.oid, ACCESS_EXCLUSIVE, name))
        pending = [rel.oid] if kind in ("table", "materialized view") else []
        while pending:  # a partitioned table's partitions are dropped with it
            for part in state.partitions(pending.pop()):
                result.append((part.oid, ACCESS_EXCLUSIVE, part.name))
                pending.append(part.oid)
    return result


def try_lock_all(locks: PlanLocks, txn: Any, table: Any) -> bool:
    """Takes every lock of `locks` that is free now (no await: the common case); False when one
    must be waited for or DROP's names must be resolved (then call `lock_relations`)."""
    if locks[1]:
        return False
    try_lock = table.try_lock
    for oid, mode in locks[0]:
        if try_lock(txn, oid, mode) is not None:
            return False
    return True


async def lock_relations(locks: PlanLocks, txn: Any, table: Any, catalog: Any) -> bool:
    """Takes `locks` for `txn`, waiting as needed; True when it had to wait, so the catalog may
    have changed under the plan."""
    try_lock = table.try_lock
    waited = False
    for oid, mode in locks[0]:
        if try_lock(txn, oid, mode) is not None:
            await table.lock(txn, oid, mode, name=_name_of(catalog, txn, oid))
            waited = True
    if locks[1]:
        for oid, mode, name in resolve_drops(locks[1], catalog.state_for(txn)):
            if try_lock(txn, oid, mode) is not None:
                await table.lock(txn, oid, mode, name=name)
                waited = True
    return waited


def must_wait(locks: PlanLocks, txn: Any, table: Any) -> bool:
    """Whether taking `locks` would wait now (no lock is taken); DROP's names count as a wait."""
    if locks[1]:
        return True
    would_wait = table.would_wait
    return any(would_wait(txn, oid, mode) for oid, mode in locks[0])


def _name_of(catalog: Any, txn: Any, oid: int) -> str:
    try:
        rel = catalog.state_for(txn).by_oid.get(oid)
    except Exception:  # noqa: BLE001 - only a name for a message
        return str(oid)
    return str(getattr(rel, "name", oid))


def missing_relation(plan: Any, txn: Any, catalog: Any) -> str | None:
    """After a wait: the name of a relation the plan locks that no longer exists (dropped by
    the transaction it waited for), or None."""
    state = catalog.state_for(txn)
    by_oid = state.by_oid
    for oid, _ in plan_locks(plan)[0]:
        if oid >= FIRST_USER_OID and oid not in by_oid:
            return _plan_name(plan.node, oid) or str(oid)
    return None


def _plan_name(node: Any, oid: int, depth: int = 0) -> str | None:
    if depth > 200 or node is None:
        return None
    if isinstance(node, tuple | list):
        for item in node:
            found = _plan_name(item, oid, depth + 1)
            if found:
                return found
        return None
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return None
    node = _any(node)
    if getattr(node, "table_oid", None) == oid and isinstance(getattr(node, "table_name", None), str):
        return str(node.table_name)
    for field in dataclasses.fields(node):
        value = getattr(node, field.name, None)
        if isinstance(value, tuple | list) or dataclasses.is_dataclass(value):
            found = _plan_name(value, oid, depth + 1)
            if found:
                return found
    return None
