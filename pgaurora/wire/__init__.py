"""pgaurora.wire: the Postgres v3 protocol, sans-I/O (never imports asyncio or sockets).

    messages.py     frontend messages as frozen dataclasses; NEED_DATA
    protocol.py     connection phases and what each does with each message type (a table)
    startup.py      start-up packets: SSLRequest, GSSENCRequest, CancelRequest, StartupMessage
    bodies.py       regular message bodies, parsed with pqformat.c's checks and messages
    decoder.py      FrontendDecoder: receive_data(bytes), next_event() -> message | NEED_DATA
    encoder.py      backend messages as bytes, ErrorResponse/NoticeResponse from PgError
    frontend.py     frontend messages as bytes (the client side: tests, fuzzers, probes)
    formats.py      format codes; DataRow encoders per portal; Bind parameter decoding
    copy_options.py COPY's options, their checks (ProcessCopyOptions), the error context
    copy.py         COPY FROM STDIN, text and CSV: CopyData chunks -> rows of text fields
    copy_out.py     COPY TO STDOUT, text and CSV: rows -> CopyData payloads
    copy_binary.py  binary COPY, both directions

The server owns the socket: it feeds bytes to a FrontendDecoder, hands messages to the
session, and writes what the encoder functions return.
"""

from pgaurora.wire.decoder import FrontendDecoder
from pgaurora.wire.messages import NEED_DATA
from pgaurora.wire.protocol import Phase

__all__ = ["NEED_DATA", "FrontendDecoder", "Phase"]
