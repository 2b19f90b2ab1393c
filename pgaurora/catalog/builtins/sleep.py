"""pg_sleep, pg_sleep_for and pg_sleep_until: a statement that waits without holding up others.

Owns the three functions. They are WaitingFunctions (catalog.builtins.registry): the executor
awaits the sleep before evaluating the row, so the server's other sessions run meanwhile, and
a cancel request or statement_timeout ends it at once with 57014, as in PostgreSQL. Inside an
expression the executor evaluates only conditionally (CASE, AND, OR, COALESCE...) a sleep
cannot be awaited: a positive one there is refused with 0A000 rather than stopping the whole
server for its length.

    pg_sleep(double precision)     seconds; zero, negative or NaN: no wait
    pg_sleep_for(interval)         its length, months as 30 days (PostgreSQL adds the interval
                                   to clock_timestamp(), so a month there is a calendar month)
    pg_sleep_until(timestamptz)    until that time; a time already past: no wait
"""

from __future__ import annotations

import asyncio
import datetime
import math
from typing import Any

from pgaurora.catalog.builtins.registry import WaitingFunction, function
from pgaurora.datatypes.typeinfo import FLOAT8_OID, INTERVAL_OID, TIMESTAMPTZ_OID, VOID_OID
from pgaurora.errors import FeatureNotSupported

VOID = ""  # a void result is not NULL: it prints as an empty string
MAX_SECONDS = 100 * 365 * 86400.0  # asyncio's timers take no infinity


def _seconds(value: float) -> float:
    return 0.0 if math.isnan(value) or value <= 0 else min(value, MAX_SECONDS)


def _interval_seconds(value: Any) -> float:
    return _seconds(value.span() / 1_000_000)


def _until_seconds(value: datetime.datetime) -> float:
    return _seconds((value - datetime.datetime.now(datetime.UTC)).total_seconds())


def _sleeper(name: str, seconds_of: Any) -> WaitingFunction:
    def now(ctx: Any, value: Any) -> str:
        if seconds_of(value) > 0:
            raise FeatureNotSupported(
                f"{name}() cannot wait inside CASE, AND, OR or COALESCE in pgaurora",
                hint=f"Call {name}() outside the conditional expression.")
        return VOID

    async def wait(ctx: Any, value: Any) -> str:
        seconds = seconds_of(value)
        if seconds > 0:
            await asyncio.sleep(seconds)
        return VOID

    return WaitingFunction(now, wait)


function("pg_sleep", (FLOAT8_OID,), VOID_OID, _sleeper("pg_sleep", lambda v: _seconds(float(v))),
         needs_context=True, volatility="v")
function("pg_sleep_for", (INTERVAL_OID,), VOID_OID, _sleeper("pg_sleep_for", _interval_seconds),
         needs_context=True, volatility="v")
function("pg_sleep_until", (TIMESTAMPTZ_OID,), VOID_OID, _sleeper("pg_sleep_until", _until_seconds),
         needs_context=True, volatility="v")
