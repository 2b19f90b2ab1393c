"""Format codes, DataRow encoders and Bind parameter decoding, checked against PostgreSQL 15."""

from __future__ import annotations

import datetime
import struct
from decimal import Decimal

import pytest

from pgaurora.errors import PgError, ProtocolViolationError
from pgaurora.wire import encoder
from pgaurora.wire import messages as m
from pgaurora.wire.formats import RowEncoder, decode_params, param_formats, result_formats
from pgaurora.wire.frontend import encode
from tests.wire.rawpg import RawConnection, error_fields


def test_format_code_expansion() -> None:
    assert param_formats((), 3) == (0, 0, 0)
    assert param_formats((1,), 2) == (1, 1)
    assert param_formats((0, 1), 2) == (0, 1)
    assert result_formats((), 2) == (0, 0)
    assert result_formats((1,), 3) == (1, 1, 1)
    with pytest.raises(ProtocolViolationError, match="bind message has 2 result formats but query has 1 columns"):
        result_formats((0, 0), 1)


def test_row_encoder_matches_generic_data_row() -> None:
    enc = RowEncoder((23, 25, 20, 16, 701), (0, 0, 1, 0, 0))
    row = (7, "héllo", -3, True, 1.5)
    expected = encoder.data_row([b"7", "héllo".encode(), struct.pack("!q", -3), b"t", b"1.5"])
    assert enc.row(row) == expected
    assert enc.rows([row, (None, None, None, None, None)]) == expected + encoder.data_row([None] * 5)
    assert RowEncoder(()).row(()) == encoder.data_row([])
    assert RowEncoder((25,)).rows([("a",), ("b",)]) == encoder.data_row([b"a"]) + encoder.data_row([b"b"])


def test_unsupported_result_format_code() -> None:
    with pytest.raises(PgError) as info:
        RowEncoder((23,), (3,))
    assert (info.value.sqlstate, info.value.message) == ("22023", "unsupported format code: 3")


def test_decode_params_text_and_binary() -> None:
    values = decode_params(
        (23, 25, 1700, 1082, 20, 16),
        (0, 0, 0, 0, 1, 1),
        (b"42", "é".encode(), b"1.50", b"2024-02-29", struct.pack("!q", 2**40), b"\x01"),
    )
    assert values == (42, "é", Decimal("1.50"), datetime.date(2024, 2, 29), 2**40, True)
    assert decode_params((23,), (), (None,)) == (None,)


# (statement, portal, format, value bytes) -> PostgreSQL's error, collected live below
PARAM_CASES = [
    ("select $1::int", "", 1, b"12345"),
    ("select $1::int", "", 1, b"12"),
    ("select $1::int", "p1", 0, b"abc"),
    ("select $1::text", "", 0, b"\xc3\x28"),
    ("select $1::text", "", 0, b"a\x00"),
    ("select $1::int", "", 2, b"1"),
    ("select $1::int8", "p", 0, b"99999999999999999999"),
]


@pytest.mark.parametrize(("query", "portal", "fmt", "value"), PARAM_CASES)
def test_param_errors_match_postgres(pg_oracle, query: str, portal: str, fmt: int, value: bytes) -> None:
    with RawConnection(pg_oracle.port) as conn:
        conn.send(encode(m.Parse("", query)) + encode(m.Bind(portal, "", (fmt,), (value,), ()))
                  + encode(m.Sync()))
        errors = [error_fields(b) for k, b in conn.until_ready() if k == b"E"]
    theirs = errors[0]
    oid = {"int": 23, "text": 25, "int8": 20}[query.split("::")[1]]
    with pytest.raises(PgError) as info:
        decode_params((oid,), (fmt,), (value,), portal=portal)
    ours = info.value
    assert (ours.sqlstate, ours.message, ours.where) == (theirs["C"], theirs["M"], theirs.get("W"))
