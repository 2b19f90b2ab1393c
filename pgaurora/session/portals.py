"""Prepared statements and portals: the named objects of the extended query protocol.

Owns what Parse, Bind, Describe and Close create and destroy, and the SQL-level PREPARE,
DECLARE CURSOR names that share them. Not execution (session.session), not value encoding
(wire.formats: the server attaches its per-portal row encoder to `Portal.row_encoder`).

    Parse(name, sql) ──► PreparedStatement ──Bind(params)──► Portal ──Execute(n)──► rows
                          (plan cached once)                 (cursor kept open until done)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from pgaurora.errors import (
    DuplicateCursor,
    DuplicatePreparedStatement,
    InvalidCursorName,
    InvalidSqlStatementName,
)


class Utility(enum.Enum):
    """Statements the session runs itself instead of handing them to the planner."""

    TRANSACTION = "transaction"
    SET = "set"
    SHOW = "show"
    PREPARE = "prepare"
    EXECUTE = "execute"
    DEALLOCATE = "deallocate"
    DISCARD = "discard"
    CLOSE = "close"
    LISTEN = "listen"
    UNLISTEN = "unlisten"
    NOTIFY = "notify"
    DECLARE = "declare"
    FETCH = "fetch"
    CONSTRAINTS = "constraints"  # SET CONSTRAINTS


# Column descriptions are the planner's: (name, type oid, typmod, table oid, attnum) tuples.
Column = tuple[str, int, int, int, int]

TEXT_OID = 25


@dataclass(slots=True, eq=False)
class PreparedStatement:
    """A parsed (and, unless it is a utility statement, planned) statement."""

    name: str
    sql: str
    parsed: Any                      # planner.ParsedStatement, or None for an empty query
    node: Any                        # the pglast statement node (for utility statements)
    utility: Utility | None
    param_types: tuple[int, ...]
    plan: Any = None                 # planner Plan, cached for reuse by every Bind
    columns: tuple[Column, ...] | None = None
    catalog_version: int = -1
    path_key: tuple[str | None, ...] = ()  # Settings.path_key it was planned with
    from_sql: bool = False           # created by SQL PREPARE (listed in pg_prepared_statements)
    param_decoders: dict[Any, Any] = field(default_factory=dict)   # the server's, by format codes
    fast: Any = None                 # executor FastPlan of `plan` (session.fastpath), or None
    fast_reply: Any = None           # the server's row encoder for fused replies, by result formats


@dataclass(slots=True, eq=False)
class Portal:
    """A statement bound to parameter values; may be executed a few rows at a time."""

    name: str
    statement: PreparedStatement
    params: tuple[Any, ...]
    result_formats: tuple[int, ...]
    columns: tuple[Column, ...] | None
    plan: Any = None
    cursor: Any = None               # executor cursor once execution started
    done: bool = False
    tag: str | None = None
    buffered: list[tuple[Any, ...]] | None = None   # rows of a utility result (SHOW) not yet sent
    row_encoder: Any = None          # set by the server: encodes one row into a DataRow
    holdable: bool = False           # DECLARE ... WITH HOLD
    from_sql: bool = False           # DECLARE CURSOR (closed by CLOSE ALL)
    position: int = 0                # rows already fetched by FETCH/MOVE (cursors)
    sql_cursor: Any = None           # session.cursors.SqlCursor of a DECLAREd cursor


class Namespace:
    """The statements and portals of one session, with PostgreSQL's error messages."""

    __slots__ = ("statements", "portals")

    def __init__(self) -> None:
        self.statements: dict[str, PreparedStatement] = {}
        self.portals: dict[str, Portal] = {}

    def add_statement(self, stmt: PreparedStatement) -> None:
        if stmt.name and stmt.name in self.statements:
            raise DuplicatePreparedStatement(f'prepared statement "{stmt.name}" already exists')
        self.statements[stmt.name] = stmt

    def statement(self, name: str) -> PreparedStatement:
        stmt = self.statements.get(name)
        if stmt is None:
            if name == "":
                raise InvalidSqlStatementName("unnamed prepared statement does not exist")
            raise InvalidSqlStatementName(f'prepared statement "{name}" does not exist')
        return stmt

    def add_portal(self, portal: Portal) -> None:
        if portal.name:
            if portal.name in self.portals:
                raise DuplicateCursor(f'cursor "{portal.name}" already exists')
        else:
            self.portals.pop("", None)
        self.portals[portal.name] = portal

    def portal(self, name: str) -> Portal:
        portal = self.portals.get(name)
        if portal is None:
            if name == "":
                raise InvalidCursorName("portal \"\" does not exist")
            raise InvalidCursorName(f'portal "{name}" does not exist')
        return portal

    def cursor(self, name: str) -> Portal:
        portal = self.portals.get(name)
        if portal is None:
            raise InvalidCursorName(f'cursor "{name}" does not exist')
        return portal

    def drop_portals_at_end_of_transaction(self) -> None:
        """Portals live until the end of their transaction, except WITH HOLD cursors."""
        portals = self.portals
        if portals:
            if len(portals) == 1 and "" in portals:
                portals.clear()
            else:
                self.portals = {n: p for n, p in portals.items() if p.holdable}
