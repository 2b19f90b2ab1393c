"""The list-append checker itself (tests.isolation.history) on hand-written histories."""

from __future__ import annotations

from tests.isolation.history import Txn, check_prefixes, dependency_graph, find_cycle


def test_serial_history_has_no_cycle():
    t1 = Txn("t1", reads=[(1, ())], appends=[(1, 10)])
    t2 = Txn("t2", reads=[(1, (10,))], appends=[(1, 20)])
    final = {1: (10, 20)}
    assert check_prefixes([t1, t2], final) == []
    assert find_cycle(dependency_graph([t1, t2], final)) is None


def test_write_skew_is_a_cycle():
    # each read the other's key empty, then appended to its own: t1 -rw-> t2 -rw-> t1
    t1 = Txn("t1", reads=[(2, ())], appends=[(1, 10)])
    t2 = Txn("t2", reads=[(1, ())], appends=[(2, 20)])
    final = {1: (10,), 2: (20,)}
    assert check_prefixes([t1, t2], final) == []
    cycle = find_cycle(dependency_graph([t1, t2], final))
    assert cycle is not None and set(cycle) == {"t1", "t2"}


def test_lost_append_and_garbage_read_are_reported():
    t1 = Txn("t1", appends=[(1, 10)])
    t2 = Txn("t2", reads=[(1, (99,))])
    problems = check_prefixes([t1, t2], {1: ()})
    assert any("lost" in p for p in problems)
    assert any("not a prefix" in p for p in problems)
