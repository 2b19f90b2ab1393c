"""TLS for client connections: server contexts, self-signed certificates, channel binding data.

Owns what the server needs to answer SSLRequest with 'S': an `ssl.SSLContext` for the
server side (TLS 1.2+, like PostgreSQL's ssl_min_protocol_version default), a self-signed
certificate for development and tests, and the `tls-server-end-point` channel-binding data
(RFC 5929) that SCRAM-SHA-256-PLUS binds the exchange to, so a man in the middle holding a
different certificate cannot relay a password exchange. Not the socket or the handshake
(server: asyncio's start_tls), not SCRAM itself (security.scram).

    context = server_context(certfile, keyfile)       # answer SSLRequest b"S", then start_tls
    binding = tls_server_end_point(certificate_der(cert_pem))
    Authenticator(..., channel_binding=binding)       # offers SCRAM-SHA-256-PLUS as well
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def server_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    """A server-side context loaded with the certificate chain and its private key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    return context


def self_signed_certificate(common_name: str = "localhost", days: int = 365,
                            hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM): an EC P-256 self-signed certificate for `hosts`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def certificate_der(certificate_pem: bytes) -> bytes:
    """The DER form of the first certificate in a PEM blob."""
    return x509.load_pem_x509_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)


def tls_server_end_point(certificate: bytes) -> bytes:
    """RFC 5929 tls-server-end-point data for the server's certificate (DER): its hash with
    the certificate's signature hash, where MD5 and SHA-1 become SHA-256 (as PostgreSQL's
    be_tls_get_certificate_hash does)."""
    algorithm = x509.load_der_x509_certificate(certificate).signature_hash_algorithm
    name = algorithm.name if algorithm is not None else "sha256"
    if name in ("md5", "sha1"):
        name = "sha256"
    return hashlib.new(name, certificate).digest()


@dataclass(frozen=True)
class ServerTls:
    """What a server answering SSLRequest with 'S' holds: the context for start_tls, the
    channel-binding data of its certificate (SCRAM-SHA-256-PLUS) and the files (SHOW ssl_cert_file)."""

    context: ssl.SSLContext
    channel_binding: bytes
    cert_file: str
    key_file: str


def load_server_tls(cert_file: str, key_file: str) -> ServerTls:
    """A ServerTls from PEM files (ssl.SSLError / OSError when they are unusable)."""
    context = server_context(cert_file, key_file)
    binding = tls_server_end_point(certificate_der(Path(cert_file).read_bytes()))
    return ServerTls(context, binding, cert_file, key_file)


def ensure_certificate(cert_file: Path, key_file: Path) -> bool:
    """Writes a self-signed certificate and its key (mode 0600) when neither file exists, as
    `pgaurora serve --ssl` starts without one; True when it wrote them. One file without the
    other is an error (FileNotFoundError naming the missing one): nothing is overwritten."""
    if cert_file.exists() and key_file.exists():
        return False
    if cert_file.exists() or key_file.exists():
        missing = key_file if cert_file.exists() else cert_file
        raise FileNotFoundError(f"{missing} is missing (its certificate or key exists)")
    cert_pem, key_pem = self_signed_certificate()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    cert_file.write_bytes(cert_pem)
    return True
