"""FrontendDecoder: bytes from a client in, frontend messages out (sans-I/O).

Owns framing (start-up packets without a type byte, then type byte + int32 length), the
checks PostgreSQL makes while framing (length limits, type bytes allowed in the current
phase) and the connection phase (wire.protocol). Not the message bodies (wire.bodies,
wire.startup), not what the messages mean (session), not sockets (server).

    decoder.receive_data(chunk)
    while (msg := decoder.next_event()) is not NEED_DATA:
        ...                         # a PgError from next_event: send ErrorResponse; if it is
                                    # a FatalError, close; otherwise keep calling next_event

Errors follow PostgreSQL: a bad length or type byte is FATAL (ProtocolViolation) and the
decoder stops; a bad body is an ERROR for that message only: the message is consumed, and
when it belongs to the extended protocol the decoder skips everything up to the next Sync,
as postgres.c does.

Speed: the buffer is an immutable `bytes` read with offsets, so a chunk holding
Bind/Execute/Sync is decoded without copying it; a message larger than the bytes at hand is
gathered as a list of chunks and joined once; the current phase's table (type byte ->
action, length limit) is one dict lookup per message. A whole Bind [Describe] Execute Sync round
trip of the unnamed portal can be read in one call without message objects (peek_round_trip),
for the server's fused replies; the next round trip with the same bytes but for its parameter
value (a client repeating a prepared statement) is recognised by comparing bytes (_TripShape).
"""

from __future__ import annotations

import struct
from typing import Final

from pgaurora.errors import PgError, ProtocolViolation, ProtocolViolationError
from pgaurora.wire import messages as m
from pgaurora.wire.bodies import BODY_DECODERS, bind_fields, decode_text, invalid_utf8
from pgaurora.wire.protocol import EXTENDED_TYPES, MESSAGE_LIMITS, PHASE_TABLES, Action, Phase, reject_message
from pgaurora.wire.startup import packet_length, startup_packet

__all__ = ["FrontendDecoder", "decode_text", "invalid_utf8"]

_INT32: Final = struct.Struct("!i")
_CHUNKED_ABOVE: Final = 65536  # a message larger than this is gathered as a list of chunks
_DECODE: Final = Action.DECODE
_IGNORE: Final = Action.IGNORE
_SYNC: Final = ord("S")
_EXECUTE: Final = ord("E")
_QUERY: Final = ord("Q")
_BIND: Final = ord("B")
_BIND_LIMIT: Final = MESSAGE_LIMITS[_BIND]
_EXECUTE_UNNAMED: Final = b"E\0\0\0\x09\0"    # Execute, length 9, portal "" (then int32 max_rows)
_SYNC_MESSAGE: Final = b"S\0\0\0\x04"
_DESCRIBE_UNNAMED_PORTAL: Final = b"D\0\0\0\x06P\0"  # Describe, length 6, portal ""
_EXECUTE_SYNC_SIZE: Final = len(_EXECUTE_UNNAMED) + 4 + len(_SYNC_MESSAGE)


class FrontendDecoder:
    """Frames and decodes one client connection's byte stream; see the module docstring.

    The server drives the phases the decoder cannot see by itself: `authenticated()` once the
    client is in, `start_copy_in()` after sending CopyInResponse, `error_occurred()` after
    answering a message with an ErrorResponse (so that an extended-query error skips to Sync).
    """

    __slots__ = (
        "_buf", "_pos", "_chunks", "_chunks_len", "_need", "_phase", "_table", "auth_response",
        "_last_type", "_copy_from_extended", "_pending_fatal", "_ssl_done", "_gss_done", "_peeked", "_shape",
    )

    def __init__(self, phase: Phase = Phase.STARTUP) -> None:
        self._buf = b""
        self._pos = 0
        self._chunks: list[bytes] = []
        self._chunks_len = 0
        # bytes the message at _pos needs in all, as next_event last found it waiting (0 = not
        # known): reset whenever _pos moves past it or the buffer is replaced, so that
        # receive_data never takes a message already returned for the one now at _pos
        self._need = 0
        self._phase = phase
        self._table = PHASE_TABLES[phase]
        self.auth_response = "password"  # "password" or "SASL": named in a wrong-type error
        self._last_type = 0
        self._copy_from_extended = False
        self._pending_fatal: ProtocolViolation | None = None
        self._ssl_done = False
        self._gss_done = False
        self._peeked = 0  # bytes peek_execute_sync found
        self._shape: _TripShape | None = None  # the last round trip peek_round_trip decoded

    @property
    def phase(self) -> Phase:
        return self._phase

    def _enter(self, phase: Phase) -> None:
        self._phase = phase
        self._table = PHASE_TABLES[phase]

    # --- input -------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Append bytes read from the client."""
        if not data:
            return
        if self._chunks:
            self._chunks.append(bytes(data))
            self._chunks_len += len(data)
            if self._chunks_len >= self._need:
                self._buf = b"".join(self._chunks)
                self._pos = 0
                self._chunks = []
                self._chunks_len = 0
            return
        rest = len(self._buf) - self._pos
        if rest == 0:
            self._buf = bytes(data)
            self._pos = 0
            self._need = 0
        elif self._need > rest + len(data) and self._need > _CHUNKED_ABOVE:
            self._chunks = [self._buf[self._pos :], bytes(data)]
            self._chunks_len = rest + len(data)
            self._buf = b""
            self._pos = 0
        else:
            self._buf = self._buf[self._pos :] + data
            self._pos = 0

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as messages (e.g. data sent after SSLRequest)."""
        return len(self._buf) - self._pos + self._chunks_len

    # --- phases the server drives ------------------------------------------------------------

    def authenticated(self) -> None:
        """Authentication succeeded: regular messages from now on."""
        if self._phase is Phase.AUTHENTICATING:
            self._enter(Phase.READY)

    def start_copy_in(self) -> None:
        """The server sent CopyInResponse: read CopyData/CopyDone/CopyFail."""
        self._copy_from_extended = self._last_type == _EXECUTE
        self._enter(Phase.COPY_IN)

    def error_occurred(self) -> None:
        """The server answered the last message with an ErrorResponse (severity ERROR)."""
        if self._phase is Phase.COPY_IN:
            self._leave_copy()
        elif self._phase is Phase.READY and self._last_type in EXTENDED_TYPES:
            self._enter(Phase.SKIP_TILL_SYNC)

    def close(self) -> None:
        self._enter(Phase.CLOSED)

    def _leave_copy(self) -> None:
        self._enter(Phase.SKIP_TILL_SYNC if self._copy_from_extended else Phase.READY)

    # --- output ------------------------------------------------------------------------------

    def next_event(self) -> m.FrontendMessage | m.NeedData:
        """The next complete message, or NEED_DATA. Raises PgError for bad input."""
        if self._pending_fatal is not None:
            fatal, self._pending_fatal = self._pending_fatal, None
            self._enter(Phase.CLOSED)
            raise fatal
        if self._chunks:
            return m.NEED_DATA
        table = self._table
        if not table:  # STARTUP and CLOSED have no typed messages
            if self._phase is Phase.STARTUP:
                return self._startup_packet()
            return m.NEED_DATA
        buf = self._buf
        size = len(buf)
        while True:
            pos = self._pos
            if pos >= size:
                self._need = 0
                return m.NEED_DATA
            type_byte = buf[pos]
            entry = table.get(type_byte)
            if entry is None:
                return self._reject(type_byte)
            if size - pos < 5:
                self._need = 5
                return m.NEED_DATA
            length = _INT32.unpack_from(buf, pos + 1)[0]
            if length < 4 or length > entry[1]:
                self._enter(Phase.CLOSED)
                raise ProtocolViolation("invalid message length")
            end = pos + 1 + length
            if end > size:
                self._need = length + 1
                return m.NEED_DATA
            self._pos = end
            self._need = 0
            if entry[0] is _IGNORE:
                continue
            try:
                message = BODY_DECODERS[type_byte](buf, pos + 5, end)
            except PgError:
                self._body_error(type_byte)
                raise
            after = entry[2]
            if after is None:
                self._last_type = type_byte
                return message
            if self._phase is Phase.COPY_IN:  # CopyDone or CopyFail end the COPY
                # an error reported for the COPY now counts as one for the message that began it
                self._last_type = _EXECUTE if self._copy_from_extended else _QUERY
            else:
                self._last_type = type_byte
            self._enter(after)
            return message

    def next_type(self) -> int | None:
        """The type byte of the next message once it is wholly buffered (READY phase only; a bad
        length is reported by next_event), else None. Lets the server choose a path first."""
        pos = self._pos
        buf = self._buf
        if self._phase is not Phase.READY or self._chunks or len(buf) - pos < 5 or self._pending_fatal:
            return None
        if pos + 1 + _INT32.unpack_from(buf, pos + 1)[0] > len(buf):
            return None
        return buf[pos]

    def peek_execute_sync(self) -> tuple[int, bool] | None:
        """After a Bind: when the next buffered messages are exactly Execute of the unnamed portal
        and Sync (asyncpg), or Describe of that portal first (libpq: psql, psycopg, pgbench),
        (the Execute's row limit, whether a Describe comes first); else None. Nothing is
        consumed: `skip_execute_sync()` does that once the server has answered them all."""
        if self._phase is not Phase.READY:
            return None
        found = self._execute_sync_at(self._buf, self._pos)
        if found is None:
            return None
        self._peeked = found[0] - self._pos
        return found[1], found[2]

    def peek_round_trip(self) -> tuple[str, tuple[int, ...], tuple[bytes | None, ...], tuple[int, ...], int,
                                       bool] | None:
        """When the buffered input starts with a whole round trip of the unnamed portal --
        Bind("", statement) [+ Describe of the portal] + Execute of it + Sync, each well formed --
        (statement, param_formats, params, result_formats, the Execute's row limit, whether a
        Describe comes first); else None, and next_event() decodes the messages one by one with
        every check and error. Nothing is consumed: `skip_execute_sync()` consumes the round trip
        once the server has answered it, without a message object for any of its parts."""
        buf = self._buf
        pos = self._pos
        shape = self._shape
        if shape is not None and self._phase is Phase.READY:
            # The client sends the same round trip again with another value: compare bytes.
            trip = shape.match(buf, pos)
            if trip is not None:
                self._peeked = shape.size
                return trip
        if (len(buf) - pos < 6 or buf[pos] != _BIND or buf[pos + 5] != 0 or self._phase is not Phase.READY
                or self._chunks):
            return None
        length = _INT32.unpack_from(buf, pos + 1)[0]
        end = pos + 1 + length
        if length < 4 or length > _BIND_LIMIT or end > len(buf):
            return None
        found = self._execute_sync_at(buf, end)
        if found is None:
            return None
        try:
            _, statement, param_formats, params, result_formats = bind_fields(buf, pos + 5, end)
        except PgError:
            return None
        self._peeked = found[0] - pos
        trip = statement, param_formats, params, result_formats, found[1], found[2]
        if len(params) <= 1 and None not in params:
            self._shape = _TripShape(buf, pos, end, found[0], trip)
        return trip

    @staticmethod
    def _execute_sync_at(buf: bytes, pos: int) -> tuple[int, int, bool] | None:
        """[Describe("P", "")] Execute("", n) Sync at `pos`: (the offset after them, n, whether
        the Describe is there), else None."""
        described = buf.startswith(_DESCRIBE_UNNAMED_PORTAL, pos)
        if described:
            pos += len(_DESCRIBE_UNNAMED_PORTAL)
        if (len(buf) - pos < _EXECUTE_SYNC_SIZE or not buf.startswith(_EXECUTE_UNNAMED, pos)
                or not buf.startswith(_SYNC_MESSAGE, pos + len(_EXECUTE_UNNAMED) + 4)):
            return None
        return pos + _EXECUTE_SYNC_SIZE, int(_INT32.unpack_from(buf, pos + len(_EXECUTE_UNNAMED))[0]), described

    def skip_execute_sync(self) -> None:
        """Consumes the messages that `peek_execute_sync` or `peek_round_trip` found."""
        self._pos += self._peeked
        self._need = 0
        self._last_type = _SYNC

    def drained(self) -> bool:
        """Every byte received was consumed and regular messages are expected (READY): the
        server may flush and wait for the client."""
        return self._pos >= len(self._buf) and not self._chunks and self._phase is Phase.READY

    def _body_error(self, type_byte: int) -> None:
        if self._phase is Phase.COPY_IN:
            self._leave_copy()
            return
        self._last_type = type_byte
        if type_byte == _SYNC:  # a Sync ends skipping even when its own body is bad
            self._enter(Phase.READY)
        elif self._phase is Phase.READY and type_byte in EXTENDED_TYPES:
            self._enter(Phase.SKIP_TILL_SYNC)

    def _reject(self, type_byte: int) -> m.NeedData:
        text = reject_message(self._phase, type_byte, self.auth_response)
        if self._phase is Phase.COPY_IN:
            # copyfromparse.c raises ERROR before reading the body; postgres.c then finds the
            # stream out of step and ends the connection.
            self._leave_copy()
            self._pending_fatal = ProtocolViolation(
                "terminating connection because protocol synchronization was lost"
            )
            raise ProtocolViolationError(text)
        self._enter(Phase.CLOSED)
        raise ProtocolViolation(text)

    def _startup_packet(self) -> m.FrontendMessage | m.NeedData:
        buf, pos = self._buf, self._pos
        if len(buf) - pos < 4:
            self._need = 4
            return m.NEED_DATA
        try:
            length = packet_length(buf, pos)
            if len(buf) - pos < length:
                self._need = length
                return m.NEED_DATA
            self._pos = pos + length
            self._need = 0
            message = startup_packet(buf[pos : pos + length], self._ssl_done, self._gss_done)
        except PgError:
            self._enter(Phase.CLOSED)
            raise
        if message is m.SSL_REQUEST:
            self._ssl_done = True
        elif message is m.GSSENC_REQUEST:
            self._gss_done = True
        elif isinstance(message, m.CancelRequest):
            self._enter(Phase.CLOSED)
        else:
            self._enter(Phase.AUTHENTICATING)
        return message


class _TripShape:
    """The bytes of a round trip that peek_round_trip decoded, but for its one parameter value:
    a client repeating a prepared statement (pgbench, asyncpg) sends the same Bind header, format
    codes, Describe, Execute and Sync every time, so the next round trip is recognised by
    comparing bytes (no field decoding) and only the value is cut out.

        Bind: 'B' length | head (names, formats, count, then the value's int32 length) | value | tail
              tail: the result format codes, then [Describe] Execute Sync
        no parameter: the whole round trip is `head`.
    """

    __slots__ = ("head", "value_at", "tail", "fixed", "size", "trip")

    def __init__(self, buf: bytes, pos: int, end: int, after: int,
                 trip: tuple[str, tuple[int, ...], tuple[bytes | None, ...], tuple[int, ...], int, bool]) -> None:
        params = trip[2]
        self.trip = trip
        self.size = after - pos  # the bytes of the last round trip (a match's own size: see match)
        if not params:
            self.head = buf[pos:after]
            self.value_at = 0
            self.tail = b""
            self.fixed = 0
            return
        value = params[0]
        assert value is not None
        value_end = end - 2 - 2 * len(trip[3])  # the result format codes follow the value
        value_at = value_end - len(value)
        self.head = buf[pos + 5 : value_at - 4]
        self.value_at = value_at - pos
        self.tail = buf[value_end:after]
        self.fixed = end - pos - 1 - len(value)  # the Bind's length without its value

    def match(self, buf: bytes, pos: int) -> tuple[str, tuple[int, ...], tuple[bytes | None, ...], tuple[int, ...],
                                                   int, bool] | None:
        """The round trip at `pos` when it has this shape (setting `size` to its length), else None."""
        if not self.value_at:
            return self.trip if buf.startswith(self.head, pos) else None
        value_at = pos + self.value_at
        if len(buf) < value_at or buf[pos] != _BIND or not buf.startswith(self.head, pos + 5):
            return None
        length = _INT32.unpack_from(buf, value_at - 4)[0]
        value_end = value_at + length
        if (length < 0 or _INT32.unpack_from(buf, pos + 1)[0] != self.fixed + length
                or self.fixed + length > _BIND_LIMIT or not buf.startswith(self.tail, value_end)):
            return None
        self.size = value_end + len(self.tail) - pos
        trip = self.trip
        return trip[0], trip[1], (buf[value_at:value_end],), trip[3], trip[4], trip[5]
