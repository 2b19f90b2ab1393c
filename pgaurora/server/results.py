"""Result sets to bytes: RowDescription, DataRow and NoData for one connection.

Owns choosing, once per portal (or once per plan for simple queries), the row encoder for a
result's column types and format codes, and caching the RowDescription bytes with it, so
that the per-row path is one call. The encoders themselves are wire.formats'. Not the
values' text/binary forms (datatypes), not the other messages (server.connection).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pgaurora.datatypes import lookup as lookup_type
from pgaurora.wire import encoder as enc
from pgaurora.wire import formats

if TYPE_CHECKING:
    from pgaurora.server.connection import ClientConnection
    from pgaurora.session.portals import Portal

_CACHE_LIMIT = 256


def _typlen(oid: int) -> int:
    try:
        return int(lookup_type(oid).typlen)
    except Exception:  # noqa: BLE001 - an unknown oid is described as variable length
        return -1


def describe_fields(columns: Sequence[Any], result_formats: Sequence[int]) -> list[tuple[str, int, int, int, int, int, int]]:
    nformats = len(result_formats)
    return [(c.name, c.table_oid, c.attnum, c.type_oid, _typlen(c.type_oid), c.typmod,
             result_formats[i] if i < nformats else 0) for i, c in enumerate(columns)]


class ResultEncoder:
    """Per-connection cache of (RowDescription bytes, row encoder) by result shape."""

    __slots__ = ("conn", "_cache", "_by_shape", "_current", "_ctx")

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self._cache: dict[tuple[int, tuple[int, ...]], tuple[Any, bytes, Any]] = {}
        self._by_shape: dict[tuple[Any, ...], tuple[bytes, Any]] = {}
        self._current: Any = None
        self._ctx: Any = None

    def _format_context(self) -> Any:
        """The settings that change text output (DateStyle, TimeZone, extra_float_digits...)."""
        session = self.conn.session
        assert session is not None
        ctx = session.settings.format_context()
        if ctx is not self._ctx:
            if self._ctx is None or ctx != self._ctx:
                self._cache.clear()
                self._by_shape.clear()
            self._ctx = ctx
        return ctx

    def _entry(self, columns: Sequence[Any], result_formats: tuple[int, ...]) -> tuple[Any, bytes, Any]:
        ctx = self._format_context()
        key = (id(columns), result_formats)
        entry = self._cache.get(key)
        if entry is not None and entry[0] is columns:
            return entry
        # A new columns object (a fresh plan): same shape, same bytes and encoder.
        shape = (tuple(columns), result_formats)
        found = self._by_shape.get(shape)
        if found is None:
            fields = describe_fields(columns, result_formats)
            encoder = formats.RowEncoder([c.type_oid for c in columns], result_formats, ctx)
            found = (enc.row_description(fields), encoder.rows)
            if len(self._by_shape) >= _CACHE_LIMIT:
                self._by_shape.clear()
            self._by_shape[shape] = found
        entry = (columns, found[0], found[1])
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = entry
        return entry

    entry = _entry  # (columns, RowDescription bytes, rows encoder) for a result shape

    # -- simple query -----------------------------------------------------------------------------

    def row_description(self, columns: Sequence[Any]) -> None:
        """Simple query: RowDescription (all text) and the encoder for the rows that follow."""
        entry = self._entry(columns, (0,) * len(columns))
        self._current = entry[2]
        self.conn.write(entry[1])

    def data_rows(self, rows: list[tuple[Any, ...]]) -> None:
        data = self._current(rows)
        self.conn.out.append(data)
        self.conn.out_size += len(data)

    # -- extended protocol --------------------------------------------------------------------------

    def prepare_portal(self, portal: Portal) -> None:
        if portal.columns is not None:
            portal.row_encoder = self._entry(portal.columns, portal.result_formats)

    def use_portal(self, portal: Portal) -> None:
        entry = portal.row_encoder
        if entry is None and portal.columns is not None:
            entry = portal.row_encoder = self._entry(portal.columns, portal.result_formats)
        if entry is not None:
            self._current = entry[2]

    def describe(self, columns: Sequence[Any] | None, result_formats: Sequence[int]) -> None:
        """Describe: RowDescription, or NoData for a statement without rows."""
        if columns is None:
            self.conn.write(enc.NO_DATA)
            return
        formats_ = tuple(result_formats) if result_formats else (0,) * len(columns)
        self.conn.write(self._entry(columns, formats_)[1])
