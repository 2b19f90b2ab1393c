"""to_char for dates, times and intervals, to_date and to_timestamp(text, text); registers to_char/to_number.

Owns the template keywords (YYYY MM DD HH24 MI SS MS US Mon Month Day Dy DDD IW J Q RM TZ
OF..., FM/TH modifiers, "quoted text") both for output and for reading dates back:

    to_char(timestamp '2024-03-05 14:07', 'FMDay, FMDDth FMMonth YYYY') -> 'Tuesday, 5th March 2024'
Numeric templates live in number_format. Not date/time parsing of literals (datatypes).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from pgaurora.catalog.builtins import number_format
from pgaurora.catalog.builtins.output import context_of
from pgaurora.catalog.builtins.registry import function
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.datetimes import format_offset, is_infinite
from pgaurora.datatypes.values import USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, Interval
from pgaurora.errors import DatetimeFieldOverflow, InvalidDatetimeFormat

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

# Keywords, longest first so that 'HH24' wins over 'HH' and 'MONTH' over 'MON'.
_KEYWORDS = sorted([
    "A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "CC", "DAY", "DDD", "DD", "DY", "Day", "Dy", "D", "FF1", "FF2", "FF3",
    "FF4", "FF5", "FF6", "HH24", "HH12", "HH", "IDDD", "ID", "IW", "IYYY", "IYY", "IY", "I", "J", "MI", "MM", "MONTH",
    "MON", "MS", "Month", "Mon", "OF", "P.M.", "PM", "Q", "RM", "SSSSS", "SSSS", "SS", "TZH", "TZM", "TZ", "US", "WW",
    "W", "Y,YYY", "YYYY", "YYY", "YY", "Y", "a.d.", "a.m.", "ad", "am", "b.c.", "bc", "cc", "day", "ddd", "dd", "dy",
    "d", "ff1", "ff2", "ff3", "ff4", "ff5", "ff6", "hh24", "hh12", "hh", "iddd", "id", "iw", "iyyy", "iyy", "iy", "i",
    "j", "mi", "mm", "month", "mon", "ms", "of", "p.m.", "pm", "q", "rm", "sssss", "ssss", "ss", "tz", "us", "ww", "w",
    "y,yyy", "yyyy", "yyy", "yy", "y",
], key=len, reverse=True)


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _tokenize(template: str) -> list[tuple[str, str, bool, str]]:
    """[(kind 'kw'|'lit', text, fill_mode, suffix 'TH'|'th'|'')]."""
    out: list[tuple[str, str, bool, str]] = []
    i, n = 0, len(template)
    while i < n:
        if template[i] == '"':
            end = i + 1
            buf = []
            while end < n and template[end] != '"':
                if template[end] == "\\" and end + 1 < n:
                    end += 1
                buf.append(template[end])
                end += 1
            out.append(("lit", "".join(buf), False, ""))
            i = end + 1
            continue
        fill = False
        j = i
        while template.startswith(("FM", "fm", "TM", "tm", "FX", "fx"), j):
            if template[j] in "Ff" and template[j + 1] in "Mm":
                fill = True
            j += 2
        for kw in _KEYWORDS:
            if template.startswith(kw, j):
                k = j + len(kw)
                suffix = ""
                if template.startswith(("TH", "th"), k):
                    suffix = template[k:k + 2]
                    k += 2
                out.append(("kw", kw, fill, suffix))
                i = k
                break
        else:
            if j > i:
                i = j
                continue
            out.append(("lit", template[i], False, ""))
            i += 1
    return out


def _case(word: str, pattern: str) -> str:
    if pattern.isupper():
        return word.upper()
    if pattern[0].isupper():
        return word.capitalize()
    return word.lower()


def format_datetime(value: datetime.datetime, template: str, zone_name: str = "", offset: int | None = None,
                    is_interval: bool = False, interval_fields: tuple[int, int, int] | None = None) -> str:
    """to_char for a broken-down date/time (`offset` seconds east when the value has a zone)."""
    out: list[str] = []
    year, month, day = value.year, value.month, value.day
    if interval_fields is not None:
        year, month, day = interval_fields
    hour, minute, second, micro = value.hour, value.minute, value.second, value.microsecond
    iso = value.isocalendar() if not is_interval else (0, 0, 0)
    for kind, text, fill, suffix in _tokenize(template):
        if kind == "lit":
            out.append(text)
            continue
        upper = text.upper()
        number: int | None = None
        width = 0
        word: str | None = None
        if upper in ("HH", "HH12"):
            number, width = (hour % 12) or 12, 2
        elif upper == "HH24":
            number, width = hour, 2
        elif upper == "MI":
            number, width = minute, 2
        elif upper == "SS":
            number, width = second, 2
        elif upper == "MS":
            number, width = micro // 1000, 3
        elif upper == "US":
            number, width = micro, 6
        elif upper.startswith("FF"):
            digits = int(upper[2])
            number, width = micro // 10 ** (6 - digits), digits
        elif upper in ("SSSS", "SSSSS"):
            number = hour * 3600 + minute * 60 + second
        elif upper in ("AM", "PM"):
            word = _case("PM" if hour >= 12 else "AM", text)
        elif upper in ("A.M.", "P.M."):
            word = _case("P.M." if hour >= 12 else "A.M.", text)
        elif upper in ("AD", "BC"):
            word = _case("AD", text)
        elif upper in ("A.D.", "B.C."):
            word = _case("A.D.", text)
        elif upper == "YYYY":
            number, width = year, 4
        elif upper == "Y,YYY":
            word = f"{year // 1000},{year % 1000:03d}"
        elif upper == "YYY":
            number, width = year % 1000, 3
        elif upper == "YY":
            number, width = year % 100, 2
        elif upper == "Y":
            number, width = year % 10, 1
        elif upper == "IYYY":
            number, width = iso[0], 4
        elif upper == "IYY":
            number, width = iso[0] % 1000, 3
        elif upper == "IY":
            number, width = iso[0] % 100, 2
        elif upper == "I":
            number, width = iso[0] % 10, 1
        elif upper == "MM":
            number, width = month, 2
        elif upper in ("MONTH", "MON"):
            name = _MONTHS[month - 1] if 1 <= month <= 12 else ""
            word = _case(name if upper == "MONTH" else name[:3], text)
            if upper == "MONTH" and not fill:
                word = word.ljust(9)
        elif upper in ("DAY", "DY"):
            name = _DAYS[value.isoweekday() % 7]
            word = _case(name if upper == "DAY" else name[:3], text)
            if upper == "DAY" and not fill:
                word = word.ljust(9)
        elif upper == "DDD":
            number, width = value.timetuple().tm_yday, 3
        elif upper == "IDDD":
            number, width = (iso[1] - 1) * 7 + iso[2], 3
        elif upper == "DD":
            number, width = day, 2
        elif upper == "D":
            number = value.isoweekday() % 7 + 1
        elif upper == "ID":
            number = iso[2]
        elif upper == "W":
            number = (day - 1) // 7 + 1
        elif upper == "WW":
            number, width = (value.timetuple().tm_yday - 1) // 7 + 1, 2
        elif upper == "IW":
            number, width = iso[1], 2
        elif upper == "CC":
            number, width = (year + 99) // 100 if year > 0 else year // 100, 2
        elif upper == "J":
            number = value.toordinal() + 1721425
        elif upper == "Q":
            number = (month - 1) // 3 + 1
        elif upper == "RM":
            roman = _ROMAN_MONTHS[month - 1] if 1 <= month <= 12 else ""
            word = roman if text[0] == "R" else roman.lower()
            if not fill:
                word = word.ljust(4)
        elif upper == "TZ":
            word = _case(zone_name, text)
        elif upper == "OF":
            word = format_offset(offset or 0)
        elif upper == "TZH":
            off = offset or 0
            word = ("-" if off < 0 else "+") + f"{abs(off) // 3600:02d}"
        elif upper == "TZM":
            number, width = abs(offset or 0) % 3600 // 60, 2
        if word is not None:
            out.append(word)
            continue
        assert number is not None
        rendered = str(number) if fill or not width else (f"{number:0{width}d}" if number >= 0 else
                                                          "-" + f"{-number:0{width}d}")
        if suffix:
            ending = _ordinal(abs(number))
            rendered += ending.upper() if suffix == "TH" else ending
        out.append(rendered)
    return "".join(out)


def to_char_timestamp(value: datetime.datetime, template: str) -> str | None:
    if is_infinite(value):
        return None
    return format_datetime(value, template, "", 0)


def _to_char_timestamptz(ctx: Any, value: datetime.datetime, template: str) -> str | None:
    if is_infinite(value):
        return None
    fmt = context_of(ctx)
    local = value.astimezone(fmt.tzinfo)
    offset = int((local.utcoffset() or datetime.timedelta(0)).total_seconds())
    zone_name = local.tzname() or ""
    if zone_name.startswith(("+", "-")):
        zone_name = format_offset(offset)
    return format_datetime(local.replace(tzinfo=None), template, zone_name, offset)


def _to_char_interval(value: Interval, template: str) -> str:
    micros = value.microseconds
    hours, rest = divmod(abs(micros), USECS_PER_HOUR)
    minutes, rest = divmod(rest, USECS_PER_MINUTE)
    seconds, micro = divmod(rest, USECS_PER_SEC)
    year, month = divmod(value.months, 12)
    base = datetime.datetime(2000, 1, 1, 0, minutes, seconds, micro)
    shim = _IntervalClock(base, hours)
    return format_datetime(shim, template, is_interval=True, interval_fields=(year, month, value.days))  # type: ignore[arg-type]


class _IntervalClock:
    """A datetime stand-in whose hour can exceed 23 (interval hours are not wrapped)."""

    def __init__(self, base: datetime.datetime, hours: int) -> None:
        self._base = base
        self.hour = hours
        self.minute, self.second, self.microsecond = base.minute, base.second, base.microsecond
        self.year, self.month, self.day = base.year, base.month, base.day

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


# --- parsing (to_date / to_timestamp / to_number) -------------------------------------------------

def parse_datetime(text: str, template: str, what: str) -> tuple[datetime.datetime, int | None]:
    """Read fields named by the template; returns (naive datetime, explicit offset seconds or None)."""
    fields: dict[str, Any] = {}
    pos = 0
    n = len(text)
    tokens = _tokenize(template)
    for index, (kind, token, _fill, _suffix) in enumerate(tokens):
        followed_by_field = index + 1 < len(tokens) and tokens[index + 1][0] == "kw"
        if kind == "lit":
            if pos < n and (text[pos] == token or not text[pos].isalnum()):
                pos += 1
            continue
        while pos < n and text[pos] == " ":
            pos += 1
        upper = token.upper()
        if upper in ("MONTH", "MON", "DAY", "DY"):
            m = re.match(r"[A-Za-z]+", text[pos:])
            if m is None:
                raise InvalidDatetimeFormat(f'invalid value "{text[pos:pos + 3]}" for "{token}"')
            word = m.group(0).lower()
            pos += len(word)
            if upper in ("MONTH", "MON"):
                matches = [i for i, name in enumerate(_MONTHS, 1) if name.lower().startswith(word[:3])]
                if not matches:
                    raise InvalidDatetimeFormat(f'invalid value "{m.group(0)}" for "{token}"',
                                                detail="The given value did not match any of the allowed values for this field.")
                fields["month"] = matches[0]
            continue
        if upper in ("AM", "PM", "A.M.", "P.M."):
            m = re.match(r"[AaPp]\.?[Mm]\.?", text[pos:])
            if m is None:
                raise InvalidDatetimeFormat(f'invalid value "{text[pos:pos + 2]}" for "{token}"')
            fields["pm"] = m.group(0)[0] in "Pp"
            pos += len(m.group(0))
            continue
        if upper in ("TZH", "OF"):
            m = re.match(r"[+-]?\d{1,2}" if upper == "TZH" else r"[+-]?\d{1,2}(?::?\d{2})?", text[pos:])
            if m is None:
                raise InvalidDatetimeFormat(f'invalid value "{text[pos:pos + 3]}" for "{token}"')
            raw = m.group(0)
            sign = -1 if raw.startswith("-") else 1
            digits = raw.lstrip("+-").replace(":", "")
            hours = int(digits[:2] if len(digits) > 2 else digits)
            minutes = int(digits[2:]) if len(digits) > 2 else 0
            fields["offset"] = sign * (hours * 3600 + minutes * 60)
            pos += len(raw)
            continue
        widths = {"YYYY": 4, "Y,YYY": 5, "YYY": 3, "YY": 2, "Y": 1, "MM": 2, "DD": 2, "DDD": 3, "HH": 2, "HH12": 2,
                  "HH24": 2, "MI": 2, "SS": 2, "MS": 3, "US": 6, "J": 7, "TZM": 2, "SSSS": 5, "SSSSS": 5,
                  "IYYY": 4, "IW": 2, "D": 1, "ID": 1, "CC": 2, "Q": 1, "W": 1, "WW": 2}
        width = widths.get(upper, 6 if upper.startswith("FF") else 2)
        longest = 6 if upper == "YYYY" and not followed_by_field else width
        m = re.match(rf"\d{{1,{longest}}}", text[pos:].replace(",", "") if upper == "Y,YYY" else text[pos:])
        if m is None:
            shown = text[pos:].split(" ")[0] if pos < n else ""
            raise InvalidDatetimeFormat(f'invalid value "{shown}" for "{token}"',
                                        detail="Value must be an integer." if shown else
                                        "Field requires 2 characters, but only 0 remain.")
        digits = m.group(0)
        pos += len(digits) + (1 if upper == "Y,YYY" else 0)
        value = int(digits)
        if upper in ("YYYY", "Y,YYY", "IYYY"):
            fields["year"] = value
        elif upper == "YYY":
            fields["year"] = value + (2000 if value < 100 else 1000)
        elif upper == "YY":
            fields["year"] = value + (2000 if value < 70 else 1900)
        elif upper == "Y":
            fields["year"] = 2000 + value
        elif upper == "MM":
            fields["month"] = value
        elif upper == "DD":
            fields["day"] = value
        elif upper == "DDD":
            fields["doy"] = value
        elif upper in ("HH", "HH12", "HH24"):
            fields["hour"] = value
            fields["h12"] = upper != "HH24"
        elif upper == "MI":
            fields["minute"] = value
        elif upper == "SS":
            fields["second"] = value
        elif upper == "MS":
            fields["micro"] = int(digits.ljust(3, "0")) * 1000
        elif upper == "US" or upper.startswith("FF"):
            fields["micro"] = int(digits.ljust(6, "0"))
        elif upper == "J":
            fields["julian"] = value
        elif upper == "TZM":
            fields["offset"] = fields.get("offset", 0) + (value * 60 if fields.get("offset", 0) >= 0 else -value * 60)
        elif upper in ("SSSS", "SSSSS"):
            fields["hour"], rest = divmod(value, 3600)
            fields["minute"], fields["second"] = divmod(rest, 60)
    hour = fields.get("hour", 0)
    if fields.get("h12"):
        if not 1 <= hour <= 12:
            raise DatetimeFieldOverflow(f'hour "{hour}" is invalid for the 12-hour clock',
                                        hint="Use the 24-hour clock, or give an hour between 1 and 12.")
        if fields.get("pm") and hour != 12:
            hour += 12
        elif not fields.get("pm") and hour == 12:
            hour = 0
    try:
        if "julian" in fields:
            base = datetime.date.fromordinal(fields["julian"] - 1721425)
        elif "doy" in fields:
            base = datetime.date(fields.get("year", 1), 1, 1) + datetime.timedelta(days=fields["doy"] - 1)
        else:
            base = datetime.date(fields.get("year", 1), fields.get("month", 1), fields.get("day", 1))
        result = datetime.datetime.combine(base, datetime.time(hour, fields.get("minute", 0), fields.get("second", 0),
                                                               fields.get("micro", 0)))
    except ValueError:
        raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"') from None
    return result, fields.get("offset")


def _to_timestamp(ctx: Any, text: str, template: str) -> datetime.datetime:
    value, offset = parse_datetime(text, template, "timestamp")
    if offset is not None:
        return (value - datetime.timedelta(seconds=offset)).replace(tzinfo=datetime.UTC)
    return value.replace(tzinfo=context_of(ctx).tzinfo).astimezone(datetime.UTC)


def _register() -> None:
    T = t.TEXT_OID
    function("to_char", (t.TIMESTAMP_OID, T), T, to_char_timestamp)
    function("to_char", (t.TIMESTAMPTZ_OID, T), T, _to_char_timestamptz, needs_context=True, volatility="s")
    function("to_char", (t.INTERVAL_OID, T), T, _to_char_interval)
    function("to_char", (t.NUMERIC_OID, T), T, number_format.format_number)
    function("to_char", (t.INT4_OID, T), T, lambda v, f: number_format.format_number(Decimal(v), f))
    function("to_char", (t.INT8_OID, T), T, lambda v, f: number_format.format_number(Decimal(v), f))
    function("to_char", (t.FLOAT8_OID, T), T, lambda v, f: number_format.format_number(Decimal(repr(v)), f))
    function("to_char", (t.FLOAT4_OID, T), T, lambda v, f: number_format.format_number(Decimal(repr(v)), f))
    function("to_date", (T, T), t.DATE_OID, lambda s, f: parse_datetime(s, f, "date")[0].date())
    function("to_timestamp", (T, T), t.TIMESTAMPTZ_OID, _to_timestamp, needs_context=True, volatility="s")
    function("to_number", (T, T), t.NUMERIC_OID, number_format.to_number)


_register()
