"""inet and cidr as PostgreSQL 15 has them: text forms (IPv4, IPv6 compressed, IPv4-mapped,
classful cidr input, 22P02 for host bits right of a cidr's mask), order, containment operators,
the network functions and arithmetic, casts, B-tree indexes, min / max, arrays; and their binary
form as asyncpg and psycopg exchange it (ipaddress values both ways). Compared with PostgreSQL."""

from __future__ import annotations

import ipaddress
from typing import Any

import asyncpg
import psycopg

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    "SELECT '192.168.1.5/24'::inet, '192.168.1.5'::inet, '192.168.1.0/24'::cidr, '10'::cidr, '172.16'::cidr, '::1'::inet, '2001:db8::/32'::cidr, '2001:DB8:0:0:1::1/64'::inet",
    "SELECT '192.168.1.5/24'::cidr",
    "SELECT '300.1.1.1'::inet",
    "SELECT '1.2.3.4/33'::inet",
    "SELECT '192.168.1.0/24'::cidr >> '192.168.1.5'::inet, '192.168.1.5'::inet << '192.168.1.0/24', '10.0.0.0/8'::inet >>= '10.0.0.0/8', '10.0.0.0/8'::inet && '10.1.0.0/16', '10.1.2.3'::inet <<= '10.0.0.0/8'::cidr",
    "SELECT host('10.1.2.3/8'::inet), masklen('10.1.2.3/8'::inet), network('10.1.2.3/8'::inet), broadcast('10.1.2.3/8'::inet), netmask('10.1.2.3/8'::inet), hostmask('10.1.2.3/8'::inet), family('::1'::inet)",
    "SELECT set_masklen('10.1.2.3/8'::inet, 16), set_masklen('10.0.0.0/8'::cidr, 16), abbrev('10.1.0.0/16'::cidr), abbrev('10.1.2.3/8'::inet), text('10.1.2.3'::inet), '10.1.2.3'::inet::text, '10.0.0.0/8'::cidr::text",
    "SELECT '10.0.0.1'::inet + 5, '10.0.0.10'::inet - 3, '10.0.0.10'::inet - '10.0.0.1'::inet, ~ '0.0.0.255'::inet, '10.1.2.3'::inet & '255.255.0.0'::inet, '10.1.2.3'::inet | '0.0.0.255'::inet",
    "SELECT inet_same_family('1.2.3.4', '::1'), inet_merge('192.168.1.5/24', '192.168.2.5/24')",
    'CREATE TABLE hosts (id serial PRIMARY KEY, addr inet, net cidr)',
    "INSERT INTO hosts (addr, net) VALUES ('10.0.0.5', '10.0.0.0/24'), ('10.0.1.7/16', '10.0.0.0/16'), ('::ffff:1.2.3.4', '::/0'), ('192.168.0.1', NULL), ('10.0.0.5/8', '10.0.0.0/8')",
    'SELECT addr, net FROM hosts ORDER BY addr',
    "SELECT addr FROM hosts WHERE addr << '10.0.0.0/8' ORDER BY addr",
    'CREATE INDEX hosts_addr ON hosts (addr)',
    "SELECT addr FROM hosts WHERE addr = '10.0.0.5' ORDER BY 1",
    'SELECT addr, count(*) FROM hosts GROUP BY addr ORDER BY addr',
    'SELECT array_agg(addr ORDER BY addr) FROM hosts',
    "SELECT '10.0.0.0/8'::cidr::inet, '10.0.0.1/32'::cidr::inet, '10.1.2.3/8'::inet::cidr",
    'SELECT max(addr), min(addr) FROM hosts',
    "SELECT '{10.0.0.1,::1}'::inet[]",
    "SELECT pg_typeof('1.2.3.4'::inet), pg_typeof('1.0.0.0/8'::cidr), '1.2.3.4'::inet = '1.2.3.4/32'::cidr",
    "SELECT '::1.2.3.4'::inet, '::1'::inet, '::'::inet, '::ffff:0:0'::inet, 'fe80::1'::inet",
]


def test_inet_and_cidr_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=["DROP TABLE IF EXISTS hosts"], details=True)


VALUES = [ipaddress.ip_interface("10.0.0.5/24"), ipaddress.ip_interface("::ffff:1.2.3.4/128"),
          ipaddress.ip_interface("192.168.1.1/32"), ipaddress.ip_interface("2001:db8::1/64")]


async def _asyncpg(url: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS inet_c")
        await conn.execute("CREATE TABLE inet_c (id int, a inet, n cidr)")
        await conn.executemany("INSERT INTO inet_c VALUES ($1, $2, $3)",
                               [(i, v, v.network) for i, v in enumerate(VALUES)])
        rows = await conn.fetch("SELECT id, a, n, $1::inet >> a AS inside FROM inet_c ORDER BY a",
                                ipaddress.ip_network("10.0.0.0/8"))
        return [tuple(r) for r in rows]
    finally:
        await conn.execute("DROP TABLE IF EXISTS inet_c")
        await conn.close()


async def test_asyncpg_binary_inet(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    ours = await _asyncpg(instance.url)
    assert ours == await _asyncpg(pg_oracle.url)
    assert ours[0][1] == ipaddress.ip_interface("10.0.0.5/24")


def _psycopg(dsn: str) -> list[Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        out = []
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            cur.execute("SELECT %s::inet, %s::cidr, '::1'::inet, '10.1.0.0/16'::cidr",
                        (VALUES[0], ipaddress.ip_network("10.0.0.0/8")))
            out.append(cur.fetchone())
        return out


def test_psycopg_inet_text_and_binary(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert _psycopg(instance.dsn) == _psycopg(pg_oracle.dsn)
