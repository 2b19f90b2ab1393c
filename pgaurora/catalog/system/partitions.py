"""Declarative partitioning as the catalogs show it: pg_partitioned_table, pg_inherits,
pg_class.relpartbound (`FOR VALUES ...`) and pg_get_partkeydef (`RANGE (day)`).

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

from pgaurora.catalog.model import Table
from pgaurora.catalog.system import describe
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
    for table in sc.state.tables():
        if table.partition_of:
            yield {"inhrelid": table.oid, "inhparent": table.partition_of, "inhseqno": 1, "inhdetachpending": False}


def _typed_constant(text: str, type_oid: int) -> str:
    """A Const as ruleutils' get_const_expr prints it in an expression (with its type label)."""
    if type_oid == typeinfo.INT4_OID and not text.startswith("-"):
        return text
    if type_oid == typeinfo.NUMERIC_OID and not text.startswith("-") and any(c in text for c in ".eE"):
        return text
    if type_oid == typeinfo.BOOL_OID:
        return "true" if text in ("t", "true") else "false"
    return "'" + text.replace("'", "''") + "'::" + typeinfo.format_type(type_oid, -1)


def constraint_text(state: Any, table: Table) -> str | None:
    """pg_get_partition_constraintdef for a one-column range or a list partition (the forms psql
    shows most); NULL for default, hash and multi-column or unbounded range partitions."""
    if not table.partition_of or table.partition_bound is None:
        return None
    parent = state.table(table.partition_of)
    if parent is None or len(parent.partition_key) != 1:
        return None
    data = json.loads(table.partition_bound)
    column = describe.quote_ident(describe.column_name(parent, parent.partition_key[0]))
    key_type = _key_types(parent, 1)[0]
    if data.get("default") and parent.partition_strategy == "l":  # NOT (any sibling's values)
        values = []
        for sibling in state.partitions(parent.oid):
            other = json.loads(sibling.partition_bound or "{}")
            values.extend(other.get("in", ()))
        if not values or any(not d or d[0] is None for d in values):
            return None
        items = ", ".join(_typed_constant(str(d[1]), key_type) for d in values)
        return f"(NOT (({column} IS NOT NULL) AND ({column} = ANY (ARRAY[{items}]))))"
    if "in" in data:
        values = [d for d in data["in"] if d and d[0] is not None]
        if not values or len(values) != len(data["in"]):
            return None
        items = ", ".join(_typed_constant(str(d[1]), key_type) for d in values)
        return f"(({column} IS NOT NULL) AND ({column} = ANY (ARRAY[{items}])))"
    if "from" in data:
        low, high = data["from"][0], data["to"][0]
        if low[0] != "value" or high[0] != "value":
            return None
        return (f"(({column} IS NOT NULL) AND ({column} >= {_typed_constant(str(low[1]), key_type)}) AND "
                f"({column} < {_typed_constant(str(high[1]), key_type)}))")
    return None
