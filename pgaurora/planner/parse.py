"""SQL text -> parse trees: pglast's JSON parse tree per statement, with its text and offset.

Owns turning a query string into ParsedStatement values and syntax errors (42601 with a 1-based
character position, as PostgreSQL reports them). Not binding or typing (binder), not planning.

pglast.parser.parse_sql_json is used rather than pglast.parse_sql: it is about 15x faster
(DESIGN.md §6) and a tree of plain dicts/lists is all the binder needs. Locations inside the
JSON are byte offsets into the UTF-8 query (`char_position()` maps them to characters); the
ParseError's location is already a character offset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pglast import parser as pg_parser

from pgaurora.errors import FeatureNotSupported, SyntaxError_

# Statement node name -> the command word used in CommandComplete tags and Plan.command.
COMMAND_WORDS: dict[str, str] = {
    "SelectStmt": "SELECT", "InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE",
    "CreateStmt": "CREATE TABLE", "DropStmt": "DROP", "IndexStmt": "CREATE INDEX",
    "CreateSeqStmt": "CREATE SEQUENCE", "AlterSeqStmt": "ALTER SEQUENCE", "ViewStmt": "CREATE VIEW",
    "CreateTableAsStmt": "CREATE TABLE AS", "TruncateStmt": "TRUNCATE TABLE", "AlterTableStmt": "ALTER TABLE",
    "TransactionStmt": "TRANSACTION", "VariableSetStmt": "SET", "VariableShowStmt": "SHOW",
    "ExplainStmt": "EXPLAIN", "CopyStmt": "COPY", "CreateSchemaStmt": "CREATE SCHEMA",
    "CreateRoleStmt": "CREATE ROLE", "AlterRoleStmt": "ALTER ROLE", "DropRoleStmt": "DROP ROLE",
    "CreatedbStmt": "CREATE DATABASE", "DropdbStmt": "DROP DATABASE", "PrepareStmt": "PREPARE",
    "ExecuteStmt": "EXECUTE", "DeallocateStmt": "DEALLOCATE", "RenameStmt": "ALTER",
    "VacuumStmt": "VACUUM", "DiscardStmt": "DISCARD", "DeclareCursorStmt": "DECLARE CURSOR",
    "FetchStmt": "FETCH", "ClosePortalStmt": "CLOSE CURSOR", "CommentStmt": "COMMENT",
    "LockStmt": "LOCK TABLE", "CheckPointStmt": "CHECKPOINT", "ListenStmt": "LISTEN",
    "NotifyStmt": "NOTIFY", "UnlistenStmt": "UNLISTEN", "GrantStmt": "GRANT", "GrantRoleStmt": "GRANT ROLE",
    "ReassignOwnedStmt": "REASSIGN OWNED", "DropOwnedStmt": "DROP OWNED",
    "DoStmt": "DO", "CreateEnumStmt": "CREATE TYPE", "CompositeTypeStmt": "CREATE TYPE", "AlterEnumStmt": "ALTER TYPE",
    "CreateFunctionStmt": "CREATE FUNCTION", "CreateExtensionStmt": "CREATE EXTENSION",
}


_ALTER_WORDS = {"OBJECT_INDEX": "ALTER INDEX", "OBJECT_VIEW": "ALTER VIEW", "OBJECT_SEQUENCE": "ALTER SEQUENCE",
                "OBJECT_MATVIEW": "ALTER MATERIALIZED VIEW", "OBJECT_TABLE": "ALTER TABLE"}


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """One statement of a query string.

    `node_type` is the pglast node name ('SelectStmt'), `tree` its JSON dict, `text` the statement's
    own text and `offset` its character offset in `query` (the whole string the client sent).
    """

    node_type: str
    tree: dict[str, Any]
    text: str
    offset: int
    query: str

    @property
    def command(self) -> str:
        if self.node_type in ("AlterTableStmt", "RenameStmt"):  # ALTER INDEX / VIEW / SEQUENCE ... as written
            kind = self.tree.get("objtype") if self.node_type == "AlterTableStmt" else self.tree.get("renameType")
            if self.node_type == "RenameStmt" and kind in ("OBJECT_COLUMN", "OBJECT_TABCONSTRAINT"):
                kind = self.tree.get("relationType")
            word = _ALTER_WORDS.get(kind or "")
            if word is not None:
                return word
        return COMMAND_WORDS.get(self.node_type, self.node_type.removesuffix("Stmt").upper())

    def char_position(self, byte_location: int | None) -> int | None:
        """1-based character position in `query` of a byte location from the parse tree."""
        if byte_location is None or byte_location < 0:
            return None
        if self.query.isascii():
            return byte_location + 1
        return len(self.query.encode("utf-8")[:byte_location].decode("utf-8", "ignore")) + 1


def _byte_to_char(query: str, encoded: bytes, byte_offset: int) -> int:
    if len(encoded) == len(query):
        return byte_offset
    return len(encoded[:byte_offset].decode("utf-8", "ignore"))


_TRANSACTION_TEXTS: dict[str, tuple[ParsedStatement, ...]] = {}  # exact text -> its statements
_TRANSACTION_TEXTS_MAX = 256


def _select_into(tree: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """SELECT ... INTO t ... is CREATE TABLE t AS SELECT ... (the INTO of a set operation's
    leftmost SELECT, as PostgreSQL takes it)."""
    leftmost = tree
    while leftmost.get("op", "SETOP_NONE") != "SETOP_NONE" and "larg" in leftmost:
        leftmost = leftmost["larg"]
    if "intoClause" not in leftmost:
        return "SelectStmt", tree
    into = leftmost.pop("intoClause")
    return "CreateTableAsStmt", {"query": {"SelectStmt": tree}, "into": into, "objtype": "OBJECT_TABLE"}


def parse(sql: str) -> list[ParsedStatement]:
    """Parses `sql` into statements; raises 42601 with PostgreSQL's message and position.

    A text of transaction control statements only (pgbench's BEGIN; and END; in every
    transaction) is parsed once: their trees are only read (session.utility_exec), and the
    same text always parses the same."""
    known = _TRANSACTION_TEXTS.get(sql)
    if known is not None:
        return list(known)
    try:
        raw = pg_parser.parse_sql_json(sql)
    except pg_parser.ParseError as exc:
        message = str(exc.args[0]) if exc.args else "syntax error"
        location = exc.args[1] if len(exc.args) > 1 else None
        if location is None:
            position = len(sql) + 1 if "end of input" in message else None
        else:
            position = int(location) + 1  # pglast reports a character offset here
        if "not yet implemented" in message or "is not implemented" in message:  # (gram.y: 0A000)
            raise FeatureNotSupported(message, position=position) from None
        raise SyntaxError_(message, position=position) from None
    document = json.loads(raw)
    encoded = sql.encode("utf-8")
    out: list[ParsedStatement] = []
    for raw_stmt in document.get("stmts", ()):
        node = raw_stmt["stmt"]
        node_type, tree = next(iter(node.items()))
        if node_type == "SelectStmt":
            node_type, tree = _select_into(tree)
        start = raw_stmt.get("stmt_location", 0)
        length = raw_stmt.get("stmt_len", 0)
        end = start + length if length else len(encoded)
        text_bytes = encoded[start:end]
        offset = _byte_to_char(sql, encoded, start)
        text = text_bytes.decode("utf-8", "ignore").strip()
        out.append(ParsedStatement(node_type, tree, text, offset, sql))
    if out and len(sql) <= 64 and all(stmt.node_type == "TransactionStmt" for stmt in out):
        if len(_TRANSACTION_TEXTS) >= _TRANSACTION_TEXTS_MAX:
            _TRANSACTION_TEXTS.clear()
        _TRANSACTION_TEXTS[sql] = tuple(out)
    return out


def parse_one(sql: str) -> ParsedStatement:
    """Parses a string that must hold exactly one statement (the extended protocol's Parse)."""
    stmts = parse(sql)
    if len(stmts) > 1:
        raise SyntaxError_("cannot insert multiple commands into a prepared statement")
    if not stmts:
        return ParsedStatement("EmptyQuery", {}, "", 0, sql)
    return stmts[0]
