"""Registry sanity: every built-in's types exist, PostgreSQL oids are unique, metadata is coherent."""

from __future__ import annotations

from collections import Counter

import psycopg

from pgaurora import datatypes
from pgaurora.catalog import builtins


def test_types_of_every_builtin_exist() -> None:
    for f in builtins.all_functions():
        for oid in (*f.arg_oids, f.return_oid, *f.column_oids):
            assert datatypes.find(oid) is not None, (f.name, oid)
        assert f.volatility in ("i", "s", "v")
    for o in builtins.all_operators():
        for oid in (*o.arg_oids, o.result_oid):
            assert datatypes.find(oid) is not None, (o.name, oid)
    for a in builtins.all_aggregates():
        for oid in (*a.arg_oids, a.return_oid):
            assert datatypes.find(oid) is not None, (a.name, oid)


def test_postgres_oids_are_unique() -> None:
    procs = Counter(f.oid for f in [*builtins.all_functions(), *builtins.all_aggregates()] if f.oid)
    assert [oid for oid, n in procs.items() if n > 1] == []
    operators = Counter(o.oid for o in builtins.all_operators() if o.oid)
    assert [oid for oid, n in operators.items() if n > 1] == []


def test_oids_match_pg_proc(oracle_conn: psycopg.Connection) -> None:
    rows = oracle_conn.execute("SELECT oid::int, proname, prorettype::int, proretset FROM pg_proc").fetchall()
    by_oid = {r[0]: r[1:] for r in rows}
    checked = 0
    for f in builtins.all_functions():
        if f.oid and f.oid in by_oid:
            name, rettype, retset = by_oid[f.oid]
            assert name == f.name
            assert retset == f.retset, f.name
            if rettype not in (2249,) and f.return_oid not in (2249,):
                assert rettype == f.return_oid, (f.name, f.arg_oids)
            checked += 1
    assert checked > 250


def test_operator_oids_match_pg_operator(oracle_conn: psycopg.Connection) -> None:
    rows = oracle_conn.execute("SELECT oid::int, oprname, oprleft::int, oprright::int, oprresult::int FROM pg_operator")
    by_oid = {r[0]: r[1:] for r in rows.fetchall()}
    for o in builtins.all_operators():
        assert o.oid in by_oid, (o.name, o.left_oid, o.right_oid)
        assert by_oid[o.oid] == (o.name, o.left_oid or 0, o.right_oid, o.result_oid)
