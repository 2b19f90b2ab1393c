"""Statements an idle session answers without beginning a transaction.

Owns deciding when a plan's executor fast path (executor.fastpath: a row of constants and
parameters, or a point lookup by a whole unique key) may run outside any transaction, and
running it. PostgreSQL would start and commit a transaction around `SELECT 1` or a primary-key
SELECT in autocommit; nobody can observe the difference when

    the session is idle (no block, no implicit transaction: nothing of its own to see),
    the catalog is settled (no DDL commit that sync_catalog would still have to apply),
    the default isolation is not SERIALIZABLE (whose reads are tracked, and which a hot standby
    refuses when the snapshot is taken),
    the plan reads no relation (CONST), or reads cached pages under a fresh snapshot with no
    await in between (POINT) of a relation nobody holds or awaits in ACCESS EXCLUSIVE mode
    (the AccessShareLock it skips could not have waited),

so the rows come straight back and the server encodes them with the Bind/Execute/Sync or
Query replies in one pass. Anything else — a page to read, an error to report with its
context, a transaction block, a failed block — returns None: the ordinary path runs the
statement (again; these plans have no side effects), so behaviour never differs.
Not the plans' shapes (executor.fastpath), not bytes (server).
"""

from __future__ import annotations

import logging
from time import time as _now
from typing import TYPE_CHECKING, Any

from pgaurora.errors import PgError
from pgaurora.session.transaction import BlockState

if TYPE_CHECKING:
    from pgaurora.session.session import Session

_IDLE = BlockState.IDLE

_fast_plan: Any = None
_run_const: Any = None
_read_point: Any = None
_CONST: Any = None
_acl_permitted: Any = None

log = logging.getLogger(__name__)


def _resolve() -> None:
    """Imported on first use, as session.engine does: the session must import without the executor."""
    global _fast_plan, _run_const, _read_point, _CONST, _acl_permitted
    from pgaurora.catalog.acl import permitted
    from pgaurora.executor.fastpath import FastKind, fast_plan, read_point, run_const

    _fast_plan, _run_const, _read_point, _CONST = fast_plan, run_const, read_point, FastKind.CONST
    _acl_permitted = permitted


def _permitted(session: Session, fast: Any, state: Any) -> bool:
    """May the session's role run `fast`'s plan (catalog.acl.permitted)? The last answer is kept
    on the plan for its catalog state and role: a prepared statement asks it on every run."""
    role = state.roles.get(session.current_user)
    if role is None:
        return False
    known = fast.allowed
    if known is not None and known[0] is state and known[1] == role.oid:
        return known[2]  # type: ignore[no-any-return]
    answer = bool(_acl_permitted(fast.permissions, role.oid, state))
    fast.allowed = (state, role.oid, answer)
    return answer



def fast_plan_of(plan: Any) -> Any:
    """The executor's FastPlan for `plan` (None for other shapes); computed once per plan."""
    if _fast_plan is None:
        _resolve()
    return _fast_plan(plan) if plan is not None else None


def fast_rows(session: Session, fast: Any, params: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
    """The rows of `fast` run outside any transaction, or None: take the ordinary path."""
    if session.block.state is not _IDLE:
        return None
    session.activity_fast = fast  # pg_stat_activity.query (session.current_query finds its text)
    session.query_start = _now()
    engine = session.engine
    state = engine.settled_state()
    if state is None or session.settings.default_isolation == "serializable":
        return None  # SERIALIZABLE tracks reads (and a hot standby refuses it at the snapshot)
    try:
        if fast.kind is _CONST:
            return _run_const(fast, params)  # type: ignore[no-any-return]
        if state.temp_schemas:
            return None
        if fast.permissions and not session.superuser and not _permitted(session, fast, state):
            return None  # the ordinary path raises 42501
        relation_locks = engine.relation_locks
        if relation_locks is not None and relation_locks.locks and relation_locks.blocks_reads(fast.table_oid):
            return None  # its AccessShareLock would wait: the ordinary path waits for it
        return _read_point(fast, params, state, engine.storage, engine.read_snapshot())  # type: ignore[no-any-return]
    except PgError:
        return None  # the ordinary path raises it again, with PostgreSQL's context and position


NO_PLAN: tuple[()] = ()  # fast_query asked the plan cache, which has nothing for this text


def fast_query(session: Session, sql: str) -> tuple[Any, ...] | None:
    """A simple Query the plan cache answers: (plan, params, rows) with rows None when the plan
    must run the ordinary way (the caller hands (plan, params) to simple_query); NO_PLAN when
    the cache has no plan for it (simple_query need not ask again); None: not asked."""
    if session.block.state is not _IDLE:
        return None
    session.activity_query = sql
    engine = session.engine
    cache = engine.plan_cache
    if cache is None or not engine.catalog_settled() or not session.default_search_path():
        return None
    try:
        hit = cache.plan_query(sql, engine.catalog, None)
    except PgError:
        return None  # the ordinary path reports it (with its position)
    except Exception:  # noqa: BLE001 - a bug here must not drop the connection: the ordinary
        log.exception("plan cache lookup failed")  # path runs it and reports an internal error
        return None
    if hit is None:
        return NO_PLAN
    plan, params = hit
    fast = fast_plan_of(plan)
    if fast is None:
        return plan, params, None
    return plan, params, fast_rows(session, fast, params)


def select_tag(count: int) -> str:
    return _TAGS[count] if count < len(_TAGS) else f"SELECT {count}"


_TAGS = tuple(f"SELECT {i}" for i in range(64))
