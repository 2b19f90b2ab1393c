"""Fused replies (server.fused, session.fastpath): the same messages as PostgreSQL 15.

A prepared SELECT 1 or primary-key SELECT answered in one pass outside a transaction, and
simple Queries the plan cache maps to such plans, must be indistinguishable from the ordinary
path: the same message sequence and bytes (PortalSuspended at a row limit, errors with their
SQLSTATE, transaction blocks and failed blocks, reads of committed and uncommitted rows).
Each case runs every exchange twice so the second one meets warm caches (the fused path).
"""

from __future__ import annotations

import struct

import pytest

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess
from tests.server.rawclient import SYNC, RawClient, bind, describe, error_fields, execute, parse, query
from tests.session.transcript import describe_reply

SETUP = ("DROP TABLE IF EXISTS fp; CREATE TABLE fp (id int PRIMARY KEY, v text, n int);"
         "INSERT INTO fp SELECT g, 'v' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE g * 10 END "
         "FROM generate_series(1, 200) g")

INT4 = struct.pack("!i", 7)


def _prepared(sql: str, oids: tuple[int, ...] = ()) -> bytes:
    return parse("s", sql, oids) + SYNC


def _run_bind(params: tuple[bytes | None, ...] = (), pformats: tuple[int, ...] = (),
              rformats: tuple[int, ...] = (), max_rows: int = 0) -> bytes:
    return bind("", "s", params, pformats, rformats) + execute("", max_rows) + SYNC


def _run_described(params: tuple[bytes | None, ...] = (), pformats: tuple[int, ...] = (),
                   rformats: tuple[int, ...] = (), max_rows: int = 0) -> bytes:
    """What libpq (psql, psycopg, pgbench) sends: Bind, Describe portal, Execute, Sync."""
    return bind("", "s", params, pformats, rformats) + describe("P", "") + execute("", max_rows) + SYNC


CASES: dict[str, list[bytes]] = {
    "described": [_prepared("SELECT 1"), _run_described(), _run_described(), _run_described(rformats=(1,)),
                  _run_described(max_rows=1)],
    "point_described": [_prepared("SELECT v, n FROM fp WHERE id = $1"), _run_described((b"5",)),
                        _run_described((b"6",)), _run_described((b"7",), (), (1, 0)), _run_described((b"500",)),
                        _run_bind((b"8",)), _run_described((b"9",))],
    "select1": [_prepared("SELECT 1"), _run_bind(), _run_bind(), _run_bind(rformats=(1,))],
    "select1_row_limit": [_prepared("SELECT 1"), _run_bind(max_rows=1), _run_bind(max_rows=1),
                          _run_bind(max_rows=2)],
    "param_expression": [_prepared("SELECT $1::int + 1, $1::int * 2"), _run_bind((b"41",)), _run_bind((b"41",)),
                         _run_bind((INT4,), (1,), (1,)), _run_bind((None,))],
    "param_error": [_prepared("SELECT n / $1::int FROM fp WHERE id = 1"), _run_bind((b"5",)), _run_bind((b"0",)),
                    _run_bind((b"x",)), _run_bind((b"2",))],
    "point": [_prepared("SELECT v, n FROM fp WHERE id = $1"), _run_bind((b"5",)), _run_bind((b"6",)),
              _run_bind((b"500",)), _run_bind((None,)), _run_bind((INT4,), (1,), (1,)),
              _run_bind((b"9",), (), (), 1)],
    "point_expression": [_prepared("SELECT n + 1, upper(v), $1::int FROM fp WHERE id = $1"),
                         _run_bind((b"4",)), _run_bind((b"4",)), _run_bind((b"3",))],
    "wrong_parameter_count": [_prepared("SELECT v FROM fp WHERE id = $1"), _run_bind((b"1",)),
                              bind("", "s") + execute("", 0) + SYNC, _run_bind((b"1",), (), (0, 0))],
    "in_block": [_prepared("SELECT v FROM fp WHERE id = $1"), _run_bind((b"1",)), query("BEGIN"),
                 _run_bind((b"1",)), query("UPDATE fp SET v = 'changed' WHERE id = 1"), _run_bind((b"1",)),
                 query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"), _run_bind((b"1",)), query("ROLLBACK"),
                 _run_bind((b"1",))],
    "select1_then_set_transaction": [_prepared("SELECT 1"), _run_bind(), query("BEGIN"), _run_bind(),
                                     query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"), query("ROLLBACK")],
    "failed_block": [_prepared("SELECT 1"), _run_bind(), query("BEGIN"), query("SELECT 1/0"), _run_bind(),
                     query("ROLLBACK"), _run_bind()],
    "param_bad_text": [_prepared("SELECT v FROM fp WHERE id = $1"), _run_described((b"1",)),
                       _run_described((b"\xff",)), _run_described((b"1\x00",)), _run_described((b" 2 ",)),
                       _run_described((b"1",), (2,)), _run_described((b"3",))],
    "param_int_text": [_prepared("SELECT v FROM fp WHERE id = $1"), _run_described((b"007",)),
                       _run_described((b"007",)), _run_described((b"+8",)), _run_described((b"-1",)),
                       _run_described((b"2147483647",)), _run_described((b"2147483648",)),
                       _run_described((b"1" * 30,)), _run_described((b"1_0",)), _run_described((b"10",))],
    "param_binary_width": [_prepared("SELECT v FROM fp WHERE id = $1"), _run_bind((INT4,), (1,)),
                           _run_bind((b"\0\0\0",), (1,)), _run_bind((b"\0\0\0\0\0",), (1,)),
                           _run_bind((INT4,), (1,), (1,))],
    # round trips sent together: each answered in turn (b"" exchanges read the next replies)
    "pipelined": [_prepared("SELECT v FROM fp WHERE id = $1"),
                  _run_described((b"1",)) + _run_described((b"2",)) + _run_bind((b"x",)) + _run_bind((b"4",)),
                  b"", b"", b""],
    "output_settings_change": [_prepared("SELECT $1::float8 / 3, v FROM fp WHERE id = 1"), _run_bind((b"1",)),
                               _run_bind((b"1",)), query("SET extra_float_digits = 0"), _run_bind((b"1",)),
                               _run_described((b"2",)), query("RESET extra_float_digits"), _run_bind((b"1",))],
    # round trips the fused path declines, run in one pass by the connection (_round_trip):
    # DML with its commit, errors at Bind, Describe and Execute, blocks, row limits, pipelines
    "dml_round_trip": [_prepared("UPDATE fp SET n = n + $2 WHERE id = $1"), _run_described((b"1", b"5")),
                       _run_bind((b"2", b"7")), _run_described((b"1", b"x")), _run_bind((b"1",)),
                       _run_described((b"500", b"1")), _run_bind((b"2", b"2147483647")),
                       _run_described((b"1", b"1"), (), (), 1), query("SELECT id, n FROM fp WHERE id <= 3 ORDER BY id")],
    "dml_returning_round_trip": [_prepared("INSERT INTO fp VALUES ($1, 'new', $1 * 2) RETURNING id, v, n"),
                                 _run_described((b"1001",)), _run_bind((b"1002",)), _run_described((b"1001",)),
                                 _run_described((b"1003",), (), (), 1), _run_bind((None,)),
                                 query("SELECT count(*) FROM fp WHERE id > 1000")],
    "round_trip_in_block": [_prepared("UPDATE fp SET n = $2 WHERE id = $1"), query("BEGIN"),
                            _run_described((b"4", b"40")), _run_bind((b"4", b"x")), _run_bind((b"4", b"41")),
                            query("ROLLBACK"), query("BEGIN"), _run_bind((b"5", b"50")),
                            query("SELECT n FROM fp WHERE id = 5"), query("COMMIT"),
                            query("SELECT n FROM fp WHERE id IN (4, 5) ORDER BY id")],
    "round_trip_unknown_statement": [_prepared("SELECT 1"), bind("", "nope") + describe("P", "") + execute("", 0)
                                     + SYNC, _run_described(), query("SELECT 1")],
    "round_trip_scan": [_prepared("SELECT id, v FROM fp WHERE id < $1 ORDER BY id"), _run_described((b"4",)),
                        _run_bind((b"6",), (), (), 2), _run_described((b"0",)), _run_bind((b"y",))],
    "round_trip_pipelined": [_prepared("UPDATE fp SET n = $2 WHERE id = $1 RETURNING n"),
                             _run_described((b"7", b"1")) + _run_bind((b"7", b"z")) + _run_bind((b"7", b"3"))
                             + _run_described((b"8", b"4")), b"", b"", b"",
                             query("SELECT n FROM fp WHERE id IN (7, 8) ORDER BY id")],
    "simple": [query("SELECT 1"), query("SELECT 1"), query("SELECT 2, 'x'"), query("SELECT v, n FROM fp WHERE id = 3"),
               query("SELECT v, n FROM fp WHERE id = 3"), query("SELECT v, n FROM fp WHERE id = 4"),
               query("SELECT v FROM fp WHERE id = 1000"), query("SELECT 1/0"), query("SELECT 1/0")],
    # the plan cache's text key has a slot per literal: a literal of another kind in it (a string
    # where a number was, an int8 or a numeric where an int4 was) is planned anew, not bound
    "simple_literal_kinds": [query("UPDATE fp SET n = 5 WHERE id = 9"), query("UPDATE fp SET n = 5 WHERE id = 9"),
                             query("UPDATE fp SET n = 'x' WHERE id = 9"),
                             query("UPDATE fp SET n = 5000000000 WHERE id = 9"),
                             query("UPDATE fp SET n = 1.5 WHERE id = 9"), query("SELECT v FROM fp WHERE id = 10"),
                             query("SELECT v FROM fp WHERE id = 10"), query("SELECT v FROM fp WHERE id = '10'"),
                             query("SELECT v FROM fp WHERE id = 'ten'"), query("SELECT n FROM fp WHERE id = 9")],
    "simple_in_block": [query("BEGIN"), query("SELECT 1"), query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
                        query("ROLLBACK"), query("BEGIN"), query("SELECT 1/0"), query("SELECT 1"),
                        query("ROLLBACK"), query("SELECT 1")],
}


def _describe(messages: list[tuple[bytes, bytes]]) -> list[str]:
    out = []
    for kind, body in messages:
        if kind == b"D":
            out.append("D " + body.hex())
        elif kind == b"T":  # names, types and format codes (table oids and attnums differ)
            n, pos, fields = struct.unpack("!h", body[:2])[0], 2, []
            for _ in range(n):
                end = body.index(b"\0", pos)
                type_oid, fmt = struct.unpack("!I", body[end + 7:end + 11])[0], body[end + 17:end + 19]
                fields.append(f"{body[pos:end].decode()}:{type_oid}:{fmt.hex()}")
                pos = end + 19
            out.append(f"T {fields}")
        elif kind in (b"E", b"N", b"C"):
            out.extend(describe_reply([(kind, body)]))
        elif kind != b"S":  # ParameterStatus differs in values such as server_version
            out.append(kind.decode())
    return out


def _transcript(port: int, exchanges: list[bytes]) -> list[list[str]]:
    c = RawClient(port)
    try:
        c.connect()
        c.send(query(SETUP))
        c.recv_until(b"Z")
        result = []
        for data in exchanges:
            if data:
                c.send(data)
            result.append(_describe(c.recv_until(b"Z")))
        return result
    finally:
        c.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_messages_as_postgres(name: str, instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert _transcript(instance.port, CASES[name]) == _transcript(pg_oracle.port, CASES[name])


def test_point_read_sees_only_committed_rows(instance: InstanceProcess) -> None:
    """A fused point read outside a transaction ignores another session's uncommitted update and
    sees it once committed (the snapshot is the running transactions now)."""
    reader, writer = RawClient(instance.port), RawClient(instance.port)
    try:
        reader.connect()
        writer.connect()
        reader.send(query(SETUP))
        reader.recv_until(b"Z")
        reader.send(_prepared("SELECT v FROM fp WHERE id = $1"))
        reader.recv_until(b"Z")

        def read() -> list[str]:
            reader.send(_run_bind((b"2",)))
            return [m for m in _describe(reader.recv_until(b"Z")) if m.startswith("D")]

        before = read()
        assert before == read() == ["D " + (struct.pack("!hi", 1, 2) + b"v2").hex()]
        writer.send(query("BEGIN; UPDATE fp SET v = 'new' WHERE id = 2"))
        writer.recv_until(b"Z")
        assert read() == before
        writer.send(query("COMMIT"))
        writer.recv_until(b"Z")
        assert read() == ["D " + (struct.pack("!hi", 1, 3) + b"new").hex()]
        writer.send(query("DELETE FROM fp WHERE id = 2"))
        writer.recv_until(b"Z")
        assert read() == []
    finally:
        reader.close()
        writer.close()


def test_point_read_follows_hot_chains(instance: InstanceProcess) -> None:
    """The fused read fetches an index entry's root version first and walks its HOT chain only
    when it does not see the root: each committed update (a longer chain) and a VACUUM (a pruned
    chain behind an LP_REDIRECT) must read the newest committed value."""
    c = RawClient(instance.port)
    try:
        c.connect()
        c.send(query("DROP TABLE IF EXISTS fh; CREATE TABLE fh (id int PRIMARY KEY, v int)"
                     "; INSERT INTO fh SELECT g, 0 FROM generate_series(1, 50) g"))
        c.recv_until(b"Z")
        c.send(_prepared("SELECT v FROM fh WHERE id = $1"))
        c.recv_until(b"Z")

        def read(key: bytes) -> list[str]:
            c.send(_run_described((key,)))
            return [m for m in describe_reply(c.recv_until(b"Z")) if m.startswith("D")]

        for n in range(1, 6):
            c.send(query(f"UPDATE fh SET v = {n} WHERE id = 7"))
            c.recv_until(b"Z")
            assert read(b"7") == [f"D ['{n}']"] == read(b"07")
        assert read(b"8") == ["D ['0']"]
        c.send(query("VACUUM fh"))
        c.recv_until(b"Z")
        assert read(b"7") == ["D ['5']"]
        c.send(query("UPDATE fh SET v = 6 WHERE id = 7"))
        c.recv_until(b"Z")
        assert read(b"7") == ["D ['6']"]
        c.send(query("DELETE FROM fh WHERE id = 7"))
        c.recv_until(b"Z")
        assert read(b"7") == []
    finally:
        c.close()


def test_plan_follows_ddl(instance: InstanceProcess) -> None:
    """A cached fast plan is replanned after DDL changes the table (simple and prepared)."""
    c = RawClient(instance.port)
    try:
        c.connect()
        c.send(query("DROP TABLE IF EXISTS fq; CREATE TABLE fq (id int PRIMARY KEY, a int)"
                     "; INSERT INTO fq VALUES (1, 10)"))
        c.recv_until(b"Z")
        c.send(_prepared("SELECT * FROM fq WHERE id = $1"))
        c.recv_until(b"Z")
        for _ in range(2):
            c.send(query("SELECT * FROM fq WHERE id = 1"))
            assert "D ['1', '10']" in describe_reply(c.recv_until(b"Z"))
            c.send(_run_bind((b"1",)))
            assert "D ['1', '10']" in describe_reply(c.recv_until(b"Z"))
        c.send(query("DROP TABLE fq; CREATE TABLE fq (id int PRIMARY KEY, a int, b text)"
                     "; INSERT INTO fq VALUES (1, 20, 'x')"))
        c.recv_until(b"Z")
        c.send(query("SELECT * FROM fq WHERE id = 1"))
        assert "D ['1', '20', 'x']" in describe_reply(c.recv_until(b"Z"))
        c.send(_run_bind((b"1",)))
        reply = c.recv_until(b"Z")
        # PostgreSQL: a prepared SELECT * whose result type changed is an error (0A000)
        errors = [error_fields(body) for kind, body in reply if kind == b"E"]
        assert errors == [] or errors[0]["C"] == "0A000"
    finally:
        c.close()
