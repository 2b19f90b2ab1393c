"""DDL analysis: CREATE/ALTER/DROP statements -> executor.ddl nodes with names and types resolved.

Owns column definitions (types, typmods, NOT NULL, DEFAULT text, serial and identity columns),
constraint definitions (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY) with PostgreSQL's generated
names (t_pkey, t_a_key, t_a_check, t_a_fkey, t_id_seq), and statement-level validation errors.
DEFAULT and CHECK expressions are kept as their SQL text, cut from the statement with the
lexer (pglast.parser.scan). Not carrying the changes out (executor.ddl).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pglast import parser as pg_parser

from pgaurora.catalog.model import Column, Constraint, Role, Sequence, Table, View
from pgaurora.catalog.state import temp_schema_oid
from pgaurora.errors import (
    DuplicateColumn,
    FeatureNotSupported,
    InvalidForeignKey,
    InvalidTableDefinition,
    ObjectNotInPrerequisiteState,
    SyntaxError_,
    UndefinedColumn,
    UndefinedObject,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.ddl import (
    AlterRole,
    AlterSequence,
    AlterTable,
    CreateIndex,
    CreateRole,
    CreateSchema,
    CreateSequence,
    CreateTable,
    CreateView,
    DropObjects,
    GrantRoles,
    IndexDef,
    NoOp,
    OwnedBy,
    Truncate,
)
from pgaurora.executor.plannodes import PlanNode
from pgaurora.planner.accessmethods import (
    included_columns,
    index_method,
    key_options,
    operator_classes,
    table_method,
)
from pgaurora.planner.exprbind import domain_named, names_of, type_from_name
from pgaurora.planner.generated import check_generated
from pgaurora.planner.parse import ParsedStatement
from pgaurora.planner.querycontext import QueryContext
from pgaurora.planner.scope import SYSTEM_NAMES, Scope
from pgaurora.planner.select import SelectPlanner

_TERMINATORS = {"NOT", "NULL_P", "PRIMARY", "UNIQUE", "CHECK", "REFERENCES", "CONSTRAINT", "DEFAULT",
                "GENERATED", "COLLATE"}


class ExpressionText:
    """Cuts expression text out of a statement by token positions."""

    def __init__(self, stmt: ParsedStatement) -> None:
        self.query = stmt.query.encode("utf-8")
        self.tokens = pg_parser.scan(stmt.query)

    def after_keyword(self, keyword: str, near: int, default_style: bool) -> str:
        """Text of the expression after `keyword` (searched backwards from byte `near`)."""
        tokens = self.tokens
        idx = None
        for i, tok in enumerate(tokens):
            if tok.start > near:
                break
            if tok.name == keyword:
                idx = i
        if idx is None:
            raise SyntaxError_(f"cannot find {keyword}")
        i = idx + 1
        if not default_style:
            # CHECK ( expr )
            depth = 0
            start = tokens[i].end + 1
            for j in range(i, len(tokens)):
                if tokens[j].name == "ASCII_40":
                    depth += 1
                elif tokens[j].name == "ASCII_41":
                    depth -= 1
                    if depth == 0:
                        return self.query[start:tokens[j].start].decode().strip()
            raise SyntaxError_("unbalanced parentheses in CHECK")
        start = tokens[i].start
        depth = 0
        end = len(self.query)
        for j in range(i, len(tokens)):
            name = tokens[j].name
            if name == "ASCII_40":
                depth += 1
            elif name == "ASCII_41":
                if depth == 0:
                    end = tokens[j].start
                    break
                depth -= 1
            elif depth == 0 and (name in ("ASCII_44", "ASCII_59") or name in _TERMINATORS):
                end = tokens[j].start
                break
        return self.query[start:end].decode().strip()


def first_location(node: Any) -> int:
    """The smallest `location` in a parse tree (where an expression's text starts)."""
    best = 1 << 60
    if isinstance(node, dict):
        loc = node.get("location")
        if isinstance(loc, int) and loc >= 0:
            best = loc
        for v in node.values():
            best = min(best, first_location(v))
    elif isinstance(node, list):
        for v in node:
            best = min(best, first_location(v))
    return best


_SEQUENCE_RANGES = {21: (-32768, 32767), 23: (-2147483648, 2147483647),
                    20: (-9223372036854775808, 9223372036854775807)}


def sequence_max(type_oid: int) -> int:
    """The largest value of a sequence of `type_oid` (smallint, integer, else bigint)."""
    return _SEQUENCE_RANGES.get(type_oid, _SEQUENCE_RANGES[20])[1]


def nextval_default(ddl: Any, schema_oid: int, sequence: str) -> str:
    """A serial or identity column's default text: nextval of its sequence, schema-qualified as
    the regclass constant PostgreSQL stores (pg_get_expr drops the schema when it is visible)."""
    from pgaurora.catalog.system.describe import quote_ident

    schema = next((s.name for s in ddl.qc.catalog.schemas.values() if s.oid == schema_oid), "public")
    qualified = f"{quote_ident(schema)}.{quote_ident(sequence)}".replace("'", "''")
    return f"nextval('{qualified}'::regclass)"


def _check_sequence(seq: Sequence, restart: int | None) -> None:
    """A sequence's options as PostgreSQL's init_params checks them (22023)."""
    from pgaurora.datatypes.typeinfo import format_type
    from pgaurora.errors import InvalidParameterValue

    low, high = _SEQUENCE_RANGES.get(seq.type_oid, _SEQUENCE_RANGES[20])
    if seq.increment == 0:
        raise InvalidParameterValue("INCREMENT must not be zero")
    type_name = format_type(seq.type_oid)
    if not low <= seq.max_value <= high:
        raise InvalidParameterValue(f"MAXVALUE ({seq.max_value}) is out of range for sequence data type {type_name}")
    if not low <= seq.min_value <= high:
        raise InvalidParameterValue(f"MINVALUE ({seq.min_value}) is out of range for sequence data type {type_name}")
    if seq.min_value >= seq.max_value:
        raise InvalidParameterValue(f"MINVALUE ({seq.min_value}) must be less than MAXVALUE ({seq.max_value})")
    for word, value in (("START", seq.start), ("RESTART", restart)):
        if value is None:
            continue
        if value < seq.min_value:
            raise InvalidParameterValue(f"{word} value ({value}) cannot be less than MINVALUE ({seq.min_value})")
        if value > seq.max_value:
            raise InvalidParameterValue(f"{word} value ({value}) cannot be greater than MAXVALUE ({seq.max_value})")
    if seq.cache < 1:
        raise InvalidParameterValue(f"CACHE ({seq.cache}) must be greater than zero")


def check_tablespace(name: str | None) -> None:
    """TABLESPACE name: pgaurora's relations all live in its volume, PostgreSQL's pg_default; any
    other name is refused as PostgreSQL refuses one it does not have."""
    if name is None or name == "pg_default":
        return
    if name == "pg_global":
        from pgaurora.errors import InvalidParameterValue

        raise InvalidParameterValue("only shared relations can be placed in pg_global tablespace")
    raise UndefinedObject(f'tablespace "{name}" does not exist')


def _unique_name(taken: set[str], base: str, suffix: str) -> str:
    name = f"{base}_{suffix}"[:63]
    n = 0
    while name in taken:
        n += 1
        name = f"{base}{n}_{suffix}"[:63] if suffix != "pkey" else f"{base}_{suffix}{n}"
    taken.add(name)
    return name


class DdlPlanner:
    def __init__(self, qc: QueryContext, stmt: ParsedStatement) -> None:
        self.qc = qc
        self.stmt = stmt
        self._text: ExpressionText | None = None
        self._new_indexes: list[IndexDef] | None = None

    @property
    def text(self) -> ExpressionText:
        if self._text is None:
            self._text = ExpressionText(self.stmt)
        return self._text

    def pos(self, loc: int | None) -> int | None:
        return self.qc.position(loc)

    def schema_oid(self, relation: dict[str, Any]) -> int:
        """Where CREATE puts an object named by `relation` (a RangeVar: its schemaname, else the
        search path's first schema; a temporary one in the session's pg_temp)."""
        schema = relation.get("schemaname")
        if relation.get("relpersistence") == "t" or schema == "pg_temp":
            return temp_schema_oid(self.qc.backend_pid)
        if schema is None:
            target = self.qc.catalog.creation_schema_oid()
            if target is None:
                raise UndefinedObject("no schema has been selected to create in", sqlstate="3F000",
                                      position=self.pos(relation.get("location")))
            return target
        oid = self.qc.catalog.schema_oid(schema)
        if oid is None:
            raise UndefinedObject(f'schema "{schema}" does not exist', sqlstate="3F000",
                                  position=self.pos(relation.get("location")))
        return oid

    # ---- CREATE TABLE -------------------------------------------------------------------------
    def _identity_sequence(self, col: Column, options: list[dict[str, Any]], table: str, attnum: int,
                           taken: set[str]) -> tuple[Any, ...]:
        """GENERATED ... AS IDENTITY [(options)]: (sequence name, attnum, Sequence template with the
        column's type and the options: START, INCREMENT, MINVALUE, MAXVALUE, CACHE, CYCLE,
        SEQUENCE NAME)."""
        name = None
        for o in options:
            if o["DefElem"]["defname"] == "sequence_name":
                name = o["DefElem"]["arg"]["List"]["items"][-1]["String"]["sval"]
                taken.add(name)
        if name is None:
            name = _unique_name(taken, f"{table}_{col.name}", "seq")
        if col.type_oid not in (20, 21, 23):
            from pgaurora.errors import InvalidParameterValue

            raise InvalidParameterValue("identity column type must be smallint, integer, or bigint",
                                        sqlstate="22023")
        template, _ = self.sequence_options(Sequence(0, name, col.type_oid, max_value=sequence_max(col.type_oid)),
                                            [o for o in options if o["DefElem"]["defname"] != "sequence_name"])
        return (name, attnum, template)

    def column_def(self, cd: dict[str, Any], attnum: int, table: str, seqs: list[tuple[Any, ...]],
                   taken: set[str]) -> tuple[Column, list[dict[str, Any]]]:
        type_name = cd["typeName"]
        raw = names_of(type_name["names"])[-1]
        serial = raw in ("serial", "serial4", "bigserial", "serial8", "smallserial", "serial2")
        oid, typmod = type_from_name(type_name, self.pos)
        domain = domain_named(type_name) if not serial else None
        col = Column(cd["colname"], oid, typmod, attnum=attnum, domain=domain.oid if domain is not None else 0)
        table_constraints: list[dict[str, Any]] = []
        if serial:
            seqs.append((_unique_name(taken, f"{table}_{cd['colname']}", "seq"), attnum))
            col = replace(col, not_null=True)
        last: dict[str, Any] | None = None  # the constraint DEFERRABLE / INITIALLY ... apply to
        seen: set[str] = set()
        for c in cd.get("constraints", ()):
            con = c["Constraint"]
            kind = con["contype"]
            if kind.startswith("CONSTR_ATTR_"):
                self._constraint_attribute(kind, con, last, seen)
                continue
            last, seen = None, set()
            if kind == "CONSTR_NOTNULL":
                col = replace(col, not_null=True)
            elif kind == "CONSTR_NULL":
                col = replace(col, not_null=False)
            elif kind == "CONSTR_DEFAULT":
                col = replace(col, default=self.text.after_keyword("DEFAULT", con["location"], True))
            elif kind == "CONSTR_IDENTITY":
                col = replace(col, identity=con.get("generated_when", "a"), not_null=True)
                seqs.append(self._identity_sequence(col, con.get("options", []), table, attnum, taken))
            elif kind in ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_CHECK", "CONSTR_FOREIGN"):
                con = dict(con)
                if kind in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
                    con["keys"] = [{"String": {"sval": cd["colname"]}}]
                if kind == "CONSTR_FOREIGN":
                    con["fk_attrs"] = [{"String": {"sval": cd["colname"]}}]
                con["_column"] = cd["colname"]
                table_constraints.append(con)
                last = con if kind != "CONSTR_CHECK" else None
            elif kind == "CONSTR_GENERATED":
                text = self.text.after_keyword("AS", first_location(con["raw_expr"]), False)
                col = replace(col, generated=text)
        if col.generated is not None and col.default is not None:
            raise SyntaxError_(f'both default and generation expression specified for column "{col.name}" of table '
                               f'"{table}"', position=self.pos(cd.get("location")))
        if col.generated is not None and col.identity:
            raise SyntaxError_(f'both identity and generation expression specified for column "{col.name}" of table '
                               f'"{table}"', position=self.pos(cd.get("location")))
        return col, table_constraints

    def _constraint_attribute(self, kind: str, con: dict[str, Any], last: dict[str, Any] | None,
                              seen: set[str]) -> None:
        """A column constraint's [NOT] DEFERRABLE / INITIALLY DEFERRED | IMMEDIATE, applied to the
        key or foreign key before it (PostgreSQL's transformConstraintAttrs, with its errors)."""
        clause = {"CONSTR_ATTR_DEFERRABLE": "DEFERRABLE", "CONSTR_ATTR_NOT_DEFERRABLE": "NOT DEFERRABLE",
                  "CONSTR_ATTR_DEFERRED": "INITIALLY DEFERRED", "CONSTR_ATTR_IMMEDIATE": "INITIALLY IMMEDIATE"}[kind]
        position = self.pos(con.get("location"))
        if last is None:
            raise SyntaxError_(f"misplaced {clause} clause", position=position)
        if kind in ("CONSTR_ATTR_DEFERRABLE", "CONSTR_ATTR_NOT_DEFERRABLE"):
            if "deferrability" in seen:
                raise SyntaxError_("multiple DEFERRABLE/NOT DEFERRABLE clauses not allowed", position=position)
            seen.add("deferrability")
            last["deferrable"] = kind == "CONSTR_ATTR_DEFERRABLE"
            if not last["deferrable"] and last.get("initdeferred"):
                raise SyntaxError_("constraint declared INITIALLY DEFERRED must be DEFERRABLE", position=position)
            return
        if "initially" in seen:
            raise SyntaxError_("multiple INITIALLY IMMEDIATE/DEFERRED clauses not allowed", position=position)
        seen.add("initially")
        last["initdeferred"] = kind == "CONSTR_ATTR_DEFERRED"
        if last["initdeferred"]:
            if "deferrability" not in seen:
                last["deferrable"] = True
            elif not last.get("deferrable"):
                raise SyntaxError_("constraint declared INITIALLY DEFERRED must be DEFERRABLE", position=position)

    def constraints(self, table_name: str, columns: list[Column], cons: list[dict[str, Any]], taken: set[str],
                    self_oid: int = 0) -> tuple[list[Constraint], list[IndexDef], list[Column]]:
        out: list[Constraint] = []
        indexes: list[IndexDef] = []
        self._new_indexes = indexes if self_oid == 0 else None
        by_name = {c.name: c for c in columns if not c.dropped}
        # keys first, so that a foreign key may reference a key of the table being created
        for con in sorted(cons, key=lambda c: c["contype"] == "CONSTR_FOREIGN"):
            kind = con["contype"]
            name = con.get("conname")
            if kind in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
                keys = [k["String"]["sval"] for k in con.get("keys", ())]
                for k in keys:
                    if k not in by_name:
                        raise UndefinedColumn(f'column "{k}" named in key does not exist',
                                              position=self.pos(con.get("location")))
                primary = kind == "CONSTR_PRIMARY"
                if primary:
                    if any(i.primary for i in indexes):
                        raise InvalidTableDefinition(
                            f'multiple primary keys for table "{table_name}" are not allowed',
                            position=self.pos(con.get("location")))
                    for k in keys:
                        columns[columns.index(by_name[k])] = by_name[k] = replace(by_name[k], not_null=True)
                if name is None:
                    named = keys + [k["String"]["sval"] for k in con.get("including", ())]  # (INCLUDE too)
                    name = _unique_name(taken, table_name if primary else f"{table_name}_{'_'.join(named)}",
                                        "pkey" if primary else "key")
                else:
                    taken.add(name)
                indexes.append(IndexDef(name, tuple(keys), True, primary,
                                        nulls_not_distinct=bool(con.get("nulls_not_distinct")),
                                        include=included_columns(con.get("including", ()), by_name),
                                        deferrable=bool(con.get("deferrable")), deferred=bool(con.get("initdeferred"))))
            elif kind == "CONSTR_CHECK":
                text = self.text.after_keyword("CHECK", con["location"] if "conname" not in con else
                                               first_location(con["raw_expr"]), False)
                if name is None:
                    base = f"{table_name}_{con['_column']}" if "_column" in con else f"{table_name}_{self._first_column(con['raw_expr'], by_name)}"
                    name = _unique_name(taken, base, "check")
                out.append(Constraint(name, "c", check=text, validated=not (self_oid and con.get("skip_validation"))))
            elif kind == "CONSTR_FOREIGN":
                if con.get("fk_del_set_cols"):
                    raise FeatureNotSupported("ON DELETE SET NULL / SET DEFAULT of a column list is not supported",
                                              position=self.pos(con.get("location")))
                fk = self._foreign_key(table_name, con, name, by_name, taken, self_oid, columns)
                if con.get("deferrable") or con.get("initdeferred"):
                    fk = replace(fk, deferrable=True, deferred=bool(con.get("initdeferred")))
                if con.get("fk_matchtype") == "f":
                    fk = replace(fk, match_full=True)
                # NOT VALID counts in ALTER TABLE only: a new table's rows all pass (PostgreSQL
                # marks the constraints of CREATE TABLE valid)
                out.append(replace(fk, validated=False) if self_oid and con.get("skip_validation") else fk)
            else:
                raise FeatureNotSupported(f"constraint type {kind} is not supported")
        return out, indexes, columns

    def _first_column(self, expr: Any, by_name: dict[str, Column]) -> str:
        if isinstance(expr, dict):
            if "ColumnRef" in expr:
                names = names_of(expr["ColumnRef"]["fields"])
                if names and names[-1] in by_name:
                    return names[-1]
            for v in expr.values():
                found = self._first_column(v, by_name)
                if found:
                    return found
        elif isinstance(expr, list):
            for v in expr:
                found = self._first_column(v, by_name)
                if found:
                    return found
        return ""

    def _self_reference(self, table_name: str, con: dict[str, Any], name: str | None, by_name: dict[str, Column],
                        taken: set[str], fk_cols: list[str]) -> Constraint:
        """A foreign key of a table being created that references the table itself (ref_table 0)."""
        assert self._new_indexes is not None
        ref_cols = [k["String"]["sval"] for k in con.get("pk_attrs", ())]
        if not ref_cols:
            primary = next((d for d in self._new_indexes if d.primary), None)
            if primary is None:
                raise UndefinedObject(f'there is no primary key for referenced table "{table_name}"', sqlstate="42830")
            ref_cols = list(primary.columns)
        for rc in ref_cols:
            if rc not in by_name:
                raise UndefinedColumn(f'column "{rc}" referenced in foreign key constraint does not exist')
        matching = [d for d in self._new_indexes if set(d.columns) == set(ref_cols)]
        if not matching:
            raise InvalidForeignKey(
                f'there is no unique constraint matching given keys for referenced table "{table_name}"')
        if all(d.deferrable for d in matching):
            raise ObjectNotInPrerequisiteState(
                f'cannot use a deferrable unique constraint for referenced table "{table_name}"')
        if name is None:
            name = _unique_name(taken, f"{table_name}_{'_'.join(fk_cols)}", "fkey")
        return Constraint(name, "f", tuple(by_name[k].attnum for k in fk_cols), ref_table=0,
                          ref_columns=tuple(by_name[c].attnum for c in ref_cols),
                          on_delete=con.get("fk_del_action", "a"), on_update=con.get("fk_upd_action", "a"))

    def _foreign_key(self, table_name: str, con: dict[str, Any], name: str | None, by_name: dict[str, Column],
                     taken: set[str], self_oid: int, columns: list[Column]) -> Constraint:
        pk = con["pktable"]
        fk_cols = [k["String"]["sval"] for k in con.get("fk_attrs", ())]
        for k in fk_cols:
            if k not in by_name:
                raise UndefinedColumn(f'column "{k}" referenced in foreign key constraint does not exist',
                                      position=self.pos(con.get("location")))
        if pk["relname"] == table_name and self_oid == 0 and self._new_indexes is not None:
            return self._self_reference(table_name, con, name, by_name, taken, fk_cols)
        ref = self.qc.catalog.relation(pk["relname"], pk.get("schemaname"))
        if ref is None or not isinstance(ref, Table):
            raise UndefinedTable(f'relation "{pk["relname"]}" does not exist', position=self.pos(pk.get("location")))
        ref_cols = [k["String"]["sval"] for k in con.get("pk_attrs", ())]
        if not ref_cols:
            pk_index = next((ix for ix in self.qc.catalog.indexes(ref.oid) if ix.primary), None)
            if pk_index is None:
                raise UndefinedObject(f'there is no primary key for referenced table "{ref.name}"', sqlstate="42830")
            ref_attnums = tuple(pk_index.columns)
        else:
            ref_attnums_l = []
            for rc in ref_cols:
                col = ref.column(rc)
                if col is None:
                    raise UndefinedColumn(f'column "{rc}" referenced in foreign key constraint does not exist')
                ref_attnums_l.append(col.attnum)
            ref_attnums = tuple(ref_attnums_l)
        matching = [ix for ix in self.qc.catalog.indexes(ref.oid)
                    if ix.unique and ix.predicate is None and set(ix.columns) == set(ref_attnums)]
        if not matching:
            raise InvalidForeignKey(
                f'there is no unique constraint matching given keys for referenced table "{ref.name}"')
        deferrable = {c.index_oid for c in ref.constraints if c.kind in ("p", "u") and c.deferrable}
        if all(ix.oid in deferrable for ix in matching):
            raise ObjectNotInPrerequisiteState(
                f'cannot use a deferrable unique constraint for referenced table "{ref.name}"')
        if name is None:
            name = _unique_name(taken, f"{table_name}_{'_'.join(fk_cols)}", "fkey")
        return Constraint(name, "f", tuple(by_name[k].attnum for k in fk_cols), ref_table=ref.oid,
                          ref_columns=ref_attnums, on_delete=con.get("fk_del_action", "a"),
                          on_update=con.get("fk_upd_action", "a"))

    def create_table(self, body: dict[str, Any]) -> PlanNode:
        rel = body["relation"]
        name = rel["relname"]
        on_commit = self._on_commit(body.get("oncommit"), rel)
        schema_oid = self.schema_oid(rel)
        check_tablespace(body.get("tablespacename"))
        table_method(body.get("accessMethod"))
        for element in body.get("tableElts", ()):  # UNIQUE / PRIMARY KEY ... USING INDEX TABLESPACE
            for con in [element.get("Constraint", {}), *element.get("ColumnDef", {}).get("constraints", ())]:
                check_tablespace(con.get("Constraint", con).get("indexspace"))
        if body.get("inhRelations"):
            from pgaurora.planner.partition import create_partition

            return create_partition(self, body, name, schema_oid)
        columns: list[Column] = []
        cons: list[dict[str, Any]] = []
        seqs: list[tuple[Any, ...]] = []
        taken = {n for (s, n) in self.qc.catalog.relations if s == schema_oid}
        like_checks: list[Constraint] = []
        like_indexes: list[IndexDef] = []
        for elt in body.get("tableElts", ()):
            if "TableLikeClause" in elt:
                from pgaurora.planner.tablelike import like_clause

                like = like_clause(self, elt["TableLikeClause"], name, columns, seqs, taken)
                columns.extend(like.columns)
                like_checks.extend(like.checks)
                like_indexes.extend(like.indexes)
            elif "ColumnDef" in elt:
                cd = elt["ColumnDef"]
                if any(c.name == cd["colname"] for c in columns):
                    raise DuplicateColumn(f'column "{cd["colname"]}" specified more than once',
                                          position=self.pos(cd.get("location")))
                if cd["colname"] in SYSTEM_NAMES:
                    raise DuplicateColumn(f'column name "{cd["colname"]}" conflicts with a system column name')
                col, extra = self.column_def(cd, len(columns) + 1, name, seqs, taken)
                columns.append(col)
                cons.extend(extra)
            elif "Constraint" in elt:
                cons.append(elt["Constraint"])
            else:
                raise FeatureNotSupported(f"{next(iter(elt))} in CREATE TABLE is not supported")
        constraints, indexes, columns = self.constraints(name, columns, cons, taken)
        constraints = like_checks + constraints
        indexes = indexes + like_indexes
        check_generated(self.qc, name, columns)
        partitioning: tuple[tuple[str, Any], ...] = ()
        if body.get("partspec"):
            from pgaurora.planner.partition import check_unique_covers_key, partition_key

            partitioning = partition_key(self, body["partspec"], columns)
            for d in indexes:
                check_unique_covers_key(name, dict(partitioning)["partition_key"], columns, d.columns,
                                        "PRIMARY KEY" if d.primary else "UNIQUE")
        options = table_options((), [o for o in body.get("options", ()) if "DefElem" in o], True)
        stored: tuple[tuple[str, Any], ...] = (("options", options),) if options else ()
        return CreateTable(name, tuple(columns), tuple(constraints), tuple(indexes), tuple(seqs),
                           bool(body.get("if_not_exists")), schema_oid, table_fields=partitioning + on_commit + stored)

    def _on_commit(self, oncommit: str | None, rel: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        """ON COMMIT of CREATE [TEMP] TABLE as Table fields: only temporary tables take one."""
        action = {"ONCOMMIT_DELETE_ROWS": "delete", "ONCOMMIT_DROP": "drop"}.get(oncommit or "", "")
        if oncommit in (None, "ONCOMMIT_NOOP"):
            return ()
        if rel.get("relpersistence") != "t" and rel.get("schemaname") != "pg_temp":
            raise InvalidTableDefinition("ON COMMIT can only be used on temporary tables")
        return (("on_commit", action),) if action else ()

    def create_table_as(self, body: dict[str, Any]) -> tuple[PlanNode, list[Any]]:
        into = body["into"]
        rel = into["rel"]
        planned = SelectPlanner(self.qc).plan_query(body["query"], Scope(self.qc.state))
        names = [c.name for c in planned.columns]
        if len(into.get("colNames", ())) > len(names):
            raise SyntaxError_("too many column names were specified")
        for i, c in enumerate(into.get("colNames", ())):
            names[i] = c["String"]["sval"]
        columns = tuple(Column(n, c.type_oid if c.type_oid != 705 else 25, c.typmod, attnum=i + 1)
                        for i, (n, c) in enumerate(zip(names, planned.columns, strict=True)))
        skip = bool(into.get("skipData"))
        node = CreateTable(rel["relname"], columns, (), (), (), bool(body.get("if_not_exists")),
                           self.schema_oid(rel), None if skip else planned.node,
                           tag="CREATE TABLE AS" if skip else "", table_fields=self._on_commit(into.get("onCommit"), rel))
        return node, []

    # ---- other DDL ----------------------------------------------------------------------------
    def drop(self, body: dict[str, Any]) -> DropObjects:
        kinds = {"OBJECT_TABLE": "table", "OBJECT_INDEX": "index", "OBJECT_SEQUENCE": "sequence",
                 "OBJECT_VIEW": "view", "OBJECT_SCHEMA": "schema", "OBJECT_MATVIEW": "materialized view"}
        kind = kinds.get(body["removeType"])
        if kind is None:
            raise FeatureNotSupported(f"DROP {body['removeType'].removeprefix('OBJECT_')} is not supported")
        names: list[tuple[str | None, str]] = []
        for obj in body["objects"]:
            if "List" in obj:
                parts = [i["String"]["sval"] for i in obj["List"]["items"]]
            else:
                parts = [obj["String"]["sval"]]
            names.append((parts[-2] if len(parts) > 1 else None, parts[-1]))
        return DropObjects(kind, tuple(names), bool(body.get("missing_ok")), body.get("behavior") == "DROP_CASCADE")

    def _table(self, relation: dict[str, Any]) -> Table:
        rel = self.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
        if rel is None:
            raise UndefinedTable(f'relation "{relation["relname"]}" does not exist',
                                 position=self.pos(relation.get("location")))
        if not isinstance(rel, Table):
            raise WrongObjectType(f'"{relation["relname"]}" is not a table')
        return rel

    def create_index(self, body: dict[str, Any]) -> PlanNode:
        table = self._table(body["relation"])
        if table.kind == "p":
            from pgaurora.planner.partition import partitioned_index

            return partitioned_index(self, body, table)
        return self.index_on(body, table)

    def index_on(self, body: dict[str, Any], table: Table) -> CreateIndex:
        """CREATE INDEX on one table (plain, expression or partial)."""
        method = index_method(body)  # (its errors come before the columns')
        check_tablespace(body.get("tableSpace"))
        if body.get("whereClause") or any("name" not in p["IndexElem"] for p in body["indexParams"]):
            from pgaurora.planner.indexexpr import plan_create_index

            return plan_create_index(self, body, table, _unique_name, method)
        cols = []
        for p in body["indexParams"]:
            elem = p["IndexElem"]
            if table.column(elem["name"]) is None:
                raise UndefinedColumn(f'column "{elem["name"]}" does not exist')
            cols.append(elem["name"])
        name = body.get("idxname")
        if name is None:
            taken = {n for (s, n) in self.qc.catalog.relations if s == table.schema_oid}
            included = [e["IndexElem"].get("name", "expr") for e in body.get("indexIncludingParams", ())]
            name = _unique_name(taken, f"{table.name}_{'_'.join(cols + included)}", "idx")
        definition = new_index_definition(body, table, method, name, tuple(cols))
        types = [table.column(c).type_oid for c in cols]  # type: ignore[union-attr]
        return CreateIndex(table.oid, replace(definition, opclasses=operator_classes(body, types, method)),
                           bool(body.get("if_not_exists")))

    def sequence_options(self, seq: Sequence, options: list[dict[str, Any]]) -> tuple[Sequence, int | None]:
        restart = None
        changes: dict[str, Any] = {}
        for o in options:
            d = o["DefElem"]
            name = d["defname"]
            arg = d.get("arg", {})
            value = arg.get("Integer", {}).get("ival", 0) if "Integer" in arg else (
                int(arg["Float"]["fval"]) if "Float" in arg else None)
            if value is None and name in ("minvalue", "maxvalue"):
                continue  # NO MINVALUE / NO MAXVALUE: the default for the type and direction
            if name == "owned_by":
                changes["owned_by"] = self._sequence_owner(arg)
            elif name == "sequence_name":
                continue  # an identity column's sequence name: read by the caller
            elif name == "start":
                changes["start"] = value
            elif name == "increment":
                changes["increment"] = value
            elif name == "minvalue":
                changes["min_value"] = value
            elif name == "maxvalue":
                changes["max_value"] = value
            elif name == "cache":
                changes["cache"] = value
            elif name == "cycle":
                changes["cycle"] = bool(arg.get("Boolean", {}).get("boolval", False))
            elif name == "restart":
                restart = value if value is not None else seq.start
            elif name == "as":
                oid, _ = type_from_name(arg["TypeName"], self.pos)
                changes["type_oid"] = oid
        if "type_oid" in changes and "max_value" not in changes and changes.get("increment", seq.increment) > 0:
            changes["max_value"] = _SEQUENCE_RANGES.get(changes["type_oid"], _SEQUENCE_RANGES[20])[1]  # AS type
        seq = replace(seq, **changes)
        low, _high = _SEQUENCE_RANGES.get(seq.type_oid, _SEQUENCE_RANGES[20])
        if seq.increment < 0 and "max_value" not in changes:
            seq = replace(seq, max_value=-1, min_value=low if "min_value" not in changes else seq.min_value)
            if "start" not in changes:
                seq = replace(seq, start=seq.max_value)
        elif "start" not in changes and "min_value" in changes:
            seq = replace(seq, start=seq.min_value)
        _check_sequence(seq, restart)
        return seq, restart

    def _sequence_owner(self, arg: dict[str, Any]) -> tuple[int, int]:
        """OWNED BY [schema.]table.column, or OWNED BY NONE."""
        names = [n["String"]["sval"] for n in arg.get("List", {}).get("items", ())]
        if names == ["none"]:
            return (0, 0)
        if len(names) < 2:
            from pgaurora.errors import InvalidParameterValue

            raise InvalidParameterValue("invalid OWNED BY option", hint="Specify OWNED BY table.column or OWNED BY NONE.")
        table_name, column = names[-2], names[-1]
        table = self.qc.catalog.relation(table_name, names[-3] if len(names) > 2 else None)
        if not isinstance(table, Table):
            raise UndefinedTable(f'relation "{table_name}" does not exist')
        col = table.column(column)
        if col is None:
            raise UndefinedColumn(f'column "{column}" of relation "{table_name}" does not exist')
        return (table.oid, col.attnum)

    def create_sequence(self, body: dict[str, Any]) -> PlanNode:
        rel = body["sequence"]
        seq, _ = self.sequence_options(Sequence(0, rel["relname"], schema_oid=self.schema_oid(rel)),
                                       body.get("options", []))
        return CreateSequence(seq, bool(body.get("if_not_exists")))

    def alter_sequence(self, body: dict[str, Any]) -> PlanNode:
        rel = body["sequence"]
        seq = self.qc.catalog.relation(rel["relname"], rel.get("schemaname"))
        if not isinstance(seq, Sequence):
            raise UndefinedTable(f'relation "{rel["relname"]}" does not exist', position=self.pos(rel.get("location")))
        new, restart = self.sequence_options(seq, body.get("options", []))
        return AlterSequence(new, restart)

    def create_view(self, body: dict[str, Any]) -> PlanNode:
        rel = body["view"]
        query = body["query"]
        planned = SelectPlanner(self.qc).plan_query(query, Scope(self.qc.state))
        names = [c.name for c in planned.columns]
        for i, a in enumerate(body.get("aliases", ())):
            names[i] = a["String"]["sval"]
        text = self.query_text(query)
        options = view_options((), body.get("options", ()), True)
        check = {"LOCAL_CHECK_OPTION": "local", "CASCADED_CHECK_OPTION": "cascaded"}.get(
            body.get("withCheckOption", ""))
        if check is not None:  # WITH [LOCAL | CASCADED] CHECK OPTION: kept as PostgreSQL keeps it, in reloptions
            import re

            text = re.sub(r"\s+with\s+(?:(?:cascaded|local)\s+)?check\s+option\s*$", "", text, flags=re.IGNORECASE)
            options = (*(o for o in options if not o.startswith("check_option=")), f"check_option={check}")
        if any(o.startswith("check_option=") for o in options):
            from pgaurora.planner.views import not_updatable_reason

            reason = not_updatable_reason(query.get("SelectStmt", {}))
            if reason is not None:
                raise FeatureNotSupported("WITH CHECK OPTION is supported only on automatically updatable views",
                                          hint=reason)
        view = View(0, rel["relname"], text, tuple(names), self.schema_oid(rel), options=options)
        return CreateView(view, bool(body.get("replace")))

    def query_text(self, query: dict[str, Any]) -> str:
        """The SELECT of CREATE VIEW / MATERIALIZED VIEW as the user wrote it (first token to statement end)."""
        start = first_location(query)
        stmt_text = self.stmt.query.encode("utf-8")
        tokens = self.text.tokens
        begin = next((t.start for t in tokens if t.name in ("SELECT", "VALUES", "WITH", "ASCII_40") and
                      t.start >= self._as_position(tokens)), start)
        # `text` may be stripped of the blanks `offset` counts; offsets are characters, slices bytes
        # (pg_get_viewdef / \d of a view created in a multi-statement query: see pgaurora/catalog/system)
        text_start = max(self.stmt.query.find(self.stmt.text, self.stmt.offset), self.stmt.offset)
        end = len(self.stmt.query[:text_start].encode("utf-8")) + len(self.stmt.text.encode("utf-8"))
        return stmt_text[begin:end].decode().strip().rstrip(";")

    def _as_position(self, tokens: list[Any]) -> int:
        for t in tokens:
            if t.name == "AS" and t.start >= self._stmt_start():
                return int(t.start)
        return 0

    def _stmt_start(self) -> int:
        return len(self.stmt.query[:self.stmt.offset].encode("utf-8"))

    def truncate(self, body: dict[str, Any]) -> PlanNode:
        oids = []
        for r in body["relations"]:
            table = self._table(r["RangeVar"])
            oids.append(table.oid)
            oids.extend(p.oid for p in self.qc.catalog.partitions(table.oid))
        return Truncate(tuple(oids), bool(body.get("restart_seqs")), cascade=body.get("behavior") == "DROP_CASCADE")

    def create_role(self, body: dict[str, Any]) -> PlanNode:
        role = Role(0, body["role"], login=body.get("stmt_type") == "ROLESTMT_USER")
        options = dict(self._role_options(body.get("options", [])))
        bypassrls = bool(options.get("bypassrls", False))  # (superusers only: run_create_role checks)
        memberships: dict[str, tuple[str | None, ...]] = {}
        for option in body.get("options", ()):
            d = option["DefElem"]
            if d["defname"] in ("addroleto", "rolemembers", "adminmembers"):
                memberships[d["defname"]] = tuple(role_spec_name(i) for i in d["arg"]["List"]["items"])
        return CreateRole(replace(role, **options), bypassrls, in_roles=memberships.get("addroleto", ()),
                          members=memberships.get("rolemembers", ()), admins=memberships.get("adminmembers", ()))

    def _role_options(self, options: list[dict[str, Any]]) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        names = {"canlogin": "login", "superuser": "superuser", "createdb": "createdb", "createrole": "createrole",
                 "inherit": "inherit", "isreplication": "replication", "bypassrls": "bypassrls"}
        for o in options:
            d = o["DefElem"]
            arg = d.get("arg", {})
            if d["defname"] in names:
                out.append((names[d["defname"]], bool(arg.get("Boolean", {}).get("boolval", False))))
            elif d["defname"] == "password":
                out.append(("password", arg.get("String", {}).get("sval") if arg else None))
            elif d["defname"] == "connectionlimit":
                out.append(("connection_limit", arg.get("Integer", {}).get("ival", 0)))
            elif d["defname"] == "validUntil":
                out.append(("valid_until", arg.get("String", {}).get("sval")))
        return out

    def alter_role(self, body: dict[str, Any]) -> PlanNode:
        name = role_spec_name(body["role"])
        options = self._role_options(body.get("options", []))
        bypassrls = any(key == "bypassrls" for key, _ in options)
        return AlterRole(name, tuple(options), bypassrls)

    def grant_role(self, body: dict[str, Any]) -> PlanNode:
        """GRANT / REVOKE of role membership (GrantRoleStmt); GRANTED BY is not kept (the
        grantor is the current user, as PostgreSQL 15 records it for a superuser's grant)."""
        roles = tuple(r["AccessPriv"]["priv_name"] for r in body["granted_roles"])
        members: list[str | None] = []
        for spec in body["grantee_roles"]:
            if spec.get("RoleSpec", spec).get("roletype") == "ROLESPEC_PUBLIC":
                raise FeatureNotSupported("GRANT of a role to PUBLIC is not supported")
            members.append(role_spec_name(spec))
        admin = any(o["DefElem"]["defname"] == "admin" for o in body.get("opt", ()))
        if body.get("is_grant"):
            admin = any(o["DefElem"]["defname"] == "admin" and o["DefElem"].get("arg", {}).get("Boolean", {}).get(
                "boolval", True) for o in body.get("opt", ()))
        return GrantRoles(roles, tuple(members), bool(body.get("is_grant")), admin)

    def owned_by(self, body: dict[str, Any], reassign: bool) -> PlanNode:
        """REASSIGN OWNED BY ... TO ... / DROP OWNED BY ... (roles as role_spec_name gives them)."""
        roles = tuple(role_spec_name(r) for r in body["roles"])
        if reassign:
            return OwnedBy(roles, role_spec_name(body["newrole"]), reassign=True)
        return OwnedBy(roles, cascade=body.get("behavior") == "DROP_CASCADE")

    def reassign_owned(self, body: dict[str, Any]) -> PlanNode:
        return self.owned_by(body, True)

    def drop_owned(self, body: dict[str, Any]) -> PlanNode:
        return self.owned_by(body, False)

    def drop_role(self, body: dict[str, Any]) -> PlanNode:
        names = tuple((None, r["RoleSpec"]["rolename"]) for r in body["roles"])
        return DropObjects("role", names, bool(body.get("missing_ok")), False)

    def create_schema(self, body: dict[str, Any]) -> PlanNode:
        """CREATE SCHEMA [name] [AUTHORIZATION role]: without a name, the schema is named after the role."""
        authorization = role_spec_name(body["authrole"]) if body.get("authrole") else None
        name = body.get("schemaname") or authorization
        if not name:
            raise FeatureNotSupported("CREATE SCHEMA AUTHORIZATION CURRENT_USER without a schema name is not supported")
        return CreateSchema(name, bool(body.get("if_not_exists")), authorization=authorization)

    def noop(self, tag: str) -> PlanNode:
        return NoOp(tag)


_VIEW_OPTIONS = ("security_barrier", "security_invoker", "check_option")
_BOOLEANS = ("true", "false", "on", "off", "yes", "no", "1", "0", "t", "f", "y", "n")


def view_options(current: tuple[str, ...], items: Any, setting: bool) -> tuple[str, ...]:
    """A view's reloptions after WITH (...) / SET (...) (`setting`) or RESET (...): PostgreSQL's
    security_barrier and security_invoker, booleans (22023 for another name or value)."""
    from pgaurora.errors import InvalidParameterValue

    options = {o.split("=", 1)[0]: o for o in current}
    for item in items:
        d = item["DefElem"]
        name = d["defname"]
        if name not in _VIEW_OPTIONS:
            raise InvalidParameterValue(f'unrecognized parameter "{name}"')
        if not setting:
            options.pop(name, None)
            continue
        value = _option_value(d.get("arg"))
        if name == "check_option":
            if value.lower() not in ("local", "cascaded"):
                raise InvalidParameterValue(f'invalid value for enum option "check_option": {value}',
                                            detail='Valid values are "local" and "cascaded".')
            options[name] = f"{name}={value.lower()}"
            continue
        if value.lower() not in _BOOLEANS:
            raise InvalidParameterValue(f'invalid value for boolean option "{name}": {value}')
        options[name] = f"{name}={value}"
    return tuple(options.values())


# a table's storage parameters (reloptions): name -> (kind, minimum, maximum); recorded in
# pg_class.reloptions (pgaurora's heap pages take no fill factor; vacuum has its own policy)
_TABLE_OPTIONS: dict[str, tuple[str, float, float]] = {
    "fillfactor": ("int", 10, 100), "toast_tuple_target": ("int", 128, 8160), "parallel_workers": ("int", 0, 1024),
    "autovacuum_enabled": ("bool", 0, 0), "vacuum_truncate": ("bool", 0, 0), "user_catalog_table": ("bool", 0, 0),
    "vacuum_index_cleanup": ("enum", 0, 0), "log_autovacuum_min_duration": ("int", -1, 2147483647),
    "autovacuum_vacuum_threshold": ("int", 0, 2147483647), "autovacuum_analyze_threshold": ("int", 0, 2147483647),
    "autovacuum_vacuum_insert_threshold": ("int", -1, 2147483647),
    "autovacuum_vacuum_scale_factor": ("real", 0, 100), "autovacuum_analyze_scale_factor": ("real", 0, 100),
    "autovacuum_vacuum_insert_scale_factor": ("real", 0, 100), "autovacuum_vacuum_cost_delay": ("real", -1, 100),
    "autovacuum_vacuum_cost_limit": ("int", -1, 10000), "autovacuum_freeze_min_age": ("int", -1, 1000000000),
    "autovacuum_freeze_max_age": ("int", -1, 2000000000), "autovacuum_freeze_table_age": ("int", -1, 2000000000),
    "autovacuum_multixact_freeze_min_age": ("int", -1, 1000000000),
    "autovacuum_multixact_freeze_max_age": ("int", -1, 2000000000),
    "autovacuum_multixact_freeze_table_age": ("int", -1, 2000000000),
}


def new_index_definition(body: dict[str, Any], table: Table, method: str, name: str, columns: tuple[str, ...],
                         expressions: tuple[str, ...] = (), predicate: str | None = None) -> IndexDef:
    """The IndexDef of a CREATE INDEX (`body`) with its clauses read once: UNIQUE, NULLS NOT
    DISTINCT, the access method, DESC / NULLS FIRST keys, INCLUDE columns, WITH (...)."""
    descending, nulls_first = key_options(body)
    return IndexDef(name, columns, bool(body.get("unique")), False, False, expressions, predicate,
                    nulls_not_distinct=bool(body.get("nulls_not_distinct")), method=method,
                    descending=descending, nulls_first=nulls_first,
                    include=included_columns(body.get("indexIncludingParams", ()), table),
                    options=index_options(method, (), body.get("options", ())))


_INDEX_OPTIONS: dict[str, dict[str, tuple[str, float, float]]] = {
    "btree": {"fillfactor": ("int", 10, 100), "deduplicate_items": ("bool", 0, 0)},
    "hash": {"fillfactor": ("int", 10, 100)},
}


def index_options(method: str, current: tuple[str, ...], items: Any, setting: bool = True) -> tuple[str, ...]:
    """An index's reloptions (CREATE INDEX ... WITH (...), ALTER INDEX ... SET / RESET): its access
    method's parameters, checked as PostgreSQL checks them. Recorded only: the B-tree's pages
    fill as they do, whatever the fill factor."""
    return table_options(current, items, setting, _INDEX_OPTIONS.get(method, {}))


def table_options(current: tuple[str, ...], items: Any, setting: bool,
                  known: dict[str, tuple[str, float, float]] | None = None) -> tuple[str, ...]:
    """A table's reloptions after WITH (...) / SET (...) (`setting`) or RESET (...), checked as
    PostgreSQL checks them (22023: an unknown name, a value of the wrong kind or out of bounds)."""
    from pgaurora.errors import InvalidParameterValue

    options = {o.split("=", 1)[0]: o for o in current}
    for item in items:
        d = item["DefElem"]
        name = d["defname"]
        if d.get("defnamespace") == "toast":
            raise FeatureNotSupported("toast.* storage parameters are not supported")
        spec = (_TABLE_OPTIONS if known is None else known).get(name)
        if spec is None:
            raise InvalidParameterValue(f'unrecognized parameter "{name}"')
        if not setting:
            options.pop(name, None)
            continue
        value = _option_value(d.get("arg"))
        kind, low, high = spec
        if kind == "bool" and value.lower() not in _BOOLEANS:
            raise InvalidParameterValue(f'invalid value for boolean option "{name}": {value}')
        if kind == "enum" and value.lower() not in ("auto", *_BOOLEANS):
            raise InvalidParameterValue(f'invalid value for enum option "{name}": {value}',
                                        detail='Valid values are "on", "off", and "auto".')
        if kind in ("int", "real"):
            try:
                number = int(value) if kind == "int" else float(value)
            except ValueError:
                word = "integer" if kind == "int" else "floating point"
                raise InvalidParameterValue(f'invalid value for {word} option "{name}": {value}') from None
            if not low <= number <= high:
                shown = (str(int(low)), str(int(high))) if kind == "int" else (f"{low:g}", f"{high:g}")
                raise InvalidParameterValue(f'value {value} out of bounds for option "{name}"',
                                            detail=f'Valid values are between "{shown[0]}" and "{shown[1]}".')
        options[name] = f"{name}={value}"
    return tuple(options.values())


def _option_value(arg: dict[str, Any] | None) -> str:
    """A DefElem's argument as reloptions keep it: a word, string or number as written."""
    if arg is None:
        return "true"
    if "Boolean" in arg:
        return "true" if arg["Boolean"].get("boolval") else "false"
    if "TypeName" in arg:
        return str(arg["TypeName"]["names"][-1]["String"]["sval"])
    if "String" in arg:
        return str(arg["String"].get("sval", ""))
    if "Integer" in arg:
        return str(arg["Integer"].get("ival", 0))
    if "Float" in arg:
        return str(arg["Float"].get("fval", ""))
    return str(arg)


def role_spec_name(spec: dict[str, Any]) -> str | None:
    """A RoleSpec as a plan keeps it until the statement runs: the role's name, "" for
    CURRENT_USER / CURRENT_ROLE (and PUBLIC, which callers refuse first where it matters), None
    for SESSION_USER; executor.ownership.named_role resolves them."""
    role = spec.get("RoleSpec", spec)
    kind = role.get("roletype")
    if kind == "ROLESPEC_CSTRING":
        return str(role.get("rolename", ""))
    return None if kind == "ROLESPEC_SESSION_USER" else ""


__all__ = ["DdlPlanner", "ExpressionText", "AlterTable", "replace", "Table", "role_spec_name"]
