"""Protocol phases of one connection and what each phase does with each message type.

Owns the connection-level state machine of the v3 protocol as PostgreSQL's postgres.c,
postmaster.c and copyfromparse.c run it. Not the decoding of message bodies
(wire.decoder), not transaction state (session).

    STARTUP --StartupMessage--> AUTHENTICATING --authenticated()--> READY <--+
       |  ^                                                         |  |    |
       |  +-- SSLRequest / GSSENCRequest (answered, stay)           |  |  Sync
       +-- CancelRequest --> CLOSED                   error in B/C/D/E/H/P  |
                                                                    |  v    |
                   CopyDone / CopyFail / error <-- COPY_IN    SKIP_TILL_SYNC+
                                  start_copy_in() -----^
    Terminate or a FATAL error --> CLOSED (from anywhere)

What a phase does with a type byte is a table lookup (`ACTIONS`); a missing key is a protocol
violation, never a silent default. PostgreSQL's choices that look odd are kept on purpose:
CopyData/CopyDone/CopyFail outside COPY are read and dropped (a COPY that failed leaves the
client still sending data); Flush and Sync during COPY FROM STDIN are dropped (libpq may send
them without noticing the command was a COPY); while skipping to Sync even Query and Terminate
are dropped, unparsed.
"""

from __future__ import annotations

import enum
from typing import Final


class Phase(enum.Enum):
    STARTUP = "startup"  # untyped packets: SSLRequest, GSSENCRequest, CancelRequest, StartupMessage
    AUTHENTICATING = "authenticating"  # only PasswordMessage ('p') is allowed
    READY = "ready"  # regular messages
    SKIP_TILL_SYNC = "skip_till_sync"  # an extended-query message failed: drop all until Sync
    COPY_IN = "copy_in"  # COPY FROM STDIN: CopyData / CopyDone / CopyFail
    CLOSED = "closed"  # Terminate, CancelRequest or a FATAL error: nothing more is read


class Action(enum.Enum):
    DECODE = "decode"  # parse the body and hand the message to the server
    IGNORE = "ignore"  # read the body and drop it, unparsed
    REJECT = "reject"  # a protocol violation (the message depends on the phase)


# Message types of the extended-query protocol: an error while handling one of them makes the
# backend skip everything up to the next Sync (postgres.c: doing_extended_query_message).
EXTENDED_TYPES: Final = frozenset(b"BCDEHP")

# The largest body (length word included) PostgreSQL reads for each type; more is
# "invalid message length" (pqcomm.h PQ_LARGE_MESSAGE_LIMIT / PQ_SMALL_MESSAGE_LIMIT,
# auth.c PG_MAX_AUTH_TOKEN_LENGTH).
LARGE_MESSAGE_LIMIT: Final = 0x3FFFFFFF - 1
SMALL_MESSAGE_LIMIT: Final = 10000
AUTH_TOKEN_LIMIT: Final = 65535

MESSAGE_LIMITS: Final[dict[int, int]] = {
    **{t: LARGE_MESSAGE_LIMIT for t in b"QFBPd"},
    **{t: SMALL_MESSAGE_LIMIT for t in b"CDEHSXcf"},
    ord("p"): AUTH_TOKEN_LIMIT,
}

_REGULAR: Final = b"QPBDECSHXFdcf"

ACTIONS: Final[dict[tuple[Phase, int], Action]] = {
    (Phase.AUTHENTICATING, ord("p")): Action.DECODE,
    **{(Phase.READY, t): Action.DECODE for t in b"QPBDECSHXF"},
    **{(Phase.READY, t): Action.IGNORE for t in b"dcf"},
    **{(Phase.SKIP_TILL_SYNC, t): Action.IGNORE for t in _REGULAR},
    (Phase.SKIP_TILL_SYNC, ord("S")): Action.DECODE,
    **{(Phase.COPY_IN, t): Action.DECODE for t in b"dcf"},
    **{(Phase.COPY_IN, t): Action.IGNORE for t in b"HS"},
}


# The phase a decoded message moves the connection to by itself (the others the server drives).
AFTER: Final[dict[tuple[Phase, int], Phase]] = {
    (Phase.READY, ord("X")): Phase.CLOSED,
    (Phase.SKIP_TILL_SYNC, ord("S")): Phase.READY,
    (Phase.COPY_IN, ord("c")): Phase.READY,
    (Phase.COPY_IN, ord("f")): Phase.READY,
}


def _phase_table(phase: Phase) -> dict[int, tuple[Action, int, Phase | None]]:
    return {
        type_byte: (action, message_limit(phase, type_byte), AFTER.get((phase, type_byte)))
        for (p, type_byte), action in ACTIONS.items()
        if p is phase
    }


def message_limit(phase: Phase, type_byte: int) -> int:
    """The largest length word accepted for this type."""
    return MESSAGE_LIMITS.get(type_byte, SMALL_MESSAGE_LIMIT)


# Per phase: type byte -> (action, length limit, phase after); absent = REJECT. The decoder
# keeps the current phase's table at hand: the hot path does one dict lookup per message.
PHASE_TABLES: Final[dict[Phase, dict[int, tuple[Action, int, Phase | None]]]] = {
    p: _phase_table(p) for p in Phase
}


def action(phase: Phase, type_byte: int) -> Action:
    """What `phase` does with a message of type `type_byte` (REJECT when the table has no entry)."""
    return ACTIONS.get((phase, type_byte), Action.REJECT)


def reject_message(phase: Phase, type_byte: int, auth_response: str) -> str:
    """PostgreSQL's text for a message type that `phase` does not accept."""
    if phase is Phase.AUTHENTICATING:
        return f"expected {auth_response} response, got message type {type_byte}"
    if phase is Phase.COPY_IN:
        return f"unexpected message type 0x{type_byte:02X} during COPY from stdin"
    return f"invalid frontend message type {type_byte}"
