"""pgaurora.executor — runs read-only plans; expressions compiled to closures; rows as tuples in batches.

Files (bottom-up):
    expr.py        typed expression nodes (Const, Var, Param, FuncExpr, BoolExpr, SubPlanExpr, ...)
    plannodes.py   physical plan nodes and the top-level Plan / ResultColumn
    compile.py     expression -> closure compilation (once per plan node)
    context.py     ExecContext (per statement, from the session) and Env (per run)
    nodes.py       node dispatch, compiled-expression cache, subplan evaluation
    sample.py      TABLESAMPLE SYSTEM / BERNOULLI (SampleScan)
    scan.py        VALUES, SeqScan, IndexScan, FunctionScan, CTE / recursive CTE scans, system columns
    project.py     Filter, Project, ProjectSet, Limit
    join.py        NestLoop (parameterized for index lookups), HashJoin
    mergejoin.py   MergeJoin over inputs sorted on the join key
    sort.py        Sort, Unique
    aggregate.py   hash / plain aggregation with FILTER, DISTINCT, ORDER BY
    window.py      window functions and frames
    setop.py       UNION / INTERSECT / EXCEPT [ALL]
    modify.py      INSERT / UPDATE / DELETE, constraints, RETURNING, ON CONFLICT, FK cascades
    modifypoint.py the rows an UPDATE / DELETE by one whole index key changes, without a scan node
    writer.py      one execution's target table: heap, index entries, NOT NULL / CHECK / unique checks
    resultrel.py   the target table of a write, as one plan sees it (built once per catalog state)
    indexkeys.py   keys of expression / partial indexes (which rows an index holds, under which key)
    partition.py   INSERT routing to partitions; UPDATE / DELETE over every partition
    lockrows.py    SELECT ... FOR UPDATE / SHARE [OF ...] [NOWAIT | SKIP LOCKED], also over joins; EvalPlanQual
    ddl.py         DDL plan nodes; CREATE TABLE / INDEX / SEQUENCE / VIEW / SCHEMA
    ddlchange.py   DROP (dependencies, CASCADE; DROP SCHEMA's contents), TRUNCATE, ALTER TABLE
    ddlmisc.py     ALTER ... OWNER TO, ALTER ... SET SCHEMA, LOCK TABLE, COMMENT ON
    viewdeps.py    views naming a relation renamed or moved to another schema: their query text follows
    ownership.py   current_user's role; the ownership checks of DDL ("must be owner of ...")
    privileges.py  the privilege checks of a plan (Plan.permissions), sequences, LOCK, TRUNCATE, CREATE
    policies.py    CREATE / ALTER / DROP POLICY, ALTER TABLE ... ROW LEVEL SECURITY
    domains.py     CREATE / DROP DOMAIN
    routines.py    CREATE / DROP / ALTER FUNCTION and PROCEDURE, CREATE / DROP / ALTER TRIGGER, DO, CALL
    triggers.py    which triggers an INSERT / UPDATE / DELETE fires, and when (the session runs them)
    grants.py      GRANT / REVOKE of privileges (tables, columns, sequences, schemas, the database);
                   ALTER DEFAULT PRIVILEGES
    roledefs.py    CREATE / ALTER ROLE's checks, GRANT / REVOKE role membership
    maintenance.py VACUUM (access.vacuum with index cleanup over the named or all tables)
    matview.py     REFRESH MATERIALIZED VIEW (a transactional swap to freshly filled relations)
    explain.py     EXPLAIN [ANALYZE] text for plans
    withmodify.py  data-modifying statements in WITH (each run once, before the main query)
    copy.py        COPY FROM's external rows (the session feeds ctx.extra["copy_batches"])
    fastpath.py    constant rows and point lookups on a unique index without the node machinery
    run.py         run(plan, params, ctx) -> Cursor
"""

from pgaurora.executor import (  # noqa: F401
    aggregate,
    copy,
    ddl,
    ddlchange,
    domains,
    enumtypes,
    explain,
    grants,
    join,
    lockrows,
    maintenance,
    matview,
    mergejoin,
    modify,
    partition,
    policies,
    project,
    roledefs,
    routines,
    sample,
    scan,
    setop,
    sort,
    window,
    withmodify,
)
from pgaurora.executor.context import Env, ExecContext, Settings
from pgaurora.executor.plannodes import Plan, ResultColumn
from pgaurora.executor.run import Cursor, run

__all__ = ["Cursor", "Env", "ExecContext", "Plan", "ResultColumn", "Settings", "run"]
