"""Changing a running cluster's shape: failover, adding and removing instances, custom endpoints.

Owns the runs that move roles between processes — the failover itself and the operator verbs
the control socket carries (named as `aws rds` names them) — and the aws-shaped descriptions
of the cluster and its instances. Decisions come from cluster.failover, processes and routers
from cluster.supervisor. Not the command line (cluster.rds).

Failover, in order (automatic on a writer's exit or failed probes, or on command):

    1. take the old writer out: the writer endpoint refuses new connections; a healthy old
       writer is stopped (SIGTERM: it finishes what it acknowledged), an unresponsive one is
       left alive for `kill_fenced_after` s — the new epoch is what makes it harmless
    2. promote the healthy reader with the highest read point (SELECT pg_promote(): volume
       recovery, epoch bump, no redo replay), or with no reader start a fresh writer process
    3. the other readers follow the new writer (aurora_follow_writer); the old writer's
       instance comes back as a reader (or is the fresh writer's instance)
    4. the writer endpoint points at the new writer; cluster.json records the new epoch
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from pgaurora.cluster import metadata as md
from pgaurora.cluster.adopt import AdoptedProcess, ProcessLike
from pgaurora.cluster.control import ControlError
from pgaurora.cluster.endpoint import EndpointRouter
from pgaurora.cluster.failover import Candidate, FailoverRefused, Health, choose_target
from pgaurora.cluster.probe import QueryFailed, read_point, simple_query

if TYPE_CHECKING:
    from pgaurora.cluster.supervisor import Supervisor

log = logging.getLogger(__name__)

PROMOTE_TIMEOUT = 60.0


async def failover(sup: Supervisor, reason: str, target: str | None = None,
                   expected_pid: int | None = None) -> dict[str, Any]:
    """Runs one failover; with `expected_pid`, only if that process is still the writer."""
    async with sup.failover_lock:
        old = sup.meta.writer()
        if sup.stopping or old is None:
            return {}
        if expected_pid is not None and old.pid != expected_pid:
            return {}   # someone else already failed over
        started = time.monotonic()
        old_proc = sup.procs.get(old.name)
        old_target = sup.writer_target
        sup.writer_target = None
        # refresh the candidates' read points: the most up-to-date reader is the cheapest writer
        readers = [r for r in sup.meta.readers() if sup.is_healthy(r)]
        points = await asyncio.gather(*(read_point(r.host, r.port, r.name) for r in readers))
        for rec, point in zip(readers, points, strict=True):
            if point is not None:
                rec.read_lsn, rec.lag_ms = point
        candidates = [Candidate(r.name, sup.is_healthy(r), r.read_lsn if r.read_lsn else None, r.promotion_tier)
                      for r in sup.meta.readers()]
        try:
            plan = choose_target(candidates, target)
        except FailoverRefused as exc:
            sup.writer_target = old_target
            raise ControlError(str(exc)) from None
        log.warning("failover (%s): %s", reason, plan.reason)
        await _retire_old_writer(sup, old, old_proc)
        retired = time.monotonic()
        new = None
        if plan.promote is not None:
            new = sup.meta.find(plan.promote)
            assert new is not None
            if not await _promote(sup, new):
                new = None
        if new is None:
            new = old
            new.role = "writer"
            new.data_dir = sup.meta.volume_dir
            await _spawn_until_up(sup, new)
        elif old is not new:
            old.role = "reader"
            old.data_dir = str(sup.data_dir / "instances" / old.name)
        sup.set_writer(new)
        writer_up = time.monotonic()
        if old_target is not None and sup.writer_target != old_target and "writer" in sup.routers:
            sup.routers["writer"].close_connections_to(old_target)
        await _repoint_readers(sup, new, old)
        seconds = time.monotonic() - started
        event = {"at": time.time(), "reason": reason, "from": old.name, "to": new.name,
                 "promoted": plan.promote is not None and new is not old, "seconds": round(seconds, 3),
                 "retire_old_s": round(retired - started, 3), "new_writer_s": round(writer_up - retired, 3),
                 "epoch": sup.meta.epoch}
        sup.meta.failovers.append(event)
        del sup.meta.failovers[:-20]
        sup.save()
        log.warning("failover done in %.3f s: writer is %s (epoch %d)", seconds, new.name, sup.meta.epoch)
        return event


async def _retire_old_writer(sup: Supervisor, old: md.ProcessRecord, proc: ProcessLike | None) -> None:
    sup.procs.pop(old.name, None)   # its monitor now knows the exit is expected
    if proc is None or proc.returncode is not None:
        return
    if sup.health.get(old.name) is not None and sup.health[old.name].state is Health.HEALTHY:
        await sup.terminate(proc, timeout=10.0)
        return
    sup.fenced.append(proc)
    delay = sup.options.kill_fenced_after

    async def kill_later() -> None:
        await asyncio.sleep(delay)  # a grace for the fence to be observable, not a wait for a condition
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()

    sup.spawn_task(kill_later())


async def _promote(sup: Supervisor, rec: md.ProcessRecord) -> bool:
    event = sup._replication.setdefault(rec.name, asyncio.Event())
    event.clear()
    try:
        rows = await simple_query(rec.host, rec.port, "SELECT pg_promote()", timeout=PROMOTE_TIMEOUT)
    except (OSError, TimeoutError, QueryFailed, asyncio.IncompleteReadError) as exc:
        log.error("promotion of %s failed: %s", rec.name, exc)
        return False
    if not rows or rows[0][0] not in ("t", "true"):
        log.error("promotion of %s answered %r", rec.name, rows)
        return False
    rec.role = "writer"
    if isinstance(sup.procs.get(rec.name), AdoptedProcess):
        # adopted from a previous supervisor: its stdout (REPLICATION port=P) is not ours to read
        rec.replication_port = await _replication_port(rec)
        return True
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10.0):
            await event.wait()
    return True


async def _replication_port(rec: md.ProcessRecord, timeout: float = 30.0) -> int:
    """A promoted instance's replication port, asked over SQL once its promotion completed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, TimeoutError, QueryFailed, asyncio.IncompleteReadError):
            rows = await simple_query(rec.host, rec.port, "SELECT pg_is_in_recovery(), pgaurora_replication_port()",
                                      timeout=5.0)
            if rows and rows[0][0] == "f" and rows[0][1] not in (None, "0"):
                return int(rows[0][1] or 0)
        await asyncio.sleep(0.05)  # bounded poll of another process
    log.error("promoted instance %s did not tell its replication port", rec.name)
    return 0


async def _spawn_until_up(sup: Supervisor, rec: md.ProcessRecord) -> None:
    """A fresh writer: retried (bounded) while storage cannot yet give it a quorum."""
    deadline = time.monotonic() + 120.0
    while True:
        try:
            await sup.spawn_instance(rec)
            return
        except RuntimeError as exc:
            rec.restarts += 1
            if sup.stopping or time.monotonic() > deadline:
                raise
            log.error("fresh writer %s did not start, retrying: %s", rec.name, exc)
            await asyncio.sleep(0.5)  # retry back-off


async def _repoint_readers(sup: Supervisor, writer: md.ProcessRecord, old: md.ProcessRecord) -> None:
    address = f"{writer.host}:{writer.replication_port}"
    for rec in sup.meta.readers():
        if rec is old:
            continue
        proc = sup.procs.get(rec.name)
        if proc is None or proc.returncode is not None:
            continue
        try:
            await simple_query(rec.host, rec.port, f"SELECT aurora_follow_writer('{address}')", timeout=10.0)
        except (OSError, TimeoutError, QueryFailed, asyncio.IncompleteReadError) as exc:
            log.warning("reader %s did not follow the new writer (%s); restarting it", rec.name, exc)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()   # its monitor restarts it against the new writer
    if old.role == "reader" and old.name not in sup.procs and writer.replication_port:
        # in the background: the failover is done once the writer endpoint has a writer
        sup.spawn_task(sup.start_reader(old))


# -- operator verbs ---------------------------------------------------------------------------------

def describe_instance(sup: Supervisor, rec: md.ProcessRecord) -> dict[str, Any]:
    return {"DBInstanceIdentifier": rec.name, "DBClusterIdentifier": sup.meta.cluster_id,
            "Role": rec.role, "IsClusterWriter": rec.role == "writer",
            "DBInstanceStatus": "available" if sup.is_healthy(rec) else (rec.health or "stopped"),
            "Endpoint": {"Address": rec.host, "Port": rec.port}, "ReplicationPort": rec.replication_port,
            "PromotionTier": rec.promotion_tier, "AvailabilityZone": rec.az, "Pid": rec.pid,
            "ReadLsn": rec.read_lsn, "ReplicaLagMs": rec.lag_ms, "Restarts": rec.restarts}


def describe_cluster(sup: Supervisor) -> dict[str, Any]:
    meta = sup.meta
    return {"DBClusterIdentifier": meta.cluster_id, "Status": "available" if meta.state == "running" else meta.state,
            "Endpoint": meta.endpoints.get("writer", ""), "ReaderEndpoint": meta.endpoints.get("reader", ""),
            "Epoch": meta.epoch, "VolumeDir": meta.volume_dir,
            "DBClusterMembers": [{"DBInstanceIdentifier": r.name, "IsClusterWriter": r.role == "writer",
                                  "PromotionTier": r.promotion_tier} for r in meta.instances()],
            "CustomEndpoints": [describe_endpoint(sup, name) for name in meta.custom_endpoints],
            "StorageNodes": [{"Name": n.name, "Address": n.address, "AvailabilityZone": n.az,
                              "Health": n.health} for n in meta.storage_nodes()],
            "LastFailover": meta.failovers[-1] if meta.failovers else None}


def describe_endpoint(sup: Supervisor, name: str) -> dict[str, Any]:
    spec = sup.meta.custom_endpoints[name]
    return {"DBClusterEndpointIdentifier": name, "Endpoint": sup.meta.endpoints.get(name, ""),
            "Port": spec.get("port", 0), "EndpointType": "CUSTOM", "CustomEndpointType": spec.get("type", "ANY"),
            "StaticMembers": list(spec.get("members", []))}


async def create_instance(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    writer = sup.meta.writer()
    if writer is None or not writer.replication_port:
        raise ControlError("read replicas are not available: the writer has no replication listener")
    rec = sup.new_reader_record(int(args.get("promotion_tier") or 1))
    if args.get("name"):
        if sup.meta.find(str(args["name"])) is not None:
            raise ControlError(f"DB instance {args['name']} already exists")
        rec.name = str(args["name"])
        rec.data_dir = str(sup.data_dir / "instances" / rec.name)
    sup.meta.processes.append(rec)
    async with sup.failover_lock:
        try:
            await sup.spawn_instance(rec)
        except RuntimeError as exc:
            sup.meta.processes.remove(rec)
            raise ControlError(str(exc)) from None
    sup.save()
    return describe_instance(sup, rec)


async def delete_instance(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    name = str(args.get("name") or "")
    rec = sup.meta.find(name)
    if rec is None or rec.role not in ("writer", "reader"):
        raise ControlError(f"DB instance {name} not found")
    if rec.role == "writer":
        if not any(sup.is_healthy(r) for r in sup.meta.readers()):
            raise ControlError(f"cannot delete {name}: it is the cluster's only available instance")
        await failover(sup, reason=f"writer {name} deleted", expected_pid=rec.pid)
    description = describe_instance(sup, rec)
    proc = sup.procs.pop(rec.name, None)
    sup.meta.processes.remove(rec)
    for spec in sup.meta.custom_endpoints.values():
        if name in spec.get("members", []):
            spec["members"].remove(name)
    if proc is not None:
        await sup.terminate(proc, timeout=10.0)
    sup.save()
    description["DBInstanceStatus"] = "deleted"
    return description


async def create_endpoint(sup: Supervisor, args: dict[str, Any]) -> dict[str, Any]:
    name = str(args.get("name") or "")
    if not name or name in ("writer", "reader") or name in sup.meta.custom_endpoints:
        raise ControlError(f"DB cluster endpoint {name!r} already exists or is not a valid name")
    kind = str(args.get("type") or "ANY").upper()
    if kind not in ("READER", "ANY"):
        raise ControlError("--endpoint-type must be READER or ANY")
    members = [str(m) for m in args.get("members") or []]
    for member in members:
        rec = sup.meta.find(member)
        if rec is None or rec.role not in ("writer", "reader"):
            raise ControlError(f"DB instance {member} not found")
    sup.meta.custom_endpoints[name] = {"type": kind, "members": members, "port": int(args.get("port") or 0)}
    router = EndpointRouter(name, sup.options.host, int(args.get("port") or 0), sup.custom_targets(name))
    try:
        await sup.start_router(name, router)
    except OSError as exc:
        del sup.meta.custom_endpoints[name]
        raise ControlError(f"cannot listen for endpoint {name}: {exc}") from None
    sup.save()
    return describe_endpoint(sup, name)


async def handle_verb(sup: Supervisor, verb: str, args: dict[str, Any]) -> Any:
    if verb == "describe-db-clusters":
        return {"DBClusters": [describe_cluster(sup)]}
    if verb == "describe-db-instances":
        instances = sup.meta.instances()
        if args.get("name"):
            instances = [r for r in instances if r.name == args["name"]]
            if not instances:
                raise ControlError(f"DB instance {args['name']} not found")
        return {"DBInstances": [describe_instance(sup, r) for r in instances]}
    if verb == "failover-db-cluster":
        writer = sup.meta.writer()
        event = await failover(sup, reason="requested by the operator", target=args.get("target") or None,
                               expected_pid=writer.pid if writer else None)
        return {"DBCluster": describe_cluster(sup), "Failover": event}
    if verb == "create-db-instance":
        return {"DBInstance": await create_instance(sup, args)}
    if verb == "delete-db-instance":
        return {"DBInstance": await delete_instance(sup, args)}
    if verb == "create-db-cluster-endpoint":
        return await create_endpoint(sup, args)
    if verb == "describe-db-cluster-endpoints":
        return {"DBClusterEndpoints": [describe_endpoint(sup, n) for n in sup.meta.custom_endpoints]}
    if verb == "delete-db-cluster":
        asyncio.get_running_loop().call_soon(lambda: sup.spawn_task(sup.stop()))
        return {"DBCluster": describe_cluster(sup) | {"Status": "deleting"}, "SupervisorPid": os.getpid()}
    raise ControlError(f"unknown verb {verb!r}")
