"""Fused replies: a whole round trip of a fast statement answered in one pass, one write.

Owns the byte side of session.fastpath. For a prepared statement whose plan is a fast shape
(a constant row, a point lookup by a whole unique key) and a session that is idle:

    Bind(unnamed portal) [+ Describe("P", "")] + Execute("", n) + Sync   (one chunk: asyncpg;
                                                          libpq clients add the Describe)
        decode params ─► session.fastpath.fast_rows ─► BindComplete [RowDescription] DataRow
                                                 CommandComplete ReadyForQuery  (one buffer)

and for a simple Query the plan cache answers with such a plan:

    Query ─► plan cache ─► fast_rows ─► RowDescription DataRow CommandComplete ReadyForQuery

The decoder peeks the whole round trip without building message objects
(wire.decoder.peek_round_trip), and what a statement's replies need -- the parameters' decoder,
the DataRow encoder, BindComplete + RowDescription as one bytes object -- is built once per
statement and format codes (FusedReply). Nothing is consumed or written until the rows are
computed and encoded; whenever the fast path declines (None) the messages go through the
ordinary handlers, which produce the same bytes (and every error, with its context). Not what
the messages mean (session), not their encoding (wire).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pgaurora.session.fastpath import fast_query, fast_rows, select_tag
from pgaurora.wire import encoder as enc
from pgaurora.wire import formats
from pgaurora.wire import messages as m

if TYPE_CHECKING:
    from pgaurora.server.connection import ClientConnection

_BIND_COMPLETE = enc.BIND_COMPLETE
_PORTAL_SUSPENDED = enc.PORTAL_SUSPENDED
_SELECT_COMPLETE = tuple(enc.command_complete(select_tag(n)) for n in range(64))
_TEXT_FORMATS = tuple((0,) * n for n in range(32))


def _select_complete(count: int) -> bytes:
    return _SELECT_COMPLETE[count] if count < 64 else enc.command_complete(select_tag(count))


class FusedReply:
    """What answer_round_trip builds once per prepared statement, Bind format codes and output
    settings (kept in PreparedStatement.fast_reply, dropped when the statement is planned
    again): the parameters' decoder, the DataRow encoder and the bytes that open the reply."""

    __slots__ = ("param_formats", "param_count", "decode", "result_formats", "context", "rows", "head",
                 "head_described")

    def __init__(self, param_formats: tuple[int, ...], param_count: int, decode: Any,
                 result_formats: tuple[int, ...], context: Any, rows: Any, description: bytes) -> None:
        self.param_formats = param_formats
        self.param_count = param_count
        self.decode = decode                    # params -> values (session values)
        self.result_formats = result_formats
        self.context = context                  # the FormatContext `rows` was built for
        self.rows = rows                        # rows -> DataRow messages
        self.head = _BIND_COMPLETE
        self.head_described = _BIND_COMPLETE + description  # ... and the portal's RowDescription


def _fused_reply(conn: ClientConnection, stmt: Any, param_formats: tuple[int, ...],
                 result_formats: tuple[int, ...], context: Any) -> FusedReply | None:
    """The FusedReply of `stmt` for a Bind's format codes, or None: the ordinary path reports
    what is wrong with them (a bad code, counts that do not match)."""
    columns = stmt.columns
    if columns is None:
        return None
    param_types = stmt.param_types
    try:
        expanded = formats.param_formats(param_formats, len(param_types))
        decode = formats.values_decoder(formats.param_decoders(param_types, expanded), expanded)
        entry = conn.results.entry(columns, formats.result_formats(result_formats, len(columns)))
    except Exception:  # noqa: BLE001 - the ordinary path reports it where PostgreSQL does
        return None
    if decode is None:
        return None
    reply = stmt.fast_reply = FusedReply(param_formats, len(param_types), decode, result_formats, context,
                                         entry[2], entry[1])
    return reply


def answer_bind(conn: ClientConnection, msg: m.Bind) -> bool:
    """Answers Bind [+ Describe] + Execute + Sync of a fast statement at once; False: nothing
    was done (the messages stay for the ordinary handlers)."""
    if msg.portal:
        return False
    peeked = conn.decoder.peek_execute_sync()
    if peeked is None:
        return False
    return answer_round_trip(conn, (msg.statement, msg.param_formats, msg.params, msg.result_formats, *peeked))


def answer_round_trip(conn: ClientConnection, trip: tuple[Any, ...]) -> bool:
    """Answers the round trip that the decoder peeked (wire.decoder.peek_round_trip: statement,
    param_formats, params, result_formats, max_rows, described) when its statement is fast and
    the session idle; False: nothing was consumed or written."""
    session = conn.session
    if session is None:
        return False
    statement, param_formats, params, result_formats, max_rows, described = trip
    stmt = session.names.statements.get(statement)
    if (stmt is None or stmt.fast is None or stmt.catalog_version != session.engine.catalog_version
            or stmt.path_key != session.settings.path_key):
        return False
    context = session.settings.format_context()
    reply = stmt.fast_reply
    if (reply is None or reply.context is not context or reply.param_formats != param_formats
            or reply.result_formats != result_formats):
        reply = _fused_reply(conn, stmt, param_formats, result_formats, context)
        if reply is None:
            return False
    if len(params) != reply.param_count:
        return False  # an error to report
    try:
        rows = fast_rows(session, stmt.fast, reply.decode(params) if params else ())
        if rows is None:
            return False
        data = reply.rows(rows) if rows else b""
    except Exception:  # noqa: BLE001 - the ordinary path reports it where PostgreSQL does
        return False
    conn.decoder.skip_execute_sync()
    names = session.names
    if names.portals:
        names.portals.pop("", None)  # Bind replaces the unnamed portal; Sync's commit drops it
    out = conn.out
    out.append(reply.head_described if described else reply.head)
    if data:
        out.append(data)
        conn.out_size += len(data)
    count = len(rows)
    if 0 < max_rows <= count:
        out.append(_PORTAL_SUSPENDED)
    else:
        out.append(_SELECT_COMPLETE[count] if count < 64 else _select_complete(count))
    session.engine.activity.commits += 1  # the transaction PostgreSQL would have committed
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
    out.append(_select_complete(len(rows)))
    session.engine.activity.commits += 1
    conn.ready_for_query("I")
    return True
