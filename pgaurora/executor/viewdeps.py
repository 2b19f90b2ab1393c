"""Views that name a relation being renamed or moved to another schema keep working.

PostgreSQL's views hold their relations by oid; pgaurora keeps a view's query as SQL text. So
ALTER TABLE / VIEW / MATERIALIZED VIEW ... RENAME TO and SET SCHEMA rewrite the query of each
view (and materialized view) whose FROM names the relation: every RangeVar that resolves to it
(as the view's query would resolve it: qualified, or along the search path, not a WITH query of
the same name) gets the new name (and the old one as its alias, so that `t.column` still means
the same), qualified with the new schema when it moves; the query is deparsed again (pglast). Column renames are not followed
(docs/architecture/not-built-yet.md). Not the renames themselves (executor.ddlchange).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import parse_sql
from pglast.ast import Alias, String
from pglast.stream import RawStream

from pgaurora.catalog.model import Table, View


def _names_in_with(node: Any, found: set[str]) -> None:
    """Every WITH query name in the tree (their RangeVars are not relations)."""
    for child in _children(node):
        if type(child).__name__ == "CommonTableExpr":
            found.add(child.ctename)
        _names_in_with(child, found)


def _children(node: Any) -> list[Any]:
    out: list[Any] = []
    if isinstance(node, (list, tuple)):
        out.extend(node)
    elif hasattr(node, "__slots__"):
        for attr in getattr(node, "__slots__", ()):
            value = getattr(node, attr, None)
            if value is not None and not isinstance(value, (str, int, float, bool, bytes)):
                out.append(value)
    return out


def _range_vars(node: Any, found: list[Any]) -> None:
    for child in _children(node):
        if type(child).__name__ == "RangeVar":
            found.append(child)
        _range_vars(child, found)


def _parsed(query: str) -> tuple[Any, set[str]] | None:
    """(the query's parse tree, its WITH query names); None for a query that does not parse
    (left as it is)."""
    try:
        tree = parse_sql(query)
    except Exception:  # noqa: BLE001
        return None
    ctes: set[str] = set()
    _names_in_with(tree, ctes)
    return tree, ctes


def rewritten_query(state: Any, query: str, oid: int, new_name: str, new_schema: str | None) -> str | None:
    """`query` with the RangeVars naming relation `oid` renamed (and moved to `new_schema`),
    or None when it names it nowhere."""
    parsed = _parsed(query)
    if parsed is None:
        return None
    tree, ctes = parsed
    targets: list[Any] = []
    _range_vars(tree, targets)
    changed = False
    for rv in targets:
        if rv.schemaname is None and rv.relname in ctes:
            continue
        rel = state.relation(rv.relname, rv.schemaname)
        if rel is None or getattr(rel, "oid", None) != oid:
            continue
        if rv.alias is None and rv.relname != new_name:  # `t.column` and `t` as a row keep their meaning
            rv.alias = Alias(aliasname=rv.relname)
        rv.relname = new_name
        if new_schema is not None:
            rv.schemaname = new_schema
        changed = True
    if not changed:
        return None
    return str(RawStream()(tree))


def _levels(node: Any, found: list[Any]) -> None:
    """Every SelectStmt of the tree (each query level)."""
    for child in _children(node):
        if type(child).__name__ == "SelectStmt":
            found.append(child)
        _levels(child, found)


def _own(node: Any, found: list[Any], kind: str) -> None:
    """The `kind` nodes of one query level, not those of the levels nested in it."""
    for child in _children(node):
        name = type(child).__name__
        if name == "SelectStmt":
            continue
        if name == kind:
            found.append(child)
        _own(child, found, kind)


def renamed_columns_query(state: Any, query: str, oid: int, renames: dict[str, str]) -> str | None:
    """`query` with its references to relation `oid`'s renamed columns following them (None:
    none): `t.old` wherever `t` names the relation, and an unqualified `old` in a query level
    whose FROM holds the relation alone."""
    parsed = _parsed(query)
    if parsed is None:
        return None
    tree, ctes = parsed
    changed = False
    levels: list[Any] = []
    _levels(tree, levels)
    aliases: set[str] = set()
    for level in levels:
        items: list[Any] = []
        _range_vars(level.fromClause or (), items)
        mine = [rv for rv in items if not (rv.schemaname is None and rv.relname in ctes)
                and getattr(state.relation(rv.relname, rv.schemaname), "oid", None) == oid]
        aliases.update(rv.alias.aliasname if rv.alias is not None else rv.relname for rv in mine)
        alone = len(mine) == 1 and len(level.fromClause or ()) == 1 and type(level.fromClause[0]).__name__ == "RangeVar"
        if not alone:
            continue
        refs: list[Any] = []
        _own(level, refs, "ColumnRef")
        for ref in refs:
            fields = ref.fields
            if len(fields) == 1 and type(fields[0]).__name__ == "String" and fields[0].sval in renames:
                ref.fields = (String(sval=renames[fields[0].sval]),)
                changed = True
    refs = []
    _columnrefs(tree, refs)
    for ref in refs:
        fields = ref.fields
        if len(fields) == 2 and all(type(f).__name__ == "String" for f in fields) and fields[0].sval in aliases \
                and fields[1].sval in renames:
            ref.fields = (fields[0], String(sval=renames[fields[1].sval]))
            changed = True
    return str(RawStream()(tree)) if changed else None


def renamed_in_expression(text: str, renames: dict[str, str], table_name: str) -> str | None:
    """A table's own expression text (a CHECK, a generated column's, an index key or predicate)
    with its references to columns renamed old -> new (`c` and `table.c`), edited in place so
    the rest of the text stays as written; None: unchanged."""
    from pgaurora.catalog.system.describe import quote_ident

    prefix = "SELECT "
    try:
        tree = parse_sql(prefix + text)
    except Exception:  # noqa: BLE001  (left as it is)
        return None
    refs: list[Any] = []
    _columnrefs(tree, refs)
    edits: list[tuple[int, int, str]] = []
    for ref in refs:
        fields = ref.fields
        if not all(type(f).__name__ == "String" for f in fields) or ref.location is None:
            continue
        if len(fields) == 1 and fields[0].sval in renames:
            skip, new = 0, renames[fields[0].sval]
        elif len(fields) == 2 and fields[0].sval == table_name and fields[1].sval in renames:
            skip, new = 1, renames[fields[1].sval]
        else:
            continue
        at = _char_offset(prefix + text, ref.location) - len(prefix)
        for _ in range(skip):  # past `table` and its dot
            at = _identifier_end(text, at)
            at = text.index(".", at) + 1
            while text[at].isspace():
                at += 1
        edits.append((at, _identifier_end(text, at), quote_ident(new)))
    if not edits:
        return None
    for begin, end, replacement in sorted(edits, reverse=True):
        text = text[:begin] + replacement + text[end:]
    return text


def _char_offset(text: str, byte_offset: int) -> int:
    return len(text.encode()[:byte_offset].decode("utf-8", "ignore"))


def _identifier_end(text: str, at: int) -> int:
    """Where the identifier starting at `at` (plain or "quoted") ends."""
    if text[at] == '"':
        end = at + 1
        while end < len(text):
            if text[end] == '"':
                if end + 1 < len(text) and text[end + 1] == '"':
                    end += 2
                    continue
                return end + 1
            end += 1
        return end
    end = at
    while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
        end += 1
    return end


def _columnrefs(node: Any, found: list[Any]) -> None:
    for child in _children(node):
        if type(child).__name__ == "ColumnRef":
            found.append(child)
        _columnrefs(child, found)


async def follow_columns(ctx: Any, state: Any, oid: int, renames: dict[str, str]) -> None:
    """Rewrites the views (and materialized views) that name columns of relation `oid` renamed
    old -> new in `renames`."""
    await _rewrite_views(ctx, state, lambda query: renamed_columns_query(state, query, oid, renames))


async def follow_relation(ctx: Any, state: Any, oid: int, new_name: str, new_schema: str | None = None) -> None:
    """Rewrites the views (and materialized views) that name relation `oid` (catalog.replace)."""
    await _rewrite_views(ctx, state, lambda query: rewritten_query(state, query, oid, new_name, new_schema))


async def _rewrite_views(ctx: Any, state: Any, rewrite: Callable[[str], str | None]) -> None:
    """Each view's and materialized view's query through `rewrite` (None: unchanged)."""
    changed: list[Any] = []
    for obj in state.by_oid.values():
        if isinstance(obj, View) or (isinstance(obj, Table) and obj.kind == "m" and obj.query):
            query = rewrite(obj.query or "")
            if query is not None:
                changed.append(_replaced(obj, query))
    if changed:
        await ctx.catalog.replace(ctx.txn, *changed)


def _replaced(obj: Any, query: str) -> Any:
    from dataclasses import replace

    return replace(obj, query=query)
