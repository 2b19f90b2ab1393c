"""Advisory lock functions: pg_advisory_lock, pg_try_advisory_lock, pg_advisory_unlock and kin.

Owns the SQL face of advisory locks; the locks themselves (wait-for graph, session- and
transaction-level holds, release at session end) are txn.manager's. The session's transaction
(`ctx.txn`) gives the manager and the owner (the session), as in PostgreSQL where the holder is
the backend.

    key: one int8, or two int4 -- distinct lock spaces, as PostgreSQL's locktag field 4 (1 / 2)

The blocking forms (pg_advisory_lock, pg_advisory_xact_lock and their _shared variants) are
WaitingFunctions: the executor awaits the lock before evaluating the row's expressions, as
PostgreSQL's backend sleeps on it, with the deadlock check (40P01), lock_timeout (55P03) and
cancellation (57014) of every lock wait, and without blocking the event loop. A call the
executor evaluates only conditionally (inside CASE, AND, OR, COALESCE...) cannot be awaited
first: it takes a free lock at once and raises 55P03 for a held one instead of waiting. The
pg_try_* forms never wait: false when the lock is held, as in PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from pgaurora.catalog.builtins.registry import WaitingFunction, function
from pgaurora.datatypes.typeinfo import BOOL_OID, INT4_OID, INT8_OID, VOID_OID
from pgaurora.errors import LockNotAvailable

VOID = ""  # a void result is not NULL: it prints as an empty string


def _key(args: tuple[int, ...]) -> tuple[int, ...]:
    return (1, args[0]) if len(args) == 1 else (2, args[0], args[1])


def _take(ctx: Any, args: tuple[int, ...], shared: bool, xact: bool) -> bool:
    txn = ctx.txn
    manager = txn.manager
    return bool(manager.try_advisory_lock(txn.owner, _key(args), shared=shared, txn=txn if xact else None))


def _lock_function(shared: bool, xact: bool) -> WaitingFunction:
    def lock(ctx: Any, *args: int) -> str:
        if not _take(ctx, args, shared, xact):
            raise LockNotAvailable(
                "could not obtain advisory lock",
                detail="pgaurora waits for an advisory lock only where the call is evaluated for every row, "
                       "not inside CASE, AND, OR or COALESCE.",
                hint="Call the function outside the conditional expression, or use pg_try_advisory_lock().",
            )
        return VOID

    async def wait(ctx: Any, *args: int) -> str:
        txn = ctx.txn
        await txn.manager.advisory_lock(txn.owner, _key(args), shared=shared, txn=txn if xact else None,
                                        wait="block", timeout_ms=txn.lock_timeout)
        return VOID

    return WaitingFunction(lock, wait)


def _try_function(shared: bool, xact: bool) -> Any:
    def try_lock(ctx: Any, *args: int) -> bool:
        return _take(ctx, args, shared, xact)

    return try_lock


def _unlock_function(shared: bool) -> Any:
    def unlock(ctx: Any, *args: int) -> bool:
        txn = ctx.txn
        released = bool(txn.manager.advisory_unlock(txn.owner, _key(args), shared=shared))
        if not released:
            message = f"you don't own a lock of type {'ShareLock' if shared else 'ExclusiveLock'}"
            try:
                ctx.notice(message, "WARNING")
            except TypeError:  # a context whose notice takes only the message
                ctx.notice(message)
        return released

    return unlock


def _unlock_all(ctx: Any) -> str:
    txn = ctx.txn
    txn.manager.advisory_unlock_all(txn.owner)
    return VOID


def _register() -> None:
    for arg_oids in ((INT8_OID,), (INT4_OID, INT4_OID)):
        for shared in (False, True):
            suffix = "_shared" if shared else ""
            for xact in (False, True):
                middle = "xact_" if xact else ""
                function(f"pg_advisory_{middle}lock{suffix}", arg_oids, VOID_OID, _lock_function(shared, xact),
                         needs_context=True, volatility="v")
                function(f"pg_try_advisory_{middle}lock{suffix}", arg_oids, BOOL_OID, _try_function(shared, xact),
                         needs_context=True, volatility="v")
            function(f"pg_advisory_unlock{suffix}", arg_oids, BOOL_OID, _unlock_function(shared),
                     needs_context=True, volatility="v")
    function("pg_advisory_unlock_all", (), VOID_OID, _unlock_all, needs_context=True, volatility="v")


_register()
