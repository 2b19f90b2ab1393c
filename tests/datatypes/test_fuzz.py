"""Malformed input never escapes as a Python exception: every decoder raises PgError (22xxx) or succeeds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgaurora import datatypes
from pgaurora.errors import PgError

OIDS = [16, 17, 18, 20, 21, 23, 26, 27, 114, 700, 701, 1042, 1043, 1082, 1083, 1114, 1184, 1186, 1266, 1560, 1700,
        2950, 3220, 3802, 1007, 1009, 1015, 1115, 3807]
_TOKENS = list("0123456789-+:.,/ TtZz{}[]\"\\'xXeEaAbBnNyYsSpPmMdD@()=") + ["jan", "day", "ago", "inf", "NULL"]
_TEXT = st.lists(st.sampled_from(_TOKENS), max_size=20).map("".join)


@pytest.mark.parametrize("oid", OIDS)
@settings(max_examples=10, deadline=None)
@given(text=_TEXT)
def test_text_decoders_raise_only_pg_errors(oid: int, text: str) -> None:
    try:
        value = datatypes.text_decoder(oid)(text)
    except PgError as exc:
        assert exc.sqlstate[:2] in ("22", "42", "54", "0A"), exc
        return
    datatypes.text_encoder(oid)(value)


@pytest.mark.parametrize("oid", OIDS)
@settings(max_examples=10, deadline=None)
@given(data=st.binary(max_size=24))
def test_binary_decoders_raise_only_pg_errors(oid: int, data: bytes) -> None:
    try:
        value = datatypes.binary_decoder(oid)(data)
    except PgError as exc:
        assert exc.sqlstate[:2] in ("22", "42", "54", "0A"), exc
        return
    datatypes.text_encoder(oid)(value)


@pytest.mark.long
@pytest.mark.parametrize("oid", OIDS)
@settings(max_examples=2000, deadline=None)
@given(text=_TEXT)
def test_text_decoders_soak(oid: int, text: str) -> None:
    test_text_decoders_raise_only_pg_errors.hypothesis.inner_test(oid, text)  # type: ignore[attr-defined]
