"""pg_terminate_backend and pg_cancel_backend over other sessions, and pg_stat_activity's client
address: the same answers, errors and effects as PostgreSQL 15 (through psycopg, against an
instance process and the oracle)."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.pgoracle import PgOracle, assert_same_transcripts
from tests.server.harness import InstanceProcess

ROLES = ("term_alice", "term_bob")


def _transcript(dsn: str) -> list[Any]:
    """Signals between roles (a non-superuser may signal neither a superuser's backend nor
    another role's), an unknown pid, a negative timeout, NULL; then the superuser terminates a
    backend in an open transaction (its transaction-level advisory lock goes with it), and a
    backend terminates itself. Pids are replaced by names."""
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as su:
        for role in ROLES:
            su.execute(f"DROP ROLE IF EXISTS {role}")
            su.execute(f"CREATE ROLE {role} LOGIN")
        try:
            a = psycopg.connect(dsn.replace("user=postgres", f"user={ROLES[0]}"), autocommit=True)
            b = psycopg.connect(dsn.replace("user=postgres", f"user={ROLES[1]}"), autocommit=True)
            pids = {su.execute("SELECT pg_backend_pid()").fetchone()[0]: "SU",  # type: ignore[index]
                    b.execute("SELECT pg_backend_pid()").fetchone()[0]: "B"}  # type: ignore[index]
            su_pid, b_pid = list(pids)
            for sql in (f"SELECT pg_terminate_backend({su_pid})", f"SELECT pg_cancel_backend({su_pid})",
                        f"SELECT pg_terminate_backend({b_pid})", f"SELECT pg_cancel_backend({b_pid})",
                        "SELECT pg_terminate_backend(1)", f"SELECT pg_terminate_backend({b_pid}, -1)",
                        "SELECT pg_terminate_backend(NULL)"):
                shown = sql.replace(str(su_pid), "SU").replace(str(b_pid), "B")
                try:
                    out.append((shown, a.execute(sql).fetchall()))
                except psycopg.Error as exc:
                    out.append((shown, exc.sqlstate, str(exc)))
            b.execute("BEGIN")
            b.execute("SELECT pg_advisory_xact_lock(5)")
            out.append(("terminate B", su.execute(f"SELECT pg_terminate_backend({b_pid}, 5000)").fetchall()))
            try:
                b.execute("SELECT 1")
            except psycopg.Error as exc:
                out.append(("B then", type(exc).__name__, exc.sqlstate, str(exc)))
            out.append(("B listed", su.execute(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {b_pid}").fetchall()))
            out.append(("its lock", su.execute("SELECT pg_try_advisory_lock(5), pg_advisory_unlock(5)").fetchall()))
            with psycopg.connect(dsn, autocommit=True) as c:
                try:
                    out.append(c.execute("SELECT pg_terminate_backend(pg_backend_pid())").fetchall())
                except psycopg.Error as exc:
                    out.append(("self", type(exc).__name__, exc.sqlstate, str(exc)))
            out.append(su.execute("SELECT client_addr = '127.0.0.1', client_port > 0 FROM pg_stat_activity "
                                  "WHERE pid = pg_backend_pid()").fetchall())
            a.close()
            b.close()
        finally:
            for role in ROLES:
                su.execute(f"DROP ROLE IF EXISTS {role}")
    return out


def test_terminate_and_cancel_backend_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcripts(_transcript, instance.dsn, pg_oracle.dsn)
