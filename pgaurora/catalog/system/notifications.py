"""pg_notify() and pg_listening_channels(): NOTIFY and LISTEN as functions.

Owns the function forms of the session's notification state (ExecContext.extra['session'], as
the session builds it): pg_notify queues (channel, payload) like NOTIFY, delivered at commit
by the session; pg_listening_channels lists the session's LISTENs. Not the delivery itself
(session), not the statements (session.utility_exec).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.builtins.registry import function
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import FeatureNotSupported, InvalidParameterValue

MAX_PAYLOAD = 8000  # PostgreSQL's NOTIFY_PAYLOAD_MAX_LENGTH - 1 (in bytes)


def _session(ctx: Any) -> Any:
    session = ctx.extra.get("session") if hasattr(ctx, "extra") else None
    if session is None:
        raise FeatureNotSupported("notifications need a client session")
    return session


def pg_notify(ctx: Any, channel: str | None, payload: str | None) -> None:
    """Async_Notify: the checks and messages of PostgreSQL's async.c."""
    if not channel:
        raise InvalidParameterValue("channel name cannot be empty")
    if len(channel.encode()) >= 64:
        raise InvalidParameterValue("channel name too long")
    payload = payload or ""
    if len(payload.encode()) >= MAX_PAYLOAD:
        raise InvalidParameterValue("payload string too long")
    pending = _session(ctx).pending_notifies
    if (channel, payload) not in pending:  # PostgreSQL folds duplicates within a transaction
        pending.append((channel, payload))


def pg_listening_channels(ctx: Any) -> Iterator[str]:
    yield from sorted(_session(ctx).listening)


function("pg_notify", (t.TEXT_OID, t.TEXT_OID), t.VOID_OID, pg_notify, needs_context=True, strict=False,
         volatility="v")
function("pg_listening_channels", (), t.TEXT_OID, pg_listening_channels, needs_context=True, retset=True,
         volatility="s")
