"""Random concurrent transactions over real connections, at each isolation level (hypothesis).

Several asyncpg clients run generated transactions against one pgaurora instance at once,
retrying 40001 / 40P01 (and 23505 for racing list appends) as an application would; only
committed attempts enter the history. Then:

- bank transfers (plus an ON CONFLICT DO UPDATE counter bumped by each transfer): the total is
  conserved and every counter equals the number of committed bumps (no lost update), at every
  level; READ COMMITTED writes `balance = balance - n` (its re-check makes that safe), the others
  read and write back computed values (safe only because a concurrent update is a 40001);
- list appends (tests.isolation.history): reads are prefixes of the final lists and no committed
  append is lost, at every level; under SERIALIZABLE the dependency graph has no cycle.

A few examples run in `make test`; `@pytest.mark.long` runs many more.
"""

from __future__ import annotations

import asyncio
import itertools

import asyncpg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.isolation.history import Txn, check_prefixes, dependency_graph, find_cycle

LEVELS = ["read committed", "repeatable read", "serializable"]
RETRY_STATES = {"40001", "40P01", "23505"}
MAX_ATTEMPTS = 200
ACCOUNTS = 4
START = 100
KEYS = 3
_names = itertools.count()

transfers = st.lists(st.lists(st.tuples(st.integers(0, ACCOUNTS - 1), st.integers(0, ACCOUNTS - 1),
                                        st.integers(1, 30)), min_size=3, max_size=6), min_size=3, max_size=4)
appends = st.lists(st.lists(st.lists(st.tuples(st.sampled_from("ra"), st.integers(0, KEYS - 1)),
                                     min_size=2, max_size=4), min_size=3, max_size=6), min_size=3, max_size=4)


async def _in_transaction(conn: asyncpg.Connection, isolation: str, body) -> object:
    """Runs `body(conn)` in a transaction until it commits (bounded retries); its result."""
    for _ in range(MAX_ATTEMPTS):
        await conn.execute(f"BEGIN ISOLATION LEVEL {isolation.upper()}")
        try:
            result = await body(conn)
            await conn.execute("COMMIT")
            return result
        except asyncpg.PostgresError as exc:
            if exc.sqlstate not in RETRY_STATES:
                raise
            await conn.execute("ROLLBACK")
    raise AssertionError(f"a transaction did not commit in {MAX_ATTEMPTS} attempts")


async def _clients(url: str, n: int) -> list[asyncpg.Connection]:
    return [await asyncpg.connect(url) for _ in range(n)]


async def run_bank(url: str, isolation: str, workload: list[list[tuple[int, int, int]]]) -> None:
    suffix = next(_names)
    accounts, counters = f"accounts_{suffix}", f"bumps_{suffix}"
    admin = await asyncpg.connect(url)
    conns = await _clients(url, len(workload))
    try:
        await admin.execute(f"CREATE TABLE {accounts} (id int PRIMARY KEY, balance int NOT NULL)")
        await admin.execute(f"CREATE TABLE {counters} (key int PRIMARY KEY, n int NOT NULL)")
        await admin.execute(f"INSERT INTO {accounts} SELECT g, {START} FROM generate_series(0, {ACCOUNTS - 1}) g")
        bumps = [0] * ACCOUNTS

        async def transfer(conn: asyncpg.Connection, src: int, dst: int, amount: int) -> None:
            if isolation == "read committed":
                await conn.execute(f"UPDATE {accounts} SET balance = balance - $2 WHERE id = $1", src, amount)
                await conn.execute(f"UPDATE {accounts} SET balance = balance + $2 WHERE id = $1", dst, amount)
            else:
                rows = await conn.fetch(f"SELECT id, balance FROM {accounts} WHERE id = ANY($1::int[])", [src, dst])
                balance = dict(rows)
                await conn.execute(f"UPDATE {accounts} SET balance = $2 WHERE id = $1", src, balance[src] - amount)
                balance = dict(await conn.fetch(f"SELECT id, balance FROM {accounts} WHERE id = $1", dst))
                await conn.execute(f"UPDATE {accounts} SET balance = $2 WHERE id = $1", dst, balance[dst] + amount)
            await conn.execute(f"INSERT INTO {counters} VALUES ($1, 1) ON CONFLICT (key) DO UPDATE "
                               f"SET n = {counters}.n + 1", src)

        async def client(conn: asyncpg.Connection, plan: list[tuple[int, int, int]]) -> None:
            for src, dst, amount in plan:
                await _in_transaction(conn, isolation, lambda c, s=src, d=dst, a=amount: transfer(c, s, d, a))
                bumps[src] += 1

        await asyncio.wait_for(asyncio.gather(*(client(c, p) for c, p in zip(conns, workload, strict=True))), 120)
        total = await admin.fetchval(f"SELECT sum(balance) FROM {accounts}")
        assert total == START * ACCOUNTS
        counted = dict(await admin.fetch(f"SELECT key, n FROM {counters}"))
        assert {k: v for k, v in enumerate(bumps) if v} == counted
    finally:
        for conn in conns:
            await conn.close()
        await admin.execute(f"DROP TABLE IF EXISTS {accounts}; DROP TABLE IF EXISTS {counters}")
        await admin.close()


async def run_appends(url: str, isolation: str, workload: list[list[list[tuple[str, int]]]]) -> list[str] | None:
    """Runs the workload and checks it; returns a dependency cycle if there is one (allowed below
    SERIALIZABLE)."""
    table = f"appends_{next(_names)}"
    admin = await asyncpg.connect(url)
    conns = await _clients(url, len(workload))
    history: list[Txn] = []
    values = itertools.count(1)
    try:
        await admin.execute(f"CREATE TABLE {table} (key int, pos int, value int, PRIMARY KEY (key, pos))")

        async def attempt(conn: asyncpg.Connection, name: str, ops: list[tuple[str, int]]) -> Txn:
            txn = Txn(name)
            for op, key in ops:
                if op == "r":
                    rows = await conn.fetch(f"SELECT value FROM {table} WHERE key = $1 ORDER BY pos", key)
                    txn.reads.append((key, tuple(r[0] for r in rows)))
                else:
                    value = next(values)
                    await conn.execute(f"INSERT INTO {table} SELECT $1, coalesce(max(pos), 0) + 1, $2::int "
                                       f"FROM {table} WHERE key = $1", key, value)
                    txn.appends.append((key, value))
            return txn

        async def client(i: int, conn: asyncpg.Connection, plan: list[list[tuple[str, int]]]) -> None:
            for j, ops in enumerate(plan):
                done = await _in_transaction(conn, isolation, lambda c, o=ops, n=f"c{i}t{j}": attempt(c, n, o))
                assert isinstance(done, Txn)
                history.append(done)

        await asyncio.wait_for(asyncio.gather(*(client(i, c, p) for i, (c, p) in enumerate(zip(conns, workload,
                                                                                            strict=True)))), 120)
        final: dict[int, tuple[int, ...]] = {}
        for key, pos, value in await admin.fetch(f"SELECT key, pos, value FROM {table} ORDER BY key, pos"):
            assert pos == len(final.get(key, ())) + 1, "positions must be dense"
            final[key] = final.get(key, ()) + (value,)
        assert check_prefixes(history, final) == []
        cycle = find_cycle(dependency_graph(history, final))
        if isolation == "serializable":
            assert cycle is None, f"non-serializable history: {' -> '.join(cycle or ())}"
        return cycle
    finally:
        for conn in conns:
            await conn.close()
        await admin.execute(f"DROP TABLE IF EXISTS {table}")
        await admin.close()


def _bounded(n: int, shrink: bool = False):
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(max_examples=n, deadline=None, derandomize=True, database=None, phases=phases,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])




@pytest.mark.parametrize("isolation", LEVELS)
def test_bank_and_counters(instance, isolation):
    @_bounded(1)
    @given(transfers)
    def check(workload):
        asyncio.run(run_bank(instance.url, isolation, workload))

    check()


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read",
                                       "serializable"])
def test_list_append(instance, isolation):
    @_bounded(1)
    @given(appends)
    def check(workload):
        asyncio.run(run_appends(instance.url, isolation, workload))

    check()


@pytest.mark.long
@pytest.mark.parametrize("isolation", ["read committed", "repeatable read",
                                       "serializable"])
def test_many_histories(instance, isolation):
    @_bounded(40, shrink=True)
    @given(transfers, appends)
    def check(bank, lists):
        asyncio.run(run_bank(instance.url, isolation, bank))
        asyncio.run(run_appends(instance.url, isolation, lists))

    check()
