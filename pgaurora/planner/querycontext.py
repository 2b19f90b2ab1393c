"""What every query level of one statement shares while it is planned.

Owns the planner's working records (Planned: a node and its result columns; QueryContext: the
catalog state, parameter types, exec-param slots and the WITH frames; Cte) and the conjunct
helpers the rules use. Not planning itself (select, fromclause, modify).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgaurora.catalog.state import CatalogState
from pgaurora.datatypes.typeinfo import TEXT_OID
from pgaurora.executor.expr import BoolExpr, BoolOp, Expr
from pgaurora.executor.plannodes import PlanNode, ResultColumn
from pgaurora.planner.resolve import ParamTypes
from pgaurora.planner.scope import Scope, StatementState

if TYPE_CHECKING:
    from pgaurora.catalog.acl import Permission


@dataclass(slots=True)
class Planned:
    node: PlanNode
    columns: list[ResultColumn]


@dataclass(slots=True)
class Cte:
    cte_id: int
    name: str
    planned: Planned | None
    column_names: list[str]
    recursive_types: list[tuple[int, int]] | None = None
    returning: bool = True  # False: a data-modifying CTE without RETURNING (cannot be read)


@dataclass(slots=True)
class QueryContext:
    """Shared by every query level of one statement."""

    catalog: CatalogState
    params: ParamTypes
    state: StatementState
    position: Callable[[int | None], int | None]
    parse_view: Callable[[str], dict[str, Any]]
    ctes: list[dict[str, Cte]] = field(default_factory=list)
    cte_counter: int = 0
    backend_pid: int = 0  # the session's backend (its temporary tables)
    # data-modifying CTEs (WITH x AS (INSERT ...)): run once each before the main query
    modifying_ctes: list[Any] = field(default_factory=list)
    # the statement names a system column (scope.mentions_system_column): tables carry them
    system_columns: bool = False
    # what the plan needs (executor.privileges): (object oid, role to check: 0 = current_user)
    # -> privilege letters; `check_as` is a view's owner while the view's query is planned;
    # `unqualified`: a schema reached only through search_path -> the relation name looked up
    permissions: dict[tuple[int, int], str] = field(default_factory=dict)
    check_as: int = 0
    in_view: bool = False  # planning a view's query (its schemas' USAGE was checked when it was made)
    unqualified: dict[tuple[int, int], str] = field(default_factory=dict)
    # the columns a privilege needs (column privileges): FROM entries whose named columns SELECT
    # needs, and attnums by letter ('r', 'a', 'w') an INSERT / UPDATE target adds
    read_entries: dict[tuple[int, int], list[Any]] = field(default_factory=dict)
    used_columns: dict[tuple[int, int], dict[str, set[int]]] = field(default_factory=dict)

    @contextmanager
    def checking_as(self, role: int) -> Iterator[None]:
        """What is required meanwhile is checked for `role` (0: current_user; a view's owner)."""
        outer, self.check_as = self.check_as, role
        try:
            yield
        finally:
            self.check_as = outer

    def require(self, oid: int, letters: str) -> None:
        """The plan needs `letters` (catalog.acl) on object `oid`, for whoever reads it."""
        key = (oid, self.check_as)
        held = self.permissions.get(key, "")
        if any(c not in held for c in letters):
            self.permissions[key] = held + "".join(c for c in letters if c not in held)
        self.unqualified.pop(key, None)

    def require_usage(self, schema_oid: int, relation: str, qualified: bool) -> None:
        """USAGE on the schema of a relation the statement names: without it, a qualified name
        is 42501 on the schema, an unqualified one a relation that does not exist (PostgreSQL's
        search_path skips schemas it may not use)."""
        key = (schema_oid, self.check_as)
        if qualified or key in self.permissions and key not in self.unqualified:
            self.require(schema_oid, "U")
            return
        self.permissions[key] = "U"
        self.unqualified.setdefault(key, relation)

    def reads_through(self, oid: int, entry: Any) -> None:
        """SELECT on relation `oid` covers the columns `entry` (a planner.scope.RangeEntry) reads."""
        self.read_entries.setdefault((oid, self.check_as), []).append(entry)

    def uses_columns(self, key: tuple[int, int], letter: str, attnums: set[int]) -> None:
        self.used_columns.setdefault(key, {}).setdefault(letter, set()).update(attnums)

    def permission_list(self) -> tuple[Permission, ...]:
        out = []
        for key, letters in self.permissions.items():
            used = {letter: set(cols) for letter, cols in self.used_columns.get(key, {}).items()}
            for entry in self.read_entries.get(key, ()):
                used.setdefault("r", set()).update(entry.read_cols)
            columns = tuple((c, tuple(sorted(used[c]))) for c in "raw" if c in letters and used.get(c))
            out.append((key[0], letters, key[1], self.unqualified.get(key, ""), columns))
        return tuple(out)


def conjuncts(expr: Expr | None) -> list[Expr]:
    if expr is None:
        return []
    if isinstance(expr, BoolExpr) and expr.op is BoolOp.AND:
        out: list[Expr] = []
        for a in expr.args:
            out.extend(conjuncts(a))
        return out
    return [expr]


def and_all(exprs: list[Expr]) -> Expr | None:
    if not exprs:
        return None
    if len(exprs) == 1:
        return exprs[0]
    return BoolExpr(BoolOp.AND, tuple(exprs))


def select_body(node: dict[str, Any]) -> dict[str, Any]:
    """Set-operation arms are bare SelectStmt bodies in pglast's JSON (sometimes wrapped)."""
    return node.get("SelectStmt", node)  # type: ignore[no-any-return]


def scope_type(scope: Scope, index: int) -> tuple[int, int]:
    for e in scope.entries:
        if e.offset <= index < e.offset + len(e.columns):
            return e.types[index - e.offset]
    return (TEXT_OID, -1)
