"""Kill -9 of the whole cluster during a concurrent write load, then restart.

Every acknowledged commit must be present afterwards, and nothing of a transaction that was
not acknowledged may be half there: each transaction inserts a pair of rows in two tables and
moves an amount between two accounts, so a torn transaction would show as a lone row or a
changed total. `make test` runs it a few times; `make test-long` runs it 20 times.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time

import psycopg
import pytest

from tests.cluster.test_serve import Cluster, start_cluster

ACCOUNTS = 20
TOTAL = ACCOUNTS * 1000
DEADLINE = 60.0


def kill_everything(c: Cluster) -> None:
    """SIGKILL the supervisor and every process it started, at once (a power cut)."""
    report = c.status()
    pids = [report["supervisor_pid"]] + [p["pid"] for p in report["processes"] if p["pid"]]
    for pid in dict.fromkeys(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    c.proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)  # bounded poll: the kernel reaps killed processes


ERRORS: list[str] = []


def load(dsn: str, worker: int, acked: list[int], stop: threading.Event) -> None:
    """Transactions: a pair row in t_a and t_b plus a transfer; records ids that got COMMIT.
    Deadlocks and serialization failures are retried; any other error means the cluster died."""
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.Error as exc:
        ERRORS.append(str(exc))
        return
    with conn:
        for n in range(100_000):
            if stop.is_set():
                return
            tid = worker * 100_000 + n
            src, dst = sorted((n % ACCOUNTS, (n * 7 + worker + 1) % ACCOUNTS))
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO t_a VALUES (%s)", (tid,))
                    conn.execute("UPDATE accounts SET balance = balance - 5 WHERE id = %s", (src,))
                    conn.execute("UPDATE accounts SET balance = balance + 5 WHERE id = %s", (dst,))
                    conn.execute("INSERT INTO t_b VALUES (%s)", (tid,))
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
                ERRORS.append(str(exc))
                continue
            except psycopg.Error as exc:
                ERRORS.append(str(exc))
                return  # the cluster died under us: this transaction was not acknowledged
            acked.append(tid)


def crash_once(tmp: str, round_: int) -> None:
    """One round: start, load, kill -9 everything, restart, check. Ids are unique per round."""
    first = round_ == 0
    c = start_cluster(tmp)
    dsn = f"host=127.0.0.1 port={c.port} user=postgres dbname=postgres"
    acked: list[int] = []
    stop = threading.Event()
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            if first:
                conn.execute("CREATE TABLE t_a (id bigint PRIMARY KEY)")
                conn.execute("CREATE TABLE t_b (id bigint PRIMARY KEY)")
                conn.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
                conn.execute("INSERT INTO accounts SELECT i, 1000 FROM generate_series(0, %s) i" % (ACCOUNTS - 1))
            before = {r[0] for r in conn.execute("SELECT id FROM t_a").fetchall()}
        workers = [threading.Thread(target=load, args=(dsn, round_ * 10 + w, acked, stop)) for w in range(4)]
        for w in workers:
            w.start()
        deadline = time.monotonic() + DEADLINE
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)  # bounded poll on the load threads' progress
        kill_everything(c)
        stop.set()
        for w in workers:
            w.join(timeout=DEADLINE)
        assert len(acked) >= 40, f"the load made no progress before the kill: {ERRORS[-4:]}"
    finally:
        stop.set()
        if c.proc.poll() is None:
            c.stop()
    c = start_cluster(tmp)
    try:
        with psycopg.connect(f"host=127.0.0.1 port={c.port} user=postgres dbname=postgres") as conn:
            a = {r[0] for r in conn.execute("SELECT id FROM t_a").fetchall()}
            b = {r[0] for r in conn.execute("SELECT id FROM t_b").fetchall()}
            total = conn.execute("SELECT sum(balance) FROM accounts").fetchone()[0]
        assert set(acked) <= a, f"acknowledged commits lost: {sorted(set(acked) - a)[:10]}"
        assert a == b, f"torn transactions: {sorted(a ^ b)[:10]}"
        assert total == TOTAL, f"money created or destroyed: {total} != {TOTAL}"
        assert before <= a
    finally:
        assert c.stop() == 0


def test_kill_minus_nine_whole_cluster_keeps_every_acknowledged_commit() -> None:
    with tempfile.TemporaryDirectory(prefix="pgaurora-crash-") as tmp:
        for i in range(3):
            crash_once(tmp, i)


@pytest.mark.long
def test_kill_minus_nine_whole_cluster_twenty_times() -> None:
    with tempfile.TemporaryDirectory(prefix="pgaurora-crash-") as tmp:
        for i in range(20):
            crash_once(tmp, i)
