"""A cluster with a read replica, end to end with real processes: the reader endpoint, libpq's
target_session_attrs, the rds verbs, a reader killed and restarted, a writer killed with -9 under
a write load (failover, no acknowledged commit lost), and a resurrected old writer refused by
storage (the epoch fence).

The tests of this module share one cluster and run in file order (each leaves it with a writer).
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.cluster.harness import DEADLINE, RdsCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[RdsCluster]:
    with tempfile.TemporaryDirectory(prefix="pgaurora-failover-") as tmp:
        c = RdsCluster.create(os.path.join(tmp, "data"), 1, "--kill-fenced-after", "120")
        try:
            with psycopg.connect(c.dsn(), autocommit=True) as conn:
                conn.execute("CREATE TABLE acked (id int PRIMARY KEY, who text)")
            yield c
        finally:
            c.delete()


def test_cluster_has_a_writer_and_a_reader(cluster: RdsCluster) -> None:
    described = cluster.rds("describe-db-clusters")["DBClusters"][0]
    assert described["Status"] == "available"
    assert described["Endpoint"] == f"127.0.0.1:{cluster.port}"
    roles = sorted(i["Role"] for i in cluster.instances())
    assert roles == ["reader", "writer"]
    report = cluster.status()
    assert report["state"] == "running"
    assert all(p["health"] == "healthy" for p in report["processes"]), report["processes"]


def test_reader_endpoint_reads_committed_data_only_and_never_goes_back(cluster: RdsCluster) -> None:
    with psycopg.connect(cluster.dsn(), autocommit=True) as writer, \
            psycopg.connect(cluster.dsn(cluster.reader_port), autocommit=True) as reader:
        assert reader.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader.execute("INSERT INTO acked VALUES (-1, 'reader')")
        writer.execute("CREATE TABLE counter (id int PRIMARY KEY, n int)")
        writer.execute("INSERT INTO counter VALUES (1, 0)")
        with psycopg.connect(cluster.dsn()) as open_txn:   # an uncommitted row, open for the whole test
            open_txn.execute("INSERT INTO counter VALUES (2, -1)")
            seen = -1
            for n in range(1, 31):
                writer.execute("UPDATE counter SET n = %s WHERE id = 1", (n,))
                rows: dict[int, int] = dict(reader.execute("SELECT id, n FROM counter").fetchall())
                assert 2 not in rows, "the reader saw an uncommitted row"
                now = rows.get(1, -1)
                assert now >= seen, f"reads went backwards: {now} after {seen}"
                seen = now
            open_txn.rollback()
        cluster.wait_for("the reader to catch up", lambda: reader.execute(
            "SELECT n FROM counter WHERE id = 1").fetchone() == (30,), timeout=10)


def test_libpq_target_session_attrs_against_the_instances(cluster: RdsCluster) -> None:
    instances = cluster.instances()
    ports = ",".join(str(i["Endpoint"]["Port"]) for i in sorted(instances, key=lambda i: i["Role"]))  # reader first
    hosts = ",".join("127.0.0.1" for _ in instances)
    expected = {"read-write": False, "read-only": True, "prefer-standby": True, "primary": False, "standby": True}
    for attrs, in_recovery in expected.items():
        with psycopg.connect(cluster.dsn(host=hosts, port=ports, target_session_attrs=attrs)) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (in_recovery,), attrs


def test_rds_verbs_round_trip(cluster: RdsCluster) -> None:
    added = cluster.rds("create-db-instance", "--db-instance-identifier", "extra-reader",
                        "--promotion-tier", "5")["DBInstance"]
    assert added["Role"] == "reader" and added["DBInstanceStatus"] == "available"
    assert added["PromotionTier"] == 5
    endpoint = cluster.rds("create-db-cluster-endpoint", "--db-cluster-endpoint-identifier", "analytics",
                           "--endpoint-type", "READER", "--static-members", "extra-reader")
    assert endpoint["StaticMembers"] == ["extra-reader"]
    with psycopg.connect(cluster.dsn(endpoint["Port"]), autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
    names = {i["DBInstanceIdentifier"] for i in cluster.instances()}
    assert "extra-reader" in names
    listed = cluster.rds("describe-db-cluster-endpoints")["DBClusterEndpoints"]
    assert [e["DBClusterEndpointIdentifier"] for e in listed] == ["analytics"]
    deleted = cluster.rds("delete-db-instance", "--db-instance-identifier", "extra-reader")["DBInstance"]
    assert deleted["DBInstanceStatus"] == "deleted"
    assert "extra-reader" not in {i["DBInstanceIdentifier"] for i in cluster.instances()}
    with open(os.path.join(cluster.data, "cluster.json")) as f:
        text = f.read()
    assert '"analytics"' in text and "extra-reader" not in text


def test_a_killed_reader_is_restarted_as_a_reader(cluster: RdsCluster) -> None:
    reader = next(i for i in cluster.instances() if i["Role"] == "reader")
    os.kill(reader["Pid"], signal.SIGKILL)
    back = cluster.wait_for("the reader to come back", lambda: next(
        (i for i in cluster.instances() if i["DBInstanceIdentifier"] == reader["DBInstanceIdentifier"]
         and i["Pid"] != reader["Pid"] and i["DBInstanceStatus"] == "available"), None))
    assert back["Role"] == "reader" and back["Restarts"] >= 1
    assert cluster.writer()["DBInstanceIdentifier"] != reader["DBInstanceIdentifier"]
    with psycopg.connect(cluster.dsn(cluster.reader_port), autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)


def _insert_load(dsn: str, start: int, acked: list[int], errors: list[str], stop: threading.Event) -> None:
    """Inserts ids from `start`, reconnecting after errors; records the acknowledged ones."""
    conn: psycopg.Connection | None = None
    i = start
    deadline = time.monotonic() + 3 * DEADLINE
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            if conn is None:
                conn = psycopg.connect(dsn, autocommit=True)
            conn.execute("INSERT INTO acked VALUES (%s, 'load')", (i,))
        except psycopg.errors.UniqueViolation:
            i += 1   # the insert the writer died under did commit; its ack was lost (allowed)
            continue
        except psycopg.Error as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            if conn is not None:
                conn.close()
                conn = None
            stop.wait(0.05)  # reconnect back-off
            continue
        acked.append(i)
        i += 1
    if conn is not None:
        conn.close()


def test_writer_killed_under_load_fails_over_without_losing_commits(cluster: RdsCluster) -> None:
    old = cluster.writer()
    acked: list[int] = []
    errors: list[str] = []
    stop = threading.Event()
    load = threading.Thread(target=_insert_load, args=(cluster.dsn(), 1000, acked, errors, stop))
    load.start()
    try:
        cluster.wait_for("writes to flow", lambda: len(acked) >= 30)
        os.kill(old["Pid"], signal.SIGKILL)
        killed_at = time.monotonic()
        acked_before = len(acked)
        new = cluster.wait_for("a new writer", lambda: next(
            (i for i in cluster.instances() if i["IsClusterWriter"] and i["Pid"] != old["Pid"]
             and i["DBInstanceStatus"] == "available"), None))
        cluster.wait_for(f"writes after the failover ({errors[-3:]})", lambda: len(acked) >= acked_before + 30)
        print(f"failover: writer {old['DBInstanceIdentifier']} -> {new['DBInstanceIdentifier']}, "
              f"{time.monotonic() - killed_at:.2f} s to 30 more commits; {len(errors)} client errors")
    finally:
        stop.set()
        load.join(timeout=DEADLINE)
    assert not load.is_alive()
    assert errors, "the client should have seen the writer's death as a connection error"
    with psycopg.connect(cluster.dsn()) as conn:
        present = {r[0] for r in conn.execute("SELECT id FROM acked WHERE who = 'load'").fetchall()}
    assert set(acked) <= present, sorted(set(acked) - present)[:10]
    report = cluster.status()
    assert report["last_failover"]["from"] == old["DBInstanceIdentifier"]
    assert report["epoch"] >= 2


def test_resurrected_old_writer_is_refused_by_storage(cluster: RdsCluster) -> None:
    old = cluster.writer()
    epoch = cluster.status()["epoch"]
    with psycopg.connect(cluster.dsn(old["Endpoint"]["Port"]), autocommit=True) as zombie:
        zombie.execute("SELECT 1")
        os.kill(old["Pid"], signal.SIGSTOP)     # a writer that hangs (or is partitioned away)
        try:
            cluster.wait_for("a failover past the hung writer", lambda: cluster.status()["epoch"] > epoch)
            with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
                conn.execute("INSERT INTO acked VALUES (-2, 'new writer')")
        finally:
            os.kill(old["Pid"], signal.SIGCONT)  # it wakes up believing it is still the writer
        with pytest.raises(psycopg.Error) as refused:
            zombie.execute("INSERT INTO acked VALUES (-3, 'zombie')")
        print(f"the old writer's insert: {type(refused.value).__name__}: {refused.value}")
        if isinstance(refused.value, psycopg.errors.DatabaseError) and refused.value.sqlstate:
            assert refused.value.sqlstate == "58000", refused.value
    with psycopg.connect(cluster.dsn()) as conn:
        rows = {r[0] for r in conn.execute("SELECT id FROM acked WHERE id < 0").fetchall()}
    assert rows == {-2}
