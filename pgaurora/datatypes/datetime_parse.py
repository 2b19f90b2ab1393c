"""Date/time text input: PostgreSQL's ParseDateTime + DecodeDateTime, for date, time, timestamp(tz).

Owns the accepted spellings and the error texts:

    '2024-01-02 03:04:05.5+02'   ISO (also 'T' separator, 'Z', '20240102T030405')
    'Jan 2, 2024 3:00 pm'        month names, AM/PM, weekday names ignored
    '01/02/2024'                 month/day order from DateStyle (MDY default, DMY)
    '2024-01-02 03:04 America/New_York', '... EST', '... +05:30'
    'epoch' 'infinity' '-infinity' 'now' 'today' 'tomorrow' 'yesterday' 'allballs'

Years are limited to 1..9999 and BC is rejected (Python's datetime range): a documented
limitation. 'infinity'/'-infinity' map to the sentinels in datetimes. Not output
(datetime_format).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from pgaurora.datatypes.values import FormatContext, zone
from pgaurora.errors import DatetimeFieldOverflow, InvalidDatetimeFormat, InvalidTimeZoneDisplacementValue

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
WEEKDAYS = frozenset({
    "sun", "sunday", "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thur",
    "thurs", "thursday", "fri", "friday", "sat", "saturday",
})
# A few of PostgreSQL's default timezone abbreviations (offset in seconds east of UTC).
ZONE_ABBREVIATIONS = {
    "utc": 0, "gmt": 0, "z": 0, "zulu": 0, "ut": 0,
    "est": -5 * 3600, "edt": -4 * 3600, "cst": -6 * 3600, "cdt": -5 * 3600,
    "mst": -7 * 3600, "mdt": -6 * 3600, "pst": -8 * 3600, "pdt": -7 * 3600,
    "cet": 3600, "cest": 7200, "eet": 7200, "eest": 10800, "wet": 0, "west": 3600,
    "bst": 3600, "jst": 9 * 3600, "ist": 7200, "msk": 3 * 3600, "hst": -10 * 3600,
    "akst": -9 * 3600, "akdt": -8 * 3600, "aest": 10 * 3600, "aedt": 11 * 3600,
}
SPECIALS = frozenset({"epoch", "infinity", "-infinity", "now", "today", "tomorrow",
                      "yesterday", "allballs"})

TYPE_NAMES = {
    "date": "date", "time": "time", "timetz": "time with time zone",
    "timestamp": "timestamp", "timestamptz": "timestamp with time zone",
}

_TOKEN = re.compile(
    r"""
    (?P<time>\d+:\d+(?::\d+(?:\.\d*)?)?(?:\.\d*)?)        # 03:04[:05[.123]]
  | (?P<date>\d+(?P<sep>[-/.])(?:\d+|[a-z]+)(?P=sep)\d+)  # 2024-01-02, 1/2/70, 2024-jan-02
  | (?P<dateword>\d+-[a-z]+-\d+|[a-z]+-\d+-\d+)           # 02-jan-2024, jan-02-2024
  | (?P<number>\d+(?:\.\d*)?|\.\d+)                       # 2024, 20240102, 5.5
  | (?P<offset>[+-]\d+(?::\d+(?::\d+)?)?)                 # +05, -08:00, +0530
  | (?P<word>[a-z][a-z_/+\-0-9]*[a-z_]|[a-z]+)            # jan, pm, america/new_york, utc
  | (?P<space>[\s,]+)
    """,
    re.VERBOSE | re.IGNORECASE,
)


class _BadFormat(Exception):
    pass


class _FieldOverflow(Exception):
    def __init__(self, hint: str | None = None) -> None:
        self.hint = hint


@dataclass(slots=True)
class Fields:
    """What the text said: date parts, time parts, zone (seconds east, or a tzinfo)."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int = 0
    minute: int = 0
    second: int = 0
    microsecond: int = 0
    has_time: bool = False
    offset: int | None = None
    tzinfo: datetime.tzinfo | None = None
    special: str | None = None
    pm: bool | None = None
    bc: bool = False
    julian_pending: bool = False


def _fraction_to_micros(frac: str) -> int:
    """'.1234567' -> 123457 (rounded half up as PostgreSQL's rint does for these)."""
    digits = frac.lstrip(".")
    if not digits:
        return 0
    if len(digits) <= 6:
        return int(digits.ljust(6, "0"))
    # PostgreSQL: fsec = rint(strtod(fraction) * 1e6), in double precision
    return round(float("0." + digits) * 1_000_000)


def _set_time(f: Fields, token: str) -> None:
    parts = token.split(":")
    f.hour = int(parts[0])
    f.minute = int(parts[1].split(".")[0]) if len(parts) > 1 else 0
    if len(parts) == 2 and "." in parts[1]:
        # '03:04.5' is minutes:seconds.fraction in PostgreSQL
        minute, _, frac = parts[1].partition(".")
        f.hour, f.minute, f.second = 0, int(parts[0]), int(minute)
        f.microsecond = _fraction_to_micros(frac)
    elif len(parts) == 3:
        sec, _, frac = parts[2].partition(".")
        f.second = int(sec)
        f.microsecond = _fraction_to_micros(frac)
    f.has_time = True


def _set_date_parts(f: Fields, parts: list[str], ctx: FormatContext) -> None:
    """Assign y/m/d from a three-part date given the field widths and DateStyle."""
    words = [p.lower() for p in parts]
    month_word = next((i for i, w in enumerate(words) if w.isalpha()), None)
    if month_word is not None:
        if words[month_word] not in MONTHS:
            raise _BadFormat
        f.month = MONTHS[words[month_word]]
        rest = [int(p) for i, p in enumerate(parts) if i != month_word]
        if len(parts[0]) > 2 and month_word != 0:
            f.year, f.day = rest[0], rest[1]
        else:
            f.day, f.year = rest[0], rest[1]
            if len([p for i, p in enumerate(parts) if i != month_word][1]) <= 2:
                f.year = _two_digit_year(f.year)
        return
    a, b, c = parts
    if len(a) > 2:
        f.year, f.month, f.day = int(a), int(b), int(c)
        return
    if ctx.day_first:
        f.day, f.month = int(a), int(b)
    else:
        f.month, f.day = int(a), int(b)
    f.year = int(c) if len(c) > 2 else _two_digit_year(int(c))
    if f.month > 12:
        raise _FieldOverflow('Perhaps you need a different "datestyle" setting.')


def _two_digit_year(year: int) -> int:
    return year + (1900 if year >= 70 else 2000) if year < 100 else year


def _set_number(f: Fields, token: str, ctx: FormatContext, kind: str = "timestamp") -> None:
    if f.julian_pending:
        if not token.isdigit():
            raise _BadFormat
        day = datetime.date.fromordinal(max(int(token) - 1721425, 1))
        f.year, f.month, f.day = day.year, day.month, day.day
        f.julian_pending = False
        return
    if "." in token and f.has_time is False and f.year is not None and len(token.split(".")[0]) == 6:
        token, _, frac = token.partition(".")
        f.microsecond = _fraction_to_micros(frac)
    if "." in token and f.year is None and kind not in ("time", "timetz"):
        whole, _, fraction = token.partition(".")
        if len(whole) >= 4 and fraction.isdigit() and len(fraction) == 3:  # 'YYYY.DDD': year and day of year
            day = datetime.date(int(whole), 1, 1) + datetime.timedelta(days=int(fraction) - 1)
            f.year, f.month, f.day = day.year, day.month, day.day
            return
    if len(token) == 8 and f.year is None and token.isdigit():
        f.year, f.month, f.day = int(token[:4]), int(token[4:6]), int(token[6:])
        return
    if len(token) == 6 and token.isdigit() and (f.year is not None or f.month is None) and not f.has_time:
        if f.year is None and kind not in ("time", "timetz"):  # YYMMDD when no date was given yet
            f.year, f.month, f.day = _two_digit_year(int(token[:2])), int(token[2:4]), int(token[4:])
            return
        f.hour, f.minute, f.second = int(token[:2]), int(token[2:4]), int(token[4:])
        f.has_time = True
        return
    if not token.isdigit():
        raise _BadFormat
    value = int(token)
    if f.year is not None and f.month is None and f.day is None and len(token) <= 2:
        f.month = value  # 'YYYY MM DD'
    elif f.month is not None and f.day is None and len(token) <= 2:
        f.day = value
    elif f.month is not None and f.year is None:
        f.year = value if len(token) > 2 else _two_digit_year(value)
    elif f.month is None and f.day is None and len(token) <= 2:
        f.day = value
    elif f.year is None and len(token) >= 3:
        f.year = value
    else:
        raise _BadFormat


def _parse_offset(token: str) -> int:
    sign = -1 if token[0] == "-" else 1
    body = token[1:]
    if ":" in body:
        pieces = [int(p) for p in body.split(":")]
        hours, minutes, seconds = (pieces + [0, 0])[:3]
    elif len(body) <= 2:
        hours, minutes, seconds = int(body), 0, 0
    elif len(body) <= 4:
        hours, minutes, seconds = int(body[:-2]), int(body[-2:]), 0
    else:
        hours, minutes, seconds = int(body[:-4]), int(body[-4:-2]), int(body[-2:])
    if hours > 15 or minutes > 59 or seconds > 59:
        raise InvalidTimeZoneDisplacementValue("time zone displacement out of range")
    return sign * (hours * 3600 + minutes * 60 + seconds)


def _set_word(f: Fields, word: str) -> None:
    lower = word.lower()
    if lower in MONTHS:
        f.month = MONTHS[lower]
    elif lower in WEEKDAYS or lower in ("t", "on", "at"):
        return
    elif lower == "j":
        f.julian_pending = True
    elif lower in ("am", "a.m."):
        f.pm = False
    elif lower in ("pm", "p.m."):
        f.pm = True
    elif lower == "ad":
        f.bc = False
    elif lower == "bc":
        f.bc = True
    elif lower == "allballs" and (f.year is not None or f.month is not None):
        f.hour = f.minute = f.second = f.microsecond = 0
        f.has_time = True
        f.offset = 0
    elif lower in SPECIALS:
        f.special = lower
    elif lower in ZONE_ABBREVIATIONS:
        f.offset = ZONE_ABBREVIATIONS[lower]
    else:
        try:
            f.tzinfo = zone(word)
        except KeyError:
            raise _BadFormat from None


def _tokenize(text: str, ctx: FormatContext, target: str = "timestamp") -> Fields:
    f = Fields()
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _BadFormat
        pos = m.end()
        kind = m.lastgroup or ""
        token = m.group(kind)
        if kind in ("sep",):
            kind = "date"
            token = m.group("date")
        if kind == "space":
            continue
        if kind == "time":
            if f.has_time:
                raise _BadFormat
            _set_time(f, token)
        elif kind == "date":
            if f.year is not None:
                raise _BadFormat
            _set_date_parts(f, re.split(r"[-/.]", token), ctx)
        elif kind == "dateword":
            _set_date_parts(f, token.split("-"), ctx)
        elif kind == "number":
            _set_number(f, token, ctx, target)
        elif kind == "offset":
            if f.year is None and f.month is None and not f.has_time and token[0] == "-":
                raise _BadFormat
            f.offset = _parse_offset(token)
        elif kind == "word":
            if token.lower() == "t" or (token[0] in "tT" and token[1:].isdigit()):
                if len(token) > 1:
                    _set_number(f, token[1:], ctx, target)
                continue
            _set_word(f, token)
    return f


def parse_fields(text: str, kind: str, ctx: FormatContext) -> Fields:
    """Tokenize and check ranges; errors carry PostgreSQL's texts for the target `kind`."""
    stripped = text.strip()
    lower = stripped.lower()
    if lower in SPECIALS:
        return Fields(special=lower)
    try:
        f = _tokenize(stripped, ctx, kind)
    except _BadFormat:
        raise InvalidDatetimeFormat(f'invalid input syntax for type {TYPE_NAMES[kind]}: "{text}"') from None
    except _FieldOverflow as exc:
        raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"', hint=exc.hint) from None
    except InvalidTimeZoneDisplacementValue:
        raise InvalidTimeZoneDisplacementValue(f'time zone displacement out of range: "{text}"') from None
    if f.special:
        return f
    if f.pm is not None:
        if f.hour > 12:
            raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"')
        if f.pm and f.hour != 12:
            f.hour += 12
        elif not f.pm and f.hour == 12:
            f.hour = 0
    if kind in ("date", "timestamp", "timestamptz"):
        if f.year is None or f.month is None or f.day is None:
            raise InvalidDatetimeFormat(f'invalid input syntax for type {TYPE_NAMES[kind]}: "{text}"')
        if f.bc:
            raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"',
                                        detail="pgaurora does not support BC dates.")
    elif not f.has_time:
        raise InvalidDatetimeFormat(f'invalid input syntax for type {TYPE_NAMES[kind]}: "{text}"')
    if not (0 <= f.minute <= 59 and 0 <= f.second <= 60 and 0 <= f.hour <= 24) or (
        f.hour == 24 and (f.minute or f.second or f.microsecond)
    ):
        raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"')
    if f.month is not None and f.day is not None and f.year is not None:
        if not 1 <= f.month <= 12:
            raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"')
        if not 1 <= f.year <= 9999:
            raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"',
                                        detail="pgaurora supports years 1 to 9999.")
        try:
            datetime.date(f.year, f.month, f.day)
        except ValueError:
            raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"') from None
    return f
