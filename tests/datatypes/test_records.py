"""Anonymous record text format compared with PostgreSQL's row() output."""

from __future__ import annotations

import psycopg

from pgaurora import datatypes
from pgaurora.datatypes.records import format_record, parse_record
from tests.pgoracle import pg_text


def test_record_output_matches_postgres(oracle_conn: psycopg.Connection) -> None:
    expected = pg_text(oracle_conn, """SELECT row(1, 'a b', NULL::text, '', 'x"y', 'a\\b', '(x)', 1.50, true,
                                            '2024-01-02 03:04:05+00'::timestamptz, ARRAY[1,2])""")
    values = (1, "a b", None, "", 'x"y', "a\\b", "(x)", datatypes.parse_value("1.50", 1700), True,
              datatypes.parse_value("2024-01-02 03:04:05+00", 1184), [1, 2])
    oids = (23, 25, 25, 25, 25, 25, 25, 1700, 16, 1184, 1007)
    assert format_record(values, [datatypes.text_encoder(o) for o in oids]) == expected


def test_record_input_round_trip() -> None:
    text = '(1,"a b",,"","x""y","a\\\\b")'
    decoders = [datatypes.text_decoder(23)] + [datatypes.text_decoder(25)] * 5
    assert parse_record(text, decoders) == (1, "a b", None, "", 'x"y', "a\\b")
