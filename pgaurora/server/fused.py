"""Fused replies: a whole round trip of a fast statement answered in one pass, one write.

Owns the byte side of session.fastpath. For a prepared statement whose plan is a fast shape
(a constant row, a point lookup by a whole unique key) and a session that is idle:

    Bind(unnamed portal) [+ Describe("P", "")] + Execute("", n) + Sync   (one chunk: asyncpg;
                                                          libpq clients add the Describe)
        decode params ─► session.fastpath.fast_rows ─► BindComplete [RowDescription] DataRow
                                                 CommandComplete ReadyForQuery  (one buffer)

and for a simple Query the plan cache answers with such a plan:

    Query ─► plan cache ─► fast_rows ─► RowDescription DataRow CommandComplete ReadyForQuery

Nothing is consumed or written until the rows are computed and encoded; whenever the fast path
declines (None) the messages go through the ordinary handlers, which produce the same bytes
(and every error, with its context). Not what the messages mean (session), not their encoding
(wire).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pgaurora.errors import PgError
from pgaurora.session.fastpath import fast_query, fast_rows, select_tag
from pgaurora.wire import encoder as enc
from pgaurora.wire import formats
from pgaurora.wire import messages as m

if TYPE_CHECKING:
    from pgaurora.server.connection import ClientConnection

_BIND_COMPLETE = enc.BIND_COMPLETE
_PORTAL_SUSPENDED = enc.PORTAL_SUSPENDED
_COMPLETE: dict[str, bytes] = {}
_TEXT_FORMATS = tuple((0,) * n for n in range(32))


def _command_complete(tag: str) -> bytes:
    data = _COMPLETE.get(tag)
    if data is None:
        data = enc.command_complete(tag)
        if len(_COMPLETE) < 256:
            _COMPLETE[tag] = data
    return data


def answer_bind(conn: ClientConnection, msg: m.Bind) -> bool:
    """Answers Bind [+ Describe] + Execute + Sync of a fast statement at once; False: nothing
    was done (the messages stay for the ordinary handlers)."""
    session = conn.session
    if session is None or msg.portal:
        return False
    stmt = session.names.statements.get(msg.statement)
    if stmt is None or stmt.fast is None or stmt.catalog_version != session.engine.catalog_version:
        return False
    decoder = conn.decoder
    peeked = decoder.peek_execute_sync()
    if peeked is None:
        return False
    max_rows, described = peeked
    params = msg.params
    param_types = stmt.param_types
    if params:
        decoders = stmt.param_decoders.get(msg.param_formats)
        if decoders is None or len(params) != len(param_types):
            return False  # the first Bind builds the decoders; a count mismatch is an error to report
        try:
            values = formats.decode_params(param_types, msg.param_formats, params, "", decoders=decoders)
        except PgError:
            return False
    elif param_types:
        return False
    else:
        values = ()
    rows = fast_rows(session, stmt.fast, values)
    if rows is None:
        return False
    context = session.settings.format_context()
    reply = stmt.fast_reply
    try:
        if reply is None or reply[0] != msg.result_formats or reply[1] is not context:
            columns = stmt.columns
            if columns is None:
                return False
            entry = conn.results.entry(columns, formats.result_formats(msg.result_formats, len(columns)))
            reply = stmt.fast_reply = (msg.result_formats, context, entry[2], entry[1])
        data = reply[2](rows) if rows else b""
    except Exception:  # noqa: BLE001 - the ordinary path reports it where PostgreSQL does
        return False
    decoder.skip_execute_sync()
    names = session.names
    if names.portals:
        names.portals.pop("", None)  # Bind replaces the unnamed portal; Sync's commit drops it
    out = conn.out
    out.append(_BIND_COMPLETE)
    if described:
        out.append(reply[3])  # RowDescription of the portal, in its result formats
    if data:
        out.append(data)
        conn.out_size += len(data)
    if 0 < max_rows <= len(rows):
        out.append(_PORTAL_SUSPENDED)
    else:
        out.append(_command_complete(select_tag(len(rows))))
    conn.ready_for_query("I")
    return True


def answer_query(conn: ClientConnection, sql: str) -> Any:
    """Answers a simple Query that the plan cache maps to a fast plan: True when done, else what
    session.simple_query takes as `cached`: the cache's (plan, params), NO_PLAN, or None."""
    session = conn.session
    assert session is not None
    found = fast_query(session, sql)
    if not found:
        return found  # None (not asked) or NO_PLAN (asked: nothing cached)
    plan, params, rows = found
    if rows is None:
        return (plan, params)
    columns = plan.columns
    n = len(columns)
    try:
        entry = conn.results.entry(columns, _TEXT_FORMATS[n] if n < 32 else (0,) * n)
        data = entry[2](rows) if rows else b""
    except Exception:  # noqa: BLE001 - the ordinary path reports it where PostgreSQL does
        return (plan, params)
    out = conn.out
    out.append(entry[1])
    if data:
        out.append(data)
        conn.out_size += len(data)
    out.append(_command_complete(select_tag(len(rows))))
    conn.ready_for_query("I")
    return True
