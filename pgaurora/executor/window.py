"""Window functions: WindowAgg over partitions, ranking and value functions, aggregates over frames.

Owns partitioning and ordering the input, PostgreSQL's frame rules (RANGE/ROWS, UNBOUNDED /
CURRENT ROW / n PRECEDING/FOLLOWING, peers) and the built-in window functions (row_number, rank,
dense_rank, percent_rank, cume_dist, ntile, lag, lead, first_value, last_value, nth_value).
Aggregates used as window functions come from catalog.builtins through WindowSpec.make.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from pgaurora.executor.aggregate import MAKING_ENV
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Var
from pgaurora.executor.nodes import BATCH_SIZE, Batch, collect, compiled, runner
from pgaurora.executor.plannodes import SortKey, WindowAgg, WindowSpec
from pgaurora.executor.sort import sort_rows

FRAME_ROWS = 0x4
FRAME_START_UNBOUNDED_PRECEDING = 0x20
FRAME_END_UNBOUNDED_FOLLOWING = 0x100
FRAME_START_CURRENT_ROW = 0x200
FRAME_END_CURRENT_ROW = 0x400
FRAME_START_OFFSET_PRECEDING = 0x800
FRAME_END_OFFSET_PRECEDING = 0x1000
FRAME_START_OFFSET_FOLLOWING = 0x2000
FRAME_END_OFFSET_FOLLOWING = 0x4000
FRAME_DEFAULT = 0x1 | 0x2 | 0x20 | 0x400

RANKING = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile"}
VALUE = {"lag", "lead", "first_value", "last_value", "nth_value"}
WINDOW_ONLY = RANKING | VALUE


def _peer_bounds(order_keys: list[tuple[Any, ...]]) -> list[tuple[int, int]]:
    """For each row, [first, last+1) of its peer group (equal ORDER BY values)."""
    n = len(order_keys)
    bounds: list[tuple[int, int]] = [(0, 0)] * n
    i = 0
    while i < n:
        j = i + 1
        while j < n and order_keys[j] == order_keys[i]:
            j += 1
        for k in range(i, j):
            bounds[k] = (i, j)
        i = j
    return bounds


def _frame(spec: WindowSpec, i: int, n: int, peers: tuple[int, int], has_order: bool,
           offsets: tuple[Any, Any]) -> tuple[int, int]:
    opts = spec.frame[0] or FRAME_DEFAULT
    rows_mode = bool(opts & FRAME_ROWS)
    if opts & FRAME_START_UNBOUNDED_PRECEDING:
        start = 0
    elif opts & FRAME_START_CURRENT_ROW:
        start = i if rows_mode else peers[0]
    elif opts & FRAME_START_OFFSET_PRECEDING:
        start = max(0, i - int(offsets[0]))
    elif opts & FRAME_START_OFFSET_FOLLOWING:
        start = min(n, i + int(offsets[0]))
    else:
        start = 0
    if opts & FRAME_END_UNBOUNDED_FOLLOWING:
        end = n
    elif opts & FRAME_END_CURRENT_ROW:
        end = i + 1 if rows_mode else (peers[1] if has_order else n)
    elif opts & FRAME_END_OFFSET_PRECEDING:
        end = max(0, i - int(offsets[1]) + 1)
    elif opts & FRAME_END_OFFSET_FOLLOWING:
        end = min(n, i + int(offsets[1]) + 1)
    else:
        end = n
    return start, end


def _compute(spec: WindowSpec, part: list[tuple[Any, ...]], args: list[tuple[Any, ...]],
             order_keys: list[tuple[Any, ...]], offsets: tuple[Any, Any], filt: list[bool] | None) -> list[Any]:
    n = len(part)
    name = spec.name
    has_order = bool(spec.order_by)
    peers = _peer_bounds(order_keys) if has_order else [(0, n)] * n
    if name == "row_number":
        return list(range(1, n + 1))
    if name == "rank":
        return [p[0] + 1 for p in peers]
    if name == "dense_rank":
        ranks: list[Any] = []
        rank, last = 0, None
        for p in peers:
            if p != last:
                rank += 1
                last = p
            ranks.append(rank)
        return ranks
    if name == "percent_rank":
        return [0.0 if n <= 1 else p[0] / (n - 1) for p in peers]
    if name == "cume_dist":
        return [p[1] / n for p in peers]
    if name == "ntile":
        buckets = args[0][0] if args else 1
        size, extra = divmod(n, buckets)
        out: list[Any] = []
        for b in range(buckets):
            out.extend([b + 1] * (size + (1 if b < extra else 0)))
        return out[:n]
    if name in ("lag", "lead"):
        out = []
        for i in range(n):
            a = args[i]
            off = a[1] if len(a) > 1 else 1
            default = a[2] if len(a) > 2 else None
            if off is None:
                out.append(None)
                continue
            j = i - off if name == "lag" else i + off
            out.append(args[j][0] if 0 <= j < n else default)
        return out
    if name in ("first_value", "last_value", "nth_value"):
        out = []
        for i in range(n):
            start, end = _frame(spec, i, n, peers[i], has_order, offsets)
            if start >= end:
                out.append(None)
            elif name == "first_value":
                out.append(args[start][0])
            elif name == "last_value":
                out.append(args[end - 1][0])
            else:
                k = args[i][1]
                out.append(args[start + k - 1][0] if k is not None and 0 < k <= end - start else None)
        return out
    # an aggregate over the frame
    assert spec.make is not None
    out = []
    opts = spec.frame[0] or FRAME_DEFAULT
    if opts & FRAME_START_UNBOUNDED_PRECEDING and not (opts & (FRAME_END_OFFSET_PRECEDING | FRAME_END_OFFSET_FOLLOWING)):
        state = spec.make()
        fed = 0
        for i in range(n):
            _, end = _frame(spec, i, n, peers[i], has_order, offsets)
            while fed < end:
                if filt is None or filt[fed]:
                    state.step(*args[fed])
                fed += 1
            out.append(state.final())
        return out
    for i in range(n):
        start, end = _frame(spec, i, n, peers[i], has_order, offsets)
        state = spec.make()
        for j in range(start, end):
            if filt is None or filt[j]:
                state.step(*args[j])
        out.append(state.final())
    return out


def _spec_compiler(spec: WindowSpec) -> Callable[[], tuple[Any, Any, Any, Any, Any]]:
    def build() -> tuple[Any, Any, Any, Any, Any]:
        return (compile_exprs(spec.partition_by)[0],
                compile_exprs(tuple(k.expr for k in spec.order_by))[0],
                compile_exprs(spec.args)[0],
                compile_expr(spec.filter) if spec.filter is not None else None,
                compile_exprs(tuple(e for e in spec.frame[1:] if e is not None))[0])
    return build


@runner(WindowAgg)
async def run_window(node: WindowAgg, env: Env) -> AsyncIterator[Batch]:
    rows = await collect(node.input, env)
    results: list[list[Any]] = [[None] * len(node.funcs) for _ in rows]
    order: list[int] = list(range(len(rows)))
    for f_index, spec in enumerate(node.funcs):
        part_fn, order_fn, arg_fn, filt_fn, offsets_fn = compiled(node, f"spec{f_index}", _spec_compiler(spec))
        offset_values = list(offsets_fn((), env))
        offsets = (offset_values.pop(0) if spec.frame[1] is not None else None,
                   offset_values.pop(0) if spec.frame[2] is not None else None)
        indexed = list(range(len(rows)))
        pkeys = [part_fn(r, env) for r in rows]
        okeys = [order_fn(r, env) for r in rows]
        # sort row indexes by (partition, order) with the executor's NULL ordering rules
        keyed = [(pkeys[i], okeys[i], i) for i in indexed]
        width_p = len(spec.partition_by)
        sort_keys = tuple(SortKey(Var(0, 0)) for _ in range(width_p)) + spec.order_by
        flat = [p + o + (i,) for p, o, i in keyed]
        flat_keys = tuple(SortKey(Var(k, 0), sk.descending, sk.nulls_first) for k, sk in enumerate(sort_keys))
        noop: list[Callable[[Any, Any], Any]] = [lambda r, e: None] * len(flat_keys)
        sort_rows(flat, flat_keys, env, noop)
        order = [t[-1] for t in flat]
        start = 0
        while start < len(order):
            end = start
            pk = pkeys[order[start]]
            while end < len(order) and pkeys[order[end]] == pk:
                end += 1
            idxs = order[start:end]
            part = [rows[i] for i in idxs]
            args = [arg_fn(r, env) for r in part]
            filt = [filt_fn.fn(r, env) is True for r in part] if filt_fn is not None else None
            token = MAKING_ENV.set(env)  # (a user aggregate's states bind the statement's context)
            try:
                values = _compute(spec, part, args, [okeys[i] for i in idxs], offsets, filt)
            finally:
                MAKING_ENV.reset(token)
            for i, v in zip(idxs, values, strict=True):
                results[i][f_index] = v
            start = end
    out: Batch = []
    # rows come out in the last window's (partition, order) order, as PostgreSQL's WindowAgg emits them
    for i in (order if rows else ()):
        out.append(rows[i] + tuple(results[i]))
        if len(out) >= BATCH_SIZE:
            yield out
            out = []
    if out:
        yield out
