"""Running the statements a session answers itself (no planner, no executor plan).

Owns transaction control (BEGIN/COMMIT/ROLLBACK/SAVEPOINT...), SET/RESET/SHOW, SQL-level
PREPARE/EXECUTE/DEALLOCATE, DISCARD, CLOSE, LISTEN/UNLISTEN/NOTIFY and cursors
(DECLARE/FETCH/MOVE: positions in session.cursors), with PostgreSQL's tags, warnings and errors. Each returns
`(columns, rows, tag)`, or None when nothing is to be sent. Not reading the parse trees
(session.utility), not the block state machine (session.transaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pgaurora import datatypes
from pgaurora.errors import (
    ActiveSqlTransaction,
    DuplicateCursor,
    DuplicatePreparedStatement,
    FeatureNotSupported,
    InvalidParameterValue,
    NoActiveSqlTransaction,
    ReadOnlySqlTransaction,
    SyntaxError_,
)
from pgaurora.executor.plannodes import ResultColumn
from pgaurora.session.cursors import CURSOR_OPT_NO_SCROLL, CURSOR_OPT_SCROLL, SqlCursor, supports_backward
from pgaurora.session.portals import Portal, Utility
from pgaurora.session.transaction import BlockState
from pgaurora.session.utility import (
    CURSOR_OPT_HOLD,
    const_text,
    set_value,
    transaction_options,
    type_name_text,
)

if TYPE_CHECKING:
    from pgaurora.session.session import Session

Result = tuple[Any, list[tuple[Any, ...]], str]
TEXT = 25
_SHOW_ALL_COLUMNS = (ResultColumn("name", TEXT), ResultColumn("setting", TEXT), ResultColumn("description", TEXT))
_TRANSACTION_KEYS = {"transaction_isolation", "transaction_read_only", "transaction_deferrable"}
_SHOW_ALIASES = {"timezone": "TimeZone", "time zone": "TimeZone"}


class UtilityRunner:
    """The utility statements of one session."""

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- Describe -----------------------------------------------------------------------------

    def describe(self, utility: Utility, stmt: Any, param_oids: tuple[int, ...]) -> tuple[Any, tuple[int, ...]]:
        """(result columns, parameter types) of a utility statement, for Parse/Describe."""
        tree = stmt.tree
        s = self.session
        if utility is Utility.SHOW:
            name = tree.get("name", "")
            if name == "all":
                return _SHOW_ALL_COLUMNS, param_oids
            if name not in _TRANSACTION_KEYS:
                s.settings.get(name)   # 42704 at Parse, as PostgreSQL builds SHOW's descriptor there
            return (ResultColumn(self._show_name(name), TEXT),), param_oids
        if utility is Utility.EXECUTE:
            target = s.names.statement(tree["name"])
            return target.columns, param_oids
        if utility is Utility.FETCH:
            if tree.get("ismove"):
                return None, param_oids
            portal = s.names.portals.get(tree.get("portalname", ""))
            return (portal.columns if portal is not None else None), param_oids
        if utility is Utility.DECLARE:
            inner = self._inner(stmt, tree["query"])
            plan = s.plan_statement(inner, param_oids)
            return None, tuple(plan.param_types)
        return None, param_oids

    def _show_name(self, name: str) -> str:
        if name in _TRANSACTION_KEYS:
            return name
        return _SHOW_ALIASES.get(name, self.session.settings.canonical_name(name))

    @staticmethod
    def _inner(stmt: Any, node: dict[str, Any]) -> Any:
        """A ParsedStatement for a statement nested in PREPARE/DECLARE."""
        node_type, tree = next(iter(node.items()))
        return type(stmt)(node_type, tree, stmt.text, stmt.offset, stmt.query)

    # -- running ------------------------------------------------------------------------------

    async def run(self, utility: Utility, stmt: Any, params: tuple[Any, ...], multi: bool,
                  portal: Portal | None = None) -> Result | None:
        tree = stmt.tree
        if utility is Utility.TRANSACTION:
            return await self._transaction(tree)
        if utility is Utility.SET:
            return self._set(tree, multi)
        if utility is Utility.SHOW:
            return self._show(tree)
        if utility is Utility.PREPARE:
            return self._prepare(stmt, tree)
        if utility is Utility.EXECUTE:
            return await self._execute(tree)
        if utility is Utility.DEALLOCATE:
            return self._deallocate(tree)
        if utility is Utility.DISCARD:
            return self._discard(tree, multi)
        if utility is Utility.CLOSE:
            return self._close(tree)
        if (utility is Utility.LISTEN or utility is Utility.NOTIFY) and getattr(self.session.engine, "read_only", False):
            raise ReadOnlySqlTransaction(f"cannot execute {utility.name} during recovery")
        if utility is Utility.LISTEN:
            self.session.listening.add(tree["conditionname"])
            return None, [], "LISTEN"
        if utility is Utility.UNLISTEN:
            name = tree.get("conditionname")
            if name is None:
                self.session.listening.clear()
            else:
                self.session.listening.discard(name)
            return None, [], "UNLISTEN"
        if utility is Utility.NOTIFY:
            self.session.block.start_implicit()
            self.session.pending_notifies.append((tree["conditionname"], tree.get("payload", "")))
            return None, [], "NOTIFY"
        if utility is Utility.DECLARE:
            types = portal.statement.param_types if portal is not None else ()
            return await self._declare(stmt, tree, params, types, multi)
        if utility is Utility.FETCH:
            return await self._fetch(tree)
        if utility is Utility.CONSTRAINTS:
            return await self._set_constraints(tree)
        raise FeatureNotSupported(f"{stmt.node_type} is not supported")

    # -- transaction control ------------------------------------------------------------------

    async def _set_constraints(self, tree: dict[str, Any]) -> Result:
        """SET CONSTRAINTS {ALL | name [, ...]} {DEFERRED | IMMEDIATE} (PostgreSQL's
        AfterTriggerSetState): a name is looked up in its schema, or in the first schema of the
        search path that has a constraint of that name (42704 if none; 42809 for one that is not
        deferrable); IMMEDIATE runs the checks put off so far for those constraints now."""
        from pgaurora.executor.deferred import set_constraints

        s = self.session
        block = s.block
        if not block.in_block:
            s._notice(NoActiveSqlTransaction("SET CONSTRAINTS can only be used in transaction blocks"), "WARNING")
            if tree.get("constraints"):  # (the names are still checked: 42704, 42809)
                state = s.engine.catalog.state_for(block.transaction()).for_backend(s.pid).with_search_path(
                    s.settings.search_path_schemas(), s.current_user)
                for item in tree["constraints"]:
                    _named_constraints(state, item["RangeVar"])
            return None, [], "SET CONSTRAINTS"
        txn = block.transaction()
        deferred = bool(tree.get("deferred"))
        names = tree.get("constraints")
        oids: set[int] | None = None
        if names:
            state = s.engine.catalog.state_for(txn).for_backend(s.pid).with_search_path(
                s.settings.search_path_schemas(), s.current_user)
            oids = set()
            for item in names:
                oids |= _named_constraints(state, item["RangeVar"])
        set_constraints(txn, deferred, oids)
        if not deferred:  # the checks put off for those constraints (None: all) are due now
            await s.run_deferred_checks(txn, oids)
        return None, [], "SET CONSTRAINTS"

    async def _transaction(self, tree: dict[str, Any]) -> Result:
        s = self.session
        block = s.block
        kind = tree["kind"]
        if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            options = transaction_options(tree.get("options"))
            if getattr(s.engine, "read_only", False) and (options[1] is False or options[0] == "serializable"):
                block.set_characteristics(*options)  # a hot standby refuses these before the block starts
            warning = block.begin_block()
            if warning is not None:
                s._notice(warning, "WARNING")
                if block.state is BlockState.BLOCK:  # (PostgreSQL still applies BEGIN's options)
                    block.set_characteristics(*options)
            else:
                block.set_characteristics(*options)
            return None, [], "BEGIN" if kind == "TRANS_STMT_BEGIN" else "START TRANSACTION"
        if kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"):
            commit = kind == "TRANS_STMT_COMMIT"
            state = block.state
            chain = bool(tree.get("chain"))
            characteristics = (block.isolation, block.read_only, block.deferrable)
            if state is BlockState.BLOCK and commit:
                await block.commit()
                tag = "COMMIT"
            elif state is BlockState.BLOCK or state is BlockState.FAILED:
                await block.abort()
                tag = "ROLLBACK"
            else:
                if chain:
                    word = "COMMIT" if commit else "ROLLBACK"
                    raise NoActiveSqlTransaction(f"{word} AND CHAIN can only be used in transaction blocks")
                s._notice(NoActiveSqlTransaction("there is no transaction in progress"), "WARNING")
                if state is BlockState.IMPLICIT:
                    await (block.commit() if commit else block.abort())
                return None, [], "COMMIT" if commit else "ROLLBACK"
            if chain:
                block.begin_block()
                block.set_characteristics(*characteristics)
            return None, [], tag
        name = tree.get("savepoint_name", "")
        if kind == "TRANS_STMT_SAVEPOINT":
            await block.savepoint(name)
            return None, [], "SAVEPOINT"
        if kind == "TRANS_STMT_RELEASE":
            await block.release(name)
            return None, [], "RELEASE"
        if kind == "TRANS_STMT_ROLLBACK_TO":
            await block.rollback_to(name)
            return None, [], "ROLLBACK"
        return await self._two_phase(kind, tree)

    async def _two_phase(self, kind: str, tree: dict[str, Any]) -> Result:
        """PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED as PostgreSQL answers them with
        max_prepared_transactions = 0 (its default; pgaurora has no two-phase commit): PREPARE
        ends the transaction (rolled back) with 55000, or is a ROLLBACK with a WARNING outside a
        block or in a failed one; nothing is ever prepared to commit or roll back (42704)."""
        from pgaurora.errors import ObjectNotInPrerequisiteState, UndefinedObject

        s = self.session
        block = s.block
        if kind == "TRANS_STMT_PREPARE":
            state = block.state
            if state is BlockState.BLOCK:
                await block.abort()
                raise ObjectNotInPrerequisiteState("prepared transactions are disabled",
                                                   hint="Set max_prepared_transactions to a nonzero value.")
            if state is not BlockState.FAILED:
                s._notice(NoActiveSqlTransaction("there is no transaction in progress"), "WARNING")
            await block.abort()
            return None, [], "ROLLBACK"
        word = "COMMIT PREPARED" if kind == "TRANS_STMT_COMMIT_PREPARED" else "ROLLBACK PREPARED"
        if block.in_block:
            raise ActiveSqlTransaction(f"{word} cannot run inside a transaction block")
        raise UndefinedObject(f'prepared transaction with identifier "{tree.get("gid", "")}" does not exist')

    # -- SET / SHOW ---------------------------------------------------------------------------

    def _set(self, tree: dict[str, Any], multi: bool) -> Result:
        s = self.session
        block = s.block
        settings = s.settings
        kind = tree["kind"]
        name = tree.get("name", "")
        is_local = bool(tree.get("is_local"))
        in_block = block.in_block or multi
        block.start_implicit()
        if kind == "VAR_RESET_ALL":
            settings.reset_all()
            return None, [], "RESET"
        if kind == "VAR_SET_MULTI" and name == "TRANSACTION SNAPSHOT":  # pg_dump -j workers
            from pgaurora.catalog.system.snapshots import import_snapshot

            if not in_block:
                s._notice(NoActiveSqlTransaction("SET TRANSACTION can only be used in transaction blocks"), "WARNING")
            import_snapshot(block, str(tree["args"][0]["A_Const"]["sval"]["sval"]))
            return None, [], "SET"
        if kind == "VAR_SET_MULTI":
            isolation, read_only, deferrable = transaction_options(tree.get("args"))
            if name == "TRANSACTION":
                if not in_block:
                    s._notice(NoActiveSqlTransaction("SET TRANSACTION can only be used in transaction blocks"),
                              "WARNING")
                    if getattr(s.engine, "read_only", False) and read_only is False:
                        block.set_characteristics(None, False, None)  # a hot standby then fails it too
                else:
                    self._check_isolation(isolation)
                    block.set_characteristics(isolation, read_only, deferrable)
            else:
                if isolation is not None:
                    settings.set("default_transaction_isolation", self._check_isolation(isolation))
                if read_only is not None:
                    settings.set("default_transaction_read_only", "on" if read_only else "off")
                if deferrable is not None:
                    settings.set("default_transaction_deferrable", "on" if deferrable else "off")
            return None, [], "SET"
        if kind == "VAR_SET_CURRENT":
            return None, [], "SET"
        value = set_value(name, tree.get("args", [])) if kind == "VAR_SET_VALUE" else None
        key = name.lower()
        if key in _TRANSACTION_KEYS:
            if value is None:
                return None, [], "SET"
            if key == "transaction_isolation":
                block.set_characteristics(self._check_isolation(value), None, None)
            else:
                flag = settings.set("default_" + key, value, is_local=True) == "on"
                block.set_characteristics(None, flag if key.endswith("read_only") else None,
                                          flag if key.endswith("deferrable") else None)
            return None, [], "SET"
        if key in ("session_authorization", "role"):
            if is_local and not in_block:
                s._notice(NoActiveSqlTransaction("SET LOCAL can only be used in transaction blocks"), "WARNING")
            else:
                s.set_role(key, value, is_local=is_local)
            return None, [], "RESET" if kind == "VAR_RESET" else "SET"
        if is_local and not in_block:
            s._notice(NoActiveSqlTransaction("SET LOCAL can only be used in transaction blocks"), "WARNING")
        settings.set(name, value, is_local=is_local)
        return None, [], "RESET" if kind == "VAR_RESET" else "SET"

    @staticmethod
    def _check_isolation(value: str | None) -> str:
        if value is None:
            return "read committed"
        low = value.lower()
        if low not in ("serializable", "repeatable read", "read committed", "read uncommitted"):
            raise InvalidParameterValue(f'invalid value for parameter "transaction_isolation": "{value}"')
        return low

    def _show(self, tree: dict[str, Any]) -> Result:
        s = self.session
        name = tree.get("name", "")
        if name == "all":
            return _SHOW_ALL_COLUMNS, list(s.settings.show_all()), "SHOW"
        if name in _TRANSACTION_KEYS:
            value = {"transaction_isolation": s.block.isolation,
                     "transaction_read_only": "on" if s.block.read_only else "off",
                     "transaction_deferrable": "on" if s.block.deferrable else "off"}[name]
            if s.block.state is BlockState.IDLE:
                value = s.settings.get(name) or value
        else:
            s.settings.check_examine(name)
            value = s.settings.get(name) or ""
        return (ResultColumn(self._show_name(name), TEXT),), [(value,)], "SHOW"

    # -- PREPARE / EXECUTE / DEALLOCATE -------------------------------------------------------

    def _prepare(self, stmt: Any, tree: dict[str, Any]) -> Result:
        s = self.session
        name = tree["name"]
        oids = tuple(datatypes.lookup_name(type_name_text(t), user_types=True).oid for t in tree.get("argtypes", ()))
        inner = self._inner(stmt, tree["query"])
        if name in s.names.statements:
            raise DuplicatePreparedStatement(f'prepared statement "{name}" already exists')
        prepared = s.prepare(name, stmt.text, inner, oids, from_sql=True)
        s.names.add_statement(prepared)
        return None, [], "PREPARE"

    async def _execute(self, tree: dict[str, Any]) -> Result:
        s = self.session
        target = s.names.statement(tree["name"])
        args = tree.get("params", [])
        if len(args) != len(target.param_types):
            raise SyntaxError_(
                f'wrong number of parameters for prepared statement "{target.name}"',
                detail=f"Expected {len(target.param_types)} parameters but got {len(args)}.")
        values = s.decode_text_params(target, [const_text(arg) for arg in args])
        if target.utility is not None:
            raise FeatureNotSupported("EXECUTE of a utility statement is not supported")
        return await s.run_prepared(target, values)

    def _deallocate(self, tree: dict[str, Any]) -> Result:
        s = self.session
        if tree.get("isall") or "name" not in tree:
            s.names.statements = {k: v for k, v in s.names.statements.items() if not v.from_sql}
            return None, [], "DEALLOCATE ALL"
        s.names.statement(tree["name"])
        del s.names.statements[tree["name"]]
        return None, [], "DEALLOCATE"

    def _discard(self, tree: dict[str, Any], multi: bool) -> Result:
        s = self.session
        target = tree.get("target", "DISCARD_ALL")
        if target == "DISCARD_ALL":
            if s.block.in_block or multi:
                raise ActiveSqlTransaction("DISCARD ALL cannot run inside a transaction block")
            s.names.portals.clear()
            s.names.statements.clear()
            s.listening.clear()
            s.settings.reset_all()
            s.set_role("session_authorization", None)  # SET SESSION AUTHORIZATION DEFAULT (and RESET ROLE)
            s.engine.release_session_locks(s)
            return None, [], "DISCARD ALL"
        if target == "DISCARD_PLANS":
            for prepared in s.names.statements.values():
                prepared.catalog_version = -1
            return None, [], "DISCARD PLANS"
        if target == "DISCARD_SEQUENCES":
            return None, [], "DISCARD SEQUENCES"
        return None, [], "DISCARD TEMP"

    # -- cursors ------------------------------------------------------------------------------

    def _close(self, tree: dict[str, Any]) -> Result:
        s = self.session
        name = tree.get("portalname")
        if name is None:
            s.names.portals = {k: v for k, v in s.names.portals.items() if not v.from_sql}
            return None, [], "CLOSE CURSOR ALL"
        s.names.cursor(name)
        del s.names.portals[name]
        return None, [], "CLOSE CURSOR"

    async def _declare(self, stmt: Any, tree: dict[str, Any], params: tuple[Any, ...],
                       types: tuple[int, ...], multi: bool) -> Result:
        s = self.session
        name = tree["portalname"]
        hold = bool(tree.get("options", 0) & CURSOR_OPT_HOLD)
        if not hold and not (s.block.in_block or multi):
            raise NoActiveSqlTransaction("DECLARE CURSOR can only be used in transaction blocks")
        if name in s.names.portals:
            raise DuplicateCursor(f'cursor "{name}" already exists')
        options = int(tree.get("options", 0))
        query = tree["query"]
        if options & CURSOR_OPT_SCROLL and query.get("SelectStmt", {}).get("lockingClause"):
            raise FeatureNotSupported("DECLARE SCROLL CURSOR ... FOR UPDATE is not supported",
                                      detail="Scrollable cursors must be READ ONLY.")
        inner = self._inner(stmt, query)
        prepared = s.prepare("", stmt.text, inner, types)
        portal = Portal(name, prepared, params, (0,) * len(prepared.columns or ()), prepared.columns,
                        plan=prepared.plan, holdable=hold, from_sql=True)
        if options & CURSOR_OPT_SCROLL:
            scroll = True
        elif options & CURSOR_OPT_NO_SCROLL:
            scroll = False
        else:  # PortalStart: scrollable when the plan could run backward
            scroll = prepared.plan is not None and supports_backward(prepared.plan.node)
        if hold:
            # WITH HOLD cursors outlive their transaction: their rows are read now (as
            # PostgreSQL materializes them at commit).
            _, rows, _ = await s.run_prepared(prepared, params)
            portal.sql_cursor = SqlCursor(None, rows, scroll)
        else:
            portal.sql_cursor = SqlCursor(await s.open_cursor(prepared, params), None, scroll)
        s.names.portals[name] = portal
        return None, [], "DECLARE CURSOR"

    async def _fetch(self, tree: dict[str, Any]) -> Result:
        s = self.session
        portal = s.names.cursor(tree.get("portalname", ""))
        ismove = bool(tree.get("ismove"))
        cursor = portal.sql_cursor
        if cursor is None:  # a protocol-level portal named in FETCH: read it forward
            cursor = portal.sql_cursor = SqlCursor(portal.cursor, None, False)
        count, rows = await cursor.fetch(tree.get("direction", "FETCH_FORWARD"), int(tree.get("howMany", 0)), ismove)
        portal.position = cursor.pos
        if ismove:
            return None, [], f"MOVE {count}"
        return portal.columns, rows, f"FETCH {count}"


def _named_constraints(state: Any, name: dict[str, Any]) -> set[int]:
    """The oids of the constraints SET CONSTRAINTS names by `name` (a RangeVar)."""
    from pgaurora.errors import InvalidSchemaName, UndefinedObject, WrongObjectType

    conname = name["relname"]
    schema = name.get("schemaname")
    if schema is not None:
        schema_oid = state.schema_oid(schema)
        if schema_oid is None:
            raise InvalidSchemaName(f'schema "{schema}" does not exist')
        schemas: tuple[int, ...] = (schema_oid,)
    else:
        schemas = state.search_path_oids()
    for schema_oid in schemas:
        found = [con for table in state.tables() if table.schema_oid == schema_oid
                 for con in table.constraints if con.name == conname]
        triggers = [t for table in state.tables() if table.schema_oid == schema_oid
                    for t in state.triggers.get(table.oid, ()) if t.constraint_oid and t.name == conname]
        if triggers:  # (a constraint trigger's pg_constraint row)
            for trigger in triggers:
                if not trigger.deferrable:
                    raise WrongObjectType(f'constraint "{conname}" is not deferrable')
            return {t.constraint_oid for t in triggers} | {con.oid for con in found}
        if found:
            for con in found:
                if not con.deferrable:
                    raise WrongObjectType(f'constraint "{conname}" is not deferrable')
            return {con.oid for con in found}
    raise UndefinedObject(f'constraint "{conname}" does not exist')

