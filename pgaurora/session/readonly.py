"""Read-only transactions: which planned statements they refuse, with PostgreSQL's words.

Owns PostgreSQL's PreventCommandIfReadOnly / PreventCommandDuringRecovery decisions for a
planned statement (ExecCheckXactReadOnly for DML and row locks, ClassifyUtilityCommandAsReadOnly
for DDL): a write in a read-only transaction is 25006 "cannot execute INSERT in a read-only
transaction" before it runs, naming the command as PostgreSQL's CreateCommandName does. On a
reader instance (`recovery`), some commands a read-only primary allows fail instead with
"cannot execute VACUUM during recovery". Not the transaction's read-only flag (session.transaction),
not the reader's snapshots (txn.replica).
"""

from __future__ import annotations

from typing import Any

from pgaurora.errors import ReadOnlySqlTransaction

# Commands whose plans never write (their data-modifying forms are found below by node type).
READ_ONLY_COMMANDS = frozenset(("SELECT", "EXPLAIN", "SHOW", "VALUES", "TABLE", "FETCH", "MOVE", "CHECKPOINT",
                                "COPY", "LOCK TABLE", "VACUUM", "ANALYZE", "DECLARE CURSOR", "PREPARE",
                                "EXECUTE", "DEALLOCATE", "DISCARD", "SET", "RESET",
                                "DO", "CALL"))  # (what their code runs is checked statement by statement)
_LOCK_NAMES = {"update": "SELECT FOR UPDATE", "no key update": "SELECT FOR NO KEY UPDATE",
               "share": "SELECT FOR SHARE", "key share": "SELECT FOR KEY SHARE"}
_WRITE_NODES = frozenset(("Insert", "Update", "Delete", "Upsert", "ModifyingCtes"))
_NODE_COMMANDS = {"Insert": "INSERT", "Update": "UPDATE", "Delete": "DELETE", "Upsert": "INSERT"}


def _spine(node: Any) -> Any:
    """The first LockRows or data-modifying node down the plan's spine (Project, Limit, Sort...)."""
    for _ in range(64):
        if node is None:
            return None
        name = type(node).__name__
        if name == "LockRows" or name in _WRITE_NODES:
            return node
        node = getattr(node, "input", None)
    return None


def check_read_only(plan: Any, recovery: bool = False) -> None:
    """Raises 25006 when `plan` would write; `recovery` for a reader instance (hot standby)."""
    command = plan.command
    if command in READ_ONLY_COMMANDS:
        node = plan.node
        kind = type(node).__name__
        if command == "COPY":
            if kind in _WRITE_NODES:
                raise ReadOnlySqlTransaction("cannot execute COPY FROM in a read-only transaction")
            return
        if recovery and command in ("VACUUM", "ANALYZE"):
            raise ReadOnlySqlTransaction(f"cannot execute {command} during recovery")
        if recovery and kind == "LockRelations" and not getattr(node, "shared", True):
            raise ReadOnlySqlTransaction("cannot execute LOCK TABLE during recovery")
        if kind == "Explain" and getattr(node, "analyze", False):
            found = _spine(getattr(node, "plan", None))
            if found is not None and type(found).__name__ in _NODE_COMMANDS:
                raise ReadOnlySqlTransaction(
                    f"cannot execute {_NODE_COMMANDS[type(found).__name__]} in a read-only transaction")
            return
        if command != "SELECT":
            return
        found = _spine(node)
        if found is None:
            return
        if type(found).__name__ == "LockRows":
            name = _LOCK_NAMES.get(getattr(found, "mode", "update"), "SELECT FOR UPDATE")
            raise ReadOnlySqlTransaction(f"cannot execute {name} in a read-only transaction")
        raise ReadOnlySqlTransaction("cannot execute SELECT in a read-only transaction")
    raise ReadOnlySqlTransaction(f"cannot execute {command} in a read-only transaction")
