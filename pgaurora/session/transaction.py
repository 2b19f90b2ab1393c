"""Transaction blocks: PostgreSQL's xact.c state machine as a client sees it.

Owns the block state of one session and the txn.Transaction behind it:

    IDLE ──statement──► IMPLICIT ──end of Query / Sync──► commit ──► IDLE
      │                    │ BEGIN (a Query holding BEGIN converts its implicit block)
      └──────BEGIN──────► BLOCK ──COMMIT──► IDLE
                           │ error                ▲
                           ▼                      │ COMMIT (answers ROLLBACK) / ROLLBACK
                         FAILED ──────────────────┘
                           └─ROLLBACK TO savepoint─► BLOCK

The txn.Transaction is begun lazily, by the first statement that needs one, so that
SET TRANSACTION after BEGIN still applies and BEGIN/COMMIT alone cost nothing.
Not the statements themselves (session.session), not MVCC (txn).
"""

from __future__ import annotations

import datetime
import enum
import inspect
from types import CoroutineType
from typing import Any

from pgaurora.errors import (
    ActiveSqlTransaction,
    FeatureNotSupported,
    InFailedSqlTransaction,
    InvalidSavepointSpecification,
    NoActiveSqlTransaction,
)
from pgaurora.session.settings import Settings


class BlockState(enum.Enum):
    IDLE = "I"
    IMPLICIT = "i"      # an implicit transaction (one Query, or extended messages up to Sync)
    BLOCK = "T"
    FAILED = "E"


_STATUS = {BlockState.IDLE: "I", BlockState.IMPLICIT: "I", BlockState.BLOCK: "T", BlockState.FAILED: "E"}


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def in_failed_transaction() -> InFailedSqlTransaction:
    return InFailedSqlTransaction(
        "current transaction is aborted, commands ignored until end of transaction block")


class TransactionBlock:
    """Block state, the lazily begun transaction, savepoints and their settings snapshots."""

    __slots__ = ("state", "txn", "isolation", "read_only", "deferrable", "savepoints", "_engine",
                 "_settings", "statements_run", "on_end", "owner", "pid", "started_at",
                 "before_commit")

    def __init__(self, engine: Any, settings: Settings) -> None:
        self.state = BlockState.IDLE
        self.txn: Any = None
        self.isolation = "read committed"
        self.read_only = False
        self.deferrable = False
        self.savepoints: list[tuple[str, Any, Any]] = []  # (name, settings, relation locks held)
        self._engine = engine
        self._settings = settings
        self.statements_run = 0
        self.on_end: Any = None          # callback(committed) — the session drops portals there
        # async callback(txn) run first at COMMIT, in the transaction: the session runs the
        # deferred foreign key checks there (an error aborts the transaction)
        self.before_commit: Any = None
        self.owner: Any = None           # the session (advisory locks belong to it)
        self.pid = 0
        self.started_at: datetime.datetime | None = None

    @property
    def status(self) -> str:
        return _STATUS[self.state]

    @property
    def in_block(self) -> bool:
        return self.state is BlockState.BLOCK or self.state is BlockState.FAILED

    # -- starting -----------------------------------------------------------------------------

    def start_implicit(self) -> None:
        """Called before each statement; opens an implicit transaction when idle."""
        if self.state is BlockState.IDLE:
            self.state = BlockState.IMPLICIT
            self._reset_characteristics()
            self._settings.begin_transaction()
            self.statements_run = 0

    def _reset_characteristics(self) -> None:
        s = self._settings
        self.isolation = s.default_isolation
        self.read_only = s.default_read_only or getattr(self._engine, "read_only", False)
        self.deferrable = s.default_deferrable

    def begin_block(self) -> ActiveSqlTransaction | None:
        """BEGIN: returns the WARNING to send when a block is already open."""
        if self.state is BlockState.BLOCK or self.state is BlockState.FAILED:
            return ActiveSqlTransaction("there is already a transaction in progress")
        if self.state is BlockState.IDLE:
            self.start_implicit()
        self.state = BlockState.BLOCK
        return None

    def set_characteristics(self, isolation: str | None, read_only: bool | None,
                            deferrable: bool | None) -> None:
        """BEGIN ISOLATION LEVEL ... / SET TRANSACTION ..., before the first query."""
        recovery = getattr(self._engine, "read_only", False)  # a reader instance: hot standby rules
        if recovery and isolation == "serializable":
            raise FeatureNotSupported("cannot use serializable mode in a hot standby",
                                      hint="You can use REPEATABLE READ instead.")
        if recovery and read_only is False:
            raise FeatureNotSupported("cannot set transaction read-write mode during recovery")
        if isolation is not None and isolation != self.isolation:
            if self.txn is not None and self.statements_run:
                raise ActiveSqlTransaction("SET TRANSACTION ISOLATION LEVEL must be called before any query")
            self.isolation = isolation
        if read_only is not None:
            if not read_only and self.read_only and self.txn is not None and self.statements_run:
                raise ActiveSqlTransaction(
                    "transaction read-write mode must be set before any query")
            self.read_only = read_only
            if self.txn is not None:  # (a running transaction may become read-only at any time)
                self.txn.read_only = read_only
        if deferrable is not None:
            self.deferrable = deferrable
        s = self._settings
        s.set_transaction_characteristic("transaction_isolation", self.isolation)
        s.set_transaction_characteristic("transaction_read_only", "on" if self.read_only else "off")
        s.set_transaction_characteristic("transaction_deferrable", "on" if self.deferrable else "off")

    def transaction(self) -> Any:
        """The txn.Transaction for the next statement, begun on first use."""
        txn = self.txn
        if txn is None:
            if self.state is BlockState.FAILED:
                raise in_failed_transaction()
            if self.state is BlockState.IDLE:
                self.start_implicit()
            self.started_at = datetime.datetime.now(datetime.UTC)
            txn = self.txn = self._engine.begin(self.isolation, self.read_only, self.deferrable,
                                                owner=self.owner, pid=self.pid)
        txn.lock_timeout = self._settings.lock_timeout_ms  # per statement: SET may change it
        self.statements_run += 1
        return txn

    # -- ending -------------------------------------------------------------------------------

    async def commit(self) -> None:
        txn, self.txn = self.txn, None
        self.state = BlockState.IDLE
        self.savepoints.clear()
        try:
            if txn is not None:
                await self._before_commit_record(txn)
                committed = txn.commit()
                if type(committed) is CoroutineType or inspect.isawaitable(committed):
                    await committed
        except BaseException:
            self._settings.end_transaction(committed=False)
            self._ended(False)
            raise
        self._settings.end_transaction(committed=True)
        self._ended(True)

    async def _before_commit_record(self, txn: Any) -> None:
        """What COMMIT does in the transaction before its commit record, in PostgreSQL's order:
        the deferred foreign key checks (`before_commit`, when the transaction put any off), then
        temporary tables' ON COMMIT DROP / DELETE ROWS (catalog.Catalog.on_commit_actions). An
        error aborts the transaction."""
        actions = getattr(getattr(self._engine, "catalog", None), "on_commit_actions", None)
        try:
            if self.before_commit is not None and getattr(txn, "deferred", None) is not None:
                await self.before_commit(txn)
            if actions is not None:
                await actions(txn, self.pid)
        except BaseException:
            await _maybe_await(txn.abort())
            raise

    async def abort(self) -> None:
        txn, self.txn = self.txn, None
        self.state = BlockState.IDLE
        self.savepoints.clear()
        self._settings.end_transaction(committed=False)
        self._ended(False)
        if txn is not None:
            await _maybe_await(txn.abort())

    def _ended(self, committed: bool) -> None:
        if self.on_end is not None:
            self.on_end(committed)

    async def fail(self) -> None:
        """An error inside the block: the block stays open, failed, until ROLLBACK.

        Without savepoints nothing can be recovered, so the transaction is aborted at once
        (its locks go now, as in PostgreSQL); with savepoints it waits for ROLLBACK TO.
        """
        if self.state is BlockState.IMPLICIT or self.state is BlockState.IDLE:
            await self.abort()
            return
        self.state = BlockState.FAILED
        if not self.savepoints and self.txn is not None:
            txn, self.txn = self.txn, None
            await _maybe_await(txn.abort())

    # -- savepoints ---------------------------------------------------------------------------

    def _require_block(self, what: str) -> None:
        if self.state is BlockState.FAILED:
            raise in_failed_transaction()
        if self.state is not BlockState.BLOCK:
            raise NoActiveSqlTransaction(f"{what} can only be used in transaction blocks")

    async def savepoint(self, name: str) -> None:
        self._require_block("SAVEPOINT")
        txn = self.transaction()
        self.statements_run -= 1
        await _maybe_await(txn.savepoint(name))
        # the relation locks held now: ROLLBACK TO releases the ones taken after it (txn.rellocks)
        relation_locks = getattr(getattr(txn, "manager", None), "relation_locks", None)
        held = dict(relation_locks.held.get(txn, ())) if relation_locks is not None else None
        self.savepoints.append((name, self._settings.snapshot(), held))

    def _find(self, name: str) -> int:
        for i in range(len(self.savepoints) - 1, -1, -1):
            if self.savepoints[i][0] == name:
                return i
        raise InvalidSavepointSpecification(f'savepoint "{name}" does not exist')

    async def release(self, name: str) -> None:
        self._require_block("RELEASE SAVEPOINT")
        i = self._find(name)
        del self.savepoints[i:]
        if self.txn is not None:
            await _maybe_await(self.txn.release(name))

    async def rollback_to(self, name: str) -> None:
        if self.state is not BlockState.BLOCK and self.state is not BlockState.FAILED:
            raise NoActiveSqlTransaction("ROLLBACK TO SAVEPOINT can only be used in transaction blocks")
        i = self._find(name)
        snapshot = self.savepoints[i][1]
        held = self.savepoints[i][2]
        del self.savepoints[i + 1:]
        if self.txn is not None:
            await _maybe_await(self.txn.rollback_to(name))
            if held is not None:
                self.txn.manager.relation_locks.rollback_to(self.txn, held)
        self._settings.restore(snapshot)
        self.state = BlockState.BLOCK
