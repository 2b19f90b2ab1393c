"""to_char / to_date / to_timestamp / to_number compared with PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from tests.builtins.harness import ours, sql_for, theirs

NUMBER_FORMATS = ["999", "9.99", "999.99", "999,999,990.00", "FM999,990.00", "0000", "S999", "999MI", "999PL", "999PR",
                  "FM9.99", "FM9.00", "9.999", "FM9999th", "9G999D9", "0.9", "9.99EEEE", "FM999.", "999.", "FM999",
                  "RN", "FMRN", "99999999999", "\"Total: \"999", "SG999", "999S", "99V9", "99V99", "9V99"]
NUMBERS = ["0", "0.5", "-0.5", "1234567.891", "-1234.5", "12", "12345", "-12", "1.5", "1", "3.14159", "0.001",
           "-0.001", "123.456", "5", "-5", "485", "99.995"]


@pytest.mark.parametrize("fmt", NUMBER_FORMATS)
def test_to_char_numeric_matches_postgres(oracle_conn: psycopg.Connection, fmt: str) -> None:
    for number in NUMBERS:
        args: list[tuple[str | None, str | None]] = [("numeric", number), (None, fmt)]
        assert ours("to_char", args) == theirs(oracle_conn, "to_char", args), sql_for("to_char", args)


@pytest.mark.parametrize("number", ["0", "-7", "123456", "2147483647"])
def test_to_char_int_and_float(oracle_conn: psycopg.Connection, number: str) -> None:
    for sql_type in ("int4", "int8", "float8"):
        for fmt in ("999,999", "FM0000000000", "S9999999999.99"):
            args: list[tuple[str | None, str | None]] = [(sql_type, number), (None, fmt)]
            assert ours("to_char", args) == theirs(oracle_conn, "to_char", args), sql_for("to_char", args)


DATE_FORMATS = [
    "YYYY-MM-DD HH24:MI:SS.MS US", "HH12 AM a.m. PM", "Mon MON mon Month MONTH month", "Day DY dy DAY day",
    "DDD D ID W WW IW IYYY CC J Q RM rm", "FMDD FMMonth FMHH12 FMMM", "DDth Dth DDTH FMDDth", "\"lit\" YYY YY Y Y,YYY",
    "SSSS FF1 FF3 FF6", "YYYY-MM-DD\"T\"HH24:MI:SS", "Month DD, YYYY", "FMDay, FMDDth FMMonth YYYY",
]
TIMESTAMPS = ["2024-03-05 14:07:09.123456", "2024-01-01 00:00:00", "2023-12-31 12:30:00", "2024-02-29 23:59:59.5",
              "2001-11-11 11:11:11"]


@pytest.mark.parametrize("fmt", DATE_FORMATS)
def test_to_char_timestamp_matches_postgres(oracle_conn: psycopg.Connection, fmt: str) -> None:
    for ts in TIMESTAMPS:
        for sql_type in ("timestamp", "timestamptz", "date"):
            value = ts if sql_type != "date" else ts[:10]
            args: list[tuple[str | None, str | None]] = [(sql_type, value), (None, fmt)]
            assert ours("to_char", args) == theirs(oracle_conn, "to_char", args), sql_for("to_char", args)


def test_to_char_interval_and_zone(oracle_conn: psycopg.Connection) -> None:
    cases: list[list[tuple[str | None, str | None]]] = [
        [("interval", "1 day 03:04:05"), (None, "HH24:MI:SS DD")], [("interval", "50 hours 3 min"), (None, "HH24 MI")],
        [("timestamptz", "2024-03-05 14:07:09+00"), (None, "YYYY TZ OF TZH:TZM")],
    ]
    for args in cases:
        assert ours("to_char", args) == theirs(oracle_conn, "to_char", args), sql_for("to_char", args)


PARSE = [
    ("to_date", "05 Mar 2024", "DD Mon YYYY"), ("to_date", "2024-03-05", "YYYY-MM-DD"), ("to_date", "20240305", "YYYYMMDD"),
    ("to_date", "March 5, 2024", "Month DD, YYYY"), ("to_date", "2024 065", "YYYY DDD"),
    ("to_timestamp", "2024-03-05 14:07:09.5", "YYYY-MM-DD HH24:MI:SS.MS"),
    ("to_timestamp", "05/03/2024 2:07 pm", "DD/MM/YYYY HH:MI am"), ("to_timestamp", "2024-03-05 14:07 +05:30", "YYYY-MM-DD HH24:MI TZH:TZM"),
    ("to_number", "12,454.8-", "99G999D9S"), ("to_number", "1,234.50", "9,999.99"), ("to_number", "-42", "999"),
    ("to_number", "<42>", "999PR"),
]


@pytest.mark.parametrize(("name", "text", "fmt"), PARSE)
def test_parsing_matches_postgres(oracle_conn: psycopg.Connection, name: str, text: str, fmt: str) -> None:
    args: list[tuple[str | None, str | None]] = [("text", text), ("text", fmt)]
    assert ours(name, args) == theirs(oracle_conn, name, args), sql_for(name, args)
