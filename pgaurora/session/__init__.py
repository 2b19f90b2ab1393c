"""pgaurora.session — per-connection state: transaction blocks, statements, portals, settings.

    session.py       Session: simple Query, cancellation, statement_timeout, the ResultSink
    extended.py      the extended protocol (Parse/Bind/Describe/Execute/Close/Sync), mixed in
    transaction.py   TransactionBlock: IDLE / IMPLICIT / BLOCK / FAILED, savepoints, lazy begin
    utility.py       reading the parse trees of statements the session answers itself
    utility_exec.py  running them: BEGIN/COMMIT/SAVEPOINT, SET/SHOW/RESET, PREPARE/EXECUTE,
                     DISCARD, CLOSE, LISTEN/NOTIFY, DECLARE/FETCH
    copy.py          COPY FROM STDIN / TO STDOUT through the ResultSink
    fastpath.py      SELECT 1 / primary-key SELECTs answered outside a transaction when idle
    portals.py       PreparedStatement, Portal and their namespace
    settings.py      Settings: GUC values, SET LOCAL, transactional undo, ParameterStatus
    guc_table.py     the parameter definitions (name, type, default, context, GUC_REPORT)
    engine.py        Engine: the one seam to planner/executor/catalog/txn
    readonly.py      read-only transactions: which plans they refuse (25006, PostgreSQL's words)
    routines.py      user functions, procedures, DO and triggers: calls, and the SQL they run
    plpgsql.py       the PL/pgSQL interpreter (over pglast.parse_plpgsql's tree)
    conditions.py    PL/pgSQL's condition names and their SQLSTATEs
"""

from pgaurora.session.settings import Settings

__all__ = ["Settings"]
