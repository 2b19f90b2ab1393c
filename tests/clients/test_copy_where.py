"""COPY FROM ... WHERE (it was ignored: every row went in) and COPY's option checks PostgreSQL 15
makes (HEADER / DELIMITER / NULL in BINARY mode, WHERE with COPY TO, subqueries and generated
columns in the condition), through psycopg's COPY protocol, compared with PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.pgoracle import PgOracle
from tests.server.harness import InstanceProcess

DDL = "CREATE TABLE cpw (id int, name text, v numeric DEFAULT 9, g int GENERATED ALWAYS AS (id * 10) STORED)"


def _run(dsn: str) -> list[Any]:
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cpw")
        conn.execute(DDL)
        cur = conn.cursor()
        for sql, data in [
            ("COPY cpw (id, name) FROM STDIN WITH (FORMAT csv) WHERE id > 7 AND v = 9", "7,a\n8,b\n10,c\n"),
            ("COPY cpw (id, name) FROM STDIN WHERE name LIKE 'x%'", "1\txa\n2\tyb\n"),
            ("COPY cpw (id, name) FROM STDIN WITH (FORMAT csv) WHERE g < 100", "3,q\n"),
            ("COPY cpw (id, name) FROM STDIN WHERE id > (SELECT 1)", "4\tz\n"),
            ("COPY cpw TO STDOUT WHERE id > 1", ""),
            ("COPY cpw TO STDOUT WITH (FORMAT binary, HEADER)", ""),
            ("COPY cpw TO STDOUT WITH (FORMAT binary, DELIMITER ',')", ""),
            ("COPY cpw TO STDOUT WITH (FORMAT binary, NULL 'x')", ""),
        ]:
            try:
                with cur.copy(sql) as copy:
                    if data:
                        copy.write(data)
                out.append((sql, cur.rowcount))
            except psycopg.Error as exc:
                out.append((sql, exc.sqlstate, str(exc).splitlines()[0], exc.diag.message_detail))
        out.append(conn.execute("SELECT * FROM cpw ORDER BY id").fetchall())
        conn.execute("DROP TABLE cpw")
    return out


def test_copy_where_and_option_checks_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    ours = _run(instance.dsn)
    assert ours == _run(pg_oracle.dsn)
    assert ours[-1] == [(1, "xa", 9, 10), (8, "b", 9, 80), (10, "c", 9, 100)]
