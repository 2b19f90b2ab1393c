"""SCRAM-SHA-256 (RFC 5802 / 7677) as PostgreSQL uses it: stored verifiers and the server side
of the exchange.

Owns the verifier format PostgreSQL stores in pg_authid.rolpassword,

    SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>

(4096 iterations, 16-byte salt, PostgreSQL's SASLprep fallback: a password SASLprep rejects
is used as raw bytes) and `ScramExchange`, a sans-I/O server exchange built on `scramp`:

    client                                  server (ScramExchange)
    SASLInitialResponse(client-first)  -->  start(client_first) -> server-first
    SASLResponse(client-final)         -->  finish(client_final) -> server-final (v=...)
                                            or InvalidPassword (28P01)

Not the choice of method (security.authenticator), not md5 or cleartext (security.password).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Final

from scramp import ScramException, ScramMechanism
from scramp.utils import ServerError, saslprep

from pgaurora.errors import InvalidPassword, ProtocolViolation

MECHANISM: Final = "SCRAM-SHA-256"
MECHANISM_PLUS: Final = "SCRAM-SHA-256-PLUS"  # with channel binding (tls-server-end-point)
DEFAULT_ITERATIONS: Final = 4096  # PostgreSQL's scram_iterations default
SALT_LENGTH: Final = 16  # SCRAM_DEFAULT_SALT_LEN

_VERIFIER: Final = re.compile(r"^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$")


@dataclass(frozen=True, slots=True)
class ScramVerifier:
    """What the server stores for a SCRAM-SHA-256 password (never the password itself)."""

    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes

    def __str__(self) -> str:
        b64 = base64.b64encode
        return (
            f"{MECHANISM}${self.iterations}:{b64(self.salt).decode()}"
            f"${b64(self.stored_key).decode()}:{b64(self.server_key).decode()}"
        )


def prepare_password(password: str) -> bytes:
    """PostgreSQL's pg_saslprep use: the SASLprep'd password, or the raw bytes if SASLprep
    refuses it (prohibited characters), exactly as scram_build_secret does."""
    try:
        return saslprep(password).encode()
    except ScramException:
        return password.encode()


def _keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha256", prepare_password(password), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    return hashlib.sha256(client_key).digest(), server_key


def build_verifier(password: str, salt: bytes | None = None, iterations: int = DEFAULT_ITERATIONS) -> str:
    """The string CREATE ROLE ... PASSWORD stores under password_encryption = scram-sha-256."""
    salt = os.urandom(SALT_LENGTH) if salt is None else salt
    stored_key, server_key = _keys(password, salt, iterations)
    return str(ScramVerifier(iterations, salt, stored_key, server_key))


def parse_verifier(secret: str) -> ScramVerifier | None:
    """The parts of a stored SCRAM secret, or None if `secret` is not one (parse_scram_secret)."""
    match = _VERIFIER.match(secret)
    if match is None:
        return None
    try:
        salt, stored_key, server_key = (base64.b64decode(g, validate=True) for g in match.group(2, 3, 4))
    except ValueError:
        return None
    if len(stored_key) != 32 or len(server_key) != 32:
        return None
    return ScramVerifier(int(match.group(1)), salt, stored_key, server_key)


def verify_plain_password(verifier: ScramVerifier, password: str) -> bool:
    """Does `password` match (scram_verify_plain_password, for the 'password' method)?"""
    stored_key, server_key = _keys(password, verifier.salt, verifier.iterations)
    return hmac.compare_digest(server_key, verifier.server_key) and hmac.compare_digest(
        stored_key, verifier.stored_key
    )


def _mock_verifier(user: str) -> ScramVerifier:
    """A verifier nobody knows the password of: the exchange still runs for a role that does
    not exist or has no SCRAM secret, and fails only at the end (no existence leak). The salt
    is derived from the user name so that repeated attempts see the same salt, as PostgreSQL's
    scram_mock_salt does."""
    salt = hashlib.sha256(b"pgaurora-mock-salt:" + user.encode()).digest()[:SALT_LENGTH]
    return ScramVerifier(DEFAULT_ITERATIONS, salt, os.urandom(32), os.urandom(32))


class ScramExchange:
    """The server side of one SCRAM-SHA-256 exchange (sans-I/O); see the module docstring.

    `verifier` None means "no usable SCRAM secret" (unknown role, md5 or plaintext secret, no
    password): a mock verifier is used and finish() fails with 28P01.
    """

    def __init__(self, user: str, verifier: ScramVerifier | None, server_nonce: str | None = None,
                 mechanism: str = MECHANISM, channel_binding: bytes | None = None) -> None:
        """`channel_binding`: the tls-server-end-point data when the connection uses TLS (then
        a client that could bind but thinks the server cannot is refused, as RFC 5802 asks);
        `mechanism` is the one the client chose (MECHANISM_PLUS requires the binding)."""
        self.user = user
        self._real = verifier is not None
        self._verifier = verifier if verifier is not None else _mock_verifier(user)
        v = self._verifier
        binding = ("tls-server-end-point", channel_binding) if channel_binding is not None else None
        # PostgreSQL ignores the user name inside client-first (libpq sends an empty one):
        # the role is the one from the startup packet.
        self._server = ScramMechanism(mechanism).make_server(
            lambda _name: (v.salt, v.stored_key, v.server_key, v.iterations),
            channel_binding=binding, s_nonce=server_nonce,
        )
        self.done = False

    def start(self, client_first: bytes) -> bytes:
        """client-first-message -> server-first-message."""
        try:
            text = client_first.decode()
            header_end = text.index(",", text.index(",") + 1) + 1
            bare = text[header_end:]
            # PostgreSQL ignores the user name in client-first and libpq sends none ("n=,"),
            # which scramp refuses: hand scramp a placeholder name, then put the bare message
            # the client signed back for the AuthMessage.
            name, sep, rest = bare.partition(",")
            if not name.startswith("n=") or not sep:
                raise ScramException(f'Expected attribute "n" but found "{name[:1]}".')
            self._server.set_client_first(text[:header_end] + "n=user," + rest)
            self._server.client_first_bare = bare
            return str(self._server.get_server_first()).encode()
        except (ScramException, UnicodeDecodeError, ValueError) as exc:
            raise ProtocolViolation("malformed SCRAM message", detail=str(exc)) from None

    def finish(self, client_final: bytes) -> bytes:
        """client-final-message -> server-final-message; InvalidPassword on a wrong proof."""
        try:
            self._server.set_client_final(client_final.decode())
        except ScramException as exc:
            if exc.server_error is ServerError.INVALID_PROOF:
                raise InvalidPassword(f'password authentication failed for user "{self.user}"') from None
            raise ProtocolViolation("malformed SCRAM message", detail=str(exc)) from None
        except UnicodeDecodeError as exc:
            raise ProtocolViolation("malformed SCRAM message", detail=str(exc)) from None
        if not self._real:
            raise InvalidPassword(f'password authentication failed for user "{self.user}"')
        self.done = True
        return str(self._server.get_server_final()).encode()
