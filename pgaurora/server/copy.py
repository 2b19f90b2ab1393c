"""COPY FROM STDIN / COPY TO STDOUT on one connection.

Owns the sub-protocol and its formats on the server side: CopyInResponse, then the client's
CopyData… until CopyDone|CopyFail, split into rows by wire's COPY parsers (text, CSV, binary)
while the statement consumes them; and CopyOutResponse, one CopyData per row formatted by
wire's COPY formatters, CopyDone. A client that disconnects mid-COPY ends the wait with an
error, so the statement fails and its transaction aborts: no partial rows remain.
Not what COPY does to tables (the planner's COPY plans, executor.copy), not the formats'
details (wire.copy, wire.copy_out, wire.copy_binary).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from pgaurora import datatypes
from pgaurora.errors import FeatureNotSupported, InvalidParameterValue, QueryCanceled, SyntaxError_
from pgaurora.wire import encoder as enc
from pgaurora.wire import messages as m
from pgaurora.wire.copy import CopyFormat, CopyInParser, CopyOptions
from pgaurora.wire.copy_binary import BinaryCopyInParser, BinaryCopyOutFormatter
from pgaurora.wire.copy_out import CopyOutFormatter

if TYPE_CHECKING:
    from pgaurora.server.connection import ClientConnection

FEED_BYTES = 65536  # COPY data parsed at once: buffered CopyData joined up to it, a bigger one cut


def _option_value(elem: dict[str, Any]) -> Any:
    arg = elem.get("arg")
    if arg is None:
        return True
    if "String" in arg:
        return arg["String"]["sval"]
    if "Integer" in arg:
        return arg["Integer"].get("ival", 0)
    if "Boolean" in arg:
        return bool(arg["Boolean"].get("boolval"))
    if "A_Star" in arg:
        return "*"
    if "List" in arg:
        return [item["String"]["sval"] for item in arg["List"].get("items", ())]
    return True


def _truthy(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("on", "true", "1", "yes"):
        return True
    if text in ("off", "false", "0", "no"):
        return False
    raise SyntaxError_(f"{name} requires a Boolean value")


def copy_options(tree: dict[str, Any], columns: Sequence[str]) -> CopyOptions:
    """COPY's WITH (...) options from the statement's parse tree (PostgreSQL's ProcessCopyOptions)."""
    values: dict[str, Any] = {}
    index = {name: i for i, name in enumerate(columns)}

    def positions(value: Any) -> frozenset[int]:
        return frozenset(index[c] for c in value if c in index) if isinstance(value, list) else frozenset()

    for option in tree.get("options", ()):
        elem = option["DefElem"]
        name = elem["defname"]
        value = _option_value(elem)
        if name == "format":
            try:
                values["format"] = CopyFormat(str(value).lower())
            except ValueError:
                raise InvalidParameterValue(f'COPY format "{value}" not recognized') from None
        elif name in ("delimiter", "null", "quote", "escape"):
            values[name] = str(value)
        elif name == "header":
            values["header"] = "match" if str(value).lower() == "match" else _truthy("header", value)
        elif name == "force_quote":
            values["force_quote"] = True if value == "*" else positions(value)
        elif name in ("force_not_null", "force_null"):
            values[name] = positions(value)
        elif name in ("freeze", "encoding", "oids"):
            continue
        else:
            raise SyntaxError_(f'option "{name}" not recognized')
    return CopyOptions(**values)


class CopyState:
    """Feeds CopyData to a COPY FROM STDIN statement; writes COPY TO STDOUT data."""

    __slots__ = ("conn", "waiting", "_out_formatter", "_out_encoders", "_out_binary", "_out_header")

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.waiting: asyncio.Future[None] | None = None
        self._out_formatter: Any = None
        self._out_encoders: list[Any] = []
        self._out_binary = False
        self._out_header = b""        # binary COPY: the signature travels with the first row

    def wake(self) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(None)

    async def on_stray(self, msg: Any) -> None:
        """CopyData/CopyDone/CopyFail outside COPY are dropped, as PostgreSQL does."""

    # -- COPY FROM STDIN ----------------------------------------------------------------------

    async def _chunks(self, overall_format: int, ncolumns: int) -> AsyncIterator[bytes | None]:
        """CopyInResponse, then the CopyData payloads, those already buffered joined into chunks
        of about FEED_BYTES (a client that sends a row per CopyData, as pgbench does, costs one
        parse per chunk, not per row); None at CopyDone. 57014 on CopyFail or when the client goes away
        before CopyDone."""
        conn = self.conn
        conn.write(enc.copy_in_response(overall_format, (overall_format,) * ncolumns))
        conn.flush()
        decoder = conn.decoder
        decoder.start_copy_in()
        pending: list[bytes] = []
        pending_bytes = 0
        while True:
            if conn.closed:
                raise QueryCanceled("canceling statement due to client disconnect during COPY")
            msg = decoder.next_event()
            if isinstance(msg, m.CopyData):
                pending.append(msg.data)
                pending_bytes += len(msg.data)
                if pending_bytes < FEED_BYTES:
                    continue
            if pending:
                chunk = b"".join(pending)
                pending, pending_bytes = [], 0
                yield chunk
                if msg is m.NEED_DATA or isinstance(msg, m.CopyData):
                    continue  # more may have come while the rows were inserted: look again
            if msg is m.NEED_DATA:
                self.waiting = conn.loop.create_future()
                try:
                    await self.waiting
                finally:
                    self.waiting = None
                continue
            if isinstance(msg, m.CopyDone):
                yield None
                return
            if isinstance(msg, m.CopyFail):
                raise QueryCanceled(f"COPY from stdin failed: {msg.message}")

    async def rows_in(self, tree: dict[str, Any], columns: Sequence[str], table: str) -> AsyncIterator[list[Any]]:
        """The COPY FROM rows (lists of fields, None for NULL), in batches: a list of the rows each
        chunk of the client's data completes."""
        options = copy_options(tree, columns)
        binary = options.format is CopyFormat.BINARY
        parser: Any = BinaryCopyInParser(columns, table) if binary else CopyInParser(options, columns, table)
        async for chunk in self._chunks(1 if binary else 0, len(columns)):
            if chunk is None:
                rows = parser.finish()
                if rows:
                    yield rows
                continue
            # a big CopyData (asyncpg sends hundreds of kilobytes in one) is parsed a slice at a
            # time, so that its rows are inserted, and the event loop turns, in between
            for start in range(0, len(chunk), FEED_BYTES):
                rows = parser.feed(chunk[start:start + FEED_BYTES] if len(chunk) > FEED_BYTES else chunk)
                if rows:
                    yield rows

    # -- COPY TO STDOUT -----------------------------------------------------------------------

    def out_begin(self, tree: dict[str, Any], columns: Sequence[Any]) -> None:
        names = [c.name for c in columns]
        options = copy_options(tree, names)
        if options.header == "match":
            raise FeatureNotSupported("cannot use \"match\" with HEADER in COPY TO")
        session = self.conn.session
        ctx = session.settings.format_context() if session is not None else None
        self._out_binary = options.format is CopyFormat.BINARY
        conn = self.conn
        if self._out_binary:
            self._out_formatter = BinaryCopyOutFormatter(len(columns))
            self._out_encoders = [datatypes.binary_encoder(c.type_oid) for c in columns]
            conn.write(enc.copy_out_response(1, (1,) * len(columns)))
            self._out_header = self._out_formatter.header()
        else:
            self._out_formatter = CopyOutFormatter(options, names)
            self._out_encoders = [datatypes.text_encoder(c.type_oid, ctx) for c in columns]
            conn.write(enc.copy_out_response(0, (0,) * len(columns)))
            header = self._out_formatter.header()
            if header:
                conn.write(enc.copy_data(header))

    def out_rows(self, rows: list[tuple[Any, ...]]) -> None:
        encoders = self._out_encoders
        row_bytes = self._out_formatter.row
        out = [enc.copy_data(row_bytes([None if v is None else e(v) for e, v in zip(encoders, row, strict=True)]))
               for row in rows]
        if self._out_header and out:
            # PostgreSQL sends the binary signature in the first row's CopyData (copyto.c).
            out[0] = enc.copy_data(self._out_header + out[0][5:])
            self._out_header = b""
        data = b"".join(out)
        self.conn.out.append(data)
        self.conn.out_size += len(data)

    def out_end(self) -> None:
        if self._out_binary:
            self.conn.write(enc.copy_data(self._out_header + self._out_formatter.trailer()))
            self._out_header = b""
        self.conn.write(enc.COPY_DONE)
        self._out_formatter = None
        self._out_encoders = []
