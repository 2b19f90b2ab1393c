"""interval text and binary I/O: '1 year 2 mons 3 days 04:05:06.5', ISO 8601 'P1Y2M3DT4H5M6.5S'.

Owns interval_in (units, fractions that cascade down to smaller fields, 'ago', '@', time
fields with sign), interval_out for IntervalStyle postgres and iso_8601, interval typmod
rounding, and the binary format (int64 microseconds, int32 days, int32 months). Not interval
arithmetic (catalog.builtins).
"""

from __future__ import annotations

import re
import struct
from fractions import Fraction

from pgaurora.datatypes.values import USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, Interval
from pgaurora.errors import DatetimeFieldOverflow, InvalidBinaryRepresentation, InvalidDatetimeFormat

_UNITS: dict[str, str] = {}
for _unit, _names in {
    "microsecond": ("microsecond", "microseconds", "us", "usec", "usecs", "useconds"),
    "millisecond": ("millisecond", "milliseconds", "ms", "msec", "msecs", "mseconds"),
    "second": ("second", "seconds", "s", "sec", "secs"),
    "minute": ("minute", "minutes", "m", "min", "mins"),
    "hour": ("hour", "hours", "h", "hr", "hrs"),
    "day": ("day", "days", "d"),
    "week": ("week", "weeks", "w"),
    "month": ("month", "months", "mon", "mons"),
    "year": ("year", "years", "y", "yr", "yrs"),
    "decade": ("decade", "decades", "dec", "decs"),
    "century": ("century", "centuries", "c", "cent"),
    "millennium": ("millennium", "millennia", "mil", "mils"),
}.items():
    for _name in _names:
        _UNITS[_name] = _unit

_MICROS = {"microsecond": 1, "millisecond": 1000, "second": USECS_PER_SEC,
           "minute": USECS_PER_MINUTE, "hour": USECS_PER_HOUR}
_YEARS = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}
_TOKEN = re.compile(r"\s*(?:([+-]?\d+:\d+(?::\d+(?:\.\d*)?)?(?:\.\d*)?)|([+-]?(?:\d+\.?\d*|\.\d+))\s*([a-z]+)?|([a-z]+))",
                    re.IGNORECASE)
_ISO = re.compile(
    r"P(?:([+-]?[\d.]+)Y)?(?:([+-]?[\d.]+)M)?(?:([+-]?[\d.]+)W)?(?:([+-]?[\d.]+)D)?"
    r"(?:T(?:([+-]?[\d.]+)H)?(?:([+-]?[\d.]+)M)?(?:([+-]?[\d.]+)S)?)?\Z",
    re.IGNORECASE,
)


_YEAR_MONTH = re.compile(r"\s*([+-]?)(\d+)-(\d+)(?=\s|\Z)")


def _rint(value: Fraction) -> int:
    """C rint(): round half to even."""
    return round(value)


class _Accumulator:
    __slots__ = ("months", "days", "micros")

    def __init__(self) -> None:
        self.months = 0
        self.days = 0
        self.micros = Fraction(0)

    def add(self, value: Fraction, unit: str) -> None:
        if unit in _MICROS:
            self.micros += value * _MICROS[unit]
        elif unit == "day" or unit == "week":
            days = value * (7 if unit == "week" else 1)
            whole = int(days)
            self.days += whole
            self.micros += (days - whole) * USECS_PER_DAY
        elif unit == "month":
            whole = int(value)
            self.months += whole
            days = (value - whole) * 30
            whole_days = int(days)
            self.days += whole_days
            self.micros += (days - whole_days) * USECS_PER_DAY
        else:
            years = value * _YEARS[unit]
            whole = int(years)
            self.months += whole * 12 + _rint((years - whole) * 12)

    def result(self, negate: bool = False) -> Interval:
        micros = _rint(self.micros)
        if negate:
            return Interval(-self.months, -self.days, -micros)
        return Interval(self.months, self.days, micros)


def _time_micros(token: str) -> Fraction:
    sign = -1 if token.startswith("-") else 1
    parts = token.lstrip("+-").split(":")
    hours = Fraction(parts[0])
    minutes = Fraction(parts[1]) if len(parts) > 1 else Fraction(0)
    seconds = Fraction(parts[2]) if len(parts) > 2 else Fraction(0)
    if len(parts) == 2 and "." in parts[1]:
        hours, minutes, seconds = Fraction(0), Fraction(parts[0]), Fraction(parts[1])
    if minutes >= 60 or seconds >= 60:
        raise DatetimeFieldOverflow("")
    return sign * (hours * USECS_PER_HOUR + minutes * USECS_PER_MINUTE + seconds * USECS_PER_SEC)


_POSTGRES_OUTPUT = re.compile(
    r"(?:(-?\d{1,9}) years? ?)?(?:(-?\d{1,9}) mons? ?)?(?:([+-]?\d{1,9}) days? ?)?"
    r"(?:([+-])?(\d{1,9}):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?\Z")


def _fast_interval(text: str) -> Interval | None:
    """interval_out's own format (what clients send back) without Fractions."""
    m = _POSTGRES_OUTPUT.match(text)
    if m is None or not text:
        return None
    years, months, days, sign, hours, minutes, seconds, frac = m.groups()
    if minutes is not None and (int(minutes) > 59 or int(seconds) > 59):
        return None
    total_months = int(years or 0) * 12 + int(months or 0)
    micros = 0
    if hours is not None:
        micros = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * USECS_PER_SEC
        micros += int(frac.ljust(6, "0")) if frac else 0
        if sign == "-":
            micros = -micros
    return Interval(total_months, int(days or 0), micros)


def parse_interval(text: str) -> Interval:
    """interval_in (IntervalStyle postgres input rules, which accept every style's output)."""
    fast = _fast_interval(text)
    if fast is not None:
        return fast
    body = text.strip()
    try:
        if body[:1] in ("P", "p"):
            return _parse_iso(body, text)
        return _parse_postgres(body, text)
    except DatetimeFieldOverflow:
        raise DatetimeFieldOverflow(f'interval field value out of range: "{text}"') from None
    except (ValueError, ZeroDivisionError, KeyError):
        raise InvalidDatetimeFormat(f'invalid input syntax for type interval: "{text}"') from None


def _parse_postgres(body: str, text: str) -> Interval:
    if body.startswith("@"):
        body = body[1:]
    year_month = _YEAR_MONTH.match(body)
    if year_month is not None:  # SQL standard 'Y-M' (optionally followed by days and time)
        sign = -1 if year_month.group(1) == "-" else 1
        months = sign * (int(year_month.group(2)) * 12 + int(year_month.group(3)))
        rest = _parse_postgres(body[year_month.end():], text) if body[year_month.end():].strip() else Interval()
        return Interval(months + rest.months, rest.days, rest.microseconds)
    acc = _Accumulator()
    seen: set[str] = set()
    negate = False
    pos, n = 0, len(body)
    pending_number: str | None = None
    while pos < n:
        if body[pos:].strip() == "":
            break
        m = _TOKEN.match(body, pos)
        if m is None:
            raise ValueError(text)
        pos = m.end()
        clock, number, unit, word = m.groups()
        if negate:
            raise ValueError(text)
        if clock is not None:
            if "time" in seen:
                raise ValueError(text)
            seen.add("time")
            if pending_number is not None:  # SQL standard 'D H:M:S': a bare number before a time is days
                seen.add("day")
                acc.add(Fraction(pending_number), "day")
                pending_number = None
            acc.micros += _time_micros(clock)
        elif number is not None:
            if pending_number is not None:
                raise ValueError(text)
            if unit is None:
                pending_number = number
                continue
            name = _UNITS[unit.lower()]
            if name in seen:
                raise ValueError(text)
            seen.add(name)
            acc.add(Fraction(number), name)
        else:
            assert word is not None
            lower = word.lower()
            if lower == "ago":
                negate = True
                continue
            if pending_number is None:
                raise ValueError(text)
            name = _UNITS[lower]
            if name in seen:
                raise ValueError(text)
            seen.add(name)
            acc.add(Fraction(pending_number), name)
            pending_number = None
    if pending_number is not None:
        if "second" in seen:
            raise ValueError(text)
        acc.add(Fraction(pending_number), "second")
    if not seen and pending_number is None and not body.strip(" @"):
        raise ValueError(text)
    return acc.result(negate)


def _parse_iso(body: str, text: str) -> Interval:
    m = _ISO.match(body)
    if m is None or body.upper().endswith("T") or body.upper() == "P":
        raise ValueError(text)
    acc = _Accumulator()
    for value, unit in zip(m.groups(), ("year", "month", "week", "day", "hour", "minute", "second"), strict=True):
        if value is not None:
            acc.add(Fraction(value), unit)
    return acc.result()


def _c_div(a: int, b: int) -> tuple[int, int]:
    """C integer division (truncates toward zero) and its remainder."""
    q = abs(a) // b
    q = q if a >= 0 else -q
    return q, a - q * b


def _seconds_text(seconds: int, micros: int) -> str:
    text = f"{abs(seconds):02d}"
    if micros:
        text += "." + f"{abs(micros):06d}".rstrip("0")
    return text


def _seconds(sec: int, micro: int, fill: bool) -> str:
    """AppendSeconds(): absolute seconds, zero-filled to two digits when `fill`, trimmed fraction."""
    text = f"{abs(sec):02d}" if fill else str(abs(sec))
    if micro:
        text += "." + f"{abs(micro):06d}".rstrip("0")
    return text


def _format_sql_standard(year: int, month: int, day: int, hour: int, minute: int, sec: int, micro: int) -> str:
    parts = (year, month, day, hour, minute, sec, micro)
    negative = any(p < 0 for p in parts)
    positive = any(p > 0 for p in parts)
    year_month = year != 0 or month != 0
    day_time = any(p != 0 for p in parts[2:])
    standard = not (negative and positive) and not (year_month and day_time)
    prefix = ""
    if negative and standard:
        prefix = "-"
        year, month, day, hour, minute, sec, micro = (-p for p in parts)
    if not negative and not positive:
        return "0"
    if not standard:
        year_sign = "-" if year < 0 or month < 0 else "+"
        day_sign = "-" if day < 0 else "+"
        sec_sign = "-" if hour < 0 or minute < 0 or sec < 0 or micro < 0 else "+"
        return (f"{year_sign}{abs(year)}-{abs(month)} {day_sign}{abs(day)} {sec_sign}{abs(hour)}:{abs(minute):02d}:"
                f"{_seconds(sec, micro, True)}")
    if year_month:
        return f"{prefix}{year}-{month}"
    if day:
        return f"{prefix}{day} {hour}:{minute:02d}:{_seconds(sec, micro, True)}"
    return f"{prefix}{hour}:{minute:02d}:{_seconds(sec, micro, True)}"


def _format_verbose(year: int, month: int, day: int, hour: int, minute: int, sec: int, micro: int) -> str:
    out = ["@"]
    is_zero, is_before = True, False
    for amount, unit in ((year, "year"), (month, "mon"), (day, "day"), (hour, "hour"), (minute, "min")):
        if amount == 0:
            continue
        if is_zero:
            is_before = amount < 0
            amount = abs(amount)
        elif is_before:
            amount = -amount
        out.append(f" {amount} {unit}{'' if amount == 1 else 's'}")
        is_zero = False
    if sec or micro:
        out.append(" ")
        if sec < 0 or (sec == 0 and micro < 0):
            if is_zero:
                is_before = True
            elif not is_before:
                out.append("-")
        elif is_before:
            out.append("-")
        out.append(_seconds(sec, micro, False))
        out.append(f" sec{'s' if abs(sec) != 1 or micro else ''}")
        is_zero = False
    if is_zero:
        out.append(" 0")
    if is_before:
        out.append(" ago")
    return "".join(out)


def format_interval(value: Interval, style: str = "postgres") -> str:
    """interval_out for IntervalStyle postgres (default), iso_8601, sql_standard, postgres_verbose."""
    if style == "iso_8601":
        return _format_iso(value)
    if style in ("sql_standard", "postgres_verbose"):
        year, month = _c_div(value.months, 12)
        hour, rest = _c_div(value.microseconds, USECS_PER_HOUR)
        minute, rest = _c_div(rest, USECS_PER_MINUTE)
        sec, micro = _c_div(rest, USECS_PER_SEC)
        if style == "sql_standard":
            return _format_sql_standard(year, month, value.days, hour, minute, sec, micro)
        return _format_verbose(year, month, value.days, hour, minute, sec, micro)
    year, month = _c_div(value.months, 12)
    day = value.days
    hour, rest = _c_div(value.microseconds, USECS_PER_HOUR)
    minute, rest = _c_div(rest, USECS_PER_MINUTE)
    sec, micro = _c_div(rest, USECS_PER_SEC)
    parts: list[str] = []
    is_before = False
    for amount, unit in ((year, "year"), (month, "mon"), (day, "day")):
        if amount == 0:
            continue
        plus = "+" if is_before and amount > 0 else ""
        parts.append(f"{plus}{amount} {unit}{'s' if amount != 1 else ''}")
        is_before = amount < 0
    if not parts or hour or minute or sec or micro:
        minus = hour < 0 or minute < 0 or sec < 0 or micro < 0
        sign = "-" if minus else ("+" if is_before else "")
        parts.append(f"{sign}{abs(hour):02d}:{abs(minute):02d}:{_seconds_text(sec, micro)}")
    return " ".join(parts)


def _format_iso(value: Interval) -> str:
    year, month = _c_div(value.months, 12)
    hour, rest = _c_div(value.microseconds, USECS_PER_HOUR)
    minute, rest = _c_div(rest, USECS_PER_MINUTE)
    sec, micro = _c_div(rest, USECS_PER_SEC)
    if not (year or month or value.days or hour or minute or sec or micro):
        return "PT0S"
    out = "P"
    for amount, letter in ((year, "Y"), (month, "M"), (value.days, "D")):
        if amount:
            out += f"{amount}{letter}"
    if hour or minute or sec or micro:
        out += "T"
        for amount, letter in ((hour, "H"), (minute, "M")):
            if amount:
                out += f"{amount}{letter}"
        if sec or micro:
            sign = "-" if sec < 0 or micro < 0 else ""
            frac = ("." + f"{abs(micro):06d}".rstrip("0")) if micro else ""
            out += f"{sign}{abs(sec)}{frac}S"
    return out


_MONTH_BIT, _YEAR_BIT, _DAY_BIT, _HOUR_BIT, _MINUTE_BIT = 1 << 1, 1 << 2, 1 << 3, 1 << 10, 1 << 11


def _truncate(value: int, unit: int) -> int:
    """C integer division then multiplication: truncation toward zero to a multiple of unit."""
    truncated = abs(value) // unit * unit
    return truncated if value >= 0 else -truncated


def interval_apply_typmod(value: Interval, typmod: int) -> Interval:
    """AdjustIntervalForTypmod(): drop fields below the declared range (INTERVAL HOUR, YEAR TO
    MONTH...), then round the seconds to the precision (half away from zero)."""
    if typmod < 0:
        return value
    fields = (typmod >> 16) & 0x7FFF
    precision = typmod & 0xFFFF
    months, days, micros = value.months, value.days, value.microseconds
    if fields != 0x7FFF:
        if fields == _YEAR_BIT:
            months, days, micros = _truncate(months, 12), 0, 0
        elif fields in (_MONTH_BIT, _YEAR_BIT | _MONTH_BIT):
            days, micros = 0, 0
        elif fields == _DAY_BIT:
            micros = 0
        elif fields in (_HOUR_BIT, _DAY_BIT | _HOUR_BIT):
            micros = _truncate(micros, USECS_PER_HOUR)
        elif fields in (_MINUTE_BIT, _HOUR_BIT | _MINUTE_BIT, _DAY_BIT | _HOUR_BIT | _MINUTE_BIT):
            micros = _truncate(micros, USECS_PER_MINUTE)
    if precision < 6:
        scale = 10 ** (6 - precision)
        rounded = ((abs(micros) + scale // 2) // scale) * scale
        micros = rounded if micros >= 0 else -rounded
    return Interval(months, days, micros)


_BINARY = struct.Struct(">qii")


def interval_send(value: Interval) -> bytes:
    return _BINARY.pack(value.microseconds, value.days, value.months)


def interval_recv(data: bytes) -> Interval:
    if len(data) != 16:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    micros, days, months = _BINARY.unpack(data)
    return Interval(months, days, micros)
