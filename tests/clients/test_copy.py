"""COPY FROM STDIN and TO STDOUT through psycopg and asyncpg (text, CSV with header, binary),
compared with PostgreSQL; a client killed mid-COPY leaves no rows."""

from __future__ import annotations

import datetime
import decimal

import asyncpg
import psycopg

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess
from tests.server.rawclient import RawClient, message, query

ROWS = [(1, "plain", decimal.Decimal("1.50"), datetime.date(2024, 1, 2)),
        (2, "tab\there, new\nline, back\\slash", None, None),
        (3, 'quote "q", comma', decimal.Decimal("-7"), datetime.date(1999, 12, 31))]
DDL = "CREATE TABLE {t} (id int PRIMARY KEY, s text, n numeric(10,2), d date)"


def _roundtrip(dsn: str, table: str) -> dict[str, object]:
    out: dict[str, object] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(DDL.format(t=table))
        with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
            for row in ROWS:
                copy.write_row(row)
        for fmt in ("", " WITH (FORMAT csv, HEADER)", " WITH (FORMAT csv, DELIMITER ';', NULL 'NULL')"):
            with conn.cursor().copy(f"COPY {table} TO STDOUT{fmt}") as copy:
                out[fmt] = b"".join(bytes(chunk) for chunk in copy)
        with conn.cursor().copy(f"COPY (SELECT id, s FROM {table} ORDER BY id DESC) TO STDOUT") as copy:
            out["query"] = b"".join(bytes(chunk) for chunk in copy)
        with conn.cursor(binary=True).copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["int4", "text", "numeric", "date"])
            out["binary"] = list(copy.rows())
        conn.execute(f"DELETE FROM {table}")
        csv = b"id,s,n,d\n5,\"a,b\",2.5,2020-02-02\n6,,,\n"
        with conn.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
            copy.write(csv)
        out["csv_in"] = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        conn.execute(f"DROP TABLE {table}")
    return out


def test_psycopg_copy_matches_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert _roundtrip(instance.dsn, "copy_t") == _roundtrip(pg_oracle.dsn, "copy_t")


async def test_asyncpg_binary_copy(instance: InstanceProcess) -> None:
    conn = await asyncpg.connect(instance.url)
    try:
        await conn.execute(DDL.format(t="copy_b"))
        result = await conn.copy_records_to_table("copy_b", records=ROWS)
        assert result == "COPY 3"
        got = await conn.fetch("SELECT id, s, n, d FROM copy_b ORDER BY id")
        assert [tuple(r) for r in got] == ROWS
    finally:
        await conn.close()


def test_bad_copy_data_fails_the_statement_and_keeps_the_session(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn, autocommit=True) as conn:
        conn.execute(DDL.format(t="copy_bad"))
        try:
            with conn.cursor().copy("COPY copy_bad FROM STDIN") as copy:
                copy.write(b"1\tok\t\\N\t\\N\nnot-a-number\tx\t\\N\t\\N\n")
        except psycopg.errors.InvalidTextRepresentation as exc:
            assert "invalid input syntax for type integer" in str(exc)
        else:
            raise AssertionError("COPY accepted a bad integer")
        assert conn.execute("SELECT count(*) FROM copy_bad").fetchone() == (0,)


def test_client_killed_mid_copy_leaves_no_rows(instance: InstanceProcess) -> None:
    with psycopg.connect(instance.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE copy_kill (id int PRIMARY KEY)")
    c = RawClient(instance.port)
    try:
        c.connect()
        c.send(query("COPY copy_kill FROM STDIN"))
        reply = c.recv_message()
        assert reply is not None and reply[0] == b"G"
        c.send(b"".join(message(b"d", f"{i}\n".encode()) for i in range(1000)))
    finally:
        c.close()   # gone without CopyDone
    with psycopg.connect(instance.dsn, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '20s'")
        assert conn.execute("SELECT count(*) FROM copy_kill").fetchone() == (0,)
        # the same keys can be inserted: the aborted COPY holds nothing
        conn.execute("INSERT INTO copy_kill SELECT generate_series(0, 999)")
        assert conn.execute("SELECT count(*) FROM copy_kill").fetchone() == (1000,)
