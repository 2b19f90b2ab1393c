"""pgaurora.security: who may connect, and proving it.

    scram.py          SCRAM-SHA-256 verifiers in PostgreSQL's format; the server exchange (scramp)
    password.py       stored secret kinds, md5 hashing and checks, cleartext checks, encrypt_password
    hba.py            pg_hba.conf rules: parse, match a connection, the embedded default
    authenticator.py  Authenticator: one connection's exchange as a sans-I/O state machine
    tls.py            server SSLContext, self-signed certificates, tls-server-end-point binding

Everything here is sans-I/O; wire.encoder turns the Authenticator's request events into
AuthenticationXxx messages and the server feeds PasswordMessage payloads back.
"""

from pgaurora.security.authenticator import Authenticator, AuthRequest
from pgaurora.security.hba import AuthMethod, ClientConnection, HbaRules

__all__ = ["AuthMethod", "AuthRequest", "Authenticator", "ClientConnection", "HbaRules"]
