"""Stored password secrets and the md5 and cleartext checks, as PostgreSQL's crypt.c does them.

Owns telling the three kinds of stored secret apart (get_password_type), hashing a new
password for CREATE/ALTER ROLE (encrypt_password), checking an md5 challenge response
(md5_crypt_verify) and a cleartext password against any kind of secret (plain_crypt_verify).
Not SCRAM's exchange (security.scram), not which method a connection uses (security.hba).

    md5 secret      "md5" + md5_hex(password + user)
    md5 response    "md5" + md5_hex(md5_hex(password + user) + salt)    (salt: 4 random bytes)
    SCRAM secret    see security.scram
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from typing import Final

from pgaurora.errors import InvalidParameterValue
from pgaurora.security import scram

_MD5_SECRET: Final = re.compile(r"^md5[0-9a-f]{32}$")


class PasswordType(enum.Enum):
    PLAINTEXT = "plaintext"
    MD5 = "md5"
    SCRAM_SHA_256 = "scram-sha-256"


def password_type(secret: str) -> PasswordType:
    """get_password_type: what kind of secret is stored."""
    if _MD5_SECRET.match(secret):
        return PasswordType.MD5
    if scram.parse_verifier(secret) is not None:
        return PasswordType.SCRAM_SHA_256
    return PasswordType.PLAINTEXT


def _md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_secret(password: str, user: str) -> str:
    """The md5 secret CREATE ROLE stores under password_encryption = md5."""
    return "md5" + _md5_hex(password.encode() + user.encode())


def md5_response(secret: str, salt: bytes) -> str:
    """What a client answers to AuthenticationMD5Password, given the md5 secret."""
    return "md5" + _md5_hex(secret[3:].encode() + salt)


def encrypt_password(password: str, user: str, password_encryption: str = "scram-sha-256") -> str:
    """encrypt_password: a secret to store for `password`. A password that already looks like
    an md5 or SCRAM secret is stored as given (that is how pg_dump restores roles)."""
    if password_type(password) is not PasswordType.PLAINTEXT:
        return password
    if password_encryption == "md5":
        return md5_secret(password, user)
    if password_encryption == "scram-sha-256":
        return scram.build_verifier(password)
    raise InvalidParameterValue(f'invalid value for parameter "password_encryption": "{password_encryption}"')


def verify_md5_response(secret: str | None, salt: bytes, response: str) -> bool:
    """md5_crypt_verify: the client's md5 response against the stored secret; only an md5
    secret can answer ("has a password that cannot be used with MD5 authentication")."""
    if secret is None or password_type(secret) is not PasswordType.MD5:
        return False
    return hmac.compare_digest(md5_response(secret, salt).encode(), response.encode())


def verify_cleartext(secret: str | None, user: str, password: str) -> bool:
    """plain_crypt_verify: a cleartext password against any kind of stored secret."""
    if secret is None:
        return False
    kind = password_type(secret)
    if kind is PasswordType.SCRAM_SHA_256:
        verifier = scram.parse_verifier(secret)
        return verifier is not None and scram.verify_plain_password(verifier, password)
    if kind is PasswordType.MD5:
        return hmac.compare_digest(md5_secret(password, user).encode(), secret.encode())
    return hmac.compare_digest(password.encode(), secret.encode())
