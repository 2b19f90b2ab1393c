"""Date/time functions: now() and friends, extract/date_part, date_trunc, age, make_*, justify_*,
isfinite, AT TIME ZONE (timezone()), to_timestamp(epoch).

Owns field extraction with PostgreSQL 14+'s numeric results (extract(second ...) has scale 6,
date_part() is float8), truncation in the session TimeZone for timestamptz, and age()'s
field-by-field borrowing. The current-time functions read the executor context:
ctx.transaction_start (falls back to ctx.statement_start) and ctx.statement_start.
Not arithmetic (datetime_operators) and not to_char (formatting).
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pgaurora.catalog.builtins import numeric_math
from pgaurora.catalog.builtins.datetime_operators import (
    justify_days,
    justify_hours,
    justify_interval,
    timestamp_plus_interval,
)
from pgaurora.catalog.builtins.output import context_of
from pgaurora.catalog.builtins.registry import function
from pgaurora.datatypes import datetimes
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.values import (
    USECS_PER_DAY,
    USECS_PER_HOUR,
    USECS_PER_MINUTE,
    USECS_PER_SEC,
    Interval,
    zone,
)
from pgaurora.errors import DatetimeFieldOverflow, FeatureNotSupported, InvalidParameterValue

D, TS, TSTZ, TM, TMTZ, IV = t.DATE_OID, t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID, t.TIME_OID, t.TIMETZ_OID, t.INTERVAL_OID
T, F8, N, I4, B = t.TEXT_OID, t.FLOAT8_OID, t.NUMERIC_OID, t.INT4_OID, t.BOOL_OID
_TYPE_NAMES = {D: "date", TS: "timestamp without time zone", TSTZ: "timestamp with time zone",
               TM: "time without time zone", TMTZ: "time with time zone", IV: "interval"}
_UNIT_ALIASES = {
    "microsecond": "microseconds", "microseconds": "microseconds", "us": "microseconds", "usec": "microseconds",
    "usecs": "microseconds", "millisecond": "milliseconds", "milliseconds": "milliseconds", "ms": "milliseconds",
    "msec": "milliseconds", "msecs": "milliseconds", "second": "second", "seconds": "second", "sec": "second",
    "secs": "second", "s": "second", "minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute",
    "m": "minute", "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "h": "hour", "day": "day",
    "days": "day", "d": "day", "week": "week", "weeks": "week", "w": "week", "month": "month", "months": "month",
    "mon": "month", "mons": "month", "quarter": "quarter", "qtr": "quarter", "year": "year", "years": "year",
    "y": "year", "yr": "year", "yrs": "year", "decade": "decade", "decades": "decade", "century": "century",
    "centuries": "century", "millennium": "millennium", "millennia": "millennium", "mil": "millennium",
    "dow": "dow", "isodow": "isodow", "doy": "doy", "epoch": "epoch", "isoyear": "isoyear", "julian": "julian",
    "timezone": "timezone", "timezone_hour": "timezone_hour", "timezone_minute": "timezone_minute",
}
_DATE_UNITS = frozenset({"day", "week", "month", "quarter", "year", "decade", "century", "millennium", "dow",
                         "isodow", "doy", "epoch", "isoyear", "julian"})
_EPOCH = datetime.datetime(1970, 1, 1)


def _unit(name: str, type_oid: int, verb: str = "not recognized") -> str:
    unit = _UNIT_ALIASES.get(name.strip().lower())
    if unit is None:
        raise InvalidParameterValue(f'unit "{name.lower()}" not recognized for type {_TYPE_NAMES[type_oid]}')
    return unit


def _unsupported(unit: str, type_oid: int) -> FeatureNotSupported:
    return FeatureNotSupported(f'unit "{unit}" not supported for type {_TYPE_NAMES[type_oid]}')


def _scaled(micros: int, scale: int) -> Decimal:
    """An integer count of microseconds shown as numeric with `scale` decimals of its unit."""
    return Decimal(micros).scaleb(-scale)


def _timestamp_field(unit: str, value: datetime.datetime, type_oid: int, ctx: Any) -> Decimal:
    if type_oid == TSTZ:
        local = value.astimezone(context_of(ctx).tzinfo)
        if unit == "epoch":
            delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
            return _scaled((delta.days * 86400 + delta.seconds) * USECS_PER_SEC + delta.microseconds, 6)
        offset = local.utcoffset() or datetime.timedelta(0)
        seconds = int(offset.total_seconds())
        if unit == "timezone":
            return Decimal(seconds)
        if unit == "timezone_hour":
            return Decimal(int(seconds / 3600))
        if unit == "timezone_minute":
            return Decimal(int((seconds % 3600 if seconds >= 0 else -((-seconds) % 3600)) / 60))
        value = local.replace(tzinfo=None)
    elif unit in ("timezone", "timezone_hour", "timezone_minute"):
        raise _unsupported(unit, type_oid)
    if unit == "epoch":
        delta = value - _EPOCH
        return _scaled((delta.days * 86400 + delta.seconds) * USECS_PER_SEC + delta.microseconds, 6)
    sec_micros = value.second * USECS_PER_SEC + value.microsecond
    if unit == "microseconds":
        return Decimal(sec_micros)
    if unit == "milliseconds":
        return _scaled(sec_micros, 3)
    if unit == "second":
        return _scaled(sec_micros, 6)
    if unit == "minute":
        return Decimal(value.minute)
    if unit == "hour":
        return Decimal(value.hour)
    if unit == "julian":
        day = value.date().toordinal() + 1721425
        micros = ((value.hour * 60 + value.minute) * 60) * USECS_PER_SEC + sec_micros
        return numeric_math.add(Decimal(day), numeric_math.divide(Decimal(micros), Decimal(USECS_PER_DAY)))
    return _date_field(unit, value.date(), type_oid)


def _date_field(unit: str, value: datetime.date, type_oid: int) -> Decimal:
    year = value.year
    if unit == "day":
        return Decimal(value.day)
    if unit == "month":
        return Decimal(value.month)
    if unit == "year":
        return Decimal(year)
    if unit == "quarter":
        return Decimal((value.month - 1) // 3 + 1)
    if unit == "decade":
        return Decimal(year // 10)
    if unit == "century":
        return Decimal((year + 99) // 100)
    if unit == "millennium":
        return Decimal((year + 999) // 1000)
    if unit == "dow":
        return Decimal(value.isoweekday() % 7)
    if unit == "isodow":
        return Decimal(value.isoweekday())
    if unit == "doy":
        return Decimal(value.timetuple().tm_yday)
    if unit == "week":
        return Decimal(value.isocalendar()[1])
    if unit == "isoyear":
        return Decimal(value.isocalendar()[0])
    if unit == "julian":
        return Decimal(value.toordinal() + 1721425)
    if unit == "epoch":
        return Decimal((value.toordinal() - _EPOCH.toordinal()) * 86400)
    raise _unsupported(unit, type_oid)


def _interval_field(unit: str, value: Interval) -> Decimal:
    micros = value.microseconds
    sign = -1 if micros < 0 else 1
    if unit == "epoch":
        years, months = int(value.months / 12), value.months - int(value.months / 12) * 12
        seconds = Decimal(micros).scaleb(-6) + Decimal(years) * Decimal("31557600") + \
            Decimal(months) * 2592000 + Decimal(value.days) * 86400
        return seconds.quantize(Decimal("0.000001"))
    rest = sign * (abs(micros) % USECS_PER_MINUTE)
    if unit == "microseconds":
        return Decimal(rest)
    if unit == "milliseconds":
        return _scaled(rest, 3)
    if unit == "second":
        return _scaled(rest, 6)
    if unit == "minute":
        return Decimal(sign * (abs(micros) // USECS_PER_MINUTE % 60))
    if unit == "hour":
        return Decimal(sign * (abs(micros) // USECS_PER_HOUR))
    if unit == "day":
        return Decimal(value.days)
    months_sign = -1 if value.months < 0 else 1
    year = months_sign * (abs(value.months) // 12)
    month = months_sign * (abs(value.months) % 12)
    if unit == "month":
        return Decimal(month)
    if unit == "year":
        return Decimal(year)
    if unit == "quarter":
        return Decimal(month // 3 + 1 if month >= 0 else -((-month) // 3) + 1)
    if unit == "decade":
        return Decimal(int(year / 10))
    if unit == "century":
        return Decimal(int(year / 100))
    if unit == "millennium":
        return Decimal(int(year / 1000))
    raise _unsupported(unit, IV)


def _time_field(unit: str, value: datetime.time, type_oid: int) -> Decimal:
    sec_micros = value.second * USECS_PER_SEC + value.microsecond
    if unit == "microseconds":
        return Decimal(sec_micros)
    if unit == "milliseconds":
        return _scaled(sec_micros, 3)
    if unit == "second":
        return _scaled(sec_micros, 6)
    if unit == "minute":
        return Decimal(value.minute)
    if unit == "hour":
        return Decimal(value.hour)
    if unit == "epoch":
        micros = datetimes.time_to_micros(value)
        if type_oid == TMTZ:
            offset = value.utcoffset() or datetime.timedelta(0)
            micros -= int(offset.total_seconds()) * USECS_PER_SEC
        return _scaled(micros, 6)
    if type_oid == TMTZ and unit in ("timezone", "timezone_hour", "timezone_minute"):
        seconds = int((value.utcoffset() or datetime.timedelta(0)).total_seconds())
        return Decimal({"timezone": seconds, "timezone_hour": int(seconds / 3600),
                        "timezone_minute": int(seconds % 3600 / 60)}[unit])
    raise _unsupported(unit, type_oid)


def extract_field(unit_text: str, value: Any, type_oid: int, ctx: Any = None) -> Decimal:
    unit = _unit(unit_text, type_oid)
    if type_oid in (TS, TSTZ):
        if value in (datetimes.TIMESTAMP_INFINITY, datetimes.TIMESTAMPTZ_INFINITY):
            return Decimal("Infinity") if unit in ("epoch", "year", "julian", "isoyear", "decade", "century",
                                                    "millennium") else None  # type: ignore[return-value]
        return _timestamp_field(unit, value, type_oid, ctx)
    if type_oid == D:
        if unit not in _DATE_UNITS:
            raise _unsupported(unit, D)
        return _date_field(unit, value, D)
    if type_oid == IV:
        return _interval_field(unit, value)
    return _time_field(unit, value, type_oid)


def _extract_impl(type_oid: int, as_float: bool) -> Callable[..., Any]:
    if type_oid == TSTZ:
        if as_float:
            return lambda ctx, unit, value: float(extract_field(unit, value, type_oid, ctx))
        return lambda ctx, unit, value: extract_field(unit, value, type_oid, ctx)
    if as_float:
        return lambda unit, value: float(extract_field(unit, value, type_oid))
    return lambda unit, value: extract_field(unit, value, type_oid)


_TRUNC_UNITS = ("microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month", "quarter",
                "year", "decade", "century", "millennium")


def truncate_timestamp(unit: str, value: datetime.datetime, type_oid: int = TS) -> datetime.datetime:
    if unit not in _TRUNC_UNITS:
        raise _unsupported(unit, type_oid)
    if unit == "microseconds":
        return value
    if unit == "milliseconds":
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if unit == "second":
        return value.replace(microsecond=0)
    if unit == "minute":
        return value.replace(second=0, microsecond=0)
    if unit == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - datetime.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    year = day.year
    if unit == "decade":
        year = year // 10 * 10
    elif unit == "century":
        year = (year + 99) // 100 * 100 - 99
    elif unit == "millennium":
        year = (year + 999) // 1000 * 1000 - 999
    return day.replace(year=max(year, 1), month=1, day=1)


def _date_trunc_timestamp(unit_text: str, value: datetime.datetime) -> datetime.datetime:
    if value in (datetimes.TIMESTAMP_INFINITY, datetimes.TIMESTAMP_NINFINITY):
        return value
    return truncate_timestamp(_unit(unit_text, TS), value)


def _date_trunc_timestamptz(ctx: Any, unit_text: str, value: datetime.datetime,
                            zone_name: str | None = None) -> datetime.datetime:
    if value in (datetimes.TIMESTAMPTZ_INFINITY, datetimes.TIMESTAMPTZ_NINFINITY):
        return value
    unit = _unit(unit_text, TSTZ)
    tz = _zone(zone_name) if zone_name is not None else context_of(ctx).tzinfo
    local = value.astimezone(tz).replace(tzinfo=None)
    truncated = truncate_timestamp(unit, local, TSTZ)
    return truncated.replace(tzinfo=tz).astimezone(datetime.UTC)


def _date_trunc_interval(unit_text: str, value: Interval) -> Interval:
    unit = _unit(unit_text, IV)
    months, days, micros = value.months, value.days, value.microseconds
    year_months = {"year": 12, "decade": 120, "century": 1200, "millennium": 12000, "quarter": 3, "month": 1}
    if unit in year_months:
        step = year_months[unit]
        return Interval(int(months / step) * step, 0, 0)
    if unit == "week":
        raise FeatureNotSupported('unit "week" not supported for type interval',
                                  detail="Months usually have fractional weeks.")
    step = {"day": USECS_PER_DAY * 10**6, "hour": USECS_PER_HOUR, "minute": USECS_PER_MINUTE,
            "second": USECS_PER_SEC, "milliseconds": 1000, "microseconds": 1}[unit]
    if unit == "day":
        return Interval(months, days, 0)
    return Interval(months, days, int(micros / step) * step)


def _zone(name: str) -> datetime.tzinfo:
    try:
        return zone(name)
    except KeyError:
        raise InvalidParameterValue(f'time zone "{name}" not recognized') from None


def age(a: datetime.datetime, b: datetime.datetime) -> Interval:
    """timestamp_age(): symbolic difference in years, months, days and time."""
    flip = a < b
    fields = [a.year - b.year, a.month - b.month, a.day - b.day, a.hour - b.hour, a.minute - b.minute,
              a.second - b.second, a.microsecond - b.microsecond]
    if flip:
        fields = [-f for f in fields]
    year, month, day, hour, minute, second, micro = fields
    while micro < 0:
        micro += USECS_PER_SEC
        second -= 1
    while second < 0:
        second += 60
        minute -= 1
    while minute < 0:
        minute += 60
        hour -= 1
    while hour < 0:
        hour += 24
        day -= 1
    while day < 0:
        ref = a if flip else b
        day += calendar.monthrange(ref.year, ref.month)[1]
        month -= 1
    while month < 0:
        month += 12
        year -= 1
    micros = ((hour * 60 + minute) * 60 + second) * USECS_PER_SEC + micro
    result = Interval(year * 12 + month, day, micros)
    return -result if flip else result


def _current_start(ctx: Any) -> datetime.datetime:
    start = getattr(ctx, "transaction_start", None) or getattr(ctx, "statement_start", None)
    return start if start is not None else datetime.datetime.now(datetime.UTC)


def _statement_start(ctx: Any) -> datetime.datetime:
    start = getattr(ctx, "statement_start", None)
    return start if start is not None else datetime.datetime.now(datetime.UTC)


def _local_now(ctx: Any) -> datetime.datetime:
    return _current_start(ctx).astimezone(context_of(ctx).tzinfo)


def make_date(year: int, month: int, day: int) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise DatetimeFieldOverflow(f"date field value out of range: {year}-{month:02d}-{day:02d}") from None


def make_time(hour: int, minute: int, second: float) -> datetime.time:
    micros = round(second * USECS_PER_SEC)
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= micros < 60 * USECS_PER_SEC):
        raise DatetimeFieldOverflow(f"time field value out of range: {hour}:{minute:02d}:{second}")
    return datetime.time(hour, minute, micros // USECS_PER_SEC, micros % USECS_PER_SEC)


def make_timestamp(year: int, month: int, day: int, hour: int, minute: int, second: float) -> datetime.datetime:
    return datetime.datetime.combine(make_date(year, month, day), make_time(hour, minute, second))


def make_interval(years: int = 0, months: int = 0, weeks: int = 0, days: int = 0, hours: int = 0,
                  mins: int = 0, secs: float = 0.0) -> Interval:
    micros = round(secs * USECS_PER_SEC) + hours * USECS_PER_HOUR + mins * USECS_PER_MINUTE
    return Interval(years * 12 + months, weeks * 7 + days, micros)


def to_timestamp_epoch(seconds: float) -> datetime.datetime:
    if seconds != seconds:
        raise DatetimeFieldOverflow("timestamp cannot be NaN")
    if seconds == float("inf"):
        return datetimes.TIMESTAMPTZ_INFINITY
    if seconds == float("-inf"):
        return datetimes.TIMESTAMPTZ_NINFINITY
    micros = round(seconds * USECS_PER_SEC)
    try:
        return datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(microseconds=micros)
    except OverflowError:
        raise DatetimeFieldOverflow(f'timestamp out of range: "{seconds}"') from None


def _isfinite(value: Any) -> bool:
    return value not in (datetimes.DATE_INFINITY, datetimes.DATE_NINFINITY, datetimes.TIMESTAMP_INFINITY,
                         datetimes.TIMESTAMP_NINFINITY, datetimes.TIMESTAMPTZ_INFINITY,
                         datetimes.TIMESTAMPTZ_NINFINITY)


def _span(start: Any, end: Any) -> tuple[Any, Any] | None:
    """One side of OVERLAPS as overlaps_timestamp takes it: None when both ends are NULL; a NULL
    start takes the end's place (the end then NULL); else the two in order."""
    if start is None:
        return None if end is None else (end, None)
    if end is not None and start > end:
        return end, start
    return start, end


def overlaps(ts1: Any, te1: Any, ts2: Any, te2: Any) -> bool | None:
    """(ts1, te1) OVERLAPS (ts2, te2): PostgreSQL's overlaps_timestamp, with its NULL rules."""
    first, second = _span(ts1, te1), _span(ts2, te2)
    if first is None or second is None:
        return None
    (ts1, te1), (ts2, te2) = first, second
    if ts1 > ts2:
        if te2 is None:
            return None
        if ts1 < te2:
            return True
        return None if te1 is None else False
    if ts1 < ts2:
        if te1 is None:
            return None
        if ts2 < te1:
            return True
        return None if te2 is None else False
    return None if te1 is None or te2 is None else True


def _overlaps_spans(first_span: bool, second_span: bool) -> Callable[..., bool | None]:
    """overlaps(timestamp, interval, ...): a pair given as a start and a length (SQL's form)."""
    def end(start: Any, span: Any) -> Any:
        return None if start is None or span is None else timestamp_plus_interval(start, span)

    def call(ts1: Any, e1: Any, ts2: Any, e2: Any) -> bool | None:
        return overlaps(ts1, end(ts1, e1) if first_span else e1, ts2, end(ts2, e2) if second_span else e2)

    return call


def _register() -> None:
    ctx_opts: dict[str, Any] = {"needs_context": True, "volatility": "s"}
    for oid in (TS, TSTZ, TM):
        function("overlaps", (oid, oid, oid, oid), B, overlaps, strict=False)
    for first, second in ((True, True), (True, False), (False, True)):
        function("overlaps", (TS, IV if first else TS, TS, IV if second else TS), B, _overlaps_spans(first, second),
                 strict=False)
    for name in ("now", "transaction_timestamp", "current_timestamp"):
        function(name, (), TSTZ, _current_start, **ctx_opts)
    function("statement_timestamp", (), TSTZ, _statement_start, **ctx_opts)
    function("clock_timestamp", (), TSTZ, lambda: datetime.datetime.now(datetime.UTC), volatility="v")
    function("timeofday", (), T, lambda: datetime.datetime.now().strftime("%a %b %d %H:%M:%S.%f %Y UTC"),
             volatility="v")
    function("current_date", (), D, lambda ctx: _local_now(ctx).date(), **ctx_opts)
    function("current_time", (), TMTZ, lambda ctx: _local_now(ctx).timetz(), **ctx_opts)
    function("localtimestamp", (), TS, lambda ctx: _local_now(ctx).replace(tzinfo=None), **ctx_opts)
    function("localtime", (), TM, lambda ctx: _local_now(ctx).time(), **ctx_opts)
    for oid in (D, TS, TSTZ, TM, TMTZ, IV):
        opts = ctx_opts if oid == TSTZ else {}
        function("date_part", (T, oid), F8, _extract_impl(oid, True), **opts)
        function("extract", (T, oid), N, _extract_impl(oid, False), **opts)
    function("date_trunc", (T, TS), TS, _date_trunc_timestamp)
    function("date_trunc", (T, TSTZ), TSTZ, _date_trunc_timestamptz, **ctx_opts)
    function("date_trunc", (T, TSTZ, T), TSTZ, _date_trunc_timestamptz, needs_context=True)
    function("date_trunc", (T, IV), IV, _date_trunc_interval)
    function("age", (TS, TS), IV, age)
    function("age", (TSTZ, TSTZ), IV, lambda ctx, a, b: age(a.astimezone(context_of(ctx).tzinfo),
                                                            b.astimezone(context_of(ctx).tzinfo)), **ctx_opts)
    function("age", (TS,), IV, lambda ctx, ts: age(_local_now(ctx).replace(hour=0, minute=0, second=0, microsecond=0,
                                                                            tzinfo=None), ts), **ctx_opts)
    function("age", (TSTZ,), IV, lambda ctx, ts: age(_local_now(ctx).replace(hour=0, minute=0, second=0, microsecond=0),
                                                     ts.astimezone(context_of(ctx).tzinfo)), **ctx_opts)
    function("make_date", (I4, I4, I4), D, make_date)
    function("make_time", (I4, I4, F8), TM, make_time)
    function("make_timestamp", (I4, I4, I4, I4, I4, F8), TS, make_timestamp)
    function("make_timestamptz", (I4, I4, I4, I4, I4, F8), TSTZ,
             lambda ctx, *a: make_timestamp(*a).replace(tzinfo=context_of(ctx).tzinfo).astimezone(datetime.UTC),
             **ctx_opts)
    function("make_timestamptz", (I4, I4, I4, I4, I4, F8, T), TSTZ,
             lambda *a: make_timestamp(*a[:6]).replace(tzinfo=_zone(a[6])).astimezone(datetime.UTC))
    for n in range(0, 8):
        sig = (I4, I4, I4, I4, I4, I4, F8)[:n]
        function("make_interval", sig, IV, make_interval)
    function("justify_hours", (IV,), IV, justify_hours)
    function("justify_days", (IV,), IV, justify_days)
    function("justify_interval", (IV,), IV, justify_interval)
    for oid in (D, TS, TSTZ):
        function("isfinite", (oid,), B, _isfinite)
    function("isfinite", (IV,), B, lambda i: True)
    function("to_timestamp", (F8,), TSTZ, to_timestamp_epoch)
    function("timezone", (T, TSTZ), TS, lambda z, ts: ts.astimezone(_zone(z)).replace(tzinfo=None)
             if _isfinite(ts) else ts.replace(tzinfo=None))
    function("timezone", (T, TS), TSTZ, lambda z, ts: ts.replace(tzinfo=_zone(z)).astimezone(datetime.UTC)
             if _isfinite(ts) else ts.replace(tzinfo=datetime.UTC))
    function("timezone", (IV, TSTZ), TS, lambda i, ts: (ts + datetime.timedelta(microseconds=i.microseconds))
             .replace(tzinfo=None))
    function("date", (TS,), D, lambda ts: ts.date())
    function("date", (TSTZ,), D, lambda ctx, ts: ts.astimezone(context_of(ctx).tzinfo).date(), **ctx_opts)


_register()


def date_bin(stride: Interval, value: datetime.datetime, origin: datetime.datetime) -> datetime.datetime:
    """date_bin(): the start of the stride-sized bin (counted from origin) that holds value."""
    if stride.months:
        raise FeatureNotSupported("timestamps cannot be binned into intervals containing months or years")
    step = stride.days * USECS_PER_DAY + stride.microseconds
    if step <= 0:
        raise InvalidParameterValue("stride must be greater than zero")
    delta = value - origin
    offset = (delta.days * 86400 + delta.seconds) * USECS_PER_SEC + delta.microseconds
    binned = offset - offset % step if offset >= 0 else offset - (offset % step)
    return origin + datetime.timedelta(microseconds=binned)


function("date_bin", (IV, TS, TS), TS, date_bin)
function("date_bin", (IV, TSTZ, TSTZ), TSTZ, date_bin)
