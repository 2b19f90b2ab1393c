"""Window functions: WindowAgg over partitions, ranking and value functions, aggregates over frames.

Owns partitioning and ordering the input, PostgreSQL's frame rules (RANGE/ROWS, UNBOUNDED /
CURRENT ROW / n PRECEDING/FOLLOWING, peers) and the built-in window functions (row_number, rank,
dense_rank, percent_rank, cume_dist, ntile, lag, lead, first_value, last_value, nth_value).
Aggregates used as window functions come from catalog.builtins through WindowSpec.make.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import AsyncIterator, Callable
from typing import Any

from pgaurora.errors import InvalidPrecedingOrFollowingSize, NullValueNotAllowed
from pgaurora.executor.aggregate import MAKING_ENV
from pgaurora.executor.compile import compile_expr, compile_exprs
from pgaurora.executor.context import Env
from pgaurora.executor.expr import Var
from pgaurora.executor.nodes import BATCH_SIZE, Batch, collect, compiled, runner
from pgaurora.executor.plannodes import SortKey, WindowAgg, WindowSpec
from pgaurora.executor.sort import sort_rows

FRAME_RANGE = 0x2
FRAME_ROWS = 0x4
FRAME_GROUPS = 0x8
FRAME_START_UNBOUNDED_PRECEDING = 0x20
FRAME_END_UNBOUNDED_FOLLOWING = 0x100
FRAME_START_CURRENT_ROW = 0x200
FRAME_END_CURRENT_ROW = 0x400
FRAME_START_OFFSET_PRECEDING = 0x800
FRAME_END_OFFSET_PRECEDING = 0x1000
FRAME_START_OFFSET_FOLLOWING = 0x2000
FRAME_END_OFFSET_FOLLOWING = 0x4000
FRAME_EXCLUDE_CURRENT_ROW = 0x8000
FRAME_EXCLUDE_GROUP = 0x10000
FRAME_EXCLUDE_TIES = 0x20000
FRAME_EXCLUSION = FRAME_EXCLUDE_CURRENT_ROW | FRAME_EXCLUDE_GROUP | FRAME_EXCLUDE_TIES
FRAME_OFFSETS = FRAME_START_OFFSET_PRECEDING | FRAME_END_OFFSET_PRECEDING | FRAME_START_OFFSET_FOLLOWING \
    | FRAME_END_OFFSET_FOLLOWING
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


class Frames:
    """The frames of one partition's rows under one window's frame clause (PostgreSQL's
    nodeWindowAgg: ROWS counts rows, GROUPS peer groups, RANGE the distance between ORDER BY
    values; EXCLUDE CURRENT ROW / GROUP / TIES take rows out of a frame)."""

    def __init__(self, spec: WindowSpec, order_keys: list[tuple[Any, ...]], offsets: tuple[Any, Any],
                 in_range: tuple[Any, Any] | None, env: Env) -> None:
        n = self.n = len(order_keys)
        self.opts = opts = spec.frame[0] or FRAME_DEFAULT
        self.has_order = bool(spec.order_by)
        self.peers = _peer_bounds(order_keys) if self.has_order else [(0, n)] * n
        self.offsets = offsets
        self.groups: list[tuple[int, int]] = sorted(set(self.peers))
        self.group_of = {bounds: g for g, bounds in enumerate(self.groups)}
        self.keys = [k[0] if k else None for k in order_keys]
        self.in_range = in_range
        self.env = env
        self.descending = bool(spec.order_by) and spec.order_by[0].descending
        self._values: dict[bool, tuple[int, list[Any]]] = {}  # (RANGE offsets: _sorted_values)
        value = next((k for k in self.keys if k is not None), None)
        if opts & FRAME_RANGE and opts & FRAME_OFFSETS and value is not None and in_range is not None:
            for offset in offsets:  # a negative distance: adding it lowers a value (in_range's check)
                if offset is not None and in_range[0].fn((value, offset), env) < _as_bound(value):
                    raise InvalidPrecedingOrFollowingSize("invalid preceding or following size in window function")

    def bounds(self, i: int) -> tuple[int, int]:
        """[start, end) of row i's frame, before any exclusion."""
        opts, n, peers = self.opts, self.n, self.peers[i]
        if opts & FRAME_START_UNBOUNDED_PRECEDING:
            start = 0
        elif opts & FRAME_START_CURRENT_ROW:
            start = i if opts & FRAME_ROWS else peers[0]
        elif opts & (FRAME_START_OFFSET_PRECEDING | FRAME_START_OFFSET_FOLLOWING):
            start = self._offset_bound(i, opts & FRAME_START_OFFSET_PRECEDING != 0, True)
        else:
            start = 0
        if opts & FRAME_END_UNBOUNDED_FOLLOWING:
            end = n
        elif opts & FRAME_END_CURRENT_ROW:
            end = i + 1 if opts & FRAME_ROWS else (peers[1] if self.has_order else n)
        elif opts & (FRAME_END_OFFSET_PRECEDING | FRAME_END_OFFSET_FOLLOWING):
            end = self._offset_bound(i, opts & FRAME_END_OFFSET_PRECEDING != 0, False)
        else:
            end = n
        return start, end

    def members(self, i: int) -> list[int] | range:
        """The rows of row i's frame, in order, after EXCLUDE."""
        start, end = self.bounds(i)
        excluded = self.opts & FRAME_EXCLUSION
        if not excluded or start >= end:
            return range(start, max(start, end))
        if excluded & FRAME_EXCLUDE_CURRENT_ROW:
            return [j for j in range(start, end) if j != i]
        first, last = self.peers[i]
        if excluded & FRAME_EXCLUDE_GROUP:
            return [j for j in range(start, end) if not first <= j < last]
        return [j for j in range(start, end) if j == i or not first <= j < last]  # TIES

    def _offset_bound(self, i: int, preceding: bool, is_start: bool) -> int:
        offset = self.offsets[0 if is_start else 1]
        opts, n = self.opts, self.n
        if opts & FRAME_ROWS:
            row = i - offset if preceding else i + offset
            return max(0, min(n, row if is_start else row + 1))
        if opts & FRAME_GROUPS:
            g = self.group_of[self.peers[i]] + (-offset if preceding else offset)
            if is_start:
                return self.groups[g][0] if 0 <= g < len(self.groups) else (0 if g < 0 else n)
            return self.groups[g][1] if 0 <= g < len(self.groups) else (0 if g < 0 else n)
        return self._range_bound(i, offset, preceding, is_start)

    def _range_bound(self, i: int, offset: Any, preceding: bool, is_start: bool) -> int:
        """RANGE offset: the first row (start) or past the last row (end) whose ORDER BY value is
        within `offset` of row i's, in the order's direction. NULL values sort at one end: a
        non-NULL row's bound stops at the edge of the non-NULL rows (so a frame running to that
        end takes the NULLs in, as PostgreSQL's); a NULL row's bounds are its peers."""
        value = self.keys[i]
        if value is None:
            return self.peers[i][0] if is_start else self.peers[i][1]
        assert self.in_range is not None
        plus, minus = self.in_range
        toward_lower = preceding != self.descending  # the bound lies at smaller values
        bound = (minus if toward_lower else plus).fn((value, offset), self.env)
        first, ascending = self._sorted_values(isinstance(bound, datetime.datetime))
        m = len(ascending)
        if not self.descending:
            return first + (bisect.bisect_left(ascending, bound) if is_start else bisect.bisect_right(ascending, bound))
        # descending: `ascending` is the block reversed
        return first + m - (bisect.bisect_right(ascending, bound) if is_start else bisect.bisect_left(ascending, bound))

    def _sorted_values(self, as_timestamps: bool) -> tuple[int, list[Any]]:
        """Where the non-NULL ORDER BY values start in the partition, and those values ascending
        (dates as timestamps when the bounds are: date + interval), made once per partition."""
        found = self._values.get(as_timestamps)
        if found is None:
            indexes = [j for j, k in enumerate(self.keys) if k is not None]
            values = [_as_bound(self.keys[j]) if as_timestamps else self.keys[j] for j in indexes]
            found = self._values[as_timestamps] = (indexes[0] if indexes else 0,
                                                   values[::-1] if self.descending else values)
        return found


def _as_bound(key: Any) -> Any:
    """A date as the timestamp date + interval gives (PostgreSQL's in_range for dates compares so)."""
    if type(key) is datetime.date:
        return datetime.datetime(key.year, key.month, key.day)
    return key


def _compute(spec: WindowSpec, part: list[tuple[Any, ...]], args: list[tuple[Any, ...]],
             order_keys: list[tuple[Any, ...]], offsets: tuple[Any, Any], filt: list[bool] | None,
             in_range: tuple[Any, Any] | None, env: Env) -> list[Any]:
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
    frames = Frames(spec, order_keys, offsets, in_range, env)
    if name in ("first_value", "last_value", "nth_value"):
        out = []
        for i in range(n):
            members = frames.members(i)
            if not members:
                out.append(None)
            elif name == "first_value":
                out.append(args[members[0]][0])
            elif name == "last_value":
                out.append(args[members[-1]][0])
            else:
                k = args[i][1]
                out.append(args[members[k - 1]][0] if k is not None and 0 < k <= len(members) else None)
        return out
    # an aggregate over the frame
    assert spec.make is not None
    out = []
    opts = frames.opts
    if opts & FRAME_START_UNBOUNDED_PRECEDING and not opts & (FRAME_OFFSETS | FRAME_EXCLUSION):
        state = spec.make()
        fed = 0
        for i in range(n):
            _, end = frames.bounds(i)
            while fed < end:
                if filt is None or filt[fed]:
                    state.step(*args[fed])
                fed += 1
            out.append(state.final())
        return out
    for i in range(n):
        state = spec.make()
        for j in frames.members(i):
            if filt is None or filt[j]:
                state.step(*args[j])
        out.append(state.final())
    return out


def _spec_compiler(spec: WindowSpec) -> Callable[[], tuple[Any, Any, Any, Any, Any, Any]]:
    def build() -> tuple[Any, Any, Any, Any, Any, Any]:
        return (compile_exprs(spec.partition_by)[0],
                compile_exprs(tuple(k.expr for k in spec.order_by))[0],
                compile_exprs(spec.args)[0],
                compile_expr(spec.filter) if spec.filter is not None else None,
                compile_exprs(tuple(e for e in spec.frame[1:3] if e is not None))[0],
                tuple(compile_expr(e) for e in spec.frame[3:5]) if len(spec.frame) > 3 and spec.frame[3] is not None
                else None)
    return build


def _check_offsets(spec: WindowSpec, offsets: tuple[Any, Any]) -> None:
    """NULL or (ROWS / GROUPS) negative frame offsets, as ExecWindowAgg refuses them."""
    opts = spec.frame[0] or FRAME_DEFAULT
    for which, offset, present in (("starting", offsets[0], spec.frame[1] is not None),
                                   ("ending", offsets[1], spec.frame[2] is not None)):
        if not present:
            continue
        if offset is None:
            raise NullValueNotAllowed(f"frame {which} offset must not be null")
        if opts & (FRAME_ROWS | FRAME_GROUPS) and offset < 0:
            raise InvalidPrecedingOrFollowingSize(f"frame {which} offset must not be negative")


@runner(WindowAgg)
async def run_window(node: WindowAgg, env: Env) -> AsyncIterator[Batch]:
    rows = await collect(node.input, env)
    results: list[list[Any]] = [[None] * len(node.funcs) for _ in rows]
    order: list[int] = list(range(len(rows)))
    for f_index, spec in enumerate(node.funcs):
        part_fn, order_fn, arg_fn, filt_fn, offsets_fn, in_range = compiled(node, f"spec{f_index}",
                                                                             _spec_compiler(spec))
        offset_values = list(offsets_fn((), env))
        offsets = (offset_values.pop(0) if spec.frame[1] is not None else None,
                   offset_values.pop(0) if spec.frame[2] is not None else None)
        _check_offsets(spec, offsets)
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
                values = _compute(spec, part, args, [okeys[i] for i in idxs], offsets, filt, in_range, env)
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
