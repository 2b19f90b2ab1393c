"""Date/time arithmetic: date +- int, timestamp +- interval, timestamp - timestamp, interval * float...

Owns PostgreSQL's calendar arithmetic: months are added first (clamping the day to the
month's end: 2024-01-31 + 1 mon = 2024-02-29), then days, then the time part; for
timestamptz the month/day steps happen in the session TimeZone (so '1 day' across a DST
change keeps the wall-clock time). interval * / float cascade fractions down as interval_mul
does. Not extraction/truncation functions (datetime_functions).
"""

from __future__ import annotations

import calendar
import datetime
import math
from typing import Any

from pgaurora.catalog.builtins.output import context_of
from pgaurora.catalog.builtins.registry import operator
from pgaurora.datatypes import datetimes
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.values import USECS_PER_DAY, USECS_PER_SEC, Interval
from pgaurora.errors import DatetimeFieldOverflow, DivisionByZero

D, TS, TSTZ, TM, IV = t.DATE_OID, t.TIMESTAMP_OID, t.TIMESTAMPTZ_OID, t.TIME_OID, t.INTERVAL_OID
I4, F8 = t.INT4_OID, t.FLOAT8_OID
_INFINITE = {datetimes.TIMESTAMP_INFINITY, datetimes.TIMESTAMP_NINFINITY,
             datetimes.TIMESTAMPTZ_INFINITY, datetimes.TIMESTAMPTZ_NINFINITY}


def add_months(value: datetime.datetime, months: int) -> datetime.datetime:
    if not months:
        return value
    total = value.year * 12 + (value.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise DatetimeFieldOverflow("timestamp out of range")
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def _shift(value: datetime.datetime, delta: datetime.timedelta) -> datetime.datetime:
    try:
        return value + delta
    except OverflowError:
        raise DatetimeFieldOverflow("timestamp out of range") from None


def timestamp_plus_interval(value: datetime.datetime, span: Interval) -> datetime.datetime:
    if value in _INFINITE:
        return value
    result = add_months(value, span.months)
    return _shift(result, datetime.timedelta(days=span.days, microseconds=span.microseconds))


def timestamp_minus_interval(value: datetime.datetime, span: Interval) -> datetime.datetime:
    return timestamp_plus_interval(value, -span)


def timestamptz_plus_interval(ctx: Any, value: datetime.datetime, span: Interval) -> datetime.datetime:
    if value in _INFINITE:
        return value
    tz = context_of(ctx).tzinfo
    if span.months or span.days:
        local = value.astimezone(tz).replace(tzinfo=None)
        local = add_months(local, span.months)
        local = _shift(local, datetime.timedelta(days=span.days))
        value = local.replace(tzinfo=tz).astimezone(datetime.UTC)
    return _shift(value, datetime.timedelta(microseconds=span.microseconds))


def timestamptz_minus_interval(ctx: Any, value: datetime.datetime, span: Interval) -> datetime.datetime:
    return timestamptz_plus_interval(ctx, value, -span)


def justify_hours(span: Interval) -> Interval:
    days, micros = span.days, span.microseconds
    whole = int(micros / USECS_PER_DAY)
    days += whole
    micros -= whole * USECS_PER_DAY
    if days > 0 and micros < 0:
        micros += USECS_PER_DAY
        days -= 1
    elif days < 0 and micros > 0:
        micros -= USECS_PER_DAY
        days += 1
    return Interval(span.months, days, micros)


def justify_days(span: Interval) -> Interval:
    months, days = span.months, span.days
    whole = int(days / 30)
    months += whole
    days -= whole * 30
    if months > 0 and days < 0:
        days += 30
        months -= 1
    elif months < 0 and days > 0:
        days -= 30
        months += 1
    return Interval(months, days, span.microseconds)


def justify_interval(span: Interval) -> Interval:
    months, days, micros = span.months, span.days, span.microseconds
    whole = int(days / 30)
    months += whole
    days -= whole * 30
    whole = int(micros / USECS_PER_DAY)
    days += whole
    micros -= whole * USECS_PER_DAY
    if months > 0 and (days < 0 or (days == 0 and micros < 0)):
        days += 30
        months -= 1
    elif months < 0 and (days > 0 or (days == 0 and micros > 0)):
        days -= 30
        months += 1
    if days > 0 and micros < 0:
        micros += USECS_PER_DAY
        days -= 1
    elif days < 0 and micros > 0:
        micros -= USECS_PER_DAY
        days += 1
    return Interval(months, days, micros)


def timestamp_difference(a: datetime.datetime, b: datetime.datetime) -> Interval:
    """timestamp_mi: the microsecond difference, justified into days and time."""
    if a in _INFINITE or b in _INFINITE:
        raise DatetimeFieldOverflow("cannot subtract infinite timestamps")
    delta = a - b
    micros = (delta.days * 86400 + delta.seconds) * USECS_PER_SEC + delta.microseconds
    return justify_hours(Interval(0, 0, micros))


def _tsround(value: float) -> float:
    return round(value * 1_000_000) / 1_000_000


def _int32(value: float) -> int:
    if math.isnan(value) or not -(2**31) <= value < 2**31:
        raise DatetimeFieldOverflow("interval out of range")
    return int(value)


def interval_multiply(span: Interval, factor: float) -> Interval:
    """interval_mul()."""
    months = _int32(span.months * factor)
    days = _int32(span.days * factor)
    month_remainder_days = _tsround((span.months * factor - months) * 30)
    sec_remainder = (span.days * factor - days + month_remainder_days - int(month_remainder_days)) * 86400
    sec_remainder = _tsround(sec_remainder)
    if abs(sec_remainder) >= 86400:
        days += int(sec_remainder / 86400)
        sec_remainder -= int(sec_remainder / 86400) * 86400
    days += int(month_remainder_days)
    micros = span.microseconds * factor + sec_remainder * USECS_PER_SEC
    if math.isnan(micros) or abs(micros) >= 2**63:
        raise DatetimeFieldOverflow("interval out of range")
    return Interval(months, days, int(round(micros)))


def interval_divide(span: Interval, factor: float) -> Interval:
    """interval_div()."""
    if factor == 0.0:
        raise DivisionByZero("division by zero")
    months = _int32(span.months / factor)
    days = _int32(span.days / factor)
    month_remainder_days = _tsround((span.months / factor - months) * 30)
    sec_remainder = _tsround((span.days / factor - days + month_remainder_days - int(month_remainder_days)) * 86400)
    if abs(sec_remainder) >= 86400:
        days += int(sec_remainder / 86400)
        sec_remainder -= int(sec_remainder / 86400) * 86400
    days += int(month_remainder_days)
    micros = span.microseconds / factor + sec_remainder * USECS_PER_SEC
    return Interval(months, days, int(round(micros)))


def _time_plus(value: datetime.time, span: Interval) -> datetime.time:
    micros = (datetimes.time_to_micros(value) + span.microseconds) % USECS_PER_DAY
    return datetimes.time_from_micros(micros)


def _date_plus_days(value: datetime.date, days: int) -> datetime.date:
    if value in (datetimes.DATE_INFINITY, datetimes.DATE_NINFINITY):
        return value
    try:
        return value + datetime.timedelta(days=days)
    except OverflowError:
        raise DatetimeFieldOverflow("date out of range") from None


def _midnight(value: datetime.date) -> datetime.datetime:
    if value == datetimes.DATE_INFINITY:
        return datetimes.TIMESTAMP_INFINITY
    if value == datetimes.DATE_NINFINITY:
        return datetimes.TIMESTAMP_NINFINITY
    return datetime.datetime(value.year, value.month, value.day)


def _date_difference(a: datetime.date, b: datetime.date) -> int:
    if a in (datetimes.DATE_INFINITY, datetimes.DATE_NINFINITY) or b in (datetimes.DATE_INFINITY,
                                                                         datetimes.DATE_NINFINITY):
        raise DatetimeFieldOverflow("cannot subtract infinite dates")
    return (a - b).days


def _interval_add(a: Interval, b: Interval) -> Interval:
    return Interval(a.months + b.months, a.days + b.days, a.microseconds + b.microseconds)


def _interval_sub(a: Interval, b: Interval) -> Interval:
    return Interval(a.months - b.months, a.days - b.days, a.microseconds - b.microseconds)


def _time_difference(a: datetime.time, b: datetime.time) -> Interval:
    return Interval(0, 0, datetimes.time_to_micros(a) - datetimes.time_to_micros(b))


def _register() -> None:
    operator("+", D, I4, D, _date_plus_days, commutator="+")
    operator("+", I4, D, D, lambda n, d: _date_plus_days(d, n), commutator="+")
    operator("-", D, I4, D, lambda d, n: _date_plus_days(d, -n))
    operator("-", D, D, I4, _date_difference)
    operator("+", D, IV, TS, lambda d, i: timestamp_plus_interval(_midnight(d), i))
    operator("+", IV, D, TS, lambda i, d: timestamp_plus_interval(_midnight(d), i))
    operator("-", D, IV, TS, lambda d, i: timestamp_minus_interval(_midnight(d), i))
    operator("+", D, TM, TS, lambda d, tm: datetime.datetime.combine(d, tm))
    operator("+", TM, D, TS, lambda tm, d: datetime.datetime.combine(d, tm))
    operator("+", TS, IV, TS, timestamp_plus_interval)
    operator("+", IV, TS, TS, lambda i, ts: timestamp_plus_interval(ts, i))
    operator("-", TS, IV, TS, timestamp_minus_interval)
    operator("-", TS, TS, IV, timestamp_difference)
    operator("+", TSTZ, IV, TSTZ, timestamptz_plus_interval, needs_context=True, volatility="s")
    operator("+", IV, TSTZ, TSTZ, lambda ctx, i, ts: timestamptz_plus_interval(ctx, ts, i), needs_context=True,
             volatility="s")
    operator("-", TSTZ, IV, TSTZ, timestamptz_minus_interval, needs_context=True, volatility="s")
    operator("-", TSTZ, TSTZ, IV, timestamp_difference)
    operator("+", TM, IV, TM, _time_plus)
    operator("+", IV, TM, TM, lambda i, tm: _time_plus(tm, i))
    operator("-", TM, IV, TM, lambda tm, i: _time_plus(tm, -i))
    operator("-", TM, TM, IV, _time_difference)
    operator("+", IV, IV, IV, _interval_add)
    operator("-", IV, IV, IV, _interval_sub)
    operator("-", None, IV, IV, lambda i: -i)
    operator("*", IV, F8, IV, interval_multiply)
    operator("*", F8, IV, IV, lambda f, i: interval_multiply(i, f))
    operator("/", IV, F8, IV, interval_divide)


_register()
