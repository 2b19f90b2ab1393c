"""`pgaurora serve` end to end: 6 storage-node processes, the writer, the reader endpoint,
`pgaurora status`, a storage node restarted after it is killed, a clean stop, a restart that
finds committed rows again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from tests.pgoracle import free_port
from tests.server.harness import REPO, read_ready

DEADLINE = 30.0


@dataclass
class Cluster:
    proc: subprocess.Popen[bytes]
    data: str
    port: int
    reader_port: int

    def status(self) -> dict:
        out = subprocess.run([sys.executable, "-m", "pgaurora", "status", "--data", self.data, "--json"],
                             capture_output=True, cwd=str(REPO), timeout=30)
        return json.loads(out.stdout)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


def start_cluster(data: str, *extra: str) -> Cluster:
    """`pgaurora serve` on two free ports; once more on others when one was taken between
    free_port's probe and serve's bind (another process's ephemeral port: a race, not a fault)."""
    for attempt in range(3):
        port, reader_port = free_port(), free_port()
        log = open(os.path.join(data, "serve.log"), "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "pgaurora", "serve", "--data", data, "--port", str(port),
             "--reader-port", str(reader_port), *extra], stdout=subprocess.PIPE, stderr=log, cwd=str(REPO))
        log.close()
        try:
            read_ready(proc, "  stop with Ctrl-C", 90.0, os.path.join(data, "serve.log"))
        except RuntimeError as exc:
            if "address already in use" not in str(exc) or attempt == 2:
                raise
            continue
        return Cluster(proc, data, port, reader_port)
    raise AssertionError("unreachable")  # pragma: no cover


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with tempfile.TemporaryDirectory(prefix="pgaurora-serve-") as tmp:
        c = start_cluster(tmp)
        try:
            yield c
        finally:
            c.stop()


def test_status_lists_every_process_healthy(cluster: Cluster) -> None:
    report = cluster.status()
    assert report["state"] == "running"
    roles = [p["role"] for p in report["processes"]]
    assert roles.count("storage-node") == 6 and roles.count("writer") == 1
    assert sorted(p["az"] for p in report["processes"] if p["role"] == "storage-node") == list("aabbcc")
    assert all(p["health"] == "healthy" for p in report["processes"]), report
    assert all(p["pid"] > 0 for p in report["processes"])


def test_writer_and_reader_endpoints_answer(cluster: Cluster) -> None:
    for port in (cluster.port, cluster.reader_port):
        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("15.")


def test_killed_storage_node_is_restarted(cluster: Cluster) -> None:
    victim = next(p for p in cluster.status()["processes"] if p["name"] == "storage-2")
    os.kill(victim["pid"], signal.SIGKILL)
    deadline = time.monotonic() + DEADLINE
    while True:
        now = next(p for p in cluster.status()["processes"] if p["name"] == "storage-2")
        if now["pid"] != victim["pid"] and now["health"] == "healthy":
            break
        assert time.monotonic() < deadline, now
        time.sleep(0.2)  # bounded poll of external processes
    assert now["restarts"] >= 1


def test_failover_without_readers_starts_a_fresh_writer(cluster: Cluster) -> None:
    """`pgaurora failover` with no reader: a fresh writer process on the same volume, a new epoch,
    the writer endpoint at the same port, the committed rows there."""
    dsn = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE before_failover (id int PRIMARY KEY)")
        conn.execute("INSERT INTO before_failover VALUES (1)")
    before = cluster.status()
    old_pid = next(p["pid"] for p in before["processes"] if p["role"] == "writer")
    out = subprocess.run([sys.executable, "-m", "pgaurora", "failover", "--data", cluster.data, "--output", "json"],
                         capture_output=True, cwd=str(REPO), timeout=120)
    assert out.returncode == 0, out.stderr
    event = json.loads(out.stdout)["Failover"]
    assert event["promoted"] is False and event["epoch"] > before["epoch"]
    after = cluster.status()
    writer = next(p for p in after["processes"] if p["role"] == "writer")
    assert writer["pid"] != old_pid and writer["health"] == "healthy"
    with pytest.raises(ProcessLookupError):
        os.kill(old_pid, 0)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO before_failover VALUES (2)")
        assert conn.execute("SELECT id FROM before_failover ORDER BY id").fetchall() == [(1,), (2,)]


def test_stop_is_clean_and_committed_rows_survive_a_restart() -> None:
    with tempfile.TemporaryDirectory(prefix="pgaurora-serve-") as tmp:
        c = start_cluster(tmp)
        try:
            with psycopg.connect(f"host=127.0.0.1 port={c.port} user=postgres dbname=postgres",
                                 autocommit=True) as conn:
                conn.execute("CREATE TABLE kept (id int PRIMARY KEY, v text)")
                conn.execute("INSERT INTO kept VALUES (1, 'one'), (2, 'two')")
            pids = [p["pid"] for p in c.status()["processes"]]
        finally:
            assert c.stop() == 0
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        with open(os.path.join(tmp, "cluster.json")) as f:
            assert json.load(f)["state"] == "stopped"
        c = start_cluster(tmp)
        try:
            with psycopg.connect(f"host=127.0.0.1 port={c.port} user=postgres dbname=postgres") as conn:
                assert conn.execute("SELECT id, v FROM kept ORDER BY id").fetchall() == [(1, "one"), (2, "two")]
        finally:
            c.stop()


@pytest.mark.long  # two full cluster starts; the quorum itself is covered in tests/logstore
def test_acknowledged_rows_survive_two_storage_nodes_killed_during_inserts() -> None:
    """Issue 3 through SQL: kill -9 two storage-node processes (pids from `pgaurora status
    --json`) while a client inserts; every insert that got its CommandComplete is there after
    a full restart of the cluster, and writes went on while two of six replicas were down."""
    import threading

    with tempfile.TemporaryDirectory(prefix="pgaurora-serve-") as tmp:
        c = start_cluster(tmp)
        acked: list[int] = []
        failed: list[str] = []
        stop = threading.Event()
        dsn = f"host=127.0.0.1 port={c.port} user=postgres dbname=postgres"

        def insert_loop() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                for i in range(1, 100_000):
                    if stop.is_set():
                        return
                    try:
                        conn.execute("INSERT INTO acked VALUES (%s)", (i,))
                    except psycopg.Error as exc:  # not acknowledged: allowed to be lost
                        failed.append(str(exc))
                        continue
                    acked.append(i)

        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE TABLE acked (id int PRIMARY KEY)")
            writer = threading.Thread(target=insert_loop)
            writer.start()
            deadline = time.monotonic() + DEADLINE
            while len(acked) < 50 and time.monotonic() < deadline:
                time.sleep(0.05)  # bounded poll: waiting on another thread's progress
            nodes = [p for p in c.status()["processes"] if p["role"] == "storage-node"]
            for victim in (nodes[0], nodes[3]):
                os.kill(victim["pid"], signal.SIGKILL)
            killed_at = len(acked)
            while len(acked) < killed_at + 100 and time.monotonic() < deadline + DEADLINE:
                time.sleep(0.05)
            stop.set()
            writer.join(timeout=DEADLINE)
            assert not writer.is_alive()
            assert len(acked) >= killed_at + 100, f"writes stalled after two nodes died: {failed[:3]}"
        finally:
            stop.set()
            assert c.stop() == 0
        c = start_cluster(tmp)
        try:
            with psycopg.connect(f"host=127.0.0.1 port={c.port} user=postgres dbname=postgres") as conn:
                present = {r[0] for r in conn.execute("SELECT id FROM acked").fetchall()}
            assert set(acked) <= present, sorted(set(acked) - present)[:10]
        finally:
            c.stop()


def test_serve_with_force_ssl() -> None:
    """`serve --force-ssl`: one self-signed certificate in the cluster directory for its
    instances, TLS through the writer endpoint (a TCP proxy: the handshake is the instance's),
    clear text refused, and the health probe (an SSLRequest, answered 'S') keeps the writer healthy."""
    with tempfile.TemporaryDirectory(prefix="pgaurora-serve-ssl-") as tmp:
        c = start_cluster(tmp, "--force-ssl")
        try:
            root = os.path.join(tmp, "server.crt")
            assert os.path.exists(root)
            dsn = f"host=localhost port={c.port} user=postgres dbname=postgres"
            with psycopg.connect(f"{dsn} sslmode=verify-full sslrootcert={root}") as conn:
                assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)
            with pytest.raises(psycopg.OperationalError, match="no encryption"):
                psycopg.connect(f"{dsn} sslmode=disable")
            time.sleep(2.0)  # a few health probes, and the supervisor's queries (over TLS: clear text is refused)
            report = c.status()
            assert all(p["health"] == "healthy" for p in report["processes"]), report
            writer = next(p for p in report["processes"] if p["role"] == "writer")
            assert writer["read_lsn"] is not None, report
        finally:
            c.stop()
