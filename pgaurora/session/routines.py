"""Running what CREATE FUNCTION, CREATE PROCEDURE, CREATE TRIGGER and DO define, for one session.

Owns calls of user functions (LANGUAGE sql: each statement of the body, the last one's first
value the result; LANGUAGE plpgsql: session.plpgsql), DO blocks, CALL, firing row and statement
triggers, and the SQL they run inside the calling statement's transaction (`query`: planned for
the session's search path and role, the plans kept while the catalog stays the same, a new
command id first so that a function sees what the statement calling it has written so far, as
PostgreSQL's volatile functions do), and a procedure's COMMIT / ROLLBACK where PostgreSQL allows
one (`end_transaction`: the session's transaction ends, the next begins). The executor reaches it through its context's session
(ctx.extra["session"].routines), which it cannot import. Not the catalog rows (executor.routines)
nor resolving calls to functions (planner.resolve).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

import pglast

from pgaurora.datatypes import composites
from pgaurora.datatypes.records import TypedRecord
from pgaurora.datatypes.typeinfo import RECORD_OID, format_type
from pgaurora.errors import (
    FeatureNotSupported,
    InvalidTransactionTermination,
    PgError,
    SyntaxError_,
    UndefinedFunction,
    WrongObjectType,
)
from pgaurora.executor.compile import compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.plannodes import Project, ValuesScan
from pgaurora.executor.privileges import require
from pgaurora.planner.exprbind import RECORD_PARAMS
from pgaurora.planner.fromclause import TRANSITION_TABLES
from pgaurora.planner.routines import dollar_quote
from pgaurora.session.plpgsql import VOID_OID, Frame, Record, check_record_shape, parse_function

# TransactionStmt kinds as PostgreSQL's CreateCommandName names them
_TRANSACTION_WORDS = {"TRANS_STMT_BEGIN": "BEGIN", "TRANS_STMT_START": "START TRANSACTION",
                      "TRANS_STMT_COMMIT": "COMMIT", "TRANS_STMT_ROLLBACK": "ROLLBACK",
                      "TRANS_STMT_SAVEPOINT": "SAVEPOINT", "TRANS_STMT_RELEASE": "RELEASE",
                      "TRANS_STMT_ROLLBACK_TO": "ROLLBACK", "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
                      "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
                      "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED"}
MAX_DEPTH = 100  # nested calls (PostgreSQL's limit is max_stack_depth; see cli.RECURSION_LIMIT)
_CLIENT_LEVELS = ("debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error")
_LEVEL_RANK = {"DEBUG": 4, "LOG": 5, "NOTICE": 6, "WARNING": 7}


@dataclass(slots=True)
class Result:
    """What one SQL statement a routine ran gave back."""

    rows: list[tuple[Any, ...]]
    names: tuple[str, ...]
    types: tuple[int, ...]
    row_count: int
    returns_rows: bool
    modifies: bool
    out_args: tuple[int, ...] = ()  # a CALL's: per result column, the argument it goes back to


_REWRITES: dict[str, list[tuple[int, int, Any]]] = {}


def _references(sql: str) -> list[tuple[int, int, Any]]:
    """The column references and $n parameters of `sql`: (byte start, byte end, names or number)."""
    known = _REWRITES.get(sql)
    if known is not None:
        return known
    try:
        tree = json.loads(pglast.parser.parse_sql_json(sql))
    except pglast.parser.ParseError as error:
        raise SyntaxError_(str(error.args[0]) if error.args else "syntax error") from None
    tokens = pglast.parser.scan(sql)
    at = {t.start: i for i, t in enumerate(tokens)}
    found: list[tuple[int, int, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "ColumnRef" and isinstance(value, dict):
                    fields = value.get("fields", [])
                    names = tuple(f["String"]["sval"] if "String" in f else "*" for f in fields
                                  if "String" in f or "A_Star" in f)
                    start = value.get("location", -1)
                    if len(names) == len(fields) and start in at:  # (rec.* too: its fields, listed)
                        last = at[start] + 2 * len(names) - 2
                        if last < len(tokens):
                            found.append((start, tokens[last].end + 1, names))
                    continue
                if key == "ParamRef" and isinstance(value, dict):
                    start = value.get("location", -1)
                    if start in at:
                        found.append((start, tokens[at[start]].end + 1, int(value.get("number", 0))))
                    continue
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(tree)
    found.sort()
    if len(_REWRITES) > 4096:
        _REWRITES.clear()
    _REWRITES[sql] = found
    return found


class FieldOf(NamedTuple):
    """What a reference `resolve` recognizes may also be: a field of a variable or an argument of a
    composite type (`p.x`), which becomes `($n).x`."""

    ref: Any
    name: str


def rewrite(sql: str, resolve: Any, expand: Any = None,
            records: dict[tuple[int, ...], tuple[tuple[str, ...], bool]] | None = None) -> tuple[str, list[Any]]:
    """`sql` with each reference `resolve` recognizes (a variable, an argument) replaced by $1,
    $2, ... (one number per distinct reference) and the references in that order. A reference
    `expand` turns into (field references, field names) (a record variable) becomes ROW($i, $j,
    ...), its parameter numbers -> field names put in `records` (planner.exprbind.RECORD_PARAMS)."""
    refs: list[Any] = []
    numbers: dict[Any, int] = {}
    encoded = sql.encode()
    out: list[bytes] = []
    pos = 0

    def number(ref: Any) -> int:
        n = numbers.get(ref)
        if n is None:
            refs.append(ref)
            n = numbers[ref] = len(refs)
        return n

    for start, end, what in _references(sql):
        ref = resolve(what)
        if ref is None:
            continue
        out.append(encoded[pos:start])
        if isinstance(ref, FieldOf):
            out.append(f'(${number(ref.ref)}).{_ident(ref.name)}'.encode())
            pos = end
            continue
        fields = expand(ref) if expand is not None else None
        if fields is not None:
            parts, names, null = fields
            taken = tuple(number(part) for part in parts)
            if isinstance(what, tuple) and what[-1] == "*":  # rec.*: the fields, one by one
                out.append(", ".join(f"${n}" for n in taken).encode())
                pos = end
                continue
            if records is not None:
                records[taken] = (names, null)
            if not taken and null:  # (a record assigned a NULL of no shape)
                out.append(b"NULL::record")
            else:
                out.append(("ROW(" + ", ".join(f"${n}" for n in taken) + ")").encode())
        else:
            out.append(f"${number(ref)}".encode())
        pos = end
    if pos == 0:
        return sql, refs
    out.append(encoded[pos:])
    return b"".join(out).decode(), refs


def substitute(sql: str, texts: dict[str, str]) -> str:
    """`sql` with each one-name column reference in `texts` replaced by its text (a domain's
    CHECK with VALUE as a column's name)."""
    encoded = sql.encode()
    out: list[bytes] = []
    pos = 0
    for start, end, what in _references(f"SELECT {sql}"):
        if isinstance(what, tuple) and len(what) == 1 and what[0] in texts:
            out.append(encoded[pos:start - 7])
            out.append(texts[what[0]].encode())
            pos = end - 7
    out.append(encoded[pos:])
    return b"".join(out).decode()


class Routines:
    """One session's runner of user functions, procedures, DO blocks and triggers."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._plans: dict[tuple[str, tuple[int, ...]], tuple[Any, Any]] = {}
        self._compiled: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._types: dict[str, tuple[Any, tuple[int, int]]] = {}
        self._simple: dict[int, tuple[Any, Any]] = {}  # id(plan) -> (plan, its simple evaluation or None)
        self.layouts: dict[int, tuple[Any, ...]] = {}  # PL/pgSQL functions' datum layouts (session.plpgsql)
        self.depth = 0
        self.trigger_depth = 0  # trigger functions running (pg_trigger_depth())
        self.synchronous = 0  # call_now calls under way: PL/pgSQL loops must not yield then
        # A CALL or DO run as a statement of its own outside a transaction block may COMMIT and
        # ROLLBACK (PostgreSQL's non-atomic context): the contexts of its procedures' frames, whose
        # transaction such a COMMIT replaces; None inside a function, a trigger or a block
        self.transaction_contexts: list[Any] | None = None
        self.subtransactions = 0  # PL/pgSQL exception blocks under way (no COMMIT inside one)
        # the running trigger function's transition tables: name -> (column names, types, rows)
        self.transition_tables: dict[str, Any] | None = None

    # -- SQL inside a routine ----------------------------------------------------------------------

    def _plan(self, sql: str, types: tuple[int, ...], ctx: Any,
              records: dict[tuple[int, ...], tuple[tuple[str, ...], bool]] | None = None,
              dynamic: bool = False) -> Any:
        session = self.session
        state = ctx.catalog.state_for(ctx.txn)
        tables = self.transition_tables
        shapes = {name: (names, oids) for name, (names, oids, _) in tables.items()} if tables else None
        key = (sql, types, session.settings.path_key, ctx.user, tuple(sorted(records.items())) if records else (),
               tuple(sorted(shapes.items())) if shapes else ())
        known = self._plans.get(key)  # type: ignore[arg-type]
        if known is not None and known[0] is state:
            return known[1]
        stmts = session.engine.parse(sql)
        if len(stmts) != 1:
            raise SyntaxError_("cannot insert multiple commands into a prepared statement" if stmts
                               else "empty query")
        if stmts[0].node_type == "TransactionStmt":  # (PL/pgSQL's own COMMIT / ROLLBACK end one)
            raise FeatureNotSupported("EXECUTE of transaction commands is not implemented" if dynamic
                                      else "transaction commands are not supported in functions")
        token = RECORD_PARAMS.set(records or None)
        tables_token = TRANSITION_TABLES.set(shapes)
        try:
            plan = session.plan_statement(stmts[0], types)
        finally:
            RECORD_PARAMS.reset(token)
            TRANSITION_TABLES.reset(tables_token)
        if len(self._plans) >= 512:
            self._plans.clear()
        self._plans[key] = (state, plan)  # type: ignore[index]
        return plan

    async def query(self, sql: str, types: tuple[int, ...], values: tuple[Any, ...], ctx: Any, *,
                    dynamic: bool = False, records: dict[tuple[int, ...], tuple[tuple[str, ...], bool]] | None = None,
                    source: str | None = None) -> Result:
        """Runs one statement inside the calling statement's transaction; all its rows. An error
        carries the statement (`source`: as the function wrote it) as PostgreSQL's internal
        query, and its position there while the text is the one planned."""
        try:
            plan = self._plan(sql, types, ctx, records, dynamic)
        except PgError as error:
            _internal(error, sql, source)
            raise
        simple = self._simple_expressions(plan)
        if simple is not None:  # PL/pgSQL's simple expression: no table, no subquery, nothing to await
            try:
                row = simple(values, ctx, plan.exec_param_count)
            except PgError as error:
                error.position = None
                raise
            return Result([row], tuple(c.name for c in plan.columns), tuple(c.type_oid for c in plan.columns), 1,
                          True, False)
        txn = ctx.txn
        if txn is not None and hasattr(txn, "next_command"):
            txn.next_command()  # see what the calling statement wrote so far (CommandCounterIncrement)
        session = self.session
        nested = session._context(txn)
        nested.user = ctx.user
        nested.extra["nested"] = True  # (executor.run: the caller's statement flushes sequences)
        if self.transition_tables:
            nested.extra["transition_tables"] = {name: rows for name, (_, _, rows) in self.transition_tables.items()}
        try:
            cursor = await session.engine.run(plan, values, nested)
            rows = await cursor.fetch(0)
        except PgError as error:
            error.position = None  # (a position in this statement, not in the client's)
            raise
        columns = plan.columns or ()
        modifies = plan.command in ("INSERT", "UPDATE", "DELETE", "MERGE")
        count = cursor.env.row_counts.get("rows", cursor.rowcount) if modifies else len(rows)
        return Result(rows, tuple(c.name for c in columns), tuple(c.type_oid for c in columns), int(count),
                      plan.columns is not None, modifies, getattr(plan.node, "out_args", ()))

    def _simple_expressions(self, plan: Any) -> Any:
        """For `SELECT expr, ...` without FROM (a PL/pgSQL expression, most of them): a function
        evaluating its row from the parameters at once, without an executor run (PostgreSQL's
        plpgsql evaluates such "simple expressions" the same way); None for any other plan."""
        known = self._simple.get(id(plan))
        if known is not None and known[0] is plan:
            return known[1]
        evaluate = None
        node = plan.node
        exprs = None
        if isinstance(node, ValuesScan) and len(node.rows) == 1:
            exprs = node.rows[0]
        elif isinstance(node, Project) and isinstance(node.input, ValuesScan) and node.input.rows == ((),):
            exprs = node.exprs  # (SELECT expr without FROM: a projection of one empty row)
        if plan.command == "SELECT" and not plan.permissions and exprs is not None and plan.columns is not None \
                and len(exprs) == len(plan.columns):
            fn, subplans = compile_exprs(exprs)
            if not subplans:
                def evaluate(values: tuple[Any, ...], ctx: Any, slots: int, fn: Any = fn) -> tuple[Any, ...]:
                    return tuple(fn((), Env(ctx, values, slots, _no_subplans)))
        if len(self._simple) > 1024:
            self._simple.clear()
        self._simple[id(plan)] = (plan, evaluate)
        return evaluate

    async def cast(self, value: Any, from_oid: int, to_type: str, ctx: Any) -> Any:
        result = await self.query(f"SELECT $1::{to_type}", (from_oid,), (value,), ctx)
        return result.rows[0][0]

    async def type_of(self, typname: str, ctx: Any) -> tuple[int, int]:
        """(oid, typmod) of a PL/pgSQL declaration's type text (`int`, `t.col%TYPE`, ...)."""
        state = ctx.catalog.state_for(ctx.txn)
        known = self._types.get(typname)
        if known is not None and known[0] is state:
            return known[1]  # type: ignore[no-any-return]
        if typname.lower().endswith("%type"):
            ref = typname[:-5]
            parts = ref.rsplit(".", 1)
            if len(parts) != 2:
                raise FeatureNotSupported(f"%TYPE of {ref} is not supported")
            plan = self._plan(f"SELECT {parts[1]} FROM {parts[0]} LIMIT 0", (), ctx)
        else:
            plan = self._plan(f"SELECT NULL::{typname}", (), ctx)
        column = plan.columns[0]
        if len(self._types) > 1024:
            self._types.clear()
        self._types[typname] = (state, (column.type_oid, column.typmod))
        return column.type_oid, column.typmod

    async def row_shape(self, typname: str, ctx: Any) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """(names, types) of the fields of a composite type or a table's row type (a PL/pgSQL
        variable declared of it)."""
        try:
            plan = self._plan(f"SELECT (NULL::{typname}).*", (), ctx)
        except PgError:
            plan = self._plan(f"SELECT * FROM {typname} LIMIT 0", (), ctx)
        return tuple(c.name for c in plan.columns), tuple(c.type_oid for c in plan.columns)

    def substitute(self, sql: str, texts: dict[str, str]) -> str:
        return substitute(sql, texts)

    def rewrite(self, sql: str, resolve: Any, nargs: int, expand: Any = None,
                records: dict[tuple[int, ...], tuple[tuple[str, ...], bool]] | None = None) -> tuple[str, list[Any]]:
        def lookup(what: Any) -> Any:
            if isinstance(what, int):
                return ("v", what - 1) if 0 < what <= nargs else None
            return resolve(list(what))
        return rewrite(sql, lookup, expand, records)

    def open_portal(self, name: str, result: Result) -> None:
        """A PL/pgSQL cursor OPENed: a portal of the session under its name too, so the SQL of the
        caller (FETCH ... FROM "name", a refcursor the function returned) reads its rows until
        the transaction ends, as PostgreSQL's cursors are the session's portals."""
        from pgaurora.executor.plannodes import ResultColumn
        from pgaurora.session.cursors import SqlCursor
        from pgaurora.session.portals import Portal, PreparedStatement

        names = self.session.names
        if name in names.portals:
            raise PgError(f'cursor "{name}" already in use', sqlstate="42P03")
        columns = tuple(ResultColumn(n, t) for n, t in zip(result.names, result.types, strict=True))
        prepared = PreparedStatement("", "", None, None, None, (), columns=columns)  # type: ignore[arg-type]
        portal = Portal(name, prepared, (), (0,) * len(columns), columns, from_sql=True)  # type: ignore[arg-type]
        portal.sql_cursor = SqlCursor(None, list(result.rows), True)
        names.portals[name] = portal

    def close_portal(self, name: str) -> None:
        self.session.names.portals.pop(name, None)

    def notice(self, ctx: Any, notice: PgError, level: str) -> None:
        if level != "INFO":
            wanted = str(ctx.settings.get("client_min_messages") or "notice").lower()
            rank = _CLIENT_LEVELS.index(wanted) if wanted in _CLIENT_LEVELS else 6
            if _LEVEL_RANK.get(level, 6) < rank:
                return
        ctx.notice(notice, level)

    # -- calls ---------------------------------------------------------------------------------------

    def call_now(self, fn: Any, args: tuple[Any, ...], ctx: Any) -> Any:
        """A call where the executor cannot wait (inside CASE, AND, OR, COALESCE...): the call
        runs to its end if it never has to wait (no page to read, no lock to wait for)."""
        return self.run_now(self.call(fn, args, ctx), fn)

    @staticmethod
    def field_of(ref: Any, name: str) -> FieldOf:
        """A reference to a field of a composite-typed variable (session.plpgsql's resolver)."""
        return FieldOf(ref, name)

    def run_now(self, coro: Any, fn: Any) -> Any:
        """Runs a call's coroutine to its end without waiting (see call_now)."""
        self.synchronous += 1
        try:
            coro.send(None)
        except StopIteration as done:
            return done.value
        finally:
            self.synchronous -= 1
        coro.close()
        raise FeatureNotSupported(
            f"function {fn.name} had to wait for storage or a lock where its call cannot wait",
            hint="Call it outside CASE, AND, OR and COALESCE, for example in a subquery.")

    async def call(self, fn: Any, args: tuple[Any, ...], ctx: Any,
                   expected: tuple[tuple[str, int], ...] = ()) -> Any:
        """The call's result: a value, a row (several OUT parameters) or, for a set-returning
        function, the list of its rows (values for a single column). `expected`: a function
        returning record called with a column definition list: its (name, type) columns."""
        if fn.kind == "p":
            raise WrongObjectType(f"{fn.name}({', '.join(format_type(t) for t in fn.arg_types)}) is a procedure",
                                  hint="To call a procedure, use CALL.")
        require(ctx, fn, "X")  # EXECUTE (PUBLIC holds it unless revoked)
        if len(args) < len(fn.arg_types):
            args = await self._with_defaults(fn, args, ctx)
        if fn.strict and any(a is None for a in args):
            return [] if fn.retset else None
        return await self._invoke(fn, args, ctx, expected)

    async def _with_defaults(self, fn: Any, args: tuple[Any, ...], ctx: Any) -> tuple[Any, ...]:
        """`args` and the DEFAULT values of the parameters the call left out."""
        missing = range(len(args), len(fn.arg_types))
        texts = [f"({fn.arg_defaults[i]})::{format_type(fn.arg_types[i])}" for i in missing]
        result = await self.query("SELECT " + ", ".join(texts), (), (), ctx)
        return (*args, *result.rows[0])

    async def _invoke(self, fn: Any, args: tuple[Any, ...], ctx: Any, expected: tuple[tuple[str, int], ...] = ()) -> Any:
        if self.depth >= MAX_DEPTH:
            raise _too_deep()
        self.depth += 1
        settings = self.session.settings
        saved = settings.snapshot() if fn.config else None
        contexts = self.transaction_contexts
        if fn.kind != "p" or fn.security_definer or fn.config:
            self.transaction_contexts = None  # (atomic: no COMMIT in there)
        tables, self.transition_tables = self.transition_tables, None  # (a trigger function's own)
        try:
            if fn.security_definer:  # the body runs as the function's owner
                owner = next((r.name for r in ctx.catalog.state_for(ctx.txn).roles.values() if r.oid == fn.owner),
                             ctx.user)
                ctx = dataclasses.replace(ctx, user=owner)
            for item in fn.config:  # SET clauses: in force until the call returns
                name, _, value = item.partition("=")
                settings.set(name, value, is_local=True)
            if fn.language == "sql":
                return await self._call_sql(fn, args, ctx, expected)
            frame = Frame(self, ctx, self._tree(fn, ctx), _shown(fn), fn.return_type)
            modes = fn.param_modes or ("i",) * len(fn.arg_types)
            frame.nargs = len(modes)
            frame.outs = tuple(i for i, m in enumerate(modes) if m in ("o", "b", "t"))
            frame.retset = fn.retset
            frame.columns = expected or ctx.catalog.state_for(ctx.txn).result_columns(fn)
            frame.checked = bool(expected)
            await frame.declare(args, fn.arg_types, tuple(i for i, m in enumerate(modes) if m in ("i", "b", "v")))
            return await frame.run()
        except RecursionError:  # (fewer frames than MAX_DEPTH calls need: an in-process server)
            raise _too_deep() from None
        finally:
            self.depth -= 1
            self.transaction_contexts = contexts
            self.transition_tables = tables
            if saved is not None:
                settings.restore(saved)

    def _tree(self, fn: Any, ctx: Any) -> dict[str, Any]:
        state = ctx.catalog.state_for(ctx.txn)  # (whether a DECLAREd type is a composite one: its version)
        key = (fn.oid, fn.body, fn.param_names or fn.arg_names, fn.param_modes, fn.arg_types, fn.return_type, fn.retset,
               state.version)
        tree = self._compiled.get(key)
        if tree is None:
            modes = fn.param_modes or ("i",) * len(fn.arg_types)
            words = {"i": "", "o": "OUT ", "b": "INOUT ", "t": "OUT ", "v": "VARIADIC "}
            params = ", ".join(f"{words[m]}{_ident(n)} {format_type(t)}" if n else f"{words[m]}{format_type(t)}"
                               for m, n, t in zip(modes, fn.param_names or fn.arg_names,
                                                  fn.param_types or fn.arg_types, strict=True))
            returns = "trigger" if fn.return_type == 2279 else format_type(fn.return_type)
            if fn.retset:
                returns = f"SETOF {returns}"
            kind = "PROCEDURE" if fn.kind == "p" else "FUNCTION"
            tail = "" if fn.kind == "p" else f" RETURNS {returns}"
            tree = parse_function(f"CREATE {kind} f({params}){tail} LANGUAGE plpgsql AS {dollar_quote(fn.body)}", fn.body,
                                  state.is_row_type_name)
            if len(self._compiled) > 256:
                self._compiled.clear()
            self._compiled[key] = tree
        return tree

    async def _call_sql(self, fn: Any, args: tuple[Any, ...], ctx: Any, expected: tuple[tuple[str, int], ...] = ()) -> Any:
        names = {n: i + 1 for i, n in enumerate(fn.arg_names) if n}

        def resolve(what: Any) -> Any:
            if isinstance(what, int):
                return what if 0 < what <= len(args) else None
            if len(what) == 1 and what[0] in names:
                return names[what[0]]
            if len(what) == 2 and what[0] == fn.name and what[1] in names:
                return names[what[1]]
            if len(what) == 2 and what[0] in names and composites.attributes(fn.arg_types[names[what[0]] - 1]):
                return FieldOf(names[what[0]], what[1])  # (a field of a composite-typed argument)
            return None

        stmts = self.session.engine.parse(fn.body)
        for stmt in stmts:
            if stmt.node_type == "TransactionStmt":
                word = _TRANSACTION_WORDS.get(stmt.tree.get("kind", ""), "COMMIT")
                raise FeatureNotSupported(f"{word} is not allowed in an SQL function",
                                          where=f'SQL function "{fn.name}" during startup')
        result: Result | None = None
        for stmt in stmts:
            text, refs = rewrite(stmt.text, resolve)
            types = tuple(fn.arg_types[n - 1] for n in refs)
            values = tuple(args[n - 1] for n in refs)
            try:
                result = await self.query(text, types, values, ctx)
            except PgError as error:
                line = f"SQL function \"{fn.name}\" statement {stmts.index(stmt) + 1}"
                error.where = f"{error.where}\n{line}" if error.where else line
                raise
        if fn.return_type == VOID_OID:  # (a procedure's, unless it has OUT / INOUT parameters)
            return None
        if result is None or not result.returns_rows:
            raise PgError(f"return type mismatch in function declared to return {format_type(fn.return_type)}",
                          sqlstate="42P13",
                          detail="Function's final statement must be SELECT or INSERT/UPDATE/DELETE RETURNING.")
        if expected:  # RETURNS record, called with a column definition list
            check_record_shape(result.types, expected, "", sql=fn.name)
            rows = [tuple(r) for r in result.rows]
            return rows if fn.retset else (rows[0] if rows else None)
        columns = ctx.catalog.state_for(ctx.txn).result_columns(fn)
        if fn.return_type == RECORD_OID and not columns:  # (RETURNS record in a select list: a record)
            rows = [TypedRecord.of(r, tuple(result.types)) for r in result.rows]
            return rows if fn.retset else (rows[0] if rows else None)
        if columns:  # a row (several OUT parameters, a table's rows): its columns as the query gives them
            if len(result.types) != len(columns):
                raise PgError(f"return type mismatch in function declared to return {format_type(fn.return_type)}",
                              sqlstate="42P13", detail=f"Final statement returns {len(result.types)} columns.")
            rows = [tuple(r) for r in result.rows]
            return rows if fn.retset else (rows[0] if rows else None)
        if fn.retset:
            if len(result.types) != 1:
                raise PgError(f"return type mismatch in function declared to return {format_type(fn.return_type)}",
                              sqlstate="42P13", detail="Final statement must return exactly one column.")
            column = [r[0] for r in result.rows]
            if result.types[0] != fn.return_type:
                column = [v if v is None else await self.cast(v, result.types[0], format_type(fn.return_type), ctx)
                          for v in column]
            return column
        if len(result.types) != 1:
            raise PgError(f"return type mismatch in function declared to return {format_type(fn.return_type)}",
                          sqlstate="42P13", detail="Final statement must return exactly one column.")
        value = result.rows[0][0] if result.rows else None
        if value is not None and result.types[0] != fn.return_type:
            value = await self.cast(value, result.types[0], format_type(fn.return_type), ctx)
        return value

    def validate_sql(self, body: str, arg_names: tuple[str, ...], arg_types: tuple[int, ...], ctx: Any,
                     name: str = "") -> None:
        """CREATE FUNCTION's check of a LANGUAGE sql body (check_function_bodies): each statement
        must plan, its names found (as PostgreSQL's validator analyzes them); a parameter may be
        named as `function_name.parameter`."""
        names = {n: i + 1 for i, n in enumerate(arg_names) if n}

        def resolve(what: Any) -> Any:
            if isinstance(what, int):
                return what if 0 < what <= len(arg_types) else None
            if len(what) == 2 and what[0] == name:
                return names.get(what[1])
            if len(what) == 2 and what[0] in names and composites.attributes(arg_types[names[what[0]] - 1]):
                return FieldOf(names[what[0]], what[1])
            return names.get(what[0]) if len(what) == 1 else None

        for stmt in self.session.engine.parse(body):
            if stmt.node_type not in ("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt"):
                return  # (after a utility statement the later ones may name what it creates)
            text, refs = rewrite(stmt.text, resolve)
            try:
                self._plan(text, tuple(arg_types[n - 1] for n in refs), ctx)
            except PgError as error:
                error.position = None
                raise

    async def run_do(self, source: str, ctx: Any) -> None:
        tree = parse_function(f"CREATE FUNCTION inline_code_block() RETURNS void LANGUAGE plpgsql AS {dollar_quote(source)}",
                              source, ctx.catalog.state_for(ctx.txn).is_row_type_name)
        contexts = self._enter_nonatomic(ctx)
        self.depth += 1
        try:
            frame = Frame(self, ctx, tree, "inline_code_block", VOID_OID)
            frame.nargs = 0
            await frame.declare((), ())
            await frame.run()
        finally:
            self.depth -= 1
            self.transaction_contexts = contexts

    def _enter_nonatomic(self, ctx: Any) -> list[Any] | None:
        """A CALL or DO starts: whether its procedure may COMMIT (a statement of its own outside
        a transaction block, or inside a procedure that may); the contexts before it."""
        contexts = self.transaction_contexts
        if self.depth == 0 and getattr(self.session, "nonatomic", False):
            self.transaction_contexts = [ctx]
        elif contexts is not None:
            self.transaction_contexts = [*contexts, ctx]
        return contexts

    async def end_transaction(self, commit: bool, chain: bool) -> None:
        """PL/pgSQL's COMMIT / ROLLBACK [AND CHAIN] in a procedure: the transaction ends and a new
        one begins (with the same characteristics when chained), in which the procedure goes on."""
        contexts = self.transaction_contexts
        if contexts is None:
            raise InvalidTransactionTermination("invalid transaction termination")
        if self.subtransactions:
            raise InvalidTransactionTermination(
                f"cannot {'commit' if commit else 'roll back'} while a subtransaction is active")
        block = self.session.block
        characteristics = (block.isolation, block.read_only, block.deferrable)
        await (block.commit() if commit else block.abort())
        block.start_implicit()
        if chain:
            block.set_characteristics(*characteristics)
        txn = block.transaction()
        for ctx in contexts:
            ctx.txn = txn
            ctx.snapshot = None
            ctx.transaction_start = block.started_at

    async def call_procedure(self, oid: int, args: tuple[Any, ...], ctx: Any, shown: str) -> tuple[Any, ...] | None:
        """CALL of the procedure the planner chose, with its input parameters' values: the row of
        its OUT / INOUT parameters, or None when it has none."""
        fn = ctx.catalog.state_for(ctx.txn).function(oid)
        if fn is None:
            raise UndefinedFunction(f"procedure {shown} does not exist")
        require(ctx, fn, "X")
        contexts = self._enter_nonatomic(ctx)
        try:
            result = await self._invoke(fn, args, ctx)
        finally:
            self.transaction_contexts = contexts
        outs = fn.out_columns()
        if not outs:
            return None
        if fn.language == "plpgsql" and len(outs) == 1:
            return (result,)
        return tuple(result) if result is not None else (None,) * len(outs)

    # -- triggers ------------------------------------------------------------------------------------

    async def fire(self, trigger: Any, table: Any, event: str, names: tuple[str, ...], types: tuple[int, ...],
                   old: tuple[Any, ...] | None, new: tuple[Any, ...] | None, ctx: Any,
                   transition: dict[str, Any] | None = None) -> tuple[Any, ...] | None:
        """Runs one trigger's function with OLD / NEW as given: the row it returns (what a BEFORE
        ROW trigger's table gets written: NEW, OLD or another record of the table's shape) or None.
        `transition`: its transition tables, name -> (column names, types, rows), which the
        queries of the function (not of functions it calls) read as relations."""
        state = ctx.catalog.state_for(ctx.txn)
        fn = state.function(trigger.function_oid)
        if fn is None:
            raise PgError(f"cache lookup failed for function {trigger.function_oid}", sqlstate="XX000")
        if fn.language != "plpgsql":
            raise FeatureNotSupported(f"trigger functions in language {fn.language} are not supported")
        schema = next((s.name for s in state.schemas.values() if s.oid == table.schema_oid), "public")
        specials: dict[str, tuple[Any, int]] = {
            "tg_name": (trigger.name, 19), "tg_when": (trigger.timing.upper(), 25),
            "tg_level": ("ROW" if trigger.for_each_row else "STATEMENT", 25), "tg_op": (event.upper(), 25),
            "tg_relid": (table.oid, 26), "tg_relname": (table.name, 19), "tg_table_name": (table.name, 19),
            "tg_table_schema": (schema, 19), "tg_nargs": (len(trigger.args), 23),
            "tg_argv": (list(trigger.args), 1009),
        }
        if self.depth >= MAX_DEPTH:
            raise _too_deep()
        self.depth += 1
        self.trigger_depth += 1
        contexts, self.transaction_contexts = self.transaction_contexts, None
        tables = self.transition_tables
        self.transition_tables = transition
        try:
            frame = Frame(self, ctx, self._tree(fn, ctx), _shown(fn), fn.return_type, specials)
            await frame.declare((), ())
            # (a row-level trigger's NEW or OLD that the event has not is NULL, of the table's shape)
            frame.set_record("new", Record(names, types, list(new) if new is not None else None))
            frame.set_record("old", Record(names, types, list(old) if old is not None else None))
            result = await frame.run()
        finally:
            self.depth -= 1
            self.trigger_depth -= 1
            self.transaction_contexts = contexts
            self.transition_tables = tables
        values = result.values if isinstance(result, Record) else None
        if values is None:
            if result is not None and not isinstance(result, Record):
                raise PgError("returned row structure does not match the structure of the triggering table",
                              sqlstate="42804")
            return None
        if len(values) != len(names):
            expected = sum(1 for n in names if not n.startswith("........pg.dropped."))
            returned = len(result.visible) if isinstance(result, Record) else len(values)
            raise PgError("returned row structure does not match the structure of the triggering table",
                          sqlstate="42804", detail=f"Number of returned columns ({returned}) does not match expected "
                                                   f"column count ({expected}).",
                          where=f"PL/pgSQL function {_shown(fn)} during function exit")
        return tuple(values)

    async def trigger_condition(self, trigger: Any, table: Any, names: tuple[str, ...], types: tuple[int, ...],
                                old: tuple[Any, ...] | None, new: tuple[Any, ...] | None, ctx: Any) -> Any:
        """A trigger's WHEN condition for one row."""
        rows = {"old": old, "new": new}

        def resolve(what: Any) -> Any:
            if isinstance(what, tuple) and len(what) == 2 and what[0] in rows and what[1] in names:
                return (what[0], names.index(what[1]))
            return None

        text, refs = rewrite(f"SELECT ({trigger.when})::boolean", resolve)
        values = []
        for which, at in refs:
            row = rows[which]
            values.append(row[at] if row is not None else None)
        result = await self.query(text, tuple(types[at] for _, at in refs), tuple(values), ctx)
        return result.rows[0][0]


def _too_deep() -> PgError:
    return PgError("stack depth limit exceeded", sqlstate="54001",
                   hint="Increase the configuration parameter \"max_stack_depth\" (currently 2048kB), "
                        "after ensuring the platform's stack depth limit is adequate.")


async def _no_subplans(sub: Any, env: Any) -> Any:
    raise PgError("a simple expression has no subqueries", sqlstate="XX000")


def _internal(error: PgError, sql: str, source: str | None) -> None:
    """The position an error of a routine's statement has is in that statement, not in the one
    the client sent: it becomes the internal position of the internal query (the innermost)."""
    if error.internal_query is not None:
        error.position = None
        return
    position, error.position = error.position, None
    if position is None:  # (not a parse analysis error: the CONTEXT says which statement)
        return
    error.internal_query = source if source is not None else sql
    if source is None or source == sql:
        error.internal_position = position
    error._plan_failed = True  # type: ignore[attr-defined]  # (session.plpgsql's CONTEXT lines)


def _shown(fn: Any) -> str:
    return f"{fn.name}({', '.join(format_type(t) for t in fn.arg_types)})"


def _ident(name: str) -> str:
    return name if name.isidentifier() and name == name.lower() else '"' + name.replace('"', '""') + '"'


