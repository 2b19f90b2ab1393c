"""One client connection: the socket, the wire decoder, start-up, and the message loop.

Owns the only code that reads and writes a client socket (an asyncio.Protocol, under uvloop
when installed). Every chunk goes into the connection's wire.FrontendDecoder; all messages
already buffered are handled in order and their replies are written with one write, so a
pipelined batch (Bind/Execute ×N, Sync) costs one syscall. A whole round trip of the unnamed
portal (Bind [Describe] Execute Sync) is peeked first: server.fused answers it when the statement
is fast, and otherwise `_round_trip` runs its handlers in one pass without decoding its messages
again. Not what the messages mean (session), not their bytes (wire), not authentication
exchanges (server.startup).

    data_received ─► decoder ─► [Query | Parse | Bind | Describe | Execute | Close | Sync ...]
                                      │ session (ResultSink = this connection)
    transport.write(b"".join(out)) ◄──┘ once per batch (and when `out` grows large)
"""

from __future__ import annotations

import asyncio
import collections.abc
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pgaurora.errors import (
    AdminShutdown,
    FatalError,
    FeatureNotSupported,
    IdleInTransactionSessionTimeout,
    IdleSessionTimeout,
    InternalError,
    PgError,
    ProtocolViolation,
    ProtocolViolationError,
)
from pgaurora.server.copy import CopyState
from pgaurora.server.fused import answer_bind, answer_query, answer_round_trip
from pgaurora.server.results import ResultEncoder
from pgaurora.server.startup import Startup
from pgaurora.wire import encoder as enc
from pgaurora.wire import formats
from pgaurora.wire import messages as m
from pgaurora.wire.decoder import FrontendDecoder
from pgaurora.wire.protocol import Phase

if TYPE_CHECKING:
    from pgaurora.server.listener import PgServer
    from pgaurora.session.session import Session

log = logging.getLogger(__name__)

FLUSH_BYTES = 256 * 1024
_READY_FOR_QUERY = {status: enc.ready_for_query(status) for status in "ITE"}
_BIND_TYPE = ord("B")
_QUERY_TYPE = ord("Q")
_DESCRIBE_UNNAMED_PORTAL = m.Describe("P", "")
_ANSWERED = object()  # _answer_fused: every buffered message was answered
_UNASKED = object()   # _process has yet to ask server.fused about this Query

# Errors PostgreSQL reports with COMMERROR: written to its log only, never to the client,
# which just sees the connection close (pqcomm.c pq_getmessage, postmaster ProcessStartupPacket).
LOG_ONLY_ERRORS = frozenset({"invalid message length", "invalid length of startup packet",
                             "incomplete startup packet"})


class Resumed(collections.abc.Coroutine):  # type: ignore[type-arg]
    """The rest of a coroutine that suspended outside any task (server.connection runs the
    message loop eagerly), handed to a task as that task's coroutine.

    The task's first step gets back the future the coroutine is waiting on, as if the coroutine
    had just yielded it inside the task; later steps go straight to the coroutine. A task
    canceled before its first step (a CancelRequest read in the same poll as the statement that
    started waiting) throws the cancellation in here, and it reaches the coroutine at the wait,
    with the future canceled as Task.cancel would have: a coroutine function in its place would
    have raised it at its first line, leaving the message loop suspended forever -- the client
    waiting for a reply, the session holding its row locks.
    """

    __slots__ = ("_coro", "_waiting_on", "_started")

    def __init__(self, coro: Any, waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on
        self._started = False

    def send(self, value: Any) -> Any:
        if not self._started:
            self._started = True
            waiting_on, self._waiting_on = self._waiting_on, None
            return waiting_on  # the task waits on it now (None: a bare yield, as Task takes it)
        return self._coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if not self._started:
            self._started = True
            waiting_on, self._waiting_on = self._waiting_on, None
            if waiting_on is not None and not waiting_on.done():
                waiting_on.cancel()
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)

    def close(self) -> None:
        self._coro.close()

    @property
    def cr_frame(self) -> Any:  # for Task.get_stack / print_stack
        return self._coro.cr_frame

    @property
    def cr_await(self) -> Any:
        return self._coro.cr_await

    def __await__(self) -> Any:
        raise TypeError("Resumed is run by a task, not awaited")


class ClientConnection(asyncio.Protocol):
    """asyncio protocol for one client; also the session's ResultSink."""

    def __init__(self, server: PgServer) -> None:
        self.server = server
        self.loop = server.loop
        self.transport: asyncio.Transport | None = None
        self.tls: Any = None  # the ssl.SSLObject once SSLRequest's handshake is done (pg_stat_ssl)
        self.decoder = FrontendDecoder()
        self.out: list[bytes] = []
        self.out_size = 0
        self.session: Session | None = None
        self.startup = Startup(self)
        self.results = ResultEncoder(self)
        self.copy = CopyState(self)
        self.pid = 0
        self.secret = 0
        self.closed = False
        self._task: asyncio.Task[None] | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._writable: asyncio.Future[None] | None = None
        self._busy = False                       # inside the message loop (eager or in a task)
        self._notifications: list[bytes] = []    # NotificationResponses waiting for idle
        self._query_hit: Any = _UNASKED          # answer_query's result for the Query handed to _process
        self._bind_declined: Any = None          # the Bind handed to _process that answer_bind declined
        self._handlers: dict[type, Any] = {
            m.Query: self._on_query, m.Parse: self._on_parse, m.Bind: self._on_bind,
            m.Describe: self._on_describe, m.Execute: self._on_execute, m.Close: self._on_close,
            m.Sync: self._on_sync, m.Flush: self._on_flush, m.Terminate: self._on_terminate,
            m.FunctionCall: self._on_function_call, m.CopyData: self.copy.on_stray,
            m.CopyDone: self.copy.on_stray, m.CopyFail: self.copy.on_stray,
        }

    # -- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.connection_opened(self)

    def data_received(self, data: bytes) -> None:
        self.decoder.receive_data(data)
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self.copy.waiting is not None:
            self.copy.wake()
        if self._task is None:
            if self.session is not None:
                first = self._answer_fused()
                if first is not _ANSWERED:
                    self._start_processing(first)
            else:
                self._start_processing()

    def _answer_fused(self) -> Any:
        """Answers the buffered fused round trips (server.fused) without the message loop, the
        common case of a client waiting for each reply: _ANSWERED when nothing else is left,
        else what the loop must start with (a message, a decoding PgError, a peeked round trip
        that the fused path declined; None: decode)."""
        decoder = self.decoder
        while not self.closed:
            trip = decoder.peek_round_trip()  # Bind [Describe] Execute Sync, without message objects
            if trip is not None:
                if not answer_round_trip(self, trip):
                    return trip  # not a fast statement: the loop runs the round trip (_round_trip)
                if decoder.drained():  # the usual case: one round trip per chunk
                    self.server.reply_soon(self)
                    return _ANSWERED
                continue
            if decoder.drained():
                self.server.reply_soon(self)
                return _ANSWERED
            kind = decoder.next_type()
            if kind == _BIND_TYPE or kind == _QUERY_TYPE:
                try:
                    msg = decoder.next_event()
                except PgError as err:
                    return err
                if kind == _BIND_TYPE:
                    if answer_bind(self, msg):  # type: ignore[arg-type]
                        continue
                    self._bind_declined = msg  # the loop handles it without asking again
                else:
                    cached = answer_query(self, msg.sql)  # type: ignore[union-attr]
                    if cached is True:
                        continue
                    self._query_hit = cached
                return msg
            if kind is not None:
                return None  # another message: the loop decodes it
            break
        if self.closed or decoder.buffered or decoder.phase is not Phase.READY:
            return None  # a partial message, skipping till Sync, COPY...: the loop knows what to do
        self.server.reply_soon(self)
        return _ANSWERED

    def _start_processing(self, first: Any = None) -> None:
        """Runs the message loop eagerly, right here, until it first has to wait.

        Most batches (a SELECT by primary key, Bind/Execute/Sync of a cached plan) never wait
        on anything, so they complete without an asyncio.Task being created and scheduled;
        only a batch that really suspends (a lock wait, a commit waiting for the VDL, COPY
        data) continues in a task (PEP 3156 futures protocol, as Python 3.12's eager tasks).
        """
        coro = self._process(first)
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return
        task = self._task = self.loop.create_task(Resumed(coro, waiting_on))
        if self.session is not None:
            self.session._task = task

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self.copy.wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        if self._task is None:
            self._task = self.loop.create_task(self._finish())
        elif self.session is not None and self.session._running:
            # The client is gone mid-statement: nobody will read the result; stop the work.
            self.session.request_cancel("client disconnect")

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = self.loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # -- output -----------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.out.append(data)
        self.out_size += len(data)

    def flush(self) -> None:
        if self.out:
            if not self.closed and self.transport is not None:
                self.transport.write(b"".join(self.out) if len(self.out) > 1 else self.out[0])
            self.out.clear()
            self.out_size = 0

    async def flush_and_drain(self) -> None:
        self.flush()
        if self._writable is not None and not self._writable.done() and not self.closed:
            await self._writable

    def terminate(self) -> None:
        """pg_terminate_backend: FATAL 57P01 to the client, then the connection ends (connection_lost
        cancels a running statement or a wait, and the open transaction aborts)."""
        if self.closed:
            return
        self.write(enc.error_response(AdminShutdown("terminating connection due to administrator command")))
        self.close()

    def close(self) -> None:
        """Ends the connection after writing what is pending."""
        self.flush()
        self.decoder.close()
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- the message loop ---------------------------------------------------------------------

    async def _process(self, first: Any = None) -> None:
        """The message loop over what is buffered; `first`: a message, a decoding error or a peeked
        round trip that _answer_fused took from the decoder and could not answer itself."""
        self._busy = True
        msg: Any  # a message, NEED_DATA, or a peeked round trip (a tuple: _round_trip)
        try:
            while not self.closed:
                try:
                    if first is None:
                        trip = self.decoder.peek_round_trip() if self.session is not None else None
                        if trip is None:
                            msg = self.decoder.next_event()
                        elif answer_round_trip(self, trip):
                            continue
                        else:
                            msg = trip
                    else:
                        msg, first = first, None
                        if isinstance(msg, PgError):
                            raise msg
                except PgError as err:
                    if err.message in LOG_ONLY_ERRORS:
                        log.info("connection %d: %s", self.pid, err.message)
                    else:
                        self.write(enc.error_response(err))
                    if isinstance(err, FatalError) or self.decoder.phase is Phase.CLOSED:
                        self.close()
                        break
                    if self.decoder.phase is Phase.READY and self.session is not None:
                        await self.session.statement_failed()
                        self.write(enc.ready_for_query(self.session.transaction_status))
                    continue
                if msg is m.NEED_DATA:
                    break
                if self.session is None:
                    await self.startup.handle(msg)
                elif type(msg) is tuple:  # a peeked round trip that server.fused could not answer
                    await self._round_trip(msg)
                elif type(msg) is m.Bind:
                    declined, self._bind_declined = self._bind_declined, None
                    # Bind + Execute + Sync of a fast statement: one pass (unless _answer_fused
                    # already asked about this very Bind, with the same input buffered)
                    if declined is msg or not answer_bind(self, msg):
                        await self._on_bind(msg)
                elif type(msg) is m.Query:
                    cached, self._query_hit = self._query_hit, _UNASKED
                    if cached is _UNASKED:
                        cached = answer_query(self, msg.sql)
                    if cached is not True:
                        await self._on_query(msg, cached)
                else:
                    await self._handlers[type(msg)](msg)
                if self.out_size > FLUSH_BYTES:
                    await self.flush_and_drain()
            if self.out:
                self.server.reply_soon(self)  # all input answered: the reply goes with this turn's others
        except Exception:
            log.exception("connection %d: unexpected error", self.pid)
            self.write(enc.error_response(ProtocolViolation("internal error in the connection")))
            self.close()
        finally:
            self._task = None
            self._busy = False
        if self.closed:
            await self._finish()

    def processing(self) -> bool:
        return self._task is not None

    async def _finish(self) -> None:
        """The connection is over: abort any open transaction, leave the server's tables."""
        session = self.session
        self.session = None
        try:
            if session is not None:
                await session.terminate()
        finally:
            self.server.connection_closed(self)
            if self.transport is not None and not self.transport.is_closing():
                self.transport.close()

    # -- after a message ------------------------------------------------------------------------

    def ready_for_query(self, status: str | None = None) -> None:
        """ParameterStatus for settings changed since the last report, notifications waiting
        for idle, then ReadyForQuery (`status` when the caller knows it: "I" after a fused reply)."""
        session = self.session
        assert session is not None
        for name, value in session.settings.changed_reports():
            self.write(enc.parameter_status(name, value))
        if status is None:
            status = session.transaction_status
        if self._notifications and status == "I":
            self.out.extend(self._notifications)
            self._notifications.clear()
        self.out.append(_READY_FOR_QUERY[status])
        settings = session.settings
        ms = settings.idle_session_timeout_ms if status == "I" else settings.idle_in_transaction_timeout_ms
        if ms > 0:
            if self._idle_timer is not None:  # an earlier ReadyForQuery of the same input
                self._idle_timer.cancel()
            self._idle_timer = self.loop.call_later(ms / 1000.0, self._idle_timeout, status == "I")

    def _idle_timeout(self, outside_transaction: bool) -> None:
        """idle_session_timeout / idle_in_transaction_session_timeout: no input since the last
        ReadyForQuery (any data cancels the timer): FATAL, and the connection ends."""
        self._idle_timer = None
        if self._task is not None or self.closed:
            return
        if outside_transaction:
            error: FatalError = IdleSessionTimeout("terminating connection due to idle-session timeout")
        else:
            error = IdleInTransactionSessionTimeout("terminating connection due to idle-in-transaction timeout")
        self.write(enc.error_response(error))
        self.close()
        self._task = self.loop.create_task(self._finish())

    def unexpected(self, exc: BaseException) -> PgError:
        """A bug below us: log it with its traceback; the client gets XX000."""
        log.error("connection %d: internal error", self.pid, exc_info=exc)
        return InternalError(f"internal error: {type(exc).__name__}: {exc}")

    async def extended_error(self, err: PgError) -> None:
        self.error(err)
        if isinstance(err, FatalError):
            return  # the connection is closed
        self.decoder.error_occurred()
        assert self.session is not None
        await self.session.statement_failed()

    # -- simple query -----------------------------------------------------------------------------

    async def _on_query(self, msg: m.Query, cached: Any = None) -> None:
        """The ordinary simple Query; `cached` = the plan cache's hit if server.fused found one."""
        session = self.session
        assert session is not None
        try:
            await session.simple_query(msg.sql, self, cached)
        except asyncio.CancelledError:
            if not self.closed:
                raise
            return
        except Exception as exc:  # noqa: BLE001 - any bug: XX000, keep serving
            self.write(enc.error_response(self.unexpected(exc)))
            await session.statement_failed()
        if self.closed:
            return
        self.ready_for_query()

    # -- extended query -----------------------------------------------------------------------

    async def _on_parse(self, msg: m.Parse) -> None:
        session = self.session
        assert session is not None
        try:
            await session.parse(msg.name, msg.query, msg.param_oids)
        except PgError as err:
            await self.extended_error(err)
            return
        except Exception as exc:  # noqa: BLE001
            await self.extended_error(self.unexpected(exc))
            return
        self.write(enc.PARSE_COMPLETE)

    async def _round_trip(self, trip: tuple[Any, ...]) -> None:
        """A whole round trip of the unnamed portal that the decoder peeked (Bind [Describe]
        Execute Sync) and server.fused could not answer: the same handlers as its messages one
        by one, without decoding them again. It is consumed first; an error ends it at its Sync
        (what skipping till Sync would have done), so the decoder never skips."""
        statement, param_formats, params, result_formats, max_rows, described = trip
        self.decoder.skip_execute_sync()
        if (await self._on_bind(m.Bind("", statement, param_formats, params, result_formats))
                and (not described or await self._on_describe(_DESCRIBE_UNNAMED_PORTAL))
                and not self.closed):
            await self._on_execute(m.Execute("", max_rows))
        if not self.closed:
            await self._on_sync(m.SYNC)

    async def _on_bind(self, msg: m.Bind) -> bool:
        """Bind; False: it failed (an ErrorResponse was written)."""
        session = self.session
        assert session is not None
        try:
            stmt = await session.statement_for_bind(msg.statement)
            pformats = msg.param_formats
            decoders = stmt.param_decoders.get(pformats)
            if decoders is None:
                expanded = formats.param_formats(pformats, len(stmt.param_types))
                decoders = stmt.param_decoders[pformats] = formats.param_decoders(stmt.param_types, expanded)
            if len(msg.params) != len(stmt.param_types):
                label = f'"{stmt.name}"' if stmt.name else '""'
                raise ProtocolViolationError(
                    f"bind message supplies {len(msg.params)} parameters, but prepared statement {label} "
                    f"requires {len(stmt.param_types)}")
            values = formats.decode_params(stmt.param_types, pformats, msg.params, msg.portal,
                                           decoders=decoders) if msg.params else ()
            ncols = len(stmt.columns) if stmt.columns is not None else 0
            portal = session.bind(msg.portal, stmt, values, formats.result_formats(msg.result_formats, ncols))
            self.results.prepare_portal(portal)
        except PgError as err:
            await self.extended_error(err)
            return False
        except Exception as exc:  # noqa: BLE001
            await self.extended_error(self.unexpected(exc))
            return False
        self.write(enc.BIND_COMPLETE)
        return True

    async def _on_describe(self, msg: m.Describe) -> bool:
        session = self.session
        assert session is not None
        try:
            if msg.kind == "S":
                param_types, columns = session.describe_statement(msg.name)
                self.write(enc.parameter_description(param_types))
                self.results.describe(columns, ())
            else:
                portal = session.describe_portal(msg.name)
                self.results.describe(portal.columns, portal.result_formats)
        except PgError as err:
            await self.extended_error(err)
            return False
        except Exception as exc:  # noqa: BLE001
            await self.extended_error(self.unexpected(exc))
            return False
        return True

    async def _on_execute(self, msg: m.Execute) -> None:
        session = self.session
        assert session is not None
        try:
            portal = session.names.portal(msg.portal)
            self.results.use_portal(portal)
            await session.execute(msg.portal, msg.max_rows, self)
        except PgError as err:
            await self.extended_error(err)
        except asyncio.CancelledError:
            if not self.closed:
                raise
        except Exception as exc:  # noqa: BLE001
            await self.extended_error(self.unexpected(exc))

    async def _on_close(self, msg: m.Close) -> None:
        assert self.session is not None
        self.session.close(msg.kind, msg.name)
        self.write(enc.CLOSE_COMPLETE)

    async def _on_sync(self, msg: m.Sync) -> None:
        session = self.session
        assert session is not None
        try:
            await session.sync()
        except PgError as err:
            self.write(enc.error_response(err))
        except Exception as exc:  # noqa: BLE001
            self.write(enc.error_response(self.unexpected(exc)))
            await session.statement_failed()
        self.ready_for_query()

    async def _on_flush(self, msg: m.Flush) -> None:
        self.flush()

    async def _on_terminate(self, msg: m.Terminate) -> None:
        self.close()

    async def _on_function_call(self, msg: m.FunctionCall) -> None:
        self.write(enc.error_response(FeatureNotSupported("fast-path function calls are not supported")))
        self.ready_for_query()

    # -- ResultSink -----------------------------------------------------------------------------

    def row_description(self, columns: Sequence[Any]) -> None:
        self.results.row_description(columns)

    def data_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self.results.data_rows(rows)
        if self.out_size > FLUSH_BYTES:
            self.flush()

    def command_complete(self, tag: str) -> None:
        self.write(enc.command_complete(tag))

    def empty_query(self) -> None:
        self.write(enc.EMPTY_QUERY_RESPONSE)

    def portal_suspended(self) -> None:
        self.write(enc.PORTAL_SUSPENDED)

    def notice(self, notice: PgError, severity: str) -> None:
        self.write(enc.notice_response(notice, severity))

    def error(self, err: PgError) -> None:
        self.write(enc.error_response(err))
        if isinstance(err, FatalError):  # e.g. a commit whose outcome is unknown: the session ends
            self.close()

    def copy_in_rows(self, tree: dict[str, Any], columns: Sequence[str], table: str) -> Any:
        """COPY FROM STDIN: an async iterator over the client's rows (fields as text or bytes)."""
        return self.copy.rows_in(tree, columns, table)

    def copy_out_begin(self, tree: dict[str, Any], columns: Sequence[Any]) -> None:
        self.copy.out_begin(tree, columns)

    def copy_out_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self.copy.out_rows(rows)
        if self.out_size > FLUSH_BYTES:
            self.flush()

    def copy_out_end(self) -> None:
        self.copy.out_end()

    def peer_host(self) -> str:
        if self.transport is None:
            return ""
        peer = self.transport.get_extra_info("peername")
        return str(peer[0]) if peer else ""

    def notify(self, pid: int, channel: str, payload: str) -> None:
        """A committed NOTIFY on a channel this session listens to. As in PostgreSQL it is
        delivered when the session is idle: now, or just before its next ReadyForQuery('I')."""
        message = enc.notification_response(pid, channel, payload)
        if self._busy or self.session is None or self.session.transaction_status != "I":
            self._notifications.append(message)
            return
        self.write(message)
        self.flush()
