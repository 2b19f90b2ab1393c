"""Frontend messages: what a client can send, as frozen values.

Owns the shape of every message of the Postgres v3 protocol that travels client -> server.
Not their decoding (wire.decoder), not the backend messages (wire.encoder builds those
straight to bytes: the server never needs them as objects).

    start-up phase (no type byte)        regular phase (type byte + int32 length)
    ---------------------------------    ----------------------------------------
    SSLRequest      80877103             'Q' Query        'P' Parse     'B' Bind
    GSSENCRequest   80877104             'D' Describe     'E' Execute   'C' Close
    CancelRequest   80877102             'S' Sync         'H' Flush     'X' Terminate
    StartupMessage  196608 (3.0)         'd' CopyData     'c' CopyDone  'f' CopyFail
                                         'F' FunctionCall 'p' PasswordMessage
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PROTOCOL_3_0: Final = 196608  # 3 << 16
SSL_REQUEST_CODE: Final = 80877103  # 1234 << 16 | 5679
GSSENC_REQUEST_CODE: Final = 80877104  # 1234 << 16 | 5680
CANCEL_REQUEST_CODE: Final = 80877102  # 1234 << 16 | 5678


class NeedData:
    """The decoder holds no complete message yet: feed it more bytes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"

    def __bool__(self) -> bool:
        return False


NEED_DATA: Final = NeedData()


# --- start-up phase ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SSLRequest:
    """The client asks for TLS; the server answers one byte, b'S' or b'N'."""


@dataclass(frozen=True, slots=True)
class GSSENCRequest:
    """The client asks for GSSAPI encryption; pgaurora answers b'N'."""


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Sent on a new connection: cancel the query running in backend `pid` if `secret` matches."""

    pid: int
    secret: int


@dataclass(frozen=True, slots=True)
class StartupMessage:
    """Protocol version and the start-up parameters (user, database, options, GUCs...).

    `protocol_options` holds the `_pq_.*` parameters the client asked for; the server names
    them back in NegotiateProtocolVersion, as PostgreSQL does, since it knows none of them.
    """

    protocol: int
    params: dict[str, str]
    protocol_options: tuple[str, ...] = ()

    @property
    def user(self) -> str:
        return self.params["user"]

    @property
    def database(self) -> str:
        """The database name; PostgreSQL defaults it to the user name."""
        return self.params.get("database") or self.params["user"]

    @property
    def minor_version(self) -> int:
        return self.protocol & 0xFFFF


# --- regular phase -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordMessage:
    """'p': the raw payload. Only the authentication exchange knows whether it holds a
    cleartext or md5 password, a SASLInitialResponse or a SASLResponse
    (see security.authenticator)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Query:
    """'Q': one simple-protocol query string (possibly several statements)."""

    sql: str


@dataclass(frozen=True, slots=True)
class Parse:
    """'P': prepare `query` as statement `name` ('' = the unnamed statement)."""

    name: str
    query: str
    param_oids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Bind:
    """'B': bind `params` (raw bytes, None = NULL) to `statement`, creating `portal`.

    `param_formats` and `result_formats` are the format codes as sent (0 text, 1 binary):
    empty = all text, one code = for every value, else one per value (wire.formats
    expands them).
    """

    portal: str
    statement: str
    param_formats: tuple[int, ...]
    params: tuple[bytes | None, ...]
    result_formats: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Describe:
    """'D': describe statement (kind 'S') or portal (kind 'P') `name`."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class Execute:
    """'E': run `portal` for at most `max_rows` rows (0 = all)."""

    portal: str
    max_rows: int = 0


@dataclass(frozen=True, slots=True)
class Close:
    """'C': close statement (kind 'S') or portal (kind 'P') `name`."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class Sync:
    """'S': end of an extended-query batch: commit an implicit transaction, ReadyForQuery."""


@dataclass(frozen=True, slots=True)
class Flush:
    """'H': send whatever output is pending."""


@dataclass(frozen=True, slots=True)
class Terminate:
    """'X': the client is closing the connection."""


@dataclass(frozen=True, slots=True)
class CopyData:
    """'d': a chunk of COPY FROM STDIN data (rows may span chunks)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CopyDone:
    """'c': the end of COPY FROM STDIN data."""


@dataclass(frozen=True, slots=True)
class CopyFail:
    """'f': the client aborts COPY FROM STDIN with `message`."""

    message: str


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """'F': the fast-path function call interface (pgaurora refuses it with 0A000)."""

    function_oid: int
    arg_formats: tuple[int, ...]
    args: tuple[bytes | None, ...]
    result_format: int = 0


FrontendMessage = (
    SSLRequest
    | GSSENCRequest
    | CancelRequest
    | StartupMessage
    | PasswordMessage
    | Query
    | Parse
    | Bind
    | Describe
    | Execute
    | Close
    | Sync
    | Flush
    | Terminate
    | CopyData
    | CopyDone
    | CopyFail
    | FunctionCall
)

# The type byte of each regular-phase message (the encoder side of tests and fuzzers uses it).
TYPE_BYTES: Final[dict[type, bytes]] = {
    PasswordMessage: b"p",
    Query: b"Q",
    Parse: b"P",
    Bind: b"B",
    Describe: b"D",
    Execute: b"E",
    Close: b"C",
    Sync: b"S",
    Flush: b"H",
    Terminate: b"X",
    CopyData: b"d",
    CopyDone: b"c",
    CopyFail: b"f",
    FunctionCall: b"F",
}

# A ready-made instance of each message without fields (the decoder hands these out: no
# allocation per Sync on the hot path).
SYNC: Final = Sync()
FLUSH: Final = Flush()
TERMINATE: Final = Terminate()
COPY_DONE: Final = CopyDone()
SSL_REQUEST: Final = SSLRequest()
GSSENC_REQUEST: Final = GSSENCRequest()
