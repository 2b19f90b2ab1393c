"""pg_locks, pg_stat_activity and the functions over other backends: pg_blocking_pids,
pg_cancel_backend, pg_terminate_backend (and pg_stat_force_next_flush / pg_stat_clear_snapshot,
which have nothing to do: table counters are read live).

Owns how the instance's lock tables (txn.rellocks.lock_status) and its sessions appear as
PostgreSQL 15 rows. The sessions are the engine's registry (`engine.sessions`: pid -> session,
kept by session.session), reached through the statement's own session in `ctx.extra`; only
client backends are listed (pgaurora has no autovacuum launcher or checkpointer processes).
Not the locks themselves (txn) and not the session state machine (session).
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.builtins.registry import WaitingFunction
from pgaurora.catalog.roles import has_privileges_of
from pgaurora.catalog.system.functions import _ctx_fn
from pgaurora.catalog.system.object_rows import index_counts
from pgaurora.catalog.system.regtypes import state_of
from pgaurora.catalog.system.relations import SystemContext, producer
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import InsufficientPrivilege, NumericValueOutOfRange
from pgaurora.txn.rellocks import lock_status

_LOCK_COLUMNS = ("locktype", "database", "relation", "page", "tuple", "virtualxid", "transactionid", "classid",
                 "objid", "objsubid", "virtualtransaction", "pid", "mode", "granted", "fastpath", "waitstart")
_UTC = datetime.UTC


def _manager(ctx: Any) -> Any:
    txn = getattr(ctx, "txn", None)
    manager = getattr(txn, "manager", None)
    if manager is None:
        session = getattr(ctx, "extra", {}).get("session")
        manager = getattr(getattr(session, "engine", None), "txn_manager", None)
    return manager


def _timestamp(seconds: float | None) -> datetime.datetime | None:
    return None if seconds is None else datetime.datetime.fromtimestamp(seconds, _UTC)


@producer("pg_locks")
def pg_locks(sc: SystemContext) -> Iterator[dict[str, Any]]:
    manager = _manager(sc.ctx)
    if manager is None or not hasattr(manager, "relation_locks"):
        return
    for row in lock_status(manager):
        values = dict(zip(_LOCK_COLUMNS, row, strict=True))
        values["waitstart"] = _timestamp(values["waitstart"])
        yield values


def _sessions(ctx: Any) -> list[Any]:
    session = getattr(ctx, "extra", {}).get("session")
    registry = getattr(getattr(session, "engine", None), "sessions", None)
    if registry:
        return list(registry.values())
    return [session] if session is not None else []


# what a wait-for graph entry says it waits for -> pg_stat_activity.wait_event
def _wait_event(what: str) -> str:
    if what.startswith("ShareLock on transaction"):
        return "transactionid"
    if what == "lock on row":
        return "tuple"
    if what == "advisory lock":
        return "advisory"
    return "relation"


def session_state(session: Any) -> str:
    if getattr(session, "_running", False):
        return "active"
    status = session.transaction_status
    if status == "T":
        return "idle in transaction"
    if status == "E":
        return "idle in transaction (aborted)"
    return "idle"


@producer("pg_stat_activity")
def pg_stat_activity(sc: SystemContext) -> Iterator[dict[str, Any]]:
    ctx = sc.ctx
    me = getattr(ctx, "extra", {}).get("session")
    db = sc.state.databases.get(sc.database)
    manager = _manager(ctx)
    waiting = manager.graph.waiting_for if manager is not None else {}
    viewer = sc.state.roles.get(getattr(ctx, "user", ""))
    for session in sorted(_sessions(ctx), key=lambda s: getattr(s, "backend_start", 0.0)):
        txn = getattr(getattr(session, "block", None), "txn", None)
        if not _may_see(sc.state, viewer, session):  # only who it is, as PostgreSQL shows it
            yield {**_HIDDEN, "datid": db.oid if db else 5, "datname": session.database, "pid": session.pid,
                   "usesysid": sc.role_oid(session.user), "usename": session.user,
                   "application_name": _setting(session, "application_name"),
                   "backend_xmin": getattr(txn, "snapshot_xmin", None), "query": "<insufficient privilege>"}
            continue
        state = "active" if session is me else session_state(session)
        what = waiting.get(session)
        query_start = _timestamp(getattr(session, "query_start", None))
        if session is me:
            query_start = getattr(ctx, "statement_start", None) or query_start
        xact_start = getattr(session.block, "started_at", None) if txn is not None else None
        yield {"datid": db.oid if db else 5, "datname": session.database, "pid": session.pid, "leader_pid": None,
               "usesysid": sc.role_oid(session.user), "usename": session.user,
               "application_name": _setting(session, "application_name"),
               "client_addr": getattr(session, "client_addr", None), "client_hostname": None,
               "client_port": getattr(session, "client_port", None),
               "backend_start": _timestamp(getattr(session, "backend_start", None)),
               "xact_start": xact_start, "query_start": query_start,
               "state_change": _timestamp(getattr(session, "state_change", None)) or query_start,
               "wait_event_type": "Lock" if what is not None else (None if state == "active" else "Client"),
               "wait_event": _wait_event(what) if what is not None else (None if state == "active" else "ClientRead"),
               "state": state, "backend_xid": getattr(txn, "xid", None),
               "backend_xmin": getattr(txn, "snapshot_xmin", None), "query_id": None,
               "query": session.current_query() if hasattr(session, "current_query") else "", "backend_type": "client backend"}


READ_ALL_STATS_OID = 3375  # pg_read_all_stats (and pg_monitor's members)
_HIDDEN = dict.fromkeys(("leader_pid", "client_addr", "client_hostname", "client_port", "backend_start", "xact_start",
                         "query_start", "state_change", "wait_event_type", "wait_event", "state", "backend_xid",
                         "query_id", "backend_type"))


def _may_see(state: Any, viewer: Any, session: Any) -> bool:
    """HAS_PGSTAT_PERMISSIONS: a superuser, a role with the session's role's privileges, or a
    member of pg_read_all_stats (a context with no session role sees everything)."""
    if viewer is None or viewer.superuser:
        return True
    theirs = state.roles.get(getattr(session, "user", ""))
    return (theirs is not None and has_privileges_of(state, viewer.oid, theirs.oid)) \
        or has_privileges_of(state, viewer.oid, READ_ALL_STATS_OID)


@producer("pg_stat_ssl")
def pg_stat_ssl(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """Each client backend and its TLS session (server.startup's handshake), as PostgreSQL 15
    shows it; no client certificates are asked for, so client_dn and the rest are NULL."""
    for session in sorted(_sessions(sc.ctx), key=lambda s: getattr(s, "backend_start", 0.0)):
        tls = getattr(session, "tls", None)
        cipher = tls.cipher() if tls is not None else None
        yield {"pid": session.pid, "ssl": tls is not None, "version": tls.version() if tls is not None else None,
               "cipher": cipher[0] if cipher else None, "bits": cipher[2] if cipher else None,
               "client_dn": None, "client_serial": None, "issuer_dn": None}


@producer("pg_stat_database")
def pg_stat_database(sc: SystemContext) -> Iterator[dict[str, Any]]:
    """The shared row (datid 0) and one per database: backends now, transactions ended, tuples
    (the user tables' counters: PostgreSQL adds the system catalogs' own), deadlocks, sessions;
    counted since the instance started. No block I/O or timing (zero), no temporary files."""
    ctx = sc.ctx
    session = getattr(ctx, "extra", {}).get("session")
    engine = getattr(session, "engine", None)
    activities = getattr(engine, "activities", {})
    sessions = list(_sessions(ctx))
    storage = getattr(ctx, "storage", None)
    tuples = {"tup_returned": 0, "tup_fetched": 0, "tup_inserted": 0, "tup_updated": 0, "tup_deleted": 0}
    opened = getattr(storage, "opened_heap", None)
    for table in sc.state.tables():
        heap = opened(table.rel_id) if opened is not None and table.rel_id else None
        if heap is not None:
            tuples["tup_returned"] += heap.activity.seq_tuples_read
            tuples["tup_inserted"] += heap.tuples_inserted
            tuples["tup_updated"] += heap.tuples_updated
            tuples["tup_deleted"] += heap.tuples_deleted
        for index in sc.state.indexes(table.oid):
            _, read, fetched = index_counts(storage, index)
            tuples["tup_returned"] += read
            tuples["tup_fetched"] += fetched
    manager = _manager(ctx)
    zero_times = {"blk_read_time": 0.0, "blk_write_time": 0.0, "session_time": 0.0, "active_time": 0.0,
                  "idle_in_transaction_time": 0.0}
    base = {"blks_read": 0, "blks_hit": 0, "conflicts": 0, "temp_files": 0, "temp_bytes": 0,
            "checksum_failures": None, "checksum_last_failure": None, "stats_reset": None}
    yield {"datid": 0, "datname": None, "numbackends": 0, "xact_commit": 0, "xact_rollback": 0,
           **{k: 0 for k in tuples}, "deadlocks": 0, **base, **zero_times, "sessions": None,
           "sessions_abandoned": None, "sessions_fatal": None, "sessions_killed": None}
    names = {name: db.oid for name, db in sc.state.databases.items()}
    for name, oid in (("template1", 1), ("template0", 4)):  # as pg_database lists them
        names.setdefault(name, oid)
    for name, datid in sorted(names.items(), key=lambda item: item[1]):
        activity = activities.get(name)
        own = name == sc.database
        yield {"datid": datid, "datname": name,
               "numbackends": sum(1 for s in sessions if getattr(s, "database", None) == name),
               "xact_commit": getattr(activity, "commits", 0), "xact_rollback": getattr(activity, "rollbacks", 0),
               **(tuples if own else {k: 0 for k in tuples}),
               "deadlocks": getattr(getattr(manager, "graph", None), "deadlocks", 0) if own else 0,
               **base, **zero_times, "sessions": getattr(activity, "sessions", 0), "sessions_abandoned": 0,
               "sessions_fatal": 0, "sessions_killed": getattr(activity, "sessions_killed", 0)}


def _setting(session: Any, name: str) -> str:
    try:
        return str(session.settings.get(name) or "")
    except Exception:  # noqa: BLE001 - an unknown setting reads as empty here
        return ""


def _session_by_pid(ctx: Any, pid: int) -> Any:
    for session in _sessions(ctx):
        if session.pid == pid:
            return session
    return None


@_ctx_fn("pg_blocking_pids", (t.INT4_OID,), t.array_of(t.INT4_OID), volatility="v")
def pg_blocking_pids(ctx: Any, pid: int) -> list[int]:
    """The pids holding (or queued ahead for) what backend `pid` waits for."""
    manager = _manager(ctx)
    session = _session_by_pid(ctx, pid)
    if manager is None or session is None:
        return []
    holders = manager.graph.edges.get(session, ())
    return sorted({int(getattr(h, "pid", 0)) for h in holders if getattr(h, "pid", 0)})


SIGNAL_BACKEND_OID = 4200  # pg_signal_backend: may signal any backend but a superuser's


def _signalled(ctx: Any, pid: int, superuser_only: str, members_only: str) -> Any:
    """The session of backend `pid` if the caller may signal it (PostgreSQL 15's
    pg_signal_backend: a superuser's backend only by a superuser, another role's only by a role
    with its privileges: catalog.roles); None with a WARNING when there is no such backend."""
    session = _session_by_pid(ctx, pid)
    if session is None:
        notice = getattr(ctx, "notice", None)
        if notice is not None:
            notice(f"PID {pid} is not a PostgreSQL backend process", "WARNING")
        return None
    caller = getattr(ctx, "extra", {}).get("session")
    if caller is not None and not getattr(caller, "superuser", True):
        if getattr(session, "superuser", False):
            raise InsufficientPrivilege(superuser_only)
        state = state_of(ctx)
        mine = state.roles.get(getattr(caller, "current_user", getattr(caller, "user", "")))
        theirs = state.roles.get(getattr(session, "user", ""))
        if mine is None or theirs is None or not (has_privileges_of(state, mine.oid, theirs.oid)
                                                   or has_privileges_of(state, mine.oid, SIGNAL_BACKEND_OID)):
            raise InsufficientPrivilege(members_only)
    return session


@_ctx_fn("pg_cancel_backend", (t.INT4_OID,), t.BOOL_OID, volatility="v")
def pg_cancel_backend(ctx: Any, pid: int) -> bool:
    """Cancels the running statement of backend `pid` (57014 there); a WARNING and false when no
    such backend exists, as PostgreSQL."""
    session = _signalled(ctx, pid, "must be a superuser to cancel superuser query",
                         "must be a member of the role whose query is being canceled or member of pg_signal_backend")
    if session is None:
        return False
    session.request_cancel("user request")
    return True


def _terminate(ctx: Any, pid: int, timeout_ms: int) -> Any:
    if timeout_ms < 0:
        raise NumericValueOutOfRange('"timeout" must not be negative')
    session = _signalled(ctx, pid, "must be a superuser to terminate superuser process",
                         "must be a member of the role whose process is being terminated or member of pg_signal_backend")
    if session is not None and session.terminate_hook is not None:
        activity = getattr(session.engine, "activity", None)
        if activity is not None:
            activity.sessions_killed += 1  # pg_stat_database
        session.terminate_hook()
    return session


def _terminate_now(ctx: Any, pid: int, timeout_ms: int = 0) -> bool:
    """pg_terminate_backend where the executor cannot await: ends the backend, waits for nothing."""
    return _terminate(ctx, pid, timeout_ms) is not None


async def _terminate_and_wait(ctx: Any, pid: int, timeout_ms: int = 0) -> bool:
    """pg_terminate_backend(pid, timeout): FATAL 57P01 to that backend's client and the end of its
    connection; with a timeout, true once it is gone (its transaction aborted), else a WARNING and
    false, as PostgreSQL."""
    session = _terminate(ctx, pid, timeout_ms)
    if session is None:
        return False
    if timeout_ms > 0:
        registry = getattr(session.engine, "sessions", {})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while registry.get(pid) is session and loop.time() < deadline:
            await asyncio.sleep(0.005)  # bounded by the timeout: the session leaves the registry at its end
        if registry.get(pid) is session:
            notice = getattr(ctx, "notice", None)
            if notice is not None:
                notice(f"backend with PID {pid} did not terminate within {timeout_ms} milliseconds", "WARNING")
            return False
    return True


# PostgreSQL 15 buffers a backend's table counters and publishes them at most once a second; here
# they are the heaps' own (pg_stat_user_tables reads them live): nothing to flush or to forget.
_ctx_fn("pg_stat_force_next_flush", (), t.VOID_OID, volatility="v")(lambda ctx: "")
_ctx_fn("pg_stat_clear_snapshot", (), t.VOID_OID, volatility="v")(lambda ctx: "")

for _args in ((t.INT4_OID,), (t.INT4_OID, t.INT8_OID)):
    _ctx_fn("pg_terminate_backend", _args, t.BOOL_OID, volatility="v")(
        WaitingFunction(_terminate_now, _terminate_and_wait))
