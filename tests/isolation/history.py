"""Checking recorded histories of list-append transactions (a simplified Elle list-append checker).

Owns turning what committed transactions read and appended into a dependency graph and finding
its cycles. Not running the transactions (tests.isolation.test_anomalies).

Each key holds a list (rows (key, position, value) of table `appends`); a transaction reads whole
lists and appends unique values. The final list of a key is the version order of its appends, so:

    ww   T1 -> T2   T2's append follows T1's in the final list of a key
    wr   T1 -> T2   T2 read a list whose last value T1 appended
    rw   T1 -> T2   T1 read a prefix of length n and T2 appended the element at n + 1

A serializable history has no cycle in this graph (Adya's G0/G1c/G2 all show up as one); any
isolation level must only read prefixes of the final lists (no dirty or garbage reads) and lose
no committed append.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Txn:
    """One committed transaction: `reads` key -> list seen, `appends` key -> values appended."""

    name: str
    reads: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    appends: list[tuple[int, int]] = field(default_factory=list)


def check_prefixes(history: list[Txn], final: dict[int, tuple[int, ...]]) -> list[str]:
    """Problems that any isolation level forbids: a read that is not a prefix of the final list,
    a committed append missing from it (lost), or a value appearing twice."""
    problems = []
    for key, values in final.items():
        if len(set(values)) != len(values):
            problems.append(f"key {key}: duplicate values {values}")
    for txn in history:
        for key, seen in txn.reads:
            full = final.get(key, ())
            if tuple(full[: len(seen)]) != tuple(seen):
                problems.append(f"{txn.name} read {seen} of key {key}, not a prefix of {full}")
        for key, value in txn.appends:
            if value not in final.get(key, ()):
                problems.append(f"{txn.name} appended {value} to key {key}: lost")
    return problems


def dependency_graph(history: list[Txn], final: dict[int, tuple[int, ...]]) -> dict[str, set[str]]:
    writer: dict[tuple[int, int], str] = {}
    for txn in history:
        for key, value in txn.appends:
            writer[(key, value)] = txn.name
    graph: dict[str, set[str]] = {txn.name: set() for txn in history}
    for key, values in final.items():
        for a, b in zip(values, values[1:], strict=False):
            ta, tb = writer.get((key, a)), writer.get((key, b))
            if ta and tb and ta != tb:
                graph[ta].add(tb)
    for txn in history:
        for key, seen in txn.reads:
            full = final.get(key, ())
            if seen:
                t = writer.get((key, seen[-1]))
                if t and t != txn.name:
                    graph[t].add(txn.name)
            if len(seen) < len(full):
                t = writer.get((key, full[len(seen)]))
                if t and t != txn.name:
                    graph[txn.name].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` (iterative DFS), or None."""
    color: dict[str, int] = {}
    for start in graph:
        if color.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        path = [start]
        color[start] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                color[node] = 2
                continue
            nxt = todo.pop()
            state = color.get(nxt, 0)
            if state == 1:
                return path[path.index(nxt):] + [nxt]
            if state == 0:
                color[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph.get(nxt, ()))))
    return None
