"""A real PostgreSQL 15 started for tests and benchmarks: the oracle pgaurora is compared with.

Owns finding the PostgreSQL binaries, initdb into a temporary directory, starting the server on
an ephemeral loopback port and stopping it by pid. PostgreSQL refuses to run as root, so when
the tests run as root the server runs as the `postgres` OS user (created by the Debian
package that the Makefile installs).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg


def pg_bindir() -> str:
    """The directory holding initdb/postgres/pg_ctl (Debian keeps them off PATH)."""
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: run `make test` (it installs them)")
    return os.path.dirname(candidates[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgOracle:
    """A running PostgreSQL 15; `dsn` works with psycopg and asyncpg (user postgres, trust)."""

    datadir: str
    port: int
    proc: subprocess.Popen[bytes]
    tmp: tempfile.TemporaryDirectory[str]

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM = smart shutdown; sessions end
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.tmp.cleanup()


def _demote() -> tuple[list[str], object]:
    """Command prefix and preexec hook to run as `postgres` when we are root."""
    if os.geteuid() != 0:
        return [], None
    pw = pwd.getpwnam("postgres")

    def preexec() -> None:
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    return [], preexec


def start_postgres(extra: tuple[str, ...] = (), timeout: float = 60.0) -> PgOracle:
    """initdb + start a PostgreSQL on 127.0.0.1 with an ephemeral port; returns when it accepts."""
    bindir = pg_bindir()
    tmp = tempfile.TemporaryDirectory(prefix="pgoracle-")
    os.chmod(tmp.name, 0o777)
    datadir = os.path.join(tmp.name, "data")
    _, preexec = _demote()
    env = dict(os.environ, LC_ALL="C", LANG="C", TZ="UTC", PGTZ="UTC")
    subprocess.run(
        [os.path.join(bindir, "initdb"), "-D", datadir, "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--locale=C", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=preexec, env=env,  # type: ignore[arg-type]
    )
    port = free_port()
    args = [
        os.path.join(bindir, "postgres"), "-D", datadir, "-p", str(port),
        "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={tmp.name}",
        "-c", "fsync=on", "-c", "timezone=UTC", "-c", "max_connections=200",
        "-c", "logging_collector=off", *extra,
    ]
    log = open(os.path.join(tmp.name, "server.log"), "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec, env=env)  # type: ignore[arg-type]
    oracle = PgOracle(datadir=datadir, port=port, proc=proc, tmp=tmp)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited: {open(os.path.join(tmp.name, 'server.log')).read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            ready = subprocess.run(
                [os.path.join(bindir, "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            if ready.returncode == 0:
                return oracle
        except OSError:
            pass
        time.sleep(0.05)  # waiting on an external process: bounded poll
    oracle.stop()
    raise RuntimeError("postgres did not start in time")


def pg_text(conn: psycopg.Connection, sql: str, *params: object) -> str | None:
    """Run `sql` and return the first column as PostgreSQL's text output."""
    cur = conn.cursor(binary=False)
    cur.execute(sql, params or None)
    result = cur.pgresult
    assert result is not None and result.ntuples == 1
    raw = result.get_value(0, 0)
    return None if raw is None else bytes(raw).decode("utf-8")


def pg_error(conn: psycopg.Connection, sql: str, *params: object) -> tuple[str, str]:
    """Run `sql`, which must fail; return (sqlstate, message)."""
    try:
        conn.execute(sql, params or None)
    except psycopg.Error as exc:
        assert exc.diag.sqlstate is not None and exc.diag.message_primary is not None
        return exc.diag.sqlstate, exc.diag.message_primary
    raise AssertionError(f"expected an error from {sql!r}")


def assert_same_transcripts(transcript: Callable[[str], list[Any]], pgaurora_dsn: str, oracle_dsn: str) -> None:
    """Runs `transcript(dsn)` on PostgreSQL, then on pgaurora: every entry must be equal."""
    expected = transcript(oracle_dsn)
    got = transcript(pgaurora_dsn)
    for want, have in zip(expected, got, strict=True):  # (pytest rewrites no assert here: say it)
        assert have == want, f"pgaurora: {have!r}\nPostgreSQL: {want!r}"


def statement_transcript(dsn: str, steps: list[str], *, setup: list[str] | tuple[str, ...] = (),
                         cleanup: list[str] | tuple[str, ...] = (), details: bool = False) -> list[Any]:
    """Runs `steps` one by one in autocommit: each step's rows (or tag, or error: SQLSTATE and
    first message line, and its DETAIL with `details`), with the NOTICEs and WARNINGs between
    them. `cleanup` runs before `setup` and again at the end (not recorded)."""
    out: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for step in (*cleanup, *setup):
            conn.execute(step)
        conn.add_notice_handler(lambda d: out.append((d.severity, d.message_primary, d.message_detail)))
        try:
            for step in steps:
                try:
                    cursor = conn.execute(step)
                    out.append((step, cursor.fetchall() if cursor.description else cursor.statusmessage))
                except psycopg.Error as exc:
                    error = (step, exc.sqlstate, str(exc).splitlines()[0])
                    out.append((*error, exc.diag.message_detail) if details else error)
        finally:
            done = len(out)
            conn.execute("RESET ROLE")
            for step in cleanup:
                conn.execute(step)
            del out[done:]
    return out


def run_each(dsn: str, statements: list[str] | tuple[str, ...]) -> None:
    """Each statement on its own in autocommit, its error ignored (cleanups: an object or role
    may already be gone, and roles are the whole cluster's)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in statements:
            try:
                conn.execute(sql)
            except psycopg.Error:
                pass


def isolated_transcript(dsn: str, steps: list[str], *, setup: list[str] | tuple[str, ...] = (),
                        cleanup: list[str] | tuple[str, ...] = (), details: bool = False) -> list[Any]:
    """statement_transcript with `cleanup` run before and after it by run_each (what an earlier,
    interrupted run left goes first; cleanup's errors are ignored)."""
    run_each(dsn, cleanup)
    try:
        return statement_transcript(dsn, steps, setup=setup, details=details)
    finally:
        run_each(dsn, cleanup)


def assert_same_transcript(ours: str, oracle: str, steps: list[str], *, setup: list[str] | tuple[str, ...] = (),
                           cleanup: list[str] | tuple[str, ...] = (), details: bool = False) -> None:
    """assert_same_transcripts of the isolated transcripts of `steps` on pgaurora (`ours`) and
    PostgreSQL (`oracle`)."""
    assert_same_transcripts(
        lambda dsn: isolated_transcript(dsn, steps, setup=setup, cleanup=cleanup, details=details), ours, oracle)


@contextlib.contextmanager
def oracle_tables(conn: psycopg.Connection, tables: str, setup: tuple[str, ...]) -> Iterator[psycopg.Connection]:
    """`conn` (to the oracle) with `tables` created by `setup`, dropped before and after."""
    conn.execute(f"DROP TABLE IF EXISTS {tables}")
    for sql in setup:
        conn.execute(sql)
    try:
        yield conn
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {tables}")
