"""PL/pgSQL: running a function's body, a DO block or a trigger function, statement by statement.

Owns the interpreter over the tree pglast.parse_plpgsql gives (PostgreSQL's own PL/pgSQL
parser): variables and records (NEW / OLD, FOR loop rows, %ROWTYPE), assignment, IF / CASE,
LOOP / WHILE / FOR (integer ranges, queries, EXECUTE) / FOREACH ... IN ARRAY, EXIT / CONTINUE,
RETURN, RAISE, ASSERT, PERFORM, SQL statements with INTO [STRICT], EXECUTE ... USING, GET
[STACKED] DIAGNOSTICS, FOUND, and exception blocks (a savepoint of the transaction per block,
rolled back when a handler catches the error). Every expression and SQL statement runs as SQL
through the session (`Routines.query`): variables become parameters ($n) where the statement's
parse tree names them (ColumnRef / ParamRef nodes), as PostgreSQL's parser hooks substitute
them. Not the catalog of functions (executor.routines) nor how calls reach here (session.routines).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
from typing import Any

import pglast

from pgaurora.datatypes import composites
from pgaurora.datatypes.records import TypedRecord
from pgaurora.datatypes.typeinfo import RECORD_OID, format_type
from pgaurora.errors import (
    AssertFailure,
    CaseNotFound,
    FeatureNotSupported,
    NoDataFound,
    PgError,
    RaiseException,
    SyntaxError_,
    TooManyRows,
)
from pgaurora.planner.plpgsql_blocks import mark_row_types, place_declarations
from pgaurora.session.conditions import BY_NAME

_LEVELS = {14: "DEBUG", 15: "LOG", 17: "INFO", 18: "NOTICE", 19: "WARNING", 21: "EXCEPTION"}
_RAISE_OPTIONS = {0: "errcode", 1: "message", 2: "detail", 3: "hint", 4: "column", 5: "constraint",
                  6: "datatype", 7: "table", 8: "schema"}
_savepoints = itertools.count(1)
BOOL_OID, INT4_OID, INT8_OID, TEXT_OID, NAME_OID, OID_OID, VOID_OID, TRIGGER_OID = 16, 23, 20, 25, 19, 26, 2278, 2279
TEXT_ARRAY_OID = 1009


class Record:
    """A record variable's value: named, typed fields (NEW, OLD, a FOR loop's row); `values`
    None is a NULL record of that shape (OLD in an INSERT trigger)."""

    __slots__ = ("names", "types", "values", "visible")

    def __init__(self, names: tuple[str, ...], types: tuple[int, ...], values: list[Any] | None) -> None:
        self.names = names
        self.types = types
        self.values = values
        # the fields a whole-record reference shows: a table's dropped columns keep their places
        # in the row but are no fields
        self.visible = tuple(i for i, n in enumerate(names) if not n.startswith("........pg.dropped."))

    def get(self, at: int) -> Any:
        return None if self.values is None else self.values[at]

    def field(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise PgError(f'record has no field "{name}"', sqlstate="42703") from None


class _Cursor:
    """An open cursor: its query's rows (read when it was opened) and the position in them
    (0 before the first row, len + 1 after the last)."""

    __slots__ = ("rows", "names", "types", "position")

    def __init__(self, result: Any) -> None:
        self.rows = result.rows
        self.names = result.names
        self.types = result.types
        self.position = 0


class _Exit(Exception):
    def __init__(self, label: str | None, is_exit: bool) -> None:
        self.label = label
        self.is_exit = is_exit


class _Return(Exception):
    def __init__(self, value: Any, has_value: bool) -> None:
        self.value = value
        self.has_value = has_value


def parse_function(statement: str, body: str = "", is_row_type: Any = None) -> dict[str, Any]:
    """The PLpgSQL_function tree of a CREATE FUNCTION (or DO wrapped as one) text whose function
    body is `body` (its variables of composite types made records: `is_row_type`)."""
    shapes: dict[tuple[str, int], tuple[str, str | None]] = {}
    if is_row_type is not None and body and statement.count(body) == 1:
        marked, shapes = mark_row_types(body, is_row_type)
        statement, body = statement.replace(body, marked), marked
    try:
        tree: dict[str, Any] = pglast.parse_plpgsql(statement)[0]["PLpgSQL_function"]
    except pglast.parser.ParseError as error:
        raise SyntaxError_(str(error.args[0]) if error.args else "syntax error") from None
    for datum in tree.get("datums", ()):  # (a variable of a composite type: a record of its shape)
        rec = datum.get("PLpgSQL_rec")
        if rec is not None and (rec.get("refname"), rec.get("lineno")) in shapes:
            rec["rowtype"], default = shapes[(rec["refname"], rec["lineno"])]
            if default is not None:
                rec["default_val"] = {"PLpgSQL_expr": {"query": default}}
    _name_return_next_variables(tree, body)
    place_declarations(tree, body)
    return tree


def _name_return_next_variables(tree: dict[str, Any], body: str) -> None:
    """`RETURN NEXT variable;`: pglast's tree leaves out which variable (PostgreSQL's retvarno);
    the body's tokens say it. Each such statement, in source order, gets the name it returns
    (`retvar`), which the frame resolves in its scope."""
    pending: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            inner = node.get("PLpgSQL_stmt_return_next")
            if inner is not None and inner.get("expr") is None and "retvarno" not in inner:
                pending.append(inner)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree.get("action"))
    if not pending or not body:
        return
    encoded = body.encode()
    try:
        tokens = list(pglast.parser.scan(body))
    except pglast.parser.ParseError:
        return
    names: list[str] = []
    for i in range(len(tokens) - 3):
        if tokens[i].name == "RETURN" and tokens[i + 1].name == "NEXT" and tokens[i + 3].name == "ASCII_59":
            word = encoded[tokens[i + 2].start:tokens[i + 2].end + 1].decode()
            names.append(word[1:-1].replace('""', '"') if word.startswith('"') else word.lower())
    for stmt, name in zip(pending, names, strict=False):
        stmt["retvar"] = name


class Frame:
    """One call of a PL/pgSQL function: its datums' values and what the statements need."""

    def __init__(self, runtime: Any, ctx: Any, tree: dict[str, Any], name: str, return_type: int,
                 specials: dict[str, tuple[Any, int]] | None = None) -> None:
        self.runtime = runtime  # session.routines.Routines
        self.ctx = ctx
        self.name = name  # as CONTEXT lines show it: f(integer)
        self.return_type = return_type
        self.datums: list[dict[str, Any]] = tree.get("datums", [])
        self.values: list[Any] = [None] * len(self.datums)
        self.types: list[int] = [0] * len(self.datums)
        self.typmods: list[int] = [-1] * len(self.datums)
        self.type_text: list[str] = [""] * len(self.datums)
        self.scope: dict[str, int] = {}
        self.labels: dict[str, dict[str, int]] = {}  # <<label>>: the variables its block declares
        self.owned = frozenset(tree.get("block_datums", ()))  # declared by a block: set when it is entered
        self.shapes: dict[int, tuple[tuple[str, ...], tuple[int, ...]]] = {}  # records of a composite type
        self.specials = specials or {}  # TG_OP and kin: name -> (value, type)
        self.row_count = 0
        self.caught: list[PgError] = []  # the errors being handled (RAISE; and GET STACKED DIAGNOSTICS)
        self.action = tree["action"]
        self.nargs = 0  # the parameters are the first datums; $1 names the first
        self.outs: tuple[int, ...] = ()  # the OUT / INOUT / TABLE parameters' datums
        self.retset = False
        self.columns: tuple[tuple[str, int], ...] = ()  # a composite result's (name, type) columns
        self.checked = False  # `columns` is a call's column definition list: rows must match it
        self.rows: list[Any] = []  # RETURN NEXT / RETURN QUERY's rows so far
        self.loop_datums: dict[tuple[str, Any], int] = {}  # FOR i IN a..b: the loop's own i
        self.records: dict[tuple[int, ...], tuple[tuple[str, ...], bool]] = {}  # the last rewrite's ROW(...)s
        self.cursors: dict[str, _Cursor] = {}  # the open cursors, by portal name (this call's own)
        self.turns = 0  # loop iterations so far (_loop_body yields to the event loop now and then)

    # -- set-up ----------------------------------------------------------------------------------

    async def declare(self, args: tuple[Any, ...], arg_types: tuple[int, ...],
                      positions: tuple[int, ...] | None = None) -> None:
        """Resolves each datum's type, binds the arguments (the parameters are the first datums;
        `positions`: the input ones' places among them) and runs DECLARE's defaults."""
        state = self.ctx.catalog.state_for(self.ctx.txn)
        layouts = self.runtime.layouts
        known = layouts.get(id(self.datums))
        if known is None or known[0] is not state or known[1] is not self.datums:
            known = (state, self.datums, *await self._layout())
            if len(layouts) > 256:
                layouts.clear()
            layouts[id(self.datums)] = known
        _, _, datums, scope, loop_datums, types, typmods, type_text, shapes = known
        self.shapes = shapes
        self.datums = datums
        self.scope = dict(scope)
        self.loop_datums = loop_datums
        self.types = list(types)
        self.typmods = typmods
        self.type_text = type_text
        for n, (value, oid) in enumerate(zip(args, arg_types, strict=True)):
            i = positions[n] if positions is not None else n
            self.values[i] = value
            self.types[i] = oid
        owned = self.owned
        for i, datum in enumerate(self.datums):
            if i in owned:
                continue
            kind, body = next(iter(datum.items()))
            if i in self.shapes:  # (a record of a composite type: NULL, of its shape)
                self.values[i] = Record(*self.shapes[i], None)
                if body.get("default_val") is not None:
                    await self.assign_shaped(i, body["default_val"]["PLpgSQL_expr"]["query"])
            if kind == "PLpgSQL_var" and body.get("refname") == "found":
                self.values[i] = False
                self.labels[self.name.partition("(")[0]] = {name: j for name, j in self.scope.items() if j < i}
            if kind == "PLpgSQL_var" and i >= self.nargs and body.get("default_val") is not None:
                self.values[i] = await self.expr(body["default_val"], cast_to=i)
            if kind == "PLpgSQL_var" and body.get("notnull") and self.values[i] is None and i >= self.nargs:
                raise PgError(f'null value cannot be assigned to variable "{body["refname"]}" declared NOT NULL',
                              sqlstate="22004")

    async def _layout(self) -> tuple[Any, ...]:
        """What every call of this function starts from (kept per tree and catalog state): its
        datums (a %ROWTYPE variable as a record), the names in scope, the FOR loops' own
        variables, each variable's type."""
        datums = list(self.datums)
        scope: dict[str, int] = {}
        loop_datums: dict[tuple[str, Any], int] = {}
        types = [0] * len(datums)
        typmods = [-1] * len(datums)
        type_text = [""] * len(datums)
        loop_vars = _loop_variables(self.action)
        shapes: dict[int, tuple[tuple[str, ...], tuple[int, ...]]] = {}
        for i, datum in enumerate(datums):
            kind, body = next(iter(datum.items()))
            name = str(body.get("refname", ""))
            if kind == "PLpgSQL_rec" and body.get("rowtype"):
                shapes[i] = await self.runtime.row_shape(body["rowtype"], self.ctx)
            if kind == "PLpgSQL_var" and (name, body.get("lineno")) in loop_vars:
                loop_datums[(name, body.get("lineno"))] = i  # in scope inside its loop only
                continue
            if kind in ("PLpgSQL_var", "PLpgSQL_rec") and name and not name.startswith("(") and i not in self.owned:
                scope[name] = i
            if kind == "PLpgSQL_var":
                typname = body["datatype"]["PLpgSQL_type"]["typname"].strip()
                if typname.lower().endswith("%rowtype"):
                    datums[i] = {"PLpgSQL_rec": {**body, "rowtype": typname[:-8]}}
                    continue
                oid, typmod = await self.runtime.type_of(typname, self.ctx)
                types[i], typmods[i] = oid, typmod
                type_text[i] = format_type(oid, typmod)
        return datums, scope, loop_datums, types, typmods, type_text, shapes

    async def assign_shaped(self, target: int, expr: str) -> None:
        """rec := expr for a record variable of a composite type (or a table's row type): the
        value cast to that type, its fields the type's."""
        rowtype = next(iter(self.datums[target].values()))["rowtype"]
        value = _single(await self.run_sql(f"SELECT {expr}", cast=rowtype), expr)
        self.values[target] = Record(*self.shapes[target], list(value) if value is not None else None)

    def set_record(self, name: str, record: Record | None) -> None:
        i = self.scope.get(name)
        if i is not None:
            self.values[i] = record

    # -- expressions -------------------------------------------------------------------------------

    def _resolve(self, fields: list[str]) -> tuple[Any, ...] | None:
        """What a column reference names: a variable, a record's field, a trigger variable."""
        first = fields[0]
        i = self.scope.get(first)
        if i is None and len(fields) > 1 and first in self.labels:  # (<<label>> label.variable)
            i = self.labels[first].get(fields[1])
            fields = fields[1:]
        if i is not None:
            kind = next(iter(self.datums[i]))
            if kind == "PLpgSQL_rec":
                if len(fields) == 2 and fields[1] == "*":
                    return ("r", i)  # (rec.*: rewrite lists its fields)
                if len(fields) == 2:
                    return ("f", i, fields[1])
                if len(fields) == 1:
                    return ("r", i)
                return None
            if len(fields) == 2 and composites.attributes(self.types[i]) is not None:
                return self.runtime.field_of(("v", i), fields[1])  # (a field of a composite-typed variable)
            return ("v", i) if len(fields) == 1 else None
        if len(fields) == 1 and first in self.specials:
            return ("s", first)
        return None

    def _param(self, ref: tuple[Any, ...]) -> tuple[Any, int]:
        kind = ref[0]
        if kind == "v":
            return self.values[ref[1]], self.types[ref[1]]
        if kind == "f":
            record = self.values[ref[1]]
            name = next(iter(self.datums[ref[1]].values()))["refname"]
            if record is None:
                raise PgError(f'record "{name}" is not assigned yet', sqlstate="55000",
                              detail="The tuple structure of a not-yet-assigned record is indeterminate.")
            at = record.field(ref[2])
            return record.get(at), record.types[at]
        if kind == "a":
            return self.values[ref[1]], self.types[ref[1]]
        if kind == "s":
            return self.specials[ref[1]]
        raise FeatureNotSupported("a whole record in an expression is not supported")

    def rewrite(self, sql: str) -> tuple[str, list[tuple[Any, ...]]]:
        """`sql` with the variables it names replaced by $1, $2, ... and what each stands for."""
        if "tg_argv" in self.specials and "tg_argv" in sql.lower():
            sql = _zero_based_argv(sql)
        self.records = {}
        return self.runtime.rewrite(sql, self._resolve, self.nargs, self._expand,  # type: ignore[no-any-return]
                                    self.records)

    def _expand(self, ref: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], tuple[str, ...], bool] | None:
        """A whole record variable: its fields' references and names (ROW($i, $j, ...))."""
        if ref[0] != "r":
            return None
        record = self.values[ref[1]]
        if record is None:
            return ([], (), True)  # (a record not assigned yet reads as NULL)
        return ([("f", ref[1], record.names[i]) for i in record.visible], tuple(record.names[i] for i in record.visible),
                record.values is None)

    async def run_sql(self, sql: str, *, cast: str | None = None) -> Any:
        """Runs `sql` with the current values of the variables it names: the query's result."""
        text, refs = self.rewrite(sql)
        source: str | None = sql
        if cast is not None:
            text = f"SELECT ({text[7:]})::{cast}"
            source = None  # (an error's position is in the cast's text)
        values: list[Any] = []
        types: list[int] = []
        records = self.records
        for ref in refs:
            value, oid = self._param(ref)
            values.append(value)
            types.append(oid)
        return await self.runtime.query(text, tuple(types), tuple(values), self.ctx, records=records,
                                        source=source)

    async def expr(self, node: dict[str, Any], *, cast_to: int | None = None, cast: str | None = None) -> Any:
        """The single value of an expression (PLpgSQL_expr), cast to datum `cast_to`'s type."""
        query = node["PLpgSQL_expr"]["query"]
        if cast_to is not None and self.type_text[cast_to]:
            cast = self.type_text[cast_to]
        result = await self.run_sql(f"SELECT {query}", cast=cast)
        return _single(result, query)

    async def expr_typed(self, node: dict[str, Any]) -> tuple[Any, int]:
        query = node["PLpgSQL_expr"]["query"]
        result = await self.run_sql(f"SELECT {query}")
        return _single(result, query), result.types[0]

    async def condition(self, node: dict[str, Any]) -> bool:
        return bool(await self.expr(node, cast="boolean"))

    # -- statements --------------------------------------------------------------------------------

    def out_values(self) -> Any:
        """The OUT parameters' values: a row, or the value of the only one."""
        if len(self.outs) == 1:
            return self.values[self.outs[0]]
        return tuple(self.values[i] for i in self.outs)

    async def run(self) -> Any:
        try:
            await self.block(self.action["PLpgSQL_stmt_block"])
        except _Return as ret:
            if self.retset:
                return self.rows
            if not ret.has_value and self.outs:
                return self.out_values()
            if not ret.has_value and self.return_type not in (VOID_OID,):
                raise PgError("control reached end of function without RETURN", sqlstate="2F005",
                              where=f"PL/pgSQL function {self.name}") from None
            return ret.value
        except _Exit:
            raise PgError("control reached end of function without RETURN", sqlstate="2F005") from None
        if self.retset:
            return self.rows
        if self.outs:
            return self.out_values()
        if self.return_type != VOID_OID:
            raise PgError("control reached end of function without RETURN", sqlstate="2F005",
                          where=f"PL/pgSQL function {self.name}")
        return None

    async def statements(self, stmts: list[dict[str, Any]]) -> None:
        for stmt in stmts:
            kind, body = next(iter(stmt.items()))
            handler = _HANDLERS.get(kind)
            if handler is None:
                raise FeatureNotSupported(f"PL/pgSQL statement {kind.removeprefix('PLpgSQL_stmt_')} is not supported")
            try:
                await handler(self, body)
            except PgError as error:
                _add_context(error, self, body.get("lineno"), kind, body)
                raise

    async def block(self, body: dict[str, Any]) -> None:
        if "decls" in body and (body["decls"] or body["aliases"] or body.get("label")):
            outer_scope, outer_labels = self.scope, self.labels
            self.scope = dict(outer_scope)
            try:
                await self._enter(body)
                await self._block(body)
            finally:
                self.scope, self.labels = outer_scope, outer_labels
            return
        await self._block(body)

    async def _enter(self, body: dict[str, Any]) -> None:
        """A block's variables, set to their defaults (or NULL) each time it is entered, and its
        ALIAS names, in scope from here to the block's end."""
        scope = self.scope
        for name, i in body["decls"]:
            kind, datum = next(iter(self.datums[i].items()))
            self.values[i] = Record(*self.shapes[i], None) if i in self.shapes else None
            if i in self.shapes and datum.get("default_val") is not None:
                try:
                    await self.assign_shaped(i, datum["default_val"]["PLpgSQL_expr"]["query"])
                except PgError as error:
                    _initialization_context(error, self, datum.get("lineno"))
                    raise
            if kind == "PLpgSQL_var":
                default = datum.get("default_val")
                try:
                    if default is not None:
                        self.values[i] = await self.expr(default, cast_to=i)
                    if datum.get("notnull") and self.values[i] is None:
                        raise PgError(f'null value cannot be assigned to variable "{name}" declared NOT NULL',
                                      sqlstate="22004")
                except PgError as error:
                    _initialization_context(error, self, datum.get("lineno"))
                    raise
            scope[name] = i
        for name, target in body["aliases"]:
            j = int(target[1:]) - 1 if target.startswith("$") and target[1:].isdigit() else scope.get(target)
            if j is not None:
                scope[name] = j
        label = body.get("label")
        if label is not None:
            self.labels = {**self.labels, label: {name: scope[name] for name, _ in body["decls"]}}

    async def _block(self, body: dict[str, Any]) -> None:
        label = body.get("label")
        handlers = body.get("exceptions")
        try:
            if handlers is None:
                await self.statements(body.get("body", []))
                return
            await self._guarded(body, handlers["PLpgSQL_exception_block"])
        except _Exit as leave:
            if leave.label is not None and leave.label == label and leave.is_exit:
                return
            raise

    async def _guarded(self, body: dict[str, Any], handlers: dict[str, Any]) -> None:
        txn = self.ctx.txn
        name = f"plpgsql_{next(_savepoints)}"
        txn.savepoint(name)
        try:
            self.runtime.subtransactions += 1
            try:
                await self.statements(body.get("body", []))
            finally:
                self.runtime.subtransactions -= 1
        except PgError as error:
            handler = _matching(handlers.get("exc_list", []), error)
            if handler is None:
                txn.rollback_to(name)
                txn.release(name)
                raise
            txn.rollback_to(name)
            txn.release(name)
            self._set_named("sqlstate", error.sqlstate)
            self._set_named("sqlerrm", error.message)
            self.caught.append(error)
            try:
                await self.statements(handler.get("action", []))
            finally:
                self.caught.pop()
            return
        except BaseException:
            txn.rollback_to(name)
            txn.release(name)
            raise
        txn.release(name)

    def _set_named(self, name: str, value: Any) -> None:
        for i in range(len(self.datums) - 1, -1, -1):
            body = next(iter(self.datums[i].values()))
            if body.get("refname") == name:
                self.values[i] = value
                return

    def set_found(self, found: bool) -> None:
        i = self.scope.get("found")
        if i is not None:
            self.values[i] = found

    async def assign(self, target: int, value: Any, value_type: int | None) -> None:
        """Stores `value` into datum `target` (already of its type unless `value_type` says)."""
        kind, body = next(iter(self.datums[target].items()))
        if kind == "PLpgSQL_var":
            if body.get("isconst"):
                raise _own(PgError(f'variable "{body["refname"]}" is declared CONSTANT', sqlstate="22005"))
            if value_type is not None and value_type != self.types[target] and value is not None:
                value = await self.runtime.cast(value, value_type, self.type_text[target], self.ctx)
            if value is None and body.get("notnull"):
                raise _own(PgError(f'null value cannot be assigned to variable "{body["refname"]}" declared NOT NULL',
                              sqlstate="22004"))
            self.values[target] = value
        elif kind == "PLpgSQL_recfield":
            record = self.values[body["recparentno"]]
            if record is None:
                parent = next(iter(self.datums[body["recparentno"]].values()))["refname"]
                raise PgError(f'record "{parent}" is not assigned yet', sqlstate="55000",
                              detail="The tuple structure of a not-yet-assigned record is indeterminate.")
            at = record.field(body["fieldname"])
            if value_type is not None and value_type != record.types[at] and value is not None:
                value = await self.runtime.cast(value, value_type, format_type(record.types[at]), self.ctx)
            if record.values is None:
                record.values = [None] * len(record.names)
            record.values[at] = value
        else:
            raise FeatureNotSupported(f"assignment to {kind} is not supported")

    async def into(self, target: dict[str, Any], names: tuple[str, ...], types: tuple[int, ...],
                   row: tuple[Any, ...] | None) -> None:
        """Stores a query's row (None: no row, every target NULL) into an INTO target."""
        kind, body = next(iter(target.items()))
        if kind == "PLpgSQL_rec":
            i = self.scope.get(body["refname"], body.get("dno"))
            self.values[i] = Record(names, types, list(row) if row is not None else [None] * len(names))
            return
        if kind == "PLpgSQL_row":
            fields = body.get("fields", [])
            if len(fields) == 1 and "PLpgSQL_rec" in self.datums[fields[0].get("varno", 0)]:
                # (a %ROWTYPE variable, which pglast's tree names as a row of one field: the whole row)
                i = fields[0].get("varno", 0)
                self.values[i] = Record(names, types, list(row) if row is not None else [None] * len(names))
                return
            for n, item in enumerate(fields):
                value = row[n] if row is not None and n < len(row) else None
                await self.assign(item.get("varno", 0), value, types[n] if n < len(types) else None)
            return
        raise FeatureNotSupported(f"INTO {kind} is not supported")


def _loop_variables(node: Any, found: set[tuple[str, Any]] | None = None) -> set[tuple[str, Any]]:
    """(name, line) of each integer FOR loop's variable: declared by the loop, not the block."""
    if found is None:
        found = set()
    if isinstance(node, dict):
        fori = node.get("PLpgSQL_stmt_fori")
        if fori is not None:
            var = fori["var"]["PLpgSQL_var"]
            found.add((var["refname"], var.get("lineno")))
        for value in node.values():
            _loop_variables(value, found)
    elif isinstance(node, list):
        for item in node:
            _loop_variables(item, found)
    return found


def _zero_based_argv(sql: str) -> str:
    """TG_ARGV[i] counts from 0 (its array's lower bound); pgaurora's arrays start at 1."""
    encoded = sql.encode()
    tokens = pglast.parser.scan(sql)
    inserts: list[int] = []
    for i, token in enumerate(tokens[:-1]):
        if token.name == "IDENT" and encoded[token.start:token.end + 1].lower() == b"tg_argv" \
                and tokens[i + 1].name == "ASCII_91":
            depth = 0
            for later in tokens[i + 1:]:
                if later.name == "ASCII_91":
                    depth += 1
                elif later.name == "ASCII_93":
                    depth -= 1
                    if depth == 0:
                        inserts.append(later.start)
                        break
    for at in reversed(inserts):
        encoded = encoded[:at] + b" + 1" + encoded[at:]
    return encoded.decode()


def _own(error: PgError) -> PgError:
    """An error PL/pgSQL raises itself (not one of the SQL it ran): no `SQL statement` line."""
    error._from_raise = True  # type: ignore[attr-defined]
    return error


def _single(result: Any, query: str) -> Any:
    if len(result.types) != 1:
        raise PgError(f'query "{query}" returned {len(result.types)} columns', sqlstate="42601")
    if len(result.rows) > 1:
        raise PgError(f'query "{query}" returned more than one row', sqlstate="21000")
    return result.rows[0][0] if result.rows else None


def _matching(handlers: list[dict[str, Any]], error: PgError) -> dict[str, Any] | None:
    for item in handlers:
        handler = item["PLpgSQL_exception"]
        for cond in handler.get("conditions", []):
            name = cond["PLpgSQL_condition"]["condname"]
            if name == "others":
                if error.sqlstate not in ("57014", "P0004"):
                    return handler  # type: ignore[no-any-return]
                continue
            codes = BY_NAME.get(name, (name.upper(),) if len(name) == 5 else ())
            for code in codes:
                if code == error.sqlstate or (code.endswith("000") and code[:2] == error.sqlstate[:2]):
                    return handler  # type: ignore[no-any-return]
    return None


_CONTEXT_WORDS = {
    "PLpgSQL_stmt_assign": "assignment", "PLpgSQL_stmt_raise": "RAISE", "PLpgSQL_stmt_execsql": "SQL statement",
    "PLpgSQL_stmt_perform": "PERFORM", "PLpgSQL_stmt_if": "IF", "PLpgSQL_stmt_return": "RETURN",
    "PLpgSQL_stmt_fori": "FOR with integer loop variable", "PLpgSQL_stmt_fors": "FOR over SELECT rows",
    "PLpgSQL_stmt_dynexecute": "EXECUTE", "PLpgSQL_stmt_while": "WHILE", "PLpgSQL_stmt_loop": "LOOP",
    "PLpgSQL_stmt_case": "CASE", "PLpgSQL_stmt_assert": "ASSERT", "PLpgSQL_stmt_foreach_a": "FOREACH over array",
    "PLpgSQL_stmt_getdiag": "GET DIAGNOSTICS", "PLpgSQL_stmt_dynfors": "FOR over EXECUTE statement",
    "PLpgSQL_stmt_return_next": "RETURN NEXT", "PLpgSQL_stmt_return_query": "RETURN QUERY",
}
_COMPOUND = ("PLpgSQL_stmt_block", "PLpgSQL_stmt_if", "PLpgSQL_stmt_loop", "PLpgSQL_stmt_while",
             "PLpgSQL_stmt_fori", "PLpgSQL_stmt_fors", "PLpgSQL_stmt_case", "PLpgSQL_stmt_foreach_a",
             "PLpgSQL_stmt_dynfors")


_STATEMENTS = ("PLpgSQL_stmt_execsql", "PLpgSQL_stmt_call", "PLpgSQL_stmt_perform", "PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_fors",
               "PLpgSQL_stmt_dynfors", "PLpgSQL_stmt_return_query")


def _add_context(error: PgError, frame: Any, lineno: int | None, kind: str, body: dict[str, Any]) -> None:
    """PostgreSQL's CONTEXT lines for a call: the statement of this call an error left (the
    innermost one: a loop around it adds nothing), after `SQL statement "..."` when a SQL
    statement it ran failed while executing, or `PL/pgSQL assignment "..."` for an assignment."""
    seen = getattr(error, "_plpgsql_frames", None)
    if seen is None:
        seen = error._plpgsql_frames = set()  # type: ignore[attr-defined]
    if id(frame) in seen or lineno is None:
        return
    seen.add(id(frame))
    word = _CONTEXT_WORDS.get(kind, kind.removeprefix("PLpgSQL_stmt_").upper())
    lines = []
    planning = getattr(error, "_plan_failed", False)
    error._plan_failed = False  # type: ignore[attr-defined]  # (outer statements were executing)
    if kind in _STATEMENTS and not planning and not getattr(error, "_from_raise", False):
        query = body.get("sqlstmt", body.get("expr", body.get("query", {}))).get("PLpgSQL_expr", {}).get("query")
        if query is not None and kind != "PLpgSQL_stmt_dynexecute":
            if kind == "PLpgSQL_stmt_perform":
                query = f"SELECT {query.removeprefix('SELECT ')}" if not query.startswith("SELECT") else query
            lines.append(f'SQL statement "{query}"')
    elif kind == "PLpgSQL_stmt_assign" and not planning and not getattr(error, "_from_raise", False):
        lines.append(f'PL/pgSQL assignment "{body["expr"]["PLpgSQL_expr"]["query"]}"')
    error._from_raise = False  # type: ignore[attr-defined]  # (the statements that ran this one did not raise)
    lines.append(f"PL/pgSQL function {frame.name} line {lineno} at {word}")
    text = "\n".join(lines)
    error.where = f"{error.where}\n{text}" if error.where else text


def _initialization_context(error: PgError, frame: Any, lineno: int | None) -> None:
    """A block's variable whose default failed: PostgreSQL names the variable's line."""
    seen = getattr(error, "_plpgsql_frames", None)
    if seen is None:
        seen = error._plpgsql_frames = set()  # type: ignore[attr-defined]
    if id(frame) in seen:
        return
    seen.add(id(frame))
    error._plan_failed = False  # type: ignore[attr-defined]
    error._from_raise = False  # type: ignore[attr-defined]
    text = f"PL/pgSQL function {frame.name} line {lineno} during statement block local variable initialization"
    error.where = f"{error.where}\n{text}" if error.where else text


# -- statement handlers -------------------------------------------------------------------------------

async def _stmt_block(frame: Frame, body: dict[str, Any]) -> None:
    await frame.block(body)


async def _stmt_assign(frame: Frame, body: dict[str, Any]) -> None:
    query = body["expr"]["PLpgSQL_expr"]["query"]
    text = _assigned_expression(query)
    target = body.get("varno", 0)
    kind, datum = next(iter(frame.datums[target].items()))
    if kind == "PLpgSQL_var":
        subscripts = _subscripts(query)
        if subscripts:
            await _assign_element(frame, target, subscripts, text)
            return
        value = await frame.expr({"PLpgSQL_expr": {"query": text}}, cast_to=target)
        await frame.assign(target, value, None)
        return
    if kind == "PLpgSQL_recfield":
        record = frame.values[datum["recparentno"]]
        if record is None:
            await frame.assign(target, None, None)  # raises: not assigned yet
        at = record.field(datum["fieldname"])
        value = await frame.expr({"PLpgSQL_expr": {"query": text}}, cast=format_type(record.types[at]))
        if record.values is None:
            record.values = [None] * len(record.names)
        record.values[at] = value
        return
    if kind == "PLpgSQL_rec":
        await _assign_record(frame, target, datum["refname"], text)
        return
    raise FeatureNotSupported(f"assignment to {kind} is not supported")


async def _assign_record(frame: Frame, target: int, refname: str, text: str) -> None:
    """rec := another record variable (NEW := OLD, r := NEW), NULL, ROW(...) or a call of a
    function of several result columns: the record takes that value and its fields (a trigger's
    returned NEW is checked against the table when the function exits, as in PostgreSQL)."""
    expr = text.strip().rstrip(";").strip()
    if target in frame.shapes:  # a variable of a composite type: the value cast to that type
        await frame.assign_shaped(target, expr)
        return
    node = _expression_node(expr)
    current = frame.values[target]
    if "ColumnRef" in node and all("String" in f for f in node["ColumnRef"]["fields"]) \
            and (ref := frame._resolve([f["String"]["sval"] for f in node["ColumnRef"]["fields"]])) is not None \
            and ref[0] == "r":
        source = frame.values[ref[1]]
        frame.values[target] = Record((), (), None) if source is None else Record(  # (unassigned: a NULL)
            source.names, source.types, None if source.values is None else list(source.values))
    elif node.get("A_Const", {}).get("isnull"):
        frame.values[target] = Record(current.names, current.types, None) if current is not None else None
    elif "RowExpr" in node or "FuncCall" in node:
        sql = f"SELECT * FROM {expr}" if "FuncCall" in node else f"SELECT {expr[expr.index('(') + 1:expr.rindex(')')]}"
        result = await frame.run_sql(sql)
        names = result.names if "FuncCall" in node else tuple(f"f{i + 1}" for i in range(len(result.names)))
        frame.values[target] = Record(names, result.types, list(result.rows[0]) if result.rows else None)
    else:
        raise FeatureNotSupported(f'assignment of this expression to record variable "{refname}" is not supported')


@functools.lru_cache(maxsize=512)
def _expression_node(expr: str) -> dict[str, Any]:
    """The parse tree of one expression (read only: kept per text, as a trigger assigns per row)."""
    tree = json.loads(pglast.parser.parse_sql_json(f"SELECT {expr}"))["stmts"][0]["stmt"]["SelectStmt"]
    return tree["targetList"][0]["ResTarget"]["val"] if len(tree.get("targetList", [])) == 1 else {}  # type: ignore[no-any-return]


def _subscripts(query: str) -> list[str]:
    """The subscripts of an assignment's target (`a[i] := ...`, `a[i][j] := ...`): their texts."""
    encoded = query.encode()
    out: list[str] = []
    depth = 0
    start = 0
    for token in pglast.parser.scan(query):
        if depth == 0 and token.name in ("COLON_EQUALS", "ASCII_61"):
            break
        if token.name == "ASCII_91":
            depth += 1
            if depth == 1:
                start = token.end + 1
        elif token.name == "ASCII_93":
            depth -= 1
            if depth == 0:
                out.append(encoded[start:token.start].decode())
    return out


async def _assign_element(frame: Frame, target: int, subscripts: list[str], text: str) -> None:
    """`a[i] := value`: one element of a one-dimensional array variable (NULLs fill a gap)."""
    from pgaurora.datatypes import typeinfo

    if len(subscripts) != 1 or ":" in subscripts[0]:
        raise FeatureNotSupported("assignment to a slice or an element of a multidimensional array is not supported")
    element = typeinfo.element_of(frame.types[target])
    if not element:
        name = next(iter(frame.datums[target].values()))["refname"]
        raise _own(PgError(f'cannot subscript type {format_type(frame.types[target])} because it does not '
                           "support subscripting", sqlstate="42804", detail=f'variable "{name}"'))
    index = await frame.expr({"PLpgSQL_expr": {"query": subscripts[0]}}, cast="integer")
    if index is None:
        raise _own(PgError("array subscript in assignment must not be null", sqlstate="22004"))
    value = await frame.expr({"PLpgSQL_expr": {"query": text}}, cast=format_type(element))
    items = list(frame.values[target] or [])
    if index < 1 or (not items and index != 1):
        raise FeatureNotSupported("array elements below 1 or past a NULL array's first are not supported "
                                  "(pgaurora's arrays start at 1)")
    while len(items) < index:
        items.append(None)
    items[index - 1] = value
    await frame.assign(target, items, None)


def _assigned_expression(query: str) -> str:
    """The expression of an assignment's text `target := expr` (or `target = expr`)."""
    depth = 0
    for token in pglast.parser.scan(query):
        if token.name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif token.name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif depth == 0 and token.name in ("COLON_EQUALS", "ASCII_61"):
            return query.encode()[token.end + 1:].decode()
    raise SyntaxError_(f'syntax error at or near "{query}"')


async def _stmt_if(frame: Frame, body: dict[str, Any]) -> None:
    if await frame.condition(body["cond"]):
        await frame.statements(body.get("then_body", []))
        return
    for branch in body.get("elsif_list", []):
        elsif = branch["PLpgSQL_if_elsif"]
        if await frame.condition(elsif["cond"]):
            await frame.statements(elsif.get("stmts", []))
            return
    await frame.statements(body.get("else_body", []))


async def _stmt_case(frame: Frame, body: dict[str, Any]) -> None:
    if body.get("t_expr") is not None:
        value, oid = await frame.expr_typed(body["t_expr"])
        i = body["t_varno"]
        frame.values[i] = value
        frame.types[i] = oid
    for item in body.get("case_when_list", []):
        when = item["PLpgSQL_case_when"]
        if await frame.condition(when["expr"]):
            await frame.statements(when.get("stmts", []))
            return
    if body.get("have_else"):
        await frame.statements(body.get("else_stmts", []))
        return
    raise CaseNotFound("case not found", hint="CASE statement is missing ELSE part.")


YIELD_ITERATIONS = 1000  # loop turns between two turns of the event loop


async def _loop_body(frame: Frame, body: dict[str, Any]) -> bool:
    """Runs a loop's body once; False when an EXIT left this loop. Every YIELD_ITERATIONS turns
    the event loop runs (other sessions, a cancel request, statement_timeout's timer): a long
    or endless loop holds no one else up (except inside a call that cannot wait)."""
    label = body.get("label")
    frame.turns += 1
    if frame.turns % YIELD_ITERATIONS == 0:
        frame.ctx.check_cancel()
        if not frame.runtime.synchronous:
            await asyncio.sleep(0)
            frame.ctx.check_cancel()
    try:
        await frame.statements(body.get("body", []))
    except _Exit as leave:
        if leave.label is not None and leave.label != label:
            raise
        return not leave.is_exit
    return True


async def _stmt_loop(frame: Frame, body: dict[str, Any]) -> None:
    while True:
        frame.ctx.check_cancel()
        if not await _loop_body(frame, body):
            return


async def _stmt_while(frame: Frame, body: dict[str, Any]) -> None:
    while await frame.condition(body["cond"]):
        frame.ctx.check_cancel()
        if not await _loop_body(frame, body):
            return


async def _stmt_fori(frame: Frame, body: dict[str, Any]) -> None:
    var = body["var"]["PLpgSQL_var"]
    name = var["refname"]
    i = frame.loop_datums.get((name, var.get("lineno")), frame.scope.get(name))
    if i is None:
        raise FeatureNotSupported("FOR loop variable not found")
    frame.types[i] = INT4_OID
    outer = frame.scope.get(name)
    frame.scope[name] = i
    try:
        await _integer_loop(frame, body, i)
    finally:
        if outer is None:
            frame.scope.pop(name, None)
        else:
            frame.scope[name] = outer


async def _integer_loop(frame: Frame, body: dict[str, Any], i: int) -> None:
    lower = await frame.expr(body["lower"], cast="integer")
    upper = await frame.expr(body["upper"], cast="integer")
    step = await frame.expr(body["step"], cast="integer") if body.get("step") is not None else 1
    if lower is None:
        raise PgError("lower bound of FOR loop cannot be null", sqlstate="22004")
    if upper is None:
        raise PgError("upper bound of FOR loop cannot be null", sqlstate="22004")
    if step is None:
        raise PgError("BY value of FOR loop cannot be null", sqlstate="22004")
    if step <= 0:
        raise PgError("BY value of FOR loop must be greater than zero", sqlstate="22023")
    reverse = bool(body.get("reverse"))
    value = lower
    found = False
    while (value >= upper) if reverse else (value <= upper):
        frame.ctx.check_cancel()
        found = True
        frame.values[i] = value
        if not await _loop_body(frame, body):
            break
        value = value - step if reverse else value + step
    frame.set_found(found)


async def _rows_loop(frame: Frame, body: dict[str, Any], result: Any) -> None:
    target = body["var"]
    found = False
    for row in result.rows:
        frame.ctx.check_cancel()
        found = True
        await frame.into(target, result.names, result.types, row)
        if not await _loop_body(frame, body):
            break
    frame.set_found(found)


async def _stmt_fors(frame: Frame, body: dict[str, Any]) -> None:
    result = await frame.run_sql(body["query"]["PLpgSQL_expr"]["query"])
    await _rows_loop(frame, body, result)


async def _dynamic(frame: Frame, body: dict[str, Any]) -> Any:
    sql = await frame.expr(body["query"], cast="text")
    if sql is None:
        raise PgError("query string argument of EXECUTE is null", sqlstate="22004")
    values: list[Any] = []
    types: list[int] = []
    for param in body.get("params", []):
        value, oid = await frame.expr_typed(param)
        values.append(value)
        types.append(oid)
    return await frame.runtime.query(sql, tuple(types), tuple(values), frame.ctx, dynamic=True)


async def _stmt_dynfors(frame: Frame, body: dict[str, Any]) -> None:
    await _rows_loop(frame, body, await _dynamic(frame, body))


async def _stmt_foreach_a(frame: Frame, body: dict[str, Any]) -> None:
    value, oid = await frame.expr_typed(body["expr"])
    if value is None:
        raise PgError("FOREACH expression must not be null", sqlstate="22004")
    from pgaurora.datatypes import typeinfo

    element = typeinfo.element_of(oid)
    if not element:
        raise PgError(f"FOREACH expression must yield an array, not type {format_type(oid)}", sqlstate="42804")
    target = body.get("varno", 0)
    dimensions = int(body.get("slice", 0))
    if dimensions:  # FOREACH ... SLICE n: each sub-array of n dimensions, in order
        value = getattr(value, "elements", value)
        depth = 0
        probe = value
        while isinstance(probe, list) and probe:
            depth += 1
            probe = probe[0]
        if dimensions > depth:
            raise PgError(f"slice dimension ({dimensions}) is out of the valid range 0..{depth}", sqlstate="2202E")
        if next(iter(frame.datums[target])) == "PLpgSQL_var" and not typeinfo.element_of(frame.types[target]):
            raise PgError("FOREACH ... SLICE loop variable must be of an array type", sqlstate="42804")
        items = _sub_arrays(value, depth - dimensions)
        element = oid
    else:
        items = _flatten(value)
    for item in items:
        frame.ctx.check_cancel()
        await frame.assign(target, item, element)
        if not await _loop_body(frame, body):
            break


def _sub_arrays(value: list[Any], depth: int) -> list[Any]:
    """The sub-arrays `depth` levels down a nested list (at 0, the list itself)."""
    if depth == 0:
        return [value]
    return [sub for item in value for sub in _sub_arrays(item, depth - 1)]


def _flatten(value: Any) -> list[Any]:
    items = getattr(value, "elements", value)
    out: list[Any] = []
    for item in items:
        if isinstance(item, list | tuple) or hasattr(item, "elements"):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


async def _stmt_exit(frame: Frame, body: dict[str, Any]) -> None:
    if body.get("cond") is not None and not await frame.condition(body["cond"]):
        return
    raise _Exit(body.get("label"), bool(body.get("is_exit")))


async def _stmt_return(frame: Frame, body: dict[str, Any]) -> None:
    expr = body.get("expr")
    if frame.retset or (frame.outs and expr is None):
        raise _Return(None, False)
    if expr is None:
        if body.get("retvarno") is not None:
            return await _return_datum(frame, body["retvarno"])
        raise _Return(None, frame.return_type == VOID_OID)
    query = expr["PLpgSQL_expr"]["query"].strip()
    name = query if query.startswith('"') else query.lower()
    if frame.return_type == TRIGGER_OID:
        i = frame.scope.get(name)
        if i is not None and next(iter(frame.datums[i])) == "PLpgSQL_rec":
            raise _Return(frame.values[i], True)
        if name == "null":
            raise _Return(None, True)
        value = await frame.expr(expr)  # coalesce(NEW, OLD), ROW(...): a row of the table's shape
        shape = frame.values[frame.scope["new"]] if "new" in frame.scope else None
        if value is None or shape is None:
            raise _Return(None, True)
        if not isinstance(value, tuple) or len(value) != len(shape.visible):
            raise PgError("returned row structure does not match the structure of the triggering table",
                          sqlstate="42804", detail="Number of returned columns does not match expected column count.")
        full: list[Any] = [None] * len(shape.names)  # (a dropped column's place stays empty)
        for at, item in zip(shape.visible, value, strict=True):
            full[at] = item
        raise _Return(Record(shape.names, shape.types, full), True)
    if frame.return_type == VOID_OID:
        raise _Return(None, True)
    if frame.return_type == RECORD_OID and not frame.outs:  # RETURNS record: a record variable or a row
        i = frame.scope.get(name)
        if i is not None and isinstance(frame.values[i], Record):
            record = frame.values[i]
            types = tuple(record.types[at] for at in record.visible)
            if frame.checked:
                check_record_shape(types, frame.columns, "returned record type does not match expected record type")
            raise _Return(TypedRecord.of(_row_of(frame, record), types), True)
        value, oid = await frame.expr_typed(expr)
        raise _Return(value, True)
    value = await frame.expr(expr, cast=format_type(frame.return_type))
    raise _Return(value, True)


async def _return_datum(frame: Frame, varno: int) -> None:
    value = frame.values[varno]
    raise _Return(value, True)


def check_record_shape(types: Any, expected: tuple[tuple[str, int], ...], message: str, sql: str = "") -> None:
    """A row for a column definition list: as many columns, each of the type it declares
    (42804 in PL/pgSQL's words; `sql`: the SQL function's name, 42P13 in its words)."""
    if sql:
        where = f'SQL function "{sql}" during startup'
        message = "return type mismatch in function declared to return record"
        if len(types) != len(expected):
            many = "many" if len(types) > len(expected) else "few"
            raise PgError(message, sqlstate="42P13", detail=f"Final statement returns too {many} columns.", where=where)
        for n, (have, (_, want)) in enumerate(zip(types, expected, strict=True), start=1):
            if have != want:
                raise PgError(message, sqlstate="42P13", where=where,
                              detail=f"Final statement returns {format_type(have)} instead of {format_type(want)} at "
                                     f"column {n}.")
        return
    if len(types) != len(expected):
        raise PgError(message, sqlstate="42804", detail=f"Number of returned columns ({len(types)}) does not match "
                                                        f"expected column count ({len(expected)}).")
    for n, (have, (_, want)) in enumerate(zip(types, expected, strict=True), start=1):
        if have != want:
            raise PgError(message, sqlstate="42804", detail=f"Returned type {format_type(have)} does not match "
                                                            f"expected type {format_type(want)} in column {n}.")


def _row_of(frame: Frame, value: Any) -> Any:
    """A value RETURN NEXT gives, as a row of the result (a record's fields in order)."""
    if isinstance(value, Record):
        return tuple(value.values) if value.values is not None else (None,) * len(value.names)
    return value


async def _stmt_return_next(frame: Frame, body: dict[str, Any]) -> None:
    if not frame.retset:
        raise PgError("cannot use RETURN NEXT in a non-SETOF function", sqlstate="42804")
    expr = body.get("expr")
    if expr is not None:
        if frame.columns:
            value = await frame.expr(expr)
        else:
            value = await frame.expr(expr, cast=format_type(frame.return_type))
        frame.rows.append(_row_of(frame, value))
        return
    if frame.outs:
        frame.rows.append(frame.out_values())
        return
    varno = body.get("retvarno")
    if varno is None and body.get("retvar") is not None:
        ref = frame._resolve([body["retvar"]])
        varno = ref[1] if ref is not None and ref[0] in ("v", "r") else None
    if varno is None:
        raise FeatureNotSupported("RETURN NEXT of this variable is not supported")
    value = frame.values[varno]
    if isinstance(value, Record) and frame.checked:
        check_record_shape(tuple(value.types[i] for i in value.visible), frame.columns,
                           "wrong record type supplied in RETURN NEXT")
    elif isinstance(value, Record) and frame.return_type == RECORD_OID and not frame.columns:
        frame.rows.append(TypedRecord.of(_row_of(frame, value), tuple(value.types)))
        return
    frame.rows.append(_row_of(frame, value))


async def _stmt_return_query(frame: Frame, body: dict[str, Any]) -> None:
    if not frame.retset:
        raise PgError("cannot use RETURN QUERY in a non-SETOF function", sqlstate="42804")
    if body.get("query") is not None:
        result = await frame.run_sql(body["query"]["PLpgSQL_expr"]["query"])
    else:
        result = await _dynamic(frame, {"query": body["dynquery"], "params": body.get("params", [])})
    if frame.checked:
        check_record_shape(result.types, frame.columns, "structure of query does not match function result type")
    elif frame.return_type == RECORD_OID and not frame.columns:  # (RETURNS SETOF record in a select list)
        frame.rows.extend(TypedRecord.of(row, tuple(result.types)) for row in result.rows)
        frame.row_count = len(result.rows)
        frame.set_found(bool(result.rows))
        return
    width = len(frame.columns) or 1
    if len(result.types) != width:
        raise PgError("structure of query does not match function result type", sqlstate="42804",
                      detail=f"Number of returned columns ({len(result.types)}) does not match expected column "
                             f"count ({width}).")
    frame.rows.extend(result.rows if frame.columns else [row[0] for row in result.rows])
    frame.row_count = len(result.rows)
    frame.set_found(bool(result.rows))


async def _stmt_raise(frame: Frame, body: dict[str, Any]) -> None:
    level = _LEVELS.get(int(body.get("elog_level", 21)), "EXCEPTION")
    options: dict[str, Any] = {}
    for item in body.get("options", []):
        option = item["PLpgSQL_raise_option"]
        word = _RAISE_OPTIONS.get(int(option.get("opt_type", 0)), "message")
        options[word] = await frame.expr(option["expr"], cast="text")
    if body.get("message") is None and body.get("condname") is None and not options:
        if not frame.caught:
            raise PgError("RAISE without parameters cannot be used outside an exception handler", sqlstate="0Z002")
        raise frame.caught[-1]
    sqlstate = "P0001"
    message = None
    if body.get("condname") is not None:
        name = body["condname"]
        codes = BY_NAME.get(name)
        if codes is None:
            raise PgError(f'unrecognized exception condition "{name}"', sqlstate="42704")
        sqlstate = codes[0]
        message = name
    if body.get("message") is not None:
        params = [_shown_value(*await frame.expr_typed(p)) for p in body.get("params", [])]
        message = _format(body["message"], params)
    if "message" in options:
        if message is not None and body.get("message") is not None:
            raise PgError("RAISE option already specified: MESSAGE", sqlstate="42601")
        message = options["message"]
    if "errcode" in options:
        code = options["errcode"]
        sqlstate = BY_NAME.get(code, (code,))[0] if code not in BY_NAME else BY_NAME[code][0]
        if len(sqlstate) != 5:
            raise PgError(f'unrecognized exception condition "{code}"', sqlstate="42704")
        if message is None:
            message = code
    if message is None:
        message = sqlstate
    if level == "EXCEPTION":
        error = RaiseException(message, detail=options.get("detail"), hint=options.get("hint"),
                               sqlstate=sqlstate, column=options.get("column"),
                               constraint=options.get("constraint"), datatype=options.get("datatype"),
                               table=options.get("table"), schema=options.get("schema"))
        error._from_raise = True  # type: ignore[attr-defined]
        raise error
    notice = PgError(message, detail=options.get("detail"), hint=options.get("hint"),
                     sqlstate=options.get("errcode") and sqlstate or ("01000" if level == "WARNING" else "00000"))
    notice.where = f"PL/pgSQL function {frame.name} line {body.get('lineno')} at RAISE"
    frame.runtime.notice(frame.ctx, notice, level)


def _shown_value(value: Any, oid: int) -> str | None:
    """A RAISE parameter as its type's output function writes it."""
    if value is None:
        return None
    from pgaurora.datatypes import format_value

    return str(format_value(value, oid))


def _format(message: str, params: list[Any]) -> str:
    out: list[str] = []
    it = iter(params)
    i = 0
    used = 0
    while i < len(message):
        ch = message[i]
        if ch == "%":
            if i + 1 < len(message) and message[i + 1] == "%":
                out.append("%")
                i += 2
                continue
            try:
                value = next(it)
            except StopIteration:
                raise PgError("too few parameters specified for RAISE", sqlstate="42601") from None
            used += 1
            out.append("<NULL>" if value is None else str(value))
        else:
            out.append(ch)
        i += 1
    if used < len(params):
        raise PgError("too many parameters specified for RAISE", sqlstate="42601")
    return "".join(out)


async def _stmt_assert(frame: Frame, body: dict[str, Any]) -> None:
    ok = await frame.expr(body["cond"], cast="boolean")
    if ok:
        return
    message = "assertion failed"
    if body.get("message") is not None:
        text = await frame.expr(body["message"], cast="text")
        message = text if text is not None else message
    raise AssertFailure(message)


async def _stmt_perform(frame: Frame, body: dict[str, Any]) -> None:
    query = body["expr"]["PLpgSQL_expr"]["query"]
    result = await frame.run_sql(query)
    frame.row_count = len(result.rows)
    frame.set_found(bool(result.rows))


async def _stmt_execsql(frame: Frame, body: dict[str, Any]) -> None:
    query = body["sqlstmt"]["PLpgSQL_expr"]["query"]
    result = await frame.run_sql(query)
    await _after_statement(frame, body, result)


async def _after_statement(frame: Frame, body: dict[str, Any], result: Any, *, dynamic: bool = False) -> None:
    frame.row_count = result.row_count
    if not dynamic:
        frame.set_found(result.row_count > 0)
    if not body.get("into"):
        if result.returns_rows and not result.modifies and not dynamic:
            raise PgError("query has no destination for result data", sqlstate="42601",
                          hint="If you want to discard the results of a SELECT, use PERFORM instead.")
        return
    if body.get("strict"):
        if not result.rows:
            raise _own(NoDataFound("query returned no rows"))
        if len(result.rows) > 1:
            raise _own(TooManyRows("query returned more than one row",
                                   hint="Make sure the query returns a single row, or use LIMIT 1."))
    await frame.into(body["target"], result.names, result.types, result.rows[0] if result.rows else None)


async def _stmt_dynexecute(frame: Frame, body: dict[str, Any]) -> None:
    result = await _dynamic(frame, body)
    await _after_statement(frame, body, result, dynamic=True)


async def _stmt_getdiag(frame: Frame, body: dict[str, Any]) -> None:
    for item in body.get("diag_items", []):
        diag = item["PLpgSQL_diag_item"]
        kind = diag["kind"]
        if body.get("is_stacked"):
            if not frame.caught:
                raise PgError("GET STACKED DIAGNOSTICS cannot be used outside an exception handler",
                              sqlstate="0Z002")
            error = frame.caught[-1]
            value: Any = {"RETURNED_SQLSTATE": error.sqlstate, "MESSAGE_TEXT": error.message,
                          "PG_EXCEPTION_DETAIL": error.detail or "", "PG_EXCEPTION_HINT": error.hint or "",
                          "PG_EXCEPTION_CONTEXT": error.where or "", "COLUMN_NAME": error.column or "",
                          "CONSTRAINT_NAME": error.constraint or "", "PG_DATATYPE_NAME": error.datatype or "",
                          "TABLE_NAME": error.table or "", "SCHEMA_NAME": error.schema or ""}.get(kind)
            await frame.assign(diag.get("target", 0), value, TEXT_OID)
            continue
        if kind == "ROW_COUNT":
            await frame.assign(diag.get("target", 0), frame.row_count, INT8_OID)
        elif kind == "PG_CONTEXT":
            await frame.assign(diag.get("target", 0), f"PL/pgSQL function {frame.name} line {body.get('lineno')} at GET DIAGNOSTICS",
                               TEXT_OID)
        else:
            raise FeatureNotSupported(f"GET DIAGNOSTICS {kind} is not supported")


# -- cursors ---------------------------------------------------------------------------------------

async def _open_cursor(frame: Frame, body: dict[str, Any]) -> str:
    """OPEN: runs the cursor's query (bound: its declaration's, with its arguments; unbound: the
    statement's, or EXECUTE's) and keeps its rows under the cursor variable's portal name."""
    varno = body.get("curvar", 0)
    datum = next(iter(frame.datums[varno].values()))
    name = frame.values[varno] or datum["refname"]
    if name in frame.cursors:
        raise _own(PgError(f'cursor "{name}" already in use', sqlstate="42P03"))
    if body.get("query") is not None:
        result = await frame.run_sql(body["query"]["PLpgSQL_expr"]["query"])
    elif body.get("dynquery") is not None:
        result = await _dynamic(frame, {"query": body["dynquery"], "params": body.get("params", [])})
    else:
        explicit = datum.get("cursor_explicit_expr")
        if explicit is None:
            raise _own(PgError(f'cursor variable "{datum["refname"]}" is null', sqlstate="22004"))
        argrow = datum.get("cursor_explicit_argrow", -1)
        if argrow is not None and argrow >= 0:
            fields = next(iter(frame.datums[argrow].values())).get("fields", [])
            texts = _split_arguments(body["argquery"]["PLpgSQL_expr"]["query"]) if body.get("argquery") else []
            if len(texts) != len(fields):
                raise _own(PgError(f'wrong number of arguments for cursor "{datum["refname"]}"', sqlstate="42601"))
            for field, text in zip(fields, texts, strict=True):
                varno_arg = field.get("varno", 0)
                value = await frame.expr({"PLpgSQL_expr": {"query": text}}, cast_to=varno_arg)
                await frame.assign(varno_arg, value, None)
        result = await frame.run_sql(explicit["PLpgSQL_expr"]["query"])
    frame.runtime.open_portal(str(name), result)
    frame.cursors[name] = _Cursor(result)
    frame.values[varno] = name
    return str(name)


def _split_arguments(text: str) -> list[str]:
    """`a, f(b, c)` -> ['a', 'f(b, c)']: a cursor's argument list, split at top-level commas."""
    encoded = text.encode()
    out: list[str] = []
    depth = 0
    start = 0
    for token in pglast.parser.scan(text):
        if token.name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif token.name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif token.name == "ASCII_44" and depth == 0:
            out.append(encoded[start:token.start].decode())
            start = token.end + 1
    out.append(encoded[start:].decode())
    return [item.strip() for item in out if item.strip()]


def _cursor_of(frame: Frame, varno: int) -> _Cursor:
    name = frame.values[varno]
    datum = next(iter(frame.datums[varno].values()))
    if name is None and datum.get("cursor_explicit_expr") is not None:
        name = datum["refname"]  # (a bound cursor's portal is named after it)
    cursor = frame.cursors.get(name) if name is not None else None
    if cursor is None:
        if name is None:
            raise _own(PgError(f'cursor variable "{datum["refname"]}" is null', sqlstate="22004"))
        raise _own(PgError(f'cursor "{name}" does not exist', sqlstate="34000"))
    return cursor


async def _stmt_open(frame: Frame, body: dict[str, Any]) -> None:
    await _open_cursor(frame, body)


# FETCH / MOVE directions (PostgreSQL's FetchDirection)
_FORWARD, _BACKWARD, _ABSOLUTE, _RELATIVE = 0, 1, 2, 3


async def _stmt_fetch(frame: Frame, body: dict[str, Any]) -> None:
    cursor = _cursor_of(frame, body.get("curvar", 0))
    count = int(body.get("how_many", 1))
    if body.get("expr") is not None:
        count = int(await frame.expr(body["expr"], cast="bigint") or 0)
    direction = int(body.get("direction", _FORWARD))
    total = len(cursor.rows)
    if direction == _ABSOLUTE:
        target = count if count >= 0 else total + 1 + count
    elif direction == _RELATIVE:
        target = cursor.position + count
    elif direction == _BACKWARD:
        target = cursor.position - count
    else:
        target = cursor.position + count
    cursor.position = max(0, min(total + 1, target))
    row = cursor.rows[cursor.position - 1] if 1 <= cursor.position <= total else None
    if body.get("is_move"):
        frame.row_count = 1 if row is not None else 0
        frame.set_found(row is not None)
        return
    await frame.into(body["target"], cursor.names, cursor.types, row)
    frame.row_count = 1 if row is not None else 0
    frame.set_found(row is not None)


async def _stmt_close(frame: Frame, body: dict[str, Any]) -> None:
    _cursor_of(frame, body.get("curvar", 0))
    name = frame.values[body.get("curvar", 0)]
    del frame.cursors[name]
    frame.runtime.close_portal(str(name))


async def _stmt_forc(frame: Frame, body: dict[str, Any]) -> None:
    """FOR r IN cursor [(arguments)] LOOP: opens the bound cursor, loops over its rows, closes it."""
    name = await _open_cursor(frame, {"curvar": body.get("curvar", 0), "argquery": body.get("argquery")})
    cursor = frame.cursors[name]
    try:
        await _rows_loop(frame, body, cursor)
    finally:
        frame.cursors.pop(name, None)
        frame.runtime.close_portal(str(name))
        datum = next(iter(frame.datums[body.get("curvar", 0)].values()))
        if datum.get("cursor_explicit_expr") is not None:
            frame.values[body.get("curvar", 0)] = None


async def _stmt_call(frame: Frame, body: dict[str, Any]) -> None:
    """CALL (or DO) inside PL/pgSQL: the procedure runs in this frame's transaction context, so a
    COMMIT in it is allowed where one here would be; its OUT / INOUT parameters' values go back
    into the variables given for them."""
    query = body["expr"]["PLpgSQL_expr"]["query"]
    result = await frame.run_sql(query)
    if not result.out_args or not result.rows:
        return
    tree = json.loads(pglast.parser.parse_sql_json(query))["stmts"][0]["stmt"]
    args = tree.get("CallStmt", {}).get("funccall", {}).get("args", [])
    for j, i in enumerate(result.out_args):
        node = args[i] if i < len(args) else {}
        node = node["NamedArgExpr"]["arg"] if "NamedArgExpr" in node else node
        fields = node.get("ColumnRef", {}).get("fields", [])
        ref = frame._resolve([f["String"]["sval"] for f in fields]) \
            if fields and all("String" in f for f in fields) else None
        if ref is None or ref[0] != "v":
            raise _own(PgError(f'procedure parameter "{result.names[j]}" is an output parameter but '
                               "corresponding argument is not writable", sqlstate="42601"))
        await frame.assign(ref[1], result.rows[0][j], result.types[j])


async def _stmt_commit(frame: Frame, body: dict[str, Any]) -> None:
    await frame.runtime.end_transaction(True, bool(body.get("chain")))


async def _stmt_rollback(frame: Frame, body: dict[str, Any]) -> None:
    await frame.runtime.end_transaction(False, bool(body.get("chain")))


_HANDLERS: dict[str, Any] = {
    "PLpgSQL_stmt_block": _stmt_block, "PLpgSQL_stmt_assign": _stmt_assign, "PLpgSQL_stmt_if": _stmt_if,
    "PLpgSQL_stmt_case": _stmt_case, "PLpgSQL_stmt_loop": _stmt_loop, "PLpgSQL_stmt_while": _stmt_while,
    "PLpgSQL_stmt_fori": _stmt_fori, "PLpgSQL_stmt_fors": _stmt_fors, "PLpgSQL_stmt_dynfors": _stmt_dynfors,
    "PLpgSQL_stmt_foreach_a": _stmt_foreach_a, "PLpgSQL_stmt_exit": _stmt_exit, "PLpgSQL_stmt_return": _stmt_return,
    "PLpgSQL_stmt_raise": _stmt_raise, "PLpgSQL_stmt_assert": _stmt_assert, "PLpgSQL_stmt_perform": _stmt_perform,
    "PLpgSQL_stmt_execsql": _stmt_execsql, "PLpgSQL_stmt_dynexecute": _stmt_dynexecute,
    "PLpgSQL_stmt_getdiag": _stmt_getdiag, "PLpgSQL_stmt_return_next": _stmt_return_next,
    "PLpgSQL_stmt_return_query": _stmt_return_query, "PLpgSQL_stmt_open": _stmt_open,
    "PLpgSQL_stmt_fetch": _stmt_fetch, "PLpgSQL_stmt_close": _stmt_close, "PLpgSQL_stmt_forc": _stmt_forc,
    "PLpgSQL_stmt_call": _stmt_call, "PLpgSQL_stmt_commit": _stmt_commit, "PLpgSQL_stmt_rollback": _stmt_rollback,
}
