"""Fuzzing the Authenticator: any PasswordMessage payload, in any state of any method, either
moves the exchange on or raises a PgError (FATAL), never another exception."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scramp import ScramClient

from pgaurora.errors import FatalError
from pgaurora.security import authenticator as a
from pgaurora.security.hba import AuthMethod
from pgaurora.security.password import encrypt_password, md5_secret
from pgaurora.wire.frontend import sasl_initial_response

FUZZ = settings(max_examples=int(os.environ.get("PGAURORA_FUZZ_EXAMPLES", "200")), deadline=2000,
                suppress_health_check=[HealthCheck.too_slow])
SECRETS = [encrypt_password("pw", "u"), md5_secret("pw", "u"), None]
scram_words = st.sampled_from([b"n,,", b"y,,", b"p=tls-server-end-point,,", b"n=", b"r=", b"c=", b"p=", b"s=",
                               b"i=", b",", b"biws", b"=2C", b"=3D", b"\xff", b"AAAA", b"e=x"])
payloads = st.one_of(st.binary(max_size=80), st.lists(scram_words, max_size=10).map(b"".join))


@FUZZ
@given(st.sampled_from(list(AuthMethod)), st.sampled_from(SECRETS), st.lists(payloads, max_size=3),
       st.booleans(), st.booleans())
def test_any_payload(method: AuthMethod, secret: str | None, answers: list[bytes], wrap: bool,
                     binding: bool) -> None:
    auth = a.Authenticator(method, "u", secret, channel_binding=b"b" * 32 if binding else None)
    try:
        auth.start()
    except FatalError:
        return
    for answer in answers:
        if auth.done:
            break
        if wrap and auth.state is a.AuthState.AWAIT_SASL_INITIAL:
            answer = sasl_initial_response("SCRAM-SHA-256", answer)
        try:
            auth.receive(answer)
        except FatalError:
            assert auth.state is a.AuthState.FAILED
            return


@FUZZ
@given(st.binary(max_size=60))
def test_garbage_client_final_after_a_real_client_first(final: bytes) -> None:
    auth = a.Authenticator(AuthMethod.SCRAM_SHA_256, "u", SECRETS[0])
    auth.start()
    client = ScramClient(["SCRAM-SHA-256"], "u", "pw")
    auth.receive(sasl_initial_response("SCRAM-SHA-256", client.get_client_first().encode()))
    try:
        auth.receive(final)
    except FatalError:
        return
