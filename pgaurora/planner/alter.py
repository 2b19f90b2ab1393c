"""ALTER TABLE and RENAME analysis -> one executor.ddl.AlterTable node carrying the new definition.

Owns ADD/DROP COLUMN, ADD/DROP CONSTRAINT (primary key, unique, check, foreign key), SET/DROP
NOT NULL, SET/DROP DEFAULT, and renames of tables and columns, with PostgreSQL's messages.
Dropped columns stay in the row layout (PostgreSQL's attisdropped) so stored rows need no rewrite.
Not executing them (executor.ddl).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pgaurora.catalog.model import Column, Index, Table
from pgaurora.datatypes.typeinfo import format_type
from pgaurora.errors import (
    DatatypeMismatch,
    DuplicateColumn,
    DuplicateObject,
    DuplicateTable,
    FeatureNotSupported,
    InvalidTableDefinition,
    ObjectNotInPrerequisiteState,
    UndefinedColumn,
    UndefinedObject,
    UndefinedTable,
    WrongObjectType,
)
from pgaurora.executor.ddl import AlterTable, AlterTables, IndexDef
from pgaurora.executor.ddlmisc import RenameObject
from pgaurora.executor.expr import Const, Var
from pgaurora.executor.plannodes import PlanNode
from pgaurora.planner.ddl import DdlPlanner, check_tablespace, first_location, nextval_default, sequence_max
from pgaurora.planner.exprbind import Level, bind, type_from_name
from pgaurora.planner.indexconstraint import adopt_index
from pgaurora.planner.indexexpr import index_key_spec, key_specs
from pgaurora.planner.modify import parse_expression, table_entry
from pgaurora.planner.resolve import coerce
from pgaurora.planner.scope import SYSTEM_NAMES, Scope


def _column_index(table: Table, name: str) -> int | None:
    for i, c in enumerate(table.columns):
        if c.name == name and not c.dropped:
            return i
    return None


def plan_alter(ddl: DdlPlanner, kind: str, body: dict[str, Any]) -> PlanNode:
    if kind == "RenameStmt":
        return _rename(ddl, body)
    if body.get("objtype") == "OBJECT_VIEW" and body.get("cmds") and all(
            c["AlterTableCmd"]["subtype"] in ("AT_SetRelOptions", "AT_ResetRelOptions") for c in body["cmds"]):
        return _view_options(ddl, body)
    if body.get("objtype") == "OBJECT_INDEX" and body.get("cmds") and all(
            c["AlterTableCmd"]["subtype"] in ("AT_SetRelOptions", "AT_ResetRelOptions") for c in body["cmds"]):
        return _index_options(ddl, body)
    if body.get("objtype") not in (None, "OBJECT_TABLE"):
        raise FeatureNotSupported("ALTER of this object type is not supported")
    relation = body["relation"]
    rel = ddl.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
    if rel is None and body.get("missing_ok"):
        from pgaurora.executor.ddl import NoOp

        return NoOp("ALTER TABLE", f'relation "{relation["relname"]}" does not exist, skipping')
    table = ddl._table(relation)
    if body["cmds"] and all(c["AlterTableCmd"]["subtype"] in ("AT_AttachPartition", "AT_DetachPartition")
                            for c in body["cmds"]):
        from pgaurora.planner.partition import alter_partitions

        return alter_partitions(ddl, table, body["cmds"])
    subtypes = [c["AlterTableCmd"]["subtype"] for c in body["cmds"]]
    if table.kind == "p":  # the partitioned table and each partition, the same change
        key = {c.name for c in table.columns if c.attnum in table.partition_key}
        for item in body["cmds"]:
            cmd = item["AlterTableCmd"]
            if cmd["subtype"] not in _RECURSIVE or (
                    cmd["subtype"] == "AT_AddConstraint" and cmd["def"]["Constraint"].get("contype") != "CONSTR_CHECK"):
                raise FeatureNotSupported(f"ALTER TABLE {cmd['subtype'].removeprefix('AT_')} of a partitioned table "
                                          "is not supported")
            if cmd["subtype"] in ("AT_AlterColumnType", "AT_DropColumn") and cmd.get("name") in key:
                word = "alter" if cmd["subtype"] == "AT_AlterColumnType" else "drop"
                raise InvalidTableDefinition(f'cannot {word} column "{cmd["name"]}" because it is part of the '
                                             f'partition key of relation "{table.name}"')
        if not relation.get("inh", False) and "AT_AddColumn" in subtypes:
            raise InvalidTableDefinition("column must be added to child tables too")
        first = _alter_one(ddl, table, body["cmds"])
        if not relation.get("inh", False):
            return first
        cmds = _named_checks(body["cmds"], table, first.table)  # (the partitions' CHECKs take the parent's names)
        return AlterTables((first, *(_alter_one(ddl, member, cmds) for member in _descendants(ddl, table))))
    if table.partition_of:
        for item in body["cmds"]:
            cmd = item["AlterTableCmd"]
            sub = cmd["subtype"]
            if sub == "AT_AddColumn":
                raise WrongObjectType("cannot add column to a partition")
            if sub in ("AT_DropColumn", "AT_AlterColumnType"):
                word = "drop" if sub == "AT_DropColumn" else "alter"
                raise InvalidTableDefinition(f'cannot {word} inherited column "{cmd["name"]}"')
            if sub not in _PARTITION_OK:
                raise FeatureNotSupported(f"ALTER TABLE {sub.removeprefix('AT_')} of a partition is not supported")
    return _alter_one(ddl, table, body["cmds"])


def _named_checks(cmds: list[dict[str, Any]], before: Table, after: Table) -> list[dict[str, Any]]:
    """`cmds` with each unnamed ADD CHECK given the name the partitioned table's gave it."""
    import copy

    old = {c.name for c in before.constraints}
    names = iter([c.name for c in after.constraints if c.kind == "c" and c.name not in old])
    out = copy.deepcopy(cmds)
    for item in out:
        cmd = item["AlterTableCmd"]
        if cmd["subtype"] == "AT_AddConstraint" and not cmd["def"]["Constraint"].get("conname"):
            cmd["def"]["Constraint"]["conname"] = next(names, None)
    return out


# what ALTER TABLE of a partitioned table does to it and each partition alike
_RECURSIVE = frozenset({"AT_AddColumn", "AT_DropColumn", "AT_ColumnDefault", "AT_SetNotNull", "AT_DropNotNull",
                        "AT_AlterColumnType", "AT_AddConstraint", "AT_DropConstraint", "AT_ValidateConstraint",
                        "AT_SetStatistics", "AT_SetStorage"})
# what ALTER TABLE of one partition may change
_PARTITION_OK = frozenset({"AT_ColumnDefault", "AT_SetNotNull", "AT_SetStatistics", "AT_SetStorage",
                           "AT_SetRelOptions", "AT_ResetRelOptions", "AT_AddConstraint", "AT_DropConstraint",
                           "AT_ValidateConstraint"})


def _descendants(ddl: DdlPlanner, table: Table) -> list[Table]:
    out: list[Table] = []
    for part in ddl.qc.catalog.partitions(table.oid):
        out.append(part)
        if part.kind == "p":
            out.extend(_descendants(ddl, part))
    return out


def _alter_one(ddl: DdlPlanner, table: Table, cmds: list[dict[str, Any]]) -> AlterTable:
    """The ALTER TABLE subcommands `cmds` for one table."""
    body = {"cmds": cmds}
    columns = list(table.columns)
    constraints = list(table.constraints)
    new_indexes: list[IndexDef] = []
    drop_indexes: list[int] = []
    sequences: list[tuple[Any, ...]] = []  # (name, attnum[, Sequence template])
    fill: list[tuple[int, Any]] = []
    conversions: list[tuple[int, Any]] = []
    validate: list[int] = []
    sequence_changes: list[tuple[Any, int | None]] = []  # SET GENERATED / SET sequence options / RESTART
    drop_sequences: list[int] = []  # DROP IDENTITY
    notices: list[str] = []
    adopted: list[tuple[int, str, bool]] = []  # ADD ... USING INDEX: (index oid, its new name, primary)
    serial_fills: list[tuple[int, str, int, int]] = []
    replica = (table.replica_identity, table.replica_index)
    reloptions = table.options
    taken = {n for (s, n) in ddl.qc.catalog.relations if s == table.schema_oid} | {c.name for c in constraints}
    for item in body["cmds"]:
        cmd = item["AlterTableCmd"]
        sub = cmd["subtype"]
        if sub == "AT_AddColumn":
            cd = cmd["def"]["ColumnDef"]
            if _column_index(replace(table, columns=tuple(columns)), cd["colname"]) is not None:
                if cmd.get("missing_ok"):
                    continue
                raise DuplicateColumn(f'column "{cd["colname"]}" of relation "{table.name}" already exists')
            if cd["colname"] in SYSTEM_NAMES:
                raise DuplicateColumn(f'column name "{cd["colname"]}" conflicts with a system column name')
            col, extra = ddl.column_def(cd, len(columns) + 1, table.name, sequences, taken)
            numbered = bool(sequences) and sequences[-1][1] == col.attnum  # serial / identity
            if numbered:
                col = _numbered_column(ddl, table, col, sequences)
            columns.append(col)
            pos = len(columns) - 1
            if numbered:
                template = sequences[-1][2]
                serial_fills.append((pos, template.name, template.start, template.increment))
            if col.generated is not None:  # the existing rows get their values computed (a rewrite)
                from pgaurora.planner.generated import check_generated, generation_expr

                check_generated(ddl.qc, table.name, columns)
                conversions.append((pos, generation_expr(ddl.qc, table.name, columns, pos)))
            if col.default is not None and not numbered:
                lv = Level(Scope(ddl.qc.state), ddl.qc.params, lambda loc: None, lambda n, s: None, None, "DEFAULT")
                value = coerce(bind(parse_expression(col.default), lv), col.type_oid, col.typmod, "assignment",
                               ddl.qc.params)
                if not isinstance(value, Const):  # a volatile default (now(), random()): each row its own
                    conversions.append((pos, value))
                elif value.value is not None:
                    fill.append((pos, value.value))
            if col.not_null and col.default is None:
                validate.append(pos)
            cons, idx, columns = ddl.constraints(table.name, columns, extra, taken, table.oid)
            constraints.extend(cons)
            new_indexes.extend(idx)
        elif sub == "AT_DropColumn":
            i = _column_index(replace(table, columns=tuple(columns)), cmd["name"])
            if i is None:
                if cmd.get("missing_ok"):
                    continue
                raise UndefinedColumn(f'column "{cmd["name"]}" of relation "{table.name}" does not exist')
            attnum = columns[i].attnum
            columns[i] = replace(columns[i], dropped=True, not_null=False, default=None,
                                 name=f"........pg.dropped.{attnum}........")
            for c in list(constraints):
                if attnum in c.columns:
                    constraints.remove(c)
                    if c.index_oid:
                        drop_indexes.append(c.index_oid)
            for ix in ddl.qc.catalog.indexes(table.oid):
                if (attnum in ix.columns or attnum in ix.include or _reads_column(ddl, table, ix, i)) \
                        and ix.oid not in drop_indexes:
                    drop_indexes.append(ix.oid)
        elif sub == "AT_AddConstraint" and cmd["def"]["Constraint"].get("indexname"):
            constraint, index, notice = adopt_index(ddl, table, cmd["def"]["Constraint"], constraints, taken)
            constraints.append(constraint)
            adopted.append((index.oid, constraint.name, constraint.kind == "p"))
            notices.extend([notice] if notice else [])
            for i, col in enumerate(columns):
                if constraint.kind == "p" and col.attnum in index.columns and not col.not_null:
                    columns[i] = replace(col, not_null=True)
                    validate.append(i)
        elif sub == "AT_AddConstraint":
            con = cmd["def"]["Constraint"]
            cons, idx, columns = ddl.constraints(table.name, columns, [con], taken, table.oid)
            constraints.extend(cons)
            new_indexes.extend(idx)
            for d in idx:
                if d.primary:
                    if any(c.kind == "p" for c in constraints):
                        from pgaurora.errors import InvalidTableDefinition

                        raise InvalidTableDefinition(f'multiple primary keys for table "{table.name}" are not allowed')
                    for name in d.columns:
                        existing = table.column(name)
                        if existing is None or not existing.not_null:  # NOT NULL already: no scan
                            validate.append(next(i for i, c in enumerate(columns) if c.name == name))
        elif sub == "AT_ValidateConstraint":
            name = cmd["name"]
            found = next((c for c in constraints if c.name == name), None)
            if found is None:
                raise UndefinedObject(f'constraint "{name}" of relation "{table.name}" does not exist')
            if found.kind not in ("c", "f"):
                raise WrongObjectType(f'constraint "{name}" of relation "{table.name}" is not a foreign key or '
                                      f'check constraint')
            constraints[constraints.index(found)] = replace(found, validated=True)
        elif sub == "AT_AlterConstraint":  # [NOT] DEFERRABLE [INITIALLY DEFERRED | IMMEDIATE]
            change = cmd["def"]["Constraint"]
            name = change.get("conname", "")
            found = next((c for c in constraints if c.name == name), None)
            if found is None:
                raise UndefinedObject(f'constraint "{name}" of relation "{table.name}" does not exist')
            if found.kind != "f":
                raise WrongObjectType(f'constraint "{name}" of relation "{table.name}" is not a foreign key constraint')
            constraints[constraints.index(found)] = replace(
                found, deferrable=bool(change.get("deferrable")), deferred=bool(change.get("initdeferred")))
        elif sub == "AT_DropConstraint":
            name = cmd["name"]
            found = next((c for c in constraints if c.name == name), None)
            if found is None:
                if cmd.get("missing_ok"):
                    continue
                raise UndefinedObject(f'constraint "{name}" of relation "{table.name}" does not exist')
            constraints.remove(found)
            taken.discard(found.name)  # (a constraint added later in the same ALTER may take it)
            if found.index_oid:
                drop_indexes.append(found.index_oid)
        elif sub in ("AT_SetNotNull", "AT_DropNotNull"):
            i = _column_index(replace(table, columns=tuple(columns)), cmd["name"])
            if i is None:
                raise UndefinedColumn(f'column "{cmd["name"]}" of relation "{table.name}" does not exist')
            columns[i] = replace(columns[i], not_null=sub == "AT_SetNotNull")
            if sub == "AT_SetNotNull":
                validate.append(i)
        elif sub == "AT_ColumnDefault":
            i = _column_index(replace(table, columns=tuple(columns)), cmd["name"])
            if i is None:
                raise UndefinedColumn(f'column "{cmd["name"]}" of relation "{table.name}" does not exist')
            default = None
            if "def" in cmd:
                default = ddl.text.after_keyword("DEFAULT", first_location(cmd["def"]), True)
            columns[i] = replace(columns[i], default=default)
        elif sub == "AT_AlterColumnType":
            i = _column_index(replace(table, columns=tuple(columns)), cmd["name"])
            if i is None:
                raise UndefinedColumn(f'column "{cmd["name"]}" of relation "{table.name}" does not exist')
            cd = cmd["def"]["ColumnDef"]
            oid, typmod = type_from_name(cd["typeName"], ddl.pos)
            old = columns[i]
            scope = Scope(ddl.qc.state)
            scope.add(table_entry(table))
            lv = Level(scope, ddl.qc.params, ddl.pos, lambda n, sc: None, None, "transform expressions")
            source = bind(cd["raw_default"], lv) if "raw_default" in cd else Var(i, old.type_oid, old.typmod, old.name)
            try:
                converted = coerce(source, oid, typmod, "assignment", ddl.qc.params)
            except DatatypeMismatch:
                raise DatatypeMismatch(
                    f'column "{old.name}" cannot be cast automatically to type {format_type(oid, typmod)}',
                    hint=f'You might need to specify "USING {old.name}::{format_type(oid, typmod)}".') from None
            columns[i] = replace(old, type_oid=oid, typmod=typmod)
            conversions.append((i, converted))
        elif sub == "AT_AddIdentity":
            sequences.append(_add_identity(ddl, table, columns, cmd, taken))
        elif sub in ("AT_SetStatistics", "AT_SetStorage"):  # (pg_attribute's attstattarget / attstorage)
            i = _column_index(replace(table, columns=tuple(columns)), cmd["name"])
            if i is None:
                raise UndefinedColumn(f'column "{cmd["name"]}" of relation "{table.name}" does not exist')
            columns[i] = _column_setting(columns[i], sub, cmd, notices)
        elif sub == "AT_DropExpression":  # a stored generated column becomes a plain one, its values kept
            i = _column_index(replace(table, columns=tuple(columns)), cmd["name"])
            if i is None:
                raise UndefinedColumn(f'column "{cmd["name"]}" of relation "{table.name}" does not exist')
            if columns[i].generated is None:
                message = f'column "{cmd["name"]}" of relation "{table.name}" is not a stored generated column'
                if not cmd.get("missing_ok"):
                    raise ObjectNotInPrerequisiteState(message)
                notices.append(message + ", skipping")
            columns[i] = replace(columns[i], generated=None)
        elif sub == "AT_ReplicaIdentity":
            replica = _replica_identity(ddl, table, columns, constraints, cmd["def"]["ReplicaIdentityStmt"])
        elif sub == "AT_SetTableSpace":
            check_tablespace(cmd["name"])
        elif sub in ("AT_SetRelOptions", "AT_ResetRelOptions"):  # (storage parameters: pg_class.reloptions)
            from pgaurora.planner.ddl import table_options

            reloptions = table_options(reloptions, cmd["def"]["List"]["items"], sub == "AT_SetRelOptions")
        elif sub in ("AT_SetIdentity", "AT_DropIdentity"):
            change = _identity_change(ddl, table, columns, cmd, notices)
            if change is not None:
                seq, restart = change
                if sub == "AT_DropIdentity":
                    drop_sequences.append(seq.oid)
                else:
                    sequence_changes.append((seq, restart))
        else:
            raise FeatureNotSupported(f"ALTER TABLE {sub.removeprefix('AT_')} is not supported")
    new_table = replace(table, columns=tuple(columns), constraints=tuple(constraints), options=reloptions,
                        replica_identity=replica[0], replica_index=replica[1])
    checks = _checks_to_validate(ddl, table, new_table)
    rewrites = bool(fill or validate or conversions or checks or serial_fills)  # (rows rewritten: their index entries too)
    return AlterTable(new_table, tuple(new_indexes), tuple(drop_indexes), tuple(sequences), tuple(fill),
                      tuple(validate), conversions=tuple(conversions), checks=checks,
                      index_keys=key_specs(ddl.qc.catalog, new_table) if rewrites else (),
                      sequence_changes=tuple(sequence_changes), drop_oids=tuple(drop_sequences),
                      notices=tuple(notices), adopted_indexes=tuple(adopted), serial_fills=tuple(serial_fills))


def _index_options(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    """ALTER INDEX i SET (fillfactor = ...) / RESET (...): the index's reloptions, replaced (its
    table's owner may)."""
    from pgaurora.executor.ddl import NoOp
    from pgaurora.planner.ddl import index_options

    relation = body["relation"]
    index = ddl.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
    if index is None and body.get("missing_ok"):
        return NoOp("ALTER INDEX", f'relation "{relation["relname"]}" does not exist, skipping')
    if index is None:
        raise UndefinedTable(f'relation "{relation["relname"]}" does not exist')
    if not isinstance(index, Index):
        raise WrongObjectType(f'"{relation["relname"]}" is not an index')
    options = index.options
    for item in body["cmds"]:
        cmd = item["AlterTableCmd"]
        options = index_options(index.method, options, cmd["def"]["List"]["items"], cmd["subtype"] == "AT_SetRelOptions")
    table = ddl.qc.catalog.table(index.table_oid)
    assert table is not None
    return AlterTable(table, replaced_indexes=(replace(index, options=options),), tag="ALTER INDEX")


def _view_options(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    """ALTER VIEW v SET (security_invoker = ...) / RESET (...): the view, replaced."""
    from pgaurora.catalog.model import View
    from pgaurora.executor.ddl import CreateView
    from pgaurora.planner.ddl import view_options

    relation = body["relation"]
    view = ddl.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
    if view is None:
        raise UndefinedTable(f'relation "{relation["relname"]}" does not exist')
    if not isinstance(view, View):
        raise WrongObjectType(f'"{relation["relname"]}" is not a view')
    options = view.options
    for item in body["cmds"]:
        cmd = item["AlterTableCmd"]
        options = view_options(options, cmd["def"]["List"]["items"], cmd["subtype"] == "AT_SetRelOptions")
    return CreateView(replace(view, options=options), True, tag="ALTER VIEW")


def _checks_to_validate(ddl: DdlPlanner, old: Table, new: Table) -> tuple[tuple[str, Any], ...]:
    """(name, expression over the new row) of each CHECK the existing rows must now pass: one
    added without NOT VALID, or one VALIDATE CONSTRAINT turns valid (PostgreSQL's phase-3 scan)."""
    before = {c.name: c for c in old.constraints}
    todo = [c for c in new.constraints if c.kind == "c" and c.check and c.validated
            and (c.name not in before or not before[c.name].validated)]
    if not todo:
        return ()
    scope = Scope(ddl.qc.state)
    scope.add(table_entry(new))
    lv = Level(scope, ddl.qc.params, ddl.pos, lambda n, sc: None, None, "check constraints")
    return tuple((c.name, bind(parse_expression(c.check or ""), lv)) for c in todo)


def _column_setting(col: Column, sub: str, cmd: dict[str, Any], notices: list[str]) -> Column:
    """ALTER COLUMN c SET STATISTICS n / SET STORAGE { PLAIN | EXTERNAL | EXTENDED | MAIN }, checked
    as PostgreSQL checks them."""
    from pgaurora.datatypes.typeinfo import find
    from pgaurora.errors import InvalidParameterValue

    if sub == "AT_SetStatistics":
        target = int(cmd["def"]["Integer"].get("ival", 0))
        if target < -1:
            raise InvalidParameterValue(f"statistics target {target} is too low")
        if target > 10000:
            notices.append(f"lowering statistics target to {10000}")
            target = 10000
        return replace(col, stattarget=target)
    word = cmd["def"]["String"]["sval"].lower()
    letter = {"plain": "p", "external": "e", "extended": "x", "main": "m"}.get(word)
    if letter is None:
        raise InvalidParameterValue(f'invalid storage type "{word}"')
    info = find(col.type_oid)
    if letter != "p" and info is not None and info.typlen != -1:
        raise FeatureNotSupported(f"column data type {format_type(col.type_oid)} can only have storage PLAIN")
    return replace(col, storage=letter)


def _identity_change(ddl: DdlPlanner, table: Table, columns: list[Column], cmd: dict[str, Any],
                     notices: list[str]) -> tuple[Any, int | None] | None:
    """ALTER COLUMN c SET GENERATED { ALWAYS | BY DEFAULT } / SET sequence option / RESTART [WITH n]
    (the column's identity kind changed in `columns`; the identity sequence, changed, and the
    value to restart at), or DROP IDENTITY [IF EXISTS] (the column's default gone; its sequence,
    to drop). None when there is nothing to do (DROP IDENTITY IF EXISTS of no identity)."""
    from pgaurora.errors import ObjectNotInPrerequisiteState

    name = cmd["name"]
    i = _column_index(replace(table, columns=tuple(columns)), name)
    if i is None:
        raise UndefinedColumn(f'column "{name}" of relation "{table.name}" does not exist')
    col = columns[i]
    if not col.identity:
        if cmd.get("missing_ok"):
            notices.append(f'column "{name}" of relation "{table.name}" is not an identity column, skipping')
            return None
        raise ObjectNotInPrerequisiteState(f'column "{name}" of relation "{table.name}" is not an identity column')
    seq = next((s for s in ddl.qc.catalog.owned_sequences(table.oid) if s.owned_by[1] == col.attnum), None)
    if seq is None:
        raise ObjectNotInPrerequisiteState(f'identity column "{name}" of relation "{table.name}" has no sequence')
    if cmd["subtype"] == "AT_DropIdentity":
        columns[i] = replace(col, identity="", default=None)
        return seq, None
    options = []
    for item in cmd.get("def", {}).get("List", {}).get("items", ()):
        elem = item["DefElem"]
        if elem["defname"] == "generated":
            columns[i] = replace(columns[i], identity="a" if elem["arg"]["Integer"]["ival"] == ord("a") else "d")
        else:
            options.append(item)
    return ddl.sequence_options(seq, options) if options else (seq, None)


def _add_identity(ddl: DdlPlanner, table: Table, columns: list[Column], cmd: dict[str, Any],
                  taken: set[str]) -> tuple[Any, ...]:
    """ALTER COLUMN c ADD GENERATED ... AS IDENTITY [(SEQUENCE NAME s, options)]: the column gets
    its owned sequence (created by the executor from the returned template) and nextval default."""
    from pgaurora.catalog.model import Sequence
    from pgaurora.errors import InvalidParameterValue, ObjectNotInPrerequisiteState

    name = cmd["name"]
    i = _column_index(replace(table, columns=tuple(columns)), name)
    if i is None:
        raise UndefinedColumn(f'column "{name}" of relation "{table.name}" does not exist')
    col = columns[i]
    if col.type_oid not in (20, 21, 23):
        raise InvalidParameterValue('identity column type must be smallint, integer, or bigint', sqlstate="22023")
    if col.identity:
        raise ObjectNotInPrerequisiteState(f'column "{name}" of relation "{table.name}" is already an identity column')
    if not col.not_null:
        raise ObjectNotInPrerequisiteState(
            f'column "{name}" of relation "{table.name}" must be declared NOT NULL before identity can be added')
    if col.default is not None:
        raise ObjectNotInPrerequisiteState(f'column "{name}" of relation "{table.name}" already has a default value')
    con = cmd["def"]["Constraint"]
    options = con.get("options", [])
    seq_name = None
    for o in options:
        if o["DefElem"]["defname"] == "sequence_name":
            seq_name = o["DefElem"]["arg"]["List"]["items"][-1]["String"]["sval"]
    if seq_name is None:
        seq_name = f"{table.name}_{name}_seq"[:63]
        n = 0
        while seq_name in taken:
            n += 1
            seq_name = f"{table.name}_{name}{n}_seq"[:63]
    taken.add(seq_name)
    template, _ = ddl.sequence_options(Sequence(0, seq_name, col.type_oid, max_value=sequence_max(col.type_oid),
                                                schema_oid=table.schema_oid), options)
    columns[i] = replace(col, identity=con.get("generated_when", "a"),
                         default=nextval_default(ddl, table.schema_oid, seq_name))
    return (seq_name, col.attnum, template)


def _rename(ddl: DdlPlanner, body: dict[str, Any]) -> PlanNode:
    kind = body["renameType"]
    if kind in ("OBJECT_SCHEMA", "OBJECT_ROLE"):  # checked and done as it runs (executor.ddlmisc)
        return RenameObject(kind.removeprefix("OBJECT_").lower(), body["subname"], body["newname"])
    relation = body["relation"]
    if body.get("missing_ok") and ddl.qc.catalog.relation(relation["relname"], relation.get("schemaname")) is None:
        from pgaurora.executor.ddl import NoOp

        word = {"OBJECT_INDEX": "INDEX", "OBJECT_SEQUENCE": "SEQUENCE", "OBJECT_VIEW": "VIEW",
                "OBJECT_MATVIEW": "MATERIALIZED VIEW"}.get(kind, "TABLE")
        return NoOp(f"ALTER {word}", f'relation "{relation["relname"]}" does not exist, skipping')
    if kind == "OBJECT_TABCONSTRAINT":
        table = ddl._table(relation)
        old = next((c for c in table.constraints if c.name == body["subname"]), None)
        if old is None:
            raise UndefinedObject(f'constraint "{body["subname"]}" for table "{table.name}" does not exist')
        if any(c.name == body["newname"] for c in table.constraints):
            raise DuplicateObject(f'constraint "{body["newname"]}" for relation "{table.name}" already exists')
        constraints = tuple(replace(c, name=body["newname"]) if c is old else c for c in table.constraints)
        # a unique or primary key constraint's index is renamed with it, as in PostgreSQL
        renames = ((old.index_oid, body["newname"]),) if old.index_oid else ()
        return AlterTable(replace(table, constraints=constraints), renames=renames)
    if kind == "OBJECT_COLUMN":
        table = ddl._table(relation)
        i = _column_index(table, body["subname"])
        if i is None:
            raise UndefinedColumn(f'column "{body["subname"]}" does not exist')
        if _column_index(table, body["newname"]) is not None:
            raise DuplicateColumn(f'column "{body["newname"]}" of relation "{table.name}" already exists')
        if body["newname"] in SYSTEM_NAMES:
            raise DuplicateColumn(f'column name "{body["newname"]}" conflicts with a system column name')
        columns = list(table.columns)
        columns[i] = replace(columns[i], name=body["newname"])
        return AlterTable(replace(table, columns=tuple(columns)))
    if kind in ("OBJECT_TABLE", "OBJECT_INDEX", "OBJECT_SEQUENCE", "OBJECT_VIEW", "OBJECT_MATVIEW"):
        rel = ddl.qc.catalog.relation(relation["relname"], relation.get("schemaname"))
        if rel is None:
            from pgaurora.errors import UndefinedTable

            raise UndefinedTable(f'relation "{relation["relname"]}" does not exist')
        if ddl.qc.catalog.relation(body["newname"], relation.get("schemaname")) is not None:
            raise DuplicateTable(f'relation "{body["newname"]}" already exists')
        tag = "ALTER " + ("MATERIALIZED VIEW" if kind == "OBJECT_MATVIEW" else kind.removeprefix("OBJECT_"))
        if isinstance(rel, Table):
            return AlterTable(replace(rel, name=body["newname"]), tag=tag)
        owner = ddl.qc.catalog.table(getattr(rel, "table_oid", 0)) or next(iter(ddl.qc.catalog.tables()), None)
        if owner is None:
            raise FeatureNotSupported("RENAME of this object is not supported")
        return AlterTable(owner, renames=((rel.oid, body["newname"]),), tag=tag)
    raise FeatureNotSupported(f"ALTER {kind.removeprefix('OBJECT_')} RENAME is not supported")


__all__ = ["plan_alter", "Column"]


def _reads_column(ddl: DdlPlanner, table: Table, index: Any, position: int) -> bool:
    """Does an expression / partial index read the column at `position` (DROP COLUMN drops it)?"""
    from pgaurora.executor.expr import walk

    spec = index_key_spec(ddl.qc.catalog, table, index)
    if spec is None:
        return False
    exprs = [*spec.keys, *([spec.predicate] if spec.predicate is not None else [])]
    return any(isinstance(node, Var) and node.index == position for e in exprs for node in walk(e))


def _replica_identity(ddl: DdlPlanner, table: Table, columns: list[Column], constraints: list[Any],
                      stmt: dict[str, Any]) -> tuple[str, int]:
    """REPLICA IDENTITY {DEFAULT | FULL | NOTHING | USING INDEX name}: (relreplident, index oid),
    the index checked as PostgreSQL's ATExecReplicaIdentity checks it."""
    kind = stmt["identity_type"]
    if kind != "i":
        return kind, 0
    name = stmt["name"]
    index = ddl.qc.catalog.relations.get((table.schema_oid, name))
    if not isinstance(index, Index) or index.table_oid != table.oid:
        raise UndefinedObject(f'index "{name}" for table "{table.name}" does not exist')
    if not index.unique:
        raise WrongObjectType(f'cannot use non-unique index "{name}" as replica identity')
    if any(c.index_oid == index.oid and c.deferrable for c in constraints):
        raise FeatureNotSupported(f'cannot use non-immediate index "{name}" as replica identity')
    if index.expressions and any(index.expressions):
        raise WrongObjectType(f'cannot use expression index "{name}" as replica identity')
    if index.predicate is not None:
        raise WrongObjectType(f'cannot use partial index "{name}" as replica identity')
    for attnum in index.columns:
        col = next(c for c in columns if c.attnum == attnum)
        if not col.not_null:
            raise WrongObjectType(f'index "{name}" cannot be used as replica identity because column '
                                  f'"{col.name}" is nullable')
    return "i", index.oid


def _numbered_column(ddl: DdlPlanner, table: Table, col: Column, sequences: list[tuple[Any, ...]]) -> Column:
    """ADD COLUMN c serial / GENERATED ... AS IDENTITY: its sequence (of the column's type, in the
    table's schema) and nextval default; the executor numbers the existing rows."""
    from pgaurora.catalog.model import Sequence

    name, attnum, *rest = sequences[-1]
    template = rest[0] if rest else Sequence(0, name, col.type_oid if col.type_oid in (20, 21, 23) else 20,
                                             max_value=sequence_max(col.type_oid))
    template = replace(template, name=name, schema_oid=table.schema_oid, owner=table.owner)
    sequences[-1] = (name, attnum, template)
    return replace(col, default=nextval_default(ddl, table.schema_oid, name))
