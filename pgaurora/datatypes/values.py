"""Python values for SQL types that have no exact builtin: Interval, Jsonb; and FormatContext.

Owns the value classes and the session settings that change text output. Not parsing or
formatting (the per-family modules), not the oid registry (typeinfo).

An interval keeps PostgreSQL's three separate fields because a month is not a fixed number of
days and a day is not a fixed number of seconds (across a DST change):

    Interval(months=14, days=3, microseconds=14_706_500_000)  ==  '1 year 2 mons 3 days 04:05:06.5'

Comparison and hashing follow interval_cmp_value(): months count as 30 days and days as 24 h,
so '1 mon' = '30 days' (as in PostgreSQL, where both also hash alike).
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

USECS_PER_SEC = 1_000_000
USECS_PER_MINUTE = 60 * USECS_PER_SEC
USECS_PER_HOUR = 60 * USECS_PER_MINUTE
USECS_PER_DAY = 24 * USECS_PER_HOUR
DAYS_PER_MONTH = 30

# PostgreSQL's epoch for date/time binary formats.
POSTGRES_EPOCH_DATE = datetime.date(2000, 1, 1)
POSTGRES_EPOCH_ORDINAL = POSTGRES_EPOCH_DATE.toordinal()
POSTGRES_EPOCH = datetime.datetime(2000, 1, 1)
POSTGRES_EPOCH_UTC = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


class Interval:
    """A PostgreSQL interval: months, days and microseconds, kept apart."""

    __slots__ = ("months", "days", "microseconds")

    months: int
    days: int
    microseconds: int

    def __init__(self, months: int = 0, days: int = 0, microseconds: int = 0) -> None:
        object.__setattr__(self, "months", months)
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "microseconds", microseconds)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Interval is immutable")

    def span(self) -> int:
        """interval_cmp_value(): the total in microseconds with 30-day months and 24-hour days."""
        return (self.months * DAYS_PER_MONTH + self.days) * USECS_PER_DAY + self.microseconds

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.span() == other.span()

    def __hash__(self) -> int:
        return hash(self.span())

    def __lt__(self, other: Interval) -> bool:
        return self.span() < other.span()

    def __le__(self, other: Interval) -> bool:
        return self.span() <= other.span()

    def __gt__(self, other: Interval) -> bool:
        return self.span() > other.span()

    def __ge__(self, other: Interval) -> bool:
        return self.span() >= other.span()

    def __neg__(self) -> Interval:
        return Interval(-self.months, -self.days, -self.microseconds)

    def __repr__(self) -> str:
        return f"Interval(months={self.months}, days={self.days}, microseconds={self.microseconds})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Interval, (self.months, self.days, self.microseconds))

    def identical(self, other: Interval) -> bool:
        """Field-by-field equality (what '=' does not check)."""
        return (self.months, self.days, self.microseconds) == (other.months, other.days, other.microseconds)


@dataclass(frozen=True, slots=True, eq=False)
class Jsonb:
    """A parsed jsonb document. `value` is dict / list / str / int / Decimal / float / bool / None.

    Objects are dicts whose keys are already in jsonb order (shorter keys first, then bytewise)
    with duplicates resolved (the last one wins); numbers are int or Decimal as numeric would be.
    Equality, hashing and ordering follow jsonb's btree rules: 1 = 1.0, but true <> 1 and
    "1" <> 1; object > array > boolean > number > string > null.
    """

    value: Any

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Jsonb):
            return NotImplemented
        return _freeze(self.value) == _freeze(other.value)

    def __hash__(self) -> int:
        return hash(_freeze(self.value))

    def _cmp(self, other: Jsonb) -> int:
        from pgaurora.datatypes.jsonvalues import jsonb_value_cmp  # jsonvalues imports this module

        return jsonb_value_cmp(self.value, other.value)

    def __lt__(self, other: Jsonb) -> bool:
        return self._cmp(other) < 0

    def __le__(self, other: Jsonb) -> bool:
        return self._cmp(other) <= 0

    def __gt__(self, other: Jsonb) -> bool:
        return self._cmp(other) > 0

    def __ge__(self, other: Jsonb) -> bool:
        return self._cmp(other) >= 0


def _freeze(value: Any) -> Any:
    """A hashable key with a type tag per JSON kind, so Python's True == 1 does not leak in."""
    if isinstance(value, dict):
        return ("o", tuple((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_freeze(v) for v in value))
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("z",)
    return ("n", value)


@lru_cache(maxsize=64)
def zone(name: str) -> datetime.tzinfo:
    """A tzinfo for a TimeZone setting: a zoneinfo name, 'UTC', or a POSIX-style offset."""
    upper = name.upper()
    if upper in ("UTC", "GMT", "Z", "ZULU", "UCT"):
        return datetime.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        pass
    for candidate in (name.title(), upper):
        try:
            return zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError):
            continue
    raise KeyError(name)


@dataclass(frozen=True, slots=True)
class FormatContext:
    """Session settings that change how values are written and read as text."""

    datestyle: str = "ISO, MDY"
    intervalstyle: str = "postgres"
    timezone: str = "UTC"
    extra_float_digits: int = 1
    bytea_output: str = "hex"
    tzinfo: datetime.tzinfo = field(default=datetime.UTC, compare=False, repr=False)

    def __post_init__(self) -> None:
        try:
            tz = zone(self.timezone)
        except KeyError:
            tz = datetime.UTC
        object.__setattr__(self, "tzinfo", tz)

    @property
    def day_first(self) -> bool:
        """DateStyle DMY order (also implied by German) for ambiguous input like 01/02/2024."""
        upper = self.datestyle.upper()
        return "DMY" in upper or "EURO" in upper or ("GERMAN" in upper and "MDY" not in upper)


DEFAULT_CONTEXT = FormatContext()
