"""Declarative partitioning as the catalogs show it: pg_partitioned_table, pg_inherits,
pg_class.relpartbound (`FOR VALUES ...`), pg_get_partkeydef (`RANGE (day)`),
pg_get_partition_constraintdef and pg_partition_tree / pg_partition_ancestors / pg_partition_root.

Owns the display of a partitioned table's key and of each partition's bound, from the catalog's
Table.partition_strategy / partition_key / partition_of / partition_bound (the bound's JSON with
values in their text form, see planner.partition). pg_dump reads these to write
`PARTITION BY RANGE (day)` and `ALTER TABLE ONLY t ATTACH PARTITION p FOR VALUES ...`.
Not partition routing or pruning (planner.partition).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pgaurora.catalog.builtins.registry import function
from pgaurora.catalog.model import Index, Table
from pgaurora.catalog.system import describe, regtypes
from pgaurora.catalog.system.regtypes import RegName
from pgaurora.catalog.system.relations import SystemContext, producer
from pgaurora.datatypes import typeinfo

STRATEGIES = {"r": "RANGE", "l": "LIST", "h": "HASH"}
_UNQUOTED = frozenset({typeinfo.INT2_OID, typeinfo.INT4_OID, typeinfo.INT8_OID, typeinfo.NUMERIC_OID,
                       typeinfo.FLOAT4_OID, typeinfo.FLOAT8_OID, typeinfo.OID_OID, typeinfo.BOOL_OID})


def _literal(datum: list[Any], type_oid: int) -> str:
    """One stored bound datum as ruleutils prints a Const: ["value", text], ["minvalue"], [null]."""
    if not datum or datum[0] is None:
        return "NULL"
    if datum[0] in ("minvalue", "maxvalue"):
        return str(datum[0]).upper()
    text = str(datum[1])
    if type_oid in _UNQUOTED and not text.startswith("-"):  # get_const_expr quotes negative numbers
        return text
    return "'" + text.replace("'", "''") + "'"


def _key_types(parent: Table | None, count: int) -> list[int]:
    if parent is None:
        return [typeinfo.TEXT_OID] * count
    by_attnum = {c.attnum: c.type_oid for c in parent.columns}
    return [by_attnum.get(a, typeinfo.TEXT_OID) for a in parent.partition_key]


def bound_text(state: Any, table: Table) -> str | None:
    """pg_get_expr(relpartbound): `FOR VALUES FROM (...) TO (...)`, `FOR VALUES IN (...)`,
    `FOR VALUES WITH (modulus m, remainder r)` or `DEFAULT`."""
    if not table.partition_of or table.partition_bound is None:
        return None
    data = json.loads(table.partition_bound)
    if data.get("default"):
        return "DEFAULT"
    if "modulus" in data:
        return f"FOR VALUES WITH (modulus {data['modulus']}, remainder {data['remainder']})"
    parent = state.table(table.partition_of)
    if "in" in data:
        key_type = _key_types(parent, 1)[0]
        return "FOR VALUES IN (" + ", ".join(_literal(d, key_type) for d in data["in"]) + ")"
    types = _key_types(parent, len(data.get("from", ())))
    lower = ", ".join(_literal(d, t) for d, t in zip(data["from"], types, strict=False))
    upper = ", ".join(_literal(d, t) for d, t in zip(data["to"], types, strict=False))
    return f"FOR VALUES FROM ({lower}) TO ({upper})"


def key_definition(table: Table) -> str | None:
    """pg_get_partkeydef: `RANGE (day)`; NULL for a table that is not partitioned."""
    if not table.partition_strategy:
        return None
    names = ", ".join(describe.quote_ident(describe.column_name(table, a)) for a in table.partition_key)
    return f"{STRATEGIES.get(table.partition_strategy, table.partition_strategy)} ({names})"


@producer("pg_partitioned_table")
def pg_partitioned_table(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for table in sc.state.tables():
        if table.partition_strategy:
            default = next((p.oid for p in sc.state.partitions(table.oid)
                            if p.partition_bound and json.loads(p.partition_bound).get("default")), 0)
            n = len(table.partition_key)
            yield {"partrelid": table.oid, "partstrat": table.partition_strategy, "partnatts": n, "partdefid": default,
                   "partattrs": list(table.partition_key), "partclass": [0] * n, "partcollation": [0] * n,
                   "partexprs": None}


@producer("pg_inherits")
def pg_inherits(sc: SystemContext) -> Iterator[dict[str, Any]]:
    for obj in sc.state.by_oid.values():
        if isinstance(obj, Table) and obj.partition_of:
            yield {"inhrelid": obj.oid, "inhparent": obj.partition_of, "inhseqno": 1, "inhdetachpending": False}
        elif isinstance(obj, Index) and obj.parent_index:  # a partition's index under the partitioned index
            yield {"inhrelid": obj.oid, "inhparent": obj.parent_index, "inhseqno": 1, "inhdetachpending": False}


def _typed_constant(text: str, type_oid: int) -> str:
    """A Const as ruleutils' get_const_expr prints it in an expression (with its type label)."""
    if type_oid == typeinfo.INT4_OID and not text.startswith("-"):
        return text
    if type_oid == typeinfo.NUMERIC_OID and not text.startswith("-") and any(c in text for c in ".eE"):
        return text
    if type_oid == typeinfo.BOOL_OID:
        return "true" if text in ("t", "true") else "false"
    return "'" + text.replace("'", "''") + "'::" + typeinfo.format_type(type_oid, -1)


def _membership(column: str, values: list[Any], key_type: int) -> str:
    """get_qual_for_list: `col = value` for one value, `col = ANY (ARRAY[...])` for more."""
    items = [_typed_constant(str(d[1]), key_type) for d in values]
    if len(items) == 1:
        return f"({column} = {items[0]})"
    return f"({column} = ANY (ARRAY[{', '.join(items)}]))"


def constraint_text(state: Any, table: Table) -> str | None:
    """pg_get_partition_constraintdef for a hash partition and for a one-column range, list or
    default partition (the forms psql shows most); NULL for multi-column range partitions."""
    if not table.partition_of or table.partition_bound is None:
        return None
    parent = state.table(table.partition_of)
    if parent is None:
        return None
    data = json.loads(table.partition_bound)
    if "modulus" in data:
        columns = ", ".join(describe.quote_ident(describe.column_name(parent, a)) for a in parent.partition_key)
        return f"satisfies_hash_partition('{parent.oid}'::oid, {data['modulus']}, {data['remainder']}, {columns})"
    if len(parent.partition_key) != 1:
        return None
    column = describe.quote_ident(describe.column_name(parent, parent.partition_key[0]))
    key_type = _key_types(parent, 1)[0]
    if data.get("default") and parent.partition_strategy == "l":  # NOT (any sibling's values)
        values = []
        for sibling in state.partitions(parent.oid):
            other = json.loads(sibling.partition_bound or "{}")
            values.extend(other.get("in", ()))
        if not values or any(not d or d[0] is None for d in values):
            return None
        return f"(NOT (({column} IS NOT NULL) AND {_membership(column, values, key_type)}))"
    if "in" in data:
        values = [d for d in data["in"] if d and d[0] is not None]
        if not values or len(values) != len(data["in"]):
            return None
        return f"(({column} IS NOT NULL) AND {_membership(column, values, key_type)})"
    if data.get("default") and parent.partition_strategy == "r":  # NOT (any sibling's range)
        ranges = [json.loads(p.partition_bound or "{}") for p in state.partitions(parent.oid)]
        ranges = sorted((r for r in ranges if "from" in r), key=lambda r: _bound_order(r["from"][0], key_type))
        items = [_range_tests(column, r, key_type) for r in ranges]
        if not items or any(not tests for tests in items):
            return None
        joined = [tests[0] if len(tests) == 1 else "(" + " AND ".join(tests) + ")" for tests in items]
        either = joined[0] if len(joined) == 1 else "(" + " OR ".join(joined) + ")"
        return f"(NOT (({column} IS NOT NULL) AND {either}))"
    if "from" in data:
        tests = _range_tests(column, data, key_type)
        return f"(({column} IS NOT NULL) AND {' AND '.join(tests)})" if tests else None
    return None


def _range_tests(column: str, data: dict[str, Any], key_type: int) -> list[str]:
    """get_qual_for_range for one key column: `col >= lower` unless MINVALUE, `col < upper`
    unless MAXVALUE."""
    low, high = data["from"][0], data["to"][0]
    tests = []
    if low and low[0] == "value":
        tests.append(f"({column} >= {_typed_constant(str(low[1]), key_type)})")
    if high and high[0] == "value":
        tests.append(f"({column} < {_typed_constant(str(high[1]), key_type)})")
    return tests


def _bound_order(datum: list[Any], key_type: int) -> tuple[int, Any]:
    """Partitions in the order of their lower bounds (MINVALUE first), as PartitionDesc keeps them."""
    if not datum or datum[0] == "minvalue":
        return (0, 0)
    if datum[0] == "maxvalue":
        return (2, 0)
    if key_type in _UNQUOTED and key_type != typeinfo.BOOL_OID:
        try:
            return (1, float(datum[1]))
        except ValueError:
            pass
    return (1, str(datum[1]))


# ---- pg_partition_tree / pg_partition_ancestors / pg_partition_root ---------------------------
def _regclass(state: Any, oid: int) -> RegName:
    return RegName(oid, regtypes.relation_name(state, oid))


def _parent_of(state: Any, oid: int) -> int:
    obj = state.by_oid.get(oid)
    if isinstance(obj, Table):
        return obj.partition_of
    if isinstance(obj, Index):
        return obj.parent_index
    return 0


def _children_of(state: Any, oid: int) -> list[int]:
    obj = state.by_oid.get(oid)
    if isinstance(obj, Table):
        return [p.oid for p in state.partitions(oid)]
    if isinstance(obj, Index):
        return sorted(o.oid for o in state.by_oid.values() if isinstance(o, Index) and o.parent_index == oid)
    return []


def _is_partitioned(obj: Any, state: Any) -> bool:
    if isinstance(obj, Table):
        return bool(obj.partition_strategy)
    return isinstance(obj, Index) and (table := state.table(obj.table_oid)) is not None and table.kind == "p"


def partition_tree(ctx: Any, rel: Any) -> Iterator[tuple[Any, ...]]:
    """pg_partition_tree(regclass): (relid, parentrelid, isleaf, level) for the relation and every
    partition below it; nothing for a relation that is neither partitioned nor a partition."""
    state = regtypes.state_of(ctx)
    root = state.by_oid.get(int(rel))
    if not isinstance(root, Table | Index) or not (_is_partitioned(root, state) or _parent_of(state, root.oid)):
        return
    pending = [(root.oid, 0)]
    while pending:
        oid, level = pending.pop(0)
        parent = _parent_of(state, oid)
        obj = state.by_oid.get(oid)
        yield (_regclass(state, oid), _regclass(state, parent) if parent else None,
               not _is_partitioned(obj, state), level)
        pending.extend((child, level + 1) for child in _children_of(state, oid))


def partition_ancestors(ctx: Any, rel: Any) -> Iterator[tuple[Any, ...]]:
    """pg_partition_ancestors(regclass): the relation and its parents up to the root."""
    state = regtypes.state_of(ctx)
    oid = int(rel)
    obj = state.by_oid.get(oid)
    if not isinstance(obj, Table | Index) or not (_is_partitioned(obj, state) or _parent_of(state, oid)):
        return
    for _ in range(64):  # bounded: partition trees are shallow
        yield (_regclass(state, oid),)
        oid = _parent_of(state, oid)
        if not oid:
            return


def partition_root(ctx: Any, rel: Any) -> Any:
    """pg_partition_root(regclass): the top-most parent; NULL outside a partition tree."""
    last = None
    for (ancestor,) in partition_ancestors(ctx, rel):
        last = ancestor
    return last


function("pg_partition_tree", (typeinfo.REGCLASS_OID,), typeinfo.REGCLASS_OID, partition_tree, needs_context=True,
         retset=True, volatility="v", column_names=("relid", "parentrelid", "isleaf", "level"),
         column_oids=(typeinfo.REGCLASS_OID, typeinfo.REGCLASS_OID, typeinfo.BOOL_OID, typeinfo.INT4_OID))
function("pg_partition_ancestors", (typeinfo.REGCLASS_OID,), typeinfo.REGCLASS_OID, partition_ancestors,
         needs_context=True, retset=True, volatility="v", column_names=("relid",),
         column_oids=(typeinfo.REGCLASS_OID,))
function("pg_partition_root", (typeinfo.REGCLASS_OID,), typeinfo.REGCLASS_OID, partition_root, needs_context=True,
         volatility="v")
