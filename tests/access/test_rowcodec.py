"""Row encoding round trips every value type of contracts.md (datatypes)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from pgaurora.access.rowcodec import decode_row, encode_row
from pgaurora.datatypes import datetimes
from pgaurora.datatypes.values import Interval, Jsonb


def test_round_trip_all_types():
    row = (
        1, -(2**63), 2**64 + 5, "text", "", None, True, False, 1.5, float("inf"), b"\x00bytes",
        Decimal("12.3400"), Decimal("NaN"), datetime.date(2020, 2, 29), datetime.datetime(2020, 1, 1, 3, 4, 5, 6),
        datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC), datetime.time(1, 2, 3),
        datetime.time(1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=2))), uuid.UUID(int=7),
        Interval(14, 3, 5_000_000), Jsonb({"a": [1, Decimal("2.5"), None]}), [1, [2, None]],
        [Decimal("1.5"), datetime.date(2000, 1, 1)], (3, 4),
        datetimes.DATE_INFINITY, datetimes.DATE_NINFINITY, datetimes.TIMESTAMP_INFINITY,
        datetimes.TIMESTAMPTZ_NINFINITY,
    )
    back = decode_row(encode_row(row))
    assert back[:12] == row[:12] and back[13:23] == row[13:23]
    assert back[23] == [3, 4]  # a tuple value (tid) comes back as a list
    assert back[24] is datetimes.DATE_INFINITY and back[25] is datetimes.DATE_NINFINITY
    assert back[26] is datetimes.TIMESTAMP_INFINITY and back[27] is datetimes.TIMESTAMPTZ_NINFINITY
    assert str(back[12]) == "NaN" and back[11].as_tuple() == Decimal("12.3400").as_tuple()
    assert isinstance(back, tuple)
