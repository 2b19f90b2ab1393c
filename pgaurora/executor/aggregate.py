"""Aggregation: hash grouping and plain aggregates, with FILTER, DISTINCT and ORDER BY inside calls.

Owns feeding input rows to aggregate states (created by each AggSpec's `make()`, which comes
from catalog.builtins: `step(*args)` per row, `final()` at the end) and emitting one row per
group: group key values then aggregate results. Not the aggregate functions themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextvars import ContextVar
from operator import itemgetter
from typing import Any

from pgaurora.datatypes import typeinfo
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Var
from pgaurora.executor.hashing import freeze_row
from pgaurora.executor.nodes import BATCH_SIZE, Batch, compiled, prepare_all, run_node, runner
from pgaurora.executor.plannodes import Aggregate, AggSpec
from pgaurora.executor.sort import sort_rows

FEED_ROWS = 65536  # rows bucketed by group before they are fed to the aggregate states
# the executing statement's Env while aggregate states are made: a CREATE AGGREGATE's state
# binds it for its transition function's calls (planner.exprbind's user aggregates)
MAKING_ENV: ContextVar[Any] = ContextVar("making_env", default=None)


class _Collecting:
    """Wraps a state for DISTINCT / ORDER BY aggregates: collect args, then feed at the end."""

    __slots__ = ("spec", "state", "rows", "seen")

    def __init__(self, spec: AggSpec) -> None:
        self.spec = spec
        self.state = spec.make()
        self.rows: list[tuple[Any, ...]] = []
        self.seen: set[Any] | None = set() if spec.distinct else None

    def step(self, *args: Any) -> None:
        if self.seen is not None:
            key = freeze_row(args)
            if key in self.seen:
                return
            self.seen.add(key)
        self.rows.append(args)

    def final(self, env: Env) -> Any:
        rows = self.rows
        if self.spec.order_by:
            from pgaurora.executor.expr import Var
            from pgaurora.executor.plannodes import SortKey

            n = len(self.spec.args)
            keys = tuple(SortKey(Var(n + i, 0), k.descending, k.nulls_first) for i, k in enumerate(self.spec.order_by))
            sort_rows(rows, keys, env, [lambda r, e: None] * len(keys))
            rows = [r[:n] for r in rows]
        elif self.spec.distinct:
            try:
                rows.sort(key=lambda r: tuple((v is None, v) for v in r))
            except TypeError:
                pass
        step = self.state.step
        for r in rows:
            step(*r)
        return self.state.final()


def _unhashable_type(oid: int) -> bool:
    return bool(typeinfo.element_of(oid)) or oid in (typeinfo.JSON_OID, typeinfo.JSONB_OID, typeinfo.RECORD_OID)


def _feed(state: Any, batch: Batch, columns: tuple[int, ...] | None) -> None:
    """Runs `state`'s transition over one batch (zero or one plain-column argument)."""
    transition = state._transition
    value = state.value
    many = getattr(transition, "many", None)
    if many is not None:  # the whole batch at once (count, sum and avg over integers)
        if not columns:
            state.value = many(value, batch)
            return
        values = list(map(itemgetter(columns[0]), batch))
        if state._strict and None in values:
            values = [x for x in values if x is not None]
        state.value = many(value, values)
        return
    if not columns:
        for _ in batch:
            value = transition(value)
    else:
        col = columns[0]
        if state._strict:
            for row in batch:
                x = row[col]
                if x is not None:
                    value = transition(value, x)
        else:
            for row in batch:
                value = transition(value, row[col])
    state.value = value


def _feed_values(state: Any, values: list[Any], star: bool) -> None:
    """Runs `state`'s transition over one column's values (`star`: no argument, count(*)-like:
    only how many values there are counts)."""
    transition = state._transition
    many = getattr(transition, "many", None)
    if not star and state._strict and None in values:
        values = [x for x in values if x is not None]
    if many is not None:
        state.value = many(state.value, values)
        return
    value = state.value
    if star:
        for _ in values:
            value = transition(value)
    else:
        for x in values:
            value = transition(value, x)
    state.value = value


async def _grouping_sets(node: Aggregate, env: Env, key_fn: Any, subplans: list[Any], new_states: Any,
                         arg_fns: list[Any], filters: list[Any]) -> AsyncIterator[Batch]:
    """GROUPING SETS / ROLLUP / CUBE: every row feeds one group per set; keys outside the set are
    NULL in that set's rows, and a last column carries the set's number (for GROUPING())."""
    assert node.grouping_sets is not None
    sets = node.grouping_sets
    nkeys = len(node.group_keys)
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for si, members in enumerate(sets):
        if not members:
            groups[(si,) + (None,) * nkeys] = new_states()  # the empty set always has its one row
    async for batch in run_node(node.input, env):
        env.ctx.check_cancel()
        for row in batch:
            if subplans:
                await prepare_all(subplans, row, env)
            full = key_fn(row, env)
            for si, members in enumerate(sets):
                k = (si,) + tuple(full[i] if i in members else None for i in range(nkeys))
                states = groups.get(k)
                if states is None:
                    states = groups[k] = new_states()
                for i, state in enumerate(states):
                    f = filters[i]
                    if f is not None and f.fn(row, env) is not True:
                        continue
                    af = arg_fns[i]
                    if af is None:
                        state.step()
                    else:
                        state.step(*af[0](row, env))
    out: Batch = []
    for k, states in groups.items():
        values = tuple(s.final(env) if isinstance(s, _Collecting) else s.final() for s in states)
        out.append(k[1:] + values + (k[0],))
    if out:
        yield out


def _arg_fn(spec: AggSpec) -> Any:
    exprs = spec.args + tuple(k.expr for k in spec.order_by) if spec.order_by else spec.args
    return compile_exprs(exprs) if exprs else None


@runner(Aggregate)
async def run_aggregate(node: Aggregate, env: Env) -> AsyncIterator[Batch]:
    specs = node.aggs
    key_fn, key_subs = compiled(node, "keys", lambda: compile_exprs(node.group_keys))
    originals: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    originals_needed = any(_unhashable_type(k.type_oid) for k in node.group_keys)
    if originals_needed:
        # arrays / json group keys: group by a hashable stand-in, output the original values
        raw_key_fn = key_fn

        def key_fn(row: Any, env: Any) -> Any:
            k = raw_key_fn(row, env)
            fk = freeze_row(k)
            originals.setdefault(fk, k)
            return fk
    arg_fns = compiled(node, "args", lambda: [_arg_fn(s) for s in specs])
    filters = compiled(node, "filters", lambda: [compile_expr(s.filter) if s.filter is not None else None for s in specs])
    subplans = list(key_subs)
    for af in arg_fns:
        if af is not None:
            subplans.extend(af[1])
    for f in filters:
        if f is not None:
            subplans.extend(f.subplans)
    collecting = [s.distinct or bool(s.order_by) for s in specs]
    nspecs = len(specs)

    def new_states() -> list[Any]:
        token = MAKING_ENV.set(env)
        try:
            return [(_Collecting(s) if collecting[i] else s.make()) for i, s in enumerate(specs)]
        finally:
            MAKING_ENV.reset(token)

    groups: dict[tuple[Any, ...], list[Any]] = {}
    has_keys = bool(node.group_keys)
    plain_states = None if has_keys else new_states()
    steps_simple = all(not collecting[i] and filters[i] is None for i in range(nspecs))
    # Plain aggregation over plain columns: feed each aggregate a batch's column in one tight loop
    # (no per-row method call or argument tuple), the scan-and-aggregate hot path.
    var_args = [tuple(a.index for a in s.args if isinstance(a, Var)) if all(isinstance(a, Var) for a in s.args)
                else None for s in specs]
    batched = (not has_keys and steps_simple and not subplans and all(v is not None and len(v) <= 1 for v in var_args)
               and all(hasattr(st, "_transition") for st in plain_states or ()))
    if node.grouping_sets is not None:
        async for out_batch in _grouping_sets(node, env, key_fn, subplans, new_states, arg_fns, filters):
            yield out_batch
        return
    probe = new_states() if has_keys else []
    grouped_direct = (has_keys and steps_simple and not subplans and all(v is not None and len(v) <= 1 for v in var_args)
                      and all(hasattr(st, "_transition") for st in probe))
    single_var = (node.group_keys[0].index if grouped_direct and len(node.group_keys) == 1
                  and isinstance(node.group_keys[0], Var) and not originals_needed else None)
    # hash grouping over plain-column aggregates: rows are bucketed by key across batches (up to
    # FEED_ROWS at a time), then each group's rows go to its states in tight loops — one
    # transition call per group and aggregate, not per row or per batch
    buckets: dict[Any, list[Any]] = {}
    bucketed = 0
    # GROUP BY one column with aggregates over at most one other column: bucket just that
    # column's values (C-level itemgetters), not whole rows
    arg_columns = {c for v in var_args if v for c in v}
    by_value = single_var is not None and len(arg_columns) <= 1
    key_get = itemgetter(single_var) if single_var is not None else None
    value_get = itemgetter(next(iter(arg_columns)) if arg_columns else single_var) if by_value else None
    stars = [not v for v in var_args]

    def feed_buckets() -> None:
        for k, rows in buckets.items():
            if single_var is not None:
                k = (k,)
            states = groups.get(k)
            if states is None:
                states = groups[k] = new_states()
            if by_value:
                for i in range(nspecs):
                    _feed_values(states[i], rows, stars[i])
            else:
                for i in range(nspecs):
                    _feed(states[i], rows, var_args[i])
        buckets.clear()

    async for batch in run_node(node.input, env):
        env.ctx.check_cancel()
        if batched:
            assert plain_states is not None
            for i in range(nspecs):
                _feed(plain_states[i], batch, var_args[i])
            continue
        if grouped_direct:
            get = buckets.get
            if value_get is not None:
                for k, v in zip(map(key_get, batch), map(value_get, batch), strict=True):  # type: ignore[arg-type]
                    bucket = get(k)
                    if bucket is None:
                        buckets[k] = [v]
                    else:
                        bucket.append(v)
            elif single_var is not None:  # GROUP BY one plain column: bucket by the value itself
                for row in batch:
                    v = row[single_var]
                    rows = get(v)
                    if rows is None:
                        buckets[v] = [row]
                    else:
                        rows.append(row)
            else:
                for row in batch:
                    k = key_fn(row, env)
                    rows = get(k)
                    if rows is None:
                        buckets[k] = [row]
                    else:
                        rows.append(row)
            bucketed += len(batch)
            if bucketed >= FEED_ROWS:
                feed_buckets()
                bucketed = 0
            continue
        for row in batch:
            if subplans:
                await prepare_all(subplans, row, env)
            if has_keys:
                k = key_fn(row, env)
                states = groups.get(k)
                if states is None:
                    states = groups[k] = new_states()
            else:
                assert plain_states is not None
                states = plain_states
            if steps_simple:
                for i in range(nspecs):
                    af = arg_fns[i]
                    if af is None:
                        states[i].step()
                    else:
                        states[i].step(*af[0](row, env))
                continue
            for i in range(nspecs):
                f = filters[i]
                if f is not None and f.fn(row, env) is not True:
                    continue
                af = arg_fns[i]
                if af is None:
                    states[i].step()
                else:
                    states[i].step(*af[0](row, env))
    if buckets:
        feed_buckets()
    out: Batch = []
    if not has_keys:
        assert plain_states is not None
        groups[()] = plain_states
    for k, states in groups.items():
        values = tuple(s.final(env) if isinstance(s, _Collecting) else s.final() for s in states)
        out.append(originals.get(k, k) + values)
        if len(out) >= BATCH_SIZE:
            yield out
            out = []
    if out:
        yield out
