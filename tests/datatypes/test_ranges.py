"""The built-in range types as PostgreSQL 15 has them: int4range, int8range, numrange, tsrange,
tstzrange and daterange with their constructors, canonical forms, text input errors, functions
(lower, upper, isempty, lower_inc ... range_merge), operators (comparison, @>, <@, &&, <<, >>,
&<, &>, -|-, +, *, - with their 22000 errors), columns of them (stored, ordered, indexed), pg_range,
and asyncpg's and psycopg's Range values both ways. Compared with PostgreSQL 15."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import asyncpg
import psycopg
from psycopg.types.range import Range

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

CLEANUP = ["DROP TABLE IF EXISTS bookings"]
STEPS = [
    "SELECT int4range(1, 5), int4range(1, 5, '[]'), int4range(5, 1)",
    "SELECT int8range(1, 10, '()'), numrange(1.5, 2.5), daterange('2020-01-01', '2020-01-31', '[]')",
    "SELECT tsrange('2020-01-01 10:00', '2020-01-01 12:00'), tstzrange('2020-01-01 10:00+00', NULL)",
    "SELECT '[1,10)'::int4range @> 5, '[1,10)'::int4range @> 10, 5 <@ '[1,10)'::int4range, '[1,10)'::int4range @> '[2,3)'::int4range",
    "SELECT '[1,5)'::int4range && '[4,8)'::int4range, '[1,5)'::int4range && '[5,8)'::int4range, '[1,5)'::int4range -|- '[5,8)'::int4range",
    "SELECT '[1,5)'::int4range << '[5,8)'::int4range, '[1,5)'::int4range >> '[5,8)'::int4range, '[1,5)'::int4range &< '[5,8)'::int4range, '[1,5)'::int4range &> '[0,8)'::int4range",
    "SELECT '[1,5)'::int4range + '[5,8)'::int4range, '[1,5)'::int4range * '[3,8)'::int4range, '[1,5)'::int4range - '[3,8)'::int4range, '[1,9)'::int4range - '[1,3)'::int4range",
    "SELECT '[1,5)'::int4range + '[6,8)'::int4range",
    "SELECT '[1,9)'::int4range - '[3,5)'::int4range",
    "SELECT lower('[1,5)'::int4range), upper('(,5]'::int4range), isempty('empty'::int4range), lower_inc('(1,5)'::numrange), upper_inc('(1,5]'::numrange), lower_inf('(,5)'::int4range), upper_inf('[1,)'::int4range)",
    "SELECT range_merge('[1,2)'::int4range, '[5,8)'::int4range), 'empty'::int4range = 'empty'::int4range, '[1,2)'::int4range < '[1,3)'::int4range",
    "SELECT '[1,2'::int4range",
    "SELECT '[2,1)'::int4range",
    "SELECT int4range(1, 2, 'x]')",
    'SELECT \'(1.5,2.5]\'::numrange @> 2.5::numeric, \'["2020-01-01 00:00:00+00","2020-01-02 00:00:00+00")\'::tstzrange @> \'2020-01-01 12:00+00\'::timestamptz',
    'CREATE TABLE bookings (id int PRIMARY KEY, during tstzrange, days daterange)',
    "INSERT INTO bookings VALUES (1, '[2020-01-01 10:00+00, 2020-01-01 12:00+00)', '[2020-01-01,2020-01-03)'), (2, '[2020-01-02 10:00+00,)', 'empty'), (3, NULL, '[2020-01-05,2020-01-05]')",
    'SELECT id, during, days FROM bookings ORDER BY days',
    "SELECT id FROM bookings WHERE during && tstzrange('2020-01-01 11:00+00', '2020-01-03 00:00+00') ORDER BY id",
    'SELECT id, upper(days) - lower(days) AS n FROM bookings WHERE NOT isempty(days) ORDER BY id',
    "SELECT pg_typeof('[1,2)'::int4range), '[1,2)'::int4range::text",
    'SELECT rngtypid::regtype, rngsubtype::regtype FROM pg_range ORDER BY 1',
    "CREATE INDEX bookings_days ON bookings (days)",
    "SELECT id FROM bookings WHERE days >= '[2020-01-02,)'::daterange ORDER BY id",
]


def test_range_types_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=CLEANUP, details=True)


async def _asyncpg(url: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow("SELECT '[1,5)'::int4range, 'empty'::int8range, '(1.5,)'::numrange, "
                                  "'[2020-01-01,2020-02-01)'::daterange, tstzrange('2020-01-01 10:00+00', NULL)")
        return [tuple(row), await conn.fetchval("SELECT $1::int4range @> 3", asyncpg.Range(1, 5)),
                await conn.fetchval("SELECT $1::daterange", asyncpg.Range(datetime.date(2020, 1, 1),
                                                                         datetime.date(2020, 1, 5), upper_inc=True))]
    finally:
        await conn.close()


def _psycopg(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for binary in (False, True):
            out.append(conn.cursor(binary=binary).execute(
                "SELECT '[1,5)'::int4range, 'empty'::int8range, '(1.5,)'::numrange, "
                "'[2020-01-01,2020-02-01)'::daterange").fetchone())
        out.append(conn.execute("SELECT %s::int4range", (Range(1, 3, "[]"),)).fetchone())
    return out


def test_clients_send_and_receive_ranges_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert (asyncio.run(_asyncpg(instance.url)), _psycopg(instance.dsn)) == \
        (asyncio.run(_asyncpg(pg_oracle.url)), _psycopg(pg_oracle.dsn))
