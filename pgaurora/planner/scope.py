"""Name scopes: which columns a name can mean at one query level, and correlation to outer levels.

Owns FROM-item entries (alias, column names and types, where they sit in the joined row) and
the lookup rules with PostgreSQL's errors: 42703 'column "x" does not exist', 42702 ambiguous,
42P01 'missing FROM-clause entry for table "t"'. References to an enclosing query's columns
become ExecParam slots that the subquery's caller fills in (correlation).

System columns: when a statement names one (`mentions_system_column(text)`), each table's entry
carries PostgreSQL's system columns after its own (ctid, xmin, cmin, xmax, cmax, tableoid:
attnums -1 .. -6) and then the scan's tid (TID_COLUMN). They resolve by name, qualified or not,
but `*` and `t.*` never show them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pgaurora.errors import AmbiguousColumn, UndefinedColumn, UndefinedTable
from pgaurora.executor.expr import ExecParam, Expr, Var

SYSTEM_COLUMNS = ("ctid", "xmin", "cmin", "xmax", "cmax", "tableoid")  # attnums -1 .. -6
SYSTEM_COLUMN_TYPES = ((27, -1), (28, -1), (29, -1), (28, -1), (29, -1), (26, -1))  # tid, xid, cid, oid
SYSTEM_ATTNUMS = (-1, -2, -3, -4, -5, -6)
SYSTEM_NAMES = frozenset(SYSTEM_COLUMNS)
TID_COLUMN = "........tid........"  # the scan's own tid (row locks, EvalPlanQual): never resolvable
_MENTION = re.compile(r"\b(?:ctid|xmin|xmax|cmin|cmax|tableoid)\b", re.IGNORECASE)


def mentions_system_column(text: str) -> bool:
    """Whether a statement's text may name a system column (then tables carry them: see above)."""
    return _MENTION.search(text) is not None


@dataclass(slots=True)
class RangeEntry:
    """One FROM item as seen by name lookup: its columns sit at `offset` .. in the joined row."""

    alias: str
    columns: list[str]
    types: list[tuple[int, int]]
    offset: int = 0
    table_oid: int = 0
    attnums: list[int] = field(default_factory=list)
    hidden: bool = False  # a join's merged USING columns hide the inputs' own for unqualified names
    using_hidden: set[str] = field(default_factory=set)
    read: bool = False  # a column of it was named (an UPDATE / DELETE target's reads need SELECT)
    read_cols: set[int] = field(default_factory=set)  # the attnums (positions without attnums) named
    scalar: bool = False  # a function of a base type in FROM: its whole-row value is its one column


    def note_read(self, index: int) -> None:
        self.read = True
        self.read_cols.add(self.attnums[index] if self.attnums else index + 1)


class StatementState:
    """What every level of one statement shares: exec param slots."""

    def __init__(self, catalog: object = None) -> None:
        self.exec_params = 0
        self.catalog = catalog  # the CatalogState, for names inside expressions (nextval('s'))

    def new_slot(self) -> int:
        slot = self.exec_params
        self.exec_params += 1
        return slot


class Scope:
    """The FROM items of one query level; `parent` is the enclosing query's scope."""

    def __init__(self, state: StatementState, parent: Scope | None = None, opaque: bool = False) -> None:
        self.state = state
        self.parent = parent
        # opaque: the parent's own FROM items are not visible (a non-LATERAL subquery in FROM, a CTE
        # body, a set-operation arm) but the levels above it are, correlating through the parent
        self.opaque = opaque
        self.entries: list[RangeEntry] = []
        self.width = 0
        # correlation: (slot, expression in the parent's row) for values this level reads from outside
        self.outer_refs: list[tuple[int, Expr]] = []
        self._outer_cache: dict[Expr, int] = {}

    def add(self, entry: RangeEntry) -> RangeEntry:
        entry.offset = self.width
        self.width += len(entry.columns)
        self.entries.append(entry)
        return entry

    def find_entry(self, name: str) -> RangeEntry | None:
        for e in self.entries:
            if e.alias == name:
                return e
        return None

    def resolve(self, names: list[str], position: int | None,
                skip_local: bool = False) -> tuple[Expr, RangeEntry, int]:
        """A column reference `[table.]column`; returns the expression, its entry and its index.

        `skip_local` is set when an opaque child asks: this level's own FROM items are invisible
        to it, only the levels above (whose values reach this level as ExecParams).
        """
        found = None if skip_local else self._lookup(names, position)
        if found is not None:
            return found
        if self.parent is not None:
            try:
                outer_expr, entry, idx = self.parent.resolve(names, position, self.opaque)
            except (UndefinedColumn, UndefinedTable):
                outer_expr = None
            if outer_expr is not None:
                # an opaque level runs inside its parent's execution: the parent's value is usable as is
                return (outer_expr if self.opaque else self.outer_param(outer_expr)), entry, idx
        raise self._missing(names, position)

    def outer_param(self, outer_expr: Expr) -> ExecParam:
        slot = self._outer_cache.get(outer_expr)
        if slot is None:
            slot = self.state.new_slot()
            self._outer_cache[outer_expr] = slot
            self.outer_refs.append((slot, outer_expr))
        return ExecParam(slot, outer_expr.type_oid, outer_expr.typmod)

    def _lookup(self, names: list[str], position: int | None) -> tuple[Expr, RangeEntry, int] | None:
        if len(names) == 1:
            col = names[0]
            hits: list[tuple[RangeEntry, int]] = []
            for e in self.entries:
                if e.hidden or (col in e.using_hidden and col not in SYSTEM_NAMES):  # system columns: hidden from * only
                    continue
                for i, c in enumerate(e.columns):
                    if c == col:
                        hits.append((e, i))
            if len(hits) > 1:
                raise AmbiguousColumn(f'column reference "{col}" is ambiguous', position=position)
            if not hits:
                return None
            e, i = hits[0]
            e.note_read(i)
            oid, typmod = e.types[i]
            return Var(e.offset + i, oid, typmod, col), e, i
        table, col = names[-2], names[-1]
        entry = None
        for e in self.entries:
            if e.alias == table and not (e.hidden and e.alias == ""):
                entry = e
                break
        if entry is None:
            return None
        for i, c in enumerate(entry.columns):
            if c == col:
                entry.note_read(i)
                oid, typmod = entry.types[i]
                return Var(entry.offset + i, oid, typmod, col), entry, i
        raise UndefinedColumn(f'column {table}.{col} does not exist', position=position)

    def _has_table(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if scope.find_entry(name) is not None:
                return True
            scope = scope.parent
        return False

    def _missing(self, names: list[str], position: int | None) -> Exception:
        if len(names) >= 2:
            table = names[-2]
            if not self._has_table(table):
                return UndefinedTable(f'missing FROM-clause entry for table "{table}"', position=position)
            return UndefinedColumn(f"column {table}.{names[-1]} does not exist", position=position)
        col = names[0]
        hint = None
        for e in self.entries:
            if e.alias == col and e.table_oid:
                break
        else:
            e = None  # type: ignore[assignment]
        if e is not None:
            pass
        return UndefinedColumn(f'column "{col}" does not exist', position=position, hint=hint)

    def star(self, table: str | None, position: int | None) -> list[tuple[Expr, str, RangeEntry, int]]:
        """The columns of `*` or `table.*` in order."""
        out: list[tuple[Expr, str, RangeEntry, int]] = []
        if table is not None:
            entry = self.find_entry(table)
            if entry is None:
                raise UndefinedTable(f'missing FROM-clause entry for table "{table}"', position=position)
            entries = [entry]
        else:
            entries = [e for e in self.entries if not e.hidden]
        for e in entries:
            e.read = True
            for i, c in enumerate(e.columns):
                if c in e.using_hidden and (table is None or c in SYSTEM_NAMES or c == TID_COLUMN):
                    continue  # system columns (also a system relation's tableoid: see pgaurora/catalog/system)
                if not c.startswith("........pg.dropped."):
                    e.note_read(i)
                oid, typmod = e.types[i]
                out.append((Var(e.offset + i, oid, typmod, c), c, e, i))
        return out
