"""Statements the session answers itself: their parse trees read into plain values.

Owns reading the JSON parse trees (planner.parse) of transaction control, SET/SHOW/RESET,
PREPARE/EXECUTE/DEALLOCATE, DISCARD, CLOSE, LISTEN/UNLISTEN/NOTIFY, DECLARE/FETCH, and the
value rules of SET (flatten_set_variable_args in PostgreSQL's guc.c). Not running them
(session.session), not the parameters' checks (session.settings).
"""

from __future__ import annotations

import re
from typing import Any

from pgaurora.errors import FeatureNotSupported, SyntaxError_
from pgaurora.session.portals import Utility

UTILITY_NODES: dict[str, Utility] = {
    "TransactionStmt": Utility.TRANSACTION,
    "VariableSetStmt": Utility.SET,
    "VariableShowStmt": Utility.SHOW,
    "PrepareStmt": Utility.PREPARE,
    "ExecuteStmt": Utility.EXECUTE,
    "DeallocateStmt": Utility.DEALLOCATE,
    "DiscardStmt": Utility.DISCARD,
    "ClosePortalStmt": Utility.CLOSE,
    "ListenStmt": Utility.LISTEN,
    "UnlistenStmt": Utility.UNLISTEN,
    "NotifyStmt": Utility.NOTIFY,
    "DeclareCursorStmt": Utility.DECLARE,
    "FetchStmt": Utility.FETCH,
    "ConstraintsSetStmt": Utility.CONSTRAINTS,
}

# Statements that may run in a failed transaction block (PostgreSQL's IsTransactionExitStmt).
EXIT_KINDS = frozenset({"TRANS_STMT_COMMIT", "TRANS_STMT_PREPARE", "TRANS_STMT_ROLLBACK",
                        "TRANS_STMT_ROLLBACK_TO"})

_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")
CURSOR_OPT_HOLD = 0x0020


def outside_block_only(node_type: str, tree: dict[str, Any]) -> str | None:
    """The command name when a statement must not run inside a transaction block
    (PostgreSQL's PreventInTransactionBlock callers), else None."""
    if node_type == "VacuumStmt":
        return "VACUUM" if tree.get("is_vacuumcmd") else None
    if node_type == "CreatedbStmt":
        return "CREATE DATABASE"
    if node_type == "DropdbStmt":
        return "DROP DATABASE"
    if node_type == "AlterSystemStmt":
        return "ALTER SYSTEM"
    if node_type == "IndexStmt" and tree.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if node_type == "ReindexStmt" and any(
            p.get("DefElem", {}).get("defname") == "concurrently" for p in tree.get("params", ())):
        return "REINDEX CONCURRENTLY"
    return None


def is_transaction_exit(node_type: str, tree: dict[str, Any]) -> bool:
    return node_type == "TransactionStmt" and tree.get("kind") in EXIT_KINDS


def quote_identifier(name: str) -> str:
    if _PLAIN_IDENT.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def const_text(node: dict[str, Any]) -> str | None:
    """The text of a constant argument of SET/EXECUTE (None for NULL), or raises 0A000."""
    if "A_Const" in node:
        const = node["A_Const"]
        if const.get("isnull"):
            return None
        if "sval" in const:
            return str(const["sval"].get("sval", ""))
        if "ival" in const:
            return str(const["ival"].get("ival", 0))
        if "fval" in const:
            return str(const["fval"].get("fval", "0"))
        if "boolval" in const:
            return "true" if const["boolval"].get("boolval") else "false"
        if "bsval" in const:
            return str(const["bsval"].get("bsval", ""))
        return "0"
    if "TypeCast" in node:
        inner = node["TypeCast"]["arg"]
        return const_text(inner)
    raise FeatureNotSupported("only constant values are supported here")


def set_value(name: str, args: list[dict[str, Any]]) -> str:
    """The string a SET statement assigns (several arguments are joined with ', ')."""
    values = []
    for arg in args:
        text = const_text(arg)
        if text is None:
            raise SyntaxError_("syntax error at or near \"NULL\"")
        if name.lower() == "search_path" and "A_Const" in arg and "sval" in arg["A_Const"]:
            text = quote_identifier(text)
        values.append(text)
    if len(values) > 1 and name.lower() not in ("search_path", "datestyle", "temp_tablespaces") and "." not in name:
        raise SyntaxError_(f"SET {name} takes only one argument")
    return ", ".join(values)


def transaction_options(options: list[dict[str, Any]] | None) -> tuple[str | None, bool | None, bool | None]:
    """(isolation, read_only, deferrable) from BEGIN/SET TRANSACTION options."""
    isolation = read_only = deferrable = None
    for option in options or ():
        elem = option.get("DefElem", {})
        value = const_text(elem["arg"]) if "arg" in elem else None
        name = elem.get("defname")
        if name == "transaction_isolation":
            isolation = (value or "").lower()
        elif name == "transaction_read_only":
            read_only = value in ("1", "true", "on")
        elif name == "transaction_deferrable":
            deferrable = value in ("1", "true", "on")
    return isolation, read_only, deferrable


def type_name_text(type_node: dict[str, Any]) -> str:
    """A TypeName parse tree back to SQL text (for PREPARE's parameter types)."""
    tn = type_node.get("TypeName", type_node)
    names = [n["String"]["sval"] for n in tn.get("names", ())]
    if names and names[0] == "pg_catalog" and len(names) > 1:
        names = names[1:]
    text = ".".join(names)
    if tn.get("arrayBounds"):
        text += "[]" * len(tn["arrayBounds"])
    return text
