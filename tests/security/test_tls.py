"""TLS helpers: self-signed certificates, server contexts, tls-server-end-point data."""

from __future__ import annotations

import hashlib
import ssl

from pgaurora.security import authenticator as a
from pgaurora.security import tls
from pgaurora.security.hba import AuthMethod
from pgaurora.security.password import encrypt_password


def test_certificate_and_context(tmp_path) -> None:
    cert_pem, key_pem = tls.self_signed_certificate("db.example", hosts=("db.example", "127.0.0.1"))
    (tmp_path / "c.pem").write_bytes(cert_pem)
    (tmp_path / "k.pem").write_bytes(key_pem)
    context = tls.server_context(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    der = tls.certificate_der(cert_pem)
    assert der == ssl.PEM_cert_to_DER_cert(cert_pem.decode())
    # signed with SHA-256, so the binding is the certificate's SHA-256 (RFC 5929)
    assert tls.tls_server_end_point(der) == hashlib.sha256(der).digest()


def test_plus_mechanism_offered_first_only_with_binding() -> None:
    secret = encrypt_password("pw", "u")
    with_binding = a.Authenticator(AuthMethod.SCRAM_SHA_256, "u", secret, channel_binding=b"x" * 32)
    assert with_binding.start() == [a.AuthenticationSASL(("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"))]
    plain = a.Authenticator(AuthMethod.SCRAM_SHA_256, "u", secret)
    assert plain.start() == [a.AuthenticationSASL(("SCRAM-SHA-256",))]
