"""SCRAM-SHA-256: verifiers made by a real PostgreSQL 15, and the exchange driven by scramp's client."""

from __future__ import annotations

import psycopg
import pytest
from scramp import ScramClient

from pgaurora.errors import InvalidPassword, ProtocolViolation
from pgaurora.security import password as passwords
from pgaurora.security import scram

PASSWORDS = ["pw", "correct horse battery staple", "pässwörd", "I\u00adX", "bell\u0007", "\u2168"]


@pytest.fixture(scope="module")
def postgres_secrets(pg_oracle) -> dict[tuple[str, str], str]:
    """(password_encryption, password) -> rolpassword as PostgreSQL stores it."""
    secrets = {}
    with psycopg.connect(pg_oracle.dsn, autocommit=True) as conn:
        for method in ("scram-sha-256", "md5"):
            conn.execute(f"set password_encryption = '{method}'")
            for i, pw in enumerate(PASSWORDS):
                role = f"sec_{method[:3]}_{i}"
                conn.execute(f"drop role if exists {role}")
                conn.execute(f"create role {role} password {psycopg.sql.quote(pw)}")  # type: ignore[attr-defined]
                row = conn.execute("select rolpassword from pg_authid where rolname = %s", (role,)).fetchone()
                assert row is not None
                secrets[(method, pw)] = row[0]
                conn.execute(f"drop role {role}")
    return secrets


@pytest.mark.parametrize("pw", PASSWORDS)
def test_postgres_verifier_parses_and_checks(postgres_secrets, pw: str) -> None:
    secret = postgres_secrets[("scram-sha-256", pw)]
    verifier = scram.parse_verifier(secret)
    assert verifier is not None and verifier.iterations == 4096 and len(verifier.salt) == 16
    assert str(verifier) == secret
    assert scram.verify_plain_password(verifier, pw)
    assert not scram.verify_plain_password(verifier, pw + "x")
    # the same salt gives the same verifier: our SASLprep fallback is PostgreSQL's
    assert scram.build_verifier(pw, salt=verifier.salt) == secret
    assert passwords.password_type(secret) is passwords.PasswordType.SCRAM_SHA_256


@pytest.mark.parametrize("pw", PASSWORDS)
def test_postgres_md5_secret(postgres_secrets, pw: str) -> None:
    role = f"sec_md5_{PASSWORDS.index(pw)}"
    secret = postgres_secrets[("md5", pw)]
    assert passwords.md5_secret(pw, role) == secret
    assert passwords.password_type(secret) is passwords.PasswordType.MD5
    assert passwords.verify_cleartext(secret, role, pw)
    assert not passwords.verify_cleartext(secret, role, pw + "x")


def exchange(verifier: scram.ScramVerifier | None, user: str, pw: str) -> ScramClient:
    client = ScramClient(["SCRAM-SHA-256"], "someone", pw)
    server = scram.ScramExchange(user, verifier)
    # libpq sends an empty user name (the role comes from the startup packet)
    client_first = client.get_client_first().replace("n=someone,", "n=,")
    client.client_first_bare = client_first[3:]
    server_first = server.start(client_first.encode())
    client.set_server_first(server_first.decode())
    server_final = server.finish(client.get_client_final().encode())
    client.set_server_final(server_final.decode())  # checks the server's signature
    assert server.done
    return client


def test_full_exchange_with_postgres_verifier(postgres_secrets) -> None:
    verifier = scram.parse_verifier(postgres_secrets[("scram-sha-256", "pässwörd")])
    exchange(verifier, "alice", "pässwörd")


def test_wrong_password_fails_with_28p01(postgres_secrets) -> None:
    verifier = scram.parse_verifier(postgres_secrets[("scram-sha-256", "pw")])
    with pytest.raises(InvalidPassword) as info:
        exchange(verifier, "alice", "nope")
    assert info.value.message == 'password authentication failed for user "alice"'
    assert info.value.sqlstate == "28P01" and info.value.severity == "FATAL"


def test_unknown_role_runs_the_exchange_then_fails() -> None:
    with pytest.raises(InvalidPassword, match='password authentication failed for user "ghost"'):
        exchange(None, "ghost", "anything")
    # the mock salt is stable per user, so probing twice reveals nothing
    first = scram.ScramExchange("ghost", None).start(ScramClient(["SCRAM-SHA-256"], "u", "x").get_client_first().encode())
    second = scram.ScramExchange("ghost", None).start(ScramClient(["SCRAM-SHA-256"], "u", "y").get_client_first().encode())
    assert first.split(b",")[1] == second.split(b",")[1]


def test_malformed_messages_are_protocol_violations() -> None:
    server = scram.ScramExchange("u", scram.parse_verifier(scram.build_verifier("pw")))
    with pytest.raises(ProtocolViolation, match="malformed SCRAM message"):
        server.start(b"garbage")
    server = scram.ScramExchange("u", scram.parse_verifier(scram.build_verifier("pw")))
    server.start(ScramClient(["SCRAM-SHA-256"], "u", "pw").get_client_first().encode())
    with pytest.raises(ProtocolViolation):
        server.finish(b"c=biws,r=wrongnonce,p=AAAA")


def test_parse_verifier_rejects_other_strings() -> None:
    for text in ("pw", "md5" + "0" * 32, "SCRAM-SHA-256$x:abc$def:ghi", "SCRAM-SHA-256$4096:AAAA$AAAA:AAAA"):
        assert scram.parse_verifier(text) is None
