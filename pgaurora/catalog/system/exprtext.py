"""Operator expressions as ruleutils.c prints them: where the parentheses go.

Owns re-printing an expression's SQL text (a generated column's expression, a view's WHERE
clause) the two ways PostgreSQL does. Without pretty-printing every operator, boolean and
NULL-test expression is parenthesized: `(((a + 1) * 2) - b)`. Pretty mode (pg_get_expr(..., true),
what psql shows) keeps only the parentheses precedence needs (isSimpleNode): `(a + 1) * 2 - b`,
`(a + 1) > 10 AND NOT b < 2`. Leaves (columns, constants, function calls, casts) are printed by
pglast as they are. Not implicit casts (the stored text has none), not other node kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Stream = Callable[[Any], str]
_LOW_PRIORITY = frozenset("+-")
_HIGH_PRIORITY = frozenset("*/%")


def _binary_op(node: Any) -> str | None:
    from pglast import ast

    if isinstance(node, ast.A_Expr) and node.kind.name == "AEXPR_OP" and node.lexpr is not None \
            and node.rexpr is not None and len(node.name) == 1:
        return str(node.name[-1].sval)
    return None


def parenthesized_tree(node: Any, stream: Stream) -> str:
    """ruleutils without pretty-printing: every operator and boolean expression in parentheses."""
    from pglast import ast

    op = _binary_op(node)
    if op is not None:
        return f"({parenthesized_tree(node.lexpr, stream)} {op} {parenthesized_tree(node.rexpr, stream)})"
    if isinstance(node, ast.NullTest):
        test = "IS NOT NULL" if node.nulltesttype.name == "IS_NOT_NULL" else "IS NULL"
        return f"({parenthesized_tree(node.arg, stream)} {test})"
    if isinstance(node, ast.BoolExpr):
        args = [parenthesized_tree(a, stream) for a in node.args]
        if node.boolop.name == "NOT_EXPR":
            return f"(NOT {args[0]})"
        return "(" + (" AND " if node.boolop.name == "AND_EXPR" else " OR ").join(args) + ")"
    return stream(node)


def _needs_no_parentheses(node: Any, parent: Any, is_left: bool) -> bool:
    """isSimpleNode with PRETTYFLAG_PAREN for the node kinds printed here."""
    from pglast import ast

    if parent is None or not isinstance(node, ast.A_Expr | ast.BoolExpr | ast.NullTest) or (
            isinstance(node, ast.A_Expr) and _binary_op(node) is None):
        return True
    op = _binary_op(node)
    if op is not None:
        parent_op = _binary_op(parent)
        if parent_op is not None:
            low, high = op[0] in _LOW_PRIORITY and len(op) == 1, op[0] in _HIGH_PRIORITY and len(op) == 1
            parent_low = parent_op[0] in _LOW_PRIORITY and len(parent_op) == 1
            parent_high = parent_op[0] in _HIGH_PRIORITY and len(parent_op) == 1
            if not (low or high) or not (parent_low or parent_high):
                return False
            if high and parent_low:
                return True
            if low and parent_high:
                return False
            return is_left  # (a - b) - c, but a - (b - c)
        return isinstance(parent, ast.BoolExpr)
    if isinstance(node, ast.NullTest):
        return isinstance(parent, ast.BoolExpr)
    if isinstance(parent, ast.BoolExpr) and isinstance(node, ast.BoolExpr):
        kind, parent_kind = node.boolop.name, parent.boolop.name
        if kind in ("NOT_EXPR", "AND_EXPR"):
            return parent_kind in ("AND_EXPR", "OR_EXPR")
        return parent_kind == "OR_EXPR"
    return False


def pretty_tree(node: Any, stream: Stream, parent: Any = None, is_left: bool = False) -> str:
    """ruleutils in pretty mode: parentheses only where precedence needs them."""
    from pglast import ast

    op = _binary_op(node)
    if op is not None:
        text = f"{pretty_tree(node.lexpr, stream, node, True)} {op} {pretty_tree(node.rexpr, stream, node)}"
    elif isinstance(node, ast.NullTest):
        test = "IS NOT NULL" if node.nulltesttype.name == "IS_NOT_NULL" else "IS NULL"
        text = f"{pretty_tree(node.arg, stream, node, True)} {test}"
    elif isinstance(node, ast.BoolExpr):
        args = [pretty_tree(a, stream, node, i == 0) for i, a in enumerate(node.args)]
        if node.boolop.name == "NOT_EXPR":
            text = f"NOT {args[0]}"
        else:
            text = (" AND " if node.boolop.name == "AND_EXPR" else " OR ").join(args)
    else:
        return stream(node)
    return text if _needs_no_parentheses(node, parent, is_left) else f"({text})"


def expression_text(text: str, pretty: bool) -> str | None:
    """`text` re-printed as ruleutils would when it is an operator, boolean or NULL-test
    expression; None for anything else (or text pglast cannot read)."""
    try:
        from pglast import ast, parse_sql
        from pglast.stream import RawStream

        statement = parse_sql(f"SELECT {text}")
        if len(statement) != 1 or not isinstance(statement[0].stmt, ast.SelectStmt):
            return None
        targets = statement[0].stmt.targetList
        if targets is None or len(targets) != 1:
            return None
        node = targets[0].val
        if not isinstance(node, ast.BoolExpr | ast.NullTest) and _binary_op(node) is None:
            return None

        def stream(leaf: Any) -> str:
            return str(RawStream()(leaf))
        return pretty_tree(node, stream) if pretty else parenthesized_tree(node, stream)
    except Exception:  # noqa: BLE001 - text pglast cannot re-read is shown as stored
        return None
