"""The supervisor is not a single point of failure: kill -9 of `pgaurora serve`, then a new one
on the same data directory adopts the storage nodes, the writer and the reader that kept
running (no duplicates: the same pids), the endpoints answer again on their ports, and a later
kill -9 of the writer still fails over to the reader without losing acknowledged rows."""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.cluster.harness import RdsCluster, pgaurora, pid_alive
from tests.pgoracle import free_port


@pytest.fixture(scope="module")
def cluster() -> Iterator[RdsCluster]:
    with tempfile.TemporaryDirectory(prefix="pgaurora-adopt-") as tmp:
        c = RdsCluster.create(os.path.join(tmp, "data"), 1)
        try:
            yield c
        finally:
            c.delete()


def pids(c: RdsCluster) -> dict[str, int]:
    meta = json.loads(open(os.path.join(c.data, "cluster.json")).read())
    return {p["name"]: p["pid"] for p in meta["processes"] if p["role"] in ("storage-node", "writer", "reader")}


def rows(c: RdsCluster, port: int | None = None) -> Any:
    with psycopg.connect(c.dsn(port), autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM adopted").fetchone()


def insert(c: RdsCluster, key: int) -> bool:
    try:
        with psycopg.connect(c.dsn(), autocommit=True) as conn:
            conn.execute("INSERT INTO adopted VALUES (%s) ON CONFLICT DO NOTHING", (key,))
        return True
    except psycopg.OperationalError:
        return False


def test_a_new_supervisor_adopts_the_running_instances_and_fails_over_later(cluster: RdsCluster) -> None:
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE adopted (id int PRIMARY KEY)")
        conn.execute("INSERT INTO adopted SELECT g FROM generate_series(1, 100) g")
    before = pids(cluster)
    assert len(before) == 8 and all(before.values())
    os.kill(cluster.supervisor_pid, signal.SIGKILL)
    cluster.wait_for("the supervisor to die", lambda: not pid_alive(cluster.supervisor_pid), 10)
    assert all(pid_alive(pid) for pid in before.values())  # the instances outlive it
    out = pgaurora("rds", "create-db-cluster", "--data", cluster.data, "--port", str(cluster.port), "--reader-port",
                   str(cluster.reader_port), "--replicas", "1", "--health-check-failures", "4")
    cluster.supervisor_pid = json.loads(out.stdout)["DBCluster"]["SupervisorPid"]
    assert pids(cluster) == before  # adopted, not started again
    assert all(pid_alive(pid) for pid in before.values())
    second = pgaurora("serve", "--data", cluster.data, "--port", str(free_port()), "--reader-port", str(free_port()),
                      timeout=60, check=False)  # a second supervisor of a supervised cluster
    assert second.returncode != 0 and "is supervised by pid" in second.stderr, second.stderr[-2000:]
    assert pids(cluster) == before and cluster.rds("describe-db-clusters")["DBClusters"][0]["Status"] == "available"
    assert insert(cluster, 101)
    assert rows(cluster) == (101,)
    cluster.wait_for("the reader endpoint to see the insert", lambda: rows(cluster, cluster.reader_port) == (101,))
    instances = {i["DBInstanceIdentifier"]: i for i in cluster.instances()}
    assert all(i["DBInstanceStatus"] == "available" for i in instances.values())
    writer = cluster.writer()
    reader = next(i for i in instances.values() if not i["IsClusterWriter"])
    os.kill(writer["Pid"], signal.SIGKILL)  # the adopted supervisor notices through the pidfd
    cluster.wait_for("a write through the writer endpoint after the failover", lambda: insert(cluster, 102))
    assert cluster.writer()["DBInstanceIdentifier"] == reader["DBInstanceIdentifier"]
    assert rows(cluster) == (102,)
    cluster.wait_for("the old writer's instance back as a reader", lambda: all(
        i["DBInstanceStatus"] == "available" for i in cluster.instances()))


@pytest.mark.long  # a third supervisor start; the adoption itself is covered above
def test_a_writer_that_died_while_nobody_supervised_is_failed_over_at_the_next_start(cluster: RdsCluster) -> None:
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS adopted (id int PRIMARY KEY)")
        conn.execute("INSERT INTO adopted VALUES (200)")
    expected = rows(cluster)
    cluster.wait_for("every instance available", lambda: all(
        i["DBInstanceStatus"] == "available" for i in cluster.instances()))
    writer = cluster.writer()
    reader = next(i for i in cluster.instances() if not i["IsClusterWriter"])
    cluster.wait_for("the reader to have every row", lambda: rows(cluster, reader["Endpoint"]["Port"]) == expected)
    os.kill(cluster.supervisor_pid, signal.SIGKILL)
    cluster.wait_for("the supervisor to die", lambda: not pid_alive(cluster.supervisor_pid), 10)
    os.kill(writer["Pid"], signal.SIGKILL)
    cluster.wait_for("the writer to die", lambda: not pid_alive(writer["Pid"]), 10)
    out = pgaurora("rds", "create-db-cluster", "--data", cluster.data, "--port", str(cluster.port), "--reader-port",
                   str(cluster.reader_port), "--replicas", "1", "--health-check-failures", "4")
    cluster.supervisor_pid = json.loads(out.stdout)["DBCluster"]["SupervisorPid"]
    new_writer = cluster.writer()
    assert new_writer["DBInstanceIdentifier"] == reader["DBInstanceIdentifier"]
    assert new_writer["Pid"] == reader["Pid"]  # the adopted reader, promoted
    assert insert(cluster, 201)
    assert rows(cluster) == (expected[0] + 1,)


async def test_an_adopted_process_is_signalled_and_its_exit_seen_without_polling(tmp_path: Any) -> None:
    import asyncio
    import subprocess
    import sys

    from pgaurora.cluster import metadata as md
    from pgaurora.cluster.adopt import AdoptedProcess, is_cluster_process, supervisor_alive

    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert not is_cluster_process(child.pid, tmp_path)  # not a pgaurora process of that directory
        adopted = AdoptedProcess(child.pid)
        assert adopted.returncode is None
        adopted.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(adopted.wait(), 10) == -1
        assert adopted.returncode == -1
        with pytest.raises(ProcessLookupError):
            adopted.kill()
    finally:
        child.kill()
        child.wait(timeout=10)
    meta = md.new_metadata()
    meta.supervisor_pid = child.pid  # gone
    assert not supervisor_alive(meta, tmp_path)
