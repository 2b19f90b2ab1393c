"""SQL for replicas: aurora_replica_status(), pg_promote(), aurora_follow_writer(), pg_stat_replication,
and PostgreSQL's recovery information functions (pg_last_wal_replay_lsn(), pg_current_wal_lsn()...).

Owns registering those functions with catalog.builtins and answering them from the instance
that runs in this process (`attach(instance)`; server.instance does it on start). They are
here, not in the catalog, because only the server layer knows the replication state.
Not the stream (server.replication_source / replication_follower), not promotion itself
(server.instance).

    aurora_replica_status() -> setof (server_id, session_id, durable_lsn, highest_lsn_rcvd,
        current_read_lsn, cur_replay_latency_in_usec, active_txns, is_current,
        last_update_timestamp, feedback_xmin, replica_lag_in_msec)
    pgaurora_replication_port() -> int4   the writer's replication listener (0 on a reader)
    pgaurora_replica_lag() -> setof (server_id, samples, last_ms, p50_ms, p99_ms, max_ms)
        replica lag (writer: VDL reached -> reader: applied) over a reader's recent VDL advances
        (on a reader: its own samples; on the writer: the last value each reader reported)
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.builtins.registry import function, functions_named
from pgaurora.catalog.system.relations import SystemContext, producer
from pgaurora.datatypes import Interval
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import InsufficientPrivilege, InvalidParameterValue, ObjectNotInPrerequisiteState

log = logging.getLogger(__name__)

COLUMNS = (
    ("server_id", t.TEXT_OID), ("session_id", t.TEXT_OID), ("durable_lsn", t.INT8_OID),
    ("highest_lsn_rcvd", t.INT8_OID), ("current_read_lsn", t.INT8_OID),
    ("cur_replay_latency_in_usec", t.INT8_OID), ("active_txns", t.INT4_OID), ("is_current", t.BOOL_OID),
    ("last_update_timestamp", t.TIMESTAMPTZ_OID), ("feedback_xmin", t.INT8_OID),
    ("replica_lag_in_msec", t.FLOAT4_OID),
)

LAG_COLUMNS = (("server_id", t.TEXT_OID), ("samples", t.INT8_OID), ("last_ms", t.FLOAT8_OID),
               ("p50_ms", t.FLOAT8_OID), ("p99_ms", t.FLOAT8_OID), ("max_ms", t.FLOAT8_OID))

_instance: Any = None  # the server.instance.Instance of this process
_background: set[asyncio.Task[Any]] = set()


def attach(instance: Any) -> None:
    global _instance
    _instance = instance


def detach(instance: Any) -> None:
    global _instance
    if _instance is instance:
        _instance = None


def _timestamp(value: float | None) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromtimestamp(value, datetime.UTC)


def replica_status(ctx: Any) -> Iterator[tuple[Any, ...]]:
    instance = _instance
    if instance is None:
        return iter(())
    rows = instance.replica_status_rows()
    return iter([
        tuple(_timestamp(row[name]) if name == "last_update_timestamp" else row[name] for name, _ in COLUMNS)
        for row in rows
    ])


def lag_summary(server_id: str, samples: list[float]) -> tuple[Any, ...]:
    """(server_id, count, last, p50, p99, max) of lag samples in ms (NULLs when there are none)."""
    if not samples:
        return (server_id, 0, None, None, None, None)
    ordered = sorted(samples)
    n = len(ordered)
    return (server_id, n, samples[-1], ordered[n // 2], ordered[min(n - 1, (n * 99) // 100)], ordered[-1])


def replica_lag(ctx: Any) -> Iterator[tuple[Any, ...]]:
    instance = _instance
    if instance is None:
        return iter(())
    return iter(instance.replica_lag_rows())


def _require_superuser(ctx: Any, name: str) -> None:
    session = ctx.extra.get("session") if getattr(ctx, "extra", None) else None
    if session is not None and not getattr(session, "superuser", True):
        raise InsufficientPrivilege(f"permission denied for function {name}")


def _not_in_recovery() -> ObjectNotInPrerequisiteState:
    return ObjectNotInPrerequisiteState("recovery is not in progress",
                                        hint="Recovery control functions can only be executed during recovery.")


def promote(ctx: Any, wait: bool = True, wait_seconds: int = 60) -> bool:
    """pg_promote(wait, wait_seconds): starts the promotion; this session then ends (57P01) as
    every other does. PostgreSQL's checks, in its order: in recovery, then wait_seconds > 0.
    SQL functions cannot await here, so wait => true only once the promotion has begun: a
    client waiting for its end reconnects (the new writer serves on the same port)."""
    _require_superuser(ctx, "pg_promote")
    instance = _instance
    if instance is None or instance.role != "reader":
        raise _not_in_recovery()
    if wait_seconds <= 0:
        raise InvalidParameterValue('"wait_seconds" must not be negative or zero')
    if getattr(instance, "promoting", None) is not None:
        return True  # already under way (PostgreSQL: the signal file exists; the same answer)
    task = asyncio.get_running_loop().create_task(instance.promote())
    instance.promoting = task
    _background.add(task)
    task.add_done_callback(_finished)

    def done(task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is not None:
            instance.promoting = None  # still a reader: pg_promote() may be tried again

    task.add_done_callback(done)
    return True


def follow_writer(ctx: Any, address: str) -> bool:
    """aurora_follow_writer('host:port'): follow another writer's replication port from now on."""
    _require_superuser(ctx, "aurora_follow_writer")
    instance = _instance
    if instance is None or instance.role != "reader":
        raise _not_in_recovery()
    instance.follow(address)
    return True


def _in_recovery() -> ObjectNotInPrerequisiteState:
    return ObjectNotInPrerequisiteState("recovery is in progress",
                                        hint="WAL control functions cannot be executed during recovery.")


def _follower() -> Any:
    instance = _instance
    return None if instance is None else getattr(instance, "follower", None)


def last_receive_lsn(ctx: Any) -> int | None:
    """pg_last_wal_receive_lsn(): the highest LSN the reader has received (NULL on the writer)."""
    follower = _follower()
    return None if follower is None or follower.applier is None else int(follower.applier.highest_lsn_rcvd)


def last_replay_lsn(ctx: Any) -> int | None:
    """pg_last_wal_replay_lsn(): the reader's read point (NULL on the writer)."""
    follower = _follower()
    return None if follower is None or follower.applier is None else int(follower.applier.read_lsn)


def last_replay_timestamp(ctx: Any) -> datetime.datetime | None:
    """pg_last_xact_replay_timestamp(): when the writer's VDL reached the reader's read point."""
    follower = _follower()
    return None if follower is None else _timestamp(follower.last_replay_at)


def current_lsn(ctx: Any) -> int:
    """pg_current_wal_lsn() and friends: the writer's VDL (an error on a reader, as on a standby)."""
    instance = _instance
    if instance is None or instance.role != "writer" or instance.volume is None:
        raise _in_recovery()
    return int(instance.volume.vdl)


def current_insert_lsn(ctx: Any) -> int:
    instance = _instance
    if instance is None or instance.role != "writer" or instance.volume is None:
        raise _in_recovery()
    return int(instance.volume.next_lsn) - 1


def replay_paused(ctx: Any) -> bool:
    instance = _instance
    if instance is None or instance.role != "reader":
        raise _not_in_recovery()
    return False


def replication_port(ctx: Any) -> int:
    """pgaurora_replication_port(): where this instance listens for readers (0 on a reader)."""
    instance = _instance
    return 0 if instance is None or instance.role != "writer" else int(instance.replication_port or 0)


def _finished(task: asyncio.Task[Any]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("promotion failed", exc_info=task.exception())


@producer("pg_stat_replication")
def stat_replication(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """The writer's readers, one row each, in pg_stat_replication's shape (empty on a reader)."""
    instance = _instance
    source = getattr(instance, "source", None)
    if source is None:
        return
    vdl = source.volume.vdl
    for i, link in enumerate(list(source.links)):
        fb = link.feedback
        peer = link.writer.get_extra_info("peername") or ("", None)
        lag = None if fb is None else Interval(0, 0, int(fb.lag_ms * 1000))
        yield {"pid": i + 1, "usesysid": 10, "usename": "postgres", "application_name": link.server_id,
               "client_addr": peer[0] or None, "client_port": peer[1],
               "backend_start": _timestamp(link.connected_at), "backend_xmin": fb.xmin if fb else link.floor_xmin,
               "state": "streaming" if link.ready else "startup", "sent_lsn": vdl,
               "write_lsn": fb.highest_lsn_rcvd if fb else None, "flush_lsn": fb.highest_lsn_rcvd if fb else None,
               "replay_lsn": fb.read_lsn if fb else None, "write_lag": lag, "flush_lag": lag, "replay_lag": lag,
               "sync_priority": 0, "sync_state": "async", "reply_time": _timestamp(link.last_update)}


def register() -> None:
    """Idempotent: adds the functions to catalog.builtins once."""
    if functions_named("aurora_replica_status"):
        return
    function("aurora_replica_status", (), t.RECORD_OID, replica_status, retset=True, needs_context=True,
             volatility="v", column_names=tuple(n for n, _ in COLUMNS), column_oids=tuple(o for _, o in COLUMNS))
    function("pgaurora_replica_lag", (), t.RECORD_OID, replica_lag, retset=True, needs_context=True,
             volatility="v", column_names=tuple(n for n, _ in LAG_COLUMNS),
             column_oids=tuple(o for _, o in LAG_COLUMNS))
    function("pg_promote", (), t.BOOL_OID, promote, needs_context=True, volatility="v", strict=True)
    function("pg_promote", (t.BOOL_OID,), t.BOOL_OID, promote, needs_context=True, volatility="v", strict=True)
    function("pg_promote", (t.BOOL_OID, t.INT4_OID), t.BOOL_OID, promote, needs_context=True, volatility="v",
             strict=True)
    function("aurora_follow_writer", (t.TEXT_OID,), t.BOOL_OID, follow_writer, needs_context=True,
             volatility="v", strict=True)
    function("pgaurora_replication_port", (), t.INT4_OID, replication_port, needs_context=True, volatility="v")
    for name, impl, result in (("pg_last_wal_receive_lsn", last_receive_lsn, t.PG_LSN_OID),
                               ("pg_last_wal_replay_lsn", last_replay_lsn, t.PG_LSN_OID),
                               ("pg_last_xact_replay_timestamp", last_replay_timestamp, t.TIMESTAMPTZ_OID),
                               ("pg_current_wal_lsn", current_lsn, t.PG_LSN_OID),
                               ("pg_current_wal_flush_lsn", current_lsn, t.PG_LSN_OID),
                               ("pg_current_wal_insert_lsn", current_insert_lsn, t.PG_LSN_OID),
                               ("pg_is_wal_replay_paused", replay_paused, t.BOOL_OID)):
        if not functions_named(name):
            function(name, (), result, impl, needs_context=True, volatility="v")


register()
