"""Definitions as PostgreSQL's ruleutils.c prints them: column defaults, index and constraint
definitions, view definitions.

Owns the text of pg_get_expr (for pg_attrdef.adbin / pg_constraint.conbin, which hold the
display text here instead of a node tree), pg_get_indexdef and pg_get_constraintdef. Not the
functions' registration (catalog.system.functions).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pgaurora.catalog.model import Constraint, Index, Table
from pgaurora.catalog.state import CatalogState
from pgaurora.catalog.system import exprtext
from pgaurora.datatypes import typeinfo

_SQL_VALUE_FUNCTIONS = {
    "current_timestamp": "CURRENT_TIMESTAMP", "current_date": "CURRENT_DATE", "current_time": "CURRENT_TIME",
    "localtimestamp": "LOCALTIMESTAMP", "localtime": "LOCALTIME", "current_user": "CURRENT_USER",
    "session_user": "SESSION_USER", "user": "CURRENT_USER", "current_role": "CURRENT_ROLE",
    "current_catalog": "CURRENT_CATALOG", "current_schema": "CURRENT_SCHEMA",
}


def quote_ident(name: str) -> str:
    """PostgreSQL's quote_identifier: quotes names that are not plain lower-case identifiers."""
    if name and (name[0].islower() or name[0] == "_") and all(c.islower() or c.isdigit() or c == "_" for c in name) \
            and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


_RESERVED = frozenset("""all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time current_timestamp current_user default
deferrable desc distinct do else end except false fetch for foreign from grant group having in initially intersect
into lateral leading limit localtime localtimestamp not null offset on only or order placing primary references
returning select session_user some symmetric table then to trailing true union unique user using variadic when where
window with""".split())


def default_text(text: str, type_oid: int, state: CatalogState | None = None) -> str:
    """A column default as pg_get_expr shows it: a string literal gets its column type's cast
    ('x'::character varying; an enum type's name qualified as format_type qualifies it), SQL
    value functions are upper-cased, the rest is kept."""
    stripped = text.strip()
    if _is_string_literal(stripped):
        if type_oid in (typeinfo.UNKNOWN_OID,):
            return stripped
        if state is not None and type_oid >= 16384:
            from pgaurora.catalog.system.regtypes import user_type_display

            shown = user_type_display(state, type_oid)
            if shown is not None:
                return f"{stripped}::{shown}"
        return f"{stripped}::{typeinfo.format_type(type_oid, -1)}"
    lowered = stripped.lower()
    if lowered in _SQL_VALUE_FUNCTIONS:
        return _SQL_VALUE_FUNCTIONS[lowered]
    if lowered in ("true", "false", "null"):
        return lowered if lowered != "null" else "NULL"
    if _is_number(stripped) and stripped.startswith("-"):
        literal_type = "integer" if "." not in stripped and "e" not in lowered else "numeric"
        return f"'{stripped}'::{literal_type}"
    return stripped


def _is_string_literal(text: str) -> bool:
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        return False
    body = text[1:-1]
    return "'" not in body.replace("''", "")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def qualified_name(state: CatalogState, schema_oid: int, name: str) -> str:
    schema = schema_name(state, schema_oid)
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def relation_display(state: CatalogState, schema_oid: int, name: str) -> str:
    """ruleutils.c's generate_relation_name: the bare name when the session's search_path finds
    this relation by it, else schema-qualified (pg_dump runs with search_path = '')."""
    if schema_oid == 11 or schema_oid in state.search_path_oids():
        found = state.relation(name)
        if (found is None and schema_oid == 11) or (found is not None and found.schema_oid == schema_oid):
            return quote_ident(name)
    return qualified_name(state, schema_oid, name)


def stored_relation(state: CatalogState, text: str) -> Any:
    """The relation a name stored in a definition denotes (unqualified names as created: public)."""
    from pgaurora.catalog.system.regtypes import split_name

    parts = split_name(text)
    if len(parts) > 1:
        return state.relation(parts[-1], parts[-2])
    return state.with_search_path(None).relation(parts[-1])


_REGCLASS_LITERAL = re.compile(r"'((?:[^']|'')*)'::regclass")


def regclass_literals(text: str) -> list[str]:
    """The names in 'name'::regclass constants of a stored expression (a serial default's sequence)."""
    if "::regclass" not in text:
        return []
    return [m.group(1).replace("''", "'") for m in _REGCLASS_LITERAL.finditer(text)]


def qualify_regclass_literals(state: CatalogState, text: str) -> str:
    """nextval('s'::regclass) as pg_get_expr prints it: the sequence named as the search_path needs."""
    if "::regclass" not in text:
        return text

    def name(match: re.Match[str]) -> str:
        rel = stored_relation(state, match.group(1).replace("''", "'"))
        if rel is None:
            return match.group(0)
        shown = relation_display(state, rel.schema_oid, rel.name).replace("'", "''")
        return f"'{shown}'::regclass"
    return _REGCLASS_LITERAL.sub(name, text)


def schema_name(state: CatalogState, schema_oid: int) -> str:
    for s in state.schemas.values():
        if s.oid == schema_oid:
            return s.name
    if schema_oid == 11:
        return "pg_catalog"
    return "information_schema" if schema_oid == 13207 else str(schema_oid)


def column_name(table: Table | None, attnum: int) -> str:
    if table is not None:
        for c in table.columns:
            if c.attnum == attnum:
                return c.name
    return f"?{attnum}?"


def index_columns(state: CatalogState, index: Index, pretty: bool = False) -> list[str]:
    """The key column list of pg_get_indexdef (pretty: an operator expression in one pair of
    parentheses, not two)."""
    table = state.table(index.table_oid)
    out = []
    for i, attnum in enumerate(index.columns):
        expression = index.expressions[i] if i < len(index.expressions) else ""
        text = index_expression(expression, wrap=not pretty) if expression else quote_ident(column_name(table, attnum))
        if i < len(index.opclasses) and index.opclasses[i]:
            text += f" {index.opclasses[i]}"
        desc = i < len(index.descending) and index.descending[i]
        nulls_first = i < len(index.nulls_first) and index.nulls_first[i]
        if desc:
            text += " DESC"
        if nulls_first != desc:  # (not the direction's default)
            text += " NULLS FIRST" if nulls_first else " NULLS LAST"
        out.append(text)
    return out


def parenthesized(text: str) -> str:
    """`text` inside one pair of parentheses (unless it already is), as ruleutils prints an
    operator expression."""
    stripped = text.strip()
    if stripped.startswith("(") and stripped.endswith(")") and _balanced(stripped[1:-1]):
        return stripped
    return f"({stripped})"


def unparenthesized(text: str) -> str:
    """A top-level expression as ruleutils' pretty mode prints it: an operator expression with only
    the parentheses precedence needs, else without its outer ones (a sub-SELECT keeps them)."""
    stripped = text.strip()
    pretty = exprtext.expression_text(stripped, True) if stripped.startswith("(") else None
    if pretty is not None:
        return pretty
    if (stripped.startswith("(") and stripped.endswith(")") and _balanced(stripped[1:-1])
            and not stripped[1:].lstrip().lower().startswith(("select", "with", "values"))):
        return stripped[1:-1]
    return text


def _is_function_call(text: str) -> bool:
    head, paren, _ = text.strip().partition("(")
    return bool(paren) and text.strip().endswith(")") and head.replace("_", "a").replace(".", "a").isalnum() \
        and _balanced(text.strip()[len(head) + 1:-1])


def index_expression(text: str, wrap: bool = False) -> str:
    """An index key expression as pg_get_indexdef prints it: a function call as is, anything else
    deparsed in parentheses, and (`wrap`, in the CREATE INDEX column list) once more."""
    if _is_function_call(text):
        return text.strip()
    inner = parenthesized(text)
    return f"({inner})" if wrap else inner


def generation_text(text: str) -> str:
    """A generated column's expression as pg_get_expr prints it: a column or a function call as
    is, an operator expression in parentheses."""
    stripped = text.strip()
    if _is_function_call(stripped) or stripped.replace("_", "a").isalnum() or stripped.startswith('"'):
        return stripped
    return exprtext.expression_text(stripped, False) or parenthesized(stripped)


def index_definition(state: CatalogState, index: Index, column: int = 0, pretty: bool = False) -> str:
    """pg_get_indexdef(oid[, column, pretty]): pretty omits the schema of a visible table."""
    cols = index_columns(state, index, pretty)
    table = state.table(index.table_oid)
    included = [quote_ident(column_name(table, a)) for a in index.include]
    if column > 0:
        if column > len(cols):
            return included[column - len(cols) - 1] if column - len(cols) <= len(included) else ""
        expression = index.expressions[column - 1] if column - 1 < len(index.expressions) else ""
        if expression:
            return index_expression(expression)
        return quote_ident(column_name(table, index.columns[column - 1]))
    table = state.table(index.table_oid)
    table_name = qualified_name(state, index.schema_oid, table.name if table is not None else "?")
    if pretty and table is not None:
        table_name = relation_display(state, table.schema_oid, table.name)
    unique = "UNIQUE " if index.unique else ""
    where = ""
    if index.predicate:
        where = f" WHERE {unparenthesized(index.predicate) if pretty else parenthesized(index.predicate)}"
    nulls = " NULLS NOT DISTINCT" if index.nulls_not_distinct else ""
    only = "ONLY " if table is not None and table.kind == "p" else ""  # a partitioned index
    return (f"CREATE {unique}INDEX {quote_ident(index.name)} ON {only}{table_name} USING {index.method} "
            f"({', '.join(cols)}){_include(included)}{nulls}{_with_options(index.options)}{where}")


_ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


NOT_VALID = " NOT VALID"


def constraint_definition(state: CatalogState, table: Table, con: Constraint, pretty: bool = True) -> str:
    """pg_get_constraintdef(oid[, pretty]): without pretty, PostgreSQL parenthesizes the
    expression once more, as it does every operator expression; a constraint added NOT VALID
    and not validated since says so."""
    text = _definition(state, table, con, pretty)
    return text if con.validated else text + NOT_VALID


def _definition(state: CatalogState, table: Table, con: Constraint, pretty: bool) -> str:
    cols = ", ".join(quote_ident(column_name(table, a)) for a in con.columns)
    if con.kind in ("p", "u"):
        index = next((i for i in state.indexes(table.oid) if i.oid == con.index_oid), None)
        include = _include([quote_ident(column_name(table, a)) for a in index.include] if index else [])
        if con.kind == "p":
            return f"PRIMARY KEY ({cols}){include}" + _deferrable(con)
        nulls = "NULLS NOT DISTINCT " if index is not None and index.nulls_not_distinct else ""
        return f"UNIQUE {nulls}({cols}){include}" + _deferrable(con)
    if con.kind == "c":
        text = (con.check or "").strip()
        if not (text.startswith("(") and text.endswith(")") and _balanced(text[1:-1])):
            text = f"({text})"
        return f"CHECK {text}" if pretty else f"CHECK ({text})"
    if con.kind == "f":
        ref = state.table(con.ref_table)
        ref_name = relation_display(state, ref.schema_oid, ref.name) if ref is not None else "?"
        ref_cols = ", ".join(quote_ident(column_name(ref, a)) for a in con.ref_columns)
        text = f"FOREIGN KEY ({cols}) REFERENCES {ref_name}({ref_cols})" + (" MATCH FULL" if con.match_full else "")
        if con.on_update in _ACTIONS:
            text += f" ON UPDATE {_ACTIONS[con.on_update]}"
        if con.on_delete in _ACTIONS:
            text += f" ON DELETE {_ACTIONS[con.on_delete]}"
        return text + _deferrable(con)
    if con.kind == "n":
        return f"NOT NULL {cols}"
    return ""


def _with_options(options: tuple[str, ...]) -> str:
    """WITH (name=value, ...) as pg_get_indexdef writes reloptions: a value that is no plain
    identifier in single quotes (fillfactor='70', deduplicate_items=off)."""
    if not options:
        return ""
    parts = []
    for option in options:
        name, _, value = option.partition("=")
        plain = quote_ident(value) == value
        parts.append(f"{name}={value if plain else _quote_value(value)}")
    return f" WITH ({', '.join(parts)})"


def _quote_value(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _include(columns: list[str]) -> str:
    return f" INCLUDE ({', '.join(columns)})" if columns else ""


def _deferrable(con: Constraint) -> str:
    return (" DEFERRABLE" if con.deferrable else "") + (" INITIALLY DEFERRED" if con.deferred else "")


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def check_columns(table: Table, con: Constraint) -> tuple[int, ...]:
    """The attnums a CHECK expression mentions (pg_constraint.conkey of a check constraint)."""
    if con.columns or not con.check:
        return con.columns
    try:
        from pglast import parser

        tree = parser.parse_sql_json(f"SELECT {con.check}")
    except Exception:  # noqa: BLE001 - an expression pglast cannot parse mentions nothing we know
        return ()
    found: list[int] = []
    for name in _column_names(tree):
        col = table.column(name)
        if col is not None and col.attnum not in found:
            found.append(col.attnum)
    return tuple(sorted(found))


def _column_names(tree_json: str) -> list[str]:
    import json

    names: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("ColumnRef")
            if ref is not None:
                fields = [f["String"]["sval"] for f in ref.get("fields", ()) if "String" in f]
                if fields:
                    names.append(fields[-1])
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit(json.loads(tree_json))
    return names


def find_constraint(state: CatalogState, oid: int) -> tuple[Table, Constraint] | None:
    for table in state.tables():
        for con in table.constraints:
            if con.oid == oid:
                return table, con
    return None


RelationNamer = Callable[[str | None, str], str]


def relation_namer(state: CatalogState) -> RelationNamer:
    """(schema as written or None, name) -> the relation's name as the search_path needs it."""
    def name(schema: str | None, relname: str) -> str:
        rel = state.relation(relname, schema) if schema is not None else state.with_search_path(None).relation(relname)
        if rel is None:
            return quote_ident(relname) if schema is None else f"{quote_ident(schema)}.{quote_ident(relname)}"
        return relation_display(state, rel.schema_oid, rel.name)
    return name


def view_definition(query: str, column_names: tuple[str, ...] = (), namer: RelationNamer | None = None,
                    pretty: bool = True) -> str:
    """pg_get_viewdef(view, pretty): PostgreSQL's layout for a single-table SELECT (columns
    qualified by the table, one target per line, FROM / WHERE / ORDER BY on their own lines);
    other queries keep pglast's normalized text. `namer` qualifies relation names that the
    session's search_path would not find (pg_dump's search_path is empty)."""
    text = query.strip().rstrip(";")
    try:
        simple = _simple_view(text, column_names, namer, pretty)
    except Exception:  # noqa: BLE001 - anything unusual falls back to the normalized text below
        simple = None
    if simple is not None:
        return simple
    if namer is not None:
        try:
            text = _qualified_query(text, namer)
        except Exception:  # noqa: BLE001 - keep the stored text when pglast cannot rewrite it
            pass
    try:
        from pglast import prettify

        text = prettify(text)
    except Exception:  # noqa: BLE001 - keep the stored text when pglast cannot reformat it
        pass
    return " " + text.replace("\n", "\n  ") + ";"


def _qualified_query(text: str, namer: RelationNamer) -> str:
    """The query with each relation (not CTE) reference named by `namer`."""
    from pglast import ast, parse_sql
    from pglast.stream import RawStream

    stmt = parse_sql(text)[0].stmt
    ctes: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, ast.CommonTableExpr):
            ctes.add(node.ctename)
        if isinstance(node, ast.RangeVar):
            if node.schemaname is None and node.relname in ctes:
                return
            shown = namer(node.schemaname, node.relname)
            if "." in shown and not shown.startswith('"'):
                node.schemaname, node.relname = shown.split(".", 1)
            elif "." not in shown:
                node.schemaname = None
            return
        if isinstance(node, ast.Node):
            for attr in node:
                visit(getattr(node, attr))
        elif isinstance(node, tuple | list):
            for item in node:
                visit(item)

    visit(stmt)
    return str(RawStream()(stmt))


def _simple_view(text: str, column_names: tuple[str, ...], namer: RelationNamer | None = None,
                 pretty: bool = True) -> str | None:
    from pglast import ast, parse_sql
    from pglast.stream import RawStream

    stmts = parse_sql(text)
    if len(stmts) != 1 or not isinstance(stmts[0].stmt, ast.SelectStmt):
        return None
    sel = stmts[0].stmt
    if (sel.withClause or sel.op != 0 and str(sel.op) != "SETOP_NONE" or sel.groupClause or sel.havingClause
            or sel.distinctClause or sel.limitCount or sel.limitOffset or sel.windowClause or sel.valuesLists
            or not sel.fromClause or len(sel.fromClause) != 1 or not isinstance(sel.fromClause[0], ast.RangeVar)):
        return None
    rel = sel.fromClause[0]
    qualifier = rel.alias.aliasname if rel.alias is not None else rel.relname

    def qualify(node: Any) -> None:
        if isinstance(node, ast.ColumnRef):
            if len(node.fields) == 1 and isinstance(node.fields[0], ast.String):
                node.fields = (ast.String(sval=qualifier), node.fields[0])
            return
        if isinstance(node, ast.SubLink | ast.A_Star):
            raise ValueError("subqueries are not laid out here")
        if isinstance(node, ast.Node):
            for name in node:
                qualify(getattr(node, name))
        elif isinstance(node, tuple | list):
            for item in node:
                qualify(item)

    def stream(node: Any) -> str:
        return str(RawStream()(node))

    targets = []
    for i, target in enumerate(sel.targetList):
        val = target.val
        if isinstance(val, ast.ColumnRef) and isinstance(val.fields[-1], ast.A_Star):
            return None
        plain = val.fields[-1].sval if isinstance(val, ast.ColumnRef) else None
        qualify(val)
        item = stream(val)
        name = column_names[i] if i < len(column_names) else (target.name or plain)
        if name is not None and name != plain:
            item += f" AS {quote_ident(name)}"
        targets.append(item)
    shown = namer(rel.schemaname, rel.relname) if namer is not None else quote_ident(rel.relname)
    source = shown + (f" {quote_ident(qualifier)}" if rel.alias is not None else "")
    out = " SELECT " + ",\n    ".join(targets) + "\n   FROM " + source
    if sel.whereClause is not None:
        qualify(sel.whereClause)
        out += "\n  WHERE " + (stream(sel.whereClause) if pretty else exprtext.parenthesized_tree(sel.whereClause, stream))
    if sel.sortClause:
        qualify(sel.sortClause)
        out += "\n  ORDER BY " + ", ".join(stream(s) for s in sel.sortClause)
    return out + ";"


def describe_any(value: Any) -> str:
    return "" if value is None else str(value)
