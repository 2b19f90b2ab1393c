"""pgaurora.executor — runs read-only plans; expressions compiled to closures; rows as tuples in batches.

Files (bottom-up):
    expr.py        typed expression nodes (Const, Var, Param, FuncExpr, BoolExpr, SubPlanExpr, ...)
    plannodes.py   physical plan nodes and the top-level Plan / ResultColumn
    compile.py     expression -> closure compilation (once per plan node)
    context.py     ExecContext (per statement, from the session) and Env (per run)
    nodes.py       node dispatch, compiled-expression cache, subplan evaluation
    scan.py        VALUES, SeqScan, IndexScan, FunctionScan, CTE / recursive CTE scans
    project.py     Filter, Project, ProjectSet, Limit
    join.py        NestLoop (parameterized for index lookups), HashJoin
    sort.py        Sort, Unique
    aggregate.py   hash / plain aggregation with FILTER, DISTINCT, ORDER BY
    window.py      window functions and frames
    setop.py       UNION / INTERSECT / EXCEPT [ALL]
    modify.py      INSERT / UPDATE / DELETE, constraints, RETURNING, ON CONFLICT
    ddl.py         CREATE / DROP / ALTER / TRUNCATE and roles
    explain.py     EXPLAIN text for plans
    copy.py        COPY support for the session: copy_from / copy_to
    run.py         run(plan, params, ctx) -> Cursor
"""

from pgaurora.executor import aggregate, copy, ddl, explain, join, modify, project, scan, setop, sort, window  # noqa: F401
from pgaurora.executor.context import Env, ExecContext, Settings
from pgaurora.executor.plannodes import Plan, ResultColumn
from pgaurora.executor.run import Cursor, run

__all__ = ["Cursor", "Env", "ExecContext", "Plan", "ResultColumn", "Settings", "run"]
