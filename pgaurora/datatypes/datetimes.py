"""date, time, timetz, timestamp, timestamptz: values from parsed text, ISO output, binary format.

Owns building Python values from datetime_parse.Fields (zone resolution, 24:00:00 and leap
second roll-over, typmod rounding), the DateStyle ISO output ('2024-01-02 03:04:05.5+00') and
the binary formats (int32 days / int64 microseconds since 2000-01-01; timestamptz in UTC;
timetz with its zone offset in seconds *west* of UTC). 'infinity' and '-infinity' are sentinel
instances (DATE_INFINITY, TIMESTAMP_INFINITY, ...; test with is_infinite()) holding 9999-12-31 /
0001-01-01 but equal only to themselves.
"""

from __future__ import annotations

import datetime
import re
import struct
from collections.abc import Callable

from pgaurora.datatypes.datetime_parse import Fields, parse_fields
from pgaurora.datatypes.values import (
    POSTGRES_EPOCH,
    POSTGRES_EPOCH_ORDINAL,
    POSTGRES_EPOCH_UTC,
    USECS_PER_DAY,
    USECS_PER_HOUR,
    USECS_PER_MINUTE,
    USECS_PER_SEC,
    FormatContext,
)
from pgaurora.errors import DatetimeFieldOverflow, InvalidBinaryRepresentation

UTC = datetime.UTC


class _Infinite:
    """Mixin for the infinity sentinels: equal only to a sentinel of the same class, so that a
    real 9999-12-31 or 0001-01-01 is never mistaken for 'infinity' / '-infinity'. They order
    like the extreme representable value (ties with it are the one imprecision)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __ne__(self, other: object) -> bool:
        return type(other) is not type(self)

    def __hash__(self) -> int:
        return hash(type(self).__name__)


class _DateInfinity(_Infinite, datetime.date):
    __slots__ = ()


class _DateNegativeInfinity(_Infinite, datetime.date):
    __slots__ = ()


class _TimestampInfinity(_Infinite, datetime.datetime):
    __slots__ = ()


class _TimestampNegativeInfinity(_Infinite, datetime.datetime):
    __slots__ = ()


DATE_INFINITY: datetime.date = _DateInfinity(9999, 12, 31)
DATE_NINFINITY: datetime.date = _DateNegativeInfinity(1, 1, 1)
TIMESTAMP_INFINITY: datetime.datetime = _TimestampInfinity(9999, 12, 31, 23, 59, 59, 999999)
TIMESTAMP_NINFINITY: datetime.datetime = _TimestampNegativeInfinity(1, 1, 1)
TIMESTAMPTZ_INFINITY: datetime.datetime = _TimestampInfinity(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
TIMESTAMPTZ_NINFINITY: datetime.datetime = _TimestampNegativeInfinity(1, 1, 1, tzinfo=UTC)


def is_infinite(value: datetime.date) -> bool:
    """True for the 'infinity' / '-infinity' sentinels of date, timestamp and timestamptz."""
    return isinstance(value, _Infinite)
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)
INT32_MAX, INT32_MIN = 2**31 - 1, -(2**31)
_EPOCH_1970 = datetime.datetime(1970, 1, 1)


def _now(ctx: FormatContext) -> datetime.datetime:
    return datetime.datetime.now(UTC).astimezone(ctx.tzinfo)


def _special_timestamp(special: str, ctx: FormatContext, aware: bool) -> datetime.datetime:
    if special in ("infinity", "+infinity"):
        return TIMESTAMPTZ_INFINITY if aware else TIMESTAMP_INFINITY
    if special == "-infinity":
        return TIMESTAMPTZ_NINFINITY if aware else TIMESTAMP_NINFINITY
    if special == "epoch":
        return datetime.datetime(1970, 1, 1, tzinfo=UTC) if aware else _EPOCH_1970
    now = _now(ctx)
    if special == "now":
        return now.astimezone(UTC) if aware else now.replace(tzinfo=None)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    delta = {"today": 0, "tomorrow": 1, "yesterday": -1}.get(special)
    if delta is None:
        raise KeyError(special)
    local = (midnight.replace(tzinfo=None) + datetime.timedelta(days=delta))
    if aware:
        return local.replace(tzinfo=ctx.tzinfo).astimezone(UTC)
    return local


def _wall_clock(f: Fields) -> datetime.datetime:
    """The naive local date-time the fields name, with 24:00 and second 60 rolled forward."""
    assert f.year is not None and f.month is not None and f.day is not None
    base = datetime.datetime(f.year, f.month, f.day)
    return base + datetime.timedelta(hours=f.hour, minutes=f.minute, seconds=f.second,
                                     microseconds=f.microsecond)


_ISO_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?)?"
    r"(?:(Z)|([+-])(\d\d)(?::?(\d\d))?)?\Z")


def _iso_fast(text: str) -> tuple[datetime.datetime, int | None] | None:
    """The ISO shape every driver sends, without the general tokenizer (None: use it)."""
    m = _ISO_TIMESTAMP.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = m.groups()
    try:
        value = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                                  int(second or 0), int(frac.ljust(6, "0")) if frac else 0)
    except ValueError:
        return None
    if year == "0000":
        return None
    offset = None
    if zulu:
        offset = 0
    elif sign:
        offset = (int(off_h) * 3600 + int(off_m or 0) * 60) * (-1 if sign == "-" else 1)
        if int(off_h) > 15:
            return None
    return value, offset


def parse_timestamp(text: str, ctx: FormatContext) -> datetime.datetime:
    """timestamp_in: the zone, if given, is ignored as PostgreSQL does."""
    fast = _iso_fast(text)
    if fast is not None:
        return fast[0]
    f = parse_fields(text, "timestamp", ctx)
    if f.special:
        try:
            return _special_timestamp(f.special, ctx, False)
        except KeyError:
            raise DatetimeFieldOverflow(f'invalid input syntax for type timestamp: "{text}"') from None
    return _checked(_wall_clock(f), text, "timestamp")


def parse_timestamptz(text: str, ctx: FormatContext) -> datetime.datetime:
    """timestamptz_in: explicit offset or zone name, else the session TimeZone; result in UTC."""
    fast = _iso_fast(text)
    if fast is not None:
        value, offset = fast
        if offset is not None:
            return (value - datetime.timedelta(seconds=offset)).replace(tzinfo=UTC)
        return value.replace(tzinfo=ctx.tzinfo).astimezone(UTC)
    f = parse_fields(text, "timestamptz", ctx)
    if f.special:
        try:
            return _special_timestamp(f.special, ctx, True)
        except KeyError:
            raise DatetimeFieldOverflow(
                f'invalid input syntax for type timestamp with time zone: "{text}"') from None
    local = _wall_clock(f)
    if f.offset is not None:
        value = local - datetime.timedelta(seconds=f.offset)
        return _checked(value, text, "timestamp with time zone").replace(tzinfo=UTC)
    tz = f.tzinfo or ctx.tzinfo
    return _checked(local, text, "timestamp with time zone").replace(tzinfo=tz).astimezone(UTC)


def _checked(value: datetime.datetime, text: str, type_name: str) -> datetime.datetime:
    if value.year > 9999 or value == TIMESTAMP_INFINITY:
        raise DatetimeFieldOverflow(f'timestamp out of range: "{text}"')
    return value


def parse_date(text: str, ctx: FormatContext) -> datetime.date:
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit() and text[5:7].isdigit() \
            and text[8:].isdigit() and text[:4] != "0000":
        try:
            return datetime.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            pass
    f = parse_fields(text, "date", ctx)
    if f.special:
        if f.special in ("infinity", "+infinity"):
            return DATE_INFINITY
        if f.special == "-infinity":
            return DATE_NINFINITY
        if f.special == "allballs":
            raise DatetimeFieldOverflow(f'invalid input syntax for type date: "{text}"')
        return _special_timestamp(f.special, ctx, False).date()
    assert f.year is not None and f.month is not None and f.day is not None
    return datetime.date(f.year, f.month, f.day)


def _time_of(f: Fields, text: str) -> datetime.time:
    if f.special == "allballs":
        return datetime.time(0)
    if f.special is not None:
        raise DatetimeFieldOverflow(f'invalid input syntax for type time: "{text}"')
    if f.hour == 24:
        # PostgreSQL keeps '24:00:00' as a distinct time; Python cannot, so it reads as the
        # latest representable instant (documented limitation).
        return datetime.time(23, 59, 59, 999999)
    if f.second == 60:
        base = datetime.datetime(2000, 1, 1, f.hour, f.minute, 59) + datetime.timedelta(seconds=1)
        if base.day != 1:
            return datetime.time(23, 59, 59, 999999)
        return base.time().replace(microsecond=f.microsecond)
    return datetime.time(f.hour, f.minute, f.second, f.microsecond)


def parse_time(text: str, ctx: FormatContext) -> datetime.time:
    return _time_of(parse_fields(text, "time", ctx), text)


def parse_timetz(text: str, ctx: FormatContext) -> datetime.time:
    f = parse_fields(text, "timetz", ctx)
    value = _time_of(f, text)
    if f.offset is not None:
        offset = f.offset
    else:
        tz = f.tzinfo or ctx.tzinfo
        reference = datetime.datetime.now(UTC).astimezone(tz)
        delta = reference.utcoffset()
        offset = int(delta.total_seconds()) if delta is not None else 0
    return value.replace(tzinfo=datetime.timezone(datetime.timedelta(seconds=offset)))


# --- typmods (precision of fractional seconds) -------------------------------------------------

def round_micros(micros: int, precision: int) -> int:
    """AdjustTimestampForTypmod: round half away from zero to `precision` decimals."""
    if precision < 0 or precision >= 6:
        return micros
    scale = 10 ** (6 - precision)
    offset = scale // 2
    if micros >= 0:
        return ((micros + offset) // scale) * scale
    return -((((-micros) + offset) // scale) * scale)


def timestamp_apply_typmod(value: datetime.datetime, typmod: int) -> datetime.datetime:
    if typmod < 0 or typmod >= 6 or value in (TIMESTAMP_INFINITY, TIMESTAMP_NINFINITY,
                                               TIMESTAMPTZ_INFINITY, TIMESTAMPTZ_NINFINITY):
        return value
    return timestamp_from_micros(round_micros(timestamp_to_micros(value), typmod), value.tzinfo is not None)


def time_apply_typmod(value: datetime.time, typmod: int) -> datetime.time:
    if typmod < 0 or typmod >= 6:
        return value
    micros = round_micros(time_to_micros(value), typmod)
    if micros >= USECS_PER_DAY:
        micros = USECS_PER_DAY - 1
    return time_from_micros(micros, value.tzinfo)


# --- conversions to and from PostgreSQL's integer representations -----------------------------

def timestamp_to_micros(value: datetime.datetime) -> int:
    """Microseconds since 2000-01-01 (UTC for aware values)."""
    if value.tzinfo is not None:
        if value == TIMESTAMPTZ_INFINITY:
            return INT64_MAX
        if value == TIMESTAMPTZ_NINFINITY:
            return INT64_MIN
        delta = value - POSTGRES_EPOCH_UTC
    else:
        if value == TIMESTAMP_INFINITY:
            return INT64_MAX
        if value == TIMESTAMP_NINFINITY:
            return INT64_MIN
        delta = value - POSTGRES_EPOCH
    return (delta.days * 86400 + delta.seconds) * USECS_PER_SEC + delta.microseconds


def timestamp_from_micros(micros: int, aware: bool) -> datetime.datetime:
    if micros == INT64_MAX:
        return TIMESTAMPTZ_INFINITY if aware else TIMESTAMP_INFINITY
    if micros == INT64_MIN:
        return TIMESTAMPTZ_NINFINITY if aware else TIMESTAMP_NINFINITY
    try:
        if aware:
            return POSTGRES_EPOCH_UTC + datetime.timedelta(microseconds=micros)
        return POSTGRES_EPOCH + datetime.timedelta(microseconds=micros)
    except OverflowError:
        raise DatetimeFieldOverflow("timestamp out of range") from None


def date_to_days(value: datetime.date) -> int:
    if value == DATE_INFINITY:
        return INT32_MAX
    if value == DATE_NINFINITY:
        return INT32_MIN
    return value.toordinal() - POSTGRES_EPOCH_ORDINAL


def date_from_days(days: int) -> datetime.date:
    if days == INT32_MAX:
        return DATE_INFINITY
    if days == INT32_MIN:
        return DATE_NINFINITY
    try:
        return datetime.date.fromordinal(days + POSTGRES_EPOCH_ORDINAL)
    except (ValueError, OverflowError):
        raise DatetimeFieldOverflow("date out of range") from None


def time_to_micros(value: datetime.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * USECS_PER_SEC + value.microsecond


def time_from_micros(micros: int, tzinfo: datetime.tzinfo | None = None) -> datetime.time:
    hours, rest = divmod(micros, USECS_PER_HOUR)
    minutes, rest = divmod(rest, USECS_PER_MINUTE)
    seconds, micro = divmod(rest, USECS_PER_SEC)
    return datetime.time(hours, minutes, seconds, micro, tzinfo=tzinfo)


# --- text output (DateStyle ISO) ------------------------------------------------------------

def _fraction(micro: int) -> str:
    return ("." + f"{micro:06d}".rstrip("0")) if micro else ""


def format_offset(seconds: int) -> str:
    """'+00', '+05:30', '-03:00:30' as EncodeTimezone writes them."""
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if secs:
        return f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"
    if minutes:
        return f"{sign}{hours:02d}:{minutes:02d}"
    return f"{sign}{hours:02d}"


def format_date(value: datetime.date) -> str:
    if value == DATE_INFINITY:
        return "infinity"
    if value == DATE_NINFINITY:
        return "-infinity"
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def format_time(value: datetime.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{_fraction(value.microsecond)}"


def format_timetz(value: datetime.time) -> str:
    offset = value.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return format_time(value) + format_offset(seconds)


def format_timestamp(value: datetime.datetime) -> str:
    if value == TIMESTAMP_INFINITY:
        return "infinity"
    if value == TIMESTAMP_NINFINITY:
        return "-infinity"
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:"
            f"{value.second:02d}{_fraction(value.microsecond)}")


_MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def datestyle(ctx: FormatContext) -> tuple[str, str]:
    """(output style ISO|SQL|POSTGRES|GERMAN, field order MDY|DMY|YMD) from the DateStyle setting."""
    style, order = "ISO", "MDY"
    words = [w.strip().upper() for w in ctx.datestyle.replace(",", " ").split()]
    for word in words:
        if word in ("ISO", "SQL", "POSTGRES", "GERMAN"):
            style = word
            if word == "GERMAN" and not any(w in ("MDY", "DMY", "YMD", "US", "EUROPEAN", "EURO") for w in words):
                order = "DMY"
        elif word in ("MDY", "US", "NONEURO", "NONEUROPEAN"):
            order = "MDY"
        elif word in ("DMY", "EUROPEAN", "EURO"):
            order = "DMY"
        elif word == "YMD":
            order = "YMD"
    return style, order


def _styled_date(value: datetime.date, style: str, order: str) -> str:
    y, m, d = f"{value.year:04d}", f"{value.month:02d}", f"{value.day:02d}"
    if style == "SQL":
        return f"{d}/{m}/{y}" if order == "DMY" else f"{m}/{d}/{y}"
    if style == "GERMAN":
        return f"{d}.{m}.{y}"
    if style == "POSTGRES":
        return f"{d}-{m}-{y}" if order == "DMY" else f"{m}-{d}-{y}"
    return f"{y}-{m}-{d}"


def _styled_timestamp(value: datetime.datetime, style: str, order: str, zone: str) -> str:
    """A timestamp in a non-ISO DateStyle; `zone` is appended (with a space) for timestamptz."""
    clock = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{_fraction(value.microsecond)}"
    suffix = f" {zone}" if zone else ""
    if style == "POSTGRES":
        dow = _DAY_ABBREVIATIONS[value.weekday()]
        month = _MONTH_ABBREVIATIONS[value.month - 1]
        day_month = f"{value.day:02d} {month}" if order == "DMY" else f"{month} {value.day:02d}"
        return f"{dow} {day_month} {clock} {value.year:04d}{suffix}"
    return f"{_styled_date(value, style, order)} {clock}{suffix}"


def date_formatter(ctx: FormatContext) -> Callable[[datetime.date], str]:
    style, order = datestyle(ctx)
    if style == "ISO":
        return format_date

    def format_styled_date(value: datetime.date) -> str:
        if is_infinite(value):
            return format_date(value)
        return _styled_date(value, style, order)

    return format_styled_date


def timestamp_formatter(ctx: FormatContext) -> Callable[[datetime.datetime], str]:
    style, order = datestyle(ctx)
    if style == "ISO":
        return format_timestamp

    def format_styled_timestamp(value: datetime.datetime) -> str:
        if is_infinite(value):
            return format_timestamp(value)
        return _styled_timestamp(value, style, order, "")

    return format_styled_timestamp


def timestamptz_formatter(ctx: FormatContext) -> Callable[[datetime.datetime], str]:
    """timestamptz_out in the session TimeZone: '2024-01-02 03:04:05.123456+00'."""
    tz = ctx.tzinfo
    style, order = datestyle(ctx)
    if style != "ISO":
        def format_styled_timestamptz(value: datetime.datetime) -> str:
            if is_infinite(value):
                return "infinity" if value == TIMESTAMPTZ_INFINITY else "-infinity"
            local = value.astimezone(tz)
            zone = local.tzname() or format_offset(int((local.utcoffset() or datetime.timedelta(0)).total_seconds()))
            return _styled_timestamp(local.replace(tzinfo=None), style, order, zone)

        return format_styled_timestamptz
    utc = tz is UTC

    def format_timestamptz(value: datetime.datetime) -> str:
        if value == TIMESTAMPTZ_INFINITY:
            return "infinity"
        if value == TIMESTAMPTZ_NINFINITY:
            return "-infinity"
        if utc and value.tzinfo is UTC:
            return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:"
                    f"{value.second:02d}{_fraction(value.microsecond)}+00")
        local = value.astimezone(tz)
        offset = local.utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        return format_timestamp(local.replace(tzinfo=None)) + format_offset(seconds)

    return format_timestamptz


# --- binary send/receive -------------------------------------------------------------------

_I4 = struct.Struct(">i")
_I8 = struct.Struct(">q")
_TIMETZ = struct.Struct(">qi")


def date_send(value: datetime.date) -> bytes:
    return _I4.pack(date_to_days(value))


def date_recv(data: bytes) -> datetime.date:
    _check_len(data, 4)
    return date_from_days(_I4.unpack(data)[0])


def time_send(value: datetime.time) -> bytes:
    return _I8.pack(time_to_micros(value))


def time_recv(data: bytes) -> datetime.time:
    _check_len(data, 8)
    micros = _I8.unpack(data)[0]
    if not 0 <= micros <= USECS_PER_DAY:
        raise InvalidBinaryRepresentation("time out of range")
    return time_from_micros(min(micros, USECS_PER_DAY - 1))


def timetz_send(value: datetime.time) -> bytes:
    offset = value.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return _TIMETZ.pack(time_to_micros(value), -seconds)


def timetz_recv(data: bytes) -> datetime.time:
    _check_len(data, 12)
    micros, west = _TIMETZ.unpack(data)
    if not 0 <= micros <= USECS_PER_DAY:
        raise InvalidBinaryRepresentation("time out of range")
    if abs(west) >= 86400:
        raise InvalidBinaryRepresentation("time zone displacement out of range")
    tz = datetime.timezone(datetime.timedelta(seconds=-west))
    return time_from_micros(min(micros, USECS_PER_DAY - 1), tz)


def timestamp_send(value: datetime.datetime) -> bytes:
    return _I8.pack(timestamp_to_micros(value))


def timestamp_recv(data: bytes) -> datetime.datetime:
    _check_len(data, 8)
    return timestamp_from_micros(_I8.unpack(data)[0], False)


def timestamptz_recv(data: bytes) -> datetime.datetime:
    _check_len(data, 8)
    return timestamp_from_micros(_I8.unpack(data)[0], True)


def _check_len(data: bytes, size: int) -> None:
    if len(data) != size:
        raise InvalidBinaryRepresentation("insufficient data left in message" if len(data) < size
                                          else "incorrect binary data format")
