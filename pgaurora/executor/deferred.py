"""Deferred foreign key checks: a DEFERRABLE constraint checked at COMMIT, not at each row.

Owns, for one transaction, which deferrable foreign keys are deferred now (INITIALLY DEFERRED,
or SET CONSTRAINTS ... DEFERRED / IMMEDIATE for all or for named ones), the checks they put off
(a referencing row's key that found no referenced row; a referenced key that rows still
reference after a NO ACTION delete or update). Not running them (executor.foreignkeys'
run_deferred_checks, at COMMIT before its commit record and at SET CONSTRAINTS ... IMMEDIATE),
nor the immediate checks and the referential actions, which RESTRICT and CASCADE / SET NULL /
SET DEFAULT always are, as in PostgreSQL.

A put-off check is kept by key, not by row, and checked against the rows as they are when it
runs: a key is a violation only if a row with that key is still there and its referenced key
is not. So rows deleted, updated or rolled back (ROLLBACK TO SAVEPOINT) since need no
bookkeeping, and a referenced row inserted later in the transaction satisfies the check.

    txn.deferred: DeferredChecks
        modes {constraint oid: deferred?}   all_mode (SET CONSTRAINTS ALL)
        pending {(kind, constraint oid, referencing table oid): {key, ...}}
            kind "fk":  a referencing row's key without its referenced row
            kind "ref": a referenced key removed while rows referenced it (NO ACTION)
        triggers [(constraint oid, trigger, table, event, names, types, old, new), ...]
            the events of DEFERRABLE constraint triggers (CREATE CONSTRAINT TRIGGER) deferred now,
            fired at COMMIT in the order they happened
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class DeferredChecks:
    """One transaction's deferral modes and put-off checks (see the module docstring)."""

    modes: dict[int, bool] = field(default_factory=dict)
    all_mode: bool | None = None
    pending: dict[tuple[str, int, int], set[tuple[Any, ...]]] = field(default_factory=dict)
    # constraint triggers' events put off: (constraint oid, trigger, table, event, names, types, old, new)
    triggers: list[tuple[Any, ...]] = field(default_factory=list)


def is_deferred(txn: Any, con_oid: int, deferrable: bool, initially_deferred: bool) -> bool:
    """Whether a foreign key's check waits for COMMIT in `txn` now."""
    if not deferrable:
        return False
    checks = getattr(txn, "deferred", None)
    if checks is None:
        return initially_deferred
    mode = checks.modes.get(con_oid, checks.all_mode)
    return initially_deferred if mode is None else mode


def put_off(txn: Any, kind: str, con_oid: int, table_oid: int, key: tuple[Any, ...]) -> None:
    """Keeps a check for later: `kind` "fk" (`key` in the constraint's column order, `table_oid`
    the referencing table written) or "ref" (`key` in the referenced columns' order)."""
    checks = getattr(txn, "deferred", None)
    if checks is None:
        checks = txn.deferred = DeferredChecks()
    checks.pending.setdefault((kind, con_oid, table_oid), set()).add(key)


def put_off_trigger(txn: Any, event: tuple[Any, ...]) -> None:
    """Keeps a deferred constraint trigger's event (its constraint oid first) for COMMIT."""
    checks = getattr(txn, "deferred", None)
    if checks is None:
        checks = txn.deferred = DeferredChecks()
    checks.triggers.append(event)


def set_constraints(txn: Any, deferred: bool, con_oids: set[int] | None) -> None:
    """SET CONSTRAINTS {ALL (None) | oids} DEFERRED | IMMEDIATE: the modes from now on (the
    caller runs the checks IMMEDIATE brings due)."""
    checks = getattr(txn, "deferred", None)
    if checks is None:
        checks = txn.deferred = DeferredChecks()
    if con_oids is None:
        checks.modes.clear()
        checks.all_mode = deferred
    else:
        for oid in con_oids:
            checks.modes[oid] = deferred
