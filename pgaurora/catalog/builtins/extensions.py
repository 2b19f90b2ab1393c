"""The extensions CREATE EXTENSION can install, and the functions each brings.

Owns their definitions: plpgsql (always installed, as in PostgreSQL), "uuid-ossp" (the
uuid_generate_v1 / v1mc / v3 / v4 / v5 functions and the namespace constants) and pgcrypto's
digest, hmac, gen_random_bytes, gen_random_uuid, crypt and gen_salt (the PGP functions are not
built), with pg_extension's facts (version, comment, relocatable). Their functions are not in the
built-in registry: the planner finds them only where the extension is installed
(planner.resolve.make_function, CatalogState.extensions). Not the catalog rows of installed
extensions (catalog.model.Extension) nor CREATE / DROP EXTENSION (executor.routines).
"""

from __future__ import annotations

import hashlib
import hmac as hmac_module
import os
import secrets
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

from pgaurora.catalog.builtins.registry import FunctionDef
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import InvalidParameterValue

PLPGSQL_EXTENSION_OID = 13559


@dataclass(frozen=True, slots=True)
class ExtensionDef:
    name: str
    version: str
    comment: str
    relocatable: bool = True
    functions: tuple[FunctionDef, ...] = field(default=(), compare=False)


# -- uuid-ossp --------------------------------------------------------------------------------------

def _v3(namespace: Any, name: str) -> uuid.UUID:
    return uuid.uuid3(namespace, name)


def _v5(namespace: Any, name: str) -> uuid.UUID:
    return uuid.uuid5(namespace, name)


def _v1mc() -> uuid.UUID:
    """A version 1 UUID with a random multicast MAC address (uuid_generate_v1mc)."""
    node = int.from_bytes(os.urandom(6), "big") | (1 << 40)
    return uuid.uuid1(node=node)


_U, _T = t.UUID_OID, t.TEXT_OID
_UUID_OSSP = tuple(FunctionDef(name, args, ret, impl, strict=True, volatility=vol) for name, args, ret, impl, vol in (
    ("uuid_nil", (), _U, lambda: uuid.UUID(int=0), "i"),
    ("uuid_ns_dns", (), _U, lambda: uuid.NAMESPACE_DNS, "i"),
    ("uuid_ns_url", (), _U, lambda: uuid.NAMESPACE_URL, "i"),
    ("uuid_ns_oid", (), _U, lambda: uuid.NAMESPACE_OID, "i"),
    ("uuid_ns_x500", (), _U, lambda: uuid.NAMESPACE_X500, "i"),
    ("uuid_generate_v1", (), _U, uuid.uuid1, "v"),
    ("uuid_generate_v1mc", (), _U, _v1mc, "v"),
    ("uuid_generate_v3", (_U, _T), _U, _v3, "i"),
    ("uuid_generate_v4", (), _U, uuid.uuid4, "v"),
    ("uuid_generate_v5", (_U, _T), _U, _v5, "i"),
))


# -- pgcrypto ---------------------------------------------------------------------------------------

_DIGESTS = {"md5": "md5", "sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384",
            "sha512": "sha512"}


def _bytes(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def _algorithm(name: str) -> str:
    found = _DIGESTS.get(name.lower())
    if found is None:
        raise InvalidParameterValue("Cannot use \"" + name + "\": No such hash algorithm", sqlstate="22023")
    return found


def _digest(data: Any, kind: str) -> bytes:
    return hashlib.new(_algorithm(kind), _bytes(data)).digest()


def _hmac(data: Any, key: Any, kind: str) -> bytes:
    return hmac_module.new(_bytes(key), _bytes(data), _algorithm(kind)).digest()


def _random_bytes(n: int) -> bytes:
    if n < 1 or n > 1024:
        raise InvalidParameterValue("Length not in range", sqlstate="22023")
    return secrets.token_bytes(n)


def _crypt(password: str, salt: str) -> str:
    """crypt(3) as pgcrypto computes it (bf, md5, xdes and des salts)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt as crypt_module  # (deprecated in 3.11; the C library's crypt)

    result = crypt_module.crypt(password, salt)
    if result is None or result.startswith("*"):
        raise InvalidParameterValue("crypt(3) returned NULL", sqlstate="22023")
    return result


_B64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _b64(data: bytes) -> str:
    """crypt's base-64 alphabet, as pgcrypto's px_crypt salt generators use it."""
    out = []
    bits = 0
    value = 0
    for byte in data:
        value = (value << 8) | byte
        bits += 8
        while bits >= 6:
            bits -= 6
            out.append(_B64[(value >> bits) & 63])
    if bits:
        out.append(_B64[(value << (6 - bits)) & 63])
    return "".join(out)


def _gen_salt(kind: str, rounds: int | None = None) -> str:
    kind = kind.lower()
    if kind == "bf":
        cost = 6 if rounds is None else rounds
        if cost < 4 or cost > 31:
            raise InvalidParameterValue("gen_salt: Incorrect number of rounds", sqlstate="22023")
        return f"$2a${cost:02d}$" + _b64(secrets.token_bytes(16))[:22]
    if kind == "md5":
        return "$1$" + _b64(secrets.token_bytes(6))[:8]
    if kind == "des":
        return _b64(secrets.token_bytes(2))[:2]
    if kind == "xdes":
        count = 725 if rounds is None else rounds
        if count < 1 or count > 16777215 or count % 2 == 0:
            raise InvalidParameterValue("gen_salt: Incorrect number of rounds", sqlstate="22023")
        return "_" + "".join(_B64[(count >> (6 * i)) & 63] for i in range(4)) + _b64(secrets.token_bytes(3))[:4]
    raise InvalidParameterValue("gen_salt: Unknown salt algorithm", sqlstate="22023")


_BY = t.BYTEA_OID
_PGCRYPTO = tuple(FunctionDef(name, args, ret, impl, strict=True, volatility=vol) for name, args, ret, impl, vol in (
    ("digest", (_T, _T), _BY, _digest, "i"),
    ("digest", (_BY, _T), _BY, _digest, "i"),
    ("hmac", (_T, _T, _T), _BY, _hmac, "i"),
    ("hmac", (_BY, _BY, _T), _BY, _hmac, "i"),
    ("gen_random_bytes", (t.INT4_OID,), _BY, _random_bytes, "v"),
    ("gen_random_uuid", (), _U, uuid.uuid4, "v"),
    ("crypt", (_T, _T), _T, _crypt, "i"),
    ("gen_salt", (_T,), _T, _gen_salt, "v"),
    ("gen_salt", (_T, t.INT4_OID), _T, _gen_salt, "v"),
))

EXTENSIONS: dict[str, ExtensionDef] = {
    "plpgsql": ExtensionDef("plpgsql", "1.0", "PL/pgSQL procedural language", relocatable=False),
    "uuid-ossp": ExtensionDef("uuid-ossp", "1.1", "generate universally unique identifiers (UUIDs)",
                              functions=_UUID_OSSP),
    "pgcrypto": ExtensionDef("pgcrypto", "1.3", "cryptographic functions", functions=_PGCRYPTO),
}

# extensions PostgreSQL 15's contrib ships that pgaurora does not (0A000 instead of "not available")
KNOWN_UNSUPPORTED = frozenset((
    "adminpack", "amcheck", "autoinc", "bloom", "btree_gin", "btree_gist", "citext", "cube", "dblink",
    "dict_int", "dict_xsyn", "earthdistance", "file_fdw", "fuzzystrmatch", "hstore", "insert_username",
    "intagg", "intarray", "isn", "lo", "ltree", "moddatetime", "old_snapshot", "pageinspect",
    "pg_buffercache", "pg_freespacemap", "pg_prewarm", "pg_stat_statements", "pg_surgery", "pg_trgm",
    "pg_visibility", "pg_walinspect", "pgrowlocks", "pgstattuple", "postgres_fdw", "refint", "seg",
    "sslinfo", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time", "unaccent", "xml2", "postgis",
))


def extension_functions(names: list[str], function: str) -> list[FunctionDef]:
    """The functions called `function` that the installed extensions `names` bring."""
    return [f for name in names for f in EXTENSIONS[name].functions if f.name == function]
