"""Replays every captured client conversation (/work/shared/client-queries/raw: psql, pgbench,
psycopg, asyncpg, SQLAlchemy against PostgreSQL 15) through FrontendDecoder, driving its phases
from the captured server messages as pgaurora's server would, in random chunkings; and runs
the captured COPY data through the COPY parsers."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgaurora.wire import NEED_DATA, FrontendDecoder
from pgaurora.wire import messages as m
from pgaurora.wire.copy import CopyInParser, CopyOptions
from pgaurora.wire.copy_binary import BinaryCopyInParser
from pgaurora.wire.frontend import encode

RAW = Path("/work/shared/client-queries/raw")
CAPTURES = sorted(RAW.glob("*/conn-*.jsonl*")) if RAW.is_dir() else []


def events(path: Path) -> Iterator[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:  # type: ignore[operator]
        for line in f:
            yield json.loads(line)


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:]) if value.startswith("\\x") else value.encode()


def frontend_message(e: dict) -> m.FrontendMessage | None:  # type: ignore[type-arg]
    kind = e["type"]
    if kind == "SSLRequest":
        return m.SSLRequest()
    if kind == "StartupMessage":
        return m.StartupMessage(m.PROTOCOL_3_0, dict(e["params"]))
    if kind == "CancelRequest":
        return m.CancelRequest(int(e.get("pid", 1)), int(e.get("key", 2)))
    if kind.startswith("PasswordMessage"):
        return m.PasswordMessage(b"x" * int(e.get("len", 8)))
    if kind == "Query":
        return m.Query(e["sql"])
    if kind == "Parse":
        return m.Parse(e["stmt"], e["sql"], tuple(e["param_oids"]))
    if kind == "Bind":
        params = tuple(None if p is None else _bytes(p) for p in e["params"])
        return m.Bind(e["portal"], e["stmt"], tuple(e["param_formats"]), params, tuple(e["result_formats"]))
    if kind == "Describe":
        return m.Describe(e["kind"], e["name"])
    if kind == "Close":
        return m.Close(e["kind"], e["name"])
    if kind == "Execute":
        return m.Execute(e["portal"], e["max_rows"])
    if kind == "CopyData":
        return m.CopyData(_bytes(e["data"]))
    simple = {"Sync": m.Sync(), "Flush": m.Flush(), "Terminate": m.Terminate(), "CopyDone": m.CopyDone()}
    return simple.get(kind)


@pytest.mark.skipif(not CAPTURES, reason="no captured client traffic")
@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_replay_capture(path: Path) -> None:
    """The client's bytes in random chunks; after each message the decoder returns, the phase
    changes a server makes in answer to it (as a real server reads one message at a time,
    clients such as asyncpg may pipeline CopyData before CopyInResponse arrives)."""
    rng = random.Random(path.name)
    expected = [msg for e in events(path) if e["dir"] == "F" and (msg := frontend_message(e)) is not None]
    stream = b"".join(encode(x) for x in expected)
    decoder = FrontendDecoder()
    got: list[m.FrontendMessage] = []
    passwords = 0
    while stream:
        size = rng.choice((1, 7, 64, 4096, len(stream)))
        decoder.receive_data(stream[:size])
        stream = stream[size:]
        while (event := decoder.next_event()) is not NEED_DATA:
            assert isinstance(event, m.FrontendMessage)
            got.append(event)
            if isinstance(event, m.StartupMessage):
                decoder.auth_response = "SASL"
            elif isinstance(event, m.PasswordMessage):
                passwords += 1
                if passwords == 2:  # SASLInitialResponse, SASLResponse: then AuthenticationOk
                    decoder.authenticated()
            elif isinstance(event, m.Query) and "FROM STDIN" in event.sql.upper():
                decoder.start_copy_in()
            elif isinstance(event, m.SSLRequest | m.CancelRequest | m.Terminate):
                passwords = 0
    assert got == expected


def copy_streams() -> Iterator[tuple[str, str, list[bytes]]]:
    for path in CAPTURES:
        if "copy" not in path.parent.name and "init" not in path.parent.name:
            continue
        sql, chunks = "", []
        for e in events(path):
            if e["dir"] == "F" and e["type"] == "Query" and "FROM STDIN" in str(e["sql"]).upper():
                sql, chunks = str(e["sql"]), []
            elif e["dir"] == "F" and e["type"] == "CopyData" and sql:
                data = _bytes(str(e["data"]))
                if len(data) != e["len"]:  # the capture shortened a long chunk: not replayable
                    sql = ""
                chunks.append(data)
            elif e["dir"] == "F" and e["type"] == "CopyDone" and sql:
                yield path.parent.name, sql, chunks
                sql = ""


@pytest.mark.skipif(not CAPTURES, reason="no captured client traffic")
def test_captured_copy_data_parses() -> None:
    seen = 0
    for _, sql, chunks in copy_streams():
        head = sql[: sql.upper().index("FROM STDIN")]
        columns = head.split("(")[1].split(")")[0].replace('"', "").split(",") if "(" in head else []
        names = [c.strip() for c in columns] or [f"c{i}" for i in range(chunks[0].count(b"\t") + 1)]
        if "BINARY" in sql.upper():
            binary = BinaryCopyInParser(names, "t")
            rows: list[object] = [r for c in chunks for r in binary.feed(c)] + binary.finish()
        else:
            text = CopyInParser(CopyOptions(), names, "t")
            rows = [r for c in chunks for r in text.feed(c)] + text.finish()
        assert rows and all(len(r) == len(names) for r in rows)  # type: ignore[arg-type]
        seen += 1
    assert seen >= 2
