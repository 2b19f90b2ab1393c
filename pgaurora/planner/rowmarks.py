"""Row marks: which FROM items a SELECT ... FOR UPDATE / SHARE [OF a, b] locks, and how.

Owns resolving the locking clauses of one query level against its FROM items (PostgreSQL's
transformLockingClause / applyLockingClause): each named (or, without OF, every) table gets the
strongest strength and the strictest wait policy any clause gives it. The tables' entries carry
their tid and tableoid columns (planner.scope's system columns), which the LockRows node reads
(executor.lockrows). Not the single-table case (planner.select plans it over the scan's tid).

    FOR UPDATE OF a FOR SHARE     a: update, b: share     (strongest wins)
    NOWAIT > SKIP LOCKED > wait   per table, the strictest clause naming it
    t LEFT JOIN u ... FOR UPDATE  0A000 "FOR UPDATE cannot be applied to the nullable side of an outer join"
    (SELECT ...) s / a view       the clause moves into the subquery's (view's) own SELECT: its tables'
                                  rows are locked there (`push_into_subqueries`)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgaurora.errors import FeatureNotSupported, UndefinedTable
from pgaurora.planner.scope import TID_COLUMN, RangeEntry, Scope

STRENGTHS = ("key share", "share", "no key update", "update")  # weakest first
_STRENGTH = {"LCS_FORKEYSHARE": "key share", "LCS_FORSHARE": "share", "LCS_FORNOKEYUPDATE": "no key update",
             "LCS_FORUPDATE": "update"}
_WORDS = {"key share": "FOR KEY SHARE", "share": "FOR SHARE", "no key update": "FOR NO KEY UPDATE",
          "update": "FOR UPDATE"}
_WAITS = ("block", "skip", "nowait")  # least strict first
_WAIT = {"LockWaitBlock": "block", "LockWaitSkip": "skip", "LockWaitError": "nowait"}


def _targets(clauses: list[dict[str, Any]], alias: str) -> list[dict[str, Any]]:
    """The locking clauses that name `alias` (or name nothing: every FROM item), without OF lists."""
    out = []
    for clause in clauses:
        lc = clause["LockingClause"]
        rels = lc.get("lockedRels")
        if not rels or any(r["RangeVar"]["relname"] == alias for r in rels):
            out.append({"LockingClause": {"strength": lc["strength"], "waitPolicy": lc["waitPolicy"]}})
    return out


def push_into_subqueries(items: list[dict[str, Any]], clauses: list[dict[str, Any]],
                         is_view: Callable[[dict[str, Any]], bool | None], views: dict[str, list[dict[str, Any]]],
                         handled: set[str], kinds: dict[str, str]) -> list[dict[str, Any]]:
    """FROM items with the locking clauses that apply to a subquery (or a view: `views`, read by
    planner.fromclause) moved inside it, as PostgreSQL applies FOR UPDATE to a subquery's tables.
    `handled` collects their aliases: row_marks leaves them alone; `kinds` names the FROM items
    that cannot be locked ("a function", "a WITH query") for row_marks' errors. `is_view(range
    var)`: True for a view, False for a table, None when no relation has that name (a CTE)."""
    out = []
    for item in items:
        kind, body = next(iter(item.items()))
        if kind == "JoinExpr":
            larg, rarg = push_into_subqueries([body["larg"], body["rarg"]], clauses, is_view, views, handled, kinds)
            item = {kind: dict(body, larg=larg, rarg=rarg)}
        elif kind == "RangeSubselect" and "alias" in body and "SelectStmt" in body["subquery"]:
            alias = body["alias"]["aliasname"]
            inner = _targets(clauses, alias)
            select = body["subquery"]["SelectStmt"]
            if inner:
                handled.add(alias)
                if select.get("op", "SETOP_NONE") != "SETOP_NONE":
                    raise FeatureNotSupported(f"{_WORDS[_STRENGTH[inner[0]['LockingClause']['strength']]]} is not "
                                              "allowed with UNION/INTERSECT/EXCEPT")
                if "fromClause" in select:
                    select = dict(select, lockingClause=list(select.get("lockingClause", ())) + inner)
                    item = {kind: dict(body, subquery={"SelectStmt": select})}
        elif kind == "RangeFunction":
            alias = body.get("alias", {}).get("aliasname")
            if alias:
                kinds[alias] = "a function"
        elif kind == "RangeVar":
            alias = body.get("alias", {}).get("aliasname", body["relname"])
            relation = is_view(body)
            if relation is None and "schemaname" not in body:
                kinds[alias] = "a WITH query"
            elif relation:
                inner = _targets(clauses, alias)
                if inner:
                    handled.add(alias)
                    views[alias] = inner
        out.append(item)
    return out


def _from_items(scope: Scope) -> list[RangeEntry]:
    """The FROM items of the level (not a join's merged USING columns nor hidden tid entries)."""
    return [e for e in scope.entries if e.alias and not e.hidden]


def row_marks(clauses: list[dict[str, Any]], scope: Scope, nullable: set[int],
              position: Callable[[int | None], int | None], handled: set[str] | frozenset[str] = frozenset(),
              kinds: dict[str, str] | None = None) -> list[tuple[int, int, str, str]]:
    """(tid column, tableoid column, mode, wait) for each table the clauses lock, in FROM order;
    `handled`: subqueries and views that lock their own rows (push_into_subqueries)."""
    chosen: dict[int, tuple[RangeEntry, str, str]] = {}
    items = _from_items(scope)
    for clause in clauses:
        lc = clause["LockingClause"]
        mode = _STRENGTH[lc["strength"]]
        wait = _WAIT[lc["waitPolicy"]]
        word = _WORDS[mode]
        rels = lc.get("lockedRels")
        if rels:
            targets = []
            for r in rels:
                rv = r["RangeVar"]
                entry = next((e for e in items if e.alias == rv["relname"]), None)
                if entry is None:
                    raise UndefinedTable(f'relation "{rv["relname"]}" in {word} clause not found in FROM clause',
                                         position=position(rv.get("location")))
                targets.append(entry)
        else:
            # without OF: every table, and the subqueries and views (locked inside); functions,
            # VALUES and WITH queries have no rows to lock
            targets = [e for e in items if TID_COLUMN in e.columns]
        for entry in targets:
            if entry.alias in handled and TID_COLUMN not in entry.columns:
                continue
            if TID_COLUMN not in entry.columns:
                what = (kinds or {}).get(entry.alias, "VALUES")
                raise FeatureNotSupported(f"{word} cannot be applied to {what}")
            if id(entry) in nullable:
                raise FeatureNotSupported(f"{word} cannot be applied to the nullable side of an outer join")
            old = chosen.get(id(entry))
            if old is not None:
                mode = max(mode, old[1], key=STRENGTHS.index)
                wait = max(wait, old[2], key=_WAITS.index)
            chosen[id(entry)] = (entry, mode, wait)
            mode, wait = _STRENGTH[lc["strength"]], _WAIT[lc["waitPolicy"]]
    marks = []
    for entry in items:
        if id(entry) in chosen:
            _, mode, wait = chosen[id(entry)]
            tid_col = entry.offset + entry.columns.index(TID_COLUMN)
            marks.append((tid_col, tid_col - 1, mode, wait))  # tableoid is the column before the tid
    return marks
