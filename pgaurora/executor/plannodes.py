"""Physical plan nodes: read-only values the planner builds and the executor runs.

Owns the shape of a plan (PostgreSQL's plannodes.h): scans, joins, sorts, aggregates, modifies,
and the top-level Plan with its result columns. Not how nodes run (one module per node family
in executor/) and not how they are chosen (planner/). Plans hold no execution state, so one
Plan can be cached, EXPLAINed and run many times at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from pgaurora.executor.expr import Expr

if TYPE_CHECKING:
    from pgaurora.catalog.acl import Permission


class PlanNode:
    __slots__ = ()
    width: int  # number of columns in this node's rows


@dataclass(frozen=True, slots=True)
class ResultColumn:
    """One column of a statement's result (RowDescription)."""

    name: str
    type_oid: int
    typmod: int = -1
    table_oid: int = 0
    attnum: int = 0


@dataclass(frozen=True, slots=True)
class ValuesScan(PlanNode):
    """Rows from expression lists (VALUES, and SELECT without FROM as one empty row)."""

    rows: tuple[tuple[Expr, ...], ...]
    width: int


@dataclass(frozen=True, slots=True)
class SeqScan(PlanNode):
    """Every visible row of a heap; `qual` filters (pushed down), over the table's columns."""

    table_oid: int
    table_name: str
    width: int
    qual: Expr | None = None
    with_tid: bool = False  # append the tid as a last column (UPDATE/DELETE sources)


@dataclass(frozen=True, slots=True)
class SampleScan(PlanNode):
    """TABLESAMPLE {SYSTEM | BERNOULLI} (percent) [REPEATABLE (seed)] over `input`, a SeqScan
    with its tids: each page (SYSTEM) or row (BERNOULLI) kept with probability percent / 100,
    decided by a hash of the seed and its place (executor.sample)."""

    input: PlanNode
    method: str
    percent: Expr
    seed: Expr | None
    width: int


class IndexKind(Enum):
    EQ = "eq"
    RANGE = "range"
    IN = "in"


@dataclass(frozen=True, slots=True)
class IndexScan(PlanNode):
    """Rows found through a B-tree: equality on a key prefix, a range on one column, or an IN list.

    `eq_keys` are expressions (Const/Param/ExecParam) for the leading index columns; for RANGE,
    `lo`/`hi` bound the column after them. `qual` re-checks whatever the index cannot.
    """

    table_oid: int
    table_name: str
    index_oid: int
    index_name: str
    width: int
    kind: IndexKind
    eq_keys: tuple[Expr, ...] = ()
    lo: Expr | None = None
    lo_inclusive: bool = True
    hi: Expr | None = None
    hi_inclusive: bool = True
    in_list: Expr | None = None
    qual: Expr | None = None
    key_count: int = 1
    with_tid: bool = False
    key_names: tuple[str, ...] = ()  # index column names, for EXPLAIN
    backward: bool = False  # RANGE / EQ on a key prefix: highest key first (ORDER BY ... DESC)
    nulls: bool = True  # an unbounded RANGE yields NULL keys too (ORDER BY); False: not (max())


@dataclass(frozen=True, slots=True)
class Filter(PlanNode):
    input: PlanNode
    qual: Expr
    width: int


@dataclass(frozen=True, slots=True)
class Project(PlanNode):
    input: PlanNode
    exprs: tuple[Expr, ...]
    width: int


class JoinType(Enum):
    INNER = "Inner"
    LEFT = "Left"
    RIGHT = "Right"
    FULL = "Full"
    SEMI = "Semi"
    ANTI = "Anti"


@dataclass(frozen=True, slots=True)
class NestLoop(PlanNode):
    """For each outer row, run `inner` (after storing `param_exprs` of the outer row into ExecParam
    slots `param_slots`, for index lookups) and join with `qual` over outer+inner columns."""

    join_type: JoinType
    outer: PlanNode
    inner: PlanNode
    qual: Expr | None
    width: int
    param_slots: tuple[int, ...] = ()
    param_exprs: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True)
class HashJoin(PlanNode):
    """Builds a hash table on `inner` by `inner_keys`, probes with `outer_keys`."""

    join_type: JoinType
    outer: PlanNode
    inner: PlanNode
    outer_keys: tuple[Expr, ...]
    inner_keys: tuple[Expr, ...]
    qual: Expr | None
    width: int


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: Expr
    descending: bool = False
    nulls_first: bool = False


@dataclass(frozen=True, slots=True)
class Sort(PlanNode):
    input: PlanNode
    keys: tuple[SortKey, ...]
    width: int


@dataclass(frozen=True, slots=True)
class Limit(PlanNode):
    input: PlanNode
    limit: Expr | None
    offset: Expr | None
    width: int
    ties: tuple[Expr, ...] = ()  # FETCH FIRST n ROWS WITH TIES: the ORDER BY keys whose peers come too


@dataclass(frozen=True, slots=True)
class Unique(PlanNode):
    """DISTINCT (all columns) or DISTINCT ON (the first `on_count` key expressions)."""

    input: PlanNode
    width: int
    on_exprs: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True)
class AggSpec:
    """One aggregate call: `make()` returns a fresh state object with step(*args)/final()."""

    name: str
    make: Callable[[], Any] = field(compare=False)
    args: tuple[Expr, ...]
    distinct: bool = False
    filter: Expr | None = None
    type_oid: int = 0
    order_by: tuple[SortKey, ...] = ()
    star: bool = False


@dataclass(frozen=True, slots=True)
class Aggregate(PlanNode):
    """Groups by `group_keys` (hash); output rows are group key values then aggregate results.
    With no group keys it yields exactly one row, even over no input (plain aggregation)."""

    input: PlanNode
    group_keys: tuple[Expr, ...]
    aggs: tuple[AggSpec, ...]
    width: int
    grouping_sets: tuple[tuple[int, ...], ...] | None = None


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A window function call: `make()` -> evaluator with a `compute(rows, partition, order)`."""

    name: str
    args: tuple[Expr, ...]
    partition_by: tuple[Expr, ...]
    order_by: tuple[SortKey, ...]
    frame: tuple[Any, ...]
    type_oid: int
    make: Callable[[], Any] | None = field(default=None, compare=False)
    filter: Expr | None = None


@dataclass(frozen=True, slots=True)
class WindowAgg(PlanNode):
    """Appends one column per window function to each input row."""

    input: PlanNode
    funcs: tuple[WindowSpec, ...]
    width: int


class SetOpKind(Enum):
    UNION = "Union"
    INTERSECT = "Intersect"
    EXCEPT = "Except"


@dataclass(frozen=True, slots=True)
class SetOp(PlanNode):
    kind: SetOpKind
    all: bool
    left: PlanNode
    right: PlanNode
    width: int


@dataclass(frozen=True, slots=True)
class CteScan(PlanNode):
    """Reads the materialized rows of CTE `cte_id` (computed once per execution)."""

    cte_id: int
    name: str
    plan: PlanNode
    width: int


@dataclass(frozen=True, slots=True)
class WorkTableScan(PlanNode):
    """The recursive reference inside WITH RECURSIVE: the previous iteration's rows."""

    cte_id: int
    width: int


@dataclass(frozen=True, slots=True)
class RecursiveUnion(PlanNode):
    cte_id: int
    non_recursive: PlanNode
    recursive: PlanNode
    all: bool
    width: int


@dataclass(frozen=True, slots=True)
class FunctionScan(PlanNode):
    """A set-returning function in FROM: `fn(*args)` returns an iterable of rows (tuples)."""

    name: str
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Expr, ...]
    width: int
    with_ordinality: bool = False
    needs_context: bool = False
    # a user function (its impl a WaitingFunction: awaited); not set-returning: one row of its value
    retset: bool = True


@dataclass(frozen=True, slots=True)
class RowsFromScan(PlanNode):
    """ROWS FROM (f(...), g(...)): each function's rows side by side, the shorter padded with NULLs."""

    functions: tuple[PlanNode, ...]  # FunctionScans
    width: int
    with_ordinality: bool = False


@dataclass(frozen=True, slots=True)
class SystemScan(PlanNode):
    """Rows of a pg_catalog / information_schema relation, computed from the catalog at execution
    time.  # system relations: see pgaurora/catalog/system"""

    schema: str
    name: str
    width: int
    qual: Expr | None = None  # pushed-down filter (planner.rules.push_down_filters)


@dataclass(frozen=True, slots=True)
class ProjectSet(PlanNode):
    """Targets with set-returning functions (SELECT generate_series(1,3)): expands rows."""

    input: PlanNode
    exprs: tuple[Expr, ...]
    srf_positions: tuple[int, ...]
    width: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A planned statement: the node tree and what the session needs to describe it.

    `command` is the CommandComplete word ('SELECT', 'INSERT', 'CREATE TABLE'); `columns` is
    None for statements that return no rows; `param_types` are the ($1..$n) type oids.
    """

    command: str
    node: Any
    columns: tuple[ResultColumn, ...] | None
    param_types: tuple[int, ...]
    catalog_version: int = 0
    exec_param_count: int = 0
    text: str = ""
    # executor.privileges: (object oid, privilege letters, role oid or 0 for current_user,
    # the relation an unqualified name looked up when the object is its schema, else '')
    permissions: tuple[Permission, ...] = ()


@dataclass(frozen=True, slots=True)
class RowMark:
    """One locked relation of a join (or a partitioned table): its row's tid and its table's oid
    (a partition's, for a partitioned table) are columns `tid_index` / `tableoid_index`."""

    tid_index: int
    tableoid_index: int
    mode: str
    wait: str


@dataclass(frozen=True, slots=True)
class LockRows(PlanNode):
    """SELECT ... FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE: locks the row whose tid is in
    column `tid_index` of each input row; rows that vanished (or are locked, with SKIP LOCKED)
    are dropped. `wait` is 'block', 'nowait' (55P03) or 'skip'. With `marks` (joins, partitioned
    tables) each mark's row is locked instead and `table_oid` / `tid_index` are unused."""

    input: PlanNode
    table_oid: int
    tid_index: int
    mode: str
    wait: str
    width: int
    marks: tuple[RowMark, ...] = ()
