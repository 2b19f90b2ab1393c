"""Authenticator state machine: requests per method and PostgreSQL's errors for bad answers."""

from __future__ import annotations

import pytest
from scramp import ScramClient

from pgaurora.errors import InvalidAuthorizationSpecification, InvalidPassword, PgError, ProtocolViolation
from pgaurora.security import authenticator as a
from pgaurora.security.hba import AuthMethod, ClientConnection
from pgaurora.security.password import encrypt_password, md5_response, md5_secret
from pgaurora.wire import encoder
from pgaurora.wire.frontend import sasl_initial_response

SCRAM_SECRET = encrypt_password("pw", "u")
MD5_SECRET = md5_secret("pw", "u")


def test_trust() -> None:
    auth = a.Authenticator(AuthMethod.TRUST, "u", None)
    assert auth.start() == [a.AuthenticationOk()] and auth.done
    auth.authorize()
    ghost = a.Authenticator(AuthMethod.TRUST, "ghost", None, role_exists=False)
    ghost.start()
    with pytest.raises(InvalidAuthorizationSpecification, match='role "ghost" does not exist'):
        ghost.authorize()


def test_reject_names_the_connection() -> None:
    conn = ClientConnection("db", "u", "10.0.0.1")
    with pytest.raises(InvalidAuthorizationSpecification, match='rejects connection for host "10.0.0.1"'):
        a.Authenticator(AuthMethod.REJECT, "u", SCRAM_SECRET, connection=conn).start()


def test_md5_flow_and_wire_bytes() -> None:
    auth = a.Authenticator(AuthMethod.MD5, "u", MD5_SECRET, salt=b"\x01\x02\x03\x04")
    (request,) = auth.start()
    assert request == a.AuthenticationMD5Password(b"\x01\x02\x03\x04")
    assert encoder.authentication_request(request) == b"R\x00\x00\x00\x0c\x00\x00\x00\x05\x01\x02\x03\x04"
    assert auth.expected_response == "password"
    assert auth.receive(md5_response(MD5_SECRET, b"\x01\x02\x03\x04").encode() + b"\0") == [a.AuthenticationOk()]
    assert auth.done


def test_scram_flow_requests() -> None:
    auth = a.Authenticator(AuthMethod.SCRAM_SHA_256, "u", SCRAM_SECRET)
    assert auth.start() == [a.AuthenticationSASL(("SCRAM-SHA-256",))]
    assert auth.expected_response == "SASL"
    sasl = encoder.authentication_request(a.AuthenticationSASL(("SCRAM-SHA-256",)))
    assert sasl == b"R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00"
    client = ScramClient(["SCRAM-SHA-256"], "u", "pw")
    (cont,) = auth.receive(sasl_initial_response("SCRAM-SHA-256", client.get_client_first().encode()))
    assert isinstance(cont, a.AuthenticationSASLContinue)
    client.set_server_first(cont.data.decode())
    final, ok = auth.receive(client.get_client_final().encode())
    assert isinstance(final, a.AuthenticationSASLFinal) and ok == a.AuthenticationOk()
    client.set_server_final(final.data.decode())


@pytest.mark.parametrize(
    ("method", "payload", "error", "text"),
    [
        (AuthMethod.PASSWORD, b"pw", ProtocolViolation, "invalid password packet size"),
        (AuthMethod.PASSWORD, b"p\0w\0", ProtocolViolation, "invalid password packet size"),
        (AuthMethod.PASSWORD, b"\0", InvalidPassword, "empty password returned by client"),
        (AuthMethod.PASSWORD, b"nope\0", InvalidPassword, 'password authentication failed for user "u"'),
        (AuthMethod.SCRAM_SHA_256, sasl_initial_response("SCRAM-SHA-1", b"n,,n=,r=x"), ProtocolViolation,
         "client selected an invalid SASL authentication mechanism"),
        (AuthMethod.SCRAM_SHA_256, sasl_initial_response("SCRAM-SHA-256", None), ProtocolViolation,
         "malformed SCRAM message"),
        (AuthMethod.SCRAM_SHA_256, b"SCRAM-SHA-256\0\0\0\0\x09n,,", ProtocolViolation,
         "insufficient data left in message"),
        (AuthMethod.SCRAM_SHA_256, sasl_initial_response("SCRAM-SHA-256", b"x") + b"!", ProtocolViolation,
         "invalid message format"),
    ],
)
def test_bad_answers(method: AuthMethod, payload: bytes, error: type[Exception], text: str) -> None:
    auth = a.Authenticator(method, "u", SCRAM_SECRET)
    auth.start()
    with pytest.raises(error) as info:
        auth.receive(payload)
    assert info.value.message == text  # type: ignore[attr-defined]
    assert auth.state is a.AuthState.FAILED
    with pytest.raises(InvalidPassword):
        auth.authorize()


def test_expired_password_fails_like_a_wrong_one() -> None:
    import datetime

    now = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    expired = a.Authenticator(AuthMethod.PASSWORD, "u", SCRAM_SECRET, now=now,
                              valid_until=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    expired.start()
    with pytest.raises(InvalidPassword, match='password authentication failed for user "u"'):
        expired.receive(b"pw\0")
    valid = a.Authenticator(AuthMethod.PASSWORD, "u", SCRAM_SECRET, now=now,
                            valid_until=datetime.datetime(2026, 1, 3, tzinfo=datetime.UTC))
    valid.start()
    assert valid.receive(b"pw\0") == [a.AuthenticationOk()]


def test_authorize_checks_login_and_connection_limit() -> None:
    auth = a.Authenticator(AuthMethod.TRUST, "u", None)
    auth.start()
    auth.authorize(connection_limit=2, connections=1)
    with pytest.raises(InvalidAuthorizationSpecification, match='role "u" is not permitted to log in'):
        auth.authorize(can_login=False)
    with pytest.raises(PgError) as info:
        auth.authorize(connection_limit=1, connections=1)
    assert (info.value.sqlstate, info.value.message) == ("53300", 'too many connections for role "u"')
