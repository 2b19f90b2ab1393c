"""SQL cursors: DECLARE ... [NO] SCROLL CURSOR, FETCH and MOVE in every direction.

Owns a cursor's position and PostgreSQL's fetch rules (pquery.c: DoPortalRunFetch,
PortalRunSelect, DoPortalRewind), so every FETCH/MOVE form returns PostgreSQL's rows and tag:

    position  0 = before the first row, k = on row k, total + 1 = after the last row
    FETCH FORWARD n / BACKWARD n / ABSOLUTE n / RELATIVE n (NEXT, PRIOR, FIRST, LAST, ALL are these)

A scrollable cursor keeps the rows it has read (materialized as the executor hands them over,
never ahead of need), so it can go back; a NO SCROLL cursor drops them, and going backward
raises 55000 "cursor can only scan forward". A cursor declared with neither is scrollable when
its plan could run backward in PostgreSQL (ExecSupportsBackwardScan: scans, sorts, limits;
not joins, aggregates or DISTINCT), as PortalStart decides.
Not parsing (session.utility) and not running the plan (executor).
"""

from __future__ import annotations

from typing import Any

from pgaurora.errors import ObjectNotInPrerequisiteState

FETCH_ALL = (1 << 63) - 1
CURSOR_OPT_SCROLL = 0x0002
CURSOR_OPT_NO_SCROLL = 0x0004
_BATCH = 1000

Row = tuple[Any, ...]

# plan nodes that can run backward when their input can (ExecSupportsBackwardScan)
_BACKWARD_LEAVES = frozenset({"SeqScan", "IndexScan", "ValuesScan", "FunctionScan", "CteScan", "WorkTableScan",
                              "SystemScan", "Sort"})
_BACKWARD_PASS = frozenset({"Filter", "Project", "Limit", "LockRows"})


def supports_backward(node: Any) -> bool:
    name = type(node).__name__
    if name in _BACKWARD_LEAVES:
        return True
    if name in _BACKWARD_PASS:
        return supports_backward(node.input)
    if name == "SetOp":  # UNION ALL is PostgreSQL's Append
        return bool(node.all) and node.kind.value == "Union" and supports_backward(node.left) \
            and supports_backward(node.right)
    return False


def _forward_only() -> ObjectNotInPrerequisiteState:
    return ObjectNotInPrerequisiteState("cursor can only scan forward",
                                        hint="Declare it with SCROLL option to enable backward scan.")


class SqlCursor:
    """The rows and position of one DECLAREd cursor."""

    __slots__ = ("source", "rows", "offset", "exhausted", "scroll", "cur", "pos", "at_start", "at_end")

    def __init__(self, source: Any, rows: list[Row] | None, scroll: bool) -> None:
        self.source = source              # executor cursor (None: `rows` are all of them, WITH HOLD)
        self.rows: list[Row] = rows if rows is not None else []
        self.offset = 0                   # position of rows[0] minus one (NO SCROLL drops what it passed)
        self.exhausted = source is None
        self.scroll = scroll
        self.cur = 0                      # the scan's place: 0 before the first row, total + 1 after the last
        self.pos = 0                      # PostgreSQL's portalPos
        self.at_start = True
        self.at_end = False

    async def _fill(self, upto: int) -> None:
        """Reads rows from the executor until row `upto` is here or there are no more."""
        source = self.source
        rows = self.rows
        while not self.exhausted and self.offset + len(rows) < upto:
            want = min(upto - self.offset - len(rows), _BATCH)
            batch = await source.fetch(want)
            if not batch:
                self.exhausted = True
                break
            rows.extend(batch)

    async def _select(self, forward: bool, count: int, keep: bool) -> tuple[int, list[Row]]:
        """PortalRunSelect: up to `count` rows in one direction; (rows processed, rows if `keep`)."""
        if forward:
            if self.at_end or count <= 0:
                return 0, []
            cur = self.cur
            await self._fill(cur + count if count < FETCH_ALL else FETCH_ALL)
            start = cur - self.offset
            n = min(count, len(self.rows) - start)
            out = self.rows[start:start + n] if keep else []
            self.cur = cur + n + (1 if n < count else 0)
            if n > 0:
                self.at_start = False
            if n < count:
                self.at_end = True
            self.pos += n
            if not self.scroll and self.cur - 1 - self.offset > _BATCH:
                drop = self.cur - 1 - self.offset
                del self.rows[:drop]
                self.offset += drop
            return n, out
        if not self.scroll:
            raise _forward_only()
        if self.at_start or count <= 0:
            return 0, []
        cur = self.cur
        first = max(cur - count, 1)
        n = max(cur - first, 0)
        out = self.rows[first - 1:cur - 1][::-1] if keep else []
        self.cur = cur - n if n == count else 0
        if n > 0 and self.at_end:
            self.at_end = False
            self.pos += 1
        if n < count:
            self.at_start = True
            self.pos = 0
        else:
            self.pos -= n
        return n, out

    def _rewind(self) -> None:
        if self.at_start and not self.at_end:
            return
        if not self.scroll:
            raise _forward_only()
        self.cur = self.pos = 0
        self.at_start, self.at_end = True, False

    async def fetch(self, direction: str, count: int, move: bool) -> tuple[int, list[Row]]:
        """DoPortalRunFetch: (rows processed, rows) of FETCH (or MOVE: no rows) `direction` `count`."""
        keep = not move
        if direction == "FETCH_FORWARD":
            if count < 0:
                direction, count = "FETCH_BACKWARD", -count
        elif direction == "FETCH_BACKWARD":
            if count < 0:
                direction, count = "FETCH_FORWARD", -count
        elif direction == "FETCH_ABSOLUTE":
            if count > 0:
                if self.pos == FETCH_ALL or count - 1 <= self.pos // 2:
                    self._rewind()
                    if count > 1:
                        await self._select(True, count - 1, False)
                else:
                    pos = self.pos + (1 if self.at_end else 0)
                    if count <= pos:
                        await self._select(False, pos - count + 1, False)
                    elif count > pos + 1:
                        await self._select(True, count - pos - 1, False)
                return await self._select(True, 1, keep)
            if count < 0:
                await self._select(True, FETCH_ALL, False)
                if count < -1:
                    await self._select(False, -count - 1, False)
                return await self._select(False, 1, keep)
            self._rewind()
            return await self._select(True, 0, keep)
        elif direction == "FETCH_RELATIVE":
            if count > 0:
                if count > 1:
                    await self._select(True, count - 1, False)
                return await self._select(True, 1, keep)
            if count < 0:
                if count < -1:
                    await self._select(False, -count - 1, False)
                return await self._select(False, 1, keep)
            direction = "FETCH_FORWARD"
        forward = direction == "FETCH_FORWARD"
        if count == 0:
            on_row = not self.at_start and not self.at_end
            if move:
                return (1 if on_row else 0), []
            if on_row:
                await self._select(False, 1, False)  # back up one, to fetch the current row again
                count, forward = 1, True
        if not forward and count == FETCH_ALL and move:
            result = self.pos
            if result > 0 and not self.at_end:
                result -= 1
            self._rewind()
            return result, []
        return await self._select(forward, count, keep)

    async def close(self) -> None:
        if self.source is not None and not self.exhausted:
            close = getattr(self.source, "close", None)
            if close is not None:
                await close()
