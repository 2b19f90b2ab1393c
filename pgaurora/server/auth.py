"""Which authentication method a connection gets, and its requests as wire messages.

Owns the instance's hba rules (the embedded default: trust on loopback, from
security.hba; `--auth scram-sha-256|md5|password` requires that method of every client) and
turning security.Authenticator's request events into AuthenticationXxx messages. Not the
exchange itself or its cryptography (security), not the start-up sequence (server.startup).
"""

from __future__ import annotations

from collections.abc import Iterable

from pgaurora.security import HbaRules
from pgaurora.security.authenticator import (
    AuthenticationCleartextPassword,
    AuthenticationMD5Password,
    AuthenticationOk,
    AuthenticationSASL,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
    AuthRequest,
)
from pgaurora.wire import encoder as enc


def hba_for(auth: str) -> HbaRules:
    """`trust`: security's embedded default (trust on loopback only); otherwise `auth` for all."""
    if auth == "trust":
        return HbaRules.default()
    return HbaRules.parse(f"local all all {auth}\nhost all all all {auth}\n")


def encode_requests(requests: Iterable[AuthRequest]) -> bytes:
    out = []
    for r in requests:
        if isinstance(r, AuthenticationOk):
            out.append(enc.authentication_ok())
        elif isinstance(r, AuthenticationSASL):
            out.append(enc.authentication_sasl(r.mechanisms))
        elif isinstance(r, AuthenticationSASLContinue):
            out.append(enc.authentication_sasl_continue(r.data))
        elif isinstance(r, AuthenticationSASLFinal):
            out.append(enc.authentication_sasl_final(r.data))
        elif isinstance(r, AuthenticationMD5Password):
            out.append(enc.authentication_md5_password(r.salt))
        elif isinstance(r, AuthenticationCleartextPassword):
            out.append(enc.authentication_cleartext_password())
        else:  # pragma: no cover - the union above is closed
            raise TypeError(f"unknown authentication request {r!r}")
    return b"".join(out)
