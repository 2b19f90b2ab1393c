"""pgaurora.planner — SQL text to read-only executor plans.

Files (top-down, in the order a query meets them):
    parse.py       parse(sql) -> ParsedStatement list (pglast JSON; 42601 with position)
    plancache.py   the simple-protocol plan cache: literals become parameters of a generic plan
    planner.py     plan(stmt, catalog, param_types) -> Plan: dispatch, optimizer, packaging
    select.py      SELECT: WHERE, GROUP BY (grouping sets), windows, DISTINCT, ORDER BY, LIMIT, FOR UPDATE,
                   set operations, VALUES
    fromclause.py  FROM and WITH: tables, views, CTEs (recursive), subqueries, LATERAL, functions, joins
    rowmarks.py    FOR UPDATE / SHARE [OF ...] over joins and partitioned tables: which tables, how
    syscolumns.py  system columns (ctid, xmin, ...) of tables: entries, scans, RETURNING of them
    querycontext.py  what all query levels of one statement share (QueryContext, Planned, Cte), and the
                   privileges the plan needs (Plan.permissions: relations, columns, schemas; views' owners)
    modify.py      INSERT / UPDATE / DELETE, RETURNING, ON CONFLICT, constraint expressions
    ddl.py         CREATE / DROP / TRUNCATE / sequences / views / roles analysis
    grants.py      GRANT / REVOKE of privileges, ALTER DEFAULT PRIVILEGES
    rowsecurity.py row security policies: their DDL, and the filters and checks they add to plans
    ownership.py   ALTER ... OWNER TO, ALTER ... SET SCHEMA, LOCK TABLE, COMMENT ON
    routines.py    CREATE / DROP / ALTER FUNCTION, PROCEDURE and TRIGGER, DO, CALL: reading them
    plpgsql_blocks.py  PL/pgSQL source: which block declares which variable; composite-typed variables
    domains.py     CREATE / DROP DOMAIN; a domain's constraints where its values are made
    tablelike.py   CREATE TABLE (LIKE ... INCLUDING ...)
    generated.py   generated columns: validation, and their values in INSERT / UPDATE / COPY rows
    indexexpr.py   expression and partial indexes: CREATE INDEX analysis, key binding, predicate matching
    matview.py     CREATE / REFRESH MATERIALIZED VIEW
    partition.py   PARTITION BY / PARTITION OF, partition pruning, routing and DML over partitions
    alter.py       ALTER TABLE / RENAME
    views.py       INSERT / UPDATE / DELETE through automatically updatable views
    copy.py        COPY FROM / TO plans for the session
    explain.py     EXPLAIN [ANALYZE]
    scope.py       name scopes and correlation (outer references become ExecParams)
    exprbind.py    expression binding and typing
    srf.py         set-returning functions in target lists: ProjectSet levels (split_pathtarget_at_srfs)
    resolve.py     operator/function resolution, coercion, literal typing, common types
    rowtypes.py    whole-row references (SELECT t FROM t), row_to_json(t), record::text
    rules.py       optimizer rules (filter pushdown, partition pruning, index selection, join methods)
    mergejoin.py   optimizer rule: merge join for inputs sorted on the join key
    indexorder.py  optimizer rule: ORDER BY ... LIMIT and min() / max() read in a B-tree's order
    joinorder.py   optimizer rule: join order and methods by estimated cost (DP over connected subsets)
    estimate.py    row and cost estimates of plan nodes (reltuples, scaled to the heap's pages)
    selectivity.py clause selectivity from ANALYZE's statistics or PostgreSQL's defaults
    maintenance.py VACUUM and ANALYZE: options, tables and columns
"""

from pgaurora.planner.parse import ParsedStatement, parse, parse_one
from pgaurora.planner.planner import plan

__all__ = ["ParsedStatement", "parse", "parse_one", "plan"]
