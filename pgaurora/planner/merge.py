"""MERGE: PostgreSQL 15's MERGE INTO target USING source ON condition WHEN [NOT] MATCHED ...

Owns turning a MergeStmt into one statement the planner already plans: data-modifying CTEs
over one join of the source with the target, all under one snapshot, as MERGE is one statement.

    WITH __merge AS (SELECT s.*, t.ctid, t.tableoid,
                            CASE WHEN <matched> AND cond1 THEN 1 ... WHEN <not matched> ... END
                     FROM source s LEFT JOIN target t ON condition),
         __merge_1 AS (DELETE FROM target t USING __merge s WHERE <that row> AND action = 1 RETURNING 1),
         __merge_2 AS (UPDATE target t SET ... FROM __merge s WHERE <that row> AND action = 2 RETURNING 1),
         __merge_3 AS (INSERT INTO target (cols) SELECT values FROM __merge s WHERE action = 3 RETURNING 1)
    SELECT <rows changed>, <target rows two source rows would change>

Each source row takes the first WHEN clause whose condition holds (none: nothing happens); the
executor's MergeCount reports `MERGE n` and raises 21000 when a target row would be changed twice
(PostgreSQL's "cannot affect row a second time"). Not built: WHEN NOT MATCHED BY SOURCE (PostgreSQL
17), INSERT DEFAULT VALUES, and re-evaluating the join for a target row a concurrent transaction
updated (READ COMMITTED skips it, where PostgreSQL re-checks the condition on the new version).
"""

from __future__ import annotations

from typing import Any

from pglast import parse_sql
from pglast.stream import RawStream

from pgaurora.errors import FeatureNotSupported


def deparse(node: Any) -> str:
    """The SQL text of a parse tree node (a stream of its own: RawStream keeps what it wrote)."""
    return str(RawStream()(node))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def merge_sql(text: str, columns_of: Any = None) -> str:
    """The statement that does what the MERGE statement `text` says (see the module docstring);
    `columns_of(schema, name)`: the target table's column names (an INSERT with DEFAULT values
    and no column list names them)."""
    stmt: Any = parse_sql(text)[0].stmt
    target = stmt.relation
    name = (f"{_quote(target.schemaname)}." if target.schemaname else "") + _quote(target.relname)
    t_alias = _quote(target.alias.aliasname if target.alias is not None else target.relname)
    source = stmt.sourceRelation
    s_alias = getattr(getattr(source, "alias", None), "aliasname", None) or getattr(source, "relname", None)
    if s_alias is None:
        raise FeatureNotSupported("MERGE with a source of no name is not supported")
    s_alias = _quote(s_alias)
    whens: list[str] = []
    ctes: list[str] = []
    changing: list[int] = []
    for k, clause in enumerate(stmt.mergeWhenClauses or (), start=1):
        kind = clause.matchKind.name if hasattr(clause.matchKind, "name") else str(clause.matchKind)
        if kind == "MERGE_WHEN_NOT_MATCHED_BY_SOURCE":
            raise FeatureNotSupported("WHEN NOT MATCHED BY SOURCE is not supported")
        matched = kind == "MERGE_WHEN_MATCHED"
        test = f"{t_alias}.ctid IS {'NOT ' if matched else ''}NULL"
        if clause.condition is not None:
            test += f" AND ({deparse(clause.condition)})"
        whens.append(f"WHEN {test} THEN {k}")
        command = clause.commandType.name if hasattr(clause.commandType, "name") else str(clause.commandType)
        row = (f"{t_alias}.ctid = {s_alias}.__merge_tid AND {t_alias}.tableoid = {s_alias}.__merge_rel "
               f"AND {s_alias}.__merge_action = {k}")
        if command == "CMD_DELETE":
            changing.append(k)
            ctes.append(f"__merge_{k} AS (DELETE FROM {name} AS {t_alias} USING __merge AS {s_alias} WHERE {row} "
                        f"RETURNING 1)")
        elif command == "CMD_UPDATE":
            changing.append(k)
            template: Any = parse_sql("UPDATE x SET a = 1")[0].stmt
            template.targetList = clause.targetList
            set_list = deparse(template).split(" SET ", 1)[1]
            ctes.append(f"__merge_{k} AS (UPDATE {name} AS {t_alias} SET {set_list} FROM __merge AS {s_alias} "
                        f"WHERE {row} RETURNING 1)")
        elif command == "CMD_INSERT":
            columns = columns_of(target.schemaname, target.relname) if columns_of is not None else None
            ctes.append(f"__merge_{k} AS ({_insert(clause, name, s_alias, k, columns)})")
    if not whens:
        raise FeatureNotSupported("MERGE without WHEN clauses is not supported")
    parts = [f"__merge AS (SELECT {s_alias}.*, {t_alias}.ctid AS __merge_tid, {t_alias}.tableoid AS __merge_rel, "
             f"CASE {' '.join(whens)} END AS __merge_action FROM {deparse(source)} LEFT JOIN {name} AS {t_alias} "
             f"ON {deparse(stmt.joinCondition)})", *ctes]
    counts = " + ".join(f"(SELECT count(*) FROM __merge_{k})" for k in range(1, len(whens) + 1)
                        if any(c.startswith(f"__merge_{k} ") for c in ctes)) or "0"
    twice = (f"(SELECT count(*) - count(DISTINCT (__merge_rel, __merge_tid)) FROM __merge "
             f"WHERE __merge_action IN ({', '.join(map(str, changing))}))") if changing else "0"
    with_clause = "WITH "
    if stmt.withClause is not None:  # (the MERGE's own WITH: its CTEs come first)
        own = deparse(stmt.withClause)
        with_clause = own + ", " if own.startswith(("WITH ", "WITH RECURSIVE ")) else with_clause
    return f"{with_clause}{', '.join(parts)} SELECT {counts} AS merged, {twice} AS twice"


def _insert(clause: Any, name: str, s_alias: str, k: int, table_columns: list[str] | None) -> str:
    """WHEN NOT MATCHED THEN INSERT [(columns)] [OVERRIDING ...] VALUES (...) as INSERT ... SELECT
    over the joined rows that take this clause (a DEFAULT value: the column left out)."""
    values = list(clause.values or ())
    columns = [t.name for t in clause.targetList or ()]
    if not columns and any(type(v).__name__ == "SetToDefault" for v in values) and table_columns:
        columns = table_columns[:len(values)]
    if not values:
        raise FeatureNotSupported("INSERT DEFAULT VALUES in MERGE is not supported")
    keep = [i for i, v in enumerate(values) if type(v).__name__ != "SetToDefault"]
    if not keep:
        raise FeatureNotSupported("MERGE's INSERT of only DEFAULT values is not supported")
    if len(keep) != len(values) and not columns:
        raise FeatureNotSupported("DEFAULT in MERGE's INSERT without a column list is not supported")
    listed = f" ({', '.join(_quote(columns[i]) for i in keep)})" if columns else ""
    override = getattr(clause.override, "name", str(clause.override))
    overriding = {"OVERRIDING_SYSTEM_VALUE": " OVERRIDING SYSTEM VALUE",
                  "OVERRIDING_USER_VALUE": " OVERRIDING USER VALUE"}.get(override, "")
    exprs = ", ".join(deparse(values[i]) for i in keep)
    return (f"INSERT INTO {name}{listed}{overriding} SELECT {exprs} FROM __merge AS {s_alias} "
            f"WHERE {s_alias}.__merge_action = {k} RETURNING 1")


__all__ = ["merge_sql"]
